"""What the engine decides: notices, actions and warnings skipped on catch-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from onpace_rules.kinds import DecisionKind, EnrollmentStatus, FactValue
from onpace_rules.perf import direct_init


@direct_init  # one per decision (perf.py)
@dataclass(frozen=True, slots=True)
class Decision:
    """One outcome of a rule for one enrollment on one evaluation day.

    ``on`` is the evaluation day (the date the notice carries); ``due_on`` the date the policy
    made it due, earlier than ``on`` only when the evaluator catches up after missed days.
    ``end_date_after`` moves the enrollment's end date (a granted course extension): the rules
    that stop at the end date run until the new one.
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
    end_date_after: date | None = None

    @property
    def fired_key(self) -> str:
        return f"{self.rule_id}#{self.episode}"


@direct_init  # one per evaluation (perf.py)
@dataclass(frozen=True, slots=True)
class Evaluation:
    """All decisions for one enrollment on one day, and when it next needs looking at."""

    decisions: tuple[Decision, ...]
    status: EnrollmentStatus
    wake_on: date | None
    held: Decision | None = None  # the action awaiting approval, when status is "held"


def decision_to_dict(decision: Decision) -> dict[str, object]:
    """A JSON-able form of a decision (a held action is stored this way until it is approved)."""
    return {
        "rule_id": decision.rule_id,
        "kind": decision.kind,
        "episode": decision.episode,
        "on": decision.on.isoformat(),
        "due_on": decision.due_on.isoformat(),
        "policy_version": decision.policy_version,
        "recipients": list(decision.recipients),
        "deadlines": {k: v.isoformat() for k, v in decision.deadlines.items()},
        "facts": dict(decision.facts),
        "status_after": decision.status_after,
        "reason": decision.reason,
        "end_date_after": decision.end_date_after.isoformat() if decision.end_date_after else None,
    }


def decision_from_dict(data: Mapping[str, object]) -> Decision:
    deadlines = data.get("deadlines") or {}
    assert isinstance(deadlines, Mapping)
    return Decision(
        rule_id=str(data["rule_id"]),
        kind=data["kind"],  # type: ignore[arg-type]
        episode=str(data["episode"]),
        on=date.fromisoformat(str(data["on"])),
        due_on=date.fromisoformat(str(data["due_on"])),
        policy_version=str(data["policy_version"]),
        recipients=tuple(data.get("recipients") or ()),  # type: ignore[arg-type]
        deadlines={str(k): date.fromisoformat(str(v)) for k, v in deadlines.items()},
        facts=dict(data.get("facts") or {}),  # type: ignore[call-overload]
        status_after=data.get("status_after"),  # type: ignore[arg-type]
        reason=data.get("reason"),  # type: ignore[arg-type]
        end_date_after=_optional_date(data.get("end_date_after")),
    )


def _optional_date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None
