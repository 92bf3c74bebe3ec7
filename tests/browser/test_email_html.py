"""Every golden HTML email, in every language, as a phone and a desktop mail client would lay it out.

The golden files (``tests/golden/emails/{language}/*.html``, written by
``scripts/golden_emails.py``) are exactly what the notify function sends. Each is loaded into
headless Chromium at a phone width (390 px) and a desktop width (1280 px), with every network
request refused (an email must not need one: no remote images, fonts or trackers). It must fit
the width without horizontal scrolling, show nothing outside it, keep its text readable and its
deadline box visible; the screenshot of each is kept in ``build/test-artifacts/emails/`` for
review.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "emails"
EMAILS = sorted(GOLDEN.glob("*/*.html"))
WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}
SHOTS = ARTIFACTS / "emails"
# Smallest text a reader can take in without zooming: body copy 16 px, the footer's fine print 12.
MIN_FONT_PX = 12

# What the page measures: overflow, the smallest text, the deadline boxes.
MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const outside = [];
  let smallest = 1000;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > width + 1 || box.left < -1) {
      outside.push(el.tagName + ' ' + (el.textContent || '').slice(0, 40));
    }
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize));
  }
  const boxes = Array.from(document.querySelectorAll('table[role=presentation] strong')).map(s => {
    const b = s.getBoundingClientRect();
    return {text: s.textContent, visible: b.width > 0 && b.height > 0 && b.right <= width + 1};
  });
  return {
    scrollWidth: document.documentElement.scrollWidth, width, outside, smallest, boxes,
    lang: document.documentElement.lang, title: document.title,
  };
}"""


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.fixture(scope="module", params=sorted(WIDTHS))
def mail_client(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page, list[str]]]:
    """A tab of the given width that refuses (and records) every network request."""
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=True)
    tab = context.new_page()
    requested: list[str] = []

    def refuse(route: Route) -> None:
        requested.append(route.request.url)
        route.abort()

    tab.route("**/*", refuse)
    try:
        yield request.param, tab, requested
    finally:
        context.close()


def test_there_are_golden_emails_in_every_language() -> None:
    languages = {path.parent.name for path in EMAILS}
    assert {"en", "es"} <= languages
    counts = {lang: sum(1 for p in EMAILS if p.parent.name == lang) for lang in languages}
    assert len(set(counts.values())) == 1, f"every language has the same emails: {counts}"


@pytest.mark.parametrize("path", EMAILS, ids=_id)
def test_email_fits_the_screen_and_stays_readable(
    path: Path, mail_client: tuple[str, Page, list[str]]
) -> None:
    width_name, tab, requested = mail_client
    requested.clear()
    tab.set_content(path.read_text(encoding="utf-8"), wait_until="load")
    found: dict[str, Any] = tab.evaluate(MEASURE)

    shot = SHOTS / path.parent.name / f"{path.stem}.{width_name}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(shot), full_page=True)

    sideways = found["scrollWidth"]
    assert sideways <= found["width"], f"scrolls sideways at {width_name}: {sideways}px"
    assert found["outside"] == [], f"cut off at {width_name}: {found['outside'][:3]}"
    assert found["smallest"] >= MIN_FONT_PX, f"text of {found['smallest']}px"
    assert all(box["visible"] for box in found["boxes"]), f"a deadline box is hidden: {found['boxes']}"
    assert found["lang"] == path.parent.name, "the html lang attribute names the email's language"
    assert found["title"].strip(), "a title for mail clients that show one"
    assert requested == [], f"the email loads remote content: {requested}"
    assert shot.stat().st_size > 1000
