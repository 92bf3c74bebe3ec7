"""Fuzzing every ingest parser, and the plain route's handler, with Hypothesis (issue 10, item 7).

Issue: "Hypothesis fuzzing of every parser: no input crashes a handler; every malformed input is a
4xx naming the problem."

The contract of a parser
------------------------
Every format (``onpace_core.ingest.formats.*``) is registered in ``REGISTRY`` as
``Parser(parse, seeds)``: ``parse(body, now)`` takes the raw request body (bytes, as API Gateway
delivered it) and the request's clock, and either

* returns the body's events as ``LmsEvent``s, every one storable: ``occurred_at`` aware and
  between 2000-01-01 and ``now`` + 15 minutes (``limits.check_instant``), ``event_id`` non-empty and
  at most ``limits.MAX_EVENT_ID_BYTES`` in UTF-8, ``payload`` at most ``limits.MAX_EVENT_BYTES``,
  every string encodable as UTF-8 (no lone surrogates), ``kind`` an activity kind, an input kind
  or None; or
* raises one of the parser's ``errors`` — by default ``LimitError`` (``ingest.limits``: size,
  UTF-8, JSON, depth, event times, text lengths) and ``InvalidPayloadError`` (the format's own
  validation) — each with a ``status`` in 400–499 and a non-empty message naming the problem (and,
  where the error lists ``problems``, each with a non-empty ``problem``).

Nothing else may escape: a KeyError, RecursionError, OverflowError, UnicodeError or a pydantic
ValidationError is a bug (a 500 the sender can do nothing about, on every retry). A format with
its own error type lists it in ``errors``; it must carry a 4xx ``status`` too.

Adding a format is one line in ``REGISTRY``, e.g.::

    "xapi": Parser(lambda body, now: parse_xapi(body, now=now), seeds=shared_seeds("xapi")),

``seeds`` are valid documents of the format that the fuzzer mutates; ``shared_seeds(folder)``
reads the real payloads in ``../shared/fixtures/<folder>``.

What is tried
-------------
Arbitrary bytes; arbitrary JSON; JSON-like token soup; and mutations of valid documents: fields
dropped, replaced or added, with huge strings (up to 1 MB), deep nesting (up to 100,000 levels),
odd dates (year 9999 with a negative offset, year 1 with a positive one, 2099, 1999, 15 minutes
either side of the bound, impossible days), numbers Python will not convert, lone surrogates,
then sometimes damaged bytes (truncated, a cp1252 or UTF-16 re-encoding, stray bytes).

Examples are derandomized (a fixed seed) with no example database, so CI sees the same examples
on every run; ``ONPACE_PROPERTY_EXAMPLES_SCALE=10`` runs ten times as many, and
``ONPACE_PROPERTY_RANDOM=1`` draws new ones on every run, for a longer search.
"""

from __future__ import annotations

import base64
import copy
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onpace_core.ingest.event import LmsEvent
from onpace_core.ingest.formats.caliper import parse_caliper
from onpace_core.ingest.formats.canvas import CanvasFormatError, parse_canvas_event
from onpace_core.ingest.formats.plain import InvalidPayloadError, parse_plain_events
from onpace_core.ingest.formats.xapi import parse_statements
from onpace_core.ingest.limits import (
    EARLIEST,
    MAX_EVENT_BYTES,
    MAX_EVENT_ID_BYTES,
    MAX_FUTURE,
    LimitError,
    decode_body,
    load_json,
)
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import signed_headers
from onpace_rules.facts import ACTIVITY_KINDS
from onpace_rules.inputs import INPUT_KINDS

from tests.integration.districts import SampleDistrict, make_district

# The parsers' clock: fixed, so every example is reproducible.
NOW = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
SHARED_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"

ParseFn = Callable[[bytes, datetime], Sequence[LmsEvent]]
ALLOWED_ERRORS: tuple[type[Exception], ...] = (LimitError, InvalidPayloadError)


@dataclass(frozen=True)
class Parser:
    """One format under the contract above: its parse function, its valid seed documents, and
    the error types it may raise (each with a 4xx ``status``)."""

    parse: ParseFn
    seeds: Callable[[], list[Any]]
    errors: tuple[type[Exception], ...] = ALLOWED_ERRORS


def shared_seeds(folder: str, *patterns: str) -> Callable[[], list[Any]]:
    """The JSON documents under ``../shared/fixtures/<folder>`` (real payloads of that format)
    whose paths, relative to the folder, match one of ``patterns`` (default: every ``*.json``;
    a folder may also hold partial templates or payloads a format refuses, which are no seeds)."""

    def load() -> list[Any]:
        found: set[Path] = set()
        for pattern in patterns or ("**/*.json",):
            found.update((SHARED_FIXTURES / folder).glob(pattern))
        return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(found)]

    return load


def _plain(body: bytes, now: datetime) -> list[LmsEvent]:
    # What the handler does with the parsed events: they must become storable LmsEvents too.
    return [event.to_lms_event() for event in parse_plain_events(body, now=now)]


def _plain_seeds() -> list[Any]:
    def event(event_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        return {
            "event_id": event_id,
            "occurred_at": "2026-09-01T10:00:00-05:00",
            "student": "stu-1",
            "class": "cls-1",
            "kind": kind,
            **fields,
        }

    inputs = [
        event("g", "final_grade", data={"grade": "F", "credits": 1, "course": "bio", "term": "fall"}),
        event(
            "a",
            "approval",
            data={
                "rule": "msc.extension.eligibility",
                "request": "x-7",
                "decision": "rejected",
                "by": "Dr. L",
                "note": "No.",
            },
        ),
        {
            **event("i", "accommodation", data={"plan": "iep", "start": "2026-09-01", "end": "2026-12-18"}),
            "class": None,
        },
        event(
            "w",
            "graded_work",
            data={"work": "assignment", "work_id": "a1", "due_at": "2026-09-08T23:59:00-05:00"},
        ),
        event(
            "c",
            "instructor_contact",
            data={"by": "tch-1", "method": "phone", "contact_with": "parent_guardian"},
        ),
        event("d", "application_decision", data={"decision": "denied", "reason": "Late.", "by": "Registrar"}),
        event("r", "reenrollment", data={"by": "Registrar", "removed_from": "cls-0"}),
    ]
    inputs[2].pop("class")
    activity = [event(f"e{n}", kind, percent_complete=12.5 * n) for n, kind in enumerate(ACTIVITY_KINDS)]
    return [activity[0], activity, *inputs, inputs]


def _canvas(body: bytes, now: datetime) -> list[LmsEvent]:
    # As the SQS handler reads a message body (the HTTPS route parses the JWT's claims instead).
    return [parse_canvas_event(load_json(decode_body(body)), now)]


REGISTRY: dict[str, Parser] = {
    "plain": Parser(_plain, seeds=_plain_seeds),
    "xapi": Parser(lambda b, now: parse_statements(b, now=now), shared_seeds("xapi", "spec-*.json")),
    "caliper": Parser(
        lambda b, now: parse_caliper(b, now=now).events,
        shared_seeds("", "caliper/*/caliperEnvelope*.json", "canvas/caliper_v1p1/*.json"),
    ),
    "canvas": Parser(_canvas, shared_seeds("canvas", "canvas_raw/*.json"), (LimitError, CanvasFormatError)),
}


# -- strategies -------------------------------------------------------------------------------

_OFFSETS = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-(23 * 60 + 59), 23 * 60 + 59)
)
_SOME_ODD_DATES = st.sampled_from(
    [
        "9999-12-31T23:30-01:00",
        "9999-12-31T23:59:59.999999-23:59",
        "0001-01-01T00:30:00+01:00",
        "0001-01-01T00:00:00Z",
        "2099-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2000-01-01T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-09-01T10:00:00",
        "2026-09-01",
        "2026-09-01T25:00:00Z",
        "now",
        "",
        (NOW + timedelta(minutes=14, seconds=59)).isoformat(),
        (NOW + timedelta(minutes=15, seconds=1)).isoformat(),
    ]
)
ODD_DATES = st.one_of(
    _SOME_ODD_DATES,
    _SOME_ODD_DATES,
    st.builds(
        lambda at, zone: at.replace(tzinfo=zone).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        _OFFSETS,
    ),
    st.builds(
        lambda delta: (NOW + delta).isoformat(), st.timedeltas(-timedelta(hours=1), timedelta(hours=1))
    ),
)

# JSON text put in place of a marker string after serializing: what json.dumps will not write.
_RAW = [
    "1" * 5_000,  # more digits than Python converts
    "1e999",
    "-1e999",
    "NaN",
    "-Infinity",
    '"\\ud800"',  # a lone surrogate
    '"x\\udfffy"',
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 40 + "1" + "}" * 40,
]
_MARK = "@@fuzz-raw-{}@@"
RAW_VALUES = st.sampled_from(range(len(_RAW))).map(_MARK.format)


def _nest(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


HUGE_STRINGS = st.one_of(
    st.sampled_from([40, 41, 200, 201, 2_000, 2_001, 100_000, 1_000_000]).map(lambda n: "x" * n),
    st.integers(0, 5_000).map(lambda n: "é" * n),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["", " ", "#", "a#b"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
ODD_VALUES = st.one_of(
    ODD_DATES,
    HUGE_STRINGS,
    st.integers(1, 60).map(_nest),
    RAW_VALUES,
    SCALARS,
    JSON_VALUES,
    st.sampled_from([[], {}, [{}], {"": None}]).map(copy.deepcopy),  # fresh: mutations add to them
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*prefix, index))


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _keys(doc: Any) -> set[str]:
    return {p[-1] for p in _paths(doc) if p and isinstance(p[-1], str)}


# Fields holding a time or a date in some format: they get odd dates more often.
_DATE_KEYS = frozenset(
    {
        "occurred_at",
        "due_at",
        "start",
        "end",
        "timestamp",
        "stored",
        "eventTime",
        "startedAtTime",
        "created_at",
    }
)
ODD_STRINGS = st.one_of(HUGE_STRINGS, ODD_DATES, RAW_VALUES, st.text(max_size=30))


def _replacement(key: Any, target: Any) -> st.SearchStrategy[Any]:
    if key in _DATE_KEYS:
        return st.one_of(ODD_DATES, ODD_VALUES)
    if isinstance(target, str):
        return st.one_of(ODD_STRINGS, ODD_VALUES)
    return ODD_VALUES


@st.composite
def _mutated(draw: st.DrawFn, seeds: list[Any]) -> Any:
    """A seed with 1–3 changes: a field replaced by an odd value (most often), dropped, or added."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    names = st.sampled_from(sorted(set().union(*(_keys(s) for s in seeds)) or {"x"})) | st.text(max_size=10)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        operation = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add"]))
        if not path:
            doc = draw(ODD_VALUES) if operation == "replace" else [doc, copy.deepcopy(doc)]
            continue
        parent, key = _at(doc, path[:-1]), path[-1]
        target = parent[key]
        if operation == "drop":
            del parent[key]
        elif operation == "replace":
            parent[key] = draw(_replacement(key, target))
        elif isinstance(target, dict):
            name = draw(names)
            target[name] = draw(_replacement(name, target.get(name)))
        elif isinstance(target, list):
            target.append(copy.deepcopy(target[0]) if target and draw(st.booleans()) else draw(ODD_VALUES))
        else:
            parent[key] = [target, draw(ODD_VALUES)]
    return doc


def _serialize(doc: Any, ascii_only: bool) -> bytes:
    text = json.dumps(doc, ensure_ascii=ascii_only)
    for index, raw in enumerate(_RAW):
        text = text.replace(json.dumps(_MARK.format(index)), raw)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def _damaged(draw: st.DrawFn, body: bytes) -> bytes:
    how = draw(st.sampled_from(["none"] * 6 + ["truncate", "insert", "cp1252", "utf-16"]))
    if how == "truncate":
        return body[: draw(st.integers(0, len(body)))]
    if how == "insert":
        at = draw(st.integers(0, len(body)))
        return (
            body[:at]
            + draw(
                st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x00", b"\xed\xa0\x80"]) | st.binary(max_size=4)
            )
            + body[at:]
        )
    if how == "cp1252":
        return body.decode("utf-8", "replace").encode("cp1252", "replace")
    if how == "utf-16":
        return body.decode("utf-8", "replace").encode("utf-16")
    return body


@st.composite
def _from_seeds(draw: st.DrawFn, seeds: list[Any]) -> bytes:
    return draw(_damaged(_serialize(draw(_mutated(seeds)), draw(st.booleans()))))


@cache
def bodies(name: str) -> st.SearchStrategy[bytes]:
    """Request bodies for the parser ``name``: mostly mutations of its seeds, and anything at all."""
    seeds = REGISTRY[name].seeds()
    assert seeds, f"{name}: no seed documents"
    mutations = _from_seeds(seeds)
    return st.one_of(
        *[mutations] * 6,
        st.binary(max_size=512),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.text(alphabet='{}[]":,.-+0123456789eEtrufalsn\\ud80 ', max_size=200).map(str.encode),
    )


# -- the property -----------------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _strings(getattr(value, f.name))


def check_contract(parser: Parser, body: bytes, now: datetime) -> None:
    """The parser returns storable events or raises an allowed 4xx error; nothing else."""
    refused: Exception | None = None
    events: Sequence[LmsEvent] = ()
    try:
        events = parser.parse(body, now)
    except parser.errors as exc:
        refused = exc
    if refused is not None:
        status = getattr(refused, "status", None)
        assert isinstance(status, int) and 400 <= status < 500, f"{type(refused).__name__} status {status!r}"
        assert str(refused).strip(), f"{type(refused).__name__} without a message"
        for problem in getattr(refused, "problems", None) or []:
            assert str(problem.get("problem") or "").strip(), problem
        return
    for event in events:
        assert isinstance(event, LmsEvent)
        at = event.occurred_at
        assert at.utcoffset() is not None, event.event_id
        assert EARLIEST <= at.astimezone(UTC) <= now + MAX_FUTURE, at
        assert event.event_id and len(event.event_id.encode()) <= MAX_EVENT_ID_BYTES
        assert len(event.payload.encode()) <= MAX_EVENT_BYTES
        assert event.kind is None or event.kind in ACTIVITY_KINDS or event.kind in INPUT_KINDS, event.kind
        for text in _strings(event):
            text.encode("utf-8")  # raises on a lone surrogate


RANDOM = os.environ.get("ONPACE_PROPERTY_RANDOM") == "1"
SCALE = int(os.environ.get("ONPACE_PROPERTY_EXAMPLES_SCALE", "1"))
FUZZ = settings(
    max_examples=200 * SCALE,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@pytest.mark.parametrize("name", sorted(REGISTRY))
@FUZZ
@given(data=st.data())
def test_no_input_crashes_a_parser(name: str, data: st.DataObject) -> None:
    check_contract(REGISTRY[name], data.draw(bodies(name), label="body"), NOW)


# Bodies no format accepts: each parser must refuse them with a 4xx naming the problem.
MALFORMED = {
    "cp1252": '{"student": "José"}'.encode("cp1252"),
    "not JSON": b"{not json",
    "empty": b"",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "over 10 MB": b" " * (10 * 1024 * 1024 + 1),
    "huge number": b"1" * 5_000,
    "lone surrogate": b'{"id": "\\ud800"}',
}


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_every_parser_refuses_what_no_format_accepts(name: str, case: str) -> None:
    parser = REGISTRY[name]
    with pytest.raises(parser.errors) as caught:
        parser.parse(MALFORMED[case], NOW)
    assert 400 <= caught.value.status < 500 and str(caught.value).strip()  # type: ignore[attr-defined]


def test_every_seed_is_accepted() -> None:
    """The seeds are valid: mutations start from something each parser takes."""
    for name, parser in REGISTRY.items():
        for seed in parser.seeds():
            assert parser.parse(json.dumps(seed).encode(), NOW), name


# -- the handler ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_district(local_stack: LocalStack) -> SampleDistrict:
    return make_district(local_stack, {"csu.engagement.at_risk_14d": {}})


def _api_event(district_id: str, body: bytes, headers: dict[str, str], as_base64: bool) -> dict[str, Any]:
    """The API Gateway (payload 2.0) event of a POST to the plain route."""
    try:
        text = None if as_base64 else body.decode("utf-8")
    except UnicodeDecodeError:
        text = None  # API Gateway hands over bytes it cannot take for text in base64
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/{source}",
        "rawPath": "/webhooks/plain",
        "rawQueryString": f"district={district_id}",
        "queryStringParameters": {"district": district_id},
        "pathParameters": {"source": "plain"},
        "headers": {"content-type": "application/json", **headers},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/plain"}, "stage": "$default"},
        "isBase64Encoded": text is None,
        "body": text if text is not None else base64.b64encode(body).decode(),
    }


_HEADER_NAMES = st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "content-type"])


@st.composite
def _headers(draw: st.DrawFn, secret: str, body: bytes) -> dict[str, str]:
    signing = draw(st.sampled_from(["valid", "valid", "valid", "stale", "wrong secret", "garbage"]))
    text = body.decode("utf-8", "replace")
    if signing == "valid":
        return signed_headers(secret, text, f"msg_{draw(st.integers(0, 10**6))}")
    if signing == "stale":
        return signed_headers(secret, text, "msg_stale", datetime.now(UTC) - timedelta(minutes=6))
    if signing == "wrong secret":
        return signed_headers("whsec_" + "B" * 44, text, "msg_forged")
    return draw(st.dictionaries(_HEADER_NAMES, st.text(max_size=40), max_size=4))


@pytest.mark.integration
@settings(FUZZ, max_examples=200 * SCALE)
@given(data=st.data())
def test_no_request_crashes_the_plain_route(
    local_stack: LocalStack, fuzz_district: SampleDistrict, data: st.DataObject
) -> None:
    """The real handler, in-process against moto: always a 2xx or a 4xx with a message."""
    body = data.draw(bodies("plain"), label="body")
    headers = data.draw(_headers(fuzz_district.secret, body), label="headers")
    event = _api_event(fuzz_district.district_id, body, headers, data.draw(st.booleans(), label="base64"))
    result = local_stack.invoke("IngestFunction", event)
    status = result["statusCode"]
    answer = json.loads(result["body"])
    assert 200 <= status < 300 or 400 <= status < 500, (status, answer)
    if status >= 400:
        assert isinstance(answer.get("message"), str) and answer["message"].strip(), answer
        assert answer.get("error"), answer
    else:
        assert isinstance(answer["accepted"], int), answer
