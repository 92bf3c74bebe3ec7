"""Delivery tracking (issue 12, item 4) over the local stack: notify sends through moto's SES, a
test publishes SES's event JSON to the configuration set's topic over HTTP (moto's SES publishes
none), moto delivers it to the tap queue standing in for the function's subscription, and
``SnsPump`` invokes the real SesEventsFunction with the event Lambda would get.

The tags SES would echo are the ones notify really sent (its SendEmail calls, recorded).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from onpace_core.audit.log import read
from onpace_core.delivery import suppression
from onpace_core.delivery.sender import deliver
from onpace_core.store.models import Contact, OutboxModel, SuppressionModel
from onpace_local import ses_events
from onpace_local.sns import SnsPump
from onpace_local.stack import LocalStack

from tests.console_session import ConsoleSession
from tests.integration.test_logs_without_students import captured
from tests.integration.test_notify import (
    TEMPLATES,
    _event_for,
    _insert,
    _notice,
    _refreshed,
    _sent,
    _settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs="transactions")]

FUNCTION = "SesEventsFunction"


@dataclasses.dataclass
class Sent:
    item: OutboxModel
    # recipient key -> (SES message id, address, the EmailTags notify sent with it)
    messages: dict[str, tuple[str, str, list[dict[str, str]]]]


def _send(stack: LocalStack, item: OutboxModel) -> Sent:
    """Insert the notice and let the real notify handler send it; what SES would echo."""
    _insert(item)
    with stack.recording_calls() as calls:
        assert stack.invoke("NotifyFunction", _event_for(stack, item)) == {"batchItemFailures": []}
    sends = [c for c in calls if c.operation == "SendEmail"]
    config_sets = {c.params.get("ConfigurationSetName") for c in sends}
    assert config_sets == {stack.ref("NoticesConfigurationSet")}, "every send names the configuration set"
    tags_by_address = {c.params["Destination"]["ToAddresses"][0]: c.params["EmailTags"] for c in sends}
    fresh = _refreshed(item)
    messages = {}
    for key, entry in fresh.deliveries.as_dict().items():
        if entry.get("message_id"):
            address = fresh.recipients[int(key[1:])].address
            messages[key] = (entry["message_id"], address, tags_by_address[address])
    return Sent(fresh, messages)


def _publish(stack: LocalStack, sent: Sent, key: str, event_type: str, **kwargs: Any) -> list[Any]:
    message_id, address, tags = sent.messages[key]
    body = ses_events.event(
        event_type,
        message_id=message_id,
        address=address,
        tags=ses_events.tags_of(tags, stack.ref("NoticesConfigurationSet")),
        **kwargs,
    )
    return _deliver(stack, body)


def _deliver(stack: LocalStack, body: dict[str, Any]) -> list[Any]:
    ses_events.publish(stack, body)
    pump = SnsPump.for_function(stack, FUNCTION)
    assert pump.pump() == 1
    assert pump.failed == 0
    return [o for r in pump.responses for o in r["outcomes"]]


def _tracking(item: OutboxModel, key: str) -> dict[str, Any] | None:
    entry = OutboxModel.get(item.notice_id, consistent_read=True).deliveries.as_dict()[key]
    tracking = entry.get("tracking")
    assert entry["status"] == "sent"  # SES's answer at send time stays as it was
    return dict(tracking) if tracking else None


def _delivery_entries(item: OutboxModel) -> list[Any]:
    return [
        e
        for e in read(item.district_id, limit=1000)
        if e.notice_id == item.notice_id and e.type.startswith("delivery.")
    ]


def _listed(district: str, address: str) -> bool:
    return suppression.address_hash(address) in suppression.suppressed(district, [address])


# ---------------------------------------------------------------------------------------------


def test_hard_bounce_records_audits_and_suppresses_and_the_next_notice_skips_the_address(
    local_stack: LocalStack,
) -> None:
    sent = _send(local_stack, _notice())
    item = sent.item
    address = sent.messages["r1"][1]
    local_stack.handler(FUNCTION)  # imported, so that its logger exists before the capture

    with captured(local_stack) as capture:
        assert _publish(local_stack, sent, "r1", "Bounce", bounce_type="Permanent") == ["recorded"]

    assert '"outcome":"recorded"' in capture.text.replace(" ", "")  # the capture works
    for word in ("stu-1", address, item.notice_id, item.district_id):
        assert word not in capture.text  # no student, address or notice id (its district) in logs
    assert capture.metrics()["SesEventsRecorded"] == 1 and capture.metrics()["AddressesSuppressed"] == 1

    tracking = _tracking(item, "r1")
    assert tracking is not None
    assert tracking["status"] == "bounced" and tracking["bounce"] == "hard"
    assert tracking["detail"] == "Permanent/General"
    assert _tracking(item, "r0") is None and _tracking(item, "r2") is None
    (entry,) = _delivery_entries(item)
    assert entry.type == "delivery.bounced" and entry.rule_id == item.rule_id
    detail = json.loads(entry.detail)
    assert detail["recipient"] == "r1" and detail["status"] == "bounced (hard)" and detail["suppressed"]
    assert _listed(item.district_id, address)
    stored = SuppressionModel.get(item.district_id, suppression.address_hash(address))
    assert stored.masked == "a***@family.example" and stored.reason == "bounce"
    assert address not in json.dumps(stored.attribute_values)  # only the hash and the masked form

    # The next notice of the district to the same address: not sent there, recorded suppressed.
    later = _notice(
        rule_id="cps.pacing.ipr_warning_1w",
        district_id=item.district_id,
        notice_id=f"{item.enrollment_key}#cps.pacing.ipr_warning_1w#ipr-2026-10-09",
        enrollment_key=item.enrollment_key,
    )
    _insert(later)
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, later)) == {"batchItemFailures": []}
    assert sorted(to for to, _, _ in _sent(local_stack, later.notice_id)) == [
        "jamie@students.school.example",
        "luis@family.example",
    ]
    fresh = _refreshed(later)
    assert fresh.deliveries.as_dict()["r1"]["status"] == "suppressed"
    assert fresh.status == "partial"
    entries = [e for e in read(item.district_id, limit=1000) if e.notice_id == later.notice_id]
    (settled,) = [e for e in entries if e.type.startswith("notice.") and e.type != "notice.not_escalated"]
    # Neither the roster nor a program of this test has anyone else to write to: said once.
    (none_left,) = [e for e in entries if e.type == "notice.not_escalated"]
    assert json.loads(none_left.detail)["reason"] == "suppressed"
    recipients = json.loads(settled.detail)["recipients"]
    assert recipients[1]["status"] == "suppressed"
    assert "suppressed" in settled.summary


def test_soft_bounce_is_recorded_but_not_suppressed(local_stack: LocalStack) -> None:
    sent = _send(local_stack, _notice())
    assert _publish(
        local_stack, sent, "r2", "Bounce", bounce_type="Transient", bounce_sub_type="MailboxFull"
    ) == ["recorded"]
    tracking = _tracking(sent.item, "r2")
    assert tracking is not None and tracking["bounce"] == "soft"
    assert not _listed(sent.item.district_id, sent.messages["r2"][1])
    (entry,) = _delivery_entries(sent.item)
    assert json.loads(entry.detail)["suppressed"] is False


def test_complaint_is_recorded_and_suppresses(local_stack: LocalStack) -> None:
    sent = _send(local_stack, _notice())
    assert _publish(local_stack, sent, "r0", "Complaint") == ["recorded"]
    tracking = _tracking(sent.item, "r0")
    assert tracking is not None and tracking["status"] == "complained" and tracking["detail"] == "abuse"
    (entry,) = _delivery_entries(sent.item)
    assert entry.type == "delivery.complained"
    stored = SuppressionModel.get(sent.item.district_id, suppression.address_hash(sent.messages["r0"][1]))
    assert stored.reason == "complaint" and stored.role == "student"


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("Delivery", "delivered"), ("Reject", "rejected"), ("DeliveryDelay", "delayed")],
)
def test_delivery_reject_and_delay_change_the_status_and_audit(
    local_stack: LocalStack, event_type: str, status: str
) -> None:
    sent = _send(local_stack, _notice())
    assert _publish(local_stack, sent, "r0", event_type) == ["recorded"]
    tracking = _tracking(sent.item, "r0")
    assert tracking is not None and tracking["status"] == status
    (entry,) = _delivery_entries(sent.item)
    assert entry.type == f"delivery.{status}"
    assert not _listed(sent.item.district_id, sent.messages["r0"][1])


def test_a_redelivered_event_records_nothing_twice(local_stack: LocalStack) -> None:
    sent = _send(local_stack, _notice())
    assert _publish(local_stack, sent, "r1", "Bounce") == ["recorded"]
    assert _publish(local_stack, sent, "r1", "Bounce") == ["ignored"]
    assert len(_delivery_entries(sent.item)) == 1
    assert len(suppression.list_suppressions(sent.item.district_id)) == 1


def test_out_of_order_events_keep_the_most_serious(local_stack: LocalStack) -> None:
    sent = _send(local_stack, _notice())
    # A delivery after a hard bounce changes nothing; a delay after the delivery neither.
    assert _publish(local_stack, sent, "r1", "Bounce") == ["recorded"]
    assert _publish(local_stack, sent, "r1", "Delivery") == ["ignored"]
    tracking = _tracking(sent.item, "r1")
    assert tracking is not None and tracking["status"] == "bounced"
    # A delay then the delivery: both recorded, in rank order; then a late delay is ignored.
    assert _publish(local_stack, sent, "r0", "DeliveryDelay") == ["recorded"]
    assert _publish(local_stack, sent, "r0", "Delivery") == ["recorded"]
    assert _publish(local_stack, sent, "r0", "DeliveryDelay") == ["ignored"]
    tracking = _tracking(sent.item, "r0")
    assert tracking is not None and tracking["status"] == "delivered"
    # A complaint after the delivery outranks it.
    assert _publish(local_stack, sent, "r0", "Complaint") == ["recorded"]
    types = sorted(e.type for e in _delivery_entries(sent.item))
    assert types == ["delivery.bounced", "delivery.complained", "delivery.delayed", "delivery.delivered"]


def test_an_event_for_another_message_changes_nothing(local_stack: LocalStack) -> None:
    sent = _send(local_stack, _notice())
    _, address, tags = sent.messages["r0"]
    configuration_set = local_stack.ref("NoticesConfigurationSet")
    # Tags naming the notice, but a message id that is not the recipient's (stale or forged).
    forged = ses_events.event(
        "Bounce",
        message_id="0000-not-ours",
        address=address,
        tags=ses_events.tags_of(tags, configuration_set),
    )
    assert _deliver(local_stack, forged) == ["unknown"]
    # No OnPace tags at all (a message sent by something else through the configuration set).
    untagged = ses_events.event(
        "Bounce",
        message_id=sent.messages["r0"][0],
        address=address,
        tags=ses_events.tags_of([], configuration_set),
    )
    assert _deliver(local_stack, untagged) == ["unknown"]
    assert _tracking(sent.item, "r0") is None
    assert _delivery_entries(sent.item) == []
    assert not _listed(sent.item.district_id, address)


def test_an_event_that_keeps_failing_is_parked_in_the_dead_letter_queue(local_stack: LocalStack) -> None:
    pump = SnsPump.for_function(local_stack, FUNCTION)
    ses_events.publish(local_stack, {"eventType": "Bounce", "mail": {"nope": 1}})  # not an SES event
    assert pump.pump() == 1 and pump.failed == 1
    sqs = local_stack.client("sqs")
    messages = sqs.receive_message(QueueUrl=local_stack.ref("SesEventsDLQ"), MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert any('\\"nope\\"' in m["Body"] for m in messages)
    for m in messages:
        sqs.delete_message(QueueUrl=local_stack.ref("SesEventsDLQ"), ReceiptHandle=m["ReceiptHandle"])


# ---------------------------------------------------------------------------------------------
# SES errors at send time


def _failing_ses(stack: LocalStack, code: str, status: int = 400) -> Any:
    """A sesv2 client on moto whose SendEmail answers ``code`` (SES's own errors moto cannot
    produce: sending paused, throttling); every other call goes to moto."""
    ses = boto3.client(
        "sesv2",
        endpoint_url=stack.endpoint_url,
        region_name=stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    calls: list[str] = []

    def refuse(**_: Any) -> tuple[Any, dict[str, Any]]:
        calls.append(code)
        return SimpleNamespace(status_code=status, headers={}), {
            "Error": {"Code": code, "Message": "refused"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    ses.meta.events.register("before-call.sesv2.SendEmail", refuse)
    ses.refusals = calls  # type: ignore[attr-defined]
    return ses


@pytest.mark.parametrize(
    "code", ["AccountSendingPausedException", "SendingPausedException", "MailFromDomainNotVerifiedException"]
)
def test_sending_blocked_settles_failed_at_once_without_retry(local_stack: LocalStack, code: str) -> None:
    item = _insert(_notice())
    ses = _failing_ses(local_stack, code)
    result = deliver(item.notice_id, ses, _settings(local_stack), TEMPLATES)

    assert result.status == "failed" and result.blocked == code
    assert ses.refusals == [code]  # one refused call: the others were not tried
    fresh = _refreshed(item)
    assert fresh.status == "failed" and code in (fresh.status_reason or "")
    assert {e["status"] for e in fresh.deliveries.as_dict().values()} == {"failed"}
    (entry,) = [e for e in read(item.district_id, limit=100) if e.notice_id == item.notice_id]
    assert entry.type == "notice.failed" and code in entry.summary


def test_notify_counts_a_blocked_notice_and_does_not_retry_it(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notify_handler

    item = _insert(_notice())
    monkeypatch.setattr(notify_handler, "ses", _failing_ses(local_stack, "AccountSendingPausedException"))
    with captured(local_stack) as capture:
        response = local_stack.invoke("NotifyFunction", _event_for(local_stack, item))
    assert response == {"batchItemFailures": []}
    assert _refreshed(item).status == "failed"
    assert capture.metrics()["SesSendingBlocked"] == 1
    assert "delivery will be retried" not in capture.text  # nothing went to NotifyRetryQueue
    assert "SES refuses to send" in capture.text


def test_an_unverified_sender_is_rejected_without_retry(local_stack: LocalStack) -> None:
    """moto's own MessageRejected (the sender is not a verified identity): failed, not raised."""
    item = _insert(_notice(recipients=[Contact(role="guardian", address="g@family.example", name="G")]))
    settings = dataclasses.replace(_settings(local_stack), sender_address="someone@unverified.example")
    result = deliver(item.notice_id, local_stack.client("sesv2"), settings, TEMPLATES)
    assert result.status == "failed"
    assert result.outcomes[0].error == "MessageRejected"
    assert _refreshed(item).status == "failed"


@pytest.mark.parametrize(("code", "status"), [("TooManyRequestsException", 429), ("InternalFailure", 500)])
def test_throttling_and_5xx_keep_the_retry_path(local_stack: LocalStack, code: str, status: int) -> None:
    item = _insert(_notice())
    ses = _failing_ses(local_stack, code, status)
    ses.meta.config.retries = {"max_attempts": 0}
    with pytest.raises(ClientError):
        deliver(item.notice_id, ses, _settings(local_stack), TEMPLATES)
    fresh = _refreshed(item)
    assert fresh.status == "sending" and fresh.last_error["code"] == code
    assert fresh.deliveries.as_dict() == {}  # the mark was given back: the retry sends it
    # The retry, with SES answering again, sends all three.
    result = deliver(item.notice_id, local_stack.client("sesv2"), _settings(local_stack), TEMPLATES)
    assert result.status == "sent" and result.sent_now == 3


# ---------------------------------------------------------------------------------------------
# The console's list, per district


def _console(
    sign_in: Callable[..., ConsoleSession], method: str, district: str, query: dict[str, str] | None = None
) -> tuple[int, Any]:
    """The suppressions API as an admin of ``district`` signed in at the local identity provider."""
    status, _, body = sign_in(district).request(method, "/console/api/suppressions", query)
    return status, body


def test_console_lists_and_clears_only_the_admins_district(
    local_stack: LocalStack, console_sign_in: Callable[..., ConsoleSession]
) -> None:
    a, b = _notice(), _notice()
    sent_a, sent_b = _send(local_stack, a), _send(local_stack, b)
    assert _publish(local_stack, sent_a, "r1", "Bounce") == ["recorded"]
    assert _publish(local_stack, sent_b, "r2", "Complaint") == ["recorded"]
    district_a, district_b = a.district_id, b.district_id

    status, body = _console(console_sign_in, "GET", district_a)
    assert status == 200 and body["district_id"] == district_a
    (entry,) = body["suppressions"]
    assert entry["masked"] == "a***@family.example" and entry["reason"] == "bounce"
    assert "ana@family.example" not in json.dumps(body)
    status, body_b = _console(console_sign_in, "GET", district_b)
    assert [e["masked"] for e in body_b["suppressions"]] == ["l***@family.example"]

    # B's admin cannot clear A's entry: the key includes the caller's district.
    assert _console(console_sign_in, "DELETE", district_b, {"id": entry["id"]})[0] == 404
    assert _listed(district_a, "ana@family.example")
    assert _console(console_sign_in, "DELETE", district_b, {"id": "not-an-id"})[0] == 400

    status, cleared = _console(console_sign_in, "DELETE", district_a, {"id": entry["id"]})
    assert status == 200 and cleared["cleared"] is True
    assert not _listed(district_a, "ana@family.example")
    assert _console(console_sign_in, "GET", district_a)[1]["suppressions"] == []
    assert read(district_a, limit=1)[0].type == "suppression.cleared"
    assert _console(console_sign_in, "DELETE", district_a, {"id": entry["id"]})[0] == 404


def test_requests_per_event(local_stack: LocalStack) -> None:
    """An event costs a GetItem, the audit head and one transaction; a suppression one PutItem
    more; a redelivered one the same three, writing nothing (docs/scale.md, "SES events")."""
    from onpace_local.request_count import RequestCounts, counting_requests

    sent = _send(local_stack, _notice())
    local_stack.handler(FUNCTION)  # bound before counting
    counts: RequestCounts
    with counting_requests() as counts:
        assert _publish(local_stack, sent, "r0", "Delivery") == ["recorded"]
    assert (counts.of("GetItem"), counts.of("Query"), counts.of("TransactWriteItems")) == (1, 1, 1)
    assert counts.total() == 3 and counts.of("Scan") == 0
    # A hard bounce of a family recipient: the suppression put, then the escalation (the
    # enrollment and program read for the next contact, the audit head, one transaction).
    with counting_requests() as counts:
        assert _publish(local_stack, sent, "r1", "Bounce") == ["recorded"]
    assert counts.total() == 8 and counts.of("PutItem") == 1 and counts.of("GetItem") == 3
    assert counts.of("Query") == 2 and counts.of("TransactWriteItems") == 2 and counts.of("Scan") == 0
    with counting_requests() as counts:
        assert _publish(local_stack, sent, "r1", "Bounce") == ["ignored"]
    assert counts.total() == 8  # the same requests, every write conditional and refused
