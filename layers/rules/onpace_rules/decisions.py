"""What the engine decides: notices, actions and warnings skipped on catch-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from onpace_rules.facts import EnrollmentStatus

DecisionKind = Literal["notice", "action", "skipped"]
FactValue = str | int | float | bool | list[str] | None


@dataclass(frozen=True, slots=True)
class Decision:
    """One outcome of a rule for one enrollment on one evaluation day.

    ``on`` is the evaluation day (the date the notice carries); ``due_on`` the date the policy
    made it due, earlier than ``on`` only when the evaluator catches up after missed days.
    """

    rule_id: str
    kind: DecisionKind
    episode: str
    on: date
    due_on: date
    policy_version: str
    recipients: tuple[str, ...] = ()
    deadlines: Mapping[str, date] = field(default_factory=dict)
    facts: Mapping[str, FactValue] = field(default_factory=dict)
    status_after: EnrollmentStatus | None = None
    reason: str | None = None

    @property
    def fired_key(self) -> str:
        return f"{self.rule_id}#{self.episode}"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """All decisions for one enrollment on one day, and when it next needs looking at."""

    decisions: tuple[Decision, ...]
    status: EnrollmentStatus
    wake_on: date | None
    held: Decision | None = None  # the action awaiting approval, when status is "held"
