"""Raw events: stored before the webhook is acknowledged, deduplicated by event id."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from pynamodb.exceptions import PutError
from pynamodb.expressions.update import Action

from onpace_core.audit.log import iso_instant
from onpace_core.store.models import RawEventModel


class StoreOutcome(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"  # seen and fully processed before
    RESUMED = "resumed"  # seen before, but its folding did not finish: fold again


def raw_key(district_id: str, event_id: str) -> str:
    return f"{district_id}#{event_id}"


def store_raw(
    *,
    district_id: str,
    source: str,
    event_id: str,
    occurred_at: datetime,
    student_id: str,
    class_id: str,
    kind: str,
    payload: str,
    received_at: datetime,
    ttl_days: int,
) -> StoreOutcome:
    item = RawEventModel(
        pk=raw_key(district_id, event_id),
        district_id=district_id,
        event_id=event_id,
        source=source,
        received_at=iso_instant(received_at),
        occurred_at=iso_instant(occurred_at),
        student_id=student_id,
        class_id=class_id,
        kind=kind,
        payload=payload,
        status="received",
        expires_at=received_at + timedelta(days=ttl_days),
    )
    try:
        item.save(condition=RawEventModel.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = RawEventModel.get(item.pk, consistent_read=True)
        return StoreOutcome.RESUMED if existing.status == "received" else StoreOutcome.DUPLICATE
    return StoreOutcome.NEW


def mark(district_id: str, event_id: str, status: str) -> None:
    """Record how the event ended: ``folded`` or ``unmatched`` (kept, listed in a sparse index)."""
    item = RawEventModel(pk=raw_key(district_id, event_id))
    actions: list[Action] = [RawEventModel.status.set(status)]
    if status == "unmatched":
        actions.append(RawEventModel.unmatched_district.set(district_id))
    else:
        actions.append(RawEventModel.unmatched_district.remove())
    item.update(actions=actions)
