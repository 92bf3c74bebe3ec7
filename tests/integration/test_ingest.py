"""Webhooks through the local API gateway over HTTP, into the real ingest handler, onto moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.log import read
from onpace_core.store.models import EnrollmentModel, RawEventModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook, signed_headers

from tests.integration.districts import SampleDistrict, make_district
from tests.integration.refusals import refusal_windows, refused_in

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite


@pytest.fixture
def district(local_stack: LocalStack) -> SampleDistrict:
    return make_district(local_stack, {"csu.engagement.at_risk_14d": {}})


def _event(event_id: str, student: str = "stu-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "event_id": event_id,
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": student,
        "class": "cls-1",
        "kind": "submission",
    }
    body.update(overrides)
    return body


def _enrollment(district: SampleDistrict, student: str = "stu-1") -> EnrollmentModel:
    return EnrollmentModel.get(f"{district.district_id}#cls-1#{student}", consistent_read=True)


def _post(gateway: GatewayHandle, district: SampleDistrict, events: Any, **kw: Any):
    return post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=events, **kw
    )


def test_valid_event_is_stored_and_folded(gateway: GatewayHandle, district: SampleDistrict) -> None:
    response = _post(gateway, district, _event("e1", percent_complete=42.5))
    assert response.status == 202, response.body
    assert response.body["accepted"] == 1 and response.body["duplicates"] == 0
    raw = RawEventModel.get(f"{district.district_id}#e1", consistent_read=True)
    assert raw.status == "folded" and raw.kind == "submission"
    # The dedupe window (RawEventTtlDays, 30): the event itself is in the raw archive for longer.
    now = datetime.now(UTC)
    assert raw.expires_at is not None and now + timedelta(days=29) < raw.expires_at < now + timedelta(days=31)
    enrollment = _enrollment(district)
    assert enrollment.last_submission_at == "2026-09-01T15:00:00.000000Z"
    assert enrollment.percent_complete == pytest.approx(0.425)


def test_array_retry_and_out_of_order(gateway: GatewayHandle, district: SampleDistrict) -> None:
    later = _event("late", occurred_at="2026-09-10T08:00:00-05:00", kind="discussion_post")
    earlier = _event("early", occurred_at="2026-09-03T08:00:00-05:00", kind="discussion_post")
    first = _post(gateway, district, [later, _event("sub")])
    assert first.status == 202 and first.body["accepted"] == 2
    # The LMS retries the same delivery: nothing counted twice.
    retry = _post(gateway, district, [later, _event("sub")])
    assert retry.status == 202
    assert (retry.body["accepted"], retry.body["duplicates"]) == (0, 2)
    # An older event arriving after a newer one never moves the date backwards.
    assert _post(gateway, district, earlier).status == 202
    assert _enrollment(district).last_discussion_post_at == "2026-09-10T13:00:00.000000Z"


def test_unknown_student_is_kept_and_reported(gateway: GatewayHandle, district: SampleDistrict) -> None:
    response = _post(gateway, district, [_event("known"), _event("stranger", student="stu-unknown")])
    assert response.status == 202
    assert response.body["accepted"] == 2
    assert response.body["unmatched"] == [
        {
            "event_id": "stranger",
            "student": "stu-unknown",
            "class": "cls-1",
            "reason": "no enrollment of this student in this class",
        }
    ]
    kept = list(RawEventModel.unmatched_index.query(district.district_id))
    assert [k.event_id for k in kept] == ["stranger"]
    audit = read(district.district_id)
    assert [a.type for a in audit] == ["ingest.unmatched"]
    assert "stu-unknown" in audit[0].detail


def test_bad_signature_is_401_and_nothing_is_stored(gateway: GatewayHandle, district: SampleDistrict) -> None:
    response = post_webhook(
        gateway.url, district_id=district.district_id, secret="whsec_" + "B" * 44, events=_event("forged")
    )
    assert response.status == 401
    assert "signature" in response.body["message"]
    with pytest.raises(RawEventModel.DoesNotExist):
        RawEventModel.get(f"{district.district_id}#forged")
    assert _enrollment(district).last_submission_at is None
    # Counted in its minute's window; the sweep audits the window (test_refusal_windows.py).
    assert refused_in(refusal_windows(district.district_id)) == 1
    assert read(district.district_id) == []


def test_stale_timestamp_is_refused(gateway: GatewayHandle, district: SampleDistrict) -> None:
    body = json.dumps(_event("old"))
    headers = signed_headers(district.secret, body, "msg_old", datetime.now(UTC) - timedelta(minutes=6))
    response = _post(gateway, district, None, body=body, headers=headers)
    assert response.status == 401
    assert "old" in response.body["message"].lower() or "timestamp" in response.body["message"].lower()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"event_id": "x", "student": "stu-1", "class": "cls-1", "kind": "submission"}, "occurred_at"),
        (_event("naive", occurred_at="2026-09-01T10:00:00"), "occurred_at"),
        (_event("kind", kind="teleport"), "kind"),
        (_event("pct", percent_complete=140), "percent_complete"),
        (_event("extra", grade="A"), "grade"),
    ],
)
def test_malformed_event_is_400_naming_the_field(
    gateway: GatewayHandle, district: SampleDistrict, payload: dict[str, Any], field: str
) -> None:
    response = _post(gateway, district, [_event("fine"), payload])
    assert response.status == 400
    assert response.body["error"] == "invalid_payload"
    assert any(p["field"] == field and p["event"] == 1 for p in response.body["problems"]), response.body
    # All or nothing: the valid event of the same request is not stored either.
    with pytest.raises(RawEventModel.DoesNotExist):
        RawEventModel.get(f"{district.district_id}#fine")


def test_not_json_and_missing_district(gateway: GatewayHandle, district: SampleDistrict) -> None:
    body = "{not json"
    headers = signed_headers(district.secret, body, "msg_nj")
    response = _post(gateway, district, None, body=body, headers=headers)
    assert response.status == 400 and "not JSON" in response.body["message"]
    missing = post_webhook(gateway.url, district_id="", secret=district.secret, events=_event("x"))
    assert missing.status == 400 and "district" in missing.body["message"]
    unknown = post_webhook(gateway.url, district_id="d-nope", secret=district.secret, events=_event("x"))
    assert unknown.status == 401 and "d-nope" in unknown.body["message"]
