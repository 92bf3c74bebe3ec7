"""MSC Online progress ladder: instructor contact, reminder, removal notice, removal.

Source: shared/seeds/004_50d77f9850a1db80.txt, "Student Progress": step 1 "If a student has not
submitted the expected work for 3 days the instructor will contact the student"; step 2 "7 days
after Step 1 ... a reminder"; step 3 "If the student does not respond by submitting assignments
or correspond with the instructor ... the student will be administratively removed from the
course within three (3) calendar days, and all appropriate fees and tuition will apply"; step 4
removal, final grade report, "may re-enroll once, per course, per semester, for a $400 fee
within seven (7) calendar days". The ladder starts only after the 10-day withdraw period
(enrollment date = day 1). Catalogue section 2: ``msc.progress.step1_contact`` …
``msc.progress.step4_removal``.

An episode is one lapse without submissions; each later step counts from the day the step
before it actually fired (catalogue conventions), so a late step never shortens the next one.

Steps 3 and 4 need "no submissions and no correspondence with the instructor since step 2": a
submission, a message or forum question from the student to the instructor (activity of kinds
``instructor_message`` and ``forum_question``), or a contact the instructor records (input
``instructor_contact``) dated on or after the day step 2 was sent (or was due, when it went out
late) ends the ladder of the lapse. Correspondence only ever moves due dates later (it never
starts a lapse), so it needs no wake date. Step 4 states the full course fee and offers
re-enrollment unless this enrollment is already the student's re-enrollment in the course
(a ``reenrollment`` input): "once, per course, per semester".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, DecisionKind, FactValue
from onpace_rules.facts import ONE_DAY, ActivityKind, EnrollmentState, EnrollmentStatus, Scope
from onpace_rules.inputs import Reenrollment
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.clock import Clock, accommodations_seen
from onpace_rules.rules.contract import Resolution, RuleFamily, RuleModule
from onpace_rules.rules.helpers import enabled, episode_anchor, iso, merged_params, since_episode, validated
from onpace_rules.rules.msc_course import course_fee_on, for_this_class

STEP1 = "msc.progress.step1_contact"
STEP2 = "msc.progress.step2_reminder"
STEP3 = "msc.progress.step3_removal_notice"
STEP4 = "msc.progress.step4_removal"
FAMILY_RULE_IDS = (STEP1, STEP2, STEP3, STEP4)
RULE_IDS = FAMILY_RULE_IDS
TITLES = {
    STEP1: "Instructor contact prompt (progress step 1)",
    STEP2: "Progress reminder (step 2)",
    STEP3: "Removal notice (progress step 3)",
    STEP4: "Administrative removal (progress step 4)",
}

SUBMISSIONS: frozenset[ActivityKind] = frozenset({"submission"})
# Correspondence from the student to the instructor that the LMS reports as activity (steps 3
# and 4); a contact the instructor records comes as an ``instructor_contact`` input. In order of
# precedence when two fall on the same day.
CORRESPONDENCE: tuple[ActivityKind, ...] = ("instructor_message", "forum_question")
CONTACT_INPUT = "instructor_contact"


class LadderParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    withdraw_period_days: int = Field(default=10, ge=0)
    step1_days_without_submission: int = Field(default=3, ge=1)
    # "Expected work": the course's weekly minimum, pro-rated to the step-1 window, at least 1.
    min_submissions_per_week: int = Field(default=1, ge=1, le=100)
    step2_days_after_step1: int = Field(default=7, ge=1)
    step3_days_after_step2: int = Field(default=7, ge=1)
    removal_days_after_step3: int = Field(default=3, ge=1)
    reenroll_window_days: int = Field(default=7, ge=1)
    # "may re-enroll once, per course, per semester, for a $400 fee within seven (7) calendar days"
    reenroll_fee_usd: float = Field(default=400.0, ge=0)


@dataclass(frozen=True)
class _Step:
    rule_id: str
    kind: DecisionKind
    recipients: tuple[str, ...]
    status_after: EnrollmentStatus | None = None


_STEPS = (
    _Step(STEP1, "notice", ("instructor",)),
    _Step(STEP2, "notice", ("student", "district_staff", "program_admin")),
    _Step(STEP3, "notice", ("district_staff", "student", "instructor")),
    _Step(STEP4, "action", ("student", "district_staff"), "removed"),
)


@dataclass(frozen=True)
class ProgressLadder(RuleFamily):
    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = False
    enabled: frozenset[str]
    params: LadderParams
    rule_ids: tuple[str, ...] = FAMILY_RULE_IDS
    _episode_keys: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    # Per start date, its ``enrollment_start`` and ``withdraw_period_end`` facts.
    _start_facts: dict[date, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def _chain(self) -> tuple[_Step, ...]:
        # A ladder is a chain: a step missing from the program ends the chain there.
        chain = []
        for step in _STEPS:
            if step.rule_id not in self.enabled:
                break
            chain.append(step)
        return tuple(chain)

    @cached_property
    def _expected(self) -> int:
        """Submissions expected within the step-1 window: the weekly minimum pro-rated, at least 1.

        Catalogue: "``min_submissions_per_week``, default 1, pro-rated to 3 days as at least 1";
        rounded down, so a student on pace for the weekly minimum is never short.
        """
        p = self.params
        return max(1, p.min_submissions_per_week * p.step1_days_without_submission // 7)

    def _anchor(self, state: EnrollmentState, day: date) -> date:
        """The day the current lapse counts from: the last day the student had the expected
        submissions within the window (with one expected: the last submission), or the day
        before the start."""
        latest = state.last_before("submission", day)
        if latest is None:
            latest = state.start_date - ONE_DAY
        if self._expected == 1:
            return latest
        history = state.history_of("submission", day)
        if latest >= state.start_date and (not history or history[-1] < latest):
            # Dates kept only since the program began counting (a new policy version): what is
            # known is the latest submission, so the lapse counts from it, as with one expected.
            return latest
        met = last_day_expectation_met(history, self._expected, self.params.step1_days_without_submission)
        return met if met is not None else state.start_date - ONE_DAY

    @staticmethod
    def _submitted_since(state: EnrollmentState, day: date, since: date) -> bool:
        last = state.last_before("submission", day)
        return last is not None and last >= since

    @cached_property
    def _after_step(self) -> tuple[timedelta, ...]:
        """Per step of the chain, the days from the step before (step 1: from the anchor, the
        day after its last whole day)."""
        p = self.params
        days = (
            p.step1_days_without_submission + 1,
            p.step2_days_after_step1,
            p.step3_days_after_step2,
            p.removal_days_after_step3,
        )
        return tuple(timedelta(days=n) for n in days[: len(self._chain)])

    @cached_property
    def _withdraw_period(self) -> timedelta:
        return timedelta(days=self.params.withdraw_period_days)

    def _fired_keys(self, episode: str) -> tuple[str, ...]:
        """Each step's ``fired`` key in ``episode`` (memoised: a term has only so many dates)."""
        keys = self._episode_keys.get(episode)
        if keys is None:
            keys = self._episode_keys[episode] = tuple(f"{s.rule_id}#{episode}" for s in self._chain)
        return keys

    def _first_due(self, state: EnrollmentState, day: date, anchor: date, calendar: ProgramCalendar) -> date:
        """Step 1's due date in the lapse since ``anchor``: the day after the step-1 window's last
        whole day ("3 days without": catalogue convention "Lapses count whole days", so a
        submission on the third day still prevents it), after the withdraw period. A paused clock
        (an accommodation) delays it; the later steps count from the step before, as the source
        says."""
        accommodations = accommodations_seen(state, day) if state.inputs else ()
        if accommodations:
            first = self.params.step1_days_without_submission
            clock = Clock(calendar, "calendar", accommodations)
            due = clock.add(anchor, first + clock.extension(anchor)) + ONE_DAY
        else:
            due = anchor + self._after_step[0]
        after_withdraw_period = state.start_date + self._withdraw_period
        return after_withdraw_period if due < after_withdraw_period else due

    def _next(
        self, state: EnrollmentState, day: date, calendar: ProgramCalendar
    ) -> tuple[int, date, str, date] | None:
        """The first step of the current lapse that has not fired (its index in the chain), with
        its due date."""
        anchor = self._anchor(state, day)
        episode = since_episode(anchor)
        fired = state.fired
        previous: date | None = None
        reminded: date | None = None  # the day step 2 was sent
        for index, key in enumerate(self._fired_keys(episode)):
            sent = fired.get(key)
            if sent is not None:
                previous = sent
                if index == 1:
                    reminded = sent
                continue
            if index == 0:
                due = self._first_due(state, day, anchor, calendar)
            else:
                assert previous is not None
                if index >= 2:
                    assert reminded is not None  # the chain has step 2 before step 3
                    if self._answered_since_reminder(state, day, anchor, calendar, reminded) is not None:
                        # Steps 3 and 4 need "no submissions and no correspondence with the
                        # instructor since step 2": a student who answers, or is still short
                        # but submits, is not removed; the ladder of this lapse ends (with one
                        # expected, a submission starts the next lapse).
                        return None
                due = previous + self._after_step[index]
            return index, due, episode, anchor
        return None

    def _answered_since_reminder(
        self, state: EnrollmentState, day: date, anchor: date, calendar: ProgramCalendar, reminded: date
    ) -> tuple[date, str] | None:
        """A submission or correspondence with the instructor since step 2 that the evaluation of
        ``day`` sees, as (its date, its kind): what ends the ladder of the lapse before step 3."""
        # "Since step 2": from the day it was sent, or the day it was due when it went out late
        # (step 1's due date + 7), so that an evaluator that was down never counts a student's
        # answer as coming before the reminder.
        since = self._first_due(state, day, anchor, calendar) + self._after_step[1]
        if reminded < since:
            since = reminded
        if self._submitted_since(state, day, since):
            last = state.last_before("submission", day)
            assert last is not None
            return last, "submission"
        return last_correspondence(state, day, since)

    def resolved(
        self, state: EnrollmentState, rule_id: str, episode: str, seen_on: date, ctx: RuleContext
    ) -> Resolution | None:
        """Steps 1-3 (notices before the removal) are resolved when the lapse is over — the
        expected submissions came, so ``_anchor`` moved past the episode's (step 2's condition
        "still below the expected submissions") — and step 3 also by a submission or
        correspondence since step 2, the condition ``_next`` stops the ladder on."""
        started = episode_anchor(episode)
        steps = [s.rule_id for s in self._chain if s.kind == "notice"]
        if rule_id not in steps or started is None:
            return None
        if self._anchor(state, seen_on) > started:
            last = state.last_before("submission", seen_on)
            return Resolution(
                rule_id=rule_id,
                episode=episode,
                fact="submission",
                on=last,
                detail={
                    "activity": "submission",
                    "activity_on": iso(last) if last is not None else None,
                    "lapse_since": iso(started),
                },
            )
        reminded = state.fired.get(self._fired_keys(episode)[1]) if len(self._chain) > 1 else None
        if steps.index(rule_id) < 2 or reminded is None:
            return None
        found = self._answered_since_reminder(state, seen_on, started, ctx.calendar, reminded)
        if found is None:
            return None
        on, kind = found
        return Resolution(
            rule_id=rule_id,
            episode=episode,
            fact=kind,
            on=on,
            detail={"activity": kind, "activity_on": iso(on), "reminder_date": iso(reminded)},
        )

    def _decision(
        self, state: EnrollmentState, day: date, ctx: RuleContext, found: tuple[int, date, str, date]
    ) -> Decision:
        index, due, episode, anchor = found
        step = self._chain[index]
        deadlines: dict[str, date] = {}
        facts: dict[str, FactValue] = {}
        if index >= 2:
            facts.update(self._since_reminder(state, day, episode))
        if step.rule_id == STEP3:
            removal = day + timedelta(days=self.params.removal_days_after_step3)
            # A submission dated the day before the removal is the last that still prevents it.
            deadlines["last_day"] = removal - ONE_DAY
            deadlines["removal"] = removal
            # "... will be administratively removed ... and all appropriate fees and tuition will apply"
            facts["course_fee_usd"] = course_fee_on(ctx, removal)
        elif step.rule_id == STEP4:
            facts.update(self._removal_facts(state, day, ctx))
            if facts["reenroll_available"]:
                deadlines["reenroll"] = day + timedelta(days=self.params.reenroll_window_days)
        start = state.start_date
        if self._expected > 1:
            last = state.inactivity_anchor(SUBMISSIONS, day)
            facts["expected_submissions"] = self._expected
            facts["window_days"] = self.params.step1_days_without_submission
            facts["expectation_last_met"] = iso(anchor) if anchor >= start else None
        else:
            last = anchor  # with one expected, the lapse counts from the last submission
        start_facts = self._start_facts.get(start)
        if start_facts is None:
            withdraw_end = start + timedelta(days=self.params.withdraw_period_days - 1)
            start_facts = self._start_facts[start] = (iso(start), iso(withdraw_end))
        facts["last_submission_date"] = iso(last) if last >= start else None
        facts["days_without_submission"] = (day - ONE_DAY - last).days  # whole days
        facts["enrollment_start"], facts["withdraw_period_end"] = start_facts
        return Decision(
            rule_id=step.rule_id,
            kind=step.kind,
            episode=episode,
            on=day,
            due_on=due,
            policy_version=ctx.policy_version,
            recipients=step.recipients,
            deadlines=deadlines,
            facts=facts,
            status_after=step.status_after,
        )

    def _since_reminder(self, state: EnrollmentState, day: date, episode: str) -> dict[str, FactValue]:
        """Steps 3 and 4 state what they stand on: step 2's date and the last correspondence with
        the instructor on record (before step 2: none can be later, or the ladder had stopped)."""
        reminded = state.fired.get(self._fired_keys(episode)[1])
        last = last_correspondence(state, day, None)
        return {
            "reminder_date": iso(reminded) if reminded is not None else None,
            "last_correspondence_date": iso(last[0]) if last is not None else None,
            "last_correspondence": last[1] if last is not None else None,
        }

    def _removal_facts(self, state: EnrollmentState, day: date, ctx: RuleContext) -> dict[str, FactValue]:
        """The fee of the removal and whether re-enrollment is offered.

        "all appropriate fees and tuition will apply": a student removed after the withdraw
        period counts as a "student enrollment" and the full course fee is assessed (the price
        in force on the removal day, ``msc.enrollment.withdraw_window``'s ``course_fee_usd``).
        "may re-enroll once, per course, per semester": an enrollment is one student in one
        course and one semester, and a ``reenrollment`` input on it says it is that one
        re-enrollment, so removing it again offers none.
        """
        facts: dict[str, FactValue] = {
            "fee_kind": "full_course_fee",
            "course_fee_usd": course_fee_on(ctx, day),
        }
        earlier = reenrolled_on(state, day)
        facts["reenroll_available"] = earlier is None
        if earlier is None:
            facts["reenroll_fee_usd"] = round(self.params.reenroll_fee_usd, 2)
        else:
            facts["reenrolled_on"] = iso(earlier)
        return facts

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """The step whose day has come, if the lapse still holds (no submission since it began)."""
        return self.plan(state, day, ctx)[0]

    def plan(
        self, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> tuple[Sequence[Decision], date | None]:
        """``decide`` and the wake date ``next_wake`` would give once its decision is recorded.

        One look at the lapse serves both: the step due now fires, and the next step counts from
        today (each step counts from the one before it).
        """
        found = self._next(state, day, ctx.calendar)
        if found is None:
            return (), None
        index, due, _, _ = found
        if due > day:
            return (), due
        decision = self._decision(state, day, ctx, found)
        if decision.status_after is not None or index + 1 == len(self._chain):
            return (decision,), None
        return (decision,), day + self._after_step[index + 1]

    @property
    def activity_wake_days(self) -> dict[ActivityKind, int]:
        """A submission dated D can start a new lapse whose step 1 is due from D + 4, the day
        after its third whole day (never earlier: a paused clock, an extension or the withdraw
        period only delay it). The stores
        bring the wake date forward to that day when a submission arrives, so ``next_wake`` need
        not guess at submissions it has not seen."""
        return dict.fromkeys(SUBMISSIONS, self.params.step1_days_without_submission + 1)

    @property
    def activity_history(self) -> frozenset[ActivityKind]:
        """With more than one submission expected per window, the lapse needs every date."""
        return SUBMISSIONS if self._expected > 1 else frozenset()

    def redate(self, decision: Decision, day: date, ctx: RuleContext) -> Decision:
        """The removal taken on ``day`` (after approval): the re-enrollment window counts from
        then, and the course fee is the one in force that day."""
        facts = {**decision.facts, "course_fee_usd": course_fee_on(ctx, day)}
        if decision.facts.get("reenroll_available") is False:
            return replace(decision, on=day, facts=facts)  # re-enrolled once already: nothing to offer
        reenroll = day + timedelta(days=self.params.reenroll_window_days)
        return replace(decision, on=day, facts=facts, deadlines={**decision.deadlines, "reenroll": reenroll})

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        """The next step of this lapse. Step 1 of a lapse that a submission not yet seen would
        start is the stores' business (``activity_wake_days``)."""
        found = self._next(state, day + timedelta(days=1), ctx.calendar)
        if found is None:
            return None
        return max(found[1], day + timedelta(days=1))


def last_correspondence(state: EnrollmentState, day: date, since: date | None) -> tuple[date, str] | None:
    """The latest correspondence with the instructor the evaluation of ``day`` sees, dated on or
    after ``since`` (any, with None): (its date, its kind — an activity kind of ``CORRESPONDENCE``
    or ``instructor_contact``)."""
    found: tuple[date, str] | None = None
    for kind in CORRESPONDENCE:
        seen = state.last_before(kind, day)
        if seen is not None and (since is None or seen >= since) and (found is None or seen > found[0]):
            found = (seen, kind)
    if state.inputs:
        for item in state.seen_inputs(day, CONTACT_INPUT):
            if not for_this_class(state, item) or (since is not None and item.on < since):
                continue
            if found is None or item.on > found[0]:
                found = (item.on, CONTACT_INPUT)
    return found


def reenrolled_on(state: EnrollmentState, day: date) -> date | None:
    """The date of the ``reenrollment`` input of this enrollment the evaluation of ``day`` sees
    (the first, if several), or None: this enrollment is not a re-enrollment."""
    if not state.inputs:
        return None
    for item in state.seen_inputs(day, "reenrollment"):
        if isinstance(item.data, Reenrollment) and for_this_class(state, item):
            return item.on
    return None


def last_day_expectation_met(dates: Sequence[date], expected: int, window_days: int) -> date | None:
    """The last day on which the ``window_days`` days ending that day held ``expected`` submissions.

    ``dates`` are submission dates, oldest first (one entry per submission). The lapse counts
    from that day: "does not submit the expected number of assignment(s) within a period of
    three (3) consecutive days" after it.
    """
    span = timedelta(days=window_days - 1)
    for index in range(len(dates) - 1, expected - 2, -1):
        if dates[index] - dates[index - expected + 1] <= span:
            return dates[index]
    return None


def build(config: ProgramConfig) -> list[RuleFamily]:
    chosen = enabled(config.rules, RULE_IDS)
    if not chosen:
        return []
    return [
        ProgressLadder(
            enabled=chosen,
            params=validated(LadderParams, merged_params(config.rules, RULE_IDS), "msc.progress.*"),
        )
    ]


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    # Step 1 prompts the instructor only.
    staff_only=frozenset({STEP1}),
    warnings=frozenset({STEP1, STEP2, STEP3}),
)
