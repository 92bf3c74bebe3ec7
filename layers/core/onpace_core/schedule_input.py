"""The input EventBridge Scheduler gives the scheduled functions: ``{"scheduled_time": …}``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def scheduled_time(event: Mapping[str, Any], default: datetime | None = None) -> datetime:
    """The run's instant (UTC): the schedule's ``<aws.scheduler.scheduled-time>`` when the input
    carries one, else ``default`` (the clock when ``None``: a manual run). A time without a UTC
    offset is refused, since the scheduler always sends one."""
    value = event.get("scheduled_time")
    if not value:
        return default or datetime.now(UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("scheduled_time must carry a UTC offset")
    return moment.astimezone(UTC)
