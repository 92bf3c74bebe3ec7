"""OnPace's plain JSON activity format (docs/webhooks.md).

One JSON object per request, or a JSON array of them::

    {"event_id": "lms-123", "occurred_at": "2026-03-02T15:04:05-07:00",
     "student": "stu-001", "class": "cls-bio-101", "kind": "submission",
     "percent_complete": 42.5}

``student`` and ``class`` are OneRoster sourcedIds; ``percent_complete`` (0–100) is optional.

Inputs that are not activity use the same envelope with a ``kind`` of their own and a ``data``
object (``onpace_rules.inputs``), e.g. a final grade::

    {"event_id": "sis-88", "occurred_at": "2026-12-18T16:00:00-06:00", "student": "stu-001",
     "class": "cls-bio-101", "kind": "final_grade", "data": {"grade": "F", "credits": 1}}

``class`` may be left out only for inputs about the student as a whole (an accommodation, a
recording consent).

The shared limits (``ingest.limits``) apply before any event is kept: the body is UTF-8 and at
most 10 MB, nests at most 32 levels, every ``occurred_at`` lies between 2000-01-01 and 15
minutes after the request's ``now``, and every string is bounded (ids 200 characters, the
inputs' free text ``onpace_rules.inputs.NOTE_LENGTH``).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from onpace_rules.facts import ACTIVITY_KINDS
from onpace_rules.inputs import INPUT_KINDS, parse_input_data
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from onpace_core.ingest.event import LmsEvent, Ref, content_digest
from onpace_core.ingest.limits import check_instant, decode_body, load_json

MAX_EVENTS_PER_REQUEST = 500


_ACTIVITY_KINDS = frozenset(ACTIVITY_KINDS)
_KINDS = _ACTIVITY_KINDS | frozenset(INPUT_KINDS)
# Inputs about the student as a whole may name no class.
_CLASSLESS_KINDS = frozenset({"accommodation", "consent", "disenrollment"})


class PlainActivityEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    event_id: str = Field(min_length=1, max_length=200, pattern=r"^[^#\s]+$")
    occurred_at: AwareDatetime
    student: str = Field(min_length=1, max_length=200, pattern=r"^[^#]+$")
    class_id: str | None = Field(
        default=None, alias="class", min_length=1, max_length=200, pattern=r"^[^#]+$"
    )
    kind: str = Field(max_length=40, description="An activity kind or an input kind")
    percent_complete: float | None = Field(default=None, ge=0, le=100)
    data: dict[str, Any] | None = None
    _input: Any = PrivateAttr(default=None)

    @field_validator("occurred_at")
    @classmethod
    def _plausible_time(cls, value: datetime, info: ValidationInfo) -> datetime:
        # ``now`` comes from the validation context (``parse_plain_events``); without one (a
        # replay of files, a test building an event) only the year-2000 floor and range apply.
        now = info.context.get("now") if isinstance(info.context, dict) else None
        return check_instant(value, now)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in _KINDS:
            raise ValueError(
                f"unknown kind {value!r}; activity: {', '.join(ACTIVITY_KINDS)}; "
                f"other inputs: {', '.join(INPUT_KINDS)}"
            )
        return value

    @model_validator(mode="after")
    def _kind_fits(self) -> PlainActivityEvent:
        if self.kind in ACTIVITY_KINDS:
            if self.data is not None:
                raise ValueError(f"kind {self.kind!r} is activity and takes no 'data'")
            if self.class_id is None:
                raise ValueError(f"kind {self.kind!r} needs a 'class'")
            return self
        if self.class_id is None and self.kind not in _CLASSLESS_KINDS:
            raise ValueError(f"kind {self.kind!r} needs a 'class'")
        if self.percent_complete is not None:
            raise ValueError(f"kind {self.kind!r} takes no 'percent_complete'")
        try:
            self._input = parse_input_data(self.kind, self.data)
        except ValidationError as exc:
            raise InputDataError(
                [
                    (".".join(["data", *(str(p) for p in e["loc"])]), _message(e))
                    for e in exc.errors(include_url=False, include_input=False)
                ]
            ) from None
        return self

    @property
    def is_activity(self) -> bool:
        return self.kind in _ACTIVITY_KINDS

    @property
    def input_data(self) -> Any:
        """The validated ``data`` model of a non-activity input (None for activity)."""
        return self._input

    def to_lms_event(self) -> LmsEvent:
        """The internal event: the plain format names roster ``sourcedId``s directly."""
        document = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return LmsEvent(
            event_id=self.event_id,
            source="plain",
            occurred_at=self.occurred_at,
            student=(Ref("sourcedId", self.student),),
            course=(Ref("sourcedId", self.class_id),) if self.class_id else (),
            kind=self.kind,
            percent_complete=self.percent_complete,
            data=self._input,
            payload=self.model_dump_json(by_alias=True),
            digest=content_digest(document),
        )


@cache
def _batch() -> TypeAdapter[list[PlainActivityEvent]]:
    # Built on the first batch: a TypeAdapter builds its validator when made, at import otherwise.
    return TypeAdapter(list[PlainActivityEvent])


class InputDataError(ValueError):
    """The ``data`` of an input is not valid: ``problems`` is (field path, message) pairs, so the
    400 names ``data.note`` rather than the event as a whole."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems))
        self.problems = problems


class InvalidPayloadError(ValueError):
    """The body is not valid activity; ``problems`` says where and why, for the 400 response."""

    status = 400

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def _message(error: Any) -> str:
    # A validator's own ValueError (a LimitError among them) reads better without pydantic's
    # "Value error, " prefix.
    cause = (error.get("ctx") or {}).get("error")
    return str(cause) if error["type"] == "value_error" and cause is not None else str(error["msg"])


def _problems(exc: ValidationError, single: bool) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False, include_input=False):
        location = list(error["loc"])
        index = location.pop(0) if location and isinstance(location[0], int) else None
        event = None if single else index
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, InputDataError):
            problems += [{"event": event, "field": f, "problem": p} for f, p in cause.problems]
            continue
        problems.append(
            {
                "event": event,
                "field": ".".join(str(part) for part in location) or None,
                "problem": _message(error),
            }
        )
    return problems


def parse_plain_events(body: str | bytes, *, now: datetime | None) -> list[PlainActivityEvent]:
    """Parse and validate a request body; all events are valid or none is accepted.

    ``now`` is the request's clock: an ``occurred_at`` more than 15 minutes after it is refused.
    None sets no future bound, for replaying files of past or planned terms (``onpace replay``).
    Raises ``LimitError`` (body too large, not UTF-8, not JSON, too deep) or
    ``InvalidPayloadError`` (the events, with a problem per field); both carry a 4xx ``status``.
    """
    data = load_json(decode_body(body))
    single = isinstance(data, dict)
    if single:
        data = [data]
    if not isinstance(data, list):
        raise InvalidPayloadError("body must be a JSON object or an array of objects")
    if not data:
        raise InvalidPayloadError("the array holds no events")
    if len(data) > MAX_EVENTS_PER_REQUEST:
        raise InvalidPayloadError(f"at most {MAX_EVENTS_PER_REQUEST} events per request, got {len(data)}")
    try:
        events = _batch().validate_python(data, context={"now": now})
    except ValidationError as exc:
        problems = _problems(exc, single)
        raise InvalidPayloadError(
            f"{len(problems)} problem(s) in the events; nothing was stored", problems
        ) from exc
    ids = [e.event_id for e in events]
    if len(set(ids)) != len(ids):
        raise InvalidPayloadError("the same event_id appears twice in one request; nothing was stored")
    return events
