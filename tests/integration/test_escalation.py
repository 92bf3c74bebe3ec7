"""Escalation (issue 12, scope 5) over the local stack: notify and SesEventsFunction are the real
handlers, the outbox stream's INSERT records are moto's, SES events go through SNS as in
``test_ses_events.py``; the evaluator is the deployed planner and worker (``districts.evaluate``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from onpace_core.audit.log import iso_instant, read
from onpace_core.delivery import suppression
from onpace_core.delivery.escalation import escalation_id
from onpace_core.store.models import Contact, EnrollmentModel, OutboxModel
from onpace_core.store.programs import save_program
from onpace_local.stack import LocalStack
from onpace_rules.family import NO_WARNING_REACHED
from onpace_rules.program import ProgramConfig

from tests.integration.districts import evaluate, make_district
from tests.integration.test_notify import _event_for, _insert, _notice, _refreshed, _sent
from tests.integration.test_notify_recheck import open_window
from tests.integration.test_ses_events import Sent, _publish

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs=("transactions", "streams"))]

STUDENT = Contact(role="student", address="jamie@students.school.example", name="Jamie Rivera", language="en")
ANA = Contact(role="guardian", address="ana@family.example", name="Ana Rivera", language="es")
LUIS = Contact(role="guardian", address="luis@family.example", name="Luis Rivera", language="en")
INSTRUCTOR = Contact(role="instructor", address="teacher@school.example", name="Pat Teacher")
COUNSELOR = "counselor@school.example"
ADVISOR = "advisor@school.example"


def zone_at_local_hour(hour: int) -> str:
    """A fixed-offset time zone in which it is ``hour`` o'clock now (escalations are sent at once
    inside the program's send window and wait for the next one outside it)."""
    offset = (hour - datetime.now(UTC).hour + 12) % 24 - 12  # in -12 … 11
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT's sign is inverted


#: Around noon where the program is, with a window from 10:00 to 14:00: open for two hours.
NOON_WINDOW = {"start": "10:00", "end": "14:00"}


def _family(recipients: list[Contact], time_zone: str | None = None) -> OutboxModel:
    """A district whose program lists a counselor and an advisor, an enrollment whose roster has
    the student, two guardians and the instructor, and a notice to ``recipients`` (not saved)."""
    district = f"d-{uuid.uuid4().hex[:10]}"
    save_program(
        ProgramConfig.model_validate(
            {
                "district_id": district,
                "program_id": "prog",
                "name": "Test Online",
                "time_zone": time_zone or zone_at_local_hour(12),
                "send_window": NOON_WINDOW,
                "policy_version": "test-2026.1",
                "source": "test",
                "contacts": {
                    "counselor": [{"name": "Dana Counselor", "address": COUNSELOR}],
                    "advisor": [{"name": "Sam Advisor", "address": ADVISOR}],
                },
            }
        )
    )
    enrollment = f"{district}#cls-1#stu-1"
    EnrollmentModel(
        enrollment_key=enrollment,
        district_id=district,
        program_id="prog",
        class_id="cls-1",
        class_title="Biology Online",
        student_id="stu-1",
        student_name="Jamie Rivera",
        start_date="2026-08-24",
        contacts=[STUDENT, ANA, LUIS, INSTRUCTOR],
    ).save()
    return _notice(
        district_id=district,
        enrollment_key=enrollment,
        notice_id=f"{enrollment}#cps.pacing.ipr_warning_2w#ipr-2026-10-09",
        recipients=recipients,
    )


def _send_through_stream(stack: LocalStack, item: OutboxModel) -> Sent:
    """Let the real notify handler send an item already in the outbox (its INSERT record)."""
    with stack.recording_calls() as calls:
        assert stack.invoke("NotifyFunction", _event_for(stack, item)) == {"batchItemFailures": []}
    tags = {
        c.params["Destination"]["ToAddresses"][0]: c.params["EmailTags"]
        for c in calls
        if c.operation == "SendEmail"
    }
    fresh = _refreshed(item)
    messages = {}
    for key, entry in fresh.deliveries.as_dict().items():
        if entry.get("message_id"):
            address = fresh.recipients[int(key[1:])].address
            messages[key] = (entry["message_id"], address, tags[address])
    return Sent(fresh, messages)


def _entries(district: str, type_: str) -> list[Any]:
    return [e for e in read(district, limit=1000) if e.type == type_]


def test_a_bounced_guardian_escalates_once_to_the_other_guardian_even_when_ses_repeats_the_event(
    local_stack: LocalStack,
) -> None:
    item = _insert(_family([STUDENT, ANA]))
    sent = _send_through_stream(local_stack, item)
    assert set(sent.messages) == {"r0", "r1"}

    # SNS delivers SES's bounce for Ana twice.
    assert _publish(local_stack, sent, "r1", "Bounce", bounce_type="Permanent") == ["recorded"]
    assert _publish(local_stack, sent, "r1", "Bounce", bounce_type="Permanent") == ["ignored"]

    assert suppression.address_hash(ANA.address) in suppression.suppressed(item.district_id, [ANA.address])
    esc = OutboxModel.get(escalation_id(item.notice_id, 1), consistent_read=True)
    assert [c.address for c in esc.recipients] == [LUIS.address]  # the guardian not yet tried
    assert esc.status == "pending" and esc.escalated_from == item.notice_id
    assert (esc.rule_id, esc.policy_version, esc.episode) == (item.rule_id, item.policy_version, item.episode)
    assert esc.deadlines.as_dict() == {"ipr": "2026-10-09", "drop": "2026-10-10"}
    detail = esc.escalation.as_dict()
    assert (
        detail["reason"] == "bounced"
        and detail["from_role"] == "guardian"
        and detail["to_role"] == "guardian"
    )
    assert not OutboxModel.count(escalation_id(item.notice_id, 2))

    (entry,) = _entries(item.district_id, "notice.escalated")
    audit = json.loads(entry.detail)
    assert audit == {
        "from_recipient": "r1",
        "from_role": "guardian",
        "to_role": "guardian",
        "reason": "bounced",
        "escalation_id": esc.notice_id,
        "step": 1,
    }
    assert entry.notice_id == item.notice_id and entry.rule_id == item.rule_id
    for address in (ANA.address, LUIS.address, STUDENT.address):
        assert address not in entry.summary and address not in entry.detail  # roles only

    # The stream sends the escalation the normal way; its record delivered twice, one email.
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, esc)) == {"batchItemFailures": []}
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, esc)) == {"batchItemFailures": []}
    sent_esc = _sent(local_stack, esc.notice_id)
    assert [to for to, _, _ in sent_esc] == [LUIS.address]
    (_, message, _) = sent_esc[0]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Jamie Rivera" in text
    assert "could not be delivered to a parent or guardian, so it is sent to you" in text  # why it came
    assert _refreshed(esc).status == "sent"


def test_a_suppressed_student_at_send_escalates_to_the_counselor(local_stack: LocalStack) -> None:
    item = _family([STUDENT])  # a notice to the student alone: guardians are not added by escalation
    suppression.suppress(
        item.district_id, STUDENT.address, reason="bounce", detail=None, role="student", rule_id=None, at="x"
    )
    _insert(item)
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}
    assert _refreshed(item).deliveries.as_dict()["r0"]["status"] == "suppressed"
    assert _sent(local_stack, item.notice_id) == []

    esc = OutboxModel.get(escalation_id(item.notice_id, 1), consistent_read=True)
    assert [(c.role, c.address) for c in esc.recipients] == [("counselor", COUNSELOR)]
    assert esc.escalation.as_dict()["reason"] == "suppressed"
    (entry,) = _entries(item.district_id, "notice.escalated")
    assert json.loads(entry.detail)["from_role"] == "student"

    # The counselor's address bounces too: staff are where escalation ends, nothing more.
    sent = _send_through_stream(local_stack, esc)
    assert [a for _, a, _ in sent.messages.values()] == [COUNSELOR]
    assert _publish(local_stack, sent, "r0", "Bounce", bounce_type="Permanent") == ["recorded"]
    assert not OutboxModel.count(escalation_id(item.notice_id, 2))
    assert _entries(item.district_id, "notice.not_escalated") == []


def test_an_escalation_whose_guardian_is_suppressed_too_goes_on_to_the_counselor_then_stops(
    local_stack: LocalStack,
) -> None:
    item = _family([STUDENT, ANA])
    for contact in (STUDENT, ANA, LUIS):
        suppression.suppress(
            item.district_id, contact.address, reason="bounce", detail=None, role=None, rule_id=None, at="x"
        )
    _insert(item)
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}
    first = OutboxModel.get(escalation_id(item.notice_id, 1), consistent_read=True)
    assert [c.address for c in first.recipients] == [LUIS.address]  # one escalation for both failures
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, first)) == {"batchItemFailures": []}
    second = OutboxModel.get(escalation_id(item.notice_id, 2), consistent_read=True)
    assert [c.address for c in second.recipients] == [COUNSELOR]
    assert second.escalated_from == first.notice_id
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, second)) == {"batchItemFailures": []}
    ((to, message, _),) = _sent(local_stack, second.notice_id)
    assert to == COUNSELOR
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "could not be delivered to a parent or guardian" in text  # Luis, the step before
    assert _sent(local_stack, item.notice_id) == [] and _sent(local_stack, first.notice_id) == []
    assert len(_entries(item.district_id, "notice.escalated")) == 2


AT_RISK = "csu.engagement.at_risk_14d"
WITHDRAW = "csu.engagement.withdraw_21d"


def test_an_action_whose_warnings_all_bounced_is_held_for_approval(local_stack: LocalStack) -> None:
    """stu-1's At-Risk email bounces, stu-2's is delivered: on the withdrawal day stu-2 is
    withdrawn and stu-1's withdrawal waits for a person, with the reason, audited."""
    district = make_district(
        local_stack, {AT_RISK: {"warning_day": 14}, WITHDRAW: {"action_day": 21}}, reported_percent=None
    )
    d = district.district_id
    evaluate(local_stack, d, date(2026, 9, 7))  # 14 whole days without engagement since 08-24
    warnings = {
        o.student_id: o for o in OutboxModel.scan(OutboxModel.district_id == d) if o.rule_id == AT_RISK
    }
    assert set(warnings) == {"stu-1", "stu-2"}
    # The warnings wait for the morning window; each student's goes in a letter to the student.
    letters = open_window(local_stack, d)
    sent = {}
    for student, warning in warnings.items():
        (letter,) = [x for x in letters if x.recipients[0].address == warning.recipients[0].address]
        sent[student] = _send_through_stream(local_stack, letter)
    assert _publish(local_stack, sent["stu-1"], "r0", "Bounce", bounce_type="Permanent") == ["recorded"]
    assert _publish(local_stack, sent["stu-2"], "r0", "Delivery") == ["recorded"]
    # SES's events about a letter's message are the member notices' too.
    bounced = _refreshed(warnings["stu-1"]).deliveries.as_dict()["r0"]
    assert bounced["status"] == "sent" and bounced["tracking"]["status"] == "bounced"
    assert _refreshed(warnings["stu-2"]).deliveries.as_dict()["r0"]["tracking"]["status"] == "delivered"

    evaluate(local_stack, d, date(2026, 9, 14))

    held = EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True)
    taken = EnrollmentModel.get(f"{d}#cls-1#stu-2", consistent_read=True)
    assert held.status == "held" and taken.status == "withdrawn"
    (request,) = [
        o
        for o in OutboxModel.scan(OutboxModel.district_id == d)
        if o.rule_id == WITHDRAW and o.student_id == "stu-1"
    ]
    assert request.episode.endswith("/approval") and request.kind == "notice"
    assert request.facts.as_dict()["approval_reason"] == NO_WARNING_REACHED
    assert [c.role for c in request.recipients] == ["program_admin"]
    decided = [e for e in read(d, student_id="stu-1", limit=100) if e.rule_id == WITHDRAW]
    assert [e.type for e in decided] == ["notice.decided"]
    assert NO_WARNING_REACHED in decided[0].detail
    assert not [e for e in read(d, student_id="stu-1", limit=100) if e.type == "action.taken"]
    assert [e.type for e in read(d, student_id="stu-2", limit=100) if e.rule_id == WITHDRAW] == [
        "action.taken"
    ]


def test_an_escalation_outside_the_send_window_waits_for_the_next_morning(local_stack: LocalStack) -> None:
    """A bounce reported at night: the escalation waits (``scheduled``) for the program's next
    window instead of going out at 2 a.m."""
    item = _insert(_family([STUDENT, ANA], time_zone=zone_at_local_hour(2)))
    sent = _send_through_stream(local_stack, item)
    assert _publish(local_stack, sent, "r1", "Bounce", bounce_type="Permanent") == ["recorded"]
    esc = OutboxModel.get(escalation_id(item.notice_id, 1), consistent_read=True)
    assert esc.status == "scheduled" and [c.address for c in esc.recipients] == [LUIS.address]
    assert esc.send_after is not None and esc.send_after > iso_instant(datetime.now(UTC))
    assert esc.send_key is not None and esc.send_key.startswith(f"{item.district_id}#")
    # The stream record sends nothing now.
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, esc)) == {"batchItemFailures": []}
    assert _sent(local_stack, esc.notice_id) == []
