"""Raw events as kept: the item shape, and the parsed event a re-apply resolves again.

A raw event is written once per request with its outcome already known (``folded``,
``unmatched``, ``ignored``, ``voided``): the fold runs in memory before any write, so no
"mark as folded" write follows. ``received`` is what ingest wrote before issue 10, first
thing, and marked afterwards; such an item is still read as a duplicate that is folded again.

Items are slim (``ports.slim``): the payload and the parsed copy are in the raw archive
(``ingest.archive``, S3); an item keeps the parsed ``event`` only while it is ``unmatched``.
Items written before keep both and are read as they are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from onpace_rules.inputs import INPUT_KINDS, parse_input_data

from onpace_core.audit.log import iso_instant
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.ports import RawRecord, slim
from onpace_core.store.models import RawEventModel


def raw_key(district_id: str, event_id: str) -> str:
    return f"{district_id}#{event_id}"


def event_to_json(event: LmsEvent) -> str:
    """The parsed event without its payload (kept beside it): what a re-apply resolves."""
    data = event.data.model_dump(mode="json") if hasattr(event.data, "model_dump") else event.data
    return json.dumps(
        {
            "event_id": event.event_id,
            "source": event.source,
            "occurred_at": event.occurred_at.isoformat(),
            "student": [[r.namespace, r.value] for r in event.student],
            "course": [[r.namespace, r.value] for r in event.course],
            "kind": event.kind,
            "percent_complete": event.percent_complete,
            "data": data,
            "voids": event.voids,
            "ignored": event.ignored,
            "digest": event.digest,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def event_from_json(text: str, payload: str = "") -> LmsEvent:
    raw: dict[str, Any] = json.loads(text)
    kind = raw.get("kind")
    data = raw.get("data")
    if data is not None and kind in INPUT_KINDS:
        data = parse_input_data(kind, data)
    return LmsEvent(
        event_id=raw["event_id"],
        source=raw["source"],
        occurred_at=datetime.fromisoformat(raw["occurred_at"]),
        student=tuple(Ref(n, v) for n, v in raw["student"]),
        course=tuple(Ref(n, v) for n, v in raw["course"]),
        kind=kind,
        percent_complete=raw.get("percent_complete"),
        data=data,
        voids=raw.get("voids"),
        ignored=raw.get("ignored"),
        payload=payload,
        digest=raw.get("digest") or "",
    )


def to_item(record: RawRecord, ttl_days: int) -> RawEventModel:
    """The record's slim item; it expires at ``expires_at``, else ``ttl_days`` after receipt."""
    expires = record.expires_at or (record.received_at + timedelta(days=ttl_days))
    record = slim(record)
    return RawEventModel(
        pk=raw_key(record.district_id, record.event_id),
        district_id=record.district_id,
        event_id=record.event_id,
        source=record.source,
        received_at=iso_instant(record.received_at),
        occurred_at=iso_instant(record.occurred_at),
        student_id=record.student_id,
        class_id=record.class_id,
        kind=record.kind,
        payload=record.payload or None,
        status=record.status,
        unmatched_district=record.district_id if record.status == "unmatched" else None,
        expires_at=expires,
        event=record.event or None,
        digest=record.digest or None,
        reason=record.reason,
        enrollments=list(record.enrollments) or None,
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def from_item(item: RawEventModel) -> RawRecord:
    return RawRecord(
        district_id=item.district_id,
        event_id=item.event_id,
        source=item.source,
        status=item.status,
        received_at=_instant(item.received_at),
        occurred_at=_instant(item.occurred_at),
        student_id=item.student_id,
        class_id=item.class_id,
        kind=item.kind,
        payload=item.payload or "",
        event=item.event or "",
        digest=item.digest or "",
        reason=item.reason,
        enrollments=tuple(item.enrollments or ()),
        expires_at=item.expires_at,
    )
