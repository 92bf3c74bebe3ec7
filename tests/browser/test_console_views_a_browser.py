"""The Students, Student timeline, email-as-sent and Audit log views in headless Chromium.

Against the running local stack (local gateway, real console function, moto server), signed in
through the local identity provider's form: search a student by name, open the timeline, view an
email as sent (the iframe's content checked), filter the audit log, export CSV (the download's
rows checked). Every view at 390, 1280 and 1920 px: no horizontal scroll, no clipped or covered
control, no serious or critical axe-core violation; screenshots in build/test-artifacts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from onpace_core.audit.log import read
from onpace_local.stack import LocalStack
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, WIDTHS, assert_accessible
from tests.console_views_seed import ViewsDistrict, seed_views_district

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "console-views-a"

# Every control of the header and the view: inside the viewport's width and, scrolled into
# view, the element found at its centre (not covered by another).
_CLIPPED = """() => {
  const width = window.innerWidth;
  const bad = [];
  const controls = document.querySelectorAll(
    'header a, header button, header select, #view a, #view button, #view input:not([type=hidden]), '
    + '#view select, #view summary');
  for (const el of controls) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    if (el.closest('details:not([open])') && el.tagName !== 'SUMMARY') continue;
    el.scrollIntoView({block: 'center', inline: 'nearest'});
    const box = el.getBoundingClientRect();
    const label = el.dataset.testid || el.id || el.textContent.trim().slice(0, 20);
    const name = el.tagName.toLowerCase() + '[' + label + ']';
    if (box.width === 0 || box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      bad.push(name + ' clipped ' + Math.round(box.left) + '..' + Math.round(box.right));
      continue;
    }
    const x = Math.min(Math.max(box.left + box.width / 2, 0), width - 1);
    const y = Math.min(Math.max(box.top + box.height / 2, 0), window.innerHeight - 1);
    const top = document.elementFromPoint(x, y);
    if (top && top !== el && !el.contains(top) && !top.contains(el)) {
      bad.push(name + ' covered by ' + top.tagName.toLowerCase());
    }
  }
  window.scrollTo(0, 0);
  return bad;
}"""


def check_every_width(page: Page, what: str, shot: str) -> None:
    """The page as it is, at each width: accessible, nothing scrolling sideways, nothing clipped."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"{what} at {width} px")
        assert page.evaluate(_CLIPPED) == [], f"{what} at {width} px"
        page.screenshot(path=str(SHOTS / f"{shot}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture(scope="module")
def seeded(local_stack: LocalStack, repo_root: Path) -> ViewsDistrict:
    return seed_views_district(local_stack, repo_root)


def _ready(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-state", "ready")


def _seqs(page: Page) -> list[int]:
    rows = page.get_by_test_id("audit-row").evaluate_all("rows => rows.map(r => r.dataset.seq)")
    return [int(s) for s in rows]


def _expected(seeded: ViewsDistrict, keep: Callable[[Any], bool]) -> list[int]:
    return [int(e.seq) for e in read(seeded.district, limit=1000) if keep(e)]


def test_find_a_student_by_name_open_the_timeline_and_see_the_email_as_sent(
    signed_in_page: Callable[..., Page], seeded: ViewsDistrict
) -> None:
    page = signed_in_page(seeded.district, view="students")
    check_every_width(page, "the students view, empty", "students-empty")
    # By keyboard: the labelled box, Enter submits.
    page.get_by_label("Name, email or student id").fill("ben ortiz")
    page.get_by_label("Name, email or student id").press("Enter")
    expect(page.get_by_test_id("student-result")).to_have_count(1)
    _ready(page)
    expect(page.get_by_test_id("student-result")).to_contain_text("English 10")
    check_every_width(page, "the students view with a result", "students-result")

    page.get_by_test_id("open-timeline").click()
    expect(page.get_by_test_id("timeline-student")).to_have_text("Ben Ortiz")
    _ready(page)
    expect(page.get_by_test_id("view")).to_contain_text("cps.pacing.ipr_warning_2w")
    expect(page.get_by_test_id("view-email")).to_have_count(2)
    check_every_width(page, "the timeline", "timeline")

    page.locator('[data-testid="view-email"][data-role="guardian"]').click()
    expect(page.get_by_test_id("email-sent")).to_be_visible()
    _ready(page)
    expect(page.get_by_test_id("email-sent")).to_contain_text("As sent (Spanish)")
    sent = page.frame_locator('[data-testid="sent-html"]')
    # The HTML as sent, in the frame: the greeting names the guardian, and its inline styles apply.
    expect(sent.locator("body")).to_contain_text("Rosa")
    background = sent.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(243, 244, 246)"
    expect(page.get_by_test_id("other-label")).to_have_text("rendered now, not sent")
    expect(page.frame_locator('[data-testid="other-html"]').locator("body")).to_contain_text("Rosa")
    check_every_width(page, "the email as sent", "email")


def test_filter_the_audit_log_export_csv_and_check_the_chain(
    signed_in_page: Callable[..., Page], seeded: ViewsDistrict
) -> None:
    page = signed_in_page(seeded.district, view="audit")
    expect(page.get_by_test_id("audit-row")).to_have_count(len(_expected(seeded, lambda e: True)))
    _ready(page)
    page.get_by_test_id("audit-detail").first.locator("summary").click()
    check_every_width(page, "the audit log", "audit")
    page.screenshot(path=str(SHOTS / "console-audit.png"))  # 1280 px, the first screen

    # A name that finds two students asks which.
    page.get_by_label("Student (name, email or id)").fill("Ortiz")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("choose-student")).to_have_count(2)
    _ready(page)
    check_every_width(page, "the audit log asking which student", "audit-which")
    page.get_by_test_id("choose-student").filter(has_text="Ben Ortiz").click()
    ben = _expected(seeded, lambda e: e.student_id == "stu-ben")
    expect(page.get_by_test_id("audit-row")).to_have_count(len(ben))
    assert _seqs(page) == ben

    # Class and delivery status.
    page.get_by_label("Student (name, email or id)").fill("")
    page.get_by_label("Class").select_option(label="English 10 Online")
    page.get_by_label("Delivery status").select_option("delivered")
    page.get_by_test_id("apply-filters").click()
    delivered = _expected(seeded, lambda e: e.class_id == "cls-eng10" and e.type == "delivery.delivered")
    expect(page.get_by_test_id("audit-row")).to_have_count(len(delivered))
    _ready(page)
    assert _seqs(page) == delivered
    expect(page.get_by_test_id("audit-row").first).to_contain_text("Ava Lee")

    # Export: the download holds the filtered rows.
    page.get_by_label("Delivery status").select_option("")
    page.get_by_test_id("apply-filters").click()
    eng10 = _expected(seeded, lambda e: e.class_id == "cls-eng10")
    expect(page.get_by_test_id("audit-row")).to_have_count(len(eng10))
    _ready(page)
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename == f"audit-{seeded.district}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [int(r["seq"]) for r in rows] == eng10 == _seqs(page)
    assert {r["class"] for r in rows} == {"English 10 Online"}

    page.get_by_test_id("verify-log").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-state", "intact")
