"""Which rule ids exist, and how a program's ``rules:`` section becomes rule families.

A rule id that the program names but this module does not know is a load-time error: a program
must never believe a rule is on when nothing applies it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from onpace_rules.program import ProgramConfig
from onpace_rules.rules import ladder, pacing
from onpace_rules.rules.base import RuleFamily
from onpace_rules.rules.inactivity import InactivityParams, InactivitySeries

CSU_AT_RISK = "csu.engagement.at_risk_14d"
CSU_WITHDRAW = "csu.engagement.withdraw_21d"
CPS_PARTICIPATION_WARNING = "cps.participation.warning"
CPS_PARTICIPATION_DROP = "cps.participation.drop_20d"

CSU_ENGAGEMENT = frozenset(
    {"submission", "mastery_exercise", "discussion_post", "discussion_reply", "forum_question"}
)


class UnknownRuleError(ValueError):
    pass


def _params(model: type[BaseModel], overrides: Mapping[str, Any], where: str) -> Any:
    try:
        return model.model_validate(dict(overrides))
    except ValidationError as exc:
        raise ValueError(f"parameters of {where}: {exc}") from exc


def _merged(rules: Mapping[str, Mapping[str, Any]], ids: tuple[str, ...]) -> dict[str, Any]:
    """Family parameters may be set on any of its rule ids; later ids win on conflicts."""
    merged: dict[str, Any] = {}
    for rule_id in ids:
        merged.update(rules.get(rule_id) or {})
    return merged


def _pacing(config: ProgramConfig) -> RuleFamily | None:
    enabled = frozenset(config.rules) & frozenset(pacing.FAMILY_RULE_IDS)
    if not enabled:
        return None
    params = _params(pacing.PacingParams, _merged(config.rules, pacing.FAMILY_RULE_IDS), "cps.pacing.*")
    return pacing.PacingCheckpoint(enabled=enabled, params=params)


def _csu_engagement(config: ProgramConfig) -> RuleFamily | None:
    ids = (CSU_AT_RISK, CSU_WITHDRAW)
    if not frozenset(config.rules) & frozenset(ids):
        return None
    merged = {"warning_day": 14, "action_day": 21} | _merged(config.rules, ids)
    return InactivitySeries(
        warning_id=CSU_AT_RISK if CSU_AT_RISK in config.rules else None,
        action_id=CSU_WITHDRAW if CSU_WITHDRAW in config.rules else None,
        kinds=CSU_ENGAGEMENT,  # type: ignore[arg-type]
        unit="calendar",
        params=_params(InactivityParams, merged, "csu.engagement.*"),
        warning_recipients=("student",),
        action_recipients=("student", "advisor"),
        action_status="withdrawn",
        action_deadline="withdrawal",
    )


def _cps_participation(config: ProgramConfig) -> RuleFamily | None:
    ids = (CPS_PARTICIPATION_WARNING, CPS_PARTICIPATION_DROP)
    if not frozenset(config.rules) & frozenset(ids):
        return None
    merged = {"warning_day": 15, "action_day": 20} | _merged(config.rules, ids)
    appeal = int(merged.pop("appeal_window_school_days", 2))
    return InactivitySeries(
        warning_id=CPS_PARTICIPATION_WARNING if CPS_PARTICIPATION_WARNING in config.rules else None,
        action_id=CPS_PARTICIPATION_DROP if CPS_PARTICIPATION_DROP in config.rules else None,
        kinds=frozenset({"submission"}),
        unit="school",
        params=_params(InactivityParams, merged, "cps.participation.*"),
        warning_recipients=("student", "guardians"),
        action_recipients=("student", "guardians", "counselor"),
        action_status="dropped",
        action_deadline="drop",
        appeal_window_school_days=appeal,
    )


def _msc_ladder(config: ProgramConfig) -> RuleFamily | None:
    enabled = frozenset(config.rules) & frozenset(ladder.FAMILY_RULE_IDS)
    if not enabled:
        return None
    params = _params(ladder.LadderParams, _merged(config.rules, ladder.FAMILY_RULE_IDS), "msc.progress.*")
    return ladder.ProgressLadder(enabled=enabled, params=params)


FAMILY_BUILDERS: tuple[Callable[[ProgramConfig], RuleFamily | None], ...] = (
    _pacing,
    _cps_participation,
    _csu_engagement,
    _msc_ladder,
)

IMPLEMENTED_RULE_IDS: frozenset[str] = frozenset(
    pacing.FAMILY_RULE_IDS
    + ladder.FAMILY_RULE_IDS
    + (CSU_AT_RISK, CSU_WITHDRAW, CPS_PARTICIPATION_WARNING, CPS_PARTICIPATION_DROP)
)


def build_families(config: ProgramConfig) -> tuple[RuleFamily, ...]:
    unknown = sorted(set(config.rules) - IMPLEMENTED_RULE_IDS)
    if unknown:
        raise UnknownRuleError(
            f"program {config.key}: rule ids not implemented: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(IMPLEMENTED_RULE_IDS))})"
        )
    families = (build(config) for build in FAMILY_BUILDERS)
    return tuple(f for f in families if f is not None)
