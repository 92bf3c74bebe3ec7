"""The ``deadline.ics`` of a notice that states deadlines, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar, Event
from onpace_core.delivery.deadlines import deadline_attachment
from onpace_core.notices.deadline_calendar import (
    DEADLINE_MEANINGS,
    FILENAME,
    NOT_DEADLINES,
    Deadline,
    NoticeDeadlines,
    calendar_deadlines,
    deadline_calendar,
    deadline_uid,
    sequence,
)
from onpace_core.store.models import Contact, OutboxModel

NOTICE_ID = "d-1#alg-1#stu-4711#cps.participation.drop_20d#lapse-2026-09-14"
DECIDED = datetime(2026, 10, 9, 11, 5, tzinfo=UTC)


def _notice(deadlines: dict[str, Any], decided_at: datetime = DECIDED, **overrides: Any) -> NoticeDeadlines:
    fields: dict[str, Any] = {
        "notice_id": NOTICE_ID,
        "rule_title": "Participation drop after 20 school days",
        "decided_at": decided_at,
        "deadlines": calendar_deadlines(deadlines),
        "class_title": "Algebra I",
        "program_name": "CPS Online",
    }
    return NoticeDeadlines(**(fields | overrides))


def _events(ical: bytes) -> tuple[Calendar, list[Event]]:
    calendar = Calendar.from_ical(ical)
    events = [e for e in calendar.walk("VEVENT") if isinstance(e, Event)]
    return calendar, events


def _by_name(events: list[Event]) -> dict[str, Event]:
    return {str(e["X-ONPACE-DEADLINE"]): e for e in events}


def test_one_all_day_event_per_deadline_published() -> None:
    calendar, events = _events(deadline_calendar(_notice({"appeal": "2026-10-13", "drop": "2026-10-09"})))

    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    assert len(events) == 2
    found = _by_name(events)
    appeal = found["appeal"]
    # All-day: a DATE value (floating, the program-local day), ending the next day.
    assert appeal.decoded("DTSTART") == date(2026, 10, 13)
    assert not isinstance(appeal.decoded("DTSTART"), datetime)
    assert appeal.decoded("DTEND") == date(2026, 10, 14)
    assert "VALUE=DATE:20261013" in appeal.to_ical().decode()
    assert str(appeal["SUMMARY"]) == "Last day to appeal – Algebra I"
    description = str(appeal["DESCRIPTION"])
    assert "Participation drop after 20 school days" in description and "2026-10-13" in description
    assert found["drop"].decoded("DTSTART") == date(2026, 10, 9)
    # The decision's time, not the clock of the send.
    assert appeal.decoded("DTSTAMP") == DECIDED
    assert calendar.walk("VTIMEZONE") == []  # no TZID for all-day dates


def test_uid_is_stable_when_the_date_moves_and_sequence_rises() -> None:
    first = _by_name(_events(deadline_calendar(_notice({"appeal": "2026-10-13"})))[1])["appeal"]
    later = DECIDED + timedelta(days=3)
    moved = _by_name(_events(deadline_calendar(_notice({"appeal": "2026-10-16"}, later)))[1])["appeal"]

    assert str(first["UID"]) == str(moved["UID"]) == deadline_uid(NOTICE_ID, "appeal")
    assert moved.decoded("DTSTART") == date(2026, 10, 16)
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"]) >= 0
    assert int(moved["SEQUENCE"]) == sequence(later) < 2**31  # RFC 5545 INTEGER


def test_uids_differ_per_deadline_and_notice_and_hide_the_student() -> None:
    uids = {
        deadline_uid(NOTICE_ID, "appeal"),
        deadline_uid(NOTICE_ID, "drop"),
        deadline_uid(NOTICE_ID.replace("lapse-2026-09-14", "lapse-2026-11-02"), "appeal"),
        deadline_uid(NOTICE_ID.replace("stu-4711", "stu-4712"), "appeal"),
    }
    assert len(uids) == 4
    assert all("stu-4711" not in uid and "d-1" not in uid for uid in uids)


def test_the_same_notice_builds_the_same_bytes() -> None:
    deadlines = {"last_day": "2026-10-08", "drop": "2026-10-09"}
    assert deadline_calendar(_notice(deadlines)) == deadline_calendar(_notice(deadlines))


def test_a_timed_deadline_is_in_the_program_zone_with_a_vtimezone() -> None:
    ical = deadline_calendar(_notice({"appeal": "2026-10-13T23:59:00"}), "America/Chicago")
    calendar, (event,) = _events(ical)

    start = event.decoded("DTSTART")
    assert isinstance(start, datetime)
    assert start.isoformat() == "2026-10-13T23:59:00-05:00"  # CDT
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/Chicago"
    # An instant with an offset is shown in the program's zone.
    utc = deadline_calendar(_notice({"appeal": "2026-10-14T04:59:00+00:00"}), "America/Chicago")
    assert _events(utc)[1][0].decoded("DTSTART") == start


def test_line_breaks_and_ical_syntax_in_a_course_title_stay_text() -> None:
    title = "Algebra\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil;x,y\nSUMMARY:owned"
    ical = deadline_calendar(_notice({"appeal": "2026-10-13"}, class_title=title))
    _, (event,) = _events(ical)  # still one event: nothing was injected

    lines = ical.decode().split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 1 and not any(line.startswith("UID:evil") for line in lines)
    assert str(event["SUMMARY"]).endswith("Algebra\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil;x,y\nSUMMARY:owned")
    assert str(event["UID"]) == deadline_uid(NOTICE_ID, "appeal")


def test_only_deadlines_become_events() -> None:
    stated = {"block_start": "2027-01-19", "block_end": "2027-05-28", "meeting_earliest": "2026-01-27"}
    assert set(stated) <= NOT_DEADLINES
    assert calendar_deadlines(stated) == ()
    picked = calendar_deadlines({**stated, "reenroll": "2026-02-17", "removal": "2026-02-10"})
    assert picked == (Deadline("removal", date(2026, 2, 10)), Deadline("reenroll", date(2026, 2, 17)))
    assert not set(DEADLINE_MEANINGS) & NOT_DEADLINES
    with pytest.raises(ValueError, match="at least one deadline"):
        deadline_calendar(_notice(stated))


def _outbox(deadlines: dict[str, str]) -> OutboxModel:
    return OutboxModel(
        notice_id=NOTICE_ID,
        district_id="d-1",
        program_id="prog",
        enrollment_key="d-1#alg-1#stu-4711",
        student_id="stu-4711",
        class_id="alg-1",
        class_title="Algebra I",
        rule_id="cps.participation.drop_20d",
        episode="lapse-2026-09-14",
        kind="action",
        policy_version="2026.1",
        decided_on="2026-10-09",
        due_on="2026-10-09",
        deadlines=deadlines,
        recipients=[Contact(role="student", address="s@school.example")],
        status="pending",
        created_at="2026-10-09T11:05:00.000000Z",
    )


def test_the_attachment_of_an_outbox_item_reads_nothing_for_dates() -> None:
    def no_read(_: OutboxModel) -> str | None:
        raise AssertionError("an all-day deadline needs no program read")

    attachment = deadline_attachment(_outbox({"appeal": "2026-10-13"}), no_read)
    assert attachment is not None
    assert attachment.filename == FILENAME and attachment.mime_type == "text/calendar"
    assert dict(attachment.params) == {"method": "PUBLISH", "charset": "utf-8"}
    _, (event,) = _events(attachment.content)
    assert "Participation drop" in str(event["DESCRIPTION"])  # the rule's title
    assert event.decoded("DTSTAMP") == DECIDED
    assert deadline_attachment(_outbox({}), no_read) is None
    assert deadline_attachment(_outbox({"meeting_earliest": "2026-10-13"}), no_read) is None
    timed = deadline_attachment(_outbox({"appeal": "2026-10-13T17:00:00"}), lambda _: "America/Denver")
    assert timed is not None
    _, (event,) = _events(timed.content)
    assert event.decoded("DTSTART").isoformat() == "2026-10-13T17:00:00-06:00"
