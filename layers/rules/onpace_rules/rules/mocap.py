"""Carthage R-9 / Missouri Course Access and Virtual School Program (MOCAP), catalogue section 4.

Source: shared/seeds/001_8e57e2cb68840ac6.txt (Regulation 6190). The families live in
``mocap_application`` (decision deadline, written denials), ``mocap_notices`` (guidance document),
``mocap_disenrollment`` (options letter, the block on the virtual school), ``mocap_payment``
(monthly payments) and ``mocap_attendance`` (A+ attendance, ADA share); this module is what the
registry sees.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import RuleFamily, RuleModule
from onpace_rules.rules.helpers import merged_params, validated
from onpace_rules.rules.mocap_application import DecisionDue, DecisionDueParams, DenialParams, DenialReason
from onpace_rules.rules.mocap_attendance import AdaParams, AdaShare, APlusAttendance, APlusParams
from onpace_rules.rules.mocap_common import (
    A_PLUS,
    ADA,
    DECISION_DUE,
    DENIAL_REASON,
    DISENROLLMENT,
    GUIDANCE,
    PAYMENT,
)
from onpace_rules.rules.mocap_disenrollment import DisenrollmentLetter, DisenrollmentParams, SchoolBlock
from onpace_rules.rules.mocap_notices import Guidance, GuidanceParams
from onpace_rules.rules.mocap_payment import PaymentParams, PaymentSchedule

RULE_IDS: tuple[str, ...] = (DECISION_DUE, DENIAL_REASON, GUIDANCE, DISENROLLMENT, PAYMENT, A_PLUS, ADA)
TITLES: dict[str, str] = {
    DECISION_DUE: "Application decision due in 10 business days (reminders, overdue alert)",
    DENIAL_REASON: "Written good-cause denial letter",
    GUIDANCE: "Virtual School Guidance document to families",
    DISENROLLMENT: "Disenrolled from a full-time virtual school: District options",
    PAYMENT: "Monthly prorated course payment",
    A_PLUS: "A+ candidate: attribute at least 95 % attendance",
    ADA: "Part-time student's ADA share",
}


ParamsT = TypeVar("ParamsT", bound=BaseModel)


def _params(config: ProgramConfig, model: type[ParamsT], rule_id: str) -> ParamsT:
    return validated(model, merged_params(config.rules, (rule_id,)), rule_id)


def build(config: ProgramConfig) -> list[RuleFamily]:
    """One family per enabled rule id. The disenrollment block runs first: on the day it ends
    a course, the other families' notices of that day no longer apply (engine.py)."""
    return [
        family(params=_params(config, params, rule_id))
        for rule_id, family, params in _FAMILIES
        if rule_id in config.rules
    ]


# (rule id, family, its parameters), in the order the families run.
_FAMILIES: tuple[tuple[str, Any, type[BaseModel]], ...] = (
    (DISENROLLMENT, SchoolBlock, DisenrollmentParams),
    (DISENROLLMENT, DisenrollmentLetter, DisenrollmentParams),
    (DECISION_DUE, DecisionDue, DecisionDueParams),
    (DENIAL_REASON, DenialReason, DenialParams),
    (GUIDANCE, Guidance, GuidanceParams),
    (PAYMENT, PaymentSchedule, PaymentParams),
    (A_PLUS, APlusAttendance, APlusParams),
    (ADA, AdaShare, AdaParams),
)


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    # Notices to the district administrator only (no family notice, no contact person needed).
    staff_only=frozenset({DECISION_DUE, PAYMENT, A_PLUS, ADA}),
)
