"""The calendar entry (``deadline.ics``) of a notice that states a deadline (issue 12, item 2).

Catalogue (shared/design/policies.md, "Every notice carries"): "the deadline(s) it announces as
dates in the program's time zone". Those are the outbox item's ``deadlines`` (name -> ISO date),
set by the rule that decided the notice. Every name in :data:`DEADLINE_MEANINGS` becomes one
``VEVENT`` of one iCalendar object (``METHOD:PUBLISH``, RFC 5545 / RFC 5546) that goes with every
email of the notice; the names in :data:`NOT_DEADLINES` are dates a notice states that nobody has
to act by, and get none. docs/notices.md lists the rules and their deadline names.

- UID: a name-based UUID of (notice id, deadline name). The notice id is
  ``{enrollment}#{rule id}#{episode}``, so the UID is stable per (enrollment, rule, episode,
  deadline) and leaves the date out: a notice whose deadline moves replaces its calendar entry.
  Being a SHA-1 based UUID it does not show the enrollment key (which names the student).
- DTSTAMP: when the decision was recorded (the item's ``created_at``), not the clock of the send,
  so a retried send builds the same bytes.
- SEQUENCE: the whole seconds from :data:`SEQUENCE_EPOCH` to DTSTAMP. A later decision about the
  same deadline therefore always carries a higher SEQUENCE (RFC 5546 section 2.1.5: the higher
  one wins), without keeping a counter anywhere. It fits RFC 5545's INTEGER until 2092.
- DTSTART: a date is an all-day event (``VALUE=DATE``, floating by RFC 5545 section 3.3.4, which
  is what "a date in the program's time zone" means), with DTEND the next day. A deadline with a
  time (none of today's rules has one) is a timed event in the program's zone: TZID plus the
  ``VTIMEZONE`` icalendar derives from the zone database.

``icalendar`` is imported when a calendar is built, not with this module (cold start).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PRODID = "-//OnPace//Notice deadlines//EN"
FILENAME = "deadline.ics"
METHOD = "PUBLISH"
SEQUENCE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://onpace.invalid/notice-deadline")

#: Deadline name (policies.md "Deadline names") -> what the day means, as the entry's title.
DEADLINE_MEANINGS: dict[str, str] = {
    "ipr": "Progress checkpoint (IPR): the required percent complete is due",
    "appeal": "Last day to appeal",
    "last_day": "Last day to act: activity on this day still prevents the action",
    "drop": "Drop from the course takes effect",
    "withdrawal": "Administrative withdrawal takes effect",
    "removal": "Removal from the course takes effect",
    "reenroll": "Last day to re-enroll",
    "decision_due": "Application decision due",
    "extension_end": "Extended course end date",
    "grade_final": "Grade verification window closes",
}
#: Dates a notice states that are no deadline: the semester a failure-to-thrive block covers, and
#: the first day a Chicago one-on-one meeting may take place (it has its own invitation).
NOT_DEADLINES = frozenset({"block_start", "block_end", "meeting_earliest"})


@dataclass(frozen=True)
class Deadline:
    """One deadline a notice states: its name and its day (or its time, when it has one)."""

    name: str
    when: date | datetime

    @property
    def meaning(self) -> str:
        return DEADLINE_MEANINGS[self.name]


@dataclass(frozen=True)
class NoticeDeadlines:
    """What the calendar of one notice is built from (the outbox item's fields)."""

    notice_id: str
    rule_title: str
    decided_at: datetime
    deadlines: tuple[Deadline, ...]
    class_title: str | None = None
    program_name: str | None = None


def parse_when(value: Any) -> date | datetime:
    """A stored deadline value: an ISO date, or an ISO date and time (``date``/``datetime`` as is)."""
    if isinstance(value, date):
        return value
    text = str(value)
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


def calendar_deadlines(deadlines: Mapping[str, Any]) -> tuple[Deadline, ...]:
    """The deadlines among a notice's dated names, in date order (then name), for the calendar."""
    found = [Deadline(name, parse_when(v)) for name, v in deadlines.items() if name in DEADLINE_MEANINGS]
    return tuple(sorted(found, key=lambda d: (_day(d.when), d.name)))


def _day(when: date | datetime) -> date:
    return when.date() if isinstance(when, datetime) else when


def has_time(deadlines: Sequence[Deadline]) -> bool:
    return any(isinstance(d.when, datetime) for d in deadlines)


def deadline_uid(notice_id: str, name: str) -> str:
    """The same UID for every version of one deadline of one notice (never the date, never an id in clear)."""
    return f"{uuid.uuid5(_UID_NAMESPACE, f'{notice_id}#{name}')}@onpace"


def sequence(decided_at: datetime) -> int:
    """RFC 5545 SEQUENCE: seconds since :data:`SEQUENCE_EPOCH`, so a later decision ranks higher."""
    return max(0, int((decided_at.astimezone(UTC) - SEQUENCE_EPOCH).total_seconds()))


def _summary(deadline: Deadline, notice: NoticeDeadlines) -> str:
    about = f" – {notice.class_title}" if notice.class_title else ""
    return f"{deadline.meaning}{about}"


def _description(deadline: Deadline, notice: NoticeDeadlines, time_zone: str | None) -> str:
    day = deadline.when.isoformat()
    where = f" ({time_zone})" if time_zone and isinstance(deadline.when, datetime) else ""
    lines = [f"{deadline.meaning}: {day}{where}.", f"Notice: {notice.rule_title}."]
    if notice.class_title:
        lines.append(f"Class: {notice.class_title}.")
    if notice.program_name:
        lines.append(f"From: {notice.program_name}. The email this entry came with says what to do.")
    return "\n".join(lines)


def _timed(when: datetime, time_zone: str | None) -> datetime:
    """``when`` in the program's zone; a naive time is wall-clock time there."""
    zone = ZoneInfo(time_zone) if time_zone else UTC
    return when.astimezone(zone) if when.tzinfo is not None else when.replace(tzinfo=zone)


def deadline_calendar(notice: NoticeDeadlines, time_zone: str | None = None) -> bytes:
    """The ``METHOD:PUBLISH`` iCalendar object with one VEVENT per deadline of ``notice``.

    ``time_zone`` (the program's IANA zone) is needed only for deadlines with a time; dates are
    all-day events. Raises ``ValueError`` for a notice without deadlines or a naive ``decided_at``.
    """
    if not notice.deadlines:
        raise ValueError("a deadline calendar needs at least one deadline")
    return deadlines_calendar((notice,), time_zone)


def deadlines_calendar(notices: Sequence[NoticeDeadlines], time_zone: str | None = None) -> bytes:
    """One ``METHOD:PUBLISH`` iCalendar object with every deadline of every one of ``notices``
    (a household digest's ``deadline.ics``): each VEVENT is the one the notice's own calendar
    would carry (same UID, DTSTAMP and SEQUENCE), so a calendar that got either keeps one entry."""
    if not any(n.deadlines for n in notices):
        raise ValueError("a deadline calendar needs at least one deadline")
    if any(n.decided_at.tzinfo is None for n in notices):
        raise ValueError("decided_at must carry a UTC offset")
    from icalendar import Calendar  # lazily: a cold start must not import icalendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", METHOD)
    for notice in notices:
        _add_events(calendar, notice, time_zone)
    calendar.add_missing_timezones()  # a VTIMEZONE for each TZID of a timed deadline
    return bytes(calendar.to_ical())


def _add_events(calendar: Any, notice: NoticeDeadlines, time_zone: str | None) -> None:
    from icalendar import Event

    stamp = notice.decided_at.astimezone(UTC)
    for deadline in notice.deadlines:
        event = Event()
        event.add("uid", deadline_uid(notice.notice_id, deadline.name))
        event.add("dtstamp", stamp)
        event.add("sequence", sequence(stamp))
        if isinstance(deadline.when, datetime):
            at = _timed(deadline.when, time_zone)
            event.add("dtstart", at)
            event.add("dtend", at)  # a moment: zero duration
        else:
            event.add("dtstart", deadline.when)
            event.add("dtend", deadline.when + timedelta(days=1))
        event.add("summary", _summary(deadline, notice))
        event.add("description", _description(deadline, notice, time_zone))
        event.add("categories", ["Deadline"])
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        event.add("class", "PRIVATE")  # about one student: shared calendars should not show it
        event.add("x-onpace-deadline", deadline.name)
        calendar.add_component(event)
