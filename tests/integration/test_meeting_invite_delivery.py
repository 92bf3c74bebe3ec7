"""A Chicago meeting plan through the notify function and moto server's SES: the instructor's
email carries the meeting invitation as a ``text/calendar; method=REQUEST`` attachment.

The attendees come from where the deployed function finds them: the student and the guardians
from the enrollment's roster contacts, the principal from the program's staff contacts (both
tables on moto server). Sent mail is read back from moto server's SES (``LocalStack.sent_emails``), as in
``test_notify.py``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from botocore.exceptions import ClientError
from icalendar import Calendar, Event
from onpace_core.delivery.sender import deliver
from onpace_core.notices.meeting_invite import invitation_uid
from onpace_core.store.models import Contact, EnrollmentModel, OutboxModel
from onpace_core.store.programs import save_program
from onpace_local.stack import LocalStack
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.chicago import CHANNEL, MEETING

from tests.ical import attendee_roles, parse_invitation
from tests.integration.test_notify import (
    TEMPLATES,
    _audit,
    _event_for,
    _insert,
    _refreshed,
    _sent,
    _settings,
    _ThrottledOnce,
)

pytestmark = pytest.mark.integration

INSTRUCTOR = Contact(role="instructor", address="m.tran@cps.edu", name="Ms Tran", language="en")
FAMILY = [
    Contact(role="student", address="jamie.rivera@cps.edu", name="Jamie Rivera"),
    Contact(role="guardian", address="ana.rivera@example.com", name="Ana Rivera"),
    Contact(role="guardian", address="luis.rivera@example.com", name="Luis Rivera"),
]
PRINCIPAL = {"principal": [{"name": "Dr Okafor", "address": "principal@cps.edu"}]}
# Worked example 3's step 1 prompt (Friday 2026-01-23) and the plan recorded with it.
FACTS: dict[str, Any] = {
    "prompt_days_without_submission": 3,
    "prompt_rule": "msc.progress.step1_contact",
    "purpose": "to agree on a schedule for completing the missing work",
    "platform": "Google Meet",
    "invitation_on": "2026-01-23",
    "notice_days": 4,
    "earliest_school_day": "2026-01-27",
    "recording_allowed": False,
}


def _plan(staff: dict[str, Any]) -> OutboxModel:
    """A district with its program and the enrollment stored, and the plan's outbox item (not saved)."""
    district = f"d-{uuid.uuid4().hex[:10]}"
    save_program(
        ProgramConfig.model_validate(
            {
                "district_id": district,
                "program_id": "ladder",
                "name": "Online ladder, Chicago style",
                "time_zone": "America/Chicago",
                "policy_version": "2026.1",
                "source": "004_50d77f9850a1db80.txt",
                "contacts": staff,
                "rules": {CHANNEL: {"district_domains": ["cps.edu"]}, MEETING: {}},
            }
        )
    )
    enrollment = f"{district}#alg-1#stu-1"
    EnrollmentModel(
        enrollment_key=enrollment,
        district_id=district,
        program_id="ladder",
        class_id="alg-1",
        class_title="Algebra I",
        student_id="stu-1",
        student_name="Jamie Rivera",
        start_date="2026-01-05",
        contacts=[*FAMILY, INSTRUCTOR],
    ).save()
    episode = "msc.progress.step1_contact#since-2026-01-20"
    return OutboxModel(
        notice_id=f"{enrollment}#{MEETING}#{episode}",
        district_id=district,
        program_id="ladder",
        enrollment_key=enrollment,
        student_id="stu-1",
        class_id="alg-1",
        class_title="Algebra I",
        student_name="Jamie Rivera",
        rule_id=MEETING,
        episode=episode,
        kind="notice",
        policy_version="2026.1",
        decided_on="2026-01-23",
        due_on="2026-01-23",
        deadlines={"meeting_earliest": "2026-01-27"},
        facts=FACTS,
        recipients=[INSTRUCTOR],
        status="pending",
        created_at="2026-01-23T06:05:00.000000Z",
    )


def _calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [
        p for p in message.walk() if isinstance(p, EmailMessage) and p.get_content_type() == "text/calendar"
    ]


def _event(part: EmailMessage) -> tuple[Calendar, Event]:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return parse_invitation(payload)


def test_the_instructor_email_carries_the_invitation(local_stack: LocalStack) -> None:
    item = _insert(_plan(PRINCIPAL))
    event = _event_for(local_stack, item)

    assert local_stack.invoke("NotifyFunction", event) == {"batchItemFailures": []}

    ((to, message, message_id),) = _sent(local_stack, item.notice_id)
    assert to == "m.tran@cps.edu"  # the invitees get nothing from OnPace: the instructor sends it
    assert message.get_content_type() == "multipart/mixed"
    (part,) = _calendar_parts(message)
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "meeting-invitation.ics"
    calendar, vevent = _event(part)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(vevent["UID"]) == invitation_uid(item.notice_id)
    assert str(vevent["ORGANIZER"]) == "mailto:m.tran@cps.edu"
    assert attendee_roles(vevent) == {
        "mailto:jamie.rivera@cps.edu": "REQ-PARTICIPANT",
        "mailto:principal@cps.edu": "OPT-PARTICIPANT",
        "mailto:ana.rivera@example.com": "OPT-PARTICIPANT",
        "mailto:luis.rivera@example.com": "OPT-PARTICIPANT",
    }
    assert vevent.decoded("DTSTART").date().isoformat() >= "2026-01-27"
    text = message.get_body(("plain",))
    assert (
        text is not None and "A draft invitation is attached (meeting-invitation.ics)" in text.get_content()
    )

    # The delivery and the audit entry record what was attached (roles and UID, no addresses).
    stored = _refreshed(item)
    assert stored.status == "sent" and stored.ses_message_id == message_id
    attached = stored.deliveries.as_dict()["r0"]["invitation"]
    assert attached["status"] == "attached" and attached["uid"] == invitation_uid(item.notice_id)
    assert attached["attendees"] == ["student", "principal", "guardian", "guardian"]
    (entry,) = _audit(item)
    assert json.loads(entry.detail)["recipients"][0]["invitation"] == attached

    # The same record again: no second email, so no second calendar entry either.
    assert local_stack.invoke("NotifyFunction", event) == {"batchItemFailures": []}
    assert len(_sent(local_stack, item.notice_id)) == 1
    assert len(_audit(item)) == 1


def test_a_retried_send_builds_the_same_entry_with_the_retry_stamp(local_stack: LocalStack) -> None:
    item = _insert(_plan(PRINCIPAL))
    flaky = _ThrottledOnce(local_stack.client("sesv2"))
    settings = _settings(local_stack)
    first = datetime(2026, 1, 23, 6, 5, tzinfo=UTC)
    retry = datetime(2026, 1, 23, 6, 20, tzinfo=UTC)

    with pytest.raises(ClientError, match="TooManyRequests"):
        deliver(item.notice_id, flaky, settings, TEMPLATES, now=first)
    assert _sent(local_stack, item.notice_id) == [] and _refreshed(item).deliveries.as_dict() == {}
    assert deliver(item.notice_id, flaky, settings, TEMPLATES, now=retry).sent_now == 1
    assert deliver(item.notice_id, flaky, settings, TEMPLATES, now=retry).sent_now == 0

    ((_, message, _),) = _sent(local_stack, item.notice_id)
    (part,) = _calendar_parts(message)
    _, vevent = _event(part)
    assert str(vevent["UID"]) == invitation_uid(item.notice_id)
    assert vevent.decoded("DTSTAMP") == retry  # the caller's clock
    assert vevent.decoded("DTSTART").isoformat() == "2026-01-27T16:00:00-06:00"


def test_without_a_principal_the_plan_is_sent_and_says_why_nothing_is_attached(
    local_stack: LocalStack,
) -> None:
    item = _insert(_plan({}))

    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}

    ((to, message, _),) = _sent(local_stack, item.notice_id)
    assert to == "m.tran@cps.edu"
    assert message.get_content_type() == "multipart/alternative" and _calendar_parts(message) == []
    text = message.get_body(("plain",))
    assert text is not None
    assert (
        "No calendar invitation is attached: the program has no principal or assistant principal address"
        in " ".join(text.get_content().split())
    )
    stored = _refreshed(item)
    assert stored.status == "sent"
    assert stored.deliveries.as_dict()["r0"]["invitation"] == {
        "status": "not attached",
        "reasons": ["the program has no principal or assistant principal address on file"],
    }
