"""The ingest limits over HTTP: through the local API gateway, into the real ingest handler, on moto.

Each request the issue lists as a 500 (or as one bad sender hurting others) is now a 4xx with a
message naming the problem; the Events table and the district's enrollments are unchanged after
it, and the refusal is counted once in its minute's ``ingest.rejected`` audit entry.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from onpace_core.ingest.limits import MAX_BODY_BYTES
from onpace_core.store.models import EnrollmentModel, RawEventModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import WebhookResponse, post_webhook, signed_headers

from tests.integration.districts import SampleDistrict, make_district
from tests.integration.refusals import refusal_windows, refused_in

pytestmark = pytest.mark.integration


@pytest.fixture
def district(local_stack: LocalStack) -> SampleDistrict:
    return make_district(local_stack, {"csu.engagement.at_risk_14d": {}})


def _event(event_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "event_id": event_id,
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "submission",
    }
    body.update(overrides)
    return body


def _post(gateway: GatewayHandle, district: SampleDistrict, events: Any) -> WebhookResponse:
    return post_webhook(gateway.url, district_id=district.district_id, secret=district.secret, events=events)


def _post_bytes(
    gateway: GatewayHandle, district: SampleDistrict, body: bytes, headers: dict[str, str]
) -> Any:
    """POST raw bytes (``post_webhook`` sends text); the answer's status and JSON body."""
    request = urllib.request.Request(
        f"{gateway.url}/webhooks/plain?district={district.district_id}",
        data=body,
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return WebhookResponse(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        return WebhookResponse(error.code, json.loads(error.read() or b"{}"))


def _snapshot(district: SampleDistrict) -> tuple[frozenset[str], list[dict[str, Any]]]:
    # A Scan is fine in a test: the whole Events table, so an event stored under any key shows.
    # Refused requests are counted in the same table (``#refused#`` windows), not stored as events.
    events = frozenset(item.pk for item in RawEventModel.scan() if "#refused#" not in item.pk)
    enrollments = [
        EnrollmentModel.get(f"{district.district_id}#cls-1#{s}", consistent_read=True).serialize()
        for s in district.students
    ]
    return events, enrollments


@contextmanager
def _nothing_stored(district: SampleDistrict, audit_writes: int = 1) -> Iterator[None]:
    """The block changes neither the Events table nor the enrollments, and ``audit_writes``
    refusals are counted (one per refused request that reached the function) for the audit log."""
    before = _snapshot(district)
    already = refused_in(refusal_windows(district.district_id))
    yield
    assert _snapshot(district) == before
    assert refused_in(refusal_windows(district.district_id)) - already == audit_writes


def _assert_refused(response: WebhookResponse, status: int, *needles: str) -> None:
    assert response.status == status, response.body
    text = json.dumps(response.body)
    for needle in needles:
        assert needle in text, response.body


def test_an_event_dated_2099_is_400_and_nothing_of_the_request_is_stored(
    gateway: GatewayHandle, district: SampleDistrict
) -> None:
    """Today one such event switches a student's inactivity rules off for the term."""
    with _nothing_stored(district):
        response = _post(
            gateway, district, [_event("fine"), _event("future", occurred_at="2099-01-01T00:00:00Z")]
        )
    _assert_refused(response, 400, "more than 15 minutes in the future")
    assert {"event": 1, "field": "occurred_at"}.items() <= response.body["problems"][0].items()


@pytest.mark.parametrize(
    ("occurred_at", "problem"),
    [
        ("9999-12-31T23:30-01:00", "out of range"),  # today a 500
        ("1999-12-31T23:59:59Z", "before the year 2000"),
    ],
)
def test_an_event_time_out_of_range_is_400(
    gateway: GatewayHandle, district: SampleDistrict, occurred_at: str, problem: str
) -> None:
    with _nothing_stored(district):
        response = _post(gateway, district, _event("odd", occurred_at=occurred_at))
    _assert_refused(response, 400, problem, '"field": "occurred_at"')


def test_the_future_bound_is_fifteen_minutes_of_the_handlers_clock(
    gateway: GatewayHandle, district: SampleDistrict
) -> None:
    now = datetime.now(UTC)
    with _nothing_stored(district):
        late = _post(
            gateway, district, _event("ahead-16", occurred_at=(now + timedelta(minutes=16)).isoformat())
        )
    _assert_refused(late, 400, "more than 15 minutes in the future")
    # A clock a little fast is a skew, not a wrong date: accepted, and the route keeps working.
    ahead = _post(
        gateway, district, _event("ahead-14", occurred_at=(now + timedelta(minutes=14)).isoformat())
    )
    assert ahead.status == 202 and ahead.body["accepted"] == 1, ahead.body
    assert RawEventModel.get(f"{district.district_id}#ahead-14", consistent_read=True).status == "folded"


def test_a_one_megabyte_approval_note_is_400_naming_data_note(
    gateway: GatewayHandle, district: SampleDistrict
) -> None:
    """Today a 500 that fails every retry (DynamoDB refuses the item)."""
    approval = _event(
        "appr-1",
        kind="approval",
        data={
            "rule": "cps.pacing.ipr_drop",
            "decision": "approved",
            "by": "Dr. Lund",
            "note": "n" * 1_000_000,
        },
    )
    with _nothing_stored(district):
        response = _post(gateway, district, approval)
    _assert_refused(response, 400, '"field": "data.note"', "at most 2000 characters")
    assert len(json.dumps(response.body)) < 2_000  # the note is not echoed


def test_cp1252_bytes_are_400_before_the_signature_is_checked(
    gateway: GatewayHandle, district: SampleDistrict
) -> None:
    """Today a 500 before the signature check. The signature here is not even valid: the body's
    encoding is checked first, so the answer is the 400 that names the problem, not a 401."""
    body = json.dumps(_event("cafe", student="José"), ensure_ascii=False).encode("cp1252")
    headers = signed_headers(district.secret, body.decode("cp1252"), "msg_cp1252")
    with _nothing_stored(district):
        response = _post_bytes(gateway, district, body, headers)
    _assert_refused(response, 400, "not UTF-8")
    assert response.body["error"] == "invalid_payload"


def test_deep_nesting_is_400_not_a_recursion_error(gateway: GatewayHandle, district: SampleDistrict) -> None:
    body = "[" * 100_000 + "]" * 100_000
    headers = signed_headers(district.secret, body, "msg_deep")
    with _nothing_stored(district):
        response = _post_bytes(gateway, district, body.encode(), headers)
    _assert_refused(response, 400, "nests deeper than 32 levels")


def test_a_body_over_ten_megabytes_is_413(
    gateway: GatewayHandle, local_stack: LocalStack, district: SampleDistrict
) -> None:
    body = b" " * (MAX_BODY_BYTES + 1)
    # API Gateway (here its local stand-in) refuses it from its Content-Length, without calling
    # the function (so no audit write) and before reading it: only the headers are sent.
    with _nothing_stored(district, audit_writes=0):
        connection = http.client.HTTPConnection(urlsplit(gateway.url).netloc, timeout=30)
        connection.putrequest("POST", f"/webhooks/plain?district={district.district_id}")
        connection.putheader("content-type", "application/json")
        connection.putheader("content-length", str(len(body)))
        connection.endheaders()
        at_the_gateway = connection.getresponse()
        assert at_the_gateway.status == 413
        connection.close()
    # Should one reach the function anyway (another route in front of it), the function says why.
    event = {
        "version": "2.0",
        "routeKey": "POST /webhooks/{source}",
        "rawPath": "/webhooks/plain",
        "rawQueryString": f"district={district.district_id}",
        "queryStringParameters": {"district": district.district_id},
        "pathParameters": {"source": "plain"},
        "headers": {"content-type": "application/octet-stream"},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/plain"}, "stage": "$default"},
        "isBase64Encoded": True,
        "body": base64.b64encode(body).decode(),
    }
    with _nothing_stored(district):
        result = local_stack.invoke("IngestFunction", event)
    assert result["statusCode"] == 413
    answer = json.loads(result["body"])
    assert answer["error"] == "payload_too_large"
    assert f"at most {MAX_BODY_BYTES} are accepted" in answer["message"]


def test_a_signed_sender_is_still_accepted_after_refusals(
    gateway: GatewayHandle, district: SampleDistrict
) -> None:
    with _nothing_stored(district, audit_writes=2):
        assert _post(gateway, district, _event("x", occurred_at="2099-01-01T00:00:00Z")).status == 400
        forged = post_webhook(
            gateway.url, district_id=district.district_id, secret="whsec_" + "B" * 44, events=_event("forged")
        )
        assert forged.status == 401
    response = _post(gateway, district, [_event("ok-1"), _event("ok-2", kind="discussion_post")])
    assert response.status == 202 and response.body["accepted"] == 2, response.body
    assert EnrollmentModel.get(f"{district.district_id}#cls-1#stu-1", consistent_read=True).last_submission_at
