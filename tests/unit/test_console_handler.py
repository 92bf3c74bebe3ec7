"""The console function through its real handler, on the local stack's DynamoDB (moto server).

Every test seeds districts of its own (unique ids), so the shared session stack can hold the
data of other test modules without changing what these tests see.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.log import AuditEntry, append
from onpace_local.gateway import GatewayHandle, build_event, build_routes, find_route
from onpace_local.stack import LocalStack

from tests.console_session import ConsoleSession, http

pytestmark = pytest.mark.integration

CONSOLE = "ConsoleFunction"
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _district(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}"


def call(
    session: ConsoleSession, path: str, query: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """``GET path`` through the local gateway with the signed-in admin's ID token."""
    return session.get(path, query)


def seqs(body: dict[str, Any]) -> list[int]:
    return [entry["seq"] for entry in body["entries"]]


@pytest.fixture(scope="module")
def districts(local_stack: LocalStack) -> dict[str, str]:
    """Two districts; the first with 6 entries (2 students x 2 rules + 2 others), the second 3."""
    a, b = _district("north"), _district("south")
    plan = [
        ("stu-1", "inactivity.day3", "notice.decided"),
        ("stu-2", "inactivity.day3", "notice.decided"),
        ("stu-1", "pacing.behind", "notice.sent"),
        (None, None, "ingest.rejected"),
        ("stu-2", "pacing.behind", "action.taken"),
        ("stu-1", "inactivity.day3", "notice.sent"),
    ]
    for i, (student, rule, kind) in enumerate(plan):
        append(
            a,
            [
                AuditEntry(
                    type=kind,
                    actor="test",
                    summary=f"A{i + 1}",
                    on=date(2026, 3, 2),
                    rule_id=rule,
                    policy_version="2026.1" if rule else None,
                    student_id=student,
                    class_id="alg-1" if student else None,
                    detail={"facts": {"days_inactive": i}, "deadlines": {"respond_by": "2026-03-09"}},
                )
            ],
            now=T0 + timedelta(minutes=i),
        )
    # The other district uses the same student and rule ids: only the district may tell them apart.
    for i, (student, rule) in enumerate(
        [("stu-1", "inactivity.day3"), ("stu-2", "pacing.behind"), ("stu-1", None)]
    ):
        append(
            b,
            [
                AuditEntry(
                    type="notice.sent", actor="test", summary=f"B{i + 1}", rule_id=rule, student_id=student
                )
            ],
            now=T0 + timedelta(minutes=i),
        )
    return {"a": a, "b": b}


@pytest.fixture(scope="module")
def admins(
    districts: dict[str, str], console_sign_in: Callable[..., ConsoleSession]
) -> dict[str, ConsoleSession]:
    """A signed-in admin of each district (ID tokens of the local identity provider)."""
    return {key: console_sign_in(district) for key, district in districts.items()}


# ---------------------------------------------------------------------------------------------
# Reading the log.


def test_only_the_callers_district_newest_first(
    admins: dict[str, ConsoleSession], districts: dict[str, str]
) -> None:
    status, headers, body = call(admins["a"], "/console/api/audit")

    assert status == 200
    assert body["district_id"] == districts["a"]
    assert seqs(body) == [6, 5, 4, 3, 2, 1]
    assert [e["summary"] for e in body["entries"]] == ["A6", "A5", "A4", "A3", "A2", "A1"]
    assert body["next_before"] is None
    assert headers["cache-control"] == "no-store"

    status, _, other = call(admins["b"], "/console/api/audit")
    assert status == 200
    assert [e["summary"] for e in other["entries"]] == ["B3", "B2", "B1"]


def test_entry_shape(admins: dict[str, ConsoleSession], districts: dict[str, str]) -> None:
    _, _, body = call(admins["a"], "/console/api/audit", {"limit": "1"})
    (entry,) = body["entries"]
    assert entry["seq"] == 6
    assert entry["on"] == "2026-03-02"
    assert entry["at"] == "2026-03-02T14:05:00.000000Z"
    assert entry["type"] == "notice.sent"
    assert entry["rule_id"] == "inactivity.day3"
    assert entry["policy_version"] == "2026.1"
    assert entry["student_id"] == "stu-1"
    assert entry["class_id"] == "alg-1"
    assert entry["detail"] == {"facts": {"days_inactive": 5}, "deadlines": {"respond_by": "2026-03-09"}}
    assert len(entry["hash"]) == 64
    assert len(entry["prev_hash"]) == 64


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"student": "stu-1"}, [6, 3, 1]),
        ({"student": "stu-2"}, [5, 2]),
        ({"rule": "pacing.behind"}, [5, 3]),
        ({"rule": "inactivity.day3"}, [6, 2, 1]),
        ({"student": "stu-1", "rule": "inactivity.day3"}, [6, 1]),
        ({"student": "stu-2", "rule": "inactivity.day3"}, [2]),
        ({"student": "stu-9"}, []),
        ({"student": "  stu-2 ", "rule": ""}, [5, 2]),
    ],
)
def test_filters(
    admins: dict[str, ConsoleSession], districts: dict[str, str], query: dict[str, str], expected: list[int]
) -> None:
    status, _, body = call(admins["a"], "/console/api/audit", query)
    assert status == 200
    assert seqs(body) == expected
    assert all(e["summary"].startswith("A") for e in body["entries"])


def test_paging_with_before(admins: dict[str, ConsoleSession], districts: dict[str, str]) -> None:
    _, _, first = call(admins["a"], "/console/api/audit", {"limit": "4"})
    assert seqs(first) == [6, 5, 4, 3]
    assert first["next_before"] == 3

    _, _, second = call(admins["a"], "/console/api/audit", {"limit": "4", "before": "3"})
    assert seqs(second) == [2, 1]
    assert second["next_before"] is None

    # Exactly a full page at the end: no phantom "older" page.
    _, _, exact = call(admins["a"], "/console/api/audit", {"limit": "2", "before": "3"})
    assert seqs(exact) == [2, 1]
    assert exact["next_before"] is None

    _, _, by_student = call(admins["a"], "/console/api/audit", {"student": "stu-1", "limit": "2"})
    assert seqs(by_student) == [6, 3]
    assert by_student["next_before"] == 3
    _, _, rest = call(admins["a"], "/console/api/audit", {"student": "stu-1", "before": "3"})
    assert seqs(rest) == [1]


# ---------------------------------------------------------------------------------------------
# Who may see what.


@pytest.mark.parametrize("param", ["district", "district_id", "custom:district_id"])
def test_query_parameter_cannot_switch_district(
    admins: dict[str, ConsoleSession], districts: dict[str, str], param: str
) -> None:
    status, _, body = call(admins["a"], "/console/api/audit", {param: districts["b"]})
    assert status == 200
    assert body["district_id"] == districts["a"]
    assert [e["summary"][0] for e in body["entries"]] == ["A"] * 6


def test_student_filter_stays_inside_the_district(
    admins: dict[str, ConsoleSession], districts: dict[str, str]
) -> None:
    # The other district's "stu-1" has entries too; they never show in this district's answer.
    _, _, body = call(admins["b"], "/console/api/audit", {"student": "stu-1"})
    assert [e["summary"] for e in body["entries"]] == ["B3", "B1"]


@pytest.mark.parametrize("claim", ["", "   ", "a#b", "north,", "d<script>"])
@pytest.mark.parametrize("path", ["/console/api/audit", "/console/api/audit/verify", "/console/views/audit"])
def test_no_valid_district_claim_is_forbidden(
    console_sign_in: Callable[..., ConsoleSession], districts: dict[str, str], claim: str, path: str
) -> None:
    session = console_sign_in(claim)
    status, headers, body = call(session, path, {"district": districts["a"]})
    assert status == 403
    assert headers["content-type"].startswith("application/json")
    assert "district" in body["message"]
    assert "entries" not in body


@pytest.mark.parametrize("path", ["/console/api/audit", "/console/api/audit/verify", "/console/views/audit"])
def test_no_token_is_401_before_the_function(console_gateway: GatewayHandle, path: str) -> None:
    status, _, body = http(f"{console_gateway.url}{path}")
    assert status == 401
    assert json.loads(body) == {"message": "Unauthorized"}


# ---------------------------------------------------------------------------------------------
# Bad requests say what is wrong.


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"limit": "abc"}, "limit must be a whole number from 1 to 200"),
        ({"limit": "0"}, "limit must be a whole number from 1 to 200, got 0"),
        ({"limit": "201"}, "limit must be a whole number from 1 to 200, got 201"),
        ({"limit": "-5"}, "limit must be a whole number from 1 to 200"),
        ({"limit": "2.5"}, "limit must be a whole number"),
        ({"before": "x"}, "before must be a whole number of at least 1"),
        ({"before": "0"}, "before must be a whole number of at least 1, got 0"),
        ({"student": "s" * 300}, "student must be at most 256 characters"),
    ],
)
def test_bad_query_is_400_with_a_message(
    admins: dict[str, ConsoleSession], districts: dict[str, str], query: dict[str, str], fragment: str
) -> None:
    status, headers, body = call(admins["a"], "/console/api/audit", query)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert fragment in body["message"]


def test_limit_bounds_are_accepted(admins: dict[str, ConsoleSession], districts: dict[str, str]) -> None:
    for limit in ("1", "200"):
        status, _, body = call(admins["a"], "/console/api/audit", {"limit": limit})
        assert status == 200
        assert len(body["entries"]) == min(int(limit), 6)


# ---------------------------------------------------------------------------------------------
# Chain verification and the page.


def test_verify_reports_the_callers_chain(
    admins: dict[str, ConsoleSession], districts: dict[str, str]
) -> None:
    status, _, report = call(admins["a"], "/console/api/audit/verify", {"district": districts["b"]})
    assert status == 200
    assert report == {
        "district_id": districts["a"],
        "entries": 6,
        "intact": True,
        "first_broken_seq": None,
        "problem": None,
        # No checkpoint run yet in this test (tests/integration/test_audit_tamper.py has them).
        "checkpoint": None,
        "checkpoint_seq": None,
        "checkpoints_checked": 0,
    }


def test_verify_reports_a_tampered_entry(
    local_stack: LocalStack, console_sign_in: Callable[..., ConsoleSession]
) -> None:
    district = _district("tamper")
    append(
        district, [AuditEntry(type="notice.sent", actor="test", summary=f"T{i}") for i in range(4)], now=T0
    )
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.ref("AuditTable"),
        Key={"district_id": {"S": district}, "seq": {"N": "2"}},
        UpdateExpression="SET summary = :s",
        ExpressionAttributeValues={":s": {"S": "rewritten"}},
    )
    admin = console_sign_in(district)
    _, _, report = call(admin, "/console/api/audit/verify")
    assert report["intact"] is False
    assert report["first_broken_seq"] == 2
    assert report["problem"] == "entry 2 changed after it was written (its MAC does not match)"

    status, _, html = call(admin, "/console/views/audit", {"verify": "1"})
    assert status == 200
    assert 'data-state="broken" data-broken-seq="2"' in html


def test_shell_is_public_holds_no_data_and_sets_a_strict_policy(console_gateway: GatewayHandle) -> None:
    status, headers, raw = http(f"{console_gateway.url}/console")
    html = raw.decode("utf-8")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'nonce-" in csp
    nonce = csp.split("script-src 'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}">' in html
    assert html.count("<script") == 1
    assert 'data-auth-url="/local-idp"' in html
    assert 'id="view"' in html
    assert "audit-row" not in html


def test_view_escapes_data_and_is_a_fragment(
    console_sign_in: Callable[..., ConsoleSession],
) -> None:
    district = _district("escape")
    append(
        district,
        [AuditEntry(type="notice.sent", actor="test", summary='<script>alert("x")</script>')],
        now=T0,
    )
    status, headers, html = call(console_sign_in(district), "/console/views/audit")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<html" not in html
    assert 'data-testid="audit-row"' in html


# ---------------------------------------------------------------------------------------------
# The local gateway in front of the console (routing, claims, HTTP).


def test_routes_come_from_the_template(local_stack: LocalStack) -> None:
    routes = {
        route.route_key: route for route in build_routes(local_stack.functions, local_stack.stack.template)
    }
    assert set(routes) >= {
        "GET /console",
        "GET /console/api/audit",
        "GET /console/api/audit/verify",
        "POST /webhooks/{source}",
    }
    assert routes["GET /console/api/audit"].logical_id == CONSOLE
    assert not routes["GET /console"].authorized  # the public shell
    assert routes["GET /console/views/audit"].authorized
    assert not routes["POST /webhooks/{source}"].authorized
    found = find_route(routes.values(), "POST", "/webhooks/canvas")
    assert found is not None
    assert found[0].logical_id == "IngestFunction"
    assert found[1] == {"source": "canvas"}
    assert find_route(routes.values(), "GET", "/webhooks/canvas") is None


def test_gateway_event_shape(local_stack: LocalStack) -> None:
    routes = build_routes(local_stack.functions, local_stack.stack.template)
    webhook, params = find_route(routes, "POST", "/webhooks/canvas") or pytest.fail("no webhook route")
    event = build_event(
        webhook,
        params,
        method="POST",
        raw_path="/webhooks/canvas",
        raw_query="a=1&a=2&b=",
        headers=[
            ("Content-Type", "application/json"),
            ("X-Trace", "1"),
            ("x-trace", "2"),
            ("Cookie", "k=v; m=n"),
        ],
        body=b'{"x": 1}',
        source_ip="127.0.0.1",
        claims={"custom:district_id": "d1", "sub": "local-admin"},
        domain="127.0.0.1:1234",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/{source}"
    assert event["pathParameters"] == {"source": "canvas"}
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["x-trace"] == "1,2"
    assert event["cookies"] == ["k=v", "m=n"]
    assert event["body"] == '{"x": 1}'
    assert event["isBase64Encoded"] is False
    assert "authorizer" not in event["requestContext"]  # Authorizer: NONE in the template

    console, params = find_route(routes, "GET", "/console/api/audit") or pytest.fail("no console route")
    binary = build_event(
        console,
        params,
        method="GET",
        raw_path="/console/api/audit",
        raw_query="",
        headers=[("Content-Type", "application/octet-stream")],
        body=b"\xff\x00",
        source_ip="127.0.0.1",
        claims={"custom:district_id": "d1", "sub": "local-admin"},
        domain="h",
    )
    assert binary["isBase64Encoded"] is True
    assert binary["body"] == "/wA="
    assert binary["requestContext"]["authorizer"]["jwt"]["claims"]["custom:district_id"] == "d1"


def test_gateway_serves_the_console_for_its_district(
    admins: dict[str, ConsoleSession], districts: dict[str, str], console_gateway: GatewayHandle
) -> None:
    status, _, page = admins["a"].get("/console/api/audit", {"district": districts["b"], "student": "stu-2"})
    assert status == 200
    assert page["district_id"] == districts["a"]
    assert [e["summary"] for e in page["entries"]] == ["A5", "A2"]

    status, headers, _ = http(f"{console_gateway.url}/")
    assert status == 302
    assert headers["location"] == "/console"

    status, _, body = http(f"{console_gateway.url}/nowhere")
    assert status == 404
    assert json.loads(body) == {"message": "Not Found"}

    status, _, body = admins["a"].get("/console/api/audit", {"limit": "x"})
    assert status == 400
    assert "limit" in body["message"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_gateway_refuses_a_missing_or_malformed_token(
    console_gateway: GatewayHandle, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    status, _, body = http(f"{console_gateway.url}/console/api/audit", headers=headers)
    assert status == 401
    assert json.loads(body) == {"message": "Unauthorized"}


def test_gateway_checks_signature_issuer_audience_and_expiry(
    console_gateway: GatewayHandle, districts: dict[str, str], local_stack: LocalStack
) -> None:
    from onpace_local.identity_provider import LocalIdentityProvider

    provider = console_gateway.identity_provider
    assert provider is not None
    user = provider.add_user(f"checks-{uuid.uuid4().hex[:6]}@example.org", [districts["a"]])
    url = f"{console_gateway.url}/console/api/audit"

    def status_with(token: str) -> int:
        return http(url, headers={"Authorization": token})[0]

    good = provider.id_token(user)
    assert status_with(good) == 200  # the "Bearer " prefix is optional, as API Gateway's
    assert status_with(f"Bearer {good}") == 200
    assert status_with(provider.id_token(user, lifetime=-5)) == 401
    # Another key (same kid, same claims): the signature does not verify.
    forger = LocalIdentityProvider(issuer=provider.issuer, client_id=provider.client_id)
    forger.kid = provider.kid
    assert status_with(forger.id_token(user)) == 401
    wrong_issuer = LocalIdentityProvider(issuer=provider.issuer + "x", client_id=provider.client_id)
    wrong_issuer._key = provider._key
    wrong_issuer.kid = provider.kid
    assert status_with(wrong_issuer.id_token(user)) == 401
    wrong_audience = LocalIdentityProvider(issuer=provider.issuer, client_id="another-client")
    wrong_audience._key = provider._key
    wrong_audience.kid = provider.kid
    assert status_with(wrong_audience.id_token(user)) == 401
