"""The ingest limits (issue 10, item 7) at and just beyond each boundary, through the shared checks
(``onpace_core.ingest.limits``) and the plain parser that uses them.

Each refusal is a ``LimitError`` or ``InvalidPayloadError`` with a 4xx ``status`` and a message
naming the problem; tests/integration/test_ingest_limits_http.py shows the same over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from annotated_types import MaxLen
from onpace_core.ingest.formats.plain import InvalidPayloadError, PlainActivityEvent, parse_plain_events
from onpace_core.ingest.limits import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_TEXT,
    LimitError,
    check_instant,
    check_text,
    decode_body,
    load_json,
)
from onpace_local.replay import read_event_file
from onpace_rules.input_files import InputFileError
from onpace_rules.inputs import INPUT_DATA, NAME_LENGTH, NOTE_LENGTH

NOW = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)


def _event(event_id: str = "e1", **overrides: Any) -> dict[str, Any]:
    body = {
        "event_id": event_id,
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "submission",
    }
    body.update(overrides)
    return body


def _approval(note: str) -> dict[str, Any]:
    return _event(
        "appr-1",
        kind="approval",
        data={"rule": "cps.pacing.ipr_drop", "decision": "approved", "by": "Dr. Lund", "note": note},
    )


def _refusal(body: Any, now: datetime | None = NOW) -> InvalidPayloadError:
    text = body if isinstance(body, str | bytes) else json.dumps(body)
    with pytest.raises(InvalidPayloadError) as caught:
        parse_plain_events(text, now=now)
    assert caught.value.status == 400
    return caught.value


def _problem(error: InvalidPayloadError, event: int | None, field: str) -> str:
    found = [p["problem"] for p in error.problems if p["event"] == event and p["field"] == field]
    assert found, error.problems
    return found[0]


def _limit(body: str | bytes, status: int = 400) -> LimitError:
    with pytest.raises(LimitError) as caught:
        parse_plain_events(body, now=NOW)
    assert caught.value.status == status
    return caught.value


# -- event times ------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.isoformat()


@pytest.mark.parametrize(
    "at",
    [
        NOW + timedelta(minutes=14, seconds=59),
        NOW + timedelta(minutes=15),
        datetime(2000, 1, 1, tzinfo=UTC),
        # The same instant written with an offset: the floor is UTC's.
        datetime.fromisoformat("1999-12-31T19:00:00-05:00"),
    ],
    ids=_iso,
)
def test_an_event_time_inside_the_limits_is_accepted(at: datetime) -> None:
    assert check_instant(at, NOW) == at
    (event,) = parse_plain_events(json.dumps(_event(occurred_at=at.isoformat())), now=NOW)
    assert event.occurred_at == at


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        ("2026-12-03T20:15:01+00:00", "more than 15 minutes in the future"),
        ("2026-12-03T14:15:01-06:00", "more than 15 minutes in the future"),
        ("2099-01-01T00:00:00+00:00", "more than 15 minutes in the future"),
        ("1999-12-31T23:59:59+00:00", "before the year 2000"),
        ("2000-01-01T00:59:59+01:00", "before the year 2000"),
        # Dates pydantic accepts but that have no UTC equivalent (today a 500 when folded).
        ("9999-12-31T23:30:00-01:00", "out of range"),
        ("0001-01-01T00:30:00+01:00", "out of range"),
    ],
)
def test_an_event_time_beyond_the_limits_is_400_naming_the_event_and_field(at: str, problem: str) -> None:
    error = _refusal([_event("fine"), _event("bad", occurred_at=at)])
    assert problem in _problem(error, 1, "occurred_at")
    assert at in _problem(error, 1, "occurred_at")
    assert "nothing was stored" in str(error)


def test_a_single_event_names_no_index() -> None:
    error = _refusal(_event(occurred_at="2099-01-01T00:00:00Z"))
    assert "OnPace's clock reads 2026-12-03T20:00:00+00:00" in _problem(error, None, "occurred_at")


def test_check_instant_refuses_a_time_without_offset_and_may_have_no_future_bound() -> None:
    with pytest.raises(LimitError, match="no UTC offset"):
        check_instant(datetime(2026, 9, 1, 10, 0), NOW)
    far = datetime(2099, 1, 1, tzinfo=UTC)
    assert check_instant(far, None) == far
    with pytest.raises(LimitError, match="before the year 2000"):
        check_instant(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), None)


def test_an_event_built_without_a_clock_still_has_the_floor_and_range() -> None:
    """Code that builds events itself (tests, the benchmark) gets every check but the future bound."""
    assert (
        PlainActivityEvent.model_validate(_event(occurred_at="2099-01-01T00:00:00Z")).occurred_at.year == 2099
    )
    for at in ("1999-12-31T23:59:59Z", "9999-12-31T23:30:00-01:00"):
        with pytest.raises(ValueError, match="occurred_at"):
            PlainActivityEvent.model_validate(_event(occurred_at=at))


# -- nesting ----------------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_at_the_limit_parses_and_one_more_level_is_refused() -> None:
    assert MAX_DEPTH == 32
    load_json(_nested(32))
    with pytest.raises(LimitError, match="nests deeper than 32 levels"):
        load_json(_nested(33))
    # Objects count like arrays; brackets inside strings do not.
    load_json('{"a":' * 32 + "1" + "}" * 32)
    with pytest.raises(LimitError, match="deeper"):
        load_json('{"a":' * 33 + "1" + "}" * 33)
    assert load_json(json.dumps({"note": "[[[[" * 40, "q": '\\"[[[' * 40})) == {
        "note": "[[[[" * 40,
        "q": '\\"[[[' * 40,
    }


def test_very_deep_nesting_is_400_not_a_recursion_error() -> None:
    """Today a RecursionError (a 500) in json.loads; now refused before parsing."""
    error = _limit(_nested(100_000))
    assert "nests deeper" in str(error)
    deep_data = json.dumps(_approval("x"))[:-2] + ', "extra": ' + _nested(40) + "}}"
    assert "nests deeper" in str(_limit(deep_data))


# -- text -------------------------------------------------------------------------------------


def test_an_id_at_its_length_is_accepted_and_one_character_more_refused() -> None:
    (event,) = parse_plain_events(json.dumps(_event("e" * NAME_LENGTH)), now=NOW)
    assert len(event.event_id) == 200
    error = _refusal(_event("e" * (NAME_LENGTH + 1)))
    assert "at most 200 characters" in _problem(error, None, "event_id")
    error = _refusal(_event(student="s" * 201))
    assert "at most 200" in _problem(error, None, "student")


def test_a_note_at_its_length_is_accepted_and_one_character_more_refused() -> None:
    assert NOTE_LENGTH == MAX_TEXT == 2_000
    (event,) = parse_plain_events(json.dumps(_approval("n" * NOTE_LENGTH)), now=NOW)
    assert len(event.input_data.note) == NOTE_LENGTH
    error = _refusal(_approval("n" * (NOTE_LENGTH + 1)))
    assert "at most 2000 characters" in _problem(error, None, "data.note")


def test_a_one_megabyte_note_is_400_naming_data_note() -> None:
    """Today a 500 that fails every retry (the item is larger than DynamoDB takes)."""
    error = _refusal([_event("fine"), _approval("n" * 1_000_000)])
    assert _problem(error, 1, "data.note") == "String should have at most 2000 characters"
    # The answer does not echo the note.
    assert len(json.dumps(error.problems)) < 1_000


def test_an_unknown_kind_of_any_length_is_refused_without_echoing_it() -> None:
    error = _refusal(_event(kind="k" * 1_000_000))
    assert "at most 40 characters" in _problem(error, None, "kind")
    assert len(json.dumps(error.problems)) < 1_000


def _max_length(model: type, name: str) -> int | None:
    field = model.model_fields[name]  # type: ignore[attr-defined]
    return next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)


@pytest.mark.parametrize("kind", sorted(INPUT_DATA))
def test_every_text_field_of_every_input_has_a_stated_length(kind: str) -> None:
    model = INPUT_DATA[kind]
    for name, field in model.model_fields.items():
        if "str" in str(field.annotation) and "Literal" not in str(field.annotation):
            assert _max_length(model, name) in (4, NAME_LENGTH, NOTE_LENGTH), f"{kind}.{name}"


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("application_decision", {"decision": "denied", "by": "x", "reason": "r" * 2001}, "data.reason"),
        ("approval", {"rule": "r" * 201, "decision": "approved", "by": "x"}, "data.rule"),
        ("instructor_contact", {"by": "b" * 201, "method": "phone"}, "data.by"),
        ("final_grade", {"grade": "F", "term": "t" * 201}, "data.term"),
        ("disenrollment", {"school": "s" * 201}, "data.school"),
    ],
)
def test_input_text_over_its_length_names_the_field(kind: str, data: dict[str, Any], field: str) -> None:
    error = _refusal(_event(kind=kind, data=data))
    assert "at most" in _problem(error, None, field)


def test_check_text() -> None:
    assert check_text("x" * MAX_TEXT, "data.note") == "x" * MAX_TEXT
    with pytest.raises(LimitError, match=r"data\.note is 2001 characters; at most 2000"):
        check_text("x" * (MAX_TEXT + 1), "data.note")


# -- dates inside input data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("accommodation", {"plan": "iep", "start": "2026-09-01", "end": "9999-12-31"}, "data.end"),
        ("accommodation", {"plan": "504", "start": "0001-01-01", "end": "2026-09-01"}, "data.start"),
        (
            "graded_work",
            {"work": "assignment", "work_id": "a1", "due_at": "9999-12-31T23:30:00-01:00"},
            "data.due_at",
        ),
    ],
)
def test_a_date_in_data_that_evaluation_cannot_convert_is_refused(
    kind: str, data: dict[str, Any], field: str
) -> None:
    error = _refusal(_event(kind=kind, data=data))
    assert "between the years 2000 and 2100" in _problem(error, None, field)


def test_a_date_in_data_may_lie_ahead() -> None:
    """An accommodation's end is a policy date, not an event time: months ahead is normal."""
    data = {"plan": "iep", "start": "2026-09-01", "end": "2027-06-30"}
    (event,) = parse_plain_events(json.dumps(_event(kind="accommodation", data=data)), now=NOW)
    assert event.input_data.end.year == 2027


# -- the body ---------------------------------------------------------------------------------


def test_a_body_at_the_size_limit_is_read_and_one_byte_more_is_413() -> None:
    assert decode_body(b" " * MAX_BODY_BYTES) == " " * MAX_BODY_BYTES
    error = _limit(b" " * (MAX_BODY_BYTES + 1), status=413)
    assert f"{MAX_BODY_BYTES + 1} bytes; at most {MAX_BODY_BYTES}" in str(error)
    # A text body is measured in UTF-8 bytes, not characters.
    with pytest.raises(LimitError) as caught:
        decode_body("é" * (MAX_BODY_BYTES // 2 + 1))
    assert caught.value.status == 413


def test_a_body_over_ten_megabytes_of_events_is_413() -> None:
    event = json.dumps(_event("e" * 190))
    body = "[" + ",".join([event] * (MAX_BODY_BYTES // len(event) + 1)) + "]"
    assert len(body.encode()) > MAX_BODY_BYTES
    assert _limit(body, status=413).status == 413


def test_cp1252_bytes_are_400_not_utf8() -> None:
    """Today a 500 (before the signature check); now a 400 that says where."""
    body = json.dumps(_event(student="José"), ensure_ascii=False).encode("cp1252")
    error = _limit(body)
    assert "not UTF-8" in str(error) and f"byte {body.index(0xE9)}" in str(error)
    # The same text in UTF-8 is fine.
    (event,) = parse_plain_events(json.dumps(_event(student="José"), ensure_ascii=False).encode(), now=NOW)
    assert event.student == "José"


def test_text_that_is_not_utf8_is_refused_too() -> None:
    """A body handed over as text may still hold a lone surrogate (bytes decoded leniently)."""
    with pytest.raises(LimitError, match="not UTF-8"):
        decode_body('{"student": "\udce9"}')


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('{"event_id": "\\ud800"}', "lone UTF-16 surrogate"),
        ('{"event_id": "x", "percent_complete": ' + "1" * 5000 + "}", "number OnPace cannot read"),
        ("{not json", "not JSON"),
        ("", "not JSON"),
    ],
)
def test_json_that_cannot_be_stored_is_refused(body: str, problem: str) -> None:
    assert problem in str(_limit(body))


def test_a_surrogate_pair_is_text() -> None:
    (event,) = parse_plain_events(json.dumps(_event(student="stu-\U0001f600")), now=NOW)
    assert event.student == "stu-😀"
    event.to_lms_event()  # digested and serialized without error


# -- replay of files --------------------------------------------------------------------------


def test_replay_files_have_the_limits_but_no_future_bound(tmp_path: Path) -> None:
    """A practice run may hold a term still to come; the year-2000 floor and the lengths still hold."""
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(_event(occurred_at="2099-01-05T10:00:00-06:00")) + "\n", encoding="utf-8")
    ((_, event),) = list(read_event_file(path))
    assert event.occurred_at.year == 2099
    path.write_text(
        json.dumps(_event()) + "\n" + json.dumps(_event("e2", occurred_at="1999-01-05T10:00:00Z")) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError, match="before the year 2000") as caught:
        list(read_event_file(path))
    assert caught.value.line == 2
    path.write_text('{"event_id": ' + "[" * 40 + "]" * 40 + "}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="nests deeper") as caught:
        list(read_event_file(path))
    assert caught.value.line == 1
