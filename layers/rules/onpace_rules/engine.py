"""Evaluate one enrollment on one day: run each rule family, apply the catalogue's conventions.

Conventions (policies.md): the evaluation of D sees activity dated before D and dates its
decisions D; a notice goes at most once per (enrollment, rule id, episode); an action ends the
enrollment and stops its other rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import Decision, Evaluation
from onpace_rules.facts import EnrollmentState
from onpace_rules.program import ProgramConfig
from onpace_rules.registry import build_families
from onpace_rules.rules.base import RuleContext, RuleFamily


@dataclass(frozen=True)
class CompiledProgram:
    """A validated program with its calendar and rule families, built once and reused."""

    config: ProgramConfig
    calendar: ProgramCalendar
    families: tuple[RuleFamily, ...]

    @property
    def context(self) -> RuleContext:
        return RuleContext(config=self.config, calendar=self.calendar)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r for f in self.families for r in f.rule_ids if r in self.config.rules)


def compile_program(config: ProgramConfig) -> CompiledProgram:
    """Build the calendar and rule families of a program; raises on unknown rule ids."""
    return CompiledProgram(config=config, calendar=config.build_calendar(), families=build_families(config))


def evaluate_enrollment(program: CompiledProgram, state: EnrollmentState, day: date) -> Evaluation:
    """Everything due for ``state`` on ``day``, and the next day anything can be due.

    Runs each rule family in the program's order. If a family takes an action (drop,
    withdrawal, removal), only that family's decisions of the day stand: the action ends the
    enrollment, so other families' warnings of the same day would tell the family something
    that no longer applies.
    """
    if state.status != "active":
        return Evaluation(decisions=(), status=state.status, wake_on=None)
    ctx = program.context
    decisions: list[Decision] = []
    for family in program.families:
        found = list(family.decide(state, day, ctx))
        if any(d.kind == "action" for d in found):
            decisions = found
            break
        decisions.extend(found)

    action = next((d for d in decisions if d.kind == "action"), None)
    if action is not None and action.status_after is not None:
        return Evaluation(decisions=tuple(decisions), status=action.status_after, wake_on=None)

    after = apply_evaluation(state, Evaluation(tuple(decisions), state.status, None), day)
    wakes = [w for f in program.families if (w := f.next_wake(after, day, ctx)) is not None]
    return Evaluation(decisions=tuple(decisions), status=state.status, wake_on=min(wakes, default=None))


def apply_evaluation(state: EnrollmentState, evaluation: Evaluation, day: date) -> EnrollmentState:
    """The state the next evaluation sees, once ``evaluation`` has been recorded."""
    return replace(
        state,
        status=evaluation.status,
        fired={**state.fired, **{d.fired_key: day for d in evaluation.decisions}},
        checked_through=day,
    )
