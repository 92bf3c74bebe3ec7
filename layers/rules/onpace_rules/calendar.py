"""A program's calendar: its time zone and which days are school days and business days.

Catalogue conventions (policies.md, "Conventions used below"):
- *school days* are days the calendar marks instructional: weekends, holidays and breaks excluded;
- *business days* are Monday–Friday minus the program's holidays (breaks are business days);
- "N school days after X" is the N-th school day strictly after X;
- day N of a school-day count on D counts school days d with X < d <= D.

The day arithmetic is numpy's business-day calendar (``busday_offset`` / ``busday_count``), and
the time zone is the IANA database via ``zoneinfo``: no home-made tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ProgramCalendar:
    """Days of one program. ``holidays`` close both school and business days; ``breaks`` only school."""

    time_zone: str
    holidays: frozenset[date] = field(default_factory=frozenset)
    breaks: frozenset[date] = field(default_factory=frozenset)
    school_weekdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # fail at load time on a misspelt zone, not at 00:05 on a school day
        unknown = set(self.school_weekdays) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekday names {sorted(unknown)}; use {', '.join(WEEKDAYS)}")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _school(self) -> np.busdaycalendar:
        closed = sorted(self.holidays | self.breaks)
        return np.busdaycalendar(weekmask=" ".join(self.school_weekdays), holidays=closed)

    @cached_property
    def _business(self) -> np.busdaycalendar:
        return np.busdaycalendar(weekmask="Mon Tue Wed Thu Fri", holidays=sorted(self.holidays))

    # -- time zone --------------------------------------------------------------------------

    def local_date(self, instant: datetime) -> date:
        """The program-local calendar date of an aware instant."""
        if instant.tzinfo is None:
            raise ValueError("instant must carry a UTC offset")
        return instant.astimezone(self.zone).date()

    def start_of_day(self, day: date) -> datetime:
        """The UTC instant at which ``day`` begins in the program's time zone (DST-aware)."""
        local = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return local.astimezone(UTC)

    # -- school days ------------------------------------------------------------------------

    def is_school_day(self, day: date) -> bool:
        return bool(np.is_busday(day, busdaycal=self._school))

    def school_days_after(self, day: date, n: int) -> date:
        """The ``n``-th school day strictly after ``day`` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        # Rolling backward first makes a non-school ``day`` behave like the school day before it,
        # so the offset lands on the n-th school day strictly after ``day`` in both cases.
        result = np.busday_offset(day, n, roll="backward", busdaycal=self._school)
        return _to_date(result)

    def school_days_between(self, after: date, through: date) -> int:
        """How many school days d satisfy ``after < d <= through``."""
        if through <= after:
            return 0
        return int(
            np.busday_count(after + timedelta(days=1), through + timedelta(days=1), busdaycal=self._school)
        )

    # -- business days ----------------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        return bool(np.is_busday(day, busdaycal=self._business))

    def business_days_after(self, day: date, n: int) -> date:
        """The ``n``-th business day strictly after ``day`` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        return _to_date(np.busday_offset(day, n, roll="backward", busdaycal=self._business))


def _to_date(value: np.datetime64) -> date:
    result = value.astype("datetime64[D]").astype(object)
    assert isinstance(result, date)
    return result
