"""Inactivity clocks with a student's accommodations: paused ranges and extended thresholds.

Issue "Policy engine", scope 6: an IEP or 504 plan, or a documented medical absence, can pause
a clock for a date range or extend a threshold. A paused day does not count toward "day N of
inactivity" (calendar or school days), and ``extend_days`` is added to the thresholds of a
lapse the accommodation overlaps. Policy dates (a pacing checkpoint) do not move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import FactValue
from onpace_rules.facts import EnrollmentState
from onpace_rules.inputs import Accommodation

DayUnit = Literal["calendar", "school"]


def accommodations_seen(state: EnrollmentState, day: date) -> tuple[Accommodation, ...]:
    """Accommodations the evaluation of ``day`` knows about (documented before it)."""
    if not state.inputs:
        return ()
    return tuple(i.data for i in state.seen_inputs(day, "accommodation") if isinstance(i.data, Accommodation))


@dataclass(frozen=True, slots=True)
class Clock:
    """Counts calendar or school days, skipping days an accommodation pauses."""

    calendar: ProgramCalendar
    unit: DayUnit
    accommodations: Sequence[Accommodation] = ()

    def _paused(self, day: date) -> bool:
        return any(a.pause and a.covers(day) for a in self.accommodations)

    def _counts(self, day: date) -> bool:
        if self.unit == "school" and not self.calendar.is_school_day(day):
            return False
        return not self._paused(day)

    def extension(self, anchor: date) -> int:
        """Extra threshold days for a lapse that began at ``anchor`` (the largest that applies)."""
        if not self.accommodations:
            return 0
        return max((a.extend_days for a in self.accommodations if a.end > anchor), default=0)

    def add(self, start: date, n: int) -> date:
        """The ``n``-th counting day strictly after ``start``."""
        if not self.accommodations or not any(a.pause for a in self.accommodations):
            if self.unit == "school":
                return self.calendar.school_days_after(start, n)
            return start + timedelta(days=n)
        day = start
        while n > 0:
            day += timedelta(days=1)
            if self._counts(day):
                n -= 1
        return day

    def elapsed(self, anchor: date, day: date) -> int:
        """Counting days d with ``anchor < d <= day``."""
        if not self.accommodations or not any(a.pause for a in self.accommodations):
            if self.unit == "school":
                return self.calendar.school_days_between(anchor, day)
            return max(0, (day - anchor).days)
        return sum(1 for i in range(1, (day - anchor).days + 1) if self._counts(anchor + timedelta(days=i)))

    def facts(self) -> dict[str, FactValue]:
        if not self.accommodations:
            return {}
        return {
            "accommodations": [
                f"{a.plan} {a.start.isoformat()}..{a.end.isoformat()}"
                + (" paused" if a.pause else "")
                + (f" +{a.extend_days}d" if a.extend_days else "")
                for a in self.accommodations
            ]
        }
