"""Build programs and run the engine day by day, the way the evaluator does, in memory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
from onpace_rules import Decision, EnrollmentState, ProgramConfig, compile_program, evaluate_enrollment
from onpace_rules.engine import CompiledProgram, apply_evaluation
from onpace_rules.inputs import Input


def program(
    rules: Mapping[str, Mapping[str, Any]], *, settings: Mapping[str, Any] | None = None, **calendar: Any
) -> CompiledProgram:
    """A test program; ``settings`` adds other ProgramConfig fields (versions, approvals, …)."""
    return compile_program(
        ProgramConfig(
            district_id="d1",
            program_id="p1",
            name="Test program",
            time_zone="America/Chicago",
            policy_version="test-1",
            source="test",
            calendar=calendar,
            rules={k: dict(v) for k, v in rules.items()},
            **dict(settings or {}),
        )
    )


def run(
    compiled: CompiledProgram,
    state: EnrollmentState,
    first: date,
    last: date,
    *,
    activity: Callable[[EnrollmentState, date], EnrollmentState] | None = None,
    skip: frozenset[date] = frozenset(),
    use_wake: bool = True,
) -> list[Decision]:
    """Evaluate every day first..last; ``activity`` adds what happened on each day (seen from the next).

    With ``use_wake`` the enrollment is only evaluated on its wake dates, as the deployed
    evaluator's due-index query does; days in ``skip`` are outage days.
    """
    decisions: list[Decision] = []
    wake: date | None = first
    day = first
    while day <= last:
        if (
            day not in skip
            and state.status in ("active", "held")
            and (not use_wake or (wake is not None and wake <= day))
        ):
            evaluation = evaluate_enrollment(compiled, state, day)
            decisions.extend(evaluation.decisions)
            state = apply_evaluation(state, evaluation, day)
            wake = evaluation.wake_on
        if activity is not None:
            before, seen = state.inputs, state.last_on
            state = activity(state, day)
            if state.inputs != before:
                # A new input wakes the enrollment the day after, as the stores do.
                woken = day + timedelta(days=1)
                wake = woken if wake is None else min(wake, woken)
            for kind, on in state.last_on.items():
                if seen.get(kind) == on:
                    continue
                # Activity of a kind a rule wakes on brings the wake date forward, as the stores
                # do; nothing moves it later.
                days = compiled.activity_wake_days.get(kind)
                if days is not None:
                    woken = on + timedelta(days=days)
                    wake = woken if wake is None else min(wake, woken)
        day += timedelta(days=1)
    return decisions


def with_activity(state: EnrollmentState, kind: str, on: date) -> EnrollmentState:
    return replace(state, last_on={**state.last_on, kind: on})  # type: ignore[dict-item]


def summary(decisions: list[Decision]) -> list[tuple[str, str, str, dict[str, str]]]:
    return [
        (d.on.isoformat(), d.rule_id, d.kind, {k: v.isoformat() for k, v in d.deadlines.items()})
        for d in decisions
    ]


_input_ids = count()


def make_input(
    kind: str,
    on: date,
    data: Any,
    class_id: str | None = None,
    *,
    event_id: str | None = None,
    hour: int = 15,
) -> Input:
    """A non-activity input dated ``on`` (at ``hour`` UTC), with a fresh event id unless given."""
    return Input(
        event_id=event_id or f"ev-{next(_input_ids)}",
        kind=kind,  # type: ignore[arg-type]
        on=on,
        at=datetime(on.year, on.month, on.day, hour, tzinfo=UTC),
        data=data,
        class_id=class_id,
    )


def roster_record(
    student: str,
    class_id: str,
    start: date,
    end: date | None = None,
    *,
    district: str = "d1",
    program_id: str = "p1",
) -> EnrollmentRecord:
    """One roster enrollment of the test program, as ``onpace replay`` reads it from OneRoster."""
    return EnrollmentRecord(
        district_id=district,
        program_id=program_id,
        class_id=class_id,
        class_title=f"Course {class_id}",
        student_id=student,
        student_name=f"Student {student}",
        term_id=None,
        start_date=start,
        end_date=end,
        contacts=(
            ContactRecord("student", f"{student}@example.org", None, "en"),
            ContactRecord("guardian", f"parent.{student}@home.example", None, "en"),
        ),
    )


def replay_keeping_store(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """``onpace_local.replay.replay(*args, **kwargs)`` and the in-memory store it evaluated, to
    look at the facts the replay ended with."""
    from unittest.mock import patch

    from onpace_local import replay as replay_module

    stores: list[Any] = []
    real_load = replay_module.load_store

    def load_store(*a: Any, **k: Any) -> Any:
        stores.append(real_load(*a, **k))
        return stores[-1]

    with patch.object(replay_module, "load_store", load_store):
        result = replay_module.replay(*args, **kwargs)
    (store,) = stores
    return result, store
