"""Deadline notices through the notify function and moto server's SES: every email of a notice
that states a deadline carries ``deadline.ics`` (``text/calendar; method=PUBLISH``), a notice
without one carries no calendar part.

The raw messages are read back from moto server (``LocalStack.sent_emails``), as in ``test_notify.py``.
"""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage

import pytest
from icalendar import Calendar, Event
from onpace_core.notices.deadline_calendar import deadline_uid
from onpace_core.store.models import Contact
from onpace_local.stack import LocalStack

from tests.integration.test_notify import _event_for, _insert, _notice, _refreshed, _sent

pytestmark = pytest.mark.integration


def _calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [
        p for p in message.walk() if isinstance(p, EmailMessage) and p.get_content_type() == "text/calendar"
    ]


def _vevents(part: EmailMessage) -> dict[str, Event]:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = Calendar.from_ical(payload)
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = [e for e in calendar.walk("VEVENT") if isinstance(e, Event)]
    return {str(e["X-ONPACE-DEADLINE"]): e for e in events}


def test_every_email_of_a_deadline_notice_carries_its_calendar(local_stack: LocalStack) -> None:
    # A course title with line breaks and iCalendar syntax: text in the entry, never a new line.
    title = "Biology Online\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:x"
    item = _insert(_notice(class_title=title))  # deadlines: ipr 2026-10-09, drop 2026-10-10

    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}

    sent = _sent(local_stack, item.notice_id)
    assert len(sent) == 3
    payloads = set()
    for to, message, _ in sent:
        assert message.get_content_type() == "multipart/mixed", to
        (part,) = _calendar_parts(message)
        assert part.get_filename() == "deadline.ics"
        assert part.get_param("method") == "PUBLISH" and part.get_content_charset() == "utf-8"
        events = _vevents(part)
        assert set(events) == {"ipr", "drop"}  # one VEVENT per deadline, nothing injected
        assert events["ipr"].decoded("DTSTART") == date(2026, 10, 9)
        assert events["drop"].decoded("DTSTART") == date(2026, 10, 10)
        assert str(events["drop"]["UID"]) == deadline_uid(item.notice_id, "drop")
        assert "stu-1" not in str(events["drop"]["UID"])
        assert str(events["ipr"]["SUMMARY"]).startswith("Progress checkpoint (IPR)")
        assert "\nEND:VEVENT\nBEGIN:VEVENT\nUID:x" in str(events["ipr"]["SUMMARY"])
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        payloads.add(payload)
    assert len(payloads) == 1  # the same entries for every recipient
    assert _refreshed(item).status == "sent"


def test_a_notice_without_deadlines_carries_no_calendar(local_stack: LocalStack) -> None:
    instructor = Contact(role="instructor", address="m.tran@school.example", name="Ms Tran", language="en")
    item = _insert(
        _notice(
            "msc.progress.step1_contact",
            deadlines={},
            facts={"days_without_submission": 3, "last_submission_date": "2026-09-20"},
            recipients=[instructor],
            reply_to=None,
        )
    )

    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}

    ((to, message, _),) = _sent(local_stack, item.notice_id)
    assert to == "m.tran@school.example"
    assert message.get_content_type() == "multipart/alternative" and _calendar_parts(message) == []
    assert _refreshed(item).status == "sent"
