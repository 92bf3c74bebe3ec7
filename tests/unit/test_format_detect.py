"""Format detection for replay files (``ingest.formats.detect``; docs/ingest.md, "Replay")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from onpace_core.ingest.formats.detect import (
    FAR_CLOCK,
    DocumentError,
    UnknownFormatError,
    describe,
    detect_format,
    parse_document,
)
from onpace_core.ingest.formats.plain import InvalidPayloadError
from onpace_core.ingest.limits import LimitError

NOW = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
PLAIN = {
    "event_id": "e1",
    "occurred_at": "2026-09-01T10:00:00-05:00",
    "student": "stu-1",
    "class": "cls-1",
    "kind": "submission",
}


def _load(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "fixtures" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("xapi/spec-appendixA-simple.json", "xapi"),
        ("xapi/spec-appendixA-long-stored.json", "xapi"),
        ("caliper/v1p2/caliperEnvelopeEventBatch.json", "caliper"),
        ("caliper/v1p1/caliperEnvelopeEventSingle.json", "caliper"),
        ("canvas/caliper_v1p1/submission_created.json", "caliper"),
        ("canvas/canvas_raw/submission_created.json", "canvas"),
        ("canvas/canvas_raw/logged_in.json", "canvas"),
    ],
)
def test_real_payloads_are_detected_and_parsed(shared_dir: Path, name: str, fmt: str) -> None:
    document = _load(shared_dir, name)
    assert detect_format(document) == fmt
    events = parse_document(document, now=NOW)
    assert events and {e.source for e in events} <= {fmt, "canvas"}


def test_plain_is_parsed_by_the_plain_parser() -> None:
    (event,) = parse_document(PLAIN, now=None)
    assert (event.source, event.event_id, event.kind) == ("plain", "e1", "submission")


def test_an_array_is_documents_each_parsed_on_its_own(shared_dir: Path) -> None:
    statement = _load(shared_dir, "xapi/spec-appendixA-simple.json")
    live = _load(shared_dir, "canvas/canvas_raw/submission_created.json")
    many = [{**PLAIN, "event_id": f"e{n}"} for n in range(600)]  # over a request's 500
    events = parse_document([statement, live, *many], now=NOW)
    assert [e.source for e in events[:3]] == ["xapi", "canvas", "plain"] and len(events) == 602


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"who": 1}, r"not an event of a known format \(keys: who\)"),
        ({"actor": {}, "verb": {}}, "expected one of"),  # no object: not quite xAPI
        ("text", "expected a JSON object, got a string"),
        (7, "got a number"),
        ([], "the array holds no documents"),
    ],
)
def test_what_is_no_format_is_refused_with_what_was_expected(document: Any, problem: str) -> None:
    with pytest.raises(UnknownFormatError, match=problem) as caught:
        parse_document(document, now=NOW)
    assert caught.value.status == 400


def test_an_array_names_the_refused_document() -> None:
    with pytest.raises(DocumentError, match=r"document 2 of the array: .*kind") as caught:
        parse_document([PLAIN, {**PLAIN, "kind": "teleport"}], now=None)
    assert caught.value.status == 400


def test_each_format_keeps_its_limits_and_describe_names_the_problem() -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        parse_document({**PLAIN, "occurred_at": "1999-01-01T00:00:00Z"}, now=None)
    assert (
        describe(caught.value)
        == "occurred_at: the event's time 1999-01-01T00:00:00+00:00 is before the year 2000"
    )


def test_without_a_clock_no_time_is_the_future_but_a_statement_needs_its_timestamp(shared_dir: Path) -> None:
    statement = _load(shared_dir, "xapi/spec-appendixA-simple.json")
    later = {**statement, "timestamp": "2035-01-01T00:00:00Z"}
    (event,) = parse_document(later, now=None)
    assert event.occurred_at.year == 2035 < FAR_CLOCK.year
    with pytest.raises(LimitError, match="in the future"):
        parse_document(later, now=NOW)  # with a clock, the bound holds
    undated = {k: v for k, v in statement.items() if k != "timestamp"}
    with pytest.raises(UnknownFormatError, match="no timestamp"):
        parse_document(undated, now=None)
    assert parse_document(undated, now=NOW)[0].occurred_at == NOW  # the LRS's receipt time
