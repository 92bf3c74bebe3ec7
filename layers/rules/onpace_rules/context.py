"""What the engine gives every rule family on an evaluation day: the policy version and calendar
in force, and a way to the other days' (``RuleContext``).

The compiled program is seen only through ``ProgramDays``, the one thing a context asks of it, so
that the rule families never import the engine that runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.program import ProgramConfig


class ProgramDays(Protocol):
    """What a context needs of the program it belongs to (``engine.CompiledProgram``)."""

    def context_on(self, day: date) -> RuleContext:
        """The context of the evaluation of ``day``: its policy version and calendar."""
        ...


@dataclass(frozen=True)
class RuleContext:
    """The program-wide inputs of one evaluation day: the policy version and calendar in force.

    ``config`` is the program as the version in force on the day has it (its ``policy_version``
    is that version's label); ``program`` gives the other days' contexts, for a rule whose value
    is looked up by another date (a fee by the day it applies to, SAP by the term's end). Without
    one (a context made by hand for a single day), every day's context is this one.
    """

    config: ProgramConfig
    calendar: ProgramCalendar
    program: ProgramDays | None = None

    @property
    def policy_version(self) -> str:
        return self.config.policy_version

    def on(self, day: date) -> RuleContext:
        """The context of another day (its policy version and calendar)."""
        if self.program is None:
            return self
        return self.program.context_on(day)

    def params_on(self, rule_id: str, day: date) -> dict[str, Any]:
        """The parameter overrides of ``rule_id`` in the policy version in force on ``day``."""
        return dict(self.on(day).config.rules.get(rule_id) or {})
