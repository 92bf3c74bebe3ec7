"""Text messages over moto server (issue 12, scope 7): the real notify handler and sender, SNS
``Publish(PhoneNumber=…)`` read back from moto (``LocalStack.sent_texts``), the ledger and the
audit chain in moto's DynamoDB. On moto a number ending in 99 has opted out (replied STOP)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from onpace_core.audit.log import verify_chain
from onpace_core.delivery.evidence import plain
from onpace_core.delivery.sender import deliver
from onpace_core.store.models import Contact, OutboxModel
from onpace_core.store.programs import save_program
from onpace_local.stack import LocalStack
from onpace_rules.program import ProgramConfig

from tests.integration.test_notify import TEMPLATES, _audit, _event_for, _insert, _notice, _refreshed, _sent
from tests.integration.test_notify import _settings as notify_settings

pytestmark = pytest.mark.integration

LINK = "https://online.example.org/notices"
ANA = "+13125550123"  # chose texts, Spanish
LUIS = "+13125550199"  # chose texts, but replied STOP (moto: ends in 99)
JAMIE = "+13125550100"  # the student: chose texts, but students get none by default
OMAR = "+13125550142"  # said no


def _program(district_id: str, quiet: tuple[time, time], time_zone: str = "UTC") -> ProgramConfig:
    program = ProgramConfig(
        district_id=district_id,
        program_id="prog",
        name="Test Online",
        time_zone=time_zone,
        policy_version="test-2026.1",
        source="test",
        notices={
            "program_name": "Test Online",
            "district_name": "Test School District",
            "contact": {"name": "Dana Ruiz", "address": "dana.ruiz@school.example"},
            "url": LINK,
        },
        sms={"enabled": True, "quiet_hours": {"start": quiet[0], "end": quiet[1]}},
    )
    save_program(program)
    return program


def _awake() -> tuple[time, time]:
    """Quiet hours (UTC) that start two hours from now: now is outside them."""
    hour = (datetime.now(UTC).hour + 2) % 24
    return time(hour), time((hour + 1) % 24)


def _asleep() -> tuple[time, time]:
    """Quiet hours (UTC) around now."""
    hour = datetime.now(UTC).hour
    return time((hour - 1) % 24), time((hour + 2) % 24)


def _texting_notice(**overrides: Any) -> OutboxModel:
    item = _notice(**overrides)
    student = "jamie@students.school.example"
    item.recipients = [
        Contact(role="student", address=student, name="Jamie Rivera", phone=JAMIE, sms="y"),
        Contact(
            role="guardian", address="ana@family.example", name="Ana R", language="es", phone=ANA, sms="y"
        ),
        Contact(role="guardian", address="luis@family.example", name="Luis Rivera", phone=LUIS, sms="y"),
        Contact(role="guardian", address="omar@family.example", name="Omar Rivera", phone=OMAR, sms="n"),
    ]
    return item


def _texts(stack: LocalStack, phone: str) -> list[dict[str, str]]:
    return [t for t in stack.sent_texts() if t["phone"] == phone]


def _deliveries(item: OutboxModel) -> dict[str, dict[str, Any]]:
    return plain(_refreshed(item).deliveries)


def test_a_guardian_who_chose_texts_gets_one_email_and_one_text_and_a_redelivery_sends_none(
    local_stack: LocalStack,
) -> None:
    item = _texting_notice()
    _program(item.district_id, _awake())
    _insert(item)
    event = _event_for(local_stack, item)
    before = {p: len(_texts(local_stack, p)) for p in (ANA, LUIS, JAMIE, OMAR)}

    assert local_stack.invoke("NotifyFunction", event) == {"batchItemFailures": []}

    assert len(_sent(local_stack, item.notice_id)) == 4  # every email as before
    (text,) = _texts(local_stack, ANA)[before[ANA] :]
    assert text["message"].startswith("Test Online: ")
    assert "Plazo: 9 oct 2026." in text["message"]  # Spanish, the earliest deadline (ipr)
    assert LINK in text["message"] and "Responda STOP" in text["message"]
    assert "Rivera" not in text["message"] and "\n" not in text["message"]
    # Luis opted out, the student gets none by default, Omar said no.
    assert [len(_texts(local_stack, p)) - before[p] for p in (LUIS, JAMIE, OMAR)] == [0, 0, 0]

    deliveries = _deliveries(item)
    assert {k: v["status"] for k, v in deliveries.items() if k.startswith("s")} == {
        "s1": "sent",
        "s2": "opted_out",
    }
    assert deliveries["s1"]["message_id"] == text["id"]
    assert deliveries["s1"]["language"] == "es" and deliveries["s1"]["segments"] <= 2
    assert _refreshed(item).status == "sent"  # the notice's status is its emails'

    (sent,) = _audit(item, "notice.sent")
    detail = json.loads(sent.detail)
    assert [(t["index"], t["status"], t["phone"]) for t in detail["texts"]] == [
        (1, "sent", "+1…23"),
        (2, "opted_out", "+1…99"),
    ]
    (opted_out,) = _audit(item, "sms.opted_out")
    assert "opted out" in opted_out.summary and "STOP" in opted_out.summary
    assert LUIS not in opted_out.summary and LUIS not in opted_out.detail
    assert json.loads(opted_out.detail)["index"] == 2

    # The same stream record again: no second email, no second text, no second audit entry.
    assert local_stack.invoke("NotifyFunction", event) == {"batchItemFailures": []}
    assert len(_texts(local_stack, ANA)) == before[ANA] + 1
    assert len(_sent(local_stack, item.notice_id)) == 4
    assert len(_audit(item)) == 2
    assert _deliveries(item) == deliveries
    assert verify_chain(item.district_id).intact


def test_a_notice_at_night_is_deferred_and_its_text_sent_in_the_morning_once(local_stack: LocalStack) -> None:
    item = _texting_notice()
    _program(item.district_id, (time(20, 0), time(8, 0)), time_zone="America/Chicago")
    _insert(item)
    settings = notify_settings(local_stack)
    ses, sns = local_stack.client("sesv2"), local_stack.client("sns")
    night = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)  # 22:30 CDT on Oct 31
    morning = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 08:00 CST: DST ended in between
    before = len(_texts(local_stack, ANA))

    result = deliver(item.notice_id, ses, settings, TEMPLATES, night, sns_client=sns)

    assert result.status == "sent" and result.sent_now == 4  # the emails go (the window is not ours)
    assert result.texts_after == "2026-11-01T14:00:00.000000Z"
    assert len(_texts(local_stack, ANA)) == before
    deferred = _deliveries(item)["s1"]
    assert (deferred["status"], deferred["after"]) == ("deferred", "2026-11-01T14:00:00.000000Z")
    # Luis is deferred too: his opt-out is looked up when his text may go.
    assert _deliveries(item)["s2"]["status"] == "deferred"

    # A look before the morning (the retry queue's next wake-up) sends nothing.
    early = deliver(item.notice_id, ses, settings, TEMPLATES, morning - timedelta(minutes=1), sns_client=sns)
    assert early.texts_sent == 0 and early.texts_after == "2026-11-01T14:00:00.000000Z"
    assert len(_texts(local_stack, ANA)) == before

    sent = deliver(item.notice_id, ses, settings, TEMPLATES, morning, sns_client=sns)

    assert (sent.texts_sent, sent.texts_after) == (1, None)
    assert len(_texts(local_stack, ANA)) == before + 1
    deliveries = _deliveries(item)
    assert deliveries["s1"]["status"] == "sent" and deliveries["s2"]["status"] == "opted_out"
    (entry,) = _audit(item, "sms.sent")
    assert json.loads(entry.detail)["message_id"] == deliveries["s1"]["message_id"]
    assert len(_audit(item, "sms.opted_out")) == 1

    # Later attempts (a redelivered record, the retry queue) text nobody again.
    again = deliver(item.notice_id, ses, settings, TEMPLATES, morning + timedelta(hours=1), sns_client=sns)
    assert (again.texts_sent, again.texts_after) == (0, None)
    assert len(_texts(local_stack, ANA)) == before + 1
    assert len(_audit(item, "sms.sent")) == 1 and len(_audit(item, "sms.opted_out")) == 1
    assert len(_sent(local_stack, item.notice_id)) == 4
    assert verify_chain(item.district_id).intact


def test_the_handler_sends_a_deferred_notice_back_to_the_retry_queue_until_morning(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notify_handler

    item = _texting_notice()
    _program(item.district_id, _asleep())
    _insert(item)
    queued: list[tuple[str, int | None]] = []
    original = notify_handler.enqueue

    def recorded(client: Any, queues: Any, message: Any, *, delay: int | None = None) -> str:
        queued.append((message.notice_id, delay))
        return original(client, queues, message, delay=delay)

    monkeypatch.setattr(notify_handler, "enqueue", recorded)

    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}

    assert _deliveries(item)["s1"]["status"] == "deferred"
    ((notice_id, delay),) = queued
    assert notice_id == item.notice_id
    assert delay is not None and 3600 < delay <= 3 * 3600 + 1  # quiet for one to two more hours


def test_a_program_that_does_not_send_texts_sends_none(local_stack: LocalStack) -> None:
    item = _texting_notice()
    program = _program(item.district_id, _awake())
    save_program(program.model_copy(update={"sms": program.sms.model_copy(update={"enabled": False})}))
    _insert(item)
    before = len(local_stack.sent_texts())

    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}

    assert len(local_stack.sent_texts()) == before
    assert not [k for k in _deliveries(item) if k.startswith("s")]
    assert "texts" not in json.loads(_audit(item, "notice.sent")[0].detail)


# ---------------------------------------------------------------------------------------------
# Faults around the SNS call (the email fault suite's cases, for texts)


class Killed(BaseException):
    """The function stopped (timeout, out of memory): no handler catches it."""


class _Sns:
    """A real SNS client whose ``publish`` is throttled once, or dies right after SNS took it."""

    def __init__(self, client: Any, fault: str) -> None:
        self.client = client
        self.fault = fault
        self.calls = 0

    def check_if_phone_number_is_opted_out(self, **request: Any) -> Any:
        return self.client.check_if_phone_number_is_opted_out(**request)

    def publish(self, **request: Any) -> Any:
        self.calls += 1
        if self.fault == "throttled" and self.calls == 1:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish")
        response = self.client.publish(**request)
        if self.fault == "killed" and self.calls == 1:
            raise Killed
        return response


T0 = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)  # 10:00 in Chicago


def test_a_throttled_text_is_given_back_and_the_retry_texts_once(local_stack: LocalStack) -> None:
    item = _texting_notice()
    _program(item.district_id, (time(20, 0), time(8, 0)), time_zone="America/Chicago")
    _insert(item)
    settings = notify_settings(local_stack)
    ses, sns = local_stack.client("sesv2"), local_stack.client("sns")
    before = len(_texts(local_stack, ANA))

    with pytest.raises(ClientError):
        deliver(item.notice_id, ses, settings, TEMPLATES, T0, sns_client=_Sns(sns, "throttled"))

    stored = _refreshed(item)
    assert stored.status == "sending" and stored.lease_token is None  # given back at once
    assert "s1" not in plain(stored.deliveries)  # the mark is removed: SNS did not take it
    assert len(_sent(local_stack, item.notice_id)) == 4  # the emails went and are recorded
    retried = deliver(item.notice_id, ses, settings, TEMPLATES, T0 + timedelta(seconds=15), sns_client=sns)
    assert (retried.sent_now, retried.texts_sent, retried.status) == (0, 1, "sent")
    assert len(_texts(local_stack, ANA)) == before + 1
    assert len(_sent(local_stack, item.notice_id)) == 4
    assert len(_audit(item, "notice.sent")) == 1 and len(_audit(item, "sms.opted_out")) == 1


def test_killed_after_sns_took_the_text_it_is_never_sent_again(local_stack: LocalStack) -> None:
    item = _texting_notice()
    _program(item.district_id, (time(20, 0), time(8, 0)), time_zone="America/Chicago")
    _insert(item)
    settings = notify_settings(local_stack)
    ses, sns = local_stack.client("sesv2"), local_stack.client("sns")
    before = len(_texts(local_stack, ANA))

    with pytest.raises(Killed):
        deliver(item.notice_id, ses, settings, TEMPLATES, T0, sns_client=_Sns(sns, "killed"), time_left=30)
    assert len(_texts(local_stack, ANA)) == before + 1

    # After the dead invocation's lease: the notice is settled, the text stays as it was marked.
    late = deliver(item.notice_id, ses, settings, TEMPLATES, T0 + timedelta(minutes=2), sns_client=sns)
    assert late.status == "sent" and late.texts_sent == 0
    assert len(_texts(local_stack, ANA)) == before + 1
    assert _deliveries(item)["s1"]["status"] == "sending"  # outcome unknown: never texted again
    (entry,) = _audit(item, "notice.sent")
    assert [t["status"] for t in json.loads(entry.detail)["texts"]] == ["unconfirmed", "opted_out"]
    deliver(item.notice_id, ses, settings, TEMPLATES, T0 + timedelta(minutes=5), sns_client=sns)
    assert len(_texts(local_stack, ANA)) == before + 1


def test_a_broken_text_template_fails_the_text_not_the_notice(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onpace_core.delivery import sms

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("a template used a value that is not defined")

    monkeypatch.setattr(sms, "compose", broken)
    item = _texting_notice()
    _program(item.district_id, (time(20, 0), time(8, 0)), time_zone="America/Chicago")
    _insert(item)
    settings = notify_settings(local_stack)
    before = len(_texts(local_stack, ANA))

    result = deliver(
        item.notice_id,
        local_stack.client("sesv2"),
        settings,
        TEMPLATES,
        T0,
        sns_client=local_stack.client("sns"),
    )

    assert result.status == "sent" and result.sent_now == 4
    assert len(_texts(local_stack, ANA)) == before
    assert _deliveries(item)["s1"] == {
        "status": "failed",
        "error": "ValueError",
        "at": "2026-10-01T15:00:00.000000Z",
    }
    (entry,) = _audit(item, "notice.sent")
    assert [t["status"] for t in json.loads(entry.detail)["texts"]] == ["failed", "opted_out"]


def test_the_roster_load_keeps_numbers_and_choices_and_notices_carry_them(local_stack: LocalStack) -> None:
    from datetime import date

    from onpace_core.notices.outbox import recipients_for
    from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
    from onpace_core.store.enrollments import upsert_enrollments
    from onpace_core.store.models import EnrollmentModel

    district_id = _notice().district_id
    program = _program(district_id, _awake())
    record = EnrollmentRecord(
        district_id=district_id,
        program_id="prog",
        class_id="cls-1",
        class_title="Biology Online",
        student_id="stu-1",
        student_name="Jamie Rivera",
        term_id=None,
        start_date=date(2026, 8, 24),
        end_date=date(2026, 12, 18),
        contacts=(
            ContactRecord(
                "student", "jamie@students.school.example", "Jamie Rivera", "en", "stu-1", JAMIE, None
            ),
            ContactRecord("guardian", "ana@family.example", "Ana Rivera", "es", "g-1", ANA, True),
            ContactRecord("guardian", "omar@family.example", "Omar Rivera", "en", "g-2", OMAR, False),
        ),
    )
    upsert_enrollments([record], program)

    stored = EnrollmentModel.get(record.enrollment_key, consistent_read=True)
    assert [(c.role, c.phone, c.sms) for c in stored.contacts] == [
        ("student", JAMIE, None),
        ("guardian", ANA, "y"),
        ("guardian", OMAR, "n"),
    ]
    guardians = recipients_for(stored, ("guardians",), program)
    assert [(c.address, c.phone, c.sms) for c in guardians] == [
        ("ana@family.example", ANA, "y"),
        ("omar@family.example", OMAR, "n"),
    ]
    # A reload that changes only a choice writes the item again (the roster view compares it).
    changed = replace(record, contacts=(*record.contacts[:2], replace(record.contacts[2], sms=True)))
    upsert_enrollments([changed], program)
    again = EnrollmentModel.get(record.enrollment_key, consistent_read=True)
    assert [c.sms for c in again.contacts] == [None, "y", "y"]
