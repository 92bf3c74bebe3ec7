"""docs/notices.md against the code: the deadline names it lists are the calendar's, and the
rules it names exist and state no other deadline name."""

from __future__ import annotations

import re
from pathlib import Path

from onpace_core.notices.deadline_calendar import DEADLINE_MEANINGS, NOT_DEADLINES
from onpace_rules.registry import IMPLEMENTED_RULE_IDS

NAME = re.compile(r"`([a-z_.0-9]+)`")


def _table(text: str, first_header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header row starts with ``first_header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_deadline_tables_match_the_calendar_code(repo_root: Path) -> None:
    text = (repo_root / "docs" / "notices.md").read_text(encoding="utf-8")
    titled = {NAME.findall(name)[0]: title for name, title in _table(text, "deadline")}
    assert titled == DEADLINE_MEANINGS
    skipped = {
        n for row in _table(text, "date, no calendar entry (`NOT_DEADLINES`)") for n in NAME.findall(row[0])
    }
    assert skipped == NOT_DEADLINES

    by_rule = {NAME.findall(row[0])[0]: set(NAME.findall(row[1])) for row in _table(text, "rule")}
    assert len(by_rule) >= 15
    assert set(by_rule) <= IMPLEMENTED_RULE_IDS, sorted(set(by_rule) - IMPLEMENTED_RULE_IDS)
    # Every name is stated by some rule, and no rule states a name the calendar does not classify.
    assert set().union(*by_rule.values()) == set(DEADLINE_MEANINGS) | NOT_DEADLINES


# Where rule code names a deadline: ``deadlines["x"] = ...``, a ``deadlines`` dict literal (also
# in ``block_deadlines``), or the inactivity families' ``action_deadline="x"``.
_ASSIGNED = re.compile(r'deadlines\["(\w+)"\]')
_LITERAL = re.compile(
    r"(?:deadlines\s*=\s*\(?\s*|def block_deadlines.*?return\s*(?=\{\"))\{([^}]*)\}", re.DOTALL
)
_KEY = re.compile(r'(?:"(\w+)"|\b([A-Z][A-Z_]+))\s*:')
_ACTION = re.compile(r'action_deadline="(\w+)"')


def _stated_in_code(rules_dir: Path) -> set[str]:
    import importlib

    found: set[str] = set()
    for path in sorted(rules_dir.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        found |= set(_ASSIGNED.findall(source)) | set(_ACTION.findall(source))
        for body in _LITERAL.findall(source):
            for literal, constant in _KEY.findall(body):
                if constant:  # a module constant such as chicago.MEETING_EARLIEST
                    literal = getattr(importlib.import_module(f"onpace_rules.rules.{path.stem}"), constant)
                found.add(literal)
    return found


def test_every_deadline_name_in_the_rules_is_classified(repo_root: Path) -> None:
    stated = _stated_in_code(repo_root / "layers" / "rules" / "onpace_rules" / "rules")
    assert {"appeal", "block_end", "meeting_earliest", "withdrawal", "extension_end"} <= stated
    assert stated == set(DEADLINE_MEANINGS) | NOT_DEADLINES


def test_recheck_table_lists_exactly_the_warnings_the_engine_rechecks(repo_root: Path) -> None:
    from onpace_rules.registry import WARNING_RULE_IDS

    text = (repo_root / "docs" / "notices.md").read_text(encoding="utf-8")
    listed = {n for row in _table(text, "rule id") for n in NAME.findall(row[0])}
    assert listed == WARNING_RULE_IDS
