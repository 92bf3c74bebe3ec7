"""CSU Global Satisfactory Academic Progress — not implemented yet (csu.sap.evaluate, csu.sap.inactive_withdrawal).

Source: shared/seeds/003_87de092a038aeaf4.txt.
"""

from __future__ import annotations

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import RuleFamily

RULE_IDS: tuple[str, ...] = ()
TITLES: dict[str, str] = {}


def build(config: ProgramConfig) -> list[RuleFamily]:
    return []
