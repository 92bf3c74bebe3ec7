"""Limits every ingest route enforces before anything is stored, so one bad sender hurts nobody.

Each check raises ``LimitError`` with the status and a message that names the problem; the
handler answers with it and stores nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

# API Gateway (HTTP API) refuses larger payloads itself; the same figure here keeps the local
# gateway, SQS-delivered events and the CLI to what AWS would accept.
MAX_BODY_BYTES = 10 * 1024 * 1024
# No format OnPace reads nests deeper (an xAPI statement with a context statement ref is ~8).
MAX_DEPTH = 32
# Free text (notes, reasons, names) is kept on items read by every evaluation: bounded.
MAX_TEXT = 2_000
# An LMS clock may run a little fast; more than this is a wrong date, not a skew.
MAX_FUTURE = timedelta(minutes=15)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class LimitError(ValueError):
    """A request or event outside OnPace's limits; ``status`` is the 4xx to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def decode_body(body: bytes | str) -> str:
    """The body as text: at most ``MAX_BODY_BYTES``, and UTF-8 (what every format requires)."""
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise LimitError(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted", 413)
    if isinstance(body, str):
        return body
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LimitError(f"the body is not UTF-8 (byte {exc.start}: {exc.reason})") from None


def load_json(text: str) -> Any:
    """Parse JSON text and refuse nesting deeper than ``MAX_DEPTH`` (before recursion can fail)."""
    _check_depth(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LimitError(f"the body is not JSON: {exc}") from None
    except RecursionError:  # pragma: no cover - _check_depth refuses these first
        raise LimitError(f"the body nests deeper than {MAX_DEPTH} levels") from None


def _check_depth(text: str) -> None:
    # A scan of brackets outside strings: cheap, and it never recurses.
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise LimitError(f"the body nests deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def check_instant(at: datetime, now: datetime, what: str = "the event's time") -> datetime:
    """``at`` if it lies between 2000-01-01 and 15 minutes after ``now``; LimitError otherwise."""
    try:
        utc = at.astimezone(UTC)
    except (OverflowError, ValueError):
        raise LimitError(f"{what} {at.isoformat()} is out of range") from None
    if utc < EARLIEST:
        raise LimitError(f"{what} {at.isoformat()} is before the year 2000")
    if utc > now + MAX_FUTURE:
        raise LimitError(f"{what} {at.isoformat()} is more than 15 minutes in the future")
    return at


def check_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    if len(value) > limit:
        raise LimitError(f"{what} is {len(value)} characters; at most {limit} are accepted")
    return value
