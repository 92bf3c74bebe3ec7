"""MOCAP notices to families: the state's guidance document, and options after a disenrollment.

Source: shared/seeds/001_8e57e2cb68840ac6.txt — "C.": "The District will provide a copy of DESE's
Virtual School Guidance document to every District parent/guardian at the beginning of each
school year and upon enrollment of every student enrolling after the beginning of the school
year"; "D.": "Upon notice of such decision, the District will provide the parents/guardians of
the student with a written list of available District educational options ... Any student
disenrolled from a full-time virtual school will be prohibited from re-enrolling in the same
virtual school for the remainder of the school year." Catalogue section 4:
``mocap.notice.guidance``, ``mocap.disenrollment.options``.

The guidance document is about the student and the family, not a course: it is a student-scope
family (one notice per student per school year). The disenrollment options answer one report of a
full-time virtual school and end the enrollment it names: they stay per enrollment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import Disenrollment, Input
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import SUPERSEDED, RuleContext, fired_on
from onpace_rules.rules.mocap_common import (
    DISENROLLMENT,
    GUIDANCE,
    first_seen,
    next_school_year_start,
    school_year_label,
    unseen_input_wake,
)

DEFAULT_OPTIONS = (
    "Full-time enrollment in the student's District school",
    "District in-person classes combined with Missouri Course Access and Virtual School Program "
    "(MOCAP) courses approved by the District",
    "Another full-time virtual school (not the one the student was disenrolled from, for the "
    "rest of this school year)",
)


class GuidanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    guidance_document_url: str | None = Field(default=None, min_length=1)


class DisenrollmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    educational_options: tuple[str, ...] = Field(default=DEFAULT_OPTIONS, min_length=1)


@dataclass(frozen=True)
class _Occasion:
    school_year: str
    due: date
    occasion: str  # "enrollment" | "school_year_start"


# A period the student is known to be in the program: (first day, last day or None when open).
Span = tuple[date, date | None]


def student_spans(state: EnrollmentState) -> list[Span]:
    """The periods the student subject knows the student is in the program.

    A student subject carries the earliest enrollment's start and the end of the student's last
    enrollment, none while one is open-ended (replay ``_student_states``, store
    ``student_subjects``): one span from the first enrollment to the last one's end.
    """
    return [(state.start_date, state.end_date)]


def guidance_occasions(spans: Sequence[Span], config: ProgramConfig) -> list[_Occasion]:
    """The first occasion of each school year: an enrollment's start, or a listed school-year start
    inside a span. An enrollment that starts on the first day of school is that year's notice."""
    starts = set(config.calendar.school_year_start)
    dates: set[date] = set()
    for first, last in spans:
        dates.add(first)
        dates.update(s for s in starts if s > first and (last is None or s <= last))
    found: dict[str, _Occasion] = {}
    for d in sorted(dates):
        year = school_year_label(config, d)
        found.setdefault(year, _Occasion(year, d, "school_year_start" if d in starts else "enrollment"))
    return list(found.values())


@dataclass(frozen=True)
class Guidance:
    """The guidance document to the family once per school year, however many courses the student takes.

    Student scope: the seed addresses "every District parent/guardian" and "every student
    enrolling", not a course; a per-enrollment notice sent a family with two MOCAP courses the
    same document twice.
    """

    scope: ClassVar[Scope] = "student"
    runs_after_end: ClassVar[bool] = False
    params: GuidanceParams
    rule_ids: tuple[str, ...] = (GUIDANCE,)

    @staticmethod
    def _occasions(state: EnrollmentState, config: ProgramConfig) -> list[_Occasion]:
        return guidance_occasions(student_spans(state), config)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "at the beginning of each school year and upon enrollment" — once per school year.

        After an outage that spans two occasions, only the latest is sent: the same document
        twice on one day tells a family nothing new.
        """
        due = [
            o
            for o in self._occasions(state, ctx.config)
            if o.due <= day and fired_on(state, GUIDANCE, o.school_year) is None
        ]
        if not due:
            return ()
        *earlier, latest = due
        decisions = [
            Decision(
                rule_id=GUIDANCE,
                kind="skipped",
                episode=o.school_year,
                on=day,
                due_on=o.due,
                policy_version=ctx.policy_version,
                facts={"school_year": o.school_year, "occasion": o.occasion},
                reason=SUPERSEDED,
            )
            for o in earlier
        ]
        on_enrollment = latest.occasion == "enrollment"
        facts: dict[str, FactValue] = {
            "school_year": latest.school_year,
            "occasion": latest.occasion,
            "enrollment_start": state.start_date.isoformat(),  # the student's first program course
            # The roster facts are the first enrollment's: true of that enrollment's term only.
            "first_course": state.roster.class_title if on_enrollment else None,
            "program_courses_in_term": state.roster.online_courses_in_term if on_enrollment else None,
            "guidance_document_url": self.params.guidance_document_url,
        }
        decisions.append(
            Decision(
                rule_id=GUIDANCE,
                kind="notice",
                episode=latest.school_year,
                on=day,
                due_on=latest.due,
                policy_version=ctx.policy_version,
                recipients=("guardians",),
                facts=facts,
            )
        )
        return decisions

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        return min(
            (
                max(o.due, day + timedelta(days=1))
                for o in self._occasions(state, ctx.config)
                if fired_on(state, GUIDANCE, o.school_year) is None
            ),
            default=None,
        )


def _disenrollment_facts(
    report: Input, ctx: RuleContext, params: DisenrollmentParams
) -> tuple[date, dict[str, FactValue]]:
    reenroll, source = next_school_year_start(ctx.config, report.on)
    school = report.data.school if isinstance(report.data, Disenrollment) else None
    return reenroll, {
        "virtual_school": school,
        "disenrolled_on": report.on.isoformat(),
        "school_year": school_year_label(ctx.config, report.on),
        "reenroll_blocked_through": (reenroll - timedelta(days=1)).isoformat(),
        "reenroll_date_source": source,
        "educational_options": list(params.educational_options),
    }


def _reports(state: EnrollmentState) -> list[Input]:
    return [i for i in state.inputs if i.kind == "disenrollment"]


@dataclass(frozen=True)
class DisenrollmentOptions:
    """A course of the disenrolled student ends (withdrawn); recorded, not sent.

    A disenrollment is about the student (``inputs.STUDENT_WIDE_KINDS``), so every course of the
    student ends; the family's letter comes once from the student record
    (``DisenrollmentLetter``), not once per course. Runs after the end date too.
    """

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True
    params: DisenrollmentParams
    rule_ids: tuple[str, ...] = (DISENROLLMENT,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: the student "shall be prohibited from re-enrolling in the same full-time virtual
        school for the remainder of the school year" — the enrollment is withdrawn."""
        for report in state.seen_inputs(day, "disenrollment"):
            if fired_on(state, DISENROLLMENT, report.event_id) is not None:
                continue
            reenroll, facts = _disenrollment_facts(report, ctx, self.params)
            # One report ends the enrollment; a second one has nothing left to end.
            return (
                Decision(
                    rule_id=DISENROLLMENT,
                    kind="action",
                    episode=report.event_id,
                    on=day,
                    due_on=first_seen(report),
                    policy_version=ctx.policy_version,
                    deadlines={"reenroll": reenroll},
                    facts=facts,
                    status_after="withdrawn",
                ),
            )
        return ()

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        return unseen_input_wake(_reports(state), day)


@dataclass(frozen=True)
class DisenrollmentLetter:
    """The written list of District options to the family, once per virtual school and school year.

    Student scope: a district that reports the disenrollment once per course still sends the
    family one letter. Runs after the end date too: the district owes the list whenever the
    virtual school reports it.
    """

    scope: ClassVar[Scope] = "student"
    runs_after_end: ClassVar[bool] = True
    params: DisenrollmentParams
    rule_ids: tuple[str, ...] = (DISENROLLMENT,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "a written list of available District educational options"; no re-enrollment in the same
        virtual school "for the remainder of the school year" (``reenroll`` = next school year's start)."""
        decisions: list[Decision] = []
        for report in state.seen_inputs(day, "disenrollment"):
            reenroll, facts = _disenrollment_facts(report, ctx, self.params)
            episode = f"{facts['virtual_school']}#{facts['school_year']}"
            if fired_on(state, DISENROLLMENT, episode) is not None or any(
                d.episode == episode for d in decisions
            ):
                continue
            decisions.append(
                Decision(
                    rule_id=DISENROLLMENT,
                    kind="notice",
                    episode=episode,
                    on=day,
                    due_on=first_seen(report),
                    policy_version=ctx.policy_version,
                    recipients=("guardians",),
                    deadlines={"reenroll": reenroll},
                    facts=facts,
                )
            )
        return decisions

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        return unseen_input_wake(_reports(state), day)
