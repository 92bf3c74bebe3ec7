"""CSU Global late policy: acceptance and the possible penalty of each late assignment or discussion post.

Source: shared/seeds/003_87de092a038aeaf4.txt, "Late Policy". Catalogue section 3:
``csu.late.assignment`` (critical-thinking assignments and portfolio milestones) and
``csu.late.discussion`` (original posts and peer responses). Both answer ``graded_work`` inputs:
the evaluation after a late submission tells the instructor whether it is accepted, once per piece
of work (episode = ``work_id``). Work handed in on time gets no decision.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import ClassVar, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import GradedWork, Input
from onpace_rules.program import ProgramConfig, TimeZoneName
from onpace_rules.rules.contract import AnswersInputs, RuleFamily, RuleModule
from onpace_rules.rules.helpers import fired_on, validated

ASSIGNMENT = "csu.late.assignment"
DISCUSSION = "csu.late.discussion"
RULE_IDS = (ASSIGNMENT, DISCUSSION)
TITLES = {
    ASSIGNMENT: "Late assignment or milestone: acceptance and penalty",
    DISCUSSION: "Late discussion post: acceptance",
}

Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)
ASSIGNMENT_WORK = frozenset({"assignment", "milestone"})
DISCUSSION_WORK = frozenset({"discussion_post", "discussion_reply"})

# Why a late piece of work is refused (values of the ``not_accepted_because`` fact).
TOO_LATE = "more_than_14_days_late"
AFTER_CLASS = "after_last_day_of_class"
AFTER_WEEK = "after_sunday_of_its_week"


class LateAssignmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grace_days: int = Field(default=7, ge=0, description="Days late accepted without penalty")
    last_accepted_day: int = Field(default=14, ge=0, description="Last day late that is accepted")
    max_penalty_percent: float = Field(default=10, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> LateAssignmentParams:
        if self.last_accepted_day < self.grace_days:
            raise ValueError("last_accepted_day must not be before the end of the grace period")
        return self


class LateDiscussionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_time_zone: TimeZoneName = "America/Denver"
    original_post_day: Weekday = "Thu"
    reply_day: Weekday = "Sun"


def _aware(instant: datetime, zone: tzinfo) -> datetime:
    """The instant in ``zone``; one sent without an offset is read as that zone's wall time."""
    return (instant if instant.tzinfo is not None else instant.replace(tzinfo=zone)).astimezone(zone)


def _before(first: datetime, second: datetime) -> bool:
    # In UTC: two datetimes sharing one ZoneInfo compare by wall time, which the DST fall-back hour repeats.
    return first.astimezone(UTC) < second.astimezone(UTC)


def _late_work(
    state: EnrollmentState, day: date, rule_id: str, kinds: frozenset[str]
) -> Iterator[tuple[Input, GradedWork]]:
    """Each piece of work of ``kinds`` seen by ``day`` and not answered yet, its first submission only."""
    answered: set[str] = set()
    for item in state.seen_inputs(day, "graded_work"):
        work = item.data
        if not isinstance(work, GradedWork) or work.work not in kinds or work.work_id in answered:
            continue
        answered.add(work.work_id)
        if fired_on(state, rule_id, work.work_id) is None:
            yield item, work


# -- csu.late.assignment -----------------------------------------------------------------------


@dataclass(frozen=True)
class LateAssignment(AnswersInputs):
    """``csu.late.assignment``: "a one week (7 day) grace period ... without incurring a penalty. Papers
    submitted between 8 and 14 days after the original due date will be accepted with a potential 10
    percent total reduction ... 15 or more days beyond the original due date will not be accepted";
    "No assignments will be accepted after the last day of class unless a student has requested and been
    approved for an incomplete grade".

    Days late are calendar days in the program's time zone; day 1 is the first day after the due date
    (work handed in on the due date itself, after the due time, is day 1 too).
    """

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True  # work handed in after the last day of class is answered too
    params: LateAssignmentParams
    rule_ids: tuple[str, ...] = (ASSIGNMENT,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """One notice to the instructor per late assignment or milestone."""
        decisions: list[Decision] = []
        zone = ctx.calendar.zone
        for item, work in _late_work(state, day, ASSIGNMENT, ASSIGNMENT_WORK):
            if work.due_at is None:
                continue  # no due date sent: nothing to count lateness from
            submitted = _aware(item.at, zone)
            due = _aware(work.due_at, zone)
            if not _before(due, submitted):
                continue
            decisions.append(self._decision(state, item, work, submitted, due, day, ctx))
        return decisions

    def _decision(
        self,
        state: EnrollmentState,
        item: Input,
        work: GradedWork,
        submitted: datetime,
        due: datetime,
        day: date,
        ctx: RuleContext,
    ) -> Decision:
        days_late = max(1, (submitted.date() - due.date()).days)
        refused: list[str] = []
        if days_late > self.params.last_accepted_day:
            refused.append(TOO_LATE)
        after_class = state.end_date is not None and submitted.date() > state.end_date
        if after_class and not work.incomplete_approved:
            refused.append(AFTER_CLASS)
        penalty: float | None = None
        if not refused:
            penalty = self.params.max_penalty_percent if days_late > self.params.grace_days else 0
        facts: dict[str, FactValue] = {
            "work": work.work,
            "work_id": work.work_id,
            "due_at": due.isoformat(),
            "due_date": due.date().isoformat(),
            "due_time": due.strftime("%H:%M %Z"),
            "submitted_at": submitted.isoformat(),
            "submitted_date": submitted.date().isoformat(),
            "submitted_time": submitted.strftime("%H:%M %Z"),
            "days_late": days_late,
            "grace_days": self.params.grace_days,
            "last_accepted_day": self.params.last_accepted_day,
            "accepted": not refused,
            "max_penalty_percent": penalty,
            "not_accepted_because": refused,
            "last_day_of_class": state.end_date.isoformat() if state.end_date else None,
            "incomplete_approved": work.incomplete_approved,
        }
        return Decision(
            rule_id=ASSIGNMENT,
            kind="notice",
            episode=work.work_id,
            on=day,
            due_on=item.on + timedelta(days=1),
            policy_version=ctx.policy_version,
            recipients=("instructor",),
            facts=facts,
        )


# -- csu.late.discussion -----------------------------------------------------------------------


@dataclass(frozen=True)
class DiscussionWeek:
    """The academic week a post belongs to: "begins on Monday and ends the following Sunday"."""

    monday: date
    zone: ZoneInfo

    @classmethod
    def containing(cls, day: date, zone: ZoneInfo) -> DiscussionWeek:
        """The Monday–Sunday week of a (Mountain-time) date."""
        return cls(day - timedelta(days=day.weekday()), zone)

    def day(self, name: str) -> date:
        """The date of a weekday ("Thu") in this week."""
        return self.monday + timedelta(days=WEEKDAYS.index(name))

    def end_of(self, day: date) -> datetime:
        """The instant "11:59 p.m." of ``day`` is over: the next midnight, Mountain time with its DST."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)


@dataclass(frozen=True)
class LateDiscussion(AnswersInputs):
    """``csu.late.discussion``: "The Original Post must be completed by Thursday at 11:59 p.m. MST and
    Peer Responses posted by Sunday at 11:59 p.m. MST ... late posts will not be accepted after Sunday
    at 11:59pm MST".

    "MST" is read as Mountain time as the clock shows it (MDT in summer: America/Denver), as the
    catalogue says. A post belongs to the week of its ``due_at`` when the LMS sends one, otherwise to
    the Monday–Sunday week (Mountain time) in which it was posted; the deadlines are always the policy's
    Thursday and Sunday of that week.
    """

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True
    params: LateDiscussionParams
    rule_ids: tuple[str, ...] = (DISCUSSION,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """One notice to the instructor per late post: accepted until Sunday's end, refused after."""
        zone = ZoneInfo(self.params.deadline_time_zone)
        decisions: list[Decision] = []
        for item, work in _late_work(state, day, DISCUSSION, DISCUSSION_WORK):
            posted = _aware(item.at, zone)
            reference = _aware(work.due_at, zone) if work.due_at else posted
            week = DiscussionWeek.containing(reference.date(), zone)
            original = work.work == "discussion_post"
            due_day = week.day(self.params.original_post_day if original else self.params.reply_day)
            if _before(posted, week.end_of(due_day)):
                continue
            accepted = _before(posted, week.end_of(week.day("Sun")))
            deadline = datetime.combine(due_day, time(23, 59), tzinfo=zone)
            last_minute = datetime.combine(week.day("Sun"), time(23, 59), tzinfo=zone)
            facts: dict[str, FactValue] = {
                "work": work.work,
                "work_id": work.work_id,
                "posted_at": posted.isoformat(),
                "posted_date": posted.date().isoformat(),
                "posted_time": posted.strftime("%H:%M %Z"),
                "due_date": due_day.isoformat(),
                "deadline_at": deadline.isoformat(),
                "deadline_zone": deadline.strftime("%Z"),
                "time_zone": self.params.deadline_time_zone,
                "week_start": week.monday.isoformat(),
                "week_end": week.day("Sun").isoformat(),
                "week_end_zone": last_minute.strftime("%Z"),
                "course_week": self._course_week(state, week, ctx),
                "accepted": accepted,
                "not_accepted_because": [] if accepted else [AFTER_WEEK],
            }
            decisions.append(
                Decision(
                    rule_id=DISCUSSION,
                    kind="notice",
                    episode=work.work_id,
                    on=day,
                    due_on=item.on + timedelta(days=1),
                    policy_version=ctx.policy_version,
                    recipients=("instructor",),
                    facts=facts,
                )
            )
        return decisions

    @staticmethod
    def _course_week(state: EnrollmentState, week: DiscussionWeek, ctx: RuleContext) -> int | None:
        """Week 1 is the Monday–Sunday week of the term's start (else of the enrollment's start)."""
        term = ctx.config.term(state.term_id)
        start = term.start if term is not None else state.start_date
        first = start - timedelta(days=start.weekday())
        number = (week.monday - first).days // 7 + 1
        return number if number >= 1 else None


def build(config: ProgramConfig) -> list[RuleFamily]:
    """One family per late-policy rule id the program enables, each with its own parameters."""
    families: list[RuleFamily] = []
    if ASSIGNMENT in config.rules:
        families.append(
            LateAssignment(validated(LateAssignmentParams, config.rules[ASSIGNMENT] or {}, ASSIGNMENT))
        )
    if DISCUSSION in config.rules:
        families.append(
            LateDiscussion(validated(LateDiscussionParams, config.rules[DISCUSSION] or {}, DISCUSSION))
        )
    return families


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    # Acceptance and penalties are the instructor's to apply: no family notice.
    staff_only=frozenset(RULE_IDS),
)
