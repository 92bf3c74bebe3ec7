"""Headless Chromium for the browser tests: Debian's build, which ``make test`` installs
(``scripts/ensure-chromium.sh``), driven by Playwright. A missing browser fails the tests: it is
part of what the suite checks, not an optional extra."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from onpace_local.gateway import GatewayHandle
from onpace_local.identity_provider import LocalUser
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = os.environ.get("ONPACE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Where browser tests keep what a reviewer looks at (screenshots); ``build/`` is not committed.
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: run `make test` (it installs it)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# ---------------------------------------------------------------------------------------------
# The console: a signed-in page, and axe-core.

AXE_JS = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
#: Widths every console view is checked at (phone, laptop, desktop).
WIDTHS = (390, 1280, 1920)


@pytest.fixture
def page_errors() -> list[str]:
    """What the page reported as errors (script errors, console errors); must stay empty."""
    return []


@pytest.fixture
def page(browser: Browser, page_errors: list[str]) -> Iterator[Page]:
    """A fresh tab (its own context: its own sessionStorage) that must log no errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.on("pageerror", lambda error: page_errors.append(str(error)))
    tab.on("console", lambda message: page_errors.append(message.text) if message.type == "error" else None)
    try:
        yield tab
    finally:
        context.close()
    assert page_errors == [], f"the page logged errors: {page_errors}"


def sign_in_in_page(page: Page, console_url: str, user: LocalUser) -> None:
    """Sign ``user`` in through the shell's real flow: Sign in, the identity provider's form,
    back to the shell with its code (PKCE exchange in the page's script)."""
    page.goto(console_url)
    page.get_by_test_id("sign-in").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=30_000)


@pytest.fixture
def signed_in_page(page: Page, console_gateway: GatewayHandle) -> Callable[..., Page]:
    """``signed_in_page(*districts, view="audit")``: ``page`` signed in, through the local
    identity provider's form, as a new admin of ``districts``, showing ``#/<view>``."""
    provider = console_gateway.identity_provider
    assert provider is not None

    def open_as(*districts: str, view: str = "audit") -> Page:
        user = provider.add_user(f"browser-{uuid.uuid4().hex[:8]}@example.org", districts)
        sign_in_in_page(page, f"{console_gateway.url}/console#/{view}", user)
        return page

    return open_as


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now, of the given impacts (axe_playwright_python's
    bundled ``axe.min.js``, evaluated through the DevTools protocol: a script tag would be, rightly,
    refused by the console's CSP)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS + "\n;true")
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_accessible(page: Page, what: str) -> None:
    """No serious or critical axe-core violation, and no horizontal scroll, at the page's width."""
    violations = axe_violations(page)
    described = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]
    assert not violations, f"{what}: axe-core reports\n  " + "\n  ".join(described)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate(_WIDE_ELEMENTS)
        raise AssertionError(
            f"{what}: horizontal scroll ({widths[0]} px wide in {widths[1]} px); too wide: {wide}"
        )


# The innermost elements reaching past the viewport's right edge (what makes it scroll).
_WIDE_ELEMENTS = """() => {
  const limit = window.innerWidth + 0.5;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node && found.length < 5; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const rect = node.nodeType === 1 ? node.getBoundingClientRect() : range.getBoundingClientRect();
    if (rect.right <= limit) continue;
    const element = node.nodeType === 1 ? node : node.parentElement;
    const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
      + (element.className ? '.' + String(element.className).split(' ').join('.') : '');
    found.push((node.nodeType === 3 ? 'text in ' : '') + name + ' to ' + Math.round(rect.right) + 'px');
  }
  return found;
}"""
