"""Retake the README's console screenshot from a real ``onpace demo``.

    .venv/bin/python scripts/console_screenshot.py [--port 8377] [--output docs/images/console-audit.png]

Starts the demo (which replays the term and then serves the console), signs in as the demo's
district admin through the local identity provider's form in headless Chromium, opens the audit
log and saves a 1280 px wide screenshot of its first screen. Stops the demo afterwards.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8377, help="the console's port (default 8377)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "images" / "console-audit.png")
    parser.add_argument("--view", default="audit", help="the view to show (default audit)")
    args = parser.parse_args()
    demo = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "onpace"), "demo", "--port", str(args.port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    url = email = password = None
    try:
        for line in demo.stdout:
            print(line, end="", file=sys.stderr)
            if found := re.match(r"Console: (\S+)", line):
                url = found.group(1)
            if url and (found := re.match(r"\s+(admin@\S+)\s+password (\S+)", line)):
                email, password = found.group(1), found.group(2)
                break
        if not (url and email and password):
            print("the demo did not print its console and sign-in", file=sys.stderr)
            return 1
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}#/{args.view}")
            page.get_by_test_id("sign-in").click()
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=60_000)
            page.wait_for_load_state("networkidle")
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output))
            browser.close()
        print(f"saved {args.output}", file=sys.stderr)
        return 0
    finally:
        demo.terminate()
        demo.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
