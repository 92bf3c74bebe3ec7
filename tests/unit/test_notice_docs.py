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
