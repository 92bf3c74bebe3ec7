"""docs/policies.md against the catalogue (shared/design/policies.md): no rule id missing.

Acceptance of the policy-engine issue: "docs/policies.md lists every rule id with the code that
implements it, the seed sentence it comes from and the tests that cover it; no rule id of the
catalogue is missing."
"""

from __future__ import annotations

import re
from pathlib import Path

from onpace_rules.registry import IMPLEMENTED_RULE_IDS

# A catalogue table row starts with its rule id in backticks.
ROW = re.compile(r"^\|\s*`(?P<rule>[a-z0-9_]+(?:\.[a-z0-9_]+){2})`\s*\|(?P<rest>.*)$", re.MULTILINE)


def _rows(text: str) -> dict[str, list[str]]:
    return {
        m["rule"]: [cell.strip() for cell in m["rest"].rstrip().rstrip("|").split("|")]
        for m in ROW.finditer(text)
    }


def _catalogue(shared_dir: Path) -> set[str]:
    rules = set(_rows((shared_dir / "design" / "policies.md").read_text(encoding="utf-8")))
    assert len(rules) >= 30, sorted(rules)  # the five programs' tables were read
    return rules


def test_every_catalogue_rule_id_is_implemented(shared_dir: Path) -> None:
    assert _catalogue(shared_dir) - IMPLEMENTED_RULE_IDS == set()


def test_docs_list_every_catalogue_rule_id_with_code_source_and_tests(
    shared_dir: Path, repo_root: Path
) -> None:
    documented = _rows((repo_root / "docs" / "policies.md").read_text(encoding="utf-8"))
    missing = _catalogue(shared_dir) - set(documented)
    assert missing == set()
    tests = {p.name for p in (repo_root / "tests").rglob("test_*.py")}
    for rule, cells in documented.items():
        assert len(cells) == 3 and all(cells), (rule, cells)  # code | source sentence | tests
        code, _source, covered = cells
        assert ".py" in code, (rule, code)
        if covered != "same":  # "same" as the row above
            named = set(re.findall(r"test_[a-z0-9_]+\.py", covered))
            assert named and named <= tests, (rule, sorted(named - tests))


def test_docs_list_no_rule_id_the_engine_does_not_have(repo_root: Path) -> None:
    documented = set(_rows((repo_root / "docs" / "policies.md").read_text(encoding="utf-8")))
    assert documented - IMPLEMENTED_RULE_IDS == set()
