"""Reading the iCalendar invitations the tests build or receive."""

from __future__ import annotations

from icalendar import Calendar, Event, vCalAddress


def parse_invitation(data: bytes) -> tuple[Calendar, Event]:
    """The calendar and its one VEVENT."""
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    assert isinstance(event, Event)
    return calendar, event


def attendees(event: Event) -> list[vCalAddress]:
    found = event["ATTENDEE"]
    listed = found if isinstance(found, list) else [found]
    people = [a for a in listed if isinstance(a, vCalAddress)]
    assert len(people) == len(listed)
    return people


def attendee_roles(event: Event) -> dict[str, str]:
    """mailto address -> ROLE of each ATTENDEE."""
    return {str(a): str(a.params["ROLE"]) for a in attendees(event)}
