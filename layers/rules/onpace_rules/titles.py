"""Short human titles of rule ids, for audit summaries and the console."""

from __future__ import annotations

from onpace_rules.registry import RULE_TITLES


def rule_title(rule_id: str) -> str:
    return RULE_TITLES.get(rule_id, rule_id)
