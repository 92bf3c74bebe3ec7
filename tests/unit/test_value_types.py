"""The domain's value types are plain frozen dataclasses (issue 9, item 10): no generated code,
no writes into a frozen instance; the in-memory store moves its own records forward and hands
out states that stay as they were."""

from __future__ import annotations

import ast
from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from onpace_core.evaluation.day import evaluate_day
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.service import ingest_events
from onpace_core.store.memory import MemoryStore
from onpace_core.store.memory_ingest import EvaluationIngestStore
from onpace_rules.decisions import Decision, Evaluation
from onpace_rules.facts import EnrollmentState, RosterFacts, inputs_with
from onpace_rules.rules import ladder
from onpace_rules.rules.clock import Clock

from tests.unit.rules_helpers import make_input, program

RULES_LAYER = Path(__file__).resolve().parents[2] / "layers" / "rules" / "onpace_rules"
D = date(2026, 9, 1)
KEY = "d1#c1#s1"


def _calls(path: Path) -> list[str]:
    """What the module calls that makes code or writes past a frozen dataclass: ``exec``,
    ``eval``, ``compile``, ``object.__setattr__`` and a descriptor's ``__set__``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in {"exec", "eval", "compile"}:
            found.append(f"{path.name}:{node.lineno} {func.id}")
        elif isinstance(func, ast.Attribute) and func.attr in {"__setattr__", "__set__"}:
            found.append(f"{path.name}:{node.lineno} {func.attr}")
    return found


def test_only_the_perf_module_generates_code_or_writes_into_a_frozen_instance() -> None:
    """``perf.py`` holds the one trick the benchmark shows is needed (README, "Benchmarks")."""
    modules = sorted(RULES_LAYER.rglob("*.py"))
    assert len(modules) > 30
    assert [c for m in modules if m.name != "perf.py" for c in _calls(m)] == []
    assert _calls(RULES_LAYER / "perf.py")  # the check sees it there


def test_the_trick_is_applied_only_to_the_values_made_on_every_evaluation() -> None:
    sources = {m.name: m.read_text(encoding="utf-8") for m in sorted(RULES_LAYER.rglob("*.py"))}
    users = sorted(name for name, text in sources.items() if "@direct_init" in text)
    assert users == ["decisions.py"]
    assert sources["decisions.py"].count("@direct_init") == 2  # Decision, Evaluation


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    source = 'exec("x = 1")\nobject.__setattr__(a, "b", 1)\nsetter.__set__(a, 1)\n'
    sample.write_text(source, encoding="utf-8")
    assert _calls(sample) == ["sample.py:1 exec", "sample.py:2 __setattr__", "sample.py:3 __set__"]


@pytest.mark.parametrize(
    "value",
    [
        Decision("r", "notice", "e", D, D, "v"),
        Evaluation((), "active", None),
        EnrollmentState(key=KEY, start_date=D),
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_are_frozen_and_copied_with_replace(value: object) -> None:
    name = next(iter(value.__dataclass_fields__))  # type: ignore[attr-defined]
    with pytest.raises(FrozenInstanceError):
        setattr(value, name, getattr(value, name))
    assert replace(value) == value  # type: ignore[type-var]


def test_a_clock_is_a_plain_frozen_value() -> None:
    compiled = program({})
    clock = Clock(compiled.calendar, "calendar")
    with pytest.raises(FrozenInstanceError):
        clock.unit = "school"  # type: ignore[misc]
    assert clock.add(D, 3) == date(2026, 9, 4)


def test_a_state_records_a_day_as_a_new_value() -> None:
    state = EnrollmentState(key=KEY, start_date=D)
    decision = Decision("r", "notice", "e", D, D, "v", end_date_after=date(2026, 12, 30))
    after = state.recorded((decision,), D)
    assert (after.fired, after.checked_through, after.end_date, after.status) == (
        {"r#e": D},
        D,
        date(2026, 12, 30),
        "active",
    )
    assert (state.fired, state.checked_through, state.end_date) == ({}, None, None)


def test_recording_a_day_keeps_every_other_field() -> None:
    """``recorded`` builds the new state field by field: none may be left behind."""
    state = _full_state()
    day = date(2026, 9, 2)
    expected = replace(state, status="active", checked_through=day, held=None)
    assert state.recorded((), day, "active", None) == expected


def test_inputs_are_kept_in_date_order_each_event_once() -> None:
    late = make_input("accommodation", date(2026, 9, 5), None, "c1")
    early = make_input("accommodation", date(2026, 9, 2), None, "c1")
    inputs = inputs_with(inputs_with((), late), early)
    assert [i.on for i in inputs] == [date(2026, 9, 2), date(2026, 9, 5)]
    assert inputs_with(inputs, early) is inputs


def _full_state() -> EnrollmentState:
    """A state with no field at its default."""
    held = Decision("r", "action", "e", D, D, "v", status_after="dropped")
    state = EnrollmentState(
        key=KEY,
        start_date=D,
        status="held",
        term_id="t",
        last_on={"submission": D},
        percent_complete=0.5,
        fired={"x#1": D},
        checked_through=D,
        end_date=date(2026, 12, 18),
        student_id="s1",
        class_id="c1",
        scope="student",
        inputs=(make_input("accommodation", D, None, "c1"),),
        roster=RosterFacts(grade_level="10"),
        held=held,
        history_on={"submission": [D]},
        family_unwarned=True,
    )
    assert all(getattr(state, f.name) != f.default for f in fields(EnrollmentState))
    return state


def test_the_memory_store_builds_the_state_it_was_given() -> None:
    """The store builds states slot by slot (``memory.py``, "Building states"): every field."""
    state = _full_state()
    store = MemoryStore()
    store.add(state)
    assert store.subjects[KEY].state == state


def test_the_memory_store_hands_out_states_that_stay_as_they_were() -> None:
    """The store moves its own record of a subject forward; a state it gave out before an
    evaluation is not changed by recording that evaluation."""
    compiled = program({ladder.STEP1: {"withdraw_period_days": 0}})
    store = MemoryStore()
    store.add(EnrollmentState(key=KEY, start_date=D, student_id="s1", class_id="c1"))
    port = EvaluationIngestStore.over(store, compiled)
    before = store.subjects[KEY].state
    evaluate_day(store, compiled, D, datetime(2026, 9, 1, 12, tzinfo=UTC))
    progress = LmsEvent(
        event_id="p1",
        source="test",
        occurred_at=datetime(2026, 9, 1, 20, tzinfo=UTC),
        student=(Ref("sourcedId", "s1"),),
        course=(Ref("sourcedId", "c1"),),
        kind="progress",
        percent_complete=25.0,
    )
    ingest_events(
        district_id="d1", source="test", events=[progress], now=progress.occurred_at, ttl_days=1, store=port
    )
    after = store.subjects[KEY].state
    assert (before.checked_through, before.percent_complete) == (None, None)
    assert (after.checked_through, after.percent_complete) == (D, 0.25)
    assert after is store.subjects[KEY].state  # built once, until something changes
