"""The console's domain (issue 13, domain B) on moto server: upcoming preview, work queues,
evidence packet and its PDF, FERPA record of disclosures, health. Each query is district-scoped:
another district's items never appear."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from onpace_core.audit.log import AuditEntry, append
from onpace_core.console.common import NotInDistrict
from onpace_core.console.disclosures import disclosures
from onpace_core.console.health import health
from onpace_core.console.packet import evidence_packet, packet_pdf, printable
from onpace_core.console.preview import preview
from onpace_core.console.queues import (
    ReasonRequired,
    approvals_waiting,
    approve,
    data_alerts,
    open_appeal_windows,
    quarantined_events,
    record_appeal_outcome,
    reject,
)
from onpace_core.delivery.sender import deliver
from onpace_core.delivery.suppression import suppress
from onpace_core.ingest.refusals import sweep
from onpace_core.store.models import AuditModel, EnrollmentModel, OutboxModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook

from tests.integration.districts import SampleDistrict, evaluate, make_district
from tests.integration.test_notify import TEMPLATES, _settings
from tests.pdf_text import pdf_text

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs="transactions")]

PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
NEEDS_APPROVAL = {"approvals": {"cps.pacing.ipr_drop": "needs_approval"}}
ADMIN = "admin:sub-123"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _by_admin(district_id: str) -> list[AuditModel]:
    return [e for e in AuditModel.query(district_id, consistent_read=True) if e.actor == ADMIN]


@contextmanager
def _dynamodb_calls() -> Iterator[Counter[str]]:
    """Every DynamoDB operation made inside the block, by name."""
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return original(client, operation, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _held(stack: LocalStack) -> SampleDistrict:
    district = make_district(stack, PACING, students=("stu-1",), settings=NEEDS_APPROVAL)
    evaluate(stack, district.district_id, date(2026, 10, 10))
    return district


# -- approvals ---------------------------------------------------------------------------------


def test_approve_is_taken_by_the_next_evaluation_once_and_audited_once(local_stack: LocalStack) -> None:
    district = _held(local_stack)
    other = _held(local_stack)
    d, key = district.district_id, f"{district.district_id}#cls-1#stu-1"

    (waiting,) = approvals_waiting(d)
    assert (waiting.ref, waiting.rule_id, waiting.requested_on) == (
        key,
        "cps.pacing.ipr_drop",
        date(2026, 10, 10),
    )
    assert waiting.reason == "the program requires approval" and waiting.student_name == "Student stu-1"
    assert [w.ref for w in approvals_waiting(other.district_id)] == [f"{other.district_id}#cls-1#stu-1"]
    with pytest.raises(NotInDistrict):  # another district's enrollment, even by its exact key
        approve(other.district_id, key, ADMIN)

    now = _at("2026-10-12T10:00:00-05:00")
    first = approve(d, key, ADMIN, "principal agreed", now=now)
    assert first.status == "recorded"
    again = approve(d, key, ADMIN, "principal agreed", now=now)  # a double submit
    assert again.status == "already"
    (entry,) = _by_admin(d)
    assert entry.type == "approval.approved" and entry.seq == first.seq and entry.student_id == "stu-1"
    assert entry.notice_id == f"{key}#cps.pacing.ipr_drop#ipr-2026-10-09/approval"

    item = EnrollmentModel.get(key, consistent_read=True)
    assert first.input_id in item.inputs.as_dict() and item.wake_on == "2026-10-12"
    assert evaluate(local_stack, d, date(2026, 10, 12))["recorded"] == []  # an input dated today is unseen
    taken = evaluate(local_stack, d, date(2026, 10, 13))
    assert taken["recorded"] == [{"rule": "cps.pacing.ipr_drop", "kind": "action", "count": 1}]
    drop = OutboxModel.get(f"{key}#cps.pacing.ipr_drop#ipr-2026-10-09", consistent_read=True)
    assert drop.facts.as_dict()["approved_by"] == ADMIN and drop.decided_on == "2026-10-13"
    item = EnrollmentModel.get(key, consistent_read=True)
    assert item.status == "dropped" and item.held_district is None
    assert approvals_waiting(d) == []
    assert approve(d, key, ADMIN, now=now).status == "already"  # nothing is held any more
    assert len(_by_admin(d)) == 1
    assert _by_admin(other.district_id) == []


def test_reject_needs_a_reason_and_the_action_is_not_taken(local_stack: LocalStack) -> None:
    district = _held(local_stack)
    d, key = district.district_id, f"{district.district_id}#cls-1#stu-1"
    now = _at("2026-10-12T10:00:00-05:00")
    with pytest.raises(ReasonRequired):
        reject(d, key, ADMIN, "  ", now=now)
    assert _by_admin(d) == []

    assert reject(d, key, ADMIN, "IEP meeting pending", now=now).status == "recorded"
    assert reject(d, key, ADMIN, "IEP meeting pending", now=now).status == "already"
    (entry,) = _by_admin(d)
    assert entry.type == "approval.rejected" and "IEP meeting pending" in entry.detail
    evaluate(local_stack, d, date(2026, 10, 12))
    skipped = evaluate(local_stack, d, date(2026, 10, 13))
    assert {"rule": "cps.pacing.ipr_drop", "kind": "skipped", "count": 1} in skipped["recorded"]
    assert EnrollmentModel.get(key, consistent_read=True).status == "active"


# -- appeals and data alerts -------------------------------------------------------------------


def test_an_open_appeal_window_takes_one_outcome(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-1",))
    other = make_district(local_stack, PACING, students=("stu-1",))
    d = district.district_id
    evaluate(local_stack, d, date(2026, 10, 10))
    now = _at("2026-10-12T09:00:00-05:00")
    (window,) = open_appeal_windows(d, now=now)
    assert window.rule_id == "cps.pacing.ipr_drop" and window.appeal_by == date(2026, 10, 13)
    assert window.student_name == "Student stu-1"
    assert open_appeal_windows(other.district_id, now=now) == []
    assert open_appeal_windows(d, now=_at("2026-10-14T09:00:00-05:00")) == []  # the deadline passed

    with pytest.raises(ReasonRequired):
        record_appeal_outcome(d, window.ref, "denied", ADMIN, "", now=now)
    with pytest.raises(NotInDistrict):
        record_appeal_outcome(other.district_id, window.ref, "denied", ADMIN, "no", now=now)
    warning = f"{d}#cls-1#stu-1#cps.pacing.ipr_warning_2w#ipr-2026-10-09"  # skipped: no appeal
    with pytest.raises(NotInDistrict):
        record_appeal_outcome(d, warning, "denied", ADMIN, "no", now=now)
    done = record_appeal_outcome(d, window.ref, "denied", ADMIN, "pacing plan not followed", now=now)
    assert done.status == "recorded"
    assert record_appeal_outcome(d, window.ref, "denied", ADMIN, "again", now=now).status == "already"
    (entry,) = _by_admin(d)
    assert entry.type == "appeal.outcome" and entry.notice_id == window.ref
    stored = EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True).inputs.as_dict()
    assert '"kind": "appeal"' in stored[done.input_id or ""]
    assert open_appeal_windows(d, now=now) == []


def test_data_missing_alerts_open_first_and_close_when_the_value_arrives(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-1", "stu-2"), reported_percent=None)
    other = make_district(local_stack, PACING, students=("stu-1",), reported_percent=None)
    d = district.district_id
    evaluate(local_stack, d, date(2026, 9, 25))
    evaluate(local_stack, other.district_id, date(2026, 9, 25))
    alerts = data_alerts(d)
    assert sorted(a.student_id or "" for a in alerts) == ["stu-1", "stu-2"]
    assert all(a.open and a.value == "percent_complete" for a in alerts)
    assert {a.enrollment_key for a in alerts} == {f"{d}#cls-1#stu-1", f"{d}#cls-1#stu-2"}
    EnrollmentModel(enrollment_key=f"{d}#cls-1#stu-1").update(
        actions=[EnrollmentModel.percent_complete.set(0.3)]
    )
    first, second = data_alerts(d)
    assert (first.student_id, first.open, second.student_id, second.open) == ("stu-2", True, "stu-1", False)


# -- quarantine and health ---------------------------------------------------------------------


def test_health_counts_rejections_quarantine_parked_work_suppressions_and_notices(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    district = make_district(local_stack, PACING, students=("stu-1",))
    other = make_district(local_stack, PACING, students=("stu-1",))
    d = district.district_id
    nobody = {
        "event_id": "ev-nobody",
        "occurred_at": "2026-09-02T10:00:00-05:00",
        "student": "stu-nobody",
        "class": "cls-1",
        "kind": "login",
    }
    kept = post_webhook(gateway.url, district_id=d, secret=district.secret, events=nobody)
    assert kept.status == 202
    forged = post_webhook(gateway.url, district_id=d, secret="whsec_" + "A" * 32, events=nobody)
    assert forged.status == 401
    # Refusals are counted per minute window and audited once the window closes (ingest/refusals.py).
    sweep(datetime.now(UTC) + timedelta(minutes=2))
    suppress(
        d, "bounced@family.example", reason="bounce", detail="General", role="guardian", rule_id=None, at="x"
    )
    append(
        d,
        [AuditEntry(type="evaluation.failed", actor="evaluate", summary="parked", detail={"error": "Boom"})],
    )
    evaluate(local_stack, d, date(2026, 9, 25))

    (quarantined,) = quarantined_events(d)
    assert quarantined.event_id == "ev-nobody" and quarantined.student_ref == "stu-nobody"
    assert quarantined.reason
    report = health(d, days=1)
    assert report.rejected_count == 1 and report.rejected_recent[0].reason
    assert "refused" in report.rejected_recent[0].summary
    assert report.quarantined_count == 1 and report.quarantined_recent[0].event_id == "ev-nobody"
    assert [p.error for p in report.parked] == ["Boom"]
    assert [s.masked for s in report.suppressed] == ["b***@family.example"]
    rows = {(r.rule_id, r.on): r for r in report.per_rule_day}
    assert rows[("cps.pacing.ipr_warning_2w", "2026-09-25")].decided == 1

    quiet = health(other.district_id, days=1)
    assert quiet.rejected_count == 0 and quiet.quarantined_count == 0
    assert quiet.parked == [] and quiet.suppressed == [] and quiet.per_rule_day == []
    assert quarantined_events(other.district_id) == []


# -- preview -----------------------------------------------------------------------------------


def test_preview_writes_nothing_and_matches_what_the_evaluator_then_decides(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-1", "stu-2"))
    make_district(local_stack, PACING, students=("stu-9",))  # another district, due the same days
    d = district.district_id
    now = _at("2026-09-24T13:00:00-05:00")
    with _dynamodb_calls() as calls:
        upcoming = preview(d, days=7, now=now)
    assert not WRITES & set(calls), calls
    assert "Scan" not in calls
    assert upcoming.first_day == date(2026, 9, 25)
    tomorrow = [u for u in upcoming.items if u.on == date(2026, 9, 25)]
    assert {(u.student_id, u.rule_id, u.kind) for u in tomorrow} == {
        ("stu-1", "cps.pacing.ipr_warning_2w", "notice"),
        ("stu-2", "cps.pacing.ipr_warning_2w", "notice"),
    }
    assert all(u.student_name and u.policy_version == "test-2026.1" for u in tomorrow)
    assert all(u.recipients for u in tomorrow)
    assert all(u.deadlines for u in tomorrow)
    assert {u.student_id for u in upcoming.items} <= {"stu-1", "stu-2"}
    assert upcoming.truncated == () and upcoming.enrollments_read == 2
    cut = preview(d, days=1, now=now, max_enrollments=1)
    assert cut.truncated == ("prog",) and {u.student_id for u in cut.items} == {"stu-1"}

    decided = evaluate(local_stack, d, date(2026, 9, 25))
    real = Counter({(r["rule"], r["kind"]): r["count"] for r in decided["recorded"]})
    assert real == Counter((u.rule_id, u.kind) for u in tomorrow)
    for u in tomorrow:
        notice = OutboxModel.get(f"{d}#cls-1#{u.student_id}#{u.rule_id}#ipr-2026-10-09", consistent_read=True)
        assert notice.deadlines.as_dict() == u.deadlines and notice.decided_on == u.on.isoformat()
        # The decision names role groups; the outbox item has the contacts they resolved to.
        assert u.recipients == ("student", "guardians")
        assert [r.role for r in notice.recipients] == ["student", "guardian"]


# -- evidence packet and disclosures -----------------------------------------------------------


def _letters(district_id: str) -> list[OutboxModel]:
    # Test-only Scan: the letters' ids carry an address hash the test does not know.
    return [
        o
        for o in OutboxModel.scan(OutboxModel.kind == "letter")
        if o.notice_id.startswith(f"letter#{district_id}#")
    ]


def test_evidence_packet_pdf_and_disclosures_show_what_was_sent(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-1", "stu-2"))
    d = district.district_id
    EnrollmentModel(enrollment_key=f"{d}#cls-1#stu-1").update(
        actions=[EnrollmentModel.student_name.set("Zoë Núñez 李")]
    )
    evaluate(local_stack, d, date(2026, 9, 25))
    # The notices wait for the first morning window after the evaluation ran: dispatch that one.
    notice = OutboxModel.get(
        f"{d}#cls-1#stu-1#cps.pacing.ipr_warning_2w#ipr-2026-10-09", consistent_read=True
    )
    assert notice.send_key and notice.send_after
    window_day = notice.send_key.rsplit("#", 1)[1]
    opened = _at(notice.send_after.replace("Z", "+00:00")) + timedelta(minutes=10)
    event = {"district_id": d, "day": window_day, "scheduled_time": opened.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert local_stack.invoke("DispatchFunction", event)["days"]
    letters = _letters(d)
    assert letters
    for letter in letters:
        deliver(letter.notice_id, local_stack.client("sesv2"), _settings(local_stack), TEMPLATES)

    packet = evidence_packet(d, "stu-1", "cls-1")
    assert packet.student_name == "Zoë Núñez 李" and packet.program_name == "Test Online"
    assert packet.policies[0].version == "test-2026.1"
    assert {r.rule_id for r in packet.policies[0].rules} == set(PACING)
    (warning,) = packet.notices
    assert warning.rule_id == "cps.pacing.ipr_warning_2w" and warning.policy_version == "test-2026.1"
    statuses = {r.role: r.sent for r in warning.recipients}
    assert statuses["student"] == "sent" and statuses["guardian"] == "sent", statuses
    assert warning.deadlines and packet.deadlines
    assert packet.actions == []
    assert any(e.type == "notice.sent" for e in packet.events)
    stranger = make_district(local_stack, PACING, students=("stu-8",)).district_id
    with pytest.raises(NotInDistrict):
        evidence_packet(stranger, "stu-1", "cls-1")
    assert disclosures(stranger, "stu-1") == []

    pdf = packet_pdf(packet)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Zoë Núñez" in text
    assert "[U+674E]" in text  # DejaVu Sans has no glyph for 李: written as its code point, not dropped
    assert "cps.pacing.ipr_warning_2w" in text and "to guardian parent-of-stu-1@family.example: sent" in text
    assert printable("李") == "[U+674E]" and printable("Ñ") == "Ñ"

    # Health counts the warnings decided and the letters' settled members as sent, per rule and day.
    rows = {(r.rule_id, r.on): r for r in health(d, days=1).per_rule_day}
    row = rows[("cps.pacing.ipr_warning_2w", "2026-09-25")]
    assert (row.decided, row.sent) == (2, 2), row

    shown = disclosures(d, "stu-1")
    assert {(x.role, x.address) for x in shown} >= {
        ("student", "stu-1@students.school.example"),
        ("guardian", "parent-of-stu-1@family.example"),
    }
    assert all("cps.pacing.ipr_warning_2w" in x.purpose and x.sent_at for x in shown)
    assert all(x.address.startswith(("s***@", "p***@")) for x in disclosures(d, "stu-1", masked=True))
    assert all(x.address.endswith("stu-2@") is False for x in shown)
    assert {x.address for x in disclosures(d, "stu-2")}.isdisjoint({x.address for x in shown})
