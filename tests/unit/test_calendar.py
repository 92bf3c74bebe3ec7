"""School-day and business-day arithmetic and time-zone day boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from onpace_rules import ProgramCalendar

LABOR_DAY = date(2026, 9, 7)


@pytest.fixture
def calendar() -> ProgramCalendar:
    return ProgramCalendar(
        time_zone="America/Chicago",
        holidays=frozenset({LABOR_DAY, date(2026, 11, 26), date(2026, 11, 27)}),
        breaks=frozenset({date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)}),
    )


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 10, 10), 2, date(2026, 10, 13)),  # catalogue: Saturday notice → Tuesday
        (date(2026, 10, 9), 2, date(2026, 10, 13)),  # Friday → Tuesday
        (date(2026, 10, 7), 2, date(2026, 10, 9)),  # Wednesday → Friday
        (date(2026, 9, 4), 1, date(2026, 9, 8)),  # Friday before Labor Day → Tuesday
        (date(2026, 11, 20), 2, date(2026, 12, 1)),  # across the Thanksgiving break and holidays
    ],
)
def test_school_days_after(calendar: ProgramCalendar, start: date, n: int, expected: date) -> None:
    assert calendar.school_days_after(start, n) == expected
    assert calendar.is_school_day(expected)


def test_school_day_count_follows_the_catalogue_example(calendar: ProgramCalendar) -> None:
    # Last submission Fri 2026-10-02, no holidays → school day 5 on Fri 2026-10-09.
    assert calendar.school_days_between(date(2026, 10, 2), date(2026, 10, 9)) == 5
    assert calendar.school_days_between(date(2026, 10, 2), date(2026, 10, 2)) == 0
    assert calendar.school_days_between(date(2026, 9, 4), date(2026, 9, 8)) == 1  # Labor Day closed


def test_breaks_are_business_days_but_holidays_are_not(calendar: ProgramCalendar) -> None:
    assert not calendar.is_school_day(date(2026, 11, 23))
    assert calendar.is_business_day(date(2026, 11, 23))
    assert not calendar.is_business_day(LABOR_DAY)
    assert calendar.business_days_after(date(2026, 11, 20), 1) == date(2026, 11, 23)


def test_local_date_across_daylight_saving_change(calendar: ProgramCalendar) -> None:
    # 2026-11-01: clocks go back at 02:00 CDT. 05:30 UTC is 00:30 CDT on Nov 1 (UTC-5)...
    assert calendar.local_date(datetime(2026, 11, 1, 5, 30, tzinfo=UTC)) == date(2026, 11, 1)
    # ...while 05:30 UTC on Nov 2 is 23:30 CST on Nov 1 (UTC-6).
    assert calendar.local_date(datetime(2026, 11, 2, 5, 30, tzinfo=UTC)) == date(2026, 11, 1)
    assert calendar.start_of_day(date(2026, 11, 1)) == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    assert calendar.start_of_day(date(2026, 11, 2)) == datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def test_bad_configuration_fails_at_load() -> None:
    with pytest.raises(Exception, match="Mars"):
        ProgramCalendar(time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="weekday"):
        ProgramCalendar(time_zone="UTC", school_weekdays=("Mon", "Funday"))
    with pytest.raises(ValueError, match="instant"):
        ProgramCalendar(time_zone="UTC").local_date(datetime(2026, 1, 1))
