"""MSC Online withdraw window, extensions, grade verification — not implemented yet (msc.enrollment.withdraw_window, msc.extension.eligibility, msc.grades.verification_window).

Source: shared/seeds/004_50d77f9850a1db80.txt.
"""

from __future__ import annotations

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import RuleFamily

RULE_IDS: tuple[str, ...] = ()
TITLES: dict[str, str] = {}


def build(config: ProgramConfig) -> list[RuleFamily]:
    return []
