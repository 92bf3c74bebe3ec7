"""Which format a JSON document is in, and its events (``onpace replay`` reads any format).

Each format has a shape no other has (docs/ingest.md, "Replay"):

| format | a document is | recognised by |
|---|---|---|
| plain | an event object | ``event_id`` and ``kind`` |
| xAPI | a statement | ``actor``, ``verb`` and ``object`` |
| Caliper | an envelope | ``sensor``, ``sendTime``, ``dataVersion`` and ``data`` |
| Canvas | a live event | ``metadata`` and ``body`` |

An array is a list of documents, each detected and parsed on its own, so a file of several
thousand events is not held to a request's limit of 500 and may mix formats. Each document is
parsed by its format's own parser, limits and all: detection only chooses the parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from onpace_core.ingest.event import LmsEvent, canonical_json
from onpace_core.ingest.formats.caliper import parse_caliper
from onpace_core.ingest.formats.canvas import CanvasFormatError, parse_canvas_event
from onpace_core.ingest.formats.plain import InvalidPayloadError, parse_plain_events
from onpace_core.ingest.formats.xapi import parse_statements
from onpace_core.ingest.limits import LimitError

Format = Literal["plain", "xapi", "caliper", "canvas"]

# The keys that say a format, in the order tried (a document matching none is refused).
SIGNATURES: tuple[tuple[Format, frozenset[str]], ...] = (
    ("plain", frozenset({"event_id", "kind"})),
    ("xapi", frozenset({"actor", "verb", "object"})),
    ("caliper", frozenset({"sensor", "sendTime", "dataVersion", "data"})),
    ("canvas", frozenset({"metadata", "body"})),
)
FORMAT_NAMES: dict[Format, str] = {
    "plain": "plain event (event_id, kind)",
    "xapi": "xAPI statement (actor, verb, object)",
    "caliper": "Caliper envelope (sensor, sendTime, dataVersion, data)",
    "canvas": "Canvas live event (metadata, body)",
}


class UnknownFormatError(ValueError):
    """The document is in no format OnPace reads; the message names what each format needs."""

    status = 400


class DocumentError(LimitError):
    """An item of an array of documents was refused: the message names the item and the problem."""


# Every error a document's parser may raise (each with a 4xx ``status`` and a message naming the
# problem): what a caller reading files turns into "file:line: problem".
DOCUMENT_ERRORS: tuple[type[Exception], ...] = (
    LimitError,
    InvalidPayloadError,
    CanvasFormatError,
    UnknownFormatError,
)


def detect_format(document: Any) -> Format:
    """The format of one JSON object (parsed), or ``UnknownFormatError`` saying what was expected."""
    if not isinstance(document, Mapping):
        raise UnknownFormatError(f"expected a JSON object, got {_json_type(document)}")
    for name, keys in SIGNATURES:
        if keys <= document.keys():
            return name
    expected = "; ".join(FORMAT_NAMES.values())
    found = ", ".join(sorted(str(k) for k in document)[:8]) or "none"
    raise UnknownFormatError(f"not an event of a known format (keys: {found}); expected one of: {expected}")


def parse_document(document: Any, *, now: datetime | None) -> list[LmsEvent]:
    """The events of one parsed JSON document (an object, or an array of objects), each object
    parsed by its format's parser (``detect_format``).

    ``now`` is the clock the parsers check event times against (none later than 15 minutes after
    it); None sets no future bound: the plain parser then takes None, and the others, which
    need a clock, get ``FAR_CLOCK``. A refused document raises one of ``DOCUMENT_ERRORS``;
    an array's errors name the item (``document 3: …``).
    """
    if isinstance(document, list):
        if not document:
            raise UnknownFormatError("the array holds no documents")
        events: list[LmsEvent] = []
        for index, item in enumerate(document, start=1):
            try:
                events.extend(parse_object(item, now=now))
            except DOCUMENT_ERRORS as exc:
                status = getattr(exc, "status", 400)
                raise DocumentError(f"document {index} of the array: {describe(exc)}", status) from exc
        return events
    return parse_object(document, now=now)


def parse_object(document: Any, *, now: datetime | None) -> list[LmsEvent]:
    """The events of one JSON object in any format (a Caliper envelope may carry several)."""
    name = detect_format(document)
    body = canonical_json(document)
    if name == "plain":
        return [event.to_lms_event() for event in parse_plain_events(body, now=now)]
    clock = FAR_CLOCK if now is None else now
    if name == "xapi" and now is None and "timestamp" not in document:
        # The LRS dates such a statement when it receives it: without a clock there is no date.
        raise UnknownFormatError(
            "the xAPI statement has no timestamp; an LRS dates such a statement when it receives it, "
            "which a file cannot say: give each statement its timestamp"
        )
    if name == "xapi":
        return parse_statements(body, now=clock)
    if name == "caliper":
        return parse_caliper(body, now=clock).events
    return [parse_canvas_event(document, clock)]


# A clock for parsers that need one when no time is "the future": a replay of files (a term still
# to come is a valid practice run). Late enough that no event time is refused as in the future,
# early enough that adding the 15 minutes' grace stays a valid datetime.
FAR_CLOCK = datetime.fromisoformat("9999-01-01T00:00:00+00:00")


def describe(exc: Exception) -> str:
    """A refusal as one line: its message and, for errors listing ``problems``, each of them."""
    problems = getattr(exc, "problems", None) or []
    if not problems:
        return str(exc)
    parts = []
    for problem in problems:
        where = problem.get("field") or "event"
        if problem.get("event") is not None:
            where = f"event {problem['event']}: {where}"
        parts.append(f"{where}: {problem.get('problem')}")
    return "; ".join(parts)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
