"""MOCAP: a student disenrolled from a full-time virtual school — the options letter and the block.

Source: shared/seeds/001_8e57e2cb68840ac6.txt, "D. Students Disenrolled from Full-Time Virtual
Schools": "When a District student is disenrolled from a full-time virtual program, the virtual
school must immediately notify the District of their disenrollment decision. Upon notice of such
decision, the District will provide the parents/guardians of the student with a written list of
available District educational options. Such student shall be promptly enrolled in their selected
educational option. Any student disenrolled from a full-time virtual school will be prohibited
from re-enrolling in the same virtual school for the remainder of the school year." Catalogue
section 4: ``mocap.disenrollment.options``.

How we read it:
- the report (a ``disenrollment`` input: ``school``, optionally ``school_id``) is about one
  virtual school. The letter goes to the family once per school and school year, from the student
  record (``DisenrollmentLetter``), however many courses the district reports it for;
- on the courses it is about the block on that school only: a course of that school (the report
  names its class, or the roster puts the class in that school) that started by the report's date
  is withdrawn — the virtual school disenrolled the student from it; a course of that school
  starting after the report and before the next school year is refused (``rejected``) with the
  reason, to the counselor and the program administrator; the student's other MOCAP courses,
  in other schools, continue (``SchoolBlock``);
- "the remainder of the school year" ends the day before the next school-year start of the
  calendar (July 1 past its last listed year): the ``reenroll`` date the letter and the refusal
  state.

Where the block is checked: every course of the student holds the report (a student-wide input,
which an enrollment added later starts with), so ``SchoolBlock`` answers it like an enrollment
check on the course's first look — the day a later enrollment starts — and also on the day the
report is first seen for a course that was already running. One family does both, so an
enrollment added while the report was on its way is refused as soon as the report is seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, EnrollmentStatus, Scope
from onpace_rules.inputs import Disenrollment, Input
from onpace_rules.rules.contract import AnswersInputs, RuleFamily
from onpace_rules.rules.helpers import fired_on
from onpace_rules.rules.mocap_common import (
    DISENROLLMENT,
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
BLOCK_RECIPIENTS = ("counselor", "program_admin")
WITHDRAWN: EnrollmentStatus = "withdrawn"
REJECTED: EnrollmentStatus = "rejected"


class DisenrollmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    educational_options: tuple[str, ...] = Field(default=DEFAULT_OPTIONS, min_length=1)


def _reports(state: EnrollmentState, day: date | None = None) -> list[Input]:
    items = state.inputs if day is None else state.seen_inputs(day, "disenrollment")
    return [i for i in items if i.kind == "disenrollment" and isinstance(i.data, Disenrollment)]


def _facts(report: Input, ctx: RuleContext, params: DisenrollmentParams) -> tuple[date, dict[str, FactValue]]:
    """The ``reenroll`` date (the next school year's start) and what the letter and the block state."""
    reenroll, source = next_school_year_start(ctx.config, report.on)
    data = report.data
    assert isinstance(data, Disenrollment)
    return reenroll, {
        "virtual_school": data.school,
        "virtual_school_id": data.school_id,
        "disenrolled_on": report.on.isoformat(),
        "school_year": school_year_label(ctx.config, report.on),
        "reenroll_blocked_through": (reenroll - timedelta(days=1)).isoformat(),
        "reenroll_date_source": source,
        "educational_options": list(params.educational_options),
    }


def in_reported_school(state: EnrollmentState, report: Input) -> bool:
    """Whether ``state``'s course belongs to the virtual school ``report`` is about: the report
    names its class, or the roster puts its class in that school."""
    data = report.data
    assert isinstance(data, Disenrollment)
    if report.class_id is not None and report.class_id == state.class_id:
        return True
    return data.names_school(state.roster.school_id, state.roster.school_name)


@dataclass(frozen=True)
class SchoolBlock(AnswersInputs):
    """The report on each course of the student: a course of the reported school ends (withdrawn
    if it had started by the report's date, refused if it starts later in the school year);
    every other course is left as it is. Recorded on the course; the family's letter comes once
    from the student record (``DisenrollmentLetter``).
    """

    scope: ClassVar[Scope] = "enrollment"
    # A course whose end date passed during an outage is still answered for the days it ran.
    runs_after_end: ClassVar[bool] = True
    params: DisenrollmentParams
    rule_ids: tuple[str, ...] = (DISENROLLMENT,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "prohibited from re-enrolling in the same virtual school for the remainder of the
        school year". The first report that ends the course stands (an action ends it)."""
        for report in _reports(state, day):
            if fired_on(state, DISENROLLMENT, report.event_id) is not None:
                continue
            if not in_reported_school(state, report):
                continue  # another school's course: it continues
            if state.end_date is not None and state.end_date < report.on:
                continue  # the course was over before the disenrollment
            reenroll, facts = _facts(report, ctx, self.params)
            if state.start_date >= reenroll:
                continue  # a course of the next school year: no longer blocked
            rejected = state.start_date > report.on
            # A refusal is due on the course's start (its first look), or when the report is seen.
            due = max(first_seen(report), state.start_date) if rejected else first_seen(report)
            facts |= {
                "outcome": REJECTED if rejected else WITHDRAWN,
                "enrollment_start": state.start_date.isoformat(),
            }
            if rejected:
                facts["reason"] = (
                    f"disenrolled from {facts['virtual_school']} on {facts['disenrolled_on']}: no "
                    f"re-enrollment in the same virtual school before {reenroll.isoformat()}"
                )
            return (
                Decision(
                    rule_id=DISENROLLMENT,
                    kind="action",
                    episode=report.event_id,
                    on=day,
                    due_on=min(due, day),  # a course not started yet is refused as soon as known
                    policy_version=ctx.policy_version,
                    recipients=BLOCK_RECIPIENTS if rejected else (),
                    deadlines={"reenroll": reenroll},
                    facts=facts,
                    status_after=REJECTED if rejected else WITHDRAWN,
                ),
            )
        return ()


@dataclass(frozen=True)
class DisenrollmentLetter(RuleFamily):
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
        for report in _reports(state, day):
            reenroll, facts = _facts(report, ctx, self.params)
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
