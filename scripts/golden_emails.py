"""Golden files of every golden email case in every shipped language: subject, text and HTML.

    python scripts/golden_emails.py            # exit 1 and name the files that differ
    python scripts/golden_emails.py --update   # write them (review the diff like code)

Files: ``tests/golden/emails/{language}/{case}.{subject.txt,txt,html}``. The cases are those of
``tests/unit/golden_cases`` with the recipient's language replaced, and, so that every template
has its files, every rule of ``tests/unit/test_render.py`` (``rule.{rule_id}.{role}``) for each
role it is rendered for there, and the two digests of ``tests/unit/letter_cases.py``
(``digest.family.guardian``, ``digest.instructor.instructor``). Rendering has no clock, so the
files are deterministic.
``tests/unit/test_i18n.py`` runs the comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for sub in ("layers/rules", "layers/core", "."):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

from onpace_core.delivery.letters import letter_item, plan_letters  # noqa: E402
from onpace_core.notices.digest import render_digest  # noqa: E402
from onpace_core.notices.render import RenderedEmail, render  # noqa: E402
from onpace_core.store.models import Contact  # noqa: E402

from tests.unit.golden_cases import golden_cases  # noqa: E402
from tests.unit.letter_cases import CREATED, GUARDIAN, TEACHER, household_notices  # noqa: E402
from tests.unit.notices import outbox_notice  # noqa: E402
from tests.unit.test_render import CASES as RULE_CASES  # noqa: E402
from tests.unit.test_render import make_notice  # noqa: E402

TEMPLATES = ROOT / "functions" / "notify" / "templates"
GOLDEN_DIR = ROOT / "tests" / "golden" / "emails"
LANGUAGES = ("en", "es")


def rendered_files(language: str) -> dict[Path, str]:
    """Every golden file of ``language``, as the templates and catalogues render it now."""
    files: dict[Path, str] = {}
    for name, case in sorted(golden_cases().items()):
        recipient = Contact(
            role=case["role"],
            address=case.get("address", f"{case['role']}@school.example.org"),
            name=case.get("name"),
            language=language,
        )
        notice: dict[str, Any] = dict(case["notice"])
        extra = case.get("render", {})
        email = render(outbox_notice(case["rule_id"], **notice), recipient, TEMPLATES, **extra)
        _add(files, language, name, email)
    for rule_id, rule_case in sorted(RULE_CASES.items()):
        student_wide = {"class_id": "*", "class_title": ""} if rule_case.get("student_wide") else {}
        for role in rule_case.get("roles", ("student", "guardian")):
            recipient = Contact(role=role, address=f"{role}@school.example.org", language=language)
            _add(
                files,
                language,
                f"rule.{rule_id}.{role}",
                render(make_notice(rule_id, **student_wide), recipient, TEMPLATES),
            )
    plans = {plan.address.lower(): plan for plan in plan_letters(household_notices(language=language))}
    for name, address in (("digest.family.guardian", GUARDIAN), ("digest.instructor.instructor", TEACHER)):
        plan = plans[address]
        letter = letter_item(plan, f"letter#golden#{name}", CREATED)
        members = [(m.notice, m.contact) for m in plan.members]
        recipient = Contact(role=plan.members[0].contact.role, address=address, language=language)
        _add(files, language, name, render_digest(letter, members, recipient, TEMPLATES))
    return files


def _add(files: dict[Path, str], language: str, name: str, email: RenderedEmail) -> None:
    folder = GOLDEN_DIR / language
    files[folder / f"{name}.subject.txt"] = email.subject + "\n"
    files[folder / f"{name}.txt"] = email.text
    files[folder / f"{name}.html"] = email.html


def differences(language: str) -> list[str]:
    """The files of ``language`` that are missing, stale or differ from what renders now."""
    expected = rendered_files(language)
    out = [
        str(path.relative_to(ROOT))
        for path, text in expected.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    folder = GOLDEN_DIR / language
    if folder.is_dir():
        out += [str(p.relative_to(ROOT)) for p in sorted(folder.iterdir()) if p not in expected]
    return out


def update(language: str) -> None:
    folder = GOLDEN_DIR / language
    folder.mkdir(parents=True, exist_ok=True)
    expected = rendered_files(language)
    for path in folder.iterdir():
        if path not in expected:
            path.unlink()
    for path, text in expected.items():
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--update", action="store_true", help="write the golden files")
    args = parser.parse_args(argv)
    if args.update:
        for language in LANGUAGES:
            update(language)
        return 0
    stale = [path for language in LANGUAGES for path in differences(language)]
    for path in stale:
        print(f"differs: {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
