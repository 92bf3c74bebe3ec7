"""The evaluation of one program day, the same for the deployed evaluator and ``onpace replay``.

A store hands out the subjects (enrollments, and students for student-wide rules) whose wake
date has come, the engine decides, and the store records the evaluation: outbox and audit log
in DynamoDB, a list of decisions in memory. Only the store differs; the loop and the engine are
this code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, NamedTuple, Protocol, TypeVar

from onpace_rules.decisions import Evaluation
from onpace_rules.engine import CompiledProgram, evaluate_enrollment
from onpace_rules.facts import EnrollmentState

RefT = TypeVar("RefT")


class Subject(NamedTuple, Generic[RefT]):
    """What the engine evaluates (``state``) and the store's handle to write it back (``ref``)."""

    state: EnrollmentState
    ref: RefT


@dataclass(frozen=True)
class CalendarChangeApplied:
    """A calendar change (school days closed or opened) that this day's evaluation applied first."""

    announced: date
    applies_from: date
    closed: tuple[date, ...]
    opened: tuple[date, ...]
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "announced": self.announced.isoformat(),
            "applies_from": self.applies_from.isoformat(),
            "closed": [d.isoformat() for d in self.closed],
            "opened": [d.isoformat() for d in self.opened],
            "reason": self.reason,
        }


@dataclass
class DaySummary:
    program_key: str
    day: date
    enrollments_evaluated: int = 0
    recorded: Counter[tuple[str, str]] = field(default_factory=Counter)  # (rule id, kind) -> count
    already_recorded: int = 0
    # Subjects whose evaluation or its writes failed (retried alone by the deployed evaluator).
    failed: int = 0
    # Set by a store that records calendar changes (the deployed one audits them, once).
    calendar_changes: tuple[CalendarChangeApplied, ...] = ()

    def as_dict(self) -> dict[str, object]:
        summary: dict[str, object] = {
            "program": self.program_key,
            "day": self.day.isoformat(),
            "enrollments_evaluated": self.enrollments_evaluated,
            "recorded": [{"rule": r, "kind": k, "count": n} for (r, k), n in sorted(self.recorded.items())],
            "already_recorded": self.already_recorded,
        }
        # Only when there is one, so that every other day's summary keeps its shape.
        if self.failed:
            summary["failed"] = self.failed
        if self.calendar_changes:
            summary["calendar_changes"] = [c.as_dict() for c in self.calendar_changes]
        return summary


class EvaluationStore(Protocol[RefT]):
    def due(self, program: CompiledProgram, day: date) -> Iterable[Subject[RefT]]:
        """Subjects of ``program`` whose wake date is on or before ``day``."""
        ...

    def record(
        self,
        program: CompiledProgram,
        subject: Subject[RefT],
        evaluation: Evaluation,
        day: date,
        now: datetime,
        summary: DaySummary,
    ) -> None:
        """Record decisions exactly once, the new status, ``checked_through`` and the next wake date."""
        ...


def evaluate_day(
    store: EvaluationStore[RefT],
    program: CompiledProgram,
    day: date,
    now: datetime,
    on_error: Callable[[Subject[RefT], Exception], None] | None = None,
) -> DaySummary:
    """Evaluate every subject of ``program`` that may have something due on ``day``.

    Without ``on_error`` an exception ends the day (replay: a bug is a bug). The deployed
    evaluator passes one: a subject whose evaluation raises is handed to it (to be retried
    alone) and the loop goes on with the others.
    """
    summary = DaySummary(program_key=program.config.key, day=day)
    if on_error is None:
        for subject in store.due(program, day):
            summary.enrollments_evaluated += 1
            evaluation = evaluate_enrollment(program, subject.state, day)
            store.record(program, subject, evaluation, day, now, summary)
        return summary
    for subject in store.due(program, day):
        summary.enrollments_evaluated += 1
        try:
            evaluation = evaluate_enrollment(program, subject.state, day)
            store.record(program, subject, evaluation, day, now, summary)
        except Exception as exc:  # isolation: one subject's failure is its own
            on_error(subject, exc)
    return summary
