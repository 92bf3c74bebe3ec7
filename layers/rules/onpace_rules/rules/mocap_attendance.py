"""MOCAP attendance: A+ attendance for completed courses, and the ADA share of part-time students.

Source: shared/seeds/001_8e57e2cb68840ac6.txt — "B.": "In the case of a student who is a candidate
for A+ tuition reimbursement and who is enrolled in a Program course, the District will attribute
no less than ninety-five (95%) percent attendance to any such student who has successfully
completed such Program course"; "C.": "For students enrolled in the Program on a part-time basis,
ADA will be calculated as a percentage of the total number of Program courses in which the
student is enrolled by the number of courses required for full-time students." Catalogue
section 4: ``mocap.attendance.a_plus``, ``mocap.attendance.ada``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import FinalGrade, Input
from onpace_rules.program import Term
from onpace_rules.rules.contract import RuleFamily
from onpace_rules.rules.helpers import fired_on
from onpace_rules.rules.mocap_common import A_PLUS, ADA, enrollment_term, first_seen, unseen_input_wake


class APlusParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    minimum_attendance: float = Field(default=0.95, gt=0, le=1)


class AdaParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The seed names "the number of courses required for full-time students" without a number;
    # 6 is a Missouri high-school year (24 units over four years). Programs set their own.
    full_time_course_load: int = Field(default=6, ge=1)


@dataclass(frozen=True)
class APlusAttendance(RuleFamily):
    """On this class's passing final grade for an A+ candidate: attribute at least 95 % attendance."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True
    params: APlusParams
    rule_ids: tuple[str, ...] = (A_PLUS,)

    @staticmethod
    def _qualifying(state: EnrollmentState, items: Sequence[Input]) -> list[Input]:
        # Final grades reach every enrollment of the student (student-wide inputs): only this
        # class's grade completes this course.
        return [
            i
            for i in items
            if i.kind == "final_grade"
            and state.class_id is not None
            and i.class_id == state.class_id
            and isinstance(i.data, FinalGrade)
            and i.data.is_passed
            and i.data.a_plus_candidate
        ]

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "attribute no less than ninety-five (95%) percent attendance" once per completed course.

        The episode is the class: a corrected grade posted later does not attribute it twice.
        """
        if fired_on(state, A_PLUS, str(state.class_id)) is not None:
            return ()
        found = self._qualifying(state, state.seen_inputs(day, "final_grade"))
        if not found:
            return ()
        grade = found[0]
        data = grade.data
        assert isinstance(data, FinalGrade)
        facts: dict[str, FactValue] = {
            "grade": data.grade,
            "graded_on": grade.on.isoformat(),
            "course": data.course,
            "term": data.term,
            "minimum_attendance": self.params.minimum_attendance,
        }
        return (
            Decision(
                rule_id=A_PLUS,
                kind="notice",
                episode=str(state.class_id),
                on=day,
                due_on=first_seen(grade),
                policy_version=ctx.policy_version,
                recipients=("program_admin",),
                facts=facts,
            ),
        )

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        if fired_on(state, A_PLUS, str(state.class_id)) is not None:
            return None
        return unseen_input_wake(self._qualifying(state, state.inputs), day)


@dataclass(frozen=True)
class AdaShare(RuleFamily):
    """At the end of the enrollment's term, a part-time student's ADA share to the administrator.

    Each of the student's program enrollments reports its own course (1 / full-time load) with
    the student's total (program courses / full-time load), so the district adds courses, not
    students, and never counts a student twice.
    """

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True  # the term's end is usually the enrollment's end date
    params: AdaParams
    rule_ids: tuple[str, ...] = (ADA,)

    def _part_time(self, state: EnrollmentState) -> bool:
        # The roster's full-time flag wins when known; otherwise the course count decides.
        flag = state.roster.full_time
        if flag is not None:
            return not flag
        return state.roster.online_courses_in_term < self.params.full_time_course_load

    @staticmethod
    def _due(term: Term) -> date:
        return term.end + timedelta(days=1)  # "at the end of" the term: the evaluation after it

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "ADA will be calculated as a percentage of the total number of Program courses ... by the
        number of courses required for full-time students"."""
        term = enrollment_term(ctx.config, state)
        if term is None or state.start_date > term.end or self._due(term) > day:
            return ()
        if fired_on(state, ADA, term.id) is not None or not self._part_time(state):
            return ()
        load = self.params.full_time_course_load
        courses = state.roster.online_courses_in_term
        facts: dict[str, FactValue] = {
            "term_id": term.id,
            "term_end": term.end.isoformat(),
            "program_courses_in_term": courses,
            "full_time_course_load": load,
            "student_ada_share": round(min(courses / load, 1.0), 4),
            "course_ada_share": round(1 / load, 4),
            "roster_full_time": state.roster.full_time,
        }
        return (
            Decision(
                rule_id=ADA,
                kind="notice",
                episode=term.id,
                on=day,
                due_on=self._due(term),
                policy_version=ctx.policy_version,
                recipients=("program_admin",),
                facts=facts,
            ),
        )

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        term = enrollment_term(ctx.config, state)
        if term is None or state.start_date > term.end or fired_on(state, ADA, term.id) is not None:
            return None
        due = self._due(term)
        return due if due > day else None
