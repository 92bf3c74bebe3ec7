"""POST /caliper/events over HTTP through the local gateway, into the real ingest handler, onto moto."""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from onpace_core.ingest.formats.caliper import CALIPER_V1P2
from onpace_core.store.models import EnrollmentModel, RawEventModel
from onpace_local.gateway import GatewayHandle
from onpace_local.lms.caliper_client import envelope, send_envelope
from onpace_local.lms.credentials import caliper_token
from onpace_local.stack import LocalStack

from tests.integration.districts import SampleDistrict, archived, make_district
from tests.integration.refusals import refusal_windows, refused_in

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite


@pytest.fixture
def district(local_stack: LocalStack) -> SampleDistrict:
    return make_district(local_stack, {"csu.engagement.at_risk_14d": {}})


@pytest.fixture
def token(local_stack: LocalStack, district: SampleDistrict) -> str:
    return caliper_token(local_stack.client("secretsmanager"), district.district_id)


@pytest.fixture(scope="module")
def spec(shared_dir: Path) -> dict[str, dict[str, Any]]:
    """The spec's v1p2 fixtures by name (read from ../shared, never copied)."""
    folder = shared_dir / "fixtures" / "caliper" / "v1p2"
    return {p.stem: json.loads(p.read_text()) for p in folder.rglob("*.json")}


def _lis(value: str) -> list[dict[str, str]]:
    return [{"type": "SystemIdentifier", "identifier": value, "identifierType": "LisSourcedId"}]


def _rostered(event: dict[str, Any], student: str, at: str) -> dict[str, Any]:
    """A spec fixture event about ``student`` in cls-1: a fresh id, the roster's sourcedIds."""
    event = copy.deepcopy(event)
    event["id"] = f"urn:uuid:{uuid.uuid4()}"
    event["eventTime"] = at
    event["actor"] = {**event["actor"], "otherIdentifiers": _lis(student)}
    event["group"] = {**event["group"], "otherIdentifiers": _lis("cls-1")}
    return event


def _enrollment(district: SampleDistrict, student: str) -> EnrollmentModel:
    return EnrollmentModel.get(f"{district.district_id}#cls-1#{student}", consistent_read=True)


def _stored(district: SampleDistrict) -> set[str]:
    scanned = RawEventModel.scan(RawEventModel.district_id == district.district_id)
    return {item.pk for item in scanned if "#refused#" not in item.pk}


def test_envelope_for_rostered_students_changes_facts_and_a_retry_counts_once(
    gateway: GatewayHandle,
    district: SampleDistrict,
    token: str,
    spec: dict[str, dict[str, Any]],
    local_stack: LocalStack,
) -> None:
    submitted = _rostered(spec["caliperEventAssessmentSubmitted"], "stu-1", "2026-09-01T15:00:00.000Z")
    progress = _rostered(spec["caliperEventToolUseUsedWithProgress"], "stu-1", "2026-09-01T15:05:00.000Z")
    # stu-2's Person is described once in the envelope; the event names it by IRI only.
    person = {"id": "https://example.edu/users/stu-2", "type": "Person", "otherIdentifiers": _lis("stu-2")}
    posted = _rostered(spec["caliperEventMessagePosted"], "stu-2", "2026-09-02T14:30:00.000Z")
    posted["actor"] = person["id"]
    data = [{"@context": CALIPER_V1P2, **person}, submitted, progress, posted]

    first = send_envelope(gateway.url, token, data)
    assert first.status == 200, first.body
    assert (first.body["accepted"], first.body["duplicates"], first.body["unmatched"]) == (3, 0, 0)
    assert first.body["described"] == 1

    raw = RawEventModel.get(f"{district.district_id}#{submitted['id']}", consistent_read=True)
    assert (raw.source, raw.kind, raw.status) == ("caliper", "submission", "folded")
    assert raw.payload is None  # slim: the event as received is in the archive
    assert json.loads(archived(local_stack, district.district_id)[submitted["id"]]["payload"]) == submitted
    one = _enrollment(district, "stu-1")
    assert one.last_submission_at == "2026-09-01T15:00:00.000000Z"
    assert one.percent_complete == pytest.approx(0.48)  # UnitsCompleted 12 of 25
    assert _enrollment(district, "stu-2").last_discussion_post_at == "2026-09-02T14:30:00.000000Z"

    # The Sensor retries the same envelope (a timeout on its side): nothing is counted twice.
    stored = _stored(district)
    retry = send_envelope(gateway.url, token, data)
    assert retry.status == 200, retry.body
    assert (retry.body["accepted"], retry.body["duplicates"]) == (0, 3)
    assert _stored(district) == stored
    assert _enrollment(district, "stu-1").last_submission_at == "2026-09-01T15:00:00.000000Z"


def test_unrostered_student_is_kept_and_counted(
    gateway: GatewayHandle, district: SampleDistrict, token: str, spec: dict[str, dict[str, Any]]
) -> None:
    stranger = _rostered(spec["caliperEventAssessmentSubmitted"], "stu-nobody", "2026-09-01T15:00:00.000Z")
    response = send_envelope(gateway.url, token, [stranger])
    assert response.status == 200
    assert (response.body["accepted"], response.body["unmatched"]) == (1, 1)
    assert "stu-nobody" not in json.dumps(response.body)  # counts only: no student ids echoed


@pytest.mark.parametrize(
    "credential",
    [
        "",  # no Authorization header
        "wrong-secret",  # the right district and key, another secret
        "other-key",  # a key the district does not have
        "other-district",  # a district with no Caliper credentials
        "malformed",  # not district/key/secret
    ],
)
def test_bad_credential_is_401_and_nothing_is_stored(
    gateway: GatewayHandle,
    district: SampleDistrict,
    token: str,
    spec: dict[str, dict[str, Any]],
    credential: str,
) -> None:
    district_id, key, secret = token.split("/", 2)
    sent = {
        "": "",
        "wrong-secret": f"{district_id}/{key}/{secret[::-1]}",
        "other-key": f"{district_id}/lms-2027/{secret}",
        "other-district": f"d-nowhere/{key}/{secret}",
        "malformed": secret,
    }[credential]
    event = _rostered(spec["caliperEventAssessmentSubmitted"], "stu-1", "2026-09-01T15:00:00.000Z")
    response = send_envelope(gateway.url, sent, [event])
    assert response.status == 401, response.body
    assert response.body["error"] == "invalid_credential"
    assert _stored(district) == set()
    assert _enrollment(district, "stu-1").last_submission_at is None


def test_refused_requests_store_nothing(
    gateway: GatewayHandle, district: SampleDistrict, token: str, spec: dict[str, dict[str, Any]]
) -> None:
    good = _rostered(spec["caliperEventAssessmentSubmitted"], "stu-1", "2026-09-01T15:00:00.000Z")

    as_text = send_envelope(gateway.url, token, [good], content_type="text/plain")
    assert as_text.status == 415, as_text.body
    assert "application/json" in as_text.body["message"]

    old = {**envelope([good]), "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p0"}
    unsupported = send_envelope(gateway.url, token, [], body=json.dumps(old))
    assert unsupported.status == 422, unsupported.body
    assert unsupported.body["error"] == "unsupported_version" and "v1p0" in unsupported.body["message"]

    # The spec's NoActor error fixture beside a valid event: 400 naming data[1].actor, and the
    # valid event is not stored either.
    broken = send_envelope(gateway.url, token, [good, spec["caliperEvent-NoActor"]])
    assert broken.status == 400, broken.body
    assert broken.body["error"] == "invalid_payload"
    assert {"event": 1, "field": "actor"} in [
        {"event": p["event"], "field": p["field"]} for p in broken.body["problems"]
    ]

    bare = send_envelope(gateway.url, token, [], body=json.dumps(good))  # an event without envelope
    assert bare.status == 400 and "envelope" in bare.body["message"]

    assert _stored(district) == set()
    assert _enrollment(district, "stu-1").last_submission_at is None
    # Four refusals, counted in their minute's windows (one entry per status and reason).
    audit = refusal_windows(district.district_id)
    assert refused_in(audit) == 4
    assert {int(w.http_status) for w in audit} == {400, 415, 422}


def test_ping_lists_the_versions_for_an_authorized_sensor(
    gateway: GatewayHandle, district: SampleDistrict, token: str
) -> None:
    def get(authorization: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"authorization": authorization} if authorization else {}
        request = urllib.request.Request(f"{gateway.url}/caliper/events", headers=headers, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, body = get(f"Bearer {token}")
    assert status == 200
    assert body["versions"] == [
        "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "http://purl.imsglobal.org/ctx/caliper/v1p2",
    ]
    assert get(None)[0] == 401
    assert get(f"Bearer {token}x")[0] == 401
