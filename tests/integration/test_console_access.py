"""Who may see what in the console: every route of ConsoleFunction, through the local gateway.

The table ``ROUTES`` has one row per console route of template.yaml (a test checks it covers
them all): how to ask for district B's resource, and what of B must not appear in the answer to
an admin of district A. For every row:

- no token → 401 ``{"message": "Unauthorized"}`` (the gateway, as API Gateway's authorizer);
- an admin of A asking for B's resource (with B's ids in the path or query) → nothing of B;
- an admin of A naming B in ``X-OnPace-District`` → 403;
- the admin of B gets the resource (the row's B resource is real).

A helper adding routes adds their rows here. District ids with the key separator ``#`` or a
stray ``,`` are refused when the claim is read (403), and an admin of two districts must say
which one (400 without ``X-OnPace-District``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from onpace_core.audit.log import AuditEntry, append
from onpace_core.console.directory import sync_directory
from onpace_core.delivery import suppression
from onpace_core.evaluation.fanout import ShardMessage, dead_letter
from onpace_core.roster.enrollments import EnrollmentRecord
from onpace_local.gateway import GatewayHandle
from onpace_local.openapi import template_routes
from onpace_local.stack import LocalStack
from onpace_local.template import function_specs

from tests.console_session import ConsoleSession, http
from tests.integration.test_notify import _event_for, _insert, _notice

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """One console route: the request for district B's resource and what of B is secret."""

    method: str
    path: str  # as in template.yaml
    public: bool = False

    def target(self, b: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The concrete path and query asking for B's resource."""
        if self.path == "/console/api/notices/{notice_id}/emails/{r}":
            return f"/console/api/notices/{quote(b['notice_id'], safe='')}/emails/0", {}
        if self.path == "/console/api/suppressions" and self.method == "DELETE":
            return self.path, {"id": b["suppression_id"]}
        if self.path in ("/console/views/students", "/console/api/students"):
            return self.path, {"q": b["student_name"], "district": b["district"]}
        if self.path == "/console/views/timeline":
            return self.path, {"student": b["student"], "district": b["district"]}
        if self.path == "/console/views/email":
            return self.path, {"notice": b["notice_id"], "r": "0", "district": b["district"]}
        # B's id in the query too: a parameter never picks the district.
        return self.path, {"district": b["district"]}


ROUTES: list[Row] = [
    Row("GET", "/console", public=True),
    Row("GET", "/console/views/audit"),
    Row("GET", "/console/views/failures"),
    Row("GET", "/console/api/audit"),
    Row("GET", "/console/api/audit/verify"),
    Row("GET", "/console/api/failures"),
    Row("GET", "/console/api/suppressions"),
    Row("DELETE", "/console/api/suppressions"),
    Row("GET", "/console/api/notices/{notice_id}/emails/{r}"),
    Row("GET", "/console/views/students"),
    Row("GET", "/console/views/timeline"),
    Row("GET", "/console/views/email"),
    Row("GET", "/console/api/students"),
    Row("GET", "/console/api/audit/export"),
]
# Rows whose B resource is named by id: an admin of A is told it does not exist.
NOT_FOUND_FOR_A = {"/console/api/notices/{notice_id}/emails/{r}", "/console/views/email"}
IDS = [f"{row.method} {row.path}" for row in ROUTES]
PRIVATE = [pytest.param(row, id=f"{row.method} {row.path}") for row in ROUTES if not row.public]
READS = [
    pytest.param(row, id=f"{row.method} {row.path}")
    for row in ROUTES
    if not row.public and row.method == "GET"
]


def console_routes(template_path: Any) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of every HttpApi event of ConsoleFunction in the template."""
    (spec,) = [s for s in function_specs(template_path) if s.logical_id == "ConsoleFunction"]
    routes = set()
    for event in spec.events.values():
        if event.get("Type") == "HttpApi":
            properties = event["Properties"]
            routes.add((str(properties["Method"]).upper(), str(properties["Path"])))
    return routes


def test_the_table_covers_every_console_route_of_the_template(template_path: Any) -> None:
    in_template = console_routes(template_path)
    assert in_template == {(row.method, row.path) for row in ROUTES}
    assert in_template <= template_routes(template_path)


def _record(district_id: str, student_id: str, name: str) -> EnrollmentRecord:
    return EnrollmentRecord(
        district_id=district_id,
        program_id="prog",
        class_id="alg-1",
        class_title="Algebra I",
        student_id=student_id,
        student_name=name,
        term_id=None,
        start_date=date(2026, 1, 12),
        end_date=None,
        contacts=(),
    )


@pytest.fixture(scope="module")
def district_b(local_stack: LocalStack) -> dict[str, Any]:
    """District B with one of everything: audit entries, a parked failure, a suppressed address
    and an email as sent (a notice through the real notify function). Its secrets are ids and
    texts no other district has."""
    item = _insert(_notice())
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}
    b = item.district_id
    student = f"stu-secret-{uuid.uuid4().hex[:6]}"
    marker = f"B-ONLY-{uuid.uuid4().hex[:8]}"
    append(b, [AuditEntry(type="notice.sent", actor="test", summary=marker, student_id=student)], now=T0)
    message = ShardMessage(
        district_id=b, program_id="prog", day=date(2026, 3, 2), keys=[f"{b}#alg-1#{student}"], shard="retry"
    )
    dead_letter(
        local_stack.client("sqs"),
        local_stack.ref("EvaluateDLQ"),
        message,
        message.keys[0],
        "ItemTooLarge",
        4,
        T0,
    )
    name = f"Secretname{uuid.uuid4().hex[:6]} Bee"
    sync_directory(b, [_record(b, student, name)], [], T0)
    address = f"{marker.lower()}@example.org"
    suppression.suppress(
        b, address, reason="bounce", detail=None, role="guardian", rule_id=None, at="2026-03-02T14:00:00Z"
    )
    return {
        "district": b,
        "student": student,
        "student_name": name,
        "marker": marker,
        "notice_id": item.notice_id,
        "suppression_id": suppression.address_hash(address),
        "masked": suppression.mask(address),
    }


@pytest.fixture(scope="module")
def district_a(local_stack: LocalStack) -> str:
    a = f"access-a-{uuid.uuid4().hex[:8]}"
    append(a, [AuditEntry(type="notice.sent", actor="test", summary="A's own entry")], now=T0)
    return a


def _secret_parts(b: dict[str, Any]) -> list[str]:
    return [b["district"], b["student"], b["marker"], b["masked"], b["suppression_id"]]


@pytest.mark.parametrize("row", ROUTES, ids=IDS)
def test_no_token_is_401(console_gateway: GatewayHandle, district_b: dict[str, Any], row: Row) -> None:
    path, query = row.target(district_b)
    url = f"{console_gateway.url}{path}?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())
    status, _, body = http(url, row.method)
    if row.public:
        assert status == 200
        assert not any(part in body.decode() for part in _secret_parts(district_b))
        return
    assert status == 401
    assert json.loads(body) == {"message": "Unauthorized"}


@pytest.mark.parametrize("row", ROUTES, ids=IDS)
def test_an_admin_of_a_gets_nothing_of_b(
    console_sign_in: Callable[..., ConsoleSession],
    district_a: str,
    district_b: dict[str, Any],
    row: Row,
) -> None:
    path, query = row.target(district_b)
    status, _, body = console_sign_in(district_a).request(row.method, path, query)
    text = body if isinstance(body, str) else json.dumps(body)
    assert not any(part in text for part in _secret_parts(district_b)), text[:500]
    if row.method == "DELETE" or row.path in NOT_FOUND_FOR_A:
        assert status == 404  # B's entry is simply not found in A's keys
    else:
        assert status == 200


@pytest.mark.parametrize("row", PRIVATE)
def test_naming_a_district_not_in_the_claim_is_403(
    console_sign_in: Callable[..., ConsoleSession],
    district_a: str,
    district_b: dict[str, Any],
    row: Row,
) -> None:
    path, query = row.target(district_b)
    status, _, body = console_sign_in(district_a).request(
        row.method, path, query, district=district_b["district"]
    )
    assert status == 403
    assert not any(part in json.dumps(body) for part in _secret_parts(district_b))


@pytest.mark.parametrize("row", READS)
def test_the_admin_of_b_gets_the_resource(
    console_sign_in: Callable[..., ConsoleSession], district_b: dict[str, Any], row: Row
) -> None:
    path, query = row.target(district_b)
    status, _, body = console_sign_in(district_b["district"]).request(row.method, path, query)
    assert status == 200
    text = body if isinstance(body, str) else json.dumps(body)
    if row.path.endswith("/verify"):
        assert body["district_id"] == district_b["district"] and body["entries"] >= 2
    elif "{notice_id}" in row.path:
        assert body["notice_id"] == district_b["notice_id"]
    elif row.path == "/console/views/email":
        assert 'data-testid="email-sent"' in text and "<iframe" in text
    else:
        secrets_of_b = (district_b["student"], district_b["marker"], district_b["masked"])
        assert any(part in text for part in secrets_of_b)


def test_the_admin_of_b_clears_the_suppression(  # DELETE's row, for its owner (after the reads)
    console_sign_in: Callable[..., ConsoleSession], district_b: dict[str, Any]
) -> None:
    session = console_sign_in(district_b["district"])
    status, _, body = session.request(
        "DELETE", "/console/api/suppressions", {"id": district_b["suppression_id"]}
    )
    assert (status, body["cleared"]) == (200, True)


def test_an_admin_of_two_districts_picks_one(
    console_sign_in: Callable[..., ConsoleSession], district_a: str, district_b: dict[str, Any]
) -> None:
    both = console_sign_in(district_a, district_b["district"])
    status, _, body = both.get("/console/api/audit")
    assert status == 400
    assert "X-OnPace-District" in body["message"]
    status, _, page = both.get("/console/api/audit", district=district_b["district"])
    assert (status, page["district_id"]) == (200, district_b["district"])
    assert district_b["marker"] in json.dumps(page)
    status, _, page = both.get("/console/api/audit", district=district_a)
    assert (status, page["district_id"]) == (200, district_a)
    assert district_b["marker"] not in json.dumps(page)


@pytest.mark.parametrize("claim", ["a#b", "north,#x", "north,", ",north", "with space", "x" * 65, "d<s>"])
def test_district_ids_with_a_key_separator_are_refused(
    console_sign_in: Callable[..., ConsoleSession], claim: str
) -> None:
    status, _, body = console_sign_in(claim).get("/console/api/audit")
    assert status == 403
    assert "district" in body["message"]
