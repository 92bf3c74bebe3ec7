"""Chicago Public Schools communication policy — not implemented yet (cps_chicago.channel.district_email_only, cps_chicago.meeting.one_on_one).

Source: shared/seeds/002_4a577e05e1a1fcf6.txt.
"""

from __future__ import annotations

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import RuleFamily

RULE_IDS: tuple[str, ...] = ()
TITLES: dict[str, str] = {}


def build(config: ProgramConfig) -> list[RuleFamily]:
    return []
