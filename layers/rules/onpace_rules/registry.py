"""Which rule ids exist, and how a program's ``rules:`` section becomes rule families.

Each module under ``onpace_rules/rules/`` that implements catalogue rules declares itself in one
``RuleModule`` named ``MODULE``: its rule ids and titles, ``build(config)`` giving its rule
families, and, when it has them, filters and state adjusters (``rules/contract.py``). The order
of ``RULE_MODULES`` is the order families run in.

A rule id that the program names but no module knows is a load-time error: a program must never
believe a rule is on when nothing applies it.
"""

from __future__ import annotations

from difflib import get_close_matches

from onpace_rules.program import ProgramConfig
from onpace_rules.rules import (
    chicago,
    data_alerts,
    eligibility,
    engagement,
    enrollment_checks,
    ladder,
    late,
    mocap,
    msc_course,
    pacing,
    participation,
    sap,
    seniors,
)
from onpace_rules.rules.contract import DecisionFilter, RuleFamily, RuleModule, StateAdjuster

RULE_MODULES: tuple[RuleModule, ...] = (
    enrollment_checks.MODULE,
    seniors.MODULE,
    eligibility.MODULE,
    pacing.MODULE,
    participation.MODULE,
    engagement.MODULE,
    ladder.MODULE,
    msc_course.MODULE,
    sap.MODULE,
    late.MODULE,
    mocap.MODULE,
    chicago.MODULE,
    data_alerts.MODULE,
)


class UnknownRuleError(ValueError):
    pass


IMPLEMENTED_RULE_IDS: frozenset[str] = frozenset(r for m in RULE_MODULES for r in m.rule_ids)
RULE_TITLES: dict[str, str] = {k: v for m in RULE_MODULES for k, v in m.titles.items()}
# Rules that never address anyone (records on the enrollment, date modifiers): no email templates.
SILENT_RULE_IDS: frozenset[str] = frozenset(r for m in RULE_MODULES for r in m.silent)
EMAILED_RULE_IDS: frozenset[str] = IMPLEMENTED_RULE_IDS - SILENT_RULE_IDS
# Emailed rules that write to staff only (a module lists them in ``staff_only``); every other
# emailed rule can write to a student or a family, and so needs the program's ``notices``.
STAFF_ONLY_RULE_IDS: frozenset[str] = frozenset(r for m in RULE_MODULES for r in m.staff_only)
FAMILY_NOTICE_RULE_IDS: frozenset[str] = EMAILED_RULE_IDS - STAFF_ONLY_RULE_IDS
# Warnings re-checked just before they are sent (``onpace_rules.recheck``); every other notice
# (actions, approval requests, data alerts) is sent as decided.
WARNING_RULE_IDS: frozenset[str] = frozenset(r for m in RULE_MODULES for r in m.warnings)


def family_rules(config: ProgramConfig) -> list[str]:
    """Rule ids of ``config`` (any policy version) whose notices can reach a student or a family."""
    named = set(config.rules) | {r for v in config.versions for r, p in v.rules.items() if p is not None}
    return sorted(named & FAMILY_NOTICE_RULE_IDS)


def check_notice_settings(config: ProgramConfig) -> None:
    """Refuse a program whose family notices would name no one to contact.

    Catalogue "Recipients and contact data": "Every notice to a family names a person to contact,
    with name and address … and replies go to that person (Reply-To)", signed with the program's
    and district's names. A program that writes to families must therefore say who signs and
    who the program contact is (``notices``); a staff-only program need not.
    """
    if config.notices is not None:
        return
    found = family_rules(config)
    if found:
        raise ValueError(
            f"program {config.key}: notices is required because {', '.join(found)} "
            "write(s) to students or families; add notices: {program_name, district_name, "
            "contact: {name, address}} (who signs, and whom families can reply to)"
        )


def build_families(config: ProgramConfig) -> tuple[RuleFamily, ...]:
    unknown = sorted(set(config.rules) - IMPLEMENTED_RULE_IDS)
    if unknown:
        hints = []
        for rule_id in unknown:
            close = get_close_matches(rule_id, sorted(IMPLEMENTED_RULE_IDS), n=1)
            hints.append(f"{rule_id} (did you mean {close[0]}?)" if close else rule_id)
        raise UnknownRuleError(
            f"program {config.key}: unknown rule id(s): {', '.join(hints)}; "
            "the catalogue's rule ids are listed in docs/policies.md"
        )
    families: list[RuleFamily] = []
    for module in RULE_MODULES:
        families.extend(module.build(config))
    return tuple(families)


def build_filters(config: ProgramConfig) -> tuple[DecisionFilter, ...]:
    filters: list[DecisionFilter] = []
    for module in RULE_MODULES:
        filters.extend(module.build_filters(config))
    return tuple(filters)


def build_adjusters(config: ProgramConfig) -> tuple[StateAdjuster, ...]:
    adjusters: list[StateAdjuster] = []
    for module in RULE_MODULES:
        adjusters.extend(module.build_adjusters(config))
    return tuple(adjusters)
