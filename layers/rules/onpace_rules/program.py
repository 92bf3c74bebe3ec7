"""A program's configuration: who it is, its calendar, and which rules it applies with what values.

Validated with pydantic when loaded, so a mistake in a program file is reported at load time with
the field that is wrong, never discovered by a family on the day a notice should have gone out.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onpace_rules.calendar import ProgramCalendar


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateRange(_Strict):
    """An inclusive range of days, e.g. a break: ``{start: 2026-11-23, end: 2026-11-27}``."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"range ends ({self.end}) before it starts ({self.start})")
        return self

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


class Term(_Strict):
    """A term of the program; ``id`` is the OneRoster academicSession sourcedId."""

    id: str
    start: date
    end: date
    ipr: date | None = Field(default=None, description="Pacing checkpoint (CPS IPR #1)")


class CalendarConfig(_Strict):
    school_weekdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    holidays: tuple[date, ...] = Field(default=(), description="Closed: neither school nor business days")
    breaks: tuple[DateRange, ...] = Field(default=(), description="No school, but business days")
    terms: tuple[Term, ...] = ()


class StaffContact(_Strict):
    name: str
    address: str


STAFF_ROLES = ("counselor", "advisor", "district_staff", "program_admin")


class ProgramConfig(_Strict):
    district_id: str
    program_id: str
    name: str
    time_zone: str
    policy_version: str
    source: str = Field(description="Seed document the rules come from (shared/seeds/...)")
    org_ids: tuple[str, ...] = Field(default=(), description="OneRoster orgs whose classes belong here")
    default_language: str = "en"
    contacts: dict[str, tuple[StaffContact, ...]] = Field(
        default_factory=dict, description=f"Staff who receive notices, by role: {', '.join(STAFF_ROLES)}"
    )
    evaluation_shards: int = Field(default=1, ge=1, le=64)
    calendar: CalendarConfig = CalendarConfig()
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Enabled rule ids, each with its parameter overrides"
    )

    @property
    def key(self) -> str:
        return f"{self.district_id}#{self.program_id}"

    def build_calendar(self) -> ProgramCalendar:
        breaks = frozenset(d for r in self.calendar.breaks for d in r.days())
        return ProgramCalendar(
            time_zone=self.time_zone,
            holidays=frozenset(self.calendar.holidays),
            breaks=breaks,
            school_weekdays=self.calendar.school_weekdays,
        )

    def term(self, term_id: str | None) -> Term | None:
        for term in self.calendar.terms:
            if term.id == term_id:
                return term
        return None
