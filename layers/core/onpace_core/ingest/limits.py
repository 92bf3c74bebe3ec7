"""Limits every ingest route enforces before anything is stored, so one bad sender hurts nobody.

Each check raises ``LimitError`` with the status and a message that names the problem; the
handler answers with it and stores nothing. A parser uses them in this order: ``decode_body``
(size, UTF-8), ``load_json`` (syntax, depth, text that can be stored), then ``check_instant`` on
every event time and ``check_text`` on every free-text field it keeps.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

# API Gateway (HTTP API) refuses larger payloads itself; the same figure here keeps the local
# gateway, SQS-delivered events and the CLI to what AWS would accept.
MAX_BODY_BYTES = 10 * 1024 * 1024
# No format OnPace reads nests deeper (an xAPI statement with a context statement ref is ~8).
MAX_DEPTH = 32
# Free text (notes, reasons, names) is kept on items read by every evaluation: bounded.
MAX_TEXT = 2_000
# An event is stored whole (its ``payload``) in one Events item, which DynamoDB caps at 400 KB;
# a parser keeps (or trims) what it stores under this, so no retry can fail on the write.
MAX_EVENT_BYTES = 256 * 1024
# The ``event_id`` is part of the Events table's key (2,048 bytes at most, district id included).
MAX_EVENT_ID_BYTES = 1_024
# An LMS clock may run a little fast; more than this is a wrong date, not a skew.
MAX_FUTURE = timedelta(minutes=15)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

# A JSON string (escapes included), unrolled so the regex engine never backtracks on long text.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class LimitError(ValueError):
    """A request or event outside OnPace's limits; ``status`` is the 4xx to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def decode_body(body: bytes | str) -> str:
    """The body as text: at most ``MAX_BODY_BYTES``, and UTF-8 (what every format requires)."""
    if isinstance(body, str):
        # Text that holds a lone surrogate came from bytes that were not UTF-8 (or from a
        # JSON-escaped event); it could not be stored or signed either.
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LimitError(f"the body is not UTF-8 (character {exc.start}: {exc.reason})") from None
    else:
        raw = body
    if len(raw) > MAX_BODY_BYTES:
        raise LimitError(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted", 413)
    if isinstance(body, str):
        return body
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LimitError(f"the body is not UTF-8 (byte {exc.start}: {exc.reason})") from None


def load_json(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text: refuse nesting deeper than ``max_depth`` (before recursion can fail),
    numbers Python will not convert, and strings holding a lone UTF-16 surrogate (``"\\ud800"``),
    which no UTF-8 store or digest can take."""
    check_depth(text, max_depth)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LimitError(f"the body is not JSON: {exc}") from None
    except RecursionError:  # pragma: no cover - check_depth refuses these first
        raise LimitError(f"the body nests deeper than {max_depth} levels") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise LimitError(f"the body holds a number OnPace cannot read: {exc}") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise LimitError(
            "the body holds a string with a lone UTF-16 surrogate escape (\\ud800-\\udfff)"
        ) from None
    return value


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse JSON text whose brackets (outside strings) nest deeper than ``max_depth``.

    A scan, not a parse: it never recurses, and it runs in C over a 10 MB body.
    """
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    deepest = max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
    if deepest > max_depth:
        raise LimitError(f"the body nests deeper than {max_depth} levels")


def check_instant(at: datetime, now: datetime | None, what: str = "the event's time") -> datetime:
    """``at`` if it lies between 2000-01-01 and 15 minutes after ``now``; LimitError otherwise.

    ``now`` None sets no future bound (a replay of files that may run ahead of the wall clock).
    A time without a UTC offset, or one that has no UTC equivalent (``9999-12-31T23:30-01:00``),
    is refused too, so nothing downstream has to convert it.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise LimitError(f"{what} {at.isoformat()} has no UTC offset")
    try:
        utc = at.astimezone(UTC)
    except (OverflowError, ValueError):
        raise LimitError(f"{what} {at.isoformat()} is out of range") from None
    if utc < EARLIEST:
        raise LimitError(f"{what} {at.isoformat()} is before the year 2000")
    if now is not None and utc > now + MAX_FUTURE:
        raise LimitError(
            f"{what} {at.isoformat()} is more than 15 minutes in the future "
            f"(OnPace's clock reads {now.astimezone(UTC).isoformat(timespec='seconds')})"
        )
    return at


def check_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    """``value`` if it has at most ``limit`` characters; LimitError naming ``what`` otherwise."""
    if len(value) > limit:
        raise LimitError(f"{what} is {len(value)} characters; at most {limit} are accepted")
    return value
