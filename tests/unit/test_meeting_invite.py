"""The calendar invitation draft for a one-on-one meeting, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from onpace_core.notices.meeting_invite import (
    PROPOSED_TIME,
    InvitationError,
    MeetingPlan,
    Person,
    invitation_uid,
    meeting_invitation,
    proposed_start,
)
from onpace_rules.calendar import CalendarChangeRecord, ProgramCalendar

from tests.ical import attendee_roles, attendees, parse_invitation

CHICAGO = "America/Chicago"
NOTICE = "d-1#cls-1#stu-1#cps_chicago.meeting.one_on_one#msc.progress.step1_contact#since-2026-10-26"
PURPOSE = "to agree on a schedule for completing the missing work"
# The plan made with the prompt of Thu 2026-10-29: earliest meeting Mon 2026-11-02, after the
# weekend and after the change back to standard time on Sun 2026-11-01.
PLAN = MeetingPlan(
    notice_id=NOTICE,
    purpose=PURPOSE,
    earliest=date(2026, 11, 2),
    recording_allowed=False,
    class_title="Algebra I",
)
STAMP = datetime(2026, 10, 29, 14, 0, tzinfo=UTC)
ORGANIZER = Person("m.tran@cps.edu", "instructor", "Ms Tran")
ATTENDEES = (
    Person("jamie.rivera@cps.edu", "student", "Jamie Rivera"),
    Person("principal@cps.edu", "principal", "Dr Okafor"),
    Person("ana.rivera@example.com", "guardian", "Ana Rivera"),
    Person("luis.rivera@example.com", "guardian", "Luis Rivera"),
)


def _invite(start: datetime, plan: MeetingPlan = PLAN, **kw: object) -> bytes:
    return meeting_invitation(plan, ORGANIZER, ATTENDEES, CHICAGO, start, stamp=STAMP, **kw)  # type: ignore[arg-type]


def test_draft_is_a_request_with_organizer_and_attendeeattendee_roles() -> None:
    calendar, event = parse_invitation(_invite(datetime(2026, 11, 2, 10, 0)))
    assert str(calendar["METHOD"]) == "REQUEST" and str(calendar["VERSION"]) == "2.0"
    assert str(event["ORGANIZER"]) == "mailto:m.tran@cps.edu"
    assert str(event["ORGANIZER"].params["CN"]) == "Ms Tran"
    assert attendee_roles(event) == {
        "mailto:jamie.rivera@cps.edu": "REQ-PARTICIPANT",
        "mailto:principal@cps.edu": "OPT-PARTICIPANT",
        "mailto:ana.rivera@example.com": "OPT-PARTICIPANT",
        "mailto:luis.rivera@example.com": "OPT-PARTICIPANT",
    }
    assert all(str(a.params["RSVP"]) == "TRUE" for a in attendees(event))
    assert str(event["CLASS"]) == "PRIVATE"
    assert str(event["LOCATION"]) == "Google Meet"


def test_summary_and_description_state_the_purpose_and_the_recording_rule() -> None:
    _, event = parse_invitation(_invite(datetime(2026, 11, 2, 10, 0)))
    assert PURPOSE in str(event["SUMMARY"]) and "Algebra I" in str(event["SUMMARY"])
    description = str(event["DESCRIPTION"])
    assert f"Purpose: {PURPOSE}." in description
    assert "may not be recorded" in description
    assert "the principal, the assistant principal or a parent/guardian must attend" in description
    assert "at least 4 calendar days before the meeting (earliest allowed date: 2026-11-02)" in description
    assert str(event["X-ONPACE-RECORDING"]) == "not-allowed"


def test_with_consent_the_meeting_should_be_recorded_and_the_student_told() -> None:
    plan = MeetingPlan(
        notice_id=NOTICE,
        purpose=PURPOSE,
        earliest=date(2026, 11, 2),
        recording_allowed=True,
        consent_on=date(2026, 10, 20),
    )
    _, event = parse_invitation(_invite(datetime(2026, 11, 2, 10, 0), plan))
    description = str(event["DESCRIPTION"])
    assert "should be recorded" in description and "2026-10-20" in description
    assert "told at the start that the session is recorded" in description
    assert "must attend" not in description
    assert str(event["X-ONPACE-RECORDING"]) == "allowed"


def test_start_is_in_the_program_time_zone_across_the_dst_change() -> None:
    calendar, event = parse_invitation(_invite(datetime(2026, 11, 2, 10, 0)))
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(event["DTSTART"].params["TZID"]) == CHICAGO
    assert start.replace(tzinfo=None) == datetime(2026, 11, 2, 10, 0)
    assert start.astimezone(UTC) == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)  # CST, UTC-6
    assert event.decoded("DTEND") - start == timedelta(minutes=30)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [CHICAGO]
    # The same wall-clock hour a week earlier (CDT) is 15:00 UTC: the zone, not a fixed offset.
    early = MeetingPlan(
        notice_id=NOTICE, purpose=PURPOSE, earliest=date(2026, 10, 26), recording_allowed=False
    )
    stamp = datetime(2026, 10, 22, 14, tzinfo=UTC)
    data = meeting_invitation(early, ORGANIZER, ATTENDEES, CHICAGO, datetime(2026, 10, 26, 10), stamp=stamp)
    assert parse_invitation(data)[1].decoded("DTSTART").astimezone(UTC) == datetime(
        2026, 10, 26, 15, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        (datetime(2026, 11, 1, 23, 59), False),  # the day before the earliest date
        (datetime(2026, 11, 2, 0, 0), True),  # the earliest date itself
        (datetime(2026, 11, 3, 9, 0), True),  # the day after
        (datetime(2026, 11, 2, 5, 59, tzinfo=UTC), False),  # 23:59 on Nov 1 in Chicago
        (datetime(2026, 11, 2, 6, 0, tzinfo=UTC), True),  # midnight on Nov 2 in Chicago
    ],
)
def test_no_meeting_before_the_earliest_date(start: datetime, ok: bool) -> None:
    if ok:
        _, event = parse_invitation(_invite(start))
        assert event.decoded("DTSTART").astimezone(ZoneInfo(CHICAGO)).date() >= PLAN.earliest
    else:
        with pytest.raises(InvitationError, match="too early"):
            _invite(start)


def test_an_invitation_sent_later_than_the_plan_moves_the_earliest_date() -> None:
    late = datetime(2026, 10, 31, 15, tzinfo=UTC)  # sent Saturday: four days later is Wednesday
    with pytest.raises(InvitationError, match="earliest 2026-11-04"):
        meeting_invitation(PLAN, ORGANIZER, ATTENDEES, CHICAGO, datetime(2026, 11, 3, 10), stamp=late)
    data = meeting_invitation(PLAN, ORGANIZER, ATTENDEES, CHICAGO, datetime(2026, 11, 4, 10), stamp=late)
    assert parse_invitation(data)[1].decoded("DTSTAMP") == late


def test_a_wall_clock_time_skipped_by_dst_is_refused() -> None:
    spring = MeetingPlan(
        notice_id=NOTICE, purpose=PURPOSE, earliest=date(2026, 3, 8), recording_allowed=False
    )
    stamp = datetime(2026, 3, 4, 14, tzinfo=UTC)
    with pytest.raises(InvitationError, match="does not exist"):
        meeting_invitation(spring, ORGANIZER, ATTENDEES, CHICAGO, datetime(2026, 3, 8, 2, 30), stamp=stamp)
    data = meeting_invitation(spring, ORGANIZER, ATTENDEES, CHICAGO, datetime(2026, 3, 8, 3, 30), stamp=stamp)
    assert parse_invitation(data)[1].decoded("DTSTART").astimezone(UTC) == datetime(
        2026, 3, 8, 8, 30, tzinfo=UTC
    )


def test_uid_is_stable_per_notice() -> None:
    first = parse_invitation(_invite(datetime(2026, 11, 2, 10)))[1]
    moved = parse_invitation(_invite(datetime(2026, 11, 5, 13)))[1]
    other_plan = MeetingPlan(
        notice_id=NOTICE.replace("2026-10-26", "2026-11-09"),
        purpose=PURPOSE,
        earliest=date(2026, 11, 2),
        recording_allowed=False,
    )
    other = parse_invitation(_invite(datetime(2026, 11, 2, 10), other_plan))[1]
    assert str(first["UID"]) == str(moved["UID"]) == invitation_uid(NOTICE)
    assert str(other["UID"]) != str(first["UID"])
    assert _invite(datetime(2026, 11, 2, 10)) == _invite(datetime(2026, 11, 2, 10))  # deterministic


@pytest.mark.parametrize(
    ("attendees", "message"),
    [
        (ATTENDEES[1:], "exactly one student"),
        ((*ATTENDEES, Person("sam@cps.edu", "student")), "exactly one student"),
        ((ATTENDEES[0], *ATTENDEES[2:]), "principal or assistant principal"),
        (ATTENDEES[:2], "parents/guardians"),
        ((*ATTENDEES, Person("coach@cps.edu", "instructor")), "does not name these attendees: instructor"),
        ((Person("jamie.rivera", "student"), *ATTENDEES[1:]), "not an email address"),
    ],
)
def test_the_policy_invitees_are_required(attendees: tuple[Person, ...], message: str) -> None:
    with pytest.raises(InvitationError, match=message):
        meeting_invitation(PLAN, ORGANIZER, attendees, CHICAGO, datetime(2026, 11, 2, 10), stamp=STAMP)


def test_assistant_principal_may_stand_in_for_the_principal() -> None:
    attendees = (ATTENDEES[0], Person("ap@cps.edu", "assistant_principal"), ATTENDEES[2])
    data = meeting_invitation(PLAN, ORGANIZER, attendees, CHICAGO, datetime(2026, 11, 2, 10), stamp=STAMP)
    assert attendee_roles(parse_invitation(data)[1])["mailto:ap@cps.edu"] == "OPT-PARTICIPANT"


def test_student_must_be_invited_at_a_district_address_when_domains_are_given() -> None:
    personal = (Person("jamie@gmail.com", "student"), *ATTENDEES[1:])
    with pytest.raises(InvitationError, match=r"gmail\.com\) is not a district address"):
        meeting_invitation(
            PLAN,
            ORGANIZER,
            personal,
            CHICAGO,
            datetime(2026, 11, 2, 10),
            stamp=STAMP,
            student_domains=["cps.edu"],
        )
    # Guardians are not students: their personal addresses are expected.
    data = _invite(datetime(2026, 11, 2, 10), student_domains=["CPS.edu"])
    assert "mailto:ana.rivera@example.com" in attendee_roles(parse_invitation(data)[1])


def test_plan_from_a_recorded_notice() -> None:
    facts = {
        "purpose": PURPOSE,
        "recording_allowed": True,
        "notice_days": 4,
        "platform": "Google Meet",
        "consent_on": "2026-10-20",
    }
    plan = MeetingPlan.from_notice(NOTICE, facts, {"meeting_earliest": "2026-11-02"}, class_title="Algebra I")
    assert plan == MeetingPlan(
        notice_id=NOTICE,
        purpose=PURPOSE,
        earliest=date(2026, 11, 2),
        recording_allowed=True,
        consent_on=date(2026, 10, 20),
        class_title="Algebra I",
    )


def test_text_with_commas_and_newlines_survives_the_round_trip() -> None:
    plan = MeetingPlan(
        notice_id=NOTICE,
        purpose="to review units 3, 4; and the essay\nplan",
        earliest=date(2026, 11, 2),
        recording_allowed=False,
    )
    _, event = parse_invitation(_invite(datetime(2026, 11, 2, 10), plan))
    assert "Purpose: to review units 3, 4; and the essay\nplan." in str(event["DESCRIPTION"])


def test_unknown_time_zone_and_naive_stamp_are_refused() -> None:
    with pytest.raises(InvitationError, match="unknown time zone"):
        meeting_invitation(
            PLAN, ORGANIZER, ATTENDEES, "America/Chicgo", datetime(2026, 11, 2, 10), stamp=STAMP
        )
    with pytest.raises(InvitationError, match="UTC offset"):
        meeting_invitation(
            PLAN, ORGANIZER, ATTENDEES, CHICAGO, datetime(2026, 11, 2, 10), stamp=datetime(2026, 10, 29, 9)
        )


# -- the proposed start ------------------------------------------------------------------------

# Veterans Day (Wed 2026-11-11) closes school in this example calendar.
SCHOOL = ProgramCalendar(time_zone=CHICAGO, holidays=frozenset({date(2026, 11, 11)}))


def _plan(earliest: date, notice_days: int = 4) -> MeetingPlan:
    return MeetingPlan(
        notice_id=NOTICE,
        purpose=PURPOSE,
        earliest=earliest,
        recording_allowed=False,
        notice_days=notice_days,
    )


@pytest.mark.parametrize(
    ("earliest", "stamp", "day"),
    [
        # Sent the day of the plan (Thu): the plan's Monday, after the weekend.
        (date(2026, 11, 2), datetime(2026, 10, 29, 5, 5, tzinfo=UTC), date(2026, 11, 2)),
        # Sent a day late (00:05 on Friday in Chicago): four days on is Tuesday.
        (date(2026, 11, 2), datetime(2026, 10, 30, 5, 5, tzinfo=UTC), date(2026, 11, 3)),
        # 04:59 UTC on Friday is 23:59 on Thursday in Chicago: the plan's date holds.
        (date(2026, 11, 2), datetime(2026, 10, 30, 4, 59, tzinfo=UTC), date(2026, 11, 2)),
        # Four days from Saturday is a Wednesday holiday: the next school day.
        (date(2026, 11, 9), datetime(2026, 11, 7, 15, 0, tzinfo=UTC), date(2026, 11, 12)),
        # The plan's earliest date falls on a Saturday: the Monday after.
        (date(2026, 11, 14), datetime(2026, 11, 5, 15, 0, tzinfo=UTC), date(2026, 11, 16)),
    ],
)
def test_proposed_start_is_the_first_allowed_school_day(earliest: date, stamp: datetime, day: date) -> None:
    start = proposed_start(_plan(earliest), SCHOOL, stamp=stamp)
    assert start == datetime.combine(day, PROPOSED_TIME)
    assert start.tzinfo is None  # wall-clock time in the program's zone, as meeting_invitation reads it
    # And the builder accepts it: never too early for an invitation made at the same stamp.
    data = meeting_invitation(_plan(earliest), ORGANIZER, ATTENDEES, CHICAGO, start, stamp=stamp)
    assert parse_invitation(data)[1].decoded("DTSTART").date() == day


def test_proposed_start_counts_a_program_asking_for_more_notice() -> None:
    stamp = datetime(2026, 10, 29, 15, tzinfo=UTC)
    assert proposed_start(_plan(date(2026, 11, 4), 6), SCHOOL, stamp=stamp).date() == date(2026, 11, 4)
    # Sent a day late, six days from Friday is Thursday.
    late = datetime(2026, 10, 30, 15, tzinfo=UTC)
    assert proposed_start(_plan(date(2026, 11, 4), 6), SCHOOL, stamp=late).date() == date(2026, 11, 5)


def test_proposed_start_sees_calendar_changes_announced_before_it_is_sent() -> None:
    snow = CalendarChangeRecord(
        announced=date(2026, 10, 28), closed=frozenset({date(2026, 11, 3)}), opened=frozenset(), reason="snow"
    )
    calendar = ProgramCalendar(time_zone=CHICAGO, changes=(snow,))
    plan = _plan(date(2026, 11, 3))
    # Sent the day the closure is announced (still 28 October in Chicago): not seen yet.
    assert proposed_start(plan, calendar, stamp=datetime(2026, 10, 29, 4, tzinfo=UTC)).date() == date(
        2026, 11, 3
    )
    # Sent the next day: the plan's Tuesday is closed, so Wednesday.
    assert proposed_start(plan, calendar, stamp=datetime(2026, 10, 29, 15, tzinfo=UTC)).date() == date(
        2026, 11, 4
    )


def test_proposed_start_needs_an_aware_stamp() -> None:
    with pytest.raises(InvitationError, match="UTC offset"):
        proposed_start(PLAN, SCHOOL, stamp=datetime(2026, 10, 29, 9))
