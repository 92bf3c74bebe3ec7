"""Enrollment checks (CPS add window, MSC caps) — not implemented yet (cps.enrollment.add_window, msc.enrollment.caps).

Source: shared/seeds/000 and 004.
"""

from __future__ import annotations

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import RuleFamily

RULE_IDS: tuple[str, ...] = ()
TITLES: dict[str, str] = {}


def build(config: ProgramConfig) -> list[RuleFamily]:
    return []
