"""The meeting invitation attached to a Chicago meeting plan's email to the instructor.

Pure parts only (sources given, no tables): who is invited and from where, what happens when
someone the policy requires is missing, and what the email says about the attachment. The
path through SES is ``tests/integration/test_meeting_invite_delivery.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from onpace_core.delivery.invitation import InvitationDrafts, Sources, invitation_for
from onpace_core.notices.meeting_invite import invitation_uid
from onpace_core.notices.render import render
from onpace_core.store.models import Contact, OutboxModel
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.chicago import CHANNEL, MEETING

from tests.ical import attendee_roles, parse_invitation
from tests.unit.render_cases.chicago import MEETING_FACTS
from tests.unit.test_render import TEMPLATES, make_notice

# Worked example 3's step 1 prompt went out on Friday 2026-01-23; the plan's earliest meeting
# is Tuesday 2026-01-27. The notice is sent at 00:05 in Chicago that Friday.
STAMP = datetime(2026, 1, 23, 6, 5, tzinfo=UTC)
INSTRUCTOR = Contact(role="instructor", address="m.tran@cps.edu", name="Ms Tran")
ROSTER = (
    Contact(role="student", address="jamie.rivera@cps.edu", name="Jamie Rivera"),
    Contact(role="guardian", address="ana.rivera@example.com", name="Ana Rivera"),
    Contact(role="guardian", address="Ana.Rivera@example.com", name="Ana Rivera"),  # listed twice
    Contact(role="parent", address="luis.rivera@example.com", name="Luis Rivera"),
    INSTRUCTOR,
)


def _program(**changes: Any) -> ProgramConfig:
    fields: dict[str, Any] = {
        "district_id": "d-1",
        "program_id": "prog",
        "name": "Online ladder, Chicago style",
        "time_zone": "America/Chicago",
        "policy_version": "2026.1",
        "source": "002_4a577e05e1a1fcf6.txt",
        "contacts": {"principal": [{"name": "Dr  Okafor", "address": "principal@cps.edu"}]},
        "rules": {CHANNEL: {"district_domains": ["cps.edu"]}, MEETING: {}},
    }
    fields.update(changes)
    return ProgramConfig.model_validate(fields)


SOURCES = Sources(contacts=ROSTER, program=_program())


def _notice(**overrides: Any) -> OutboxModel:
    fields: dict[str, Any] = {"recipients": [INSTRUCTOR], "policy_version": "2026.1"}
    fields.update(overrides)
    return make_notice(MEETING, **fields)


def test_the_instructor_gets_a_request_inviting_the_policyattendee_roles() -> None:
    notice = _notice()
    invitation = invitation_for(notice, INSTRUCTOR, SOURCES, stamp=STAMP)

    (attachment,) = invitation.attachments
    assert (attachment.filename, attachment.mime_type) == ("meeting-invitation.ics", "text/calendar")
    assert dict(attachment.params) == {"method": "REQUEST", "charset": "utf-8"}
    calendar, event = parse_invitation(attachment.content)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == invitation_uid(notice.notice_id)
    assert str(event["ORGANIZER"]) == "mailto:m.tran@cps.edu"
    assert attendee_roles(event) == {
        "mailto:jamie.rivera@cps.edu": "REQ-PARTICIPANT",
        "mailto:principal@cps.edu": "OPT-PARTICIPANT",
        "mailto:ana.rivera@example.com": "OPT-PARTICIPANT",
        "mailto:luis.rivera@example.com": "OPT-PARTICIPANT",
    }
    start = event.decoded("DTSTART")
    assert start.isoformat() == "2026-01-27T16:00:00-06:00"  # the plan's earliest day, in Chicago
    assert event.decoded("DTSTAMP") == STAMP  # the caller's clock, not the builder's
    assert MEETING_FACTS["purpose"] in str(event["DESCRIPTION"])

    assert invitation.evidence == {
        "status": "attached",
        "filename": "meeting-invitation.ics",
        "uid": invitation_uid(notice.notice_id),
        "start": "2026-01-27T16:00:00-06:00",
        "attendees": ["student", "principal", "guardian", "guardian"],
    }
    assert invitation.context["attached"] is True and invitation.context["start"] == start
    assert [p["name"] for p in invitation.context["attendees"]] == [
        "Jamie Rivera",
        "Dr Okafor",
        "Ana Rivera",
        "Luis Rivera",
    ]


def test_a_rebuilt_message_describes_the_same_calendar_entry() -> None:
    notice = _notice()
    first = invitation_for(notice, INSTRUCTOR, SOURCES, stamp=STAMP).attachments[0].content
    assert invitation_for(notice, INSTRUCTOR, SOURCES, stamp=STAMP).attachments[0].content == first
    # A retry the next day: same UID, a later DTSTAMP, and a start still four days out.
    later = datetime(2026, 1, 24, 15, 0, tzinfo=UTC)
    _, event = parse_invitation(
        invitation_for(notice, INSTRUCTOR, SOURCES, stamp=later).attachments[0].content
    )
    assert str(event["UID"]) == str(parse_invitation(first)[1]["UID"])
    assert event.decoded("DTSTAMP") == later
    assert event.decoded("DTSTART").date().isoformat() == "2026-01-28"


@pytest.mark.parametrize(
    ("sources", "reason"),
    [
        (
            Sources(ROSTER, _program(contacts={})),
            "the program has no principal or assistant principal address on file",
        ),
        (
            Sources(tuple(c for c in ROSTER if c.role not in ("guardian", "parent")), _program()),
            "the roster has no parent/guardian email address",
        ),
        (Sources(ROSTER[1:], _program()), "the roster has no email address for the student"),
        (Sources(ROSTER, None), "the program's configuration could not be read"),
        (
            Sources((Contact(role="student", address="jamie@gmail.com"), *ROSTER[1:]), _program()),
            r"the student's address (gmail.com) is not a district address",
        ),
    ],
)
def test_without_someone_the_policy_requires_nothing_is_attached(sources: Sources, reason: str) -> None:
    invitation = invitation_for(_notice(), INSTRUCTOR, sources, stamp=STAMP)
    assert invitation.attachments == ()
    assert invitation.context == {"attached": False, "reasons": [reason]}
    assert invitation.evidence == {"status": "not attached", "reasons": [reason]}


def test_the_assistant_principal_stands_in_and_both_may_be_listed() -> None:
    staff = {
        "principal": [{"name": "Dr Okafor", "address": "principal@cps.edu"}],
        "assistant_principal": [{"name": "Mr Diaz", "address": "ap@cps.edu"}],
    }
    only_ap = Sources(ROSTER, _program(contacts={"assistant_principal": staff["assistant_principal"]}))
    both = Sources(ROSTER, _program(contacts=staff))
    assert invitation_for(_notice(), INSTRUCTOR, only_ap, stamp=STAMP).evidence["attendees"] == [
        "student",
        "assistant_principal",
        "guardian",
        "guardian",
    ]
    roles = invitation_for(_notice(), INSTRUCTOR, both, stamp=STAMP).evidence["attendees"]
    assert roles == ["student", "principal", "assistant_principal", "guardian", "guardian"]


def test_the_district_domains_are_those_of_the_notice_policy_version() -> None:
    student = Contact(role="student", address="jamie.rivera@students.cps.edu", name="Jamie Rivera")
    program = _program(
        versions=[
            {
                "version": "2026.2",
                "effective": "2026-01-12",
                "rules": {CHANNEL: {"district_domains": ["students.cps.edu"]}},
            }
        ]
    )
    sources = Sources((student, *ROSTER[1:]), program)
    newer = invitation_for(_notice(policy_version="2026.2"), INSTRUCTOR, sources, stamp=STAMP)
    older = invitation_for(_notice(policy_version="2026.1"), INSTRUCTOR, sources, stamp=STAMP)
    assert newer.evidence["status"] == "attached"
    assert older.evidence["status"] == "not attached"


def test_drafts_are_only_for_the_instructor_of_a_meeting_plan_and_read_sources_once() -> None:
    loads: list[str] = []

    def load(notice: OutboxModel) -> Sources:
        loads.append(notice.notice_id)
        return SOURCES

    drafts = InvitationDrafts(_notice(), STAMP, load)
    assert drafts.for_recipient(Contact(role="guardian", address="ana.rivera@example.com")) is None
    assert loads == []  # nobody needed an invitation yet: no table was read
    second = Contact(role="instructor", address="co.teacher@cps.edu", name="Mr Park")
    first_draft, second_draft = drafts.for_recipient(INSTRUCTOR), drafts.for_recipient(second)
    assert first_draft is not None and second_draft is not None
    assert (
        str(parse_invitation(second_draft.attachments[0].content)[1]["ORGANIZER"])
        == "mailto:co.teacher@cps.edu"
    )
    assert len(loads) == 1
    other = make_notice("msc.progress.step1_contact", recipients=[INSTRUCTOR])
    assert InvitationDrafts(other, STAMP, load).for_recipient(INSTRUCTOR) is None


def _flat(text: str) -> str:
    """Whitespace as one space (babel writes a narrow no-break space before PM)."""
    return " ".join(text.split())


def test_the_email_says_what_is_attached_and_who_it_invites() -> None:
    invitation = invitation_for(_notice(), INSTRUCTOR, SOURCES, stamp=STAMP)
    email = render(_notice(), INSTRUCTOR, TEMPLATES, {"invitation": invitation.context})
    for body in (_flat(email.text), _flat(email.html)):
        assert "A draft invitation is attached (meeting-invitation.ics)" in body
        assert "Tuesday, January 27, 2026 at 4:00 PM Central Standard Time" in body
        assert "Jamie Rivera (the student), required" in body
        assert "Dr Okafor (principal), optional" in body
        assert "Luis Rivera (parent/guardian), optional" in body
        assert "No calendar invitation" not in body
    # The plan itself still reads as before.
    assert "at least 4 calendar days before the meeting" in email.text


def test_the_email_says_why_nothing_is_attached() -> None:
    invitation = invitation_for(_notice(), INSTRUCTOR, Sources(ROSTER, _program(contacts={})), stamp=STAMP)
    email = render(_notice(), INSTRUCTOR, TEMPLATES, {"invitation": invitation.context})
    for body in (_flat(email.text), _flat(email.html)):
        assert (
            "No calendar invitation is attached: the program has no principal or assistant principal "
            "address on file." in body
        )
        assert "draft invitation is attached" not in body
    # Without the value (another renderer, an older caller) the plan says nothing about one.
    plain = render(_notice(), INSTRUCTOR, TEMPLATES)
    assert "invitation is attached" not in plain.text and "CALENDAR INVITATION" not in plain.text


def test_extra_template_values_cannot_replace_the_notice_own() -> None:
    with pytest.raises(ValueError, match="replace the notice's own: facts"):
        render(_notice(), INSTRUCTOR, TEMPLATES, {"facts": {}})
