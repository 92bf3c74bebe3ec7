"""CPS Online "Failure to Thrive Online": two failed online courses in a year block the next semester.

Source: shared/seeds/000_bc3aac7a290565fd.txt — "Any student who fails 2 or more online classes* in
any year will not be allowed to take online classes the following semester. *(Middle school=2 core
classes; High school=2 credit-bearing classes)." Catalogue section 1:
``cps.eligibility.failure_to_thrive``.

Two places apply it:
- the student-scope family here tells the student, the family and the counselor, once per school
  year, which semester is blocked;
- the enrollment check (``enrollment_checks.AddWindowCheck``) rejects a new online enrollment in the
  blocked semester. It recomputes the block from the student's ``final_grade`` inputs (a student-wide
  kind, so every enrollment sees them) with :func:`blocks`, the same function the notice uses, so the
  notice and the rejection always name the same semester.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import FinalGrade, Input
from onpace_rules.program import ProgramConfig, Term
from onpace_rules.rules.contract import AnswersInputs, RuleFamily, RuleModule
from onpace_rules.rules.helpers import fired_on, merged_params, validated

FAILURE_TO_THRIVE = "cps.eligibility.failure_to_thrive"
RULE_IDS = (FAILURE_TO_THRIVE,)
TITLES = {FAILURE_TO_THRIVE: "Failure to thrive online: next semester blocked"}

BLOCK_OVER = "blocked semester already over"
# Letters that end a course without a failing result: a withdrawal or an incomplete is not "fails".
_NOT_A_FAILURE = frozenset({"W", "I"})


class FailureToThriveParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    failed_courses_limit: int = Field(default=2, ge=1, description='"fails 2 or more online classes"')
    default_course_level: str = Field(default="high", pattern="^(middle|high)$")


@dataclass(frozen=True)
class Block:
    """One school year whose failures block a semester."""

    school_year: date  # its first day
    failed: tuple[str, ...]  # the failed courses that count, in date order
    decided_on: date  # date of the failing grade that reached the limit
    level: str  # "middle" | "high"
    term: Term | None  # the blocked semester; None when the calendar does not list it yet

    @property
    def label(self) -> str:
        """``2026-27`` for a school year starting in 2026: the notice's episode."""
        return f"{self.school_year.year}-{(self.school_year.year + 1) % 100:02d}"


def is_failure(grade: FinalGrade) -> bool:
    """A failed course. W and I fail ``is_passed`` (SAP) but are not a failure unless marked so."""
    if grade.passed is not None:
        return not grade.passed
    return not grade.is_passed and grade.grade.upper() not in _NOT_A_FAILURE


def counts_for_level(grade: FinalGrade, level: str) -> bool:
    """Source: "Middle school=2 core classes; High school=2 credit-bearing classes"."""
    return grade.core if level == "middle" else grade.credit_bearing


def level_of(state: EnrollmentState, params: FailureToThriveParams) -> str:
    level = state.roster.course_level
    return level if level in ("middle", "high") else params.default_course_level


def _latest_per_course(grades: Iterable[Input]) -> list[Input]:
    """One grade per course: a later posting for the same course (a correction) replaces the earlier."""
    latest: dict[str, Input] = {}
    for item in sorted(grades, key=lambda i: (i.on, i.at, i.event_id)):
        assert isinstance(item.data, FinalGrade)
        latest[item.class_id or item.data.course or item.event_id] = item
    return sorted(latest.values(), key=lambda i: (i.on, i.at, i.event_id))


def following_semester(config: ProgramConfig, after: date) -> Term | None:
    """The first semester of the calendar that starts after ``after``."""
    later = [t for t in config.calendar.terms if t.kind == "semester" and t.start > after]
    return min(later, key=lambda t: t.start, default=None)


def blocks(
    state: EnrollmentState, day: date, config: ProgramConfig, params: FailureToThriveParams
) -> list[Block]:
    """School years (seen by the evaluation of ``day``) with enough failed online courses, oldest first.

    The blocked semester is the first semester starting after the failing grade that reached the
    limit: when the notice goes (the day after that grade is posted) it is the year's last final
    grade, and later grades of the same year do not move it, so a later enrollment check blocks the
    semester the family was told about.
    """
    level = level_of(state, params)
    by_year: dict[date, list[Input]] = {}
    for item in state.seen_inputs(day, "final_grade"):
        year = config.school_year_of(item.on)
        if year is not None and isinstance(item.data, FinalGrade):
            by_year.setdefault(year, []).append(item)
    found: list[Block] = []
    for year, grades in sorted(by_year.items()):
        failed = [
            g for g in _latest_per_course(grades) if is_failure(g.data) and counts_for_level(g.data, level)
        ]
        if len(failed) < params.failed_courses_limit:
            continue
        decided_on = failed[params.failed_courses_limit - 1].on
        found.append(
            Block(
                school_year=year,
                failed=tuple(g.data.course or g.class_id or g.event_id for g in failed),
                decided_on=decided_on,
                level=level,
                term=following_semester(config, decided_on),
            )
        )
    return found


def block_facts(block: Block, params: FailureToThriveParams) -> dict[str, FactValue]:
    term = block.term
    return {
        "school_year": block.label,
        "school_year_start": block.school_year.isoformat(),
        "failed_courses": list(block.failed),
        "failed_courses_count": len(block.failed),
        "failed_courses_limit": params.failed_courses_limit,
        "course_level": block.level,
        "counted_courses": "core" if block.level == "middle" else "credit-bearing",
        "limit_reached_on": block.decided_on.isoformat(),
        "blocked_term_id": term.id if term else None,
        "blocked_term_start": term.start.isoformat() if term else None,
        "blocked_term_end": term.end.isoformat() if term else None,
    }


def block_deadlines(block: Block) -> dict[str, date]:
    """``block_start``/``block_end``: no catalogue deadline name fits the dates of a blocked semester."""
    if block.term is None:
        return {}
    return {"block_start": block.term.start, "block_end": block.term.end}


@dataclass(frozen=True)
class FailureToThrive(AnswersInputs):
    """Tell the student, family and counselor once per school year that the next semester is blocked."""

    scope: ClassVar[Scope] = "student"
    runs_after_end: ClassVar[bool] = True  # final grades come after courses end

    params: FailureToThriveParams
    rule_ids: tuple[str, ...] = RULE_IDS

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Source: "will not be allowed to take online classes the following semester"; once a year.

        A block whose semester has already ended (a catch-up over a long outage, a replay of old
        grades) is recorded as skipped: telling a family about a past semester helps no one.
        """
        decisions: list[Decision] = []
        for block in blocks(state, day, ctx.config, self.params):
            if fired_on(state, FAILURE_TO_THRIVE, block.label) is not None:
                continue
            over = block.term is not None and block.term.end < day
            decisions.append(
                Decision(
                    rule_id=FAILURE_TO_THRIVE,
                    kind="skipped" if over else "notice",
                    episode=block.label,
                    on=day,
                    due_on=block.decided_on + timedelta(days=1),  # first evaluation seeing it
                    policy_version=ctx.policy_version,
                    recipients=() if over else ("student", "guardians", "counselor"),
                    deadlines={} if over else block_deadlines(block),
                    facts={**block_facts(block, self.params), "outcome": "blocked"},
                    reason=BLOCK_OVER if over else None,
                )
            )
        return decisions


def params_of(config: ProgramConfig) -> FailureToThriveParams:
    return validated(FailureToThriveParams, merged_params(config.rules, RULE_IDS), FAILURE_TO_THRIVE)


def build(config: ProgramConfig) -> list[RuleFamily]:
    if FAILURE_TO_THRIVE not in config.rules:
        return []
    if not config.calendar.school_year_start:
        # Without school years the "year" of a grade is unknown and the rule would never apply.
        raise ValueError(f"{FAILURE_TO_THRIVE} needs calendar.school_year_start (the first day of each year)")
    return [FailureToThrive(params=params_of(config))]


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
)
