"""Golden files of the emails families and staff read: subject, text and HTML, byte for byte.

A change to a template or to what a rule records shows here as a diff of the email as sent.
After a deliberate change, ``ONPACE_UPDATE_GOLDEN=1 make unit ARGS=-k golden`` writes the new
files; review them in the commit like code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from onpace_core.notices.render import render
from onpace_core.store.models import Contact, OutboxModel

from tests.unit.golden_cases import golden_cases
from tests.unit.notices import outbox_notice

TEMPLATES = Path(__file__).resolve().parents[2] / "functions" / "notify" / "templates"
# The English set of ``scripts/golden_emails.py`` (which also writes every other language and a
# case per rule and role): these cases render in their own language, English, into the same files.
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "emails" / "en"
CASES = golden_cases()
UPDATE = os.environ.get("ONPACE_UPDATE_GOLDEN") == "1"


def _notice(case: dict[str, Any]) -> OutboxModel:
    return outbox_notice(case["rule_id"], **case["notice"])


def test_there_are_golden_cases() -> None:
    assert CASES, "no golden email cases found in tests/unit/golden_cases/"


def test_every_golden_file_has_a_case() -> None:
    """A stale file (its case renamed or removed) would pass unseen otherwise."""
    # rule.* files are one per template, digest.* the letters' (both made by scripts/golden_emails.py).
    stems = {
        p.name.split(".")[0] for p in GOLDEN_DIR.glob("*.*") if not p.name.startswith(("rule.", "digest."))
    }
    assert stems <= set(CASES), f"golden files without a case: {sorted(stems - set(CASES))}"


def test_golden_cases_render_in_english() -> None:
    """They share the English golden files with ``scripts/golden_emails.py``."""
    assert {c.get("language") or "en" for c in CASES.values()} == {"en"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_email_matches_its_golden_file(name: str) -> None:
    case = CASES[name]
    recipient = Contact(
        role=case["role"],
        address=case.get("address", f"{case['role']}@school.example.org"),
        name=case.get("name"),
        language=case.get("language"),
    )
    email = render(_notice(case), recipient, TEMPLATES, **case.get("render", {}))
    parts = {"subject.txt": email.subject + "\n", "txt": email.text, "html": email.html}
    for suffix, rendered in parts.items():
        path = GOLDEN_DIR / f"{name}.{suffix}"
        if UPDATE:
            path.write_text(rendered, encoding="utf-8")
            continue
        assert path.is_file(), f"{path} is missing: run with ONPACE_UPDATE_GOLDEN=1 and review it"
        assert rendered == path.read_text(encoding="utf-8"), f"{name}.{suffix} differs from its golden file"
