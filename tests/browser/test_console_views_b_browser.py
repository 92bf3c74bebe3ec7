"""The console's views B in headless Chromium, against the local stack: approve an action from
the work queue (the audit log then has the approval by this admin), open an evidence packet and
download its PDF, Upcoming and Health; every view at 390, 1280 and 1920 px with no horizontal
scroll, no clipped control and no serious axe-core violation. Screenshots: build/test-artifacts."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import date

import pytest
from onpace_core.delivery.suppression import suppress
from onpace_core.store.models import AuditModel
from onpace_local.stack import LocalStack
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, WIDTHS, assert_accessible
from tests.integration.districts import SampleDistrict, evaluate, make_district, term_due_next_week
from tests.integration.test_console_domain_b import NEEDS_APPROVAL, PACING
from tests.integration.test_notify import _event_for, _insert, _notice
from tests.pdf_text import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.dynamodb(needs="transactions")]

# Controls of the page that lie (partly) outside the viewport, or whose text does not fit them.
_CLIPPED_CONTROLS = """() => {
  const width = window.innerWidth + 0.5;
  const found = [];
  for (const el of document.querySelectorAll('button, a, input, select, textarea, summary')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    if (el.classList.contains('skip-link')) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) continue;
    const outside = rect.left < -0.5 || rect.right > width;
    const overflowing = el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 1;
    if (outside || overflowing) {
      found.push(el.tagName.toLowerCase() + ' "' + (el.textContent || el.value || '').trim().slice(0, 40)
        + '" ' + Math.round(rect.left) + '..' + Math.round(rect.right));
    }
  }
  return found;
}"""


def check_widths(page: Page, what: str) -> None:
    """At every width: axe-core, no horizontal scroll, no clipped control; a screenshot each."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"{what} at {width} px")
        clipped = page.evaluate(_CLIPPED_CONTROLS)
        assert clipped == [], f"{what} at {width} px: clipped controls {clipped}"
        page.screenshot(path=str(ARTIFACTS / f"console-{what}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def signed_in_sub(page: Page) -> str:
    """The ``sub`` of the ID token the page signed in with."""
    token = page.evaluate("() => sessionStorage.getItem('onpace.idToken')")
    part = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["sub"])


def ready(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=30_000)


@pytest.fixture(scope="module")
def held(local_stack: LocalStack) -> SampleDistrict:
    """One student whose drop waits for approval, a suppressed address (Health)."""
    district = make_district(local_stack, PACING, students=("stu-1",), settings=NEEDS_APPROVAL)
    evaluate(local_stack, district.district_id, date(2026, 10, 10))
    suppress(
        district.district_id,
        f"bounced-{uuid.uuid4().hex[:6]}@family.example",
        reason="bounce",
        detail="General",
        role="guardian",
        rule_id=None,
        at="2026-10-10T12:00:00Z",
    )
    return district


def test_approve_from_the_work_queue_then_the_audit_log_has_it(
    signed_in_page: Callable[..., Page], held: SampleDistrict
) -> None:
    d = held.district_id
    page = signed_in_page(d, view="queues")
    item = page.get_by_test_id("approval-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Student stu-1")
    check_widths(page, "queues")

    item.get_by_test_id("approval-reason").fill("principal agreed")
    item.get_by_test_id("approve").click()
    result = page.get_by_test_id("queue-result")
    expect(result).to_have_attribute("data-state", "recorded")
    expect(page.get_by_test_id("approval-item")).to_have_count(0)
    expect(page.get_by_test_id("approvals-empty")).to_be_visible()

    sub = signed_in_sub(page)
    (entry,) = [e for e in AuditModel.query(d, consistent_read=True) if e.type == "approval.approved"]
    assert entry.actor == f"admin:{sub}"
    page.get_by_test_id("nav-audit").click()
    row = page.locator(f'[data-testid="audit-row"][data-seq="{entry.seq}"]')
    expect(row).to_have_attribute("data-type", "approval.approved")
    row.get_by_test_id("audit-detail").locator("summary").click()
    expect(row).to_contain_text(f"admin:{sub}")
    expect(row).to_contain_text("principal agreed")


def test_open_an_evidence_packet_and_download_its_pdf(
    signed_in_page: Callable[..., Page], held: SampleDistrict
) -> None:
    page = signed_in_page(held.district_id, view="packet")
    page.get_by_label("Student sourcedId").first.fill("stu-1")
    page.get_by_label("Class sourcedId").fill("cls-1")
    page.get_by_role("button", name="Open packet").click()
    expect(page.get_by_test_id("packet-student")).to_have_text("Student stu-1")
    ready(page)
    expect(page.get_by_test_id("packet")).to_contain_text("cps.pacing.ipr_drop")
    check_widths(page, "packet")
    with page.expect_download() as info:
        page.get_by_test_id("packet-pdf").click()
    download = info.value
    assert download.suggested_filename == "evidence-stu-1-cls-1.pdf"
    path = download.path()
    assert path is not None
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Student stu-1" in text and "cps.pacing.ipr_drop" in text
    # Printing drops the navigation.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    page.emulate_media(media="screen")

    page.get_by_test_id("link-disclosures").click()
    ready(page)
    expect(page.get_by_role("heading", name="FERPA record of disclosures: stu-1")).to_be_visible()
    check_widths(page, "disclosures")


def test_upcoming_and_health_render(
    signed_in_page: Callable[..., Page], local_stack: LocalStack, held: SampleDistrict
) -> None:
    term = term_due_next_week()
    soon = make_district(
        local_stack,
        PACING,
        students=("stu-1",),
        terms=[term],
        start=date.fromisoformat(term["start"]),
        end=date.fromisoformat(term["end"]),
    )
    page = signed_in_page(soon.district_id, view="upcoming")
    expect(page.get_by_test_id("preview-badge")).to_have_text("Preview")
    expect(page.get_by_test_id("preview-assumptions")).to_contain_text("Nothing here has been sent")
    item = page.get_by_test_id("upcoming-item").first
    expect(item).to_have_attribute("data-rule", "cps.pacing.ipr_warning_2w")
    expect(item).to_contain_text("Student stu-1")
    check_widths(page, "upcoming")

    page.get_by_test_id("upcoming-1").click()
    ready(page)
    expect(page.get_by_test_id("upcoming-1")).to_have_attribute("aria-current", "page")

    page.get_by_test_id("nav-health").click()
    ready(page)
    expect(page.get_by_test_id("health-summary")).to_be_visible()
    check_widths(page, "health-empty")


def test_health_lists_a_suppressed_address_and_clears_it(
    signed_in_page: Callable[..., Page], held: SampleDistrict
) -> None:
    page = signed_in_page(held.district_id, view="health")
    expect(page.get_by_test_id("suppressed-item")).to_have_count(1)
    expect(page.get_by_test_id("suppressed-masked")).to_contain_text("b***@family.example")
    expect(page.get_by_test_id("rule-day-row").first).to_be_visible()
    check_widths(page, "health")
    page.get_by_test_id("clear-suppression").click()
    expect(page.get_by_test_id("health-result")).to_have_attribute("data-state", "recorded")
    expect(page.get_by_test_id("suppressed-item")).to_have_count(0)


def test_the_record_of_disclosures_lists_each_party_a_notice_went_to(
    signed_in_page: Callable[..., Page], local_stack: LocalStack
) -> None:
    notice = _insert(_notice())
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, notice)) == {"batchItemFailures": []}
    page = signed_in_page(notice.district_id, view="disclosures?student=stu-1")
    rows = page.get_by_test_id("disclosure-row")
    expect(rows.first).to_be_visible()
    table = page.get_by_test_id("disclosures-table")
    expect(table).to_contain_text("ana@family.example")
    expect(table).to_contain_text("parent (99.32(d)(1))")
    expect(table).to_contain_text("cps.pacing.ipr_warning_2w")
    check_widths(page, "disclosures-rows")
    page.get_by_label("Mask addresses (for a copy that leaves the office)").check()
    page.get_by_role("button", name="Show record").click()
    expect(table).to_contain_text("a***@family.example")
    expect(table).not_to_contain_text("ana@family.example")
