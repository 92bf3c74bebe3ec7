"""CPS Online failure-to-thrive eligibility block — not implemented yet (cps.eligibility.failure_to_thrive).

Source: shared/seeds/000_bc3aac7a290565fd.txt.
"""

from __future__ import annotations

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import RuleFamily

RULE_IDS: tuple[str, ...] = ()
TITLES: dict[str, str] = {}


def build(config: ProgramConfig) -> list[RuleFamily]:
    return []
