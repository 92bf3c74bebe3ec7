"""The notify function against moto server: outbox INSERT record → one SES message per recipient.

Sent mail is read back from moto server's SES (``LocalStack.sent_emails``: every raw message,
with its id, source, destinations and raw MIME). ``get_send_quota()["SentLast24Hours"]``
is no use for counting: moto adds the addresses of the ``To`` header to the destinations, so
one message to one recipient counts twice.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from onpace_core.audit.log import read, verify_chain
from onpace_core.delivery.mime import NOTICE_HEADER
from onpace_core.delivery.sender import deliver
from onpace_core.settings import Settings
from onpace_core.store.models import AuditModel, Contact, OutboxModel
from onpace_local.queues import QueuePump
from onpace_local.stack import LocalStack
from onpace_local.streams import StreamLog

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EVENT = REPO_ROOT / "events" / "notify_outbox_insert.json"
TEMPLATES = REPO_ROOT / "functions" / "notify" / "templates"
REJECTED_BY_MOTO = '"first@last"@family.example'  # valid for Python's email, "Missing domain" for moto


# ---------------------------------------------------------------------------------------------
# Helpers: outbox items, their real stream records, and the mail moto holds.


def _notice(rule_id: str = "cps.pacing.ipr_warning_2w", **overrides: Any) -> OutboxModel:
    district = f"d-{uuid.uuid4().hex[:10]}"
    enrollment = f"{district}#cls-1#stu-1"
    fields: dict[str, Any] = {
        "notice_id": f"{enrollment}#{rule_id}#ipr-2026-10-09",
        "district_id": district,
        "program_id": "prog",
        "enrollment_key": enrollment,
        "student_id": "stu-1",
        "class_id": "cls-1",
        "class_title": "Biology Online",
        "student_name": "Jamie Rivera",
        "rule_id": rule_id,
        "episode": "ipr-2026-10-09",
        "kind": "notice",
        "policy_version": "test-2026.1",
        "decided_on": "2026-09-25",
        "due_on": "2026-09-25",
        "deadlines": {"ipr": "2026-10-09", "drop": "2026-10-10"},
        "facts": {"percent_complete": 0.1, "required_percent": 0.15, "ipr_date": "2026-10-09"},
        "recipients": [
            Contact(
                role="student", address="jamie@students.school.example", name="Jamie Rivera", language="en"
            ),
            Contact(role="guardian", address="ana@family.example", name="Ana Rivera", language="es"),
            Contact(role="guardian", address="luis@family.example", name="Luis Rivera"),
        ],
        # What the evaluator records with every notice (outbox.record_decision).
        "reply_to": Contact(
            role="program_contact", address="dana.ruiz@school.example", name="Dana Ruiz", title="Counselor"
        ),
        "program_name": "Test Online",
        "district_name": "Test School District",
        "status": "pending",
        "created_at": "2026-09-25T05:05:00.000000Z",
    }
    fields.update(overrides)
    return OutboxModel(**fields)


def _insert(item: OutboxModel) -> OutboxModel:
    """As the evaluator does: a conditional put, which the table's stream turns into an INSERT."""
    item.save(condition=OutboxModel.notice_id.does_not_exist())
    return item


def _stream_record(stack: LocalStack, notice_id: str) -> dict[str, Any]:
    """The INSERT record of ``notice_id`` from moto's outbox stream, shaped as Lambda delivers it."""
    for record in StreamLog.of(stack, "OutboxTable").records():
        if record["eventName"] == "INSERT" and record["dynamodb"]["Keys"]["notice_id"]["S"] == notice_id:
            return record
    raise AssertionError(f"no INSERT record for {notice_id} in the outbox stream")


def _event_for(stack: LocalStack, item: OutboxModel) -> dict[str, Any]:
    return {"Records": [_stream_record(stack, item.notice_id)]}


def _raw_messages(stack: LocalStack) -> list[dict[str, Any]]:
    return stack.sent_emails()


def _parse(raw: str) -> EmailMessage:
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _subject(message: EmailMessage) -> str:
    # CPython's parser keeps the space of a fold right after "Subject:"; mail clients drop it.
    return str(message["Subject"]).strip()


def _sent(stack: LocalStack, notice_id: str) -> list[tuple[str, EmailMessage, str]]:
    """(envelope recipient, parsed message, SES message id) of every message sent for the notice."""
    out = []
    for message in _raw_messages(stack):
        parsed = _parse(message["raw_data"])
        if parsed[NOTICE_HEADER] == notice_id:
            out.append((message["destinations"][0], parsed, message["id"]))
    return out


def _audit(item: OutboxModel, type_: str | None = None) -> list[AuditModel]:
    entries = [e for e in read(item.district_id, limit=1000) if e.notice_id == item.notice_id]
    return [e for e in entries if type_ is None or e.type == type_]


def _refreshed(item: OutboxModel) -> OutboxModel:
    return OutboxModel.get(item.notice_id, consistent_read=True)


def _settings(stack: LocalStack) -> Settings:
    return Settings.from_env(stack.function_env("NotifyFunction") | {"AWS_REGION": stack.region})


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.mark.dynamodb(needs="transactions")  # the audit entry and the settled status are one transaction
def test_sample_event_file_delivers_the_at_risk_email(local_stack: LocalStack) -> None:
    """``events/notify_outbox_insert.json`` is what ``sam local invoke NotifyFunction -e`` uses."""
    event = json.loads(SAMPLE_EVENT.read_text())
    (record,) = event["Records"]
    assert record["eventName"] == "INSERT"
    item = OutboxModel.from_raw_data(record["dynamodb"]["NewImage"])
    assert item.rule_id == "csu.engagement.at_risk_14d"
    item.notice_id = f"{item.notice_id}-{uuid.uuid4().hex[:6]}"  # unique per run of the suite
    _insert(item)
    record["dynamodb"]["NewImage"]["notice_id"] = {"S": item.notice_id}
    record["dynamodb"]["Keys"]["notice_id"] = {"S": item.notice_id}

    response = local_stack.invoke("NotifyFunction", event)

    assert response == {"batchItemFailures": []}
    ((to, message, _id),) = _sent(local_stack, item.notice_id)
    assert to == "jordan.lee@students.example.edu"
    assert _subject(message).startswith("At-Risk: please take part in BIO 101")
    body = message.get_body(("plain",))
    assert body is not None and "Monday, March 23, 2026" in body.get_content()
    assert _refreshed(item).status == "sent"


def test_insert_sends_one_message_per_recipient_and_audits(local_stack: LocalStack) -> None:
    item = _insert(_notice())
    event = _event_for(local_stack, item)
    before = len(_raw_messages(local_stack))

    response = local_stack.invoke("NotifyFunction", event)

    assert response == {"batchItemFailures": []}
    sent = _sent(local_stack, item.notice_id)
    assert len(_raw_messages(local_stack)) == before + 3
    assert sorted(to for to, _, _ in sent) == [
        "ana@family.example",
        "jamie@students.school.example",
        "luis@family.example",
    ]
    by_address = {to: (message, message_id) for to, message, message_id in sent}
    student_message, student_id = by_address["jamie@students.school.example"]
    # Both bodies reached SES, followed by the notice's deadlines (ipr, drop) as deadline.ics.
    assert student_message.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in student_message.iter_parts()] == [
        "multipart/alternative",
        "text/calendar",
    ]
    sender = local_stack.function_env("NotifyFunction")["SENDER_ADDRESS"]
    assert student_message["From"] == f"Test Online <{sender}>"  # signed with the program's name
    assert student_message["To"] == "Jamie Rivera <jamie@students.school.example>"
    # Every family message names the contact person and sends replies to them.
    for to, message, _ in sent:
        assert message["Reply-To"] == "Dana Ruiz <dana.ruiz@school.example>", to
        plain = message.get_body(("plain",))
        assert plain is not None
        content = plain.get_content().replace("\r\n", "\n")  # SMTP line endings
        assert "Dana Ruiz, Counselor\ndana.ruiz@school.example" in content
        assert "Test Online\nTest School District" in content
    assert _subject(student_message) == "Action needed: two weeks to reach 15% in Biology Online"
    text = student_message.get_body(("plain",))
    html = student_message.get_body(("html",))
    assert text is not None and html is not None
    assert "You have completed 10% of Biology Online" in text.get_content()
    assert "Friday, October 9, 2026" in html.get_content()
    guardian_message, _ = by_address["ana@family.example"]
    # The guardian's roster language is Spanish: the whole email is, from the es catalogue.
    assert _subject(guardian_message).startswith("Acción necesaria: a Jamie Rivera le quedan dos semanas")
    guardian_text = guardian_message.get_body(("plain",))
    assert guardian_text is not None and "viernes, 9 de octubre de 2026" in guardian_text.get_content()

    stored = _refreshed(item)
    assert stored.status == "sent"
    assert stored.ses_message_id == student_id  # the first recipient's message
    assert stored.sent_at is not None and stored.status_reason is None
    deliveries = stored.deliveries.as_dict()
    assert {key: d["status"] for key, d in deliveries.items()} == {"r0": "sent", "r1": "sent", "r2": "sent"}
    assert {d["message_id"] for d in deliveries.values()} == {message_id for _, _, message_id in sent}

    (entry,) = _audit(item)
    assert entry.type == "notice.sent" and entry.actor == "notify"
    assert (entry.rule_id, entry.policy_version) == ("cps.pacing.ipr_warning_2w", "test-2026.1")
    assert (entry.program_id, entry.student_id, entry.class_id) == ("prog", "stu-1", "cls-1")
    assert "@" not in entry.summary and "student" in entry.summary
    detail = json.loads(entry.detail)
    assert [(r["role"], r["address"], r["status"]) for r in detail["recipients"]] == [
        ("student", "jamie@students.school.example", "sent"),
        ("guardian", "ana@family.example", "sent"),
        ("guardian", "luis@family.example", "sent"),
    ]
    assert sorted(detail["ses_message_ids"]) == sorted(message_id for _, _, message_id in sent)
    assert detail["deadlines"] == {"ipr": "2026-10-09", "drop": "2026-10-10"}
    assert detail["reply_to"]["address"] == "dana.ruiz@school.example"
    assert detail["signed"] == ["Test Online", "Test School District"]
    assert verify_chain(item.district_id).intact

    # The same stream record again (a retry, a replay): nothing more is sent or audited.
    again = local_stack.invoke("NotifyFunction", event)
    assert again == {"batchItemFailures": []}
    assert len(_sent(local_stack, item.notice_id)) == 3
    assert len(_raw_messages(local_stack)) == before + 3
    assert len(_audit(item)) == 1
    assert _refreshed(item).deliveries.as_dict() == deliveries


def test_skipped_item_sends_nothing(local_stack: LocalStack) -> None:
    item = _insert(_notice(kind="skipped", status="skipped", status_reason="superseded"))
    before = len(_raw_messages(local_stack))

    response = local_stack.invoke("NotifyFunction", _event_for(local_stack, item))

    assert response == {"batchItemFailures": []}
    assert len(_raw_messages(local_stack)) == before
    stored = _refreshed(item)
    assert stored.status == "skipped" and stored.deliveries.as_dict() == {}
    assert _audit(item) == []


def test_suppressed_item_sends_nothing(local_stack: LocalStack) -> None:
    item = _insert(_notice(status="suppressed", status_reason="channel policy"))
    local_stack.invoke("NotifyFunction", _event_for(local_stack, item))
    assert _sent(local_stack, item.notice_id) == []
    assert _refreshed(item).status == "suppressed"


def test_recipient_rejected_by_ses_is_failed_and_audited(local_stack: LocalStack) -> None:
    recipients = [
        Contact(role="student", address="jamie@students.school.example", name="Jamie Rivera"),
        Contact(role="guardian", address=REJECTED_BY_MOTO, name="Ana Rivera"),
    ]
    item = _insert(_notice(recipients=recipients))

    response = local_stack.invoke("NotifyFunction", _event_for(local_stack, item))

    assert response == {"batchItemFailures": []}  # a definite rejection is not retried
    assert [to for to, _, _ in _sent(local_stack, item.notice_id)] == ["jamie@students.school.example"]
    stored = _refreshed(item)
    assert stored.status == "partial"
    deliveries = stored.deliveries.as_dict()
    assert deliveries["r0"]["status"] == "sent"
    assert deliveries["r1"]["status"] == "failed" and deliveries["r1"]["error"] == "InvalidParameterValue"
    assert stored.status_reason is not None and "InvalidParameterValue" in stored.status_reason
    (entry,) = _audit(item)
    assert entry.type == "notice.sent"
    assert "not delivered to guardian (InvalidParameterValue)" in entry.summary
    detail = json.loads(entry.detail)
    assert detail["status"] == "partial"
    assert detail["recipients"][1] == {
        "index": 1,
        "role": "guardian",
        "address": REJECTED_BY_MOTO,
        "status": "failed",
        "message_id": None,
        "error": "InvalidParameterValue",
    }


@pytest.fixture
def unverified_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send from an address that has no SES identity, so SES rejects every message.

    (The handler's settings are patched rather than the shared SES identities deleted: other
    tests of the session rely on those.)
    """
    import notify_handler

    unverified = dataclasses.replace(notify_handler.settings, sender_address="notices@unverified.example")
    monkeypatch.setattr(notify_handler, "settings", unverified)


@pytest.mark.usefixtures("unverified_sender")
def test_message_rejected_for_every_recipient_fails_the_notice(local_stack: LocalStack) -> None:
    item = _insert(_notice(recipients=[Contact(role="student", address="jamie@students.school.example")]))

    response = local_stack.invoke("NotifyFunction", _event_for(local_stack, item))

    assert response == {"batchItemFailures": []}
    assert _sent(local_stack, item.notice_id) == []
    stored = _refreshed(item)
    assert stored.status == "failed" and stored.ses_message_id is None and stored.sent_at is None
    assert stored.deliveries.as_dict()["r0"]["error"] == "MessageRejected"
    (entry,) = _audit(item)
    assert entry.type == "notice.failed"
    assert "not delivered to student (MessageRejected)" in entry.summary


def test_notice_without_recipients_is_failed_and_audited(local_stack: LocalStack) -> None:
    item = _insert(_notice(recipients=[]))
    local_stack.invoke("NotifyFunction", _event_for(local_stack, item))
    stored = _refreshed(item)
    assert stored.status == "failed" and stored.status_reason == "no recipient address"
    (entry,) = _audit(item)
    assert entry.type == "notice.failed" and "no recipient address" in entry.summary


def test_recipient_without_address_is_failed_without_calling_ses(local_stack: LocalStack) -> None:
    recipients = [
        Contact(role="guardian", address="", name="Ana Rivera"),
        Contact(role="guardian", address="not-an-address", name="Luis Rivera"),
        Contact(role="student", address="jamie@students.school.example"),
    ]
    item = _insert(_notice(recipients=recipients))
    local_stack.invoke("NotifyFunction", _event_for(local_stack, item))
    assert [to for to, _, _ in _sent(local_stack, item.notice_id)] == ["jamie@students.school.example"]
    deliveries = _refreshed(item).deliveries.as_dict()
    assert deliveries["r0"]["error"] == "no recipient address"
    assert deliveries["r1"]["error"] == "invalid address"
    assert _refreshed(item).status == "partial"


class _ThrottledOnce:
    """A real SES client that answers the first send with throttling (what botocore gives up on)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0

    def send_email(self, **request: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise ClientError(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."}},
                "SendEmail",
            )
        return self.client.send_email(**request)


@pytest.mark.dynamodb(needs="transactions")  # the audit entry and the settled status are one transaction
def test_throttling_releases_the_claim_and_the_retry_sends_once(local_stack: LocalStack) -> None:
    item = _insert(_notice())
    flaky = _ThrottledOnce(local_stack.client("sesv2"))
    settings = _settings(local_stack)

    with pytest.raises(ClientError, match="TooManyRequests"):
        deliver(item.notice_id, flaky, settings, TEMPLATES)
    stored = _refreshed(item)
    assert stored.status == "sending" and stored.deliveries.as_dict() == {}  # claim given back
    assert _sent(local_stack, item.notice_id) == []

    result = deliver(item.notice_id, flaky, settings, TEMPLATES)
    assert result.status == "sent" and result.sent_now == 3
    assert len(_sent(local_stack, item.notice_id)) == 3
    assert deliver(item.notice_id, flaky, settings, TEMPLATES).sent_now == 0
    assert len(_audit(item, "notice.sent")) == 1


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry messages visible at once (the deployed delays are seconds to minutes)."""
    from onpace_core.delivery import retry_queue

    monkeypatch.setattr(retry_queue, "DELAYS", (0,) * len(retry_queue.DELAYS))


def _pump_retries(stack: LocalStack) -> int:
    """Play the retry queue's event source mapping until the queue is empty."""
    return QueuePump.for_function(stack, "NotifyFunction").pump()


@pytest.mark.usefixtures("no_retry_delay")
def test_a_throttled_notice_is_retried_alone_and_the_batch_goes_on(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notify_handler

    good = _insert(_notice())
    throttled = _insert(_notice())
    records = [_stream_record(local_stack, throttled.notice_id), _stream_record(local_stack, good.notice_id)]
    flaky = _ThrottledOnce(local_stack.client("sesv2"))
    monkeypatch.setattr(notify_handler, "ses", flaky)

    response = local_stack.invoke("NotifyFunction", {"Records": records})

    # The stream is not held up: the failure is recorded on that notice and it goes to the retry queue.
    assert response == {"batchItemFailures": []}
    assert _sent(local_stack, throttled.notice_id) == []  # a throttled notice stops at once
    stored = _refreshed(throttled)
    assert stored.deliveries.as_dict() == {} and stored.status == "sending" and stored.lease_token is None
    assert stored.last_error is not None and stored.last_error.as_dict()["code"] == "TooManyRequestsException"
    assert len(_sent(local_stack, good.notice_id)) == 3  # the other record of the batch went through
    # The retry queue delivers it again on its own: now each recipient gets exactly one message.
    assert _pump_retries(local_stack) >= 1
    assert sorted(to for to, _, _ in _sent(local_stack, throttled.notice_id)) == [
        "ana@family.example",
        "jamie@students.school.example",
        "luis@family.example",
    ]
    assert _refreshed(throttled).status == "sent"
    assert len(_audit(throttled)) == 1 and len(_audit(good)) == 1
