"""Who may see what in the console: every route of ConsoleFunction, through the local gateway.

The table ``ROUTES`` has one row per console route of template.yaml (a test checks it covers
them all): how to ask for district B's resource, and what of B must not appear in the answer to
an admin of district A. For every row:

- no token → 401 ``{"message": "Unauthorized"}`` (the gateway, as API Gateway's authorizer);
- an admin of A asking for B's resource (with B's ids in the path or query) → nothing of B;
- an admin of A naming B in ``X-OnPace-District`` → 403;
- the admin of B gets the resource (the row's B resource is real).

A POST form (views B) acting on B's item is refused for A (404, or "already": A's keys hold no
such item) and, without its CSRF field, refused for anyone (403) with nothing changed.

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
from onpace_core.console.queues import approvals_waiting
from onpace_core.delivery import suppression
from onpace_core.evaluation.fanout import ShardMessage, dead_letter
from onpace_core.roster.enrollments import EnrollmentRecord
from onpace_core.store.models import AuditModel, EnrollmentModel
from onpace_local.gateway import GatewayHandle
from onpace_local.openapi import template_routes
from onpace_local.stack import LocalStack
from onpace_local.template import function_specs

from tests.console_session import ConsoleSession, http
from tests.integration.districts import evaluate, make_district, term_due_next_week
from tests.integration.test_console_domain_b import NEEDS_APPROVAL, PACING
from tests.integration.test_notify import _event_for, _insert, _notice
from tests.pdf_text import pdf_text

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """One console route: the request for district B's resource and what of B is secret."""

    method: str
    path: str  # as in template.yaml
    public: bool = False
    owner: str = "district"  # the key of ``district_b`` naming the district that owns the resource
    a_status: int = 200  # what an admin of A gets when asking for B's resource

    def target(self, b: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The concrete path and query asking for B's resource."""
        if self.path == "/console/api/notices/{notice_id}/emails/{r}":
            return f"/console/api/notices/{quote(b['notice_id'], safe='')}/emails/0", {}
        if self.path == "/console/api/suppressions" and self.method == "DELETE":
            return self.path, {"id": b["suppression_id"]}
        if self.path in ("/console/views/packet", "/console/api/packet.pdf"):
            return self.path, {"student": "stu-1", "class": "cls-1"}
        if self.path == "/console/views/disclosures":
            return self.path, {"student": "stu-1"}
        if self.path == "/console/views/upcoming":
            return self.path, {"days": "7"}
        if self.path in ("/console/views/students", "/console/api/students"):
            return self.path, {"q": b["student_name"], "district": b["district"]}
        if self.path == "/console/views/timeline":
            return self.path, {"student": b["student"], "district": b["district"]}
        if self.path == "/console/views/email":
            return self.path, {"notice": b["notice_id"], "r": "0", "district": b["district"]}
        # B's id in the query too: a parameter never picks the district.
        return self.path, {"district": b["district"]}

    def form(self, b: dict[str, Any]) -> dict[str, str]:
        """A POST form's fields (without the CSRF field) acting on B's item."""
        held_key = f"{b['held_district']}#cls-1#stu-1"
        return {
            "/console/views/queues/approval": {"ref": held_key, "decision": "approve", "reason": "ok"},
            "/console/views/queues/appeal": {
                "ref": f"{held_key}#cps.pacing.ipr_drop#ipr-2026-10-09",
                "outcome": "granted",
                "note": "from A",
            },
            "/console/views/health/suppressions/clear": {"id": b["suppression_id"]},
        }.get(self.path, {})

    def send(
        self, session: ConsoleSession, b: dict[str, Any], district: str | None = None
    ) -> tuple[int, Any]:
        """The row's request for B's resource, by ``session`` (POSTs with its own CSRF field)."""
        path, query = self.target(b)
        if self.method == "POST":
            status, _, body = session.post_form(path, self.form(b), district=district)
        else:
            status, _, body = session.request(self.method, path, query, district=district)
        return status, body


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
    # Views B: B's held enrollment, its program (the preview), packet, disclosures, health.
    Row("GET", "/console/views/upcoming", owner="upcoming_district"),
    Row("GET", "/console/views/queues", owner="held_district"),
    Row("POST", "/console/views/queues/approval", owner="held_district", a_status=404),
    Row("POST", "/console/views/queues/appeal", owner="held_district", a_status=404),
    Row("GET", "/console/views/packet", owner="held_district", a_status=404),
    Row("GET", "/console/api/packet.pdf", owner="held_district", a_status=404),
    Row("GET", "/console/views/disclosures"),
    Row("GET", "/console/views/health"),
    Row("POST", "/console/views/health/suppressions/clear"),
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
FORMS = [pytest.param(row, id=f"{row.method} {row.path}") for row in ROUTES if row.method == "POST"]
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
    # A held approval of B (its program, an enrollment, the audit of its decisions) and a
    # program with a warning due in the coming week (the preview), each student named uniquely.
    held = make_district(local_stack, PACING, students=("stu-1",), settings=NEEDS_APPROVAL)
    held_name = f"Held {uuid.uuid4().hex[:8]}"
    EnrollmentModel(enrollment_key=f"{held.district_id}#cls-1#stu-1").update(
        actions=[EnrollmentModel.student_name.set(held_name)]
    )
    evaluate(local_stack, held.district_id, date(2026, 10, 10))
    term = term_due_next_week()
    upcoming = make_district(
        local_stack,
        PACING,
        students=("stu-1",),
        terms=[term],
        start=date.fromisoformat(term["start"]),
        end=date.fromisoformat(term["end"]),
    )
    upcoming_name = f"Soon {uuid.uuid4().hex[:8]}"
    EnrollmentModel(enrollment_key=f"{upcoming.district_id}#cls-1#stu-1").update(
        actions=[EnrollmentModel.student_name.set(upcoming_name)]
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
        "held_district": held.district_id,
        "held_name": held_name,
        "upcoming_district": upcoming.district_id,
        "upcoming_name": upcoming_name,
        "sent_to": "ana@family.example",  # a guardian B's notice was sent to (disclosures)
    }


@pytest.fixture(scope="module")
def district_a(local_stack: LocalStack) -> str:
    a = f"access-a-{uuid.uuid4().hex[:8]}"
    append(a, [AuditEntry(type="notice.sent", actor="test", summary="A's own entry")], now=T0)
    return a


def _secret_parts(b: dict[str, Any]) -> list[str]:
    return [
        b["district"],
        b["student"],
        b["marker"],
        b["masked"],
        b["suppression_id"],
        b["held_district"],
        b["held_name"],
        b["upcoming_district"],
        b["upcoming_name"],
        b["sent_to"],
    ]


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("latin-1")
    return body if isinstance(body, str) else json.dumps(body)


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
    status, body = row.send(console_sign_in(district_a), district_b)
    text = _text(body)
    assert not any(part in text for part in _secret_parts(district_b)), text[:500]
    if row.method == "DELETE" or row.path in NOT_FOUND_FOR_A:
        assert status == 404  # B's entry is simply not found in A's keys
    else:
        assert status == row.a_status, text[:500]


@pytest.mark.parametrize("row", PRIVATE)
def test_naming_a_district_not_in_the_claim_is_403(
    console_sign_in: Callable[..., ConsoleSession],
    district_a: str,
    district_b: dict[str, Any],
    row: Row,
) -> None:
    status, body = row.send(console_sign_in(district_a), district_b, district=district_b[row.owner])
    assert status == 403
    assert not any(part in json.dumps(body) for part in _secret_parts(district_b))


@pytest.mark.parametrize("row", READS)
def test_the_admin_of_b_gets_the_resource(
    console_sign_in: Callable[..., ConsoleSession], district_b: dict[str, Any], row: Row
) -> None:
    path, query = row.target(district_b)
    status, headers, body = console_sign_in(district_b[row.owner]).request(row.method, path, query)
    assert status == 200
    text = _text(body)
    if row.path.endswith("/verify"):
        assert body["district_id"] == district_b["district"] and body["entries"] >= 2
    elif "{notice_id}" in row.path:
        assert body["notice_id"] == district_b["notice_id"]
    elif row.path.endswith(".pdf"):
        assert body.startswith(b"%PDF-") and headers["content-disposition"].startswith("attachment")
        assert "cps.pacing.ipr_drop" in pdf_text(body)
    elif row.owner == "held_district":
        assert district_b["held_name"] in text
    elif row.owner == "upcoming_district":
        assert district_b["upcoming_name"] in text and "Nothing here has been sent" in text
    elif row.path == "/console/views/disclosures":
        assert district_b["sent_to"] in text
    elif row.path == "/console/views/email":
        assert 'data-testid="email-sent"' in text and "<iframe" in text
    else:
        secrets_of_b = (district_b["student"], district_b["marker"], district_b["masked"])
        assert any(part in text for part in secrets_of_b)


@pytest.mark.parametrize("row", FORMS)
def test_a_form_without_its_csrf_field_is_403_and_changes_nothing(
    console_sign_in: Callable[..., ConsoleSession], district_b: dict[str, Any], row: Row
) -> None:
    session = console_sign_in(district_b[row.owner])
    path, _ = row.target(district_b)
    status, _, body = session.post_form(path, row.form(district_b), csrf=False)
    assert status == 403 and "security token" in body["message"]
    status, _, body = session.post_form(path, {**row.form(district_b), "csrf": "0" * 64}, csrf=False)
    assert status == 403
    # Nothing of the form was done: the held action still waits, the suppression is still there.
    if row.owner == "held_district":
        (waiting,) = approvals_waiting(district_b["held_district"])
        assert waiting.ref == f"{district_b['held_district']}#cls-1#stu-1"
        assert not [e for e in AuditModel.query(district_b["held_district"]) if e.actor.startswith("admin:")]
    else:
        assert [s.id for s in suppression.list_suppressions(district_b["district"])] == [
            district_b["suppression_id"]
        ]


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
