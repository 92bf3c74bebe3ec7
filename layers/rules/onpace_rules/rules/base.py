"""What every rule family offers the engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import Decision
from onpace_rules.facts import EnrollmentState
from onpace_rules.program import ProgramConfig

SUPERSEDED = "superseded"


@dataclass(frozen=True)
class RuleContext:
    """The program-wide inputs a rule family needs, built once per program."""

    config: ProgramConfig
    calendar: ProgramCalendar

    @property
    def policy_version(self) -> str:
        return self.config.policy_version


class RuleFamily(Protocol):
    """A series of rule ids evaluated together (warnings before an action, a ladder of steps)."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The rule ids of this family, in the order their dates fall."""
        ...

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Decisions due on ``day`` for this enrollment (empty when nothing is due)."""
        ...

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        """Earliest day after ``day`` on which ``decide`` could return something, facts unchanged.

        New activity only moves these dates later, so a stored wake date stays a safe lower bound
        until the evaluator looks again.
        """
        ...


def fired_on(state: EnrollmentState, rule_id: str, episode: str) -> date | None:
    return state.fired.get(f"{rule_id}#{episode}")
