"""A program's configuration: who it is, its calendar, and which rules it applies with what values.

Validated with pydantic when loaded, so a mistake in a program file is reported at load time with
the field that is wrong, never discovered by a family on the day a notice should have gone out.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from onpace_rules.calendar import CalendarChangeRecord, ProgramCalendar, public_holiday_dates


def _known_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like America/Chicago") from exc
    return value


# An IANA time zone name, checked when a program file is loaded.
TimeZoneName = Annotated[str, AfterValidator(_known_time_zone)]
# A district id is part of every table key ("{district}#…") and of the console's sign-in claim, a
# comma-separated list: neither "#" nor "," may appear in one (issue 13, "Access").
DistrictId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="1 to 64 letters, digits, '.', '_' or '-' (no '#': the key separator)",
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
    kind: Literal["semester", "trimester", "quarter", "year", "session"] = "semester"
    season: Literal["fall", "spring", "summer", "winter"] | None = None
    ipr: date | None = Field(default=None, description="Pacing checkpoint (CPS IPR #1)")
    seniors_last_day: date | None = Field(default=None, description="Seniors' last day of attendance")

    @model_validator(mode="after")
    def _ordered(self) -> Term:
        if self.end < self.start:
            raise ValueError(f"term {self.id} ends ({self.end}) before it starts ({self.start})")
        for name in ("ipr", "seniors_last_day"):
            value = getattr(self, name)
            if value is not None and not self.start <= value <= self.end:
                raise ValueError(
                    f"term {self.id}: {name} {value} is outside the term {self.start}..{self.end}"
                )
        return self

    @property
    def midpoint(self) -> date:
        """The middle day of the term (the later one when the term has an even number of days)."""
        return self.start + timedelta(days=(self.end - self.start).days // 2)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


class PublicHolidays(_Strict):
    """Public holidays from the ``holidays`` package, e.g. ``{country: US, subdiv: MO}``."""

    country: str = Field(min_length=2, max_length=3)
    subdiv: str | None = None
    apply_to: Literal["business", "business_and_school"] = "business"


class CalendarChange(_Strict):
    """A change announced on ``announced`` (a snow day, a make-up day), effective from then on."""

    announced: date
    closed: tuple[date, ...] = Field(default=(), description="Days that stop being school days")
    opened: tuple[date, ...] = Field(default=(), description="Days that become school days (make-up)")
    reason: str = Field(min_length=1)


class CalendarConfig(_Strict):
    school_weekdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    holidays: tuple[date, ...] = Field(default=(), description="Closed: neither school nor business days")
    breaks: tuple[DateRange, ...] = Field(default=(), description="No school, but business days")
    public_holidays: PublicHolidays | None = None
    school_year_start: tuple[date, ...] = Field(default=(), description="First day of each school year")
    terms: tuple[Term, ...] = ()
    changes: tuple[CalendarChange, ...] = ()


class StaffContact(_Strict):
    name: str
    address: str
    title: str | None = Field(default=None, description="What the person is, e.g. School counselor")


def is_mail_address(value: str | None) -> bool:
    """Whether ``value`` is one address a family can write to (``local@domain.tld``), by the
    stdlib's header parser."""
    try:
        parsed = Address(addr_spec=(value or "").strip())
    except (HeaderParseError, ValueError, IndexError, TypeError):
        return False
    return bool(parsed.username) and "." in parsed.domain


def _mail_address(value: str) -> str:
    if not is_mail_address(value):
        raise ValueError(f"{value!r} is not an email address (write it like coordinator@district.org)")
    return value.strip()


class ContactPerson(StaffContact):
    """A person families are told to contact; their address is checked when the file is loaded."""

    address: Annotated[str, AfterValidator(_mail_address)]


def _notices_url(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    # A link in a text message is read on a phone: https only, and nothing that could break the
    # message (spaces, control characters).
    if not text.startswith("https://") or any(c.isspace() or ord(c) < 32 for c in text) or len(text) > 200:
        raise ValueError(f"{value!r} is not an https URL of at most 200 characters")
    return text


class QuietHours(_Strict):
    """When no text message is sent, in the program's time zone: from ``start`` to ``end`` (the
    default, 20:00 to 08:00, wraps midnight)."""

    start: time = Field(default=time(20, 0), description="Local time quiet hours begin (HH:MM)")
    end: time = Field(default=time(8, 0), description="Local time quiet hours end (HH:MM)")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")
        return self


class SmsSettings(_Strict):
    """Text messages to families who chose them (docs/notices.md, "Text messages")."""

    enabled: bool = Field(default=False, description="Whether the program sends text messages at all")
    guardians: bool = Field(
        default=False,
        description="Whether a guardian whose roster record says nothing about texts gets them "
        "(a roster yes/no always wins)",
    )
    students: bool = Field(
        default=False,
        description="Whether students who chose texts get them (never where a channel policy "
        "forbids it, e.g. Chicago's district_email_only)",
    )
    region: str = Field(
        default="US",
        pattern=r"^[A-Z]{2}$",
        description="Region (ISO 3166 alpha-2) of roster phone numbers written without a country code",
    )
    quiet_hours: QuietHours = QuietHours()


class NoticeSettings(_Strict):
    """Who signs a family notice, whom the family can answer, and which guardians are told.

    Catalogue "Recipients and contact data": "Every notice to a family names a person to contact,
    with name and address (the counselor, advisor, instructor or program contact that the rule's
    "who" column and the program name), and replies go to that person (Reply-To)"; "a student of
    18 or more (OneRoster ``demographics.csv`` ``birthDate``) is an eligible student and guardians
    get notices only where the program says so".
    """

    program_name: str = Field(min_length=1, description="Signs every notice, e.g. CPS Online")
    district_name: str = Field(min_length=1, description="Signs every notice, e.g. Columbia Public Schools")
    contact: ContactPerson = Field(
        description="The program contact: named (and Reply-To) when the rule names no counselor, "
        "advisor or instructor who can be reached"
    )
    guardians_of_eligible_students: bool = Field(
        default=False, description="Whether guardians of students 18 or older also get notices"
    )
    unknown_age: Literal["minor", "adult"] = Field(
        default="minor",
        description="How to treat a student without a birthDate: minor (K-12) or adult (a university)",
    )
    url: Annotated[str | None, AfterValidator(_notices_url)] = Field(
        default=None,
        description="The program's notices page (https): the link in text messages",
    )


class SendWindow(_Strict):
    """When family and staff emails go out, in the program's time zone (issue 12, item 6: "in a
    morning window in the program's time zone, never at night")."""

    start: time = Field(default=time(7, 0), description="Local time the window opens (e.g. 07:00)")
    end: time = Field(default=time(9, 0), description="Local time the window closes (e.g. 09:00)")

    @model_validator(mode="after")
    def _daytime(self) -> SendWindow:
        # Never at night, and never across midnight or a DST change (US and EU change at 01:00-03:00).
        if not time(6, 0) <= self.start < self.end <= time(21, 0):
            raise ValueError("send_window must open at 06:00 or later and close after it opens, by 21:00")
        if (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute) < 60:
            raise ValueError("send_window must last at least an hour (the dispatcher runs hourly)")
        return self


STAFF_ROLES = ("counselor", "advisor", "district_staff", "program_admin", "program_director")


ApprovalMode = Literal["automatic", "needs_approval"]


class PolicyVersion(_Strict):
    """A later version of the program's rules, in force from ``effective`` (inclusive).

    ``rules`` holds only what changes: parameter overrides merged onto the version before, and
    rule ids switched on (a mapping) or off (``null``).
    """

    version: str = Field(min_length=1)
    effective: date
    rules: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    note: str | None = None


class ProgramConfig(_Strict):
    district_id: DistrictId
    program_id: str
    name: str
    time_zone: TimeZoneName
    policy_version: str
    source: str = Field(description="Seed document the rules come from (shared/seeds/...)")
    org_ids: tuple[str, ...] = Field(default=(), description="OneRoster orgs whose classes belong here")
    default_language: str = Field(
        default="en",
        pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$",
        description="Language of notices to a contact whose roster gives none (a BCP 47 tag: en, es, "
        "es-MX); a language without a catalogue in functions/notify/locales is sent in English",
    )
    guardian_roles: tuple[Literal["parent", "guardian", "relative"], ...] = Field(
        default=("parent", "guardian"),
        min_length=1,
        description="OneRoster roles counted as a student's family contacts (guardians): parent, "
        "guardian, and relative when the program says so",
    )
    contacts: dict[str, tuple[StaffContact, ...]] = Field(
        default_factory=dict, description=f"Staff who receive notices, by role: {', '.join(STAFF_ROLES)}"
    )
    notices: NoticeSettings | None = Field(
        default=None,
        description="Signature, contact person and guardians of family notices; required (at load) "
        "when a rule the program switches on writes to a student or a family",
    )
    sms: SmsSettings = Field(
        default_factory=SmsSettings,
        description="Text messages to guardians (and students, where allowed) who chose them",
    )
    send_window: SendWindow = Field(
        default=SendWindow(),
        description="Local times between which notices are emailed (default 07:00-09:00)",
    )
    evaluation_shards: int = Field(default=1, ge=1, le=64)
    calendar: CalendarConfig = CalendarConfig()
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Enabled rule ids, each with its parameter overrides"
    )
    versions: tuple[PolicyVersion, ...] = Field(
        default=(), description="Later policy versions, each in force from its effective date"
    )
    approvals: dict[str, ApprovalMode] = Field(
        default_factory=dict, description="Per action rule id: automatic (default) or needs_approval"
    )

    @model_validator(mode="after")
    def _versions_in_order(self) -> ProgramConfig:
        dates = [v.effective for v in self.versions]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("versions must be in order of their effective dates, one per date")
        named = set(self.rules) | {r for v in self.versions for r in v.rules}
        stray = sorted(set(self.approvals) - named)
        if stray:
            raise ValueError(f"approvals name rules the program does not switch on: {', '.join(stray)}")
        labels = [self.policy_version, *(v.version for v in self.versions)]
        if len(set(labels)) != len(labels):
            raise ValueError("every policy version needs a label of its own")
        return self

    def versioned(self) -> list[tuple[date | None, ProgramConfig]]:
        """(effective date, the configuration in force from then on) for the base and each version."""
        result: list[tuple[date | None, ProgramConfig]] = [(None, self)]
        rules = {k: dict(v) for k, v in self.rules.items()}
        for version in self.versions:
            for rule_id, overrides in version.rules.items():
                if overrides is None:
                    rules.pop(rule_id, None)
                else:
                    rules[rule_id] = {**rules.get(rule_id, {}), **overrides}
            config = self.model_copy(
                update={"policy_version": version.version, "rules": {k: dict(v) for k, v in rules.items()}}
            )
            result.append((version.effective, config))
        return result

    @property
    def key(self) -> str:
        return f"{self.district_id}#{self.program_id}"

    def build_calendar(self) -> ProgramCalendar:
        breaks = frozenset(d for r in self.calendar.breaks for d in r.days())
        holidays = frozenset(self.calendar.holidays)
        office_closed: frozenset[date] = frozenset()
        public = self.calendar.public_holidays
        if public is not None:
            found = public_holiday_dates(public.country, public.subdiv, self._years())
            if public.apply_to == "business_and_school":
                holidays |= found
            else:
                # The district's school calendar decides school days; public holidays close
                # the office, so they only take business days away.
                office_closed = found - holidays
        return ProgramCalendar(
            time_zone=self.time_zone,
            holidays=holidays,
            breaks=breaks,
            school_weekdays=self.calendar.school_weekdays,
            office_closed=office_closed,
            changes=self._changes(),
        )

    def _changes(self) -> tuple[CalendarChangeRecord, ...]:
        return tuple(
            CalendarChangeRecord(c.announced, frozenset(c.closed), frozenset(c.opened), c.reason)
            for c in sorted(self.calendar.changes, key=lambda c: c.announced)
        )

    def _years(self) -> range:
        days = [t.start for t in self.calendar.terms] + [t.end for t in self.calendar.terms]
        days += list(self.calendar.holidays) + list(self.calendar.school_year_start)
        if not days:
            return range(2000, 2100)
        return range(min(days).year - 1, max(days).year + 2)

    def enrollment_term(self, term_id: str | None, start: date) -> Term | None:
        """An enrollment's term: the one its roster names, else the one containing its start."""
        return self.term(term_id) or self.term_on(start)

    def term_on(self, day: date) -> Term | None:
        """The term that contains ``day`` (the first one listed, if terms overlap)."""
        for term in self.calendar.terms:
            if term.contains(day):
                return term
        return None

    def school_year_of(self, day: date) -> date | None:
        """The start of the school year ``day`` falls in (None before the first listed start)."""
        starts = [s for s in self.calendar.school_year_start if s <= day]
        return max(starts) if starts else None

    def term(self, term_id: str | None) -> Term | None:
        for term in self.calendar.terms:
            if term.id == term_id:
                return term
        return None
