"""Carthage R-9 / Missouri MOCAP — not implemented yet (mocap.application.decision_due, mocap.application.denial_reason, mocap.notice.guidance, mocap.disenrollment.options, mocap.payment.schedule, mocap.attendance.a_plus, mocap.attendance.ada).

Source: shared/seeds/001_8e57e2cb68840ac6.txt.
"""

from __future__ import annotations

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import RuleFamily

RULE_IDS: tuple[str, ...] = ()
TITLES: dict[str, str] = {}


def build(config: ProgramConfig) -> list[RuleFamily]:
    return []
