"""The morning send window (issue 12, item 6): when a notice recorded at some instant is emailed.

Rule (docs/notices.md, "Morning window"): family and staff emails go out between the program's
``send_window.start`` and ``send_window.end`` (default 07:00–09:00) in the program's time zone.
A notice recorded before the window of its local day closes goes out in that day's window
(the evaluator records at local midnight, so the same morning); one recorded later waits for the
next day's window. A retry or an escalation is held to the same rule: what would go out after
the window closed waits for the next window. Pure: zoneinfo only, no clock, no AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from onpace_rules.program import SendWindow


@dataclass(frozen=True)
class Slot:
    """One day's window: the local day it belongs to and when it opens and closes (UTC)."""

    day: date
    opens: datetime
    closes: datetime

    def contains(self, instant: datetime) -> bool:
        return self.opens <= instant < self.closes


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # ``fold=0``: the first of an ambiguous wall time; the window is validated to lie outside
    # the night hours in which DST changes happen, so this only matters for exotic zones.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def slot_of(day: date, time_zone: str, window: SendWindow) -> Slot:
    """The window of the local ``day`` in ``time_zone``, as UTC instants (DST-aware)."""
    zone = ZoneInfo(time_zone)
    return Slot(day, _at(day, window.start, zone), _at(day, window.end, zone))


def send_slot(recorded_at: datetime, time_zone: str, window: SendWindow) -> Slot:
    """The window a notice recorded at ``recorded_at`` goes out in: its local day's, unless that
    window has closed already, then the next day's."""
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at must carry a UTC offset")
    local_day = recorded_at.astimezone(ZoneInfo(time_zone)).date()
    today = slot_of(local_day, time_zone, window)
    if recorded_at < today.closes:
        return today
    return slot_of(local_day + timedelta(days=1), time_zone, window)


def open_slot(instant: datetime, time_zone: str, window: SendWindow) -> Slot | None:
    """The window open at ``instant`` in ``time_zone``, or None outside it."""
    local_day = instant.astimezone(ZoneInfo(time_zone)).date()
    slot = slot_of(local_day, time_zone, window)
    return slot if slot.contains(instant) else None


def send_key(district_id: str, day: date) -> str:
    """The ``scheduled`` index key of a district-day's waiting notices."""
    return f"{district_id}#{day.isoformat()}"
