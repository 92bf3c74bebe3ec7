"""A program's calendar: its time zone and which days are school days and business days.

Catalogue conventions (policies.md, "Conventions used below"):
- *school days* are days the calendar marks instructional: weekends, holidays and breaks excluded;
- *business days* are Monday–Friday minus the program's holidays (breaks are business days);
- "N school days after X" is the N-th school day strictly after X;
- day N of a school-day count on D counts school days d with X < d <= D.

The day arithmetic is numpy's business-day calendar (``busday_offset`` / ``busday_count``),
public holidays come from the ``holidays`` package and the time zone is the IANA database via
``zoneinfo``: no home-made tables. Results are memoised per calendar, because a term has only a
few hundred distinct days and the engine asks about the same ones for every enrollment.

A calendar can change during the year (a snow day closes a school day, a make-up day opens
one): ``changes`` lists them with the day they were announced, and ``as_of(day)`` gives the
calendar the evaluation of ``day`` uses — every change announced before that day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import numpy as np

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def public_holiday_dates(country: str, subdiv: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holidays of a country (and state) for the given years, from the ``holidays`` package."""
    # Imported here: only a program file naming public holidays needs it (a cold-start cost).
    import holidays as public_holidays

    try:
        found = public_holidays.country_holidays(country, subdiv=subdiv, years=list(years))
    except NotImplementedError as exc:
        raise ValueError(f"no public holiday data for {country}/{subdiv}: {exc}") from exc
    return frozenset(found.keys())


@cache
def _numpy() -> ModuleType:
    """numpy, imported on the first day arithmetic rather than with this module: the ingest,
    notify and roster functions import the calendar's types but never count days."""
    import numpy

    return numpy


class CalendarChangeRecord(NamedTuple):
    announced: date
    closed: frozenset[date]
    opened: frozenset[date]
    reason: str


@dataclass(frozen=True)
class ProgramCalendar:
    """Days of one program. ``holidays`` close both school and business days; ``breaks`` only
    school days; ``office_closed`` (public holidays on the school calendar) only business days."""

    time_zone: str
    holidays: frozenset[date] = field(default_factory=frozenset)
    breaks: frozenset[date] = field(default_factory=frozenset)
    school_weekdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    office_closed: frozenset[date] = field(default_factory=frozenset)
    changes: tuple[CalendarChangeRecord, ...] = ()
    opened: frozenset[date] = field(default_factory=frozenset)  # make-up school days

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
        np = _numpy()
        closed = sorted(self.holidays | self.breaks)
        return np.busdaycalendar(weekmask=" ".join(self.school_weekdays), holidays=closed)

    @cached_property
    def _business(self) -> np.busdaycalendar:
        np = _numpy()
        return np.busdaycalendar(
            weekmask="Mon Tue Wed Thu Fri", holidays=sorted(self.holidays | self.office_closed)
        )

    @cached_property
    def _memo(self) -> dict[tuple[str, date, int], object]:
        return {}

    @cached_property
    def _versions(self) -> dict[int, ProgramCalendar]:
        return {}

    # -- changes during the year ------------------------------------------------------------

    def as_of(self, day: date) -> ProgramCalendar:
        """The calendar the evaluation of ``day`` uses: with every change announced before it."""
        if not self.changes:
            return self
        count = sum(1 for c in self.changes if c.announced < day)
        if count == 0:
            return self
        cached = self._versions.get(count)
        if cached is None:
            closed = frozenset().union(*(c.closed for c in self.changes[:count]))
            opened = frozenset().union(*(c.opened for c in self.changes[:count]))
            cached = replace(self, holidays=self.holidays | (closed - opened), changes=(), opened=opened)
            self._versions[count] = cached
        return cached

    def changes_announced_on(self, day: date) -> tuple[CalendarChangeRecord, ...]:
        """Changes the evaluation of ``day`` sees for the first time (announced the day before)."""
        return tuple(c for c in self.changes if c.announced == day - timedelta(days=1))

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
        np = _numpy()
        if day in self.opened:
            return True
        return bool(np.is_busday(day, busdaycal=self._school))

    def school_days_after(self, day: date, n: int) -> date:
        """The ``n``-th school day strictly after ``day`` (n >= 1)."""
        np = _numpy()
        if n < 1:
            raise ValueError("n must be at least 1")
        key = ("school_after", day, n)
        found = self._memo.get(key)
        if found is None:
            if self.opened:
                found = self._walk(day, n, self.is_school_day)
            else:
                # Rolling backward first makes a non-school ``day`` behave like the school day
                # before it, so the offset lands on the n-th school day strictly after ``day``.
                found = _to_date(np.busday_offset(day, n, roll="backward", busdaycal=self._school))
            self._memo[key] = found
        assert isinstance(found, date)
        return found

    def school_days_between(self, after: date, through: date) -> int:
        """How many school days d satisfy ``after < d <= through``."""
        np = _numpy()
        if through <= after:
            return 0
        key = ("school_between", after, (through - after).days)
        found = self._memo.get(key)
        if found is None:
            found = int(
                np.busday_count(
                    after + timedelta(days=1), through + timedelta(days=1), busdaycal=self._school
                )
            ) + sum(
                1 for d in self.opened if after < d <= through and not np.is_busday(d, busdaycal=self._school)
            )
            self._memo[key] = found
        assert isinstance(found, int)
        return found

    @staticmethod
    def _walk(day: date, n: int, counts: Callable[[date], bool]) -> date:
        current = day
        while n > 0:
            current += timedelta(days=1)
            if counts(current):
                n -= 1
        return current

    # -- business days ----------------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        np = _numpy()
        return bool(np.is_busday(day, busdaycal=self._business))

    def business_days_after(self, day: date, n: int) -> date:
        """The ``n``-th business day strictly after ``day`` (n >= 1)."""
        np = _numpy()
        if n < 1:
            raise ValueError("n must be at least 1")
        key = ("business_after", day, n)
        found = self._memo.get(key)
        if found is None:
            found = _to_date(np.busday_offset(day, n, roll="backward", busdaycal=self._business))
            self._memo[key] = found
        assert isinstance(found, date)
        return found

    def business_days_between(self, after: date, through: date) -> int:
        """How many business days d satisfy ``after < d <= through``."""
        np = _numpy()
        if through <= after:
            return 0
        return int(
            np.busday_count(after + timedelta(days=1), through + timedelta(days=1), busdaycal=self._business)
        )


def _to_date(value: np.datetime64) -> date:
    result = value.astype("datetime64[D]").astype(object)
    assert isinstance(result, date)
    return result
