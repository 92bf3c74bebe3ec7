"""Canvas Live Events on the local stack: signed JWTs over HTTP through the local gateway, and
messages on the moto SQS queue read by the real queue handler; all state in moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.log import read
from onpace_core.store.models import EnrollmentModel, RawEventModel
from onpace_local.district import store_canvas_receiver
from onpace_local.gateway import GatewayHandle
from onpace_local.lms.canvas_client import (
    DEFAULT_ROOT_ACCOUNT,
    CanvasSigner,
    live_event_from_plain,
    post_live_event,
    send_to_queue,
)
from onpace_local.queues import QueuePump
from onpace_local.stack import LocalStack

from tests.integration.districts import SampleDistrict, archived, make_district
from tests.integration.refusals import refusal_windows, refused_in

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

WHEN = "2026-09-01T10:00:00-05:00"


@pytest.fixture
def district(local_stack: LocalStack) -> SampleDistrict:
    return make_district(local_stack, {"csu.engagement.at_risk_14d": {}})


@pytest.fixture
def signer(local_stack: LocalStack, district: SampleDistrict) -> CanvasSigner:
    return store_canvas_receiver(local_stack, district.district_id, accounts=[DEFAULT_ROOT_ACCOUNT])


def _submission(event_id: str, student: str = "stu-1", at: str = WHEN) -> dict[str, Any]:
    """A submission_created as Canvas sends it for a rostered student: SIS ids = sourcedIds."""
    return live_event_from_plain(
        {"event_id": event_id, "occurred_at": at, "student": student, "class": "cls-1", "kind": "submission"}
    )


def _enrollment(district: SampleDistrict, student: str = "stu-1") -> EnrollmentModel:
    return EnrollmentModel.get(f"{district.district_id}#cls-1#{student}", consistent_read=True)


def _raw_events(district: SampleDistrict) -> list[RawEventModel]:
    scanned = RawEventModel.scan()
    return [e for e in scanned if e.district_id == district.district_id and "#refused#" not in e.pk]


# -- HTTPS -------------------------------------------------------------------------------------


def test_signed_submission_changes_facts_once(
    gateway: GatewayHandle, district: SampleDistrict, signer: CanvasSigner, local_stack: LocalStack
) -> None:
    event = _submission("s-1")
    response = post_live_event(gateway.url, district_id=district.district_id, token=signer.sign(event))
    assert response.status == 200, response.body
    assert (response.body["accepted"], response.body["duplicates"], response.body["kind"]) == (
        1,
        0,
        "submission",
    )
    assert _enrollment(district).last_submission_at == "2026-09-01T15:00:00.000000Z"
    raw = RawEventModel.get(f"{district.district_id}#{response.body['event_id']}", consistent_read=True)
    assert raw.source == "canvas" and raw.status == "folded" and raw.student_id == "stu-1"
    assert raw.payload is None  # slim: the event as received is in the archive
    line = archived(local_stack, district.district_id)[response.body["event_id"]]
    assert json.loads(line["payload"]) == event  # the event itself, without the JWT's claims
    # Canvas retries (a new JWT, the same event): counted once.
    again = post_live_event(gateway.url, district_id=district.district_id, token=signer.sign(event))
    assert again.status == 200
    assert (again.body["accepted"], again.body["duplicates"]) == (0, 1)
    assert again.body["event_id"] == response.body["event_id"]
    assert len(_raw_events(district)) == 1


def test_login_and_progress_over_https(
    gateway: GatewayHandle, district: SampleDistrict, signer: CanvasSigner
) -> None:
    plain = {"event_id": "p-1", "occurred_at": WHEN, "student": "stu-2", "class": "cls-1"}
    progress = live_event_from_plain({**plain, "kind": "progress", "percent_complete": 40})
    response = post_live_event(gateway.url, district_id=district.district_id, token=signer.sign(progress))
    assert response.status == 200, response.body
    assert _enrollment(district, "stu-2").percent_complete == pytest.approx(0.40)


def test_bad_signature_is_401_and_nothing_is_stored(
    gateway: GatewayHandle, district: SampleDistrict, signer: CanvasSigner
) -> None:
    impostor = CanvasSigner.generate(kid=signer.kid)
    response = post_live_event(
        gateway.url, district_id=district.district_id, token=impostor.sign(_submission("forged"))
    )
    assert response.status == 401
    assert "signature" in response.body["message"]
    assert _raw_events(district) == []
    assert _enrollment(district).last_submission_at is None
    assert refused_in(refusal_windows(district.district_id)) == 1
    assert read(district.district_id) == []


def test_expired_unsigned_and_malformed(
    gateway: GatewayHandle, district: SampleDistrict, signer: CanvasSigner
) -> None:
    expired = signer.sign(_submission("old"), at=datetime.now(UTC) - timedelta(hours=2))
    assert post_live_event(gateway.url, district_id=district.district_id, token=expired).status == 401
    unsigned = post_live_event(
        gateway.url,
        district_id=district.district_id,
        token=json.dumps(_submission("plain")),
        content_type="application/json",
    )
    assert unsigned.status == 401 and "Sign Payload" in unsigned.body["message"]
    garbage = post_live_event(gateway.url, district_id=district.district_id, token="a.b")
    assert garbage.status == 400
    # Signed, but no event time Canvas could have sent.
    broken = _submission("broken")
    broken["metadata"]["event_time"] = "soon"
    bad_event = post_live_event(gateway.url, district_id=district.district_id, token=signer.sign(broken))
    assert bad_event.status == 400 and "event_time" in bad_event.body["message"]
    assert _raw_events(district) == []


def test_other_root_account_and_unknown_district(
    gateway: GatewayHandle, district: SampleDistrict, signer: CanvasSigner
) -> None:
    elsewhere = live_event_from_plain(
        {"event_id": "x", "occurred_at": WHEN, "student": "stu-1", "class": "cls-1", "kind": "submission"},
        root_account_id="31000000000000001",
    )
    response = post_live_event(gateway.url, district_id=district.district_id, token=signer.sign(elsewhere))
    assert response.status == 403 and "31000000000000001" in response.body["message"]
    unknown = post_live_event(gateway.url, district_id="d-nope", token=signer.sign(_submission("y")))
    assert unknown.status == 401 and "d-nope" in unknown.body["message"]
    missing = post_live_event(gateway.url, district_id="", token=signer.sign(_submission("z")))
    assert missing.status == 400
    assert _raw_events(district) == []


# -- SQS ---------------------------------------------------------------------------------------


@pytest.fixture
def queue(local_stack: LocalStack, district: SampleDistrict) -> Iterator[QueuePump]:
    pump = QueuePump.for_function(local_stack, "CanvasQueueFunction")
    accounts = json.dumps({DEFAULT_ROOT_ACCOUNT: district.district_id})
    with local_stack.environment(CANVAS_ACCOUNTS=accounts):
        yield pump
        pump.pump()  # leave nothing for the next test


def _dlq_bodies(local_stack: LocalStack) -> list[str]:
    sqs = local_stack.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=local_stack.ref("CanvasLiveEventsDLQ"), MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(
            QueueUrl=local_stack.ref("CanvasLiveEventsDLQ"), ReceiptHandle=message["ReceiptHandle"]
        )
    return [m["Body"] for m in messages]


def test_queue_messages_are_consumed_and_a_bad_one_blocks_nothing(
    local_stack: LocalStack, district: SampleDistrict, queue: QueuePump
) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.ref("CanvasLiveEventsQueue")
    send_to_queue(sqs, url, _submission("q-1", "stu-1"))
    invalid = _submission("q-bad", "stu-1")
    invalid["metadata"]["event_time"] = "2999-01-01T00:00:00Z"  # a district's event, but impossible
    send_to_queue(sqs, url, invalid)
    send_to_queue(sqs, url, "this is not JSON")
    send_to_queue(sqs, url, _submission("q-2", "stu-2", at="2026-09-02T10:00:00-05:00"))
    send_to_queue(sqs, url, _submission("q-1", "stu-1"))  # SQS delivers at least once

    assert queue.pump() >= 5
    assert _enrollment(district, "stu-1").last_submission_at == "2026-09-01T15:00:00.000000Z"
    assert _enrollment(district, "stu-2").last_submission_at == "2026-09-02T15:00:00.000000Z"
    stored = _raw_events(district)
    assert sorted(e.student_id for e in stored) == ["stu-1", "stu-2"]  # the duplicate counted once
    assert {e.source for e in stored} == {"canvas"}
    # Archived by the queue function too: each accepted event once, whatever SQS redelivered.
    assert sorted(r["status"] for r in archived(local_stack, district.district_id).values()) == ["folded"] * 2
    # The impossible event is refused and audited in its district; the queue is empty.
    rejected = refusal_windows(district.district_id)
    assert refused_in(rejected) == 1 and "future" in (rejected[0].example or "")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    # What no district can be told for is retried, then kept in the dead-letter queue.
    assert _dlq_bodies(local_stack) == ["this is not JSON"]


def test_queue_event_of_an_unconfigured_account_waits_in_the_dlq(
    local_stack: LocalStack, district: SampleDistrict, queue: QueuePump
) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.ref("CanvasLiveEventsQueue")
    stranger = live_event_from_plain(
        {"event_id": "s", "occurred_at": WHEN, "student": "stu-1", "class": "cls-1", "kind": "submission"},
        root_account_id="31000000000000001",
    )
    send_to_queue(sqs, url, stranger)
    queue.pump()
    assert [json.loads(b) for b in _dlq_bodies(local_stack)] == [stranger]
    assert _raw_events(district) == []


def test_the_same_event_by_https_and_by_sqs_counts_once(
    gateway: GatewayHandle,
    local_stack: LocalStack,
    district: SampleDistrict,
    signer: CanvasSigner,
    queue: QueuePump,
) -> None:
    event = _submission("both")
    assert (
        post_live_event(gateway.url, district_id=district.district_id, token=signer.sign(event)).status == 200
    )
    send_to_queue(local_stack.client("sqs"), local_stack.ref("CanvasLiveEventsQueue"), event)
    queue.pump()
    assert len(_raw_events(district)) == 1
