"""The raw archive (docs/ingest.md, "Raw events: archive and dedupe window"), over HTTP on moto server.

Each request's accepted events are one gzip JSON-lines object in ``RawArchiveBucket`` before the
2xx; the per-event items are slim (no payload; the parsed copy only while quarantined) and
expire after the dedupe window, quarantined events and inputs after the archive's retention.
An S3 failure fails the request (5xx) before anything is written; the sender's retry stores it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from onpace_core.audit.log import read
from onpace_core.ingest.archive import s3_client
from onpace_core.ingest.errors import ConflictError
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.raw_store import event_to_json
from onpace_core.ingest.service import ingest_events
from onpace_core.store.models import EnrollmentModel, RawEventModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook

from tests.integration.districts import SampleDistrict, archived, make_district

pytestmark = pytest.mark.integration


@pytest.fixture
def district(local_stack: LocalStack) -> SampleDistrict:
    return make_district(local_stack, {"csu.engagement.at_risk_14d": {}})


def _events() -> list[dict[str, Any]]:
    base = {"occurred_at": "2026-09-01T10:00:00-05:00", "class": "cls-1"}
    return [
        {**base, "event_id": "a-1", "student": "stu-1", "kind": "submission", "percent_complete": 40.0},
        {**base, "event_id": "a-2", "student": "stu-2", "kind": "view"},
        {**base, "event_id": "a-3", "student": "stu-unknown", "kind": "submission"},
        {
            **base,
            "event_id": "a-4",
            "student": "stu-1",
            "kind": "final_grade",
            "data": {"grade": "B", "credits": 1},
        },
    ]


def _post(gateway: GatewayHandle, district: SampleDistrict, events: Any) -> Any:
    return post_webhook(gateway.url, district_id=district.district_id, secret=district.secret, events=events)


def _keys(stack: LocalStack, district_id: str) -> list[str]:
    answer = stack.client("s3").list_objects_v2(
        Bucket=stack.ref("RawArchiveBucket"), Prefix=f"{district_id}/"
    )
    return [o["Key"] for o in answer.get("Contents", [])]


def test_the_archive_holds_every_accepted_event_when_the_2xx_comes_back(
    gateway: GatewayHandle, local_stack: LocalStack, district: SampleDistrict
) -> None:
    sent = _events()
    before = datetime.now(UTC)
    response = _post(gateway, district, sent)
    assert response.status == 202, response.body
    assert response.body["accepted"] == 4 and len(response.body["unmatched"]) == 1

    (key,) = _keys(local_stack, district.district_id)  # one object for the request
    assert re.fullmatch(
        rf"{district.district_id}/\d{{4}}-\d{{2}}-\d{{2}}/\d{{12}}-[0-9a-f]{{16}}\.jsonl\.gz", key
    )
    assert "stu-" not in key  # no student id in the key
    lines = archived(local_stack, district.district_id)
    # Each event's payload as the plain format keeps it (the event's fields, absent ones null).
    payloads = {eid: json.loads(line["payload"]) for eid, line in lines.items()}
    assert set(payloads) == {e["event_id"] for e in sent}
    for event in sent:
        assert {k: payloads[event["event_id"]][k] for k in event} == event
    assert {eid: line["status"] for eid, line in lines.items()} == {
        "a-1": "folded",
        "a-2": "folded",
        "a-3": "unmatched",
        "a-4": "folded",
    }
    assert lines["a-1"]["event"]["kind"] == "submission" and lines["a-1"]["enrollments"]

    # The items are slim, and a dedupe window but for the quarantined event and the input.
    items = {e: RawEventModel.get(f"{district.district_id}#{e}", consistent_read=True) for e in lines}
    assert all(i.payload is None for i in items.values())
    assert [e for e, i in items.items() if i.event is not None] == ["a-3"]  # re-applied from it
    assert all(i.digest for i in items.values())
    days = {e: round((i.expires_at - before).total_seconds() / 86400) for e, i in items.items()}
    assert days == {"a-1": 30, "a-2": 30, "a-3": 400, "a-4": 400}

    # The sender retries: duplicates, nothing archived again.
    assert _post(gateway, district, sent).body["duplicates"] == 4
    assert len(_keys(local_stack, district.district_id)) == 1


def test_the_archive_bucket_is_private_encrypted_and_expires(local_stack: LocalStack) -> None:
    s3, bucket = local_stack.client("s3"), local_stack.ref("RawArchiveBucket")
    assert local_stack.function_env("IngestFunction")["RAW_ARCHIVE_BUCKET"] == bucket
    assert local_stack.function_env("CanvasQueueFunction")["RAW_ARCHIVE_BUCKET"] == bucket
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Status"] == "Enabled" and rule["Expiration"] == {"Days": 400}
    assert rule["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    (encryption,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


@contextmanager
def _s3_failing() -> Iterator[list[str]]:
    """Every PutObject of the archive's client answers 503 (botocore retries it, then gives up)."""
    hits: list[str] = []

    def before_call(**_: Any) -> Any:
        hits.append("PutObject")
        parsed = {
            "Error": {"Code": "ServiceUnavailable", "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 503, "HTTPHeaders": {}},
        }
        return AWSResponse("https://s3.invalid", 503, {}, None), parsed

    client = s3_client()
    client.meta.events.register_first("before-call.s3.PutObject", before_call, unique_id="onpace-fault")
    try:
        yield hits
    finally:
        client.meta.events.unregister("before-call.s3.PutObject", unique_id="onpace-fault")


def test_a_failed_archive_put_is_5xx_and_stores_nothing(
    gateway: GatewayHandle, local_stack: LocalStack, district: SampleDistrict
) -> None:
    d = district.district_id
    sent = _events()
    facts_before = EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True).facts_seq
    audit_before = len(read(d))
    with _s3_failing() as hits:
        response = _post(gateway, district, sent)
    assert hits and response.status >= 500, response.body
    for event in sent:
        with pytest.raises(RawEventModel.DoesNotExist):
            RawEventModel.get(f"{d}#{event['event_id']}", consistent_read=True)
    assert EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True).facts_seq == facts_before
    assert len(read(d)) == audit_before and _keys(local_stack, d) == []

    # The sender's retry: stored, folded and archived as if the first try had never happened.
    retry = _post(gateway, district, sent)
    assert retry.status == 202 and retry.body["accepted"] == 4 and retry.body["duplicates"] == 0
    assert set(archived(local_stack, d)) == {"a-1", "a-2", "a-3", "a-4"}
    item = EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True)
    assert item.last_submission_at == "2026-09-01T15:00:00.000000Z"


def test_items_written_before_the_slimming_are_read_as_before(local_stack: LocalStack) -> None:
    """A full item (payload and parsed copy, as ingest wrote them before the archive) is still a
    duplicate on a re-send and still the target a void retracts; a void-before-arrival marker
    of then (no digest, no parsed copy) still keeps its event from counting."""
    district = make_district(local_stack, {"csu.engagement.at_risk_14d": {}}, students=("stu-1",))
    d = district.district_id
    t0 = datetime(2026, 9, 1, 15, tzinfo=UTC)
    me, cls = (Ref("sourcedId", "stu-1"),), (Ref("sourcedId", "cls-1"),)

    def event(eid: str, at: datetime, kind: str | None = "submission", **kw: Any) -> LmsEvent:
        return LmsEvent(eid, "test", at, me, cls, kind, digest=f"d-{eid}", payload='{"old": true}', **kw)

    def ingest(*events: LmsEvent) -> Any:
        return ingest_events(
            district_id=d, source="test", events=list(events), now=t0, ttl_days=30, long_ttl_days=400
        )

    old = event("s1", t0)
    ingest(event("s0", t0 - timedelta(days=1)), old)  # folded; its item is then made an old one
    key = f"{d}#cls-1#stu-1"
    common = {"district_id": d, "source": "test", "received_at": "2026-09-01T15:00:00.000000Z"}
    RawEventModel(
        pk=f"{d}#s1",
        event_id="s1",
        occurred_at="2026-09-01T15:00:00.000000Z",
        student_id="stu-1",
        class_id="cls-1",
        kind="submission",
        payload=old.payload,
        status="folded",
        event=event_to_json(old),
        digest=old.digest,
        enrollments=[key],
        **common,
    ).save()
    RawEventModel(
        pk=f"{d}#s9",
        event_id="s9",
        occurred_at="2026-09-01T15:00:00.000000Z",
        student_id="",
        class_id="",
        kind="",
        payload="",
        status="voided",
        reason="voided by v9 before it arrived",
        **common,
    ).save()

    assert ingest(old).duplicates == 1  # the full item is found, its digest compared
    with pytest.raises(ConflictError):
        ingest(replace(old, digest="d-other"))  # same id, other content: 409
    assert ingest(event("s9", t0 + timedelta(days=1))).voided == 1  # the old marker holds
    report = ingest(event("v1", t0 + timedelta(days=2), None, voids="s1"))
    assert report.voided == 1
    voided = RawEventModel.get(f"{d}#s1", consistent_read=True)
    assert voided.status == "voided" and voided.payload is None  # written back slim
    assert voided.digest == old.digest  # so it is not mistaken for a marker
    assert ingest(old).duplicates == 1 and ingest(old).voided == 0
    item = EnrollmentModel.get(key, consistent_read=True)
    assert item.last_submission_at == "2026-08-31T15:00:00.000000Z"  # s1 taken back: s0 again
