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
"""

from __future__ import annotations

import json
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
    field_validator,
    model_validator,
)

from onpace_core.ingest.event import LmsEvent, Ref, content_digest

MAX_EVENTS_PER_REQUEST = 500


_ACTIVITY_KINDS = frozenset(ACTIVITY_KINDS)
_KINDS = _ACTIVITY_KINDS | frozenset(INPUT_KINDS)
# Inputs about the student as a whole may name no class.
_CLASSLESS_KINDS = frozenset({"accommodation", "consent", "disenrollment"})


class PlainActivityEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    event_id: str = Field(min_length=1, max_length=200, pattern=r"^[^#\s]+$")
    occurred_at: AwareDatetime
    student: str = Field(min_length=1, max_length=200, pattern=r"^[^#]+$")
    class_id: str | None = Field(
        default=None, alias="class", min_length=1, max_length=200, pattern=r"^[^#]+$"
    )
    kind: str = Field(description="An activity kind or an input kind")
    percent_complete: float | None = Field(default=None, ge=0, le=100)
    data: dict[str, Any] | None = None
    _input: Any = PrivateAttr(default=None)

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
            problems = "; ".join(
                f"data.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else f"data: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            raise ValueError(problems) from None
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


_BATCH = TypeAdapter(list[PlainActivityEvent])


class InvalidPayloadError(ValueError):
    """The body is not valid activity; ``problems`` says where and why, for the 400 response."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def parse_plain_events(body: str | bytes) -> list[PlainActivityEvent]:
    """Parse and validate a request body; all events are valid or none is accepted."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidPayloadError(f"body is not JSON: {exc}") from exc
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
        events = _BATCH.validate_python(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            location = list(error["loc"])
            index = location.pop(0) if location and isinstance(location[0], int) else None
            problems.append(
                {
                    "event": None if single else index,
                    "field": ".".join(str(part) for part in location) or None,
                    "problem": error["msg"],
                }
            )
        raise InvalidPayloadError(
            f"{len(problems)} problem(s) in the events; nothing was stored", problems
        ) from exc
    ids = [e.event_id for e in events]
    if len(set(ids)) != len(ids):
        raise InvalidPayloadError("the same event_id appears twice in one request; nothing was stored")
    return events
