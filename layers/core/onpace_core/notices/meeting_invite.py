"""Calendar invitation drafts for one-on-one video meetings (``cps_chicago.meeting.one_on_one``).

Source: shared/seeds/002_4a577e05e1a1fcf6.txt: "The school principal or assistant principal, and
the student's parents/guardians, must be added to the meeting as optional meeting attendees. The
invitation must also be sent at least four (4) calendar days before the meeting." The draft is an
iCalendar ``METHOD:REQUEST`` with one ``VEVENT`` (RFC 5545 / RFC 5546), built with the
``icalendar`` package: the student is a required participant, the principal or assistant principal
and the guardians optional ones, the start lies in the program's time zone on or after the plan's
``meeting_earliest`` date, and the summary and description state the purpose and the recording
rule. The UID is derived from the notice id, so a rebuilt draft updates the same calendar entry.

The policy fixes the earliest date, not the hour: :func:`proposed_start` puts the draft on the
first school day allowed, at :data:`PROPOSED_TIME`, for the instructor to move before sending it on.

Pure: no clock (the caller passes ``stamp``), no network. The notify function attaches the draft
to the instructor's email (``delivery/invitation.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress, vText
from onpace_rules.calendar import ProgramCalendar
from onpace_rules.rules.chicago import MEETING_EARLIEST, address_domain, is_district_domain, normal_domain

PRODID = "-//OnPace//One-on-one meeting invitation//EN"
FILENAME = "meeting-invitation.ics"
# After the school day, when an instructor and a student are both likely to be free.
PROPOSED_TIME = time(16, 0)
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://onpace.invalid/meeting-invitation")

PersonRole = Literal["instructor", "student", "principal", "assistant_principal", "guardian"]
# Seed: the principal or assistant principal and the parents/guardians are "optional meeting attendees".
_ICAL_ROLE: dict[str, str] = {
    "student": "REQ-PARTICIPANT",
    "principal": "OPT-PARTICIPANT",
    "assistant_principal": "OPT-PARTICIPANT",
    "guardian": "OPT-PARTICIPANT",
}


class InvitationError(ValueError):
    """A draft that would break the meeting policy (too early, someone missing, a bad address)."""


@dataclass(frozen=True)
class Person:
    """Someone on the invitation: an email address, a display name, and their part in the meeting."""

    address: str
    role: PersonRole
    name: str | None = None


@dataclass(frozen=True)
class MeetingPlan:
    """What a ``cps_chicago.meeting.one_on_one`` notice decided, as the draft needs it."""

    notice_id: str
    purpose: str
    earliest: date
    recording_allowed: bool
    notice_days: int = 4
    platform: str = "Google Meet"
    consent_on: date | None = None
    class_title: str | None = None

    @classmethod
    def from_notice(
        cls,
        notice_id: str,
        facts: Mapping[str, Any],
        deadlines: Mapping[str, Any],
        class_title: str | None = None,
    ) -> MeetingPlan:
        """The plan from a recorded notice's facts and deadlines (dates as ``date`` or ISO strings)."""
        consent = facts.get("consent_on")
        return cls(
            notice_id=notice_id,
            purpose=str(facts["purpose"]),
            earliest=_as_date(deadlines[MEETING_EARLIEST]),
            recording_allowed=bool(facts["recording_allowed"]),
            notice_days=int(facts.get("notice_days", 4)),
            platform=str(facts.get("platform", "Google Meet")),
            consent_on=_as_date(consent) if consent else None,
            class_title=class_title,
        )


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def invitation_uid(notice_id: str) -> str:
    """The same UID for every draft of one notice, so calendars update rather than duplicate it."""
    return f"{uuid.uuid5(_UID_NAMESPACE, notice_id)}@onpace"


def proposed_start(
    plan: MeetingPlan, calendar: ProgramCalendar, *, stamp: datetime, at: time = PROPOSED_TIME
) -> datetime:
    """The first school day the policy allows for an invitation sent at ``stamp``, at ``at``.

    Naive wall-clock time in the calendar's zone, as :func:`meeting_invitation` takes it. An
    invitation sent later than the plan's day (a retried or re-driven notice) moves the date on,
    and calendar changes announced by then count.
    """
    if stamp.tzinfo is None:
        raise InvitationError("stamp must carry a UTC offset")
    sent_on = calendar.local_date(stamp)
    days = calendar.as_of(sent_on)
    earliest = max(plan.earliest, sent_on + timedelta(days=plan.notice_days))
    day = earliest if days.is_school_day(earliest) else days.school_days_after(earliest, 1)
    return datetime.combine(day, at)


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvitationError(f"unknown time zone {time_zone!r}") from exc


def local_start(start: datetime, zone: ZoneInfo) -> datetime:
    """``start`` in ``zone``; a naive time is read as wall-clock time there and must exist."""
    if start.tzinfo is not None:
        return start.astimezone(zone)
    local = start.replace(tzinfo=zone)
    # A wall-clock time skipped by the spring DST change does not survive the round trip.
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != start:
        raise InvitationError(f"{start.isoformat()} does not exist in {zone.key} (daylight-saving change)")
    return local


def _address(person: Person, student_domains: Sequence[str] | None, allow_subdomains: bool) -> str:
    domain = address_domain(person.address)
    if domain is None:
        raise InvitationError(f"the {person.role}'s address is not an email address")
    if person.role == "student" and student_domains is not None:
        allowed = [d for d in (normal_domain(x) for x in student_domains) if d is not None]
        if not is_district_domain(domain, allowed, allow_subdomains):
            # Seed: students communicate with staff "using student CPS email account" only.
            raise InvitationError(f"the student's address ({domain}) is not a district address")
    return person.address.strip()


def _check_invitees(attendees: Sequence[Person]) -> None:
    roles = [a.role for a in attendees]
    unknown = sorted({r for r in roles if r not in _ICAL_ROLE})
    if unknown:
        raise InvitationError(f"the policy does not name these attendees: {', '.join(unknown)}")
    if roles.count("student") != 1:
        raise InvitationError("a one-on-one meeting invites exactly one student")
    if not {"principal", "assistant_principal"} & set(roles):
        raise InvitationError("the principal or assistant principal must be invited (optional attendee)")
    if "guardian" not in roles:
        raise InvitationError("the student's parents/guardians must be invited (optional attendees)")


def _recording_text(plan: MeetingPlan) -> str:
    if plan.recording_allowed:
        signed = f" on {plan.consent_on.isoformat()}" if plan.consent_on else ""
        return (
            "Recording: this meeting should be recorded. A parent/guardian signed the CPS Written "
            f"Consent Form for Recording of Virtual Meetings{signed}. The student will be told at "
            "the start that the session is recorded; if the parent/guardian does not want the "
            "student recorded, the student may turn the camera off."
        )
    return (
        "Recording: this meeting may not be recorded, because no signed parent/guardian consent to "
        "recording is on file. It therefore cannot take place as a one-on-one session: the "
        "principal, the assistant principal or a parent/guardian must attend."
    )


def _description(plan: MeetingPlan) -> str:
    lines = [f"Purpose: {plan.purpose}."]
    if plan.class_title:
        lines.append(f"Class: {plan.class_title}.")
    lines += [
        f"Platform: {plan.platform} (all one-on-one remote meetings between staff and a student "
        f"take place on {plan.platform}).",
        "Invited: the student; the principal or assistant principal and the student's "
        "parents/guardians as optional attendees.",
        _recording_text(plan),
        f"This invitation is sent at least {plan.notice_days} calendar days before the meeting "
        f"(earliest allowed date: {plan.earliest.isoformat()}).",
    ]
    return "\n\n".join(lines)


def _calendar_address(person: Person, address: str) -> vCalAddress:
    value = vCalAddress(f"mailto:{address}")
    if person.name:
        value.params["CN"] = vText(" ".join(person.name.split()))
    return value


def meeting_invitation(
    plan: MeetingPlan,
    organizer: Person,
    attendees: Sequence[Person],
    time_zone: str,
    start: datetime,
    *,
    stamp: datetime,
    duration: timedelta = timedelta(minutes=30),
    student_domains: Sequence[str] | None = None,
    allow_subdomains: bool = False,
) -> bytes:
    """An iCalendar REQUEST for the meeting ``plan`` proposes, starting at ``start``.

    Seed 002: principal or assistant principal and parents/guardians "added to the meeting as
    optional meeting attendees"; "sent at least four (4) calendar days before the meeting".
    ``start`` (naive: wall-clock time in ``time_zone``) must fall on or after ``plan.earliest``
    there, and ``notice_days`` after the local date of ``stamp`` (when the draft is made and
    sent: DTSTAMP) when that is later. With ``student_domains`` the student's
    address must be a district address (channel policy). Raises :class:`InvitationError`.
    """
    zone = _zone(time_zone)
    begins = local_start(start, zone)
    if stamp.tzinfo is None:
        raise InvitationError("stamp must carry a UTC offset")
    # The four days count from the day the invitation actually goes out, if later than the plan's.
    earliest = max(plan.earliest, stamp.astimezone(zone).date() + timedelta(days=plan.notice_days))
    if begins.date() < earliest:
        raise InvitationError(
            f"the meeting on {begins.date().isoformat()} is too early: the invitation must be sent "
            f"at least {plan.notice_days} calendar days before it (earliest {earliest.isoformat()})"
        )
    if duration <= timedelta(0):
        raise InvitationError("the meeting needs a positive duration")
    _check_invitees(attendees)

    event = Event()
    event.add("uid", invitation_uid(plan.notice_id))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", 0)
    event.add("dtstart", begins)
    event.add("dtend", begins + duration)
    where = f" – {plan.class_title}" if plan.class_title else ""
    event.add("summary", f"One-on-one meeting ({plan.platform}){where}: {plan.purpose}")
    event.add("description", _description(plan))
    event.add("location", plan.platform)
    event.add("class", "PRIVATE")  # about one student: calendars should not show the details
    event.add("x-onpace-recording", "allowed" if plan.recording_allowed else "not-allowed")
    event.add("organizer", _calendar_address(organizer, _address(organizer, None, False)))
    seen: set[str] = set()
    for person in attendees:
        address = _address(person, student_domains, allow_subdomains)
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        value = _calendar_address(person, address)
        value.params["ROLE"] = vText(_ICAL_ROLE[person.role])
        value.params["PARTSTAT"] = vText("NEEDS-ACTION")
        value.params["RSVP"] = vText("TRUE")
        value.params["CUTYPE"] = vText("INDIVIDUAL")
        event.add("attendee", value)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")
    calendar.add_component(event)
    calendar.add_missing_timezones()  # a VTIMEZONE for the TZID of DTSTART/DTEND
    return bytes(calendar.to_ical())
