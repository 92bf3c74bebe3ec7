"""Delivery faults (issue 11, items 2 and 4) against moto server, with injected failures.

Throttles are injected with a botocore ``before-call`` hook on the models' DynamoDB client: the
hook answers the chosen request with DynamoDB's throttling error instead of sending it, which is
what the code sees when a throttle outlasts botocore's own retries. A function killed after SES
accepted a message is an exception that ``Exception`` handlers do not catch, raised by the SES
client right after moto accepted it. Concurrent deliveries are threads.

In every case: no notice lost, none sent twice (moto holds every message SES accepted), and the
audit log complete and true — exactly one ``notice.*`` entry per settled notice (plus a
``notice.confirmed`` when late evidence arrives), whose recipients agree with what moto holds.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from onpace_core.audit.log import verify_chain
from onpace_core.delivery.retry import MAX_ATTEMPTS, RetryMessage
from onpace_core.delivery.sender import DeliveryResult, Interrupted, deliver
from onpace_core.store.models import ALL_MODELS, Contact, OutboxModel
from onpace_local.stack import LocalStack

from tests.integration.test_notify import (
    TEMPLATES,
    _audit,
    _event_for,
    _insert,
    _notice,
    _pump_retries,
    _refreshed,
    _sent,
    _settings,
    no_retry_delay,  # noqa: F401 - a fixture
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_retry_delay")]

THROTTLED = "ProvisionedThroughputExceededException"
ADDRESSES = ["jamie@students.school.example", "ana@family.example", "luis@family.example"]


# ---------------------------------------------------------------------------------------------
# Injected faults


def _tables(body: dict[str, Any]) -> list[str]:
    if "TableName" in body:
        return [str(body["TableName"])]
    return [next(iter(item.values()))["TableName"] for item in body.get("TransactItems", [])]


def _keys(body: dict[str, Any]) -> list[str]:
    keys = [body.get("Key", {})] + [
        next(iter(i.values())).get("Key", {}) for i in body.get("TransactItems", [])
    ]
    return [str(k["notice_id"]["S"]) for k in keys if "notice_id" in k]


@contextmanager
def throttled(
    operation: str,
    table: str,
    *,
    skip: int = 0,
    times: int = 1,
    notice_id: str | None = None,
    reasons: list[str] | None = None,
) -> Iterator[list[str]]:
    """Answer the matching DynamoDB requests ``skip + 1`` to ``skip + times`` with a throttle.

    ``reasons`` makes it a transaction cancelled for those per-item reasons (``ThrottlingError``).
    Yields the list of the operations answered so.
    """
    seen: list[str] = []
    hits: list[str] = []

    def before_call(params: dict[str, Any], **_: Any) -> Any:
        body = json.loads(params.get("body") or b"{}")
        if table not in _tables(body) or (notice_id is not None and notice_id not in _keys(body)):
            return None
        seen.append(operation)
        if not skip < len(seen) <= skip + times:
            return None
        hits.append(operation)
        code = "TransactionCanceledException" if reasons else THROTTLED
        parsed: dict[str, Any] = {
            "Error": {"Code": code, "Message": "Throughput exceeds the current capacity (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
        }
        if reasons:
            parsed["CancellationReasons"] = [{"Code": r} for r in reasons]
        return AWSResponse("https://dynamodb.invalid", 400, {}, None), parsed

    import notify_handler  # noqa: F401 - its import binds the models to new clients: hook those

    clients = {id(c): c for c in (m._get_connection().connection.client for m in ALL_MODELS)}
    event = f"before-call.dynamodb.{operation}"
    for client in clients.values():
        client.meta.events.register_first(event, before_call, unique_id="onpace-fault")
    try:
        yield hits
    finally:
        for client in clients.values():
            client.meta.events.unregister(event, unique_id="onpace-fault")


class Killed(BaseException):
    """The function stopped (timeout, out of memory): nothing after it runs, no handler catches it."""


class _KilledAfterSend:
    """A real SES client; the invocation dies right after SES accepted message number ``after``."""

    def __init__(self, client: Any, after: int) -> None:
        self.client = client
        self.after = after
        self.calls = 0

    def send_email(self, **request: Any) -> Any:
        self.calls += 1
        response = self.client.send_email(**request)
        if self.calls == self.after:
            raise Killed
        return response


# ---------------------------------------------------------------------------------------------
# What every case must end with


def _assert_complete_and_true(
    stack: LocalStack, item: OutboxModel, *, status: str = "sent"
) -> dict[str, Any]:
    """Each recipient has at most one message; the item and exactly one settling audit entry say
    what moto holds; the chain is intact. Returns the entry's detail."""
    sent = _sent(stack, item.notice_id)
    recipients = [c.address for c in item.recipients]
    assert sorted(to for to, _, _ in sent) == sorted({to for to, _, _ in sent}), "a recipient got two"
    stored = _refreshed(item)
    assert stored.status == status and stored.lease_token is None
    settling = [e for e in _audit(item) if e.type not in ("notice.confirmed", "delivery.failed")]
    assert len(settling) == 1, [e.type for e in settling]
    detail = json.loads(settling[0].detail)
    by_address = {to: message_id for to, _, message_id in sent}
    for entry, address in zip(detail["recipients"], recipients, strict=True):
        if entry["status"] == "sent":
            assert by_address[address] == entry["message_id"]
        elif entry["status"] == "failed":
            assert address not in by_address
    deliveries = stored.deliveries.as_dict()
    for index, address in enumerate(recipients):
        if deliveries[f"r{index}"]["status"] == "sent":
            assert by_address[address] == deliveries[f"r{index}"]["message_id"]
    assert verify_chain(item.district_id).intact
    return dict(detail)


def _dlq_messages(stack: LocalStack) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=stack.ref("NotifyDLQ"), MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for message in got:
            out.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=stack.ref("NotifyDLQ"), ReceiptHandle=message["ReceiptHandle"])


# ---------------------------------------------------------------------------------------------
# Throttles


def test_throttled_claim_sends_nothing_and_the_retry_sends_once(local_stack: LocalStack) -> None:
    item = _insert(_notice())
    outbox = OutboxModel.Meta.table_name

    with throttled("UpdateItem", outbox, times=1) as hits:
        response = local_stack.invoke("NotifyFunction", _event_for(local_stack, item))

    assert hits == ["UpdateItem"] and response == {"batchItemFailures": []}
    assert _sent(local_stack, item.notice_id) == []
    stored = _refreshed(item)
    assert stored.status == "pending" and stored.deliveries.as_dict() == {}
    assert stored.last_error is not None and stored.last_error.as_dict()["code"] == THROTTLED  # on the notice
    assert _audit(item) == []

    assert _pump_retries(local_stack) >= 1
    assert sorted(to for to, _, _ in _sent(local_stack, item.notice_id)) == sorted(ADDRESSES)
    _assert_complete_and_true(local_stack, item)


def test_a_notice_that_keeps_failing_lands_in_the_dlq_and_the_others_go_on(local_stack: LocalStack) -> None:
    stuck = _insert(_notice())
    other = _insert(_notice())
    _dlq_messages(local_stack)  # whatever earlier tests left
    records = [_event_for(local_stack, stuck)["Records"][0], _event_for(local_stack, other)["Records"][0]]

    with throttled("UpdateItem", OutboxModel.Meta.table_name, times=1000, notice_id=stuck.notice_id):
        assert local_stack.invoke("NotifyFunction", {"Records": records}) == {"batchItemFailures": []}
        assert len(_sent(local_stack, other.notice_id)) == 3  # the rest of the batch went on
        _pump_retries(local_stack)

    (dead,) = [m for m in _dlq_messages(local_stack) if m["notice_id"] == stuck.notice_id]
    assert dead["attempt"] == MAX_ATTEMPTS + 1 and dead["error"] == THROTTLED
    assert _sent(local_stack, stuck.notice_id) == []
    (parked,) = _audit(stuck)  # the district's own record of it, which the console lists
    assert parked.type == "delivery.failed" and parked.district_failure == stuck.district_id
    assert json.loads(parked.detail) == {"error": THROTTLED, "attempts": MAX_ATTEMPTS, "status": "pending"}
    assert _refreshed(stuck).status == "pending"  # not lost: still to send
    _assert_complete_and_true(local_stack, other)

    # Re-driven once the cause is gone (docs/operations.md): sent once, audited once.
    redriven = RetryMessage.model_validate(dead).model_copy(update={"attempt": 1})
    local_stack.client("sqs").send_message(
        QueueUrl=local_stack.ref("NotifyRetryQueue"), MessageBody=redriven.model_dump_json()
    )
    _pump_retries(local_stack)
    assert len(_sent(local_stack, stuck.notice_id)) == 3
    _assert_complete_and_true(local_stack, stuck)


def test_throttled_write_of_ses_answer_is_handed_to_the_retry(local_stack: LocalStack) -> None:
    """SES accepted r0; the write that records it (the mark of r1) and the flush are throttled."""
    item = _insert(_notice())
    outbox = OutboxModel.Meta.table_name

    # Outbox writes: 1 claim, 2 mark r0, 3 mark r1 with r0's answer, 4 the flush.
    with throttled("UpdateItem", outbox, skip=2, times=2) as hits:
        response = local_stack.invoke("NotifyFunction", _event_for(local_stack, item))

    assert len(hits) == 2 and response == {"batchItemFailures": []}
    ((to, _, message_id),) = _sent(local_stack, item.notice_id)
    assert to == ADDRESSES[0]
    stored = _refreshed(item)
    assert stored.deliveries.as_dict()["r0"]["status"] == "sending"  # the answer is not in the item...
    assert _audit(item) == []

    assert _pump_retries(local_stack) >= 1  # ...but in the retry message, which writes it first
    detail = _assert_complete_and_true(local_stack, item)
    assert detail["recipients"][0]["message_id"] == message_id
    assert sorted(to for to, _, _ in _sent(local_stack, item.notice_id)) == sorted(ADDRESSES)


@pytest.mark.parametrize(
    ("reasons", "times"),
    [(None, 1), (["ThrottlingError", "None"], 12)],
    ids=["throughput-exceeded", "transaction-cancelled-throttling"],
)
@pytest.mark.parametrize("flush_throttled", [False, True], ids=["flushed", "handed-over"])
def test_throttled_audit_write(
    local_stack: LocalStack, reasons: list[str] | None, times: int, flush_throttled: bool
) -> None:
    """The transaction that writes the audit entry with the notice's final status is throttled
    (12 cancellations: every attempt ``append_claimed`` makes)."""
    item = _insert(_notice())
    outbox = OutboxModel.Meta.table_name

    with (
        throttled("TransactWriteItems", outbox, times=times, reasons=reasons) as hits,
        throttled("UpdateItem", outbox, skip=4, times=1 if flush_throttled else 0),
    ):
        response = local_stack.invoke("NotifyFunction", _event_for(local_stack, item))

    assert len(hits) == times and response == {"batchItemFailures": []}
    assert len(_sent(local_stack, item.notice_id)) == 3
    assert _audit(item) == []  # not settled, so not audited yet
    stored = _refreshed(item)
    assert stored.status == "sending"
    if not flush_throttled:  # the answers are in the item, the lease is given back
        assert {d["status"] for d in stored.deliveries.as_dict().values()} == {"sent"}
        assert stored.lease_token is None

    _pump_retries(local_stack)
    _assert_complete_and_true(local_stack, item)
    assert len(_sent(local_stack, item.notice_id)) == 3  # the retry sent nothing


# ---------------------------------------------------------------------------------------------
# Killed, concurrent


T0 = datetime(2026, 9, 25, 5, 10, tzinfo=UTC)


def test_killed_after_ses_accepted_is_never_sent_again_and_is_recorded_unconfirmed(
    local_stack: LocalStack,
) -> None:
    item = _insert(_notice())
    settings = _settings(local_stack)
    ses = local_stack.client("sesv2")

    with pytest.raises(Killed):
        deliver(item.notice_id, _KilledAfterSend(ses, after=2), settings, TEMPLATES, now=T0, time_left=30)
    assert [to for to, _, _ in _sent(local_stack, item.notice_id)] == ADDRESSES[:2]

    # A retry while the dead invocation's lease lasts finds the notice held and sends nothing.
    early = deliver(item.notice_id, ses, settings, TEMPLATES, now=T0 + timedelta(seconds=20))
    assert early.status == "sending" and early.retry_after is not None and 0 < early.retry_after <= 60
    assert len(_sent(local_stack, item.notice_id)) == 2

    # After the lease: the third recipient gets its message, the second none again.
    late = deliver(item.notice_id, ses, settings, TEMPLATES, now=T0 + timedelta(minutes=2))
    assert late.sent_now == 1 and late.status == "unconfirmed"
    assert sorted(to for to, _, _ in _sent(local_stack, item.notice_id)) == sorted(ADDRESSES)
    detail = _assert_complete_and_true(local_stack, item, status="unconfirmed")
    assert [r["status"] for r in detail["recipients"]] == ["sent", "unconfirmed", "sent"]
    (entry,) = _audit(item)
    assert entry.type == "notice.sent" and "outcome unknown for guardian" in entry.summary
    assert "partial" not in entry.detail and "failed" not in entry.summary
    assert deliver(item.notice_id, ses, settings, TEMPLATES, now=T0 + timedelta(minutes=5)).sent_now == 0
    assert len(_audit(item)) == 1


def test_a_late_handover_confirms_what_was_recorded_unconfirmed(local_stack: LocalStack) -> None:
    """The retry carrying SES's answer arrives after another attempt settled the notice."""
    item = _insert(_notice(recipients=[Contact(role="guardian", address=a) for a in ADDRESSES[1:]]))
    settings = _settings(local_stack)
    ses = local_stack.client("sesv2")

    with (
        throttled("UpdateItem", OutboxModel.Meta.table_name, skip=2, times=2),
        pytest.raises(Interrupted) as stopped,
    ):
        deliver(item.notice_id, ses, settings, TEMPLATES, now=T0, time_left=30)
    handover = stopped.value.handover
    ((_, _, first_id),) = _sent(local_stack, item.notice_id)
    assert handover.settles["r0"]["message_id"] == first_id

    other = deliver(item.notice_id, ses, settings, TEMPLATES, now=T0 + timedelta(minutes=2))
    assert other.status == "unconfirmed" and other.sent_now == 1
    late = deliver(item.notice_id, ses, settings, TEMPLATES, now=T0 + timedelta(minutes=3), handover=handover)
    assert late.status == "sent" and late.sent_now == 0

    detail = _assert_complete_and_true(local_stack, item)
    assert detail["status"] == "unconfirmed"  # what was known when it was settled...
    confirmed = [e for e in _audit(item) if e.type == "notice.confirmed"]
    assert len(confirmed) == 1  # ...and what was learned after
    assert json.loads(confirmed[0].detail)["recipients"][0]["message_id"] == first_id
    # The same handover again changes nothing and audits nothing.
    deliver(item.notice_id, ses, settings, TEMPLATES, now=T0 + timedelta(minutes=4), handover=handover)
    assert len(_audit(item)) == 2


def test_four_concurrent_deliveries_of_one_notice(local_stack: LocalStack) -> None:
    """Four attempts start at once: one holds the lease and sends, the others step aside.

    (moto server answers requests on threads without serializing the conditional writes to one
    item, so two claims can both succeed there; the earlier one's next write is then refused and
    it steps aside too — or, if it had already sent a message, hands its answer over as the
    handler would to the retry queue. DynamoDB serializes them.)
    """
    item = _insert(_notice())
    settings = _settings(local_stack)
    ses = local_stack.client("sesv2")
    start = threading.Barrier(4)
    results: list[DeliveryResult] = []
    handed: list[Interrupted] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(deliver(item.notice_id, ses, settings, TEMPLATES))
        except Interrupted as stopped:
            handed.append(stopped)
        except BaseException as error:  # reported below, with the thread's result
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) + len(handed) == 4
    assert all(r.status in ("sent", "sending") for r in results)
    # What the handler would do next: the handed-over retries, then a look at every held one.
    retries = [deliver(item.notice_id, ses, settings, TEMPLATES, handover=h.handover) for h in handed]
    retries += [deliver(item.notice_id, ses, settings, TEMPLATES) for r in results if r.status == "sending"]

    assert sum(r.sent_now for r in results + retries) == 3
    assert sorted(to for to, _, _ in _sent(local_stack, item.notice_id)) == sorted(ADDRESSES)
    _assert_complete_and_true(local_stack, item)  # sent, never partial


def test_four_concurrent_invocations_through_the_handler(local_stack: LocalStack) -> None:
    """The same stream record four times at once (Lambda delivers at least once), each in its own
    handler call; the ones that find the notice held hand it to the retry queue."""
    import notify_handler

    item = _insert(_notice())
    event = _event_for(local_stack, item)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            # Each call its own processor: the module's one is not meant for concurrent use.
            notify_handler.attempt(RetryMessage(notice_id=item.notice_id), None)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert local_stack.invoke("NotifyFunction", event) == {"batchItemFailures": []}
    _pump_retries(local_stack)
    assert sorted(to for to, _, _ in _sent(local_stack, item.notice_id)) == sorted(ADDRESSES)
    _assert_complete_and_true(local_stack, item)


def test_no_message_is_started_without_time_to_record_it(local_stack: LocalStack) -> None:
    from onpace_core.delivery.sender import SEND_MARGIN

    item = _insert(_notice())
    settings = _settings(local_stack)
    ses = local_stack.client("sesv2")
    with pytest.raises(Exception, match="r0"):
        deliver(item.notice_id, ses, settings, TEMPLATES, now=T0, time_left=SEND_MARGIN)
    assert _sent(local_stack, item.notice_id) == []
    stored = _refreshed(item)
    assert stored.lease_token is None and stored.last_error.as_dict()["code"] == "DeadlineNear"
    assert deliver(item.notice_id, ses, settings, TEMPLATES, now=T0).sent_now == 3
    _assert_complete_and_true(local_stack, item)


def test_logs_name_no_student(local_stack: LocalStack) -> None:
    """Issue 11, item 8: notify logs a hash of the notice id (which names the student), never the id."""
    import notify_handler
    from onpace_core.delivery.retry import notice_ref

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(notify_handler.logger.registered_formatter)  # the JSON lines Lambda gets
    underlying = logging.getLogger(notify_handler.logger.name)
    underlying.addHandler(handler)
    try:
        item = _insert(_notice())
        with throttled("UpdateItem", OutboxModel.Meta.table_name, times=1):
            local_stack.invoke("NotifyFunction", _event_for(local_stack, item))
        _pump_retries(local_stack)
    finally:
        underlying.removeHandler(handler)
    assert _refreshed(item).status == "sent"

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ref = notice_ref(item.notice_id)
    assert any(line["message"] == "delivery will be retried" and line["notice_ref"] == ref for line in lines)
    assert any(line["message"] == "notice processed" and line["notice_ref"] == ref for line in lines)
    text = stream.getvalue()
    for secret in (item.notice_id, item.student_id, item.student_name, *ADDRESSES):
        assert secret not in text


class _SqsDown:
    def send_message(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")


def test_a_notice_that_cannot_even_be_queued_fails_its_record_alone(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Throttled claim and SQS down: only then is the stream record failed, for Lambda to retry."""
    import notify_handler

    stuck = _insert(_notice())
    other = _insert(_notice())
    records = [_event_for(local_stack, stuck)["Records"][0], _event_for(local_stack, other)["Records"][0]]
    working = notify_handler.sqs
    monkeypatch.setattr(notify_handler, "sqs", _SqsDown())

    with throttled("UpdateItem", OutboxModel.Meta.table_name, times=1, notice_id=stuck.notice_id):
        response = local_stack.invoke("NotifyFunction", {"Records": records})

    assert response == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
    assert _sent(local_stack, stuck.notice_id) == [] and len(_sent(local_stack, other.notice_id)) == 3
    monkeypatch.setattr(notify_handler, "sqs", working)  # Lambda retries the failed record
    assert local_stack.invoke("NotifyFunction", {"Records": records[:1]}) == {"batchItemFailures": []}
    _assert_complete_and_true(local_stack, stuck)
    _assert_complete_and_true(local_stack, other)
