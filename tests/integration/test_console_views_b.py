"""The console's views B over HTTP through the local gateway, signed in at the local identity
provider: Upcoming, Work queues (and their forms), Evidence packet + PDF, FERPA record of
disclosures, Health (and its form). District isolation is the access table's
(test_console_access.py); here, what each view shows and what each form does."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from onpace_core.delivery.suppression import address_hash, suppress
from onpace_core.store.models import AuditModel
from onpace_local.stack import LocalStack

from tests.console_session import ConsoleSession
from tests.integration.districts import SampleDistrict, evaluate, make_district, term_due_next_week
from tests.integration.test_console_domain_b import NEEDS_APPROVAL, PACING
from tests.pdf_text import pdf_text

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs="transactions")]

APPROVAL = "/console/views/queues/approval"
APPEAL = "/console/views/queues/appeal"
CLEAR = "/console/views/health/suppressions/clear"


def _admin_entries(district_id: str) -> list[AuditModel]:
    return [e for e in AuditModel.query(district_id, consistent_read=True) if e.actor.startswith("admin:")]


def _refs(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}" data-ref="([^"]+)"', html)


def _result(html: str) -> str:
    found = re.search(r'data-testid="(?:queue|health)-result" data-state="([a-z]+)"', html)
    return found.group(1) if found else ""


@pytest.fixture(scope="module")
def held(local_stack: LocalStack) -> SampleDistrict:
    """Two students whose drop waits for an administrator's approval."""
    district = make_district(local_stack, PACING, students=("stu-1", "stu-2"), settings=NEEDS_APPROVAL)
    evaluate(local_stack, district.district_id, date(2026, 10, 10))
    return district


def test_approve_from_the_queue_once_audited_with_the_admin(
    console_sign_in: Callable[..., ConsoleSession], held: SampleDistrict
) -> None:
    d = held.district_id
    session = console_sign_in(d)
    status, headers, html = session.get("/console/views/queues")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert _refs(html, "approval-item") == [f"{d}#cls-1#stu-1", f"{d}#cls-1#stu-2"]
    assert html.count('name="csrf"') == 2 and session.csrf() in html

    form = {"ref": f"{d}#cls-1#stu-1", "decision": "approve", "reason": ""}
    status, _, html = session.post_form(APPROVAL, form)
    assert status == 200 and _result(html) == "recorded"
    assert _refs(html, "approval-item") == [f"{d}#cls-1#stu-2"]  # the queue without the item
    (entry,) = _admin_entries(d)
    assert entry.type == "approval.approved" and entry.actor == f"admin:{session.user.sub}"
    assert f'data-seq="{entry.seq}"' in html

    status, _, html = session.post_form(APPROVAL, form)  # the same form again
    assert status == 200 and _result(html) == "already" and "Already done" in html
    assert len(_admin_entries(d)) == 1


def test_reject_needs_a_reason(console_sign_in: Callable[..., ConsoleSession], held: SampleDistrict) -> None:
    d = held.district_id
    session = console_sign_in(d)
    form = {"ref": f"{d}#cls-1#stu-2", "decision": "reject", "reason": "  "}
    status, _, html = session.post_form(APPROVAL, form)
    assert status == 200 and _result(html) == "invalid" and "needs a reason" in html
    assert f"{d}#cls-1#stu-2" in _refs(html, "approval-item")
    assert not [e for e in _admin_entries(d) if e.type == "approval.rejected"]

    status, _, html = session.post_form(APPROVAL, {**form, "reason": "IEP meeting pending"})
    assert _result(html) == "recorded" and _refs(html, "approval-item") == []
    (rejected,) = [e for e in _admin_entries(d) if e.type == "approval.rejected"]
    assert "IEP meeting pending" in rejected.detail
    status, _, body = session.post_form(APPROVAL, {**form, "decision": "maybe"})
    assert status == 400 and "decision" in body["message"]


def test_an_appeal_outcome_is_recorded_once(
    console_sign_in: Callable[..., ConsoleSession], local_stack: LocalStack
) -> None:
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    ipr = today - timedelta(days=1)  # the drop is taken today; its appeal window is open
    term = {
        "id": "fall",
        "start": (today - timedelta(days=60)).isoformat(),
        "end": (today + timedelta(days=60)).isoformat(),
        "ipr": ipr.isoformat(),
    }
    district = make_district(
        local_stack,
        PACING,
        students=("stu-1",),
        terms=[term],
        start=today - timedelta(days=60),
        end=today + timedelta(days=60),
    )
    d = district.district_id
    evaluate(local_stack, d, today)
    session = console_sign_in(d)
    _, _, html = session.get("/console/views/queues")
    (ref,) = _refs(html, "appeal-item")
    assert ref.startswith(f"{d}#cls-1#stu-1#cps.pacing.ipr_drop#")

    status, _, html = session.post_form(APPEAL, {"ref": ref, "outcome": "denied", "note": ""})
    assert _result(html) == "invalid" and _refs(html, "appeal-item") == [ref]
    status, _, html = session.post_form(
        APPEAL, {"ref": ref, "outcome": "granted", "note": "documented illness"}
    )
    assert _result(html) == "recorded" and "re-enroll the student on the roster" in html
    assert _refs(html, "appeal-item") == []
    status, _, html = session.post_form(
        APPEAL, {"ref": ref, "outcome": "granted", "note": "documented illness"}
    )
    assert _result(html) == "already"
    (entry,) = _admin_entries(d)
    assert entry.type == "appeal.outcome" and "documented illness" in entry.detail
    status, _, _body = session.post_form(APPEAL, {"ref": "no-hash", "outcome": "denied", "note": "x"})
    assert status == 400


def test_upcoming_previews_by_day_and_says_nothing_is_sent(
    console_sign_in: Callable[..., ConsoleSession], local_stack: LocalStack
) -> None:
    term = term_due_next_week()
    district = make_district(
        local_stack,
        PACING,
        students=("stu-1",),
        terms=[term],
        start=date.fromisoformat(term["start"]),
        end=date.fromisoformat(term["end"]),
    )
    session = console_sign_in(district.district_id)
    status, _, html = session.get("/console/views/upcoming", {"days": "7"})
    assert status == 200
    assert "Nothing here has been sent or recorded" in html and "assumes no new activity" in html
    days = re.findall(r'data-testid="upcoming-day" data-day="([0-9-]+)"', html)
    assert days == sorted(days) and len(days) >= 1
    assert 'data-rule="cps.pacing.ipr_warning_2w" data-kind="notice" data-student="stu-1"' in html
    assert "Student stu-1" in html and "test-2026.1" in html and "student, guardians" in html
    assert "#/packet?student=stu-1&amp;class=cls-1" in html
    status, _, body = session.get("/console/views/upcoming", {"days": "3"})
    assert status == 400 and "days must be 1 or 7" in body["message"]


def test_packet_page_pdf_and_disclosures(
    console_sign_in: Callable[..., ConsoleSession], held: SampleDistrict
) -> None:
    d = held.district_id
    session = console_sign_in(d)
    status, _, html = session.get("/console/views/packet")
    assert status == 200 and 'data-testid="packet-pick"' in html
    status, _, html = session.get("/console/views/packet", {"student": "stu-1", "class": "cls-1"})
    assert status == 200 and "Evidence packet" in html and "Student stu-1" in html
    assert "cps.pacing.ipr_drop" in html and "test-2026.1" in html and "Test Online" in html
    assert 'data-download="evidence-stu-1-cls-1.pdf"' in html
    status, headers, pdf = session.get("/console/api/packet.pdf", {"student": "stu-1", "class": "cls-1"})
    assert status == 200 and pdf.startswith(b"%PDF-")
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == 'attachment; filename="evidence-stu-1-cls-1.pdf"'
    assert headers["cache-control"] == "no-store"
    text = pdf_text(pdf)
    assert "Student stu-1" in text and "cps.pacing.ipr_drop" in text
    status, _, _ = session.get("/console/api/packet.pdf", {"student": "stu-9", "class": "cls-1"})
    assert status == 404
    status, _, _ = session.get("/console/api/packet.pdf", {"student": "stu-1"})
    assert status == 400
    status, _, _body = session.get("/console/views/packet", {"student": "a#b", "class": "cls-1"})
    assert status == 400
    status, _, html = session.get("/console/views/disclosures", {"student": "stu-1"})
    assert status == 200 and 'data-testid="disclosures-empty"' in html  # nothing was sent yet


def test_health_shows_suppressions_and_clears_one_by_form(
    console_sign_in: Callable[..., ConsoleSession], local_stack: LocalStack
) -> None:
    district = make_district(local_stack, PACING, students=("stu-1",))
    d = district.district_id
    suppress(
        d, "gone@family.example", reason="bounce", detail="General", role="guardian", rule_id=None, at="x"
    )
    evaluate(local_stack, d, date(2026, 9, 25))
    session = console_sign_in(d)
    status, _, html = session.get("/console/views/health", {"days": "31"})
    assert status == 200
    assert "g***@family.example" in html and "gone@family.example" not in html
    assert re.search(r'data-testid="suppressed-count">1<', html)
    status, _, _body = session.get("/console/views/health", {"days": "0"})
    assert status == 400

    entry_id = address_hash("gone@family.example")
    status, _, html = session.post_form(CLEAR, {"id": entry_id, "days": "31"})
    assert status == 200 and _result(html) == "recorded" and "g***@family.example" not in html
    assert "Health, last 31 days" in html  # the period the admin was looking at
    status, _, html = session.post_form(CLEAR, {"id": entry_id})
    assert _result(html) == "already"
    (entry,) = _admin_entries(d)
    assert entry.type == "suppression.cleared" and entry.actor == f"admin:{session.user.sub}"
