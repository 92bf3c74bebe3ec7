"""OnPace as an xAPI LRS: statements over HTTP through the local gateway into the handler, onto moto."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from onpace_core.store.models import EnrollmentModel, RawEventModel
from onpace_local.gateway import GatewayHandle
from onpace_local.lms.credentials import BasicCredentials, create_source_credentials
from onpace_local.lms.xapi_client import default_headers, post_statements, put_statement, statement_from_plain
from onpace_local.stack import LocalStack

from tests.integration.districts import SampleDistrict, archived, make_district
from tests.integration.refusals import refusal_windows, refused_in

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

MOODLE = "https://moodle.example.edu"


class Lms:
    """A district and the two active keys of its xAPI credential (a rotation in progress)."""

    def __init__(self, district: SampleDistrict, keys: list[BasicCredentials]) -> None:
        self.district = district
        self.current, self.next = keys


@pytest.fixture
def lms(local_stack: LocalStack) -> Lms:
    district = make_district(local_stack, {"csu.engagement.at_risk_14d": {}})
    keys = create_source_credentials(local_stack, district.district_id, "xapi", keys=("moodle-a", "moodle-b"))
    return Lms(district, keys)


def _statement(
    event_id: str, kind: str = "submission", student: str = "stu-1", **plain: Any
) -> dict[str, Any]:
    event = {
        "event_id": event_id,
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": student,
        "class": "cls-1",
        "kind": kind,
        **plain,
    }
    return statement_from_plain(event, MOODLE)


def _enrollment(lms: Lms, student: str = "stu-1") -> EnrollmentModel:
    return EnrollmentModel.get(f"{lms.district.district_id}#cls-1#{student}", consistent_read=True)


def _raw(lms: Lms, event_id: str) -> RawEventModel:
    return RawEventModel.get(f"{lms.district.district_id}#{event_id}", consistent_read=True)


def test_about_needs_no_credentials(gateway: GatewayHandle) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{gateway.url}/xapi/about", timeout=30) as response:
        assert response.status == 200
        assert response.headers["X-Experience-API-Version"] == "1.0.3"
        assert json.loads(response.read()) == {"version": ["1.0.3"]}


def test_post_one_statement_is_stored_and_folded(
    gateway: GatewayHandle, lms: Lms, local_stack: LocalStack
) -> None:
    statement = _statement("s1", percent_complete=42.5)
    response = post_statements(gateway.url, lms.current, statement)
    assert response.status == 200, response.body
    assert response.body == [statement["id"]]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    raw = _raw(lms, statement["id"])
    assert (raw.source, raw.kind, raw.status) == ("xapi", "submission", "folded")
    assert raw.payload is None and raw.event is None  # slim: the statement is in the archive
    line = archived(local_stack, lms.district.district_id)[statement["id"]]
    assert json.loads(line["payload"])["actor"]["account"]["name"] == "stu-1"
    assert line["status"] == "folded" and line["event"]["kind"] == "submission"
    enrollment = _enrollment(lms)
    # The account name is the roster sourcedId; the course's ID number the class sourcedId.
    assert enrollment.last_submission_at == "2026-09-01T15:00:00.000000Z"
    assert enrollment.percent_complete == pytest.approx(0.425)


def test_post_array_keeps_order_and_a_retry_counts_nothing_twice(gateway: GatewayHandle, lms: Lms) -> None:
    batch = [
        _statement("late", kind="discussion_reply", occurred_at="2026-09-10T08:00:00-05:00"),
        _statement("sub", student="stu-2"),
        {k: v for k, v in _statement("no-id", kind="view").items() if k != "id"},
    ]
    first = post_statements(gateway.url, lms.current, batch)
    assert first.status == 200, first.body
    assert first.body[:2] == [batch[0]["id"], batch[1]["id"]]
    derived = first.body[2]
    assert uuid.UUID(derived).version == 5  # the LRS's id for a statement sent without one
    received = _raw(lms, batch[0]["id"]).received_at
    assert _enrollment(lms).last_discussion_reply_at == "2026-09-10T13:00:00.000000Z"
    assert _enrollment(lms, "stu-2").last_submission_at == "2026-09-01T15:00:00.000000Z"
    assert _enrollment(lms).last_view_at == "2026-09-01T15:00:00.000000Z"

    retry = post_statements(gateway.url, lms.next, batch)  # the other active key works too
    assert retry.status == 200 and retry.body == first.body
    assert _raw(lms, batch[0]["id"]).received_at == received  # not stored again
    stored = list(RawEventModel.scan(RawEventModel.district_id == lms.district.district_id))
    assert sorted(r.event_id for r in stored) == sorted(first.body)


def test_put_stores_under_the_statement_id(gateway: GatewayHandle, lms: Lms) -> None:
    statement = _statement("put-1", kind="forum_question")
    statement_id = statement.pop("id")
    response = put_statement(gateway.url, lms.current, statement_id, statement)
    assert response.status == 204 and response.body is None
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert _raw(lms, statement_id).kind == "forum_question"
    assert _enrollment(lms).last_forum_question_at == "2026-09-01T15:00:00.000000Z"
    other = put_statement(gateway.url, lms.current, str(uuid.uuid4()), statement | {"id": statement_id})
    assert other.status == 400 and "statementId" in other.body["message"]
    missing = put_statement(gateway.url, lms.current, "", statement)
    assert missing.status == 400 and missing.body["error"] == "missing_statement_id"


def test_missing_or_wrong_version_header_is_400(gateway: GatewayHandle, lms: Lms) -> None:
    statement = _statement("v1")
    headers = default_headers(lms.current)
    del headers["X-Experience-API-Version"]
    missing = post_statements(gateway.url, lms.current, statement, headers=headers)
    assert missing.status == 400 and missing.body["error"] == "missing_version"
    assert "X-Experience-API-Version" in missing.body["message"]
    assert missing.headers["X-Experience-API-Version"] == "1.0.3"
    old = post_statements(
        gateway.url, lms.current, statement, headers=headers | {"X-Experience-API-Version": "0.95"}
    )
    assert old.status == 400 and "0.95" in old.body["message"]
    with pytest.raises(RawEventModel.DoesNotExist):
        _raw(lms, statement["id"])


def test_wrong_or_missing_credentials_are_401(gateway: GatewayHandle, lms: Lms) -> None:
    statement = _statement("forged")
    cases = [
        None,
        BasicCredentials(lms.current.username, "not-the-secret"),
        BasicCredentials(f"{lms.district.district_id}/moodle-z", lms.current.password),
        BasicCredentials(f"d-elsewhere/{lms.current.username.split('/')[1]}", lms.current.password),
        BasicCredentials("no-slash", lms.current.password),
    ]
    for credentials in cases:
        response = post_statements(gateway.url, credentials, statement)
        assert response.status == 401, (credentials, response.body)
        assert response.headers["WWW-Authenticate"] == 'Basic realm="OnPace xAPI"'
        assert response.headers["X-Experience-API-Version"] == "1.0.3"
        assert response.body["error"] == "unauthorized"
    with pytest.raises(RawEventModel.DoesNotExist):
        _raw(lms, statement["id"])
    assert _enrollment(lms).last_submission_at is None
    # The district's own wrong-secret and unknown-key attempts are audited, without the body.
    assert refused_in(refusal_windows(lms.district.district_id)) == 2


def test_invalid_statement_is_400_and_nothing_of_the_batch_is_stored(
    gateway: GatewayHandle, lms: Lms
) -> None:
    good = _statement("fine")
    bad = _statement("bad")
    del bad["actor"]
    response = post_statements(gateway.url, lms.current, [good, bad])
    assert response.status == 400
    assert response.body == {"error": "invalid_statement", "message": "statement 1: actor is required"}
    with pytest.raises(RawEventModel.DoesNotExist):
        _raw(lms, good["id"])
    twice = post_statements(gateway.url, lms.current, [good, good])
    assert twice.status == 400 and "appears twice" in twice.body["message"]


def test_content_type_must_be_json(gateway: GatewayHandle, lms: Lms) -> None:
    headers = default_headers(lms.current)
    plain = post_statements(
        gateway.url, lms.current, _statement("ct"), headers=headers | {"Content-Type": "text/plain"}
    )
    assert plain.status == 400 and plain.body["error"] == "unsupported_content_type"
    multipart = post_statements(
        gateway.url,
        lms.current,
        _statement("ct"),
        headers=headers | {"Content-Type": "multipart/mixed; boundary=abc"},
    )
    assert multipart.status == 400 and multipart.body["message"].startswith("attachments are not accepted")


def test_same_id_with_other_content_is_409(gateway: GatewayHandle, lms: Lms) -> None:
    statement = _statement("c1")
    assert post_statements(gateway.url, lms.current, statement).status == 200
    changed = statement | {"timestamp": "2026-09-02T10:00:00-05:00"}
    response = post_statements(gateway.url, lms.current, [_statement("c2"), changed])
    assert response.status == 409
    assert response.body["error"] == "conflict" and statement["id"] in response.body["message"]
    with pytest.raises(RawEventModel.DoesNotExist):
        _raw(lms, _statement("c2")["id"])
    assert _enrollment(lms).last_submission_at == "2026-09-01T15:00:00.000000Z"


def test_ignored_and_voiding_statements_are_stored_for_nothing(gateway: GatewayHandle, lms: Lms) -> None:
    attended = _statement("ig") | {"verb": {"id": "http://adlnet.gov/expapi/verbs/attended"}}
    response = post_statements(gateway.url, lms.current, attended)
    assert response.status == 200 and response.body == [attended["id"]]
    assert _raw(lms, attended["id"]).source == "xapi"
    assert _enrollment(lms).last_submission_at is None
    voiding = {
        "actor": attended["actor"],
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": attended["id"]},
    }
    response = post_statements(gateway.url, lms.current, voiding)
    assert response.status == 200
    _raw(lms, response.body[0])
