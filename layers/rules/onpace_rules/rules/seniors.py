"""CPS Online seniors' spring deadline: a senior's spring enrollment ends on the seniors' last day.

Source: shared/seeds/000_bc3aac7a290565fd.txt — "In the Spring semester, seniors are expected to
complete all online coursework by the same last day of attendance for seniors in seat." Catalogue
section 1: ``cps.seniors.spring_deadline`` — "all deadlines of a senior's spring enrollments use
that date".

It is a state adjuster, not a family: it moves the enrollment's end date before any family looks
at it, so every time-driven rule stops after that day (the engine runs only ``runs_after_end``
families past the end date) and every rule that reads the end date uses it. It addresses no one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict

from onpace_rules.context import RuleContext
from onpace_rules.facts import EnrollmentState
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import RuleFamily, RuleModule
from onpace_rules.rules.helpers import merged_params, validated

SPRING_DEADLINE = "cps.seniors.spring_deadline"
RULE_IDS = (SPRING_DEADLINE,)
TITLES = {SPRING_DEADLINE: "Seniors' spring courses end on the seniors' last day of attendance"}

SENIOR_GRADE = "12"


def is_senior(grade_level: str | None) -> bool:
    """OneRoster grade "12" (also written "012" or " 12 ")."""
    return grade_level is not None and grade_level.strip().lstrip("0") == SENIOR_GRADE


class _NoParams(BaseModel):
    """The dates come from the calendar (``Term.seniors_last_day``); the rule takes no parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class SeniorsSpringDeadline:
    rule_id: str = SPRING_DEADLINE

    def adjust(self, state: EnrollmentState, ctx: RuleContext) -> EnrollmentState:
        """A senior's spring enrollment ends no later than the term's ``seniors_last_day``."""
        if state.scope != "enrollment" or not is_senior(state.roster.grade_level):
            return state
        term = ctx.config.enrollment_term(state.term_id, state.start_date)
        if term is None or term.season != "spring" or term.seniors_last_day is None:
            return state
        last = term.seniors_last_day
        if state.end_date is not None and state.end_date <= last:
            return state
        return replace(state, end_date=last)


def build(config: ProgramConfig) -> list[RuleFamily]:
    return []  # no family: the adjuster does the work


def build_adjusters(config: ProgramConfig) -> list[SeniorsSpringDeadline]:
    if SPRING_DEADLINE not in config.rules:
        return []
    validated(_NoParams, merged_params(config.rules, RULE_IDS), SPRING_DEADLINE)
    return [SeniorsSpringDeadline()]


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    build_adjusters=build_adjusters,
    silent=frozenset(RULE_IDS),
)
