"""Replay's ingest: events go through the ingest service into the in-memory evaluation store.

``EvaluationIngestStore`` is the ingest port over ``MemoryStore``: the service folds each event
(``facts.fold``) and the store reads the folded facts on the program's calendar, with the wake
dates the deployed ingest gives (forward only; an evaluation sets the next one).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from onpace_core.evaluation.day import evaluate_day
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.service import IngestReport, ingest_events
from onpace_core.store.memory import MemoryStore
from onpace_core.store.memory_ingest import EvaluationIngestStore
from onpace_rules import EnrollmentState
from onpace_rules.engine import CompiledProgram
from onpace_rules.inputs import Accommodation
from onpace_rules.rules import ladder

from tests.unit.rules_helpers import program

D = date(2026, 9, 1)  # a Tuesday
KEY = "d1#c1#s1"
CHICAGO = ZoneInfo("America/Chicago")


def _msc(key: str = KEY, class_id: str = "c1") -> EnrollmentState:
    return EnrollmentState(
        key=key, start_date=D, student_id="s1", class_id=class_id, end_date=date(2026, 12, 18)
    )


def _evaluated_on_day_1() -> tuple[MemoryStore, EvaluationIngestStore, CompiledProgram]:
    compiled = program({ladder.STEP1: {"withdraw_period_days": 0}, ladder.STEP2: {}})
    store = MemoryStore()
    store.add(_msc())
    port = EvaluationIngestStore.over(store, compiled)
    evaluate_day(store, compiled, D, datetime(2026, 9, 1, 12, tzinfo=UTC))
    return store, port, compiled


def _event(event_id: str, at: datetime, kind: str | None, **extra: object) -> LmsEvent:
    course = extra.pop("course", (Ref("sourcedId", "c1"),))
    return LmsEvent(
        event_id=event_id,
        source="test",
        occurred_at=at,
        student=(Ref("sourcedId", str(extra.pop("student", "s1"))),),
        course=course,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        digest=event_id,
        **extra,  # type: ignore[arg-type]
    )


def _ingest(port: EvaluationIngestStore, *events: LmsEvent) -> IngestReport:
    now = datetime(2026, 9, 10, tzinfo=UTC)
    return ingest_events(district_id="d1", source="test", events=events, now=now, ttl_days=1, store=port)


def test_activity_is_read_on_the_programs_calendar() -> None:
    store, port, _ = _evaluated_on_day_1()
    # 01:00 UTC on 09-03 is still 09-02 in Chicago.
    _ingest(port, _event("e1", datetime(2026, 9, 3, 1, tzinfo=UTC), "submission", percent_complete=40.0))
    state = store.subjects[KEY].state
    assert state.last_on == {"submission": date(2026, 9, 2)}
    assert state.percent_complete == pytest.approx(0.4)


def test_activity_never_moves_the_wake_date_later() -> None:
    store, port, compiled = _evaluated_on_day_1()
    assert store.subjects[KEY].wake == date(2026, 9, 4)
    _ingest(port, _event("e1", datetime(2026, 9, 2, 15, tzinfo=CHICAGO), "submission"))
    # The submission ends the lapse, but as deployed the enrollment is still looked at on 09-04.
    assert store.subjects[KEY].wake == date(2026, 9, 4)
    assert [s.ref for s in store.due(compiled, date(2026, 9, 4))] == [KEY]


def test_an_input_brings_the_wake_date_forward() -> None:
    store, port, _ = _evaluated_on_day_1()
    data = Accommodation(plan="medical", start=date(2026, 9, 2), end=date(2026, 9, 9))
    _ingest(port, _event("a1", datetime(2026, 9, 2, 15, tzinfo=CHICAGO), "accommodation", data=data))
    (item,) = store.subjects[KEY].state.inputs
    assert (item.kind, item.on) == ("accommodation", date(2026, 9, 2))
    # Ingest does not know the zone: the input's UTC date, never later than the first look that sees it.
    assert store.subjects[KEY].wake == date(2026, 9, 2)


def test_a_void_takes_back_what_the_voided_event_set() -> None:
    store, port, _ = _evaluated_on_day_1()
    _ingest(
        port,
        _event("e1", datetime(2026, 9, 2, 15, tzinfo=CHICAGO), "submission"),
        _event("e2", datetime(2026, 9, 3, 15, tzinfo=CHICAGO), "submission"),
    )
    assert store.subjects[KEY].state.last_on["submission"] == date(2026, 9, 3)
    report = _ingest(port, _event("v1", datetime(2026, 9, 4, 15, tzinfo=CHICAGO), None, voids="e2"))
    assert report.voided == 1
    assert store.subjects[KEY].state.last_on["submission"] == date(2026, 9, 2)


def test_a_log_in_counts_for_every_live_enrollment_of_the_student() -> None:
    compiled = program({ladder.STEP1: {"withdraw_period_days": 0}})
    store = MemoryStore()
    store.add(_msc())
    store.add(_msc("d1#c2#s1", "c2"))
    port = EvaluationIngestStore.over(store, compiled)
    _ingest(port, _event("l1", datetime(2026, 9, 2, 15, tzinfo=CHICAGO), "login", course=()))
    assert all(store.subjects[k].state.last_on == {"login": date(2026, 9, 2)} for k in store.subjects)


def test_an_event_for_an_unknown_student_is_kept_and_changes_nothing() -> None:
    store, port, _ = _evaluated_on_day_1()
    report = _ingest(port, _event("x1", datetime(2026, 9, 2, 15, tzinfo=CHICAGO), "submission", student="s9"))
    assert [u["event_id"] for u in report.unmatched] == ["x1"]
    assert [r.event_id for r in port.unmatched("d1")] == ["x1"]
    assert store.subjects[KEY].state.last_on == {}


def test_a_subject_is_added_once() -> None:
    store, _, _ = _evaluated_on_day_1()
    with pytest.raises(ValueError, match="already in the store"):
        store.add(_msc())
