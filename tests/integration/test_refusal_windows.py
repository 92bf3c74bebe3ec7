"""Refused webhooks cannot flood a district's audit log (issue 13, "No flooding").

A burst of forged requests through the local API gateway into the real ingest handler makes one
counter per minute window; the sweep function (as the template schedules it) writes one
``ingest.rejected`` entry per window with the count, exactly once however often it runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from onpace_core.audit.log import read
from onpace_core.ingest.refusals import count_refusal, reason_code, window_of
from onpace_core.store.models import RefusalWindowModel
from onpace_local.gateway import GatewayHandle
from onpace_local.scheduler import fire_between, schedules
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook

from tests.integration.districts import SampleDistrict, make_district

pytestmark = pytest.mark.integration

SWEEP = "RefusalSweepFunction"


@pytest.fixture
def district(local_stack: LocalStack) -> SampleDistrict:
    return make_district(local_stack, {"csu.engagement.at_risk_14d": {}})


def _forged(gateway: GatewayHandle, district: SampleDistrict, n: int) -> int:
    refused = 0
    for i in range(n):
        response = post_webhook(
            gateway.url,
            district_id=district.district_id,
            secret="whsec_" + "B" * 44,
            events={
                "event_id": f"forged-{i}",
                "occurred_at": "2026-09-01T10:00:00-05:00",
                "student": "stu-1",
                "class": "cls-1",
                "kind": "submission",
            },
        )
        assert response.status in (401, 429), response.body
        refused += response.status == 401
    return refused


def _sweep(stack: LocalStack, at: datetime) -> dict[str, int]:
    result: dict[str, int] = stack.invoke(SWEEP, {"scheduled_time": at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return result


def test_a_burst_of_forged_webhooks_is_one_entry_per_window_with_its_count(
    local_stack: LocalStack, gateway: GatewayHandle, district: SampleDistrict
) -> None:
    started = datetime.now(UTC)
    refused = _forged(gateway, district, 40)
    assert refused >= 20  # the route's throttle may answer some with 429 before the function

    # Nothing is audited per request: the log is as it was until the sweep.
    assert [e.type for e in read(district.district_id)] == []

    after = datetime.now(UTC) + timedelta(minutes=1)
    _sweep(local_stack, after)
    entries = [e for e in read(district.district_id) if e.type == "ingest.rejected"]
    windows = {window_of(started)[0], window_of(after - timedelta(minutes=1))[0]}
    assert 1 <= len(entries) <= len(windows)  # one per minute the burst touched, not one per request
    details = [json.loads(e.detail) for e in entries]
    assert sum(d["count"] for d in details) == refused
    assert {(d["source"], d["status"], d["reason"]) for d in details} == {("plain", 401, "invalid_signature")}
    assert all("signature" in d["example"] for d in details)
    assert all(f"{d['count']} plain webhook" in e.summary for d, e in zip(details, entries, strict=True))

    # Swept again (a retry, an overlapping run): nothing more.
    assert _sweep(local_stack, after + timedelta(minutes=5))["windows"] == 0
    assert len([e for e in read(district.district_id) if e.type == "ingest.rejected"]) == len(entries)


def test_a_refusal_after_its_window_was_reported_is_counted_but_not_reported_again(
    local_stack: LocalStack, district: SampleDistrict
) -> None:
    at = datetime(2026, 9, 1, 15, 0, 30, tzinfo=UTC)
    assert (
        count_refusal(district.district_id, "plain", 401, "bad signature", at, code="invalid_signature") == 1
    )
    assert count_refusal(district.district_id, "plain", 401, "other", at, code="invalid_signature") == 2
    _sweep(local_stack, at + timedelta(minutes=2))
    (entry,) = [e for e in read(district.district_id) if e.type == "ingest.rejected"]
    assert json.loads(entry.detail)["count"] == 2
    assert json.loads(entry.detail)["example"] == "bad signature"  # the window keeps its first

    # A slow request lands in the reported window: counted on the window, not reopened.
    assert count_refusal(district.district_id, "plain", 401, "late", at, code="invalid_signature") == 3
    _sweep(local_stack, at + timedelta(minutes=10))
    assert len([e for e in read(district.district_id) if e.type == "ingest.rejected"]) == 1
    start, _ = window_of(at)
    stored = list(
        RefusalWindowModel.scan(RefusalWindowModel.pk.startswith(f"{district.district_id}#refused#"))
    )
    assert [(int(w.refused), w.refusals_open) for w in stored] == [(3, None)]
    assert stored[0].window_start.startswith(start.strftime("%Y-%m-%dT%H:%M"))


def test_each_reason_and_source_has_its_own_window(local_stack: LocalStack, district: SampleDistrict) -> None:
    at = datetime(2026, 9, 2, 8, 15, 5, tzinfo=UTC)
    for _ in range(3):
        count_refusal(district.district_id, "plain", 401, "bad signature", at, code="invalid_signature")
    count_refusal(district.district_id, "plain", 400, "not JSON", at)
    count_refusal(district.district_id, "xapi", 401, "wrong secret", at, code="unauthorized")
    count_refusal(
        district.district_id, "plain", 401, "next minute", at + timedelta(minutes=1), code="invalid_signature"
    )
    _sweep(local_stack, at + timedelta(minutes=3))
    reported = sorted(
        (d["source"], d["status"], d["reason"], d["window_start"][11:16], d["count"])
        for d in (json.loads(e.detail) for e in read(district.district_id) if e.type == "ingest.rejected")
    )
    assert reported == [
        ("plain", 400, "invalid_payload", "08:15", 1),
        ("plain", 401, "invalid_signature", "08:15", 3),
        ("plain", 401, "invalid_signature", "08:16", 1),
        ("xapi", 401, "unauthorized", "08:15", 1),
    ]


def test_an_open_window_waits_for_its_end(local_stack: LocalStack, district: SampleDistrict) -> None:
    at = datetime(2026, 9, 3, 9, 30, 10, tzinfo=UTC)
    count_refusal(district.district_id, "caliper", 415, "wrong media type", at)
    _sweep(local_stack, at + timedelta(seconds=20))  # the minute is not over
    assert [e for e in read(district.district_id) if e.type == "ingest.rejected"] == []
    _sweep(local_stack, at + timedelta(seconds=50))
    assert len([e for e in read(district.district_id) if e.type == "ingest.rejected"]) == 1


def test_the_template_schedules_the_sweep_every_five_minutes(local_stack: LocalStack) -> None:
    (schedule,) = [s for s in schedules(local_stack) if s.target_function == SWEEP]
    assert schedule.every_minutes == 5
    start = datetime(2026, 9, 4, 10, 0, tzinfo=UTC)
    results = fire_between(local_stack, schedule, start, start + timedelta(minutes=15))
    assert len(results) == 3 and all("windows" in r for r in results)


def test_reason_codes() -> None:
    assert reason_code(401, "invalid_signature") == "invalid_signature"
    assert reason_code(413) == "payload_too_large"
    assert reason_code(418) == "http_418"
    start, end = window_of(datetime(2026, 1, 1, 10, 59, 59, 999999, tzinfo=UTC))
    assert (start.minute, end.hour, end.minute) == (59, 11, 0)
