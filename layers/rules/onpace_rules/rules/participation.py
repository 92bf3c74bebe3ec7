"""CPS Online participation: a courtesy warning at school day 15 without a submission, the drop at 20.

Source: shared/seeds/000_bc3aac7a290565fd.txt — "Students will be dropped from a CPS Online course
after 20 consecutive days of non-attendance ... must log and submit at least one assignment IN
EACH COURSE"; appeal: "a two school-day window in which to appeal". Catalogue section 1:
``cps.participation.warning`` (not in the source; on by default) and ``cps.participation.drop_20d``.
"""

from __future__ import annotations

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import RuleFamily, RuleModule
from onpace_rules.rules.helpers import merged_params, validated
from onpace_rules.rules.inactivity import InactivityParams, InactivitySeries

WARNING = "cps.participation.warning"
DROP = "cps.participation.drop_20d"
RULE_IDS = (WARNING, DROP)
TITLES = {
    WARNING: "Participation warning (no submission)",
    DROP: "Participation drop after 20 school days",
}


def build(config: ProgramConfig) -> list[RuleFamily]:
    if not frozenset(config.rules) & frozenset(RULE_IDS):
        return []
    merged = {"warning_day": 15, "action_day": 20} | merged_params(config.rules, RULE_IDS)
    # The catalogue's parameter names, accepted beside the generic ones.
    if "participation_warning_school_days" in merged:
        merged["warning_day"] = merged.pop("participation_warning_school_days")
    if "participation_drop_school_days" in merged:
        merged["action_day"] = merged.pop("participation_drop_school_days")
    appeal = int(merged.pop("appeal_window_school_days", 2))
    return [
        InactivitySeries(
            warning_id=WARNING if WARNING in config.rules else None,
            action_id=DROP if DROP in config.rules else None,
            kinds=frozenset({"submission"}),
            unit="school",
            params=validated(InactivityParams, merged, "cps.participation.*"),
            warning_recipients=("student", "guardians"),
            action_recipients=("student", "guardians", "counselor"),
            action_status="dropped",
            action_deadline="drop",
            appeal_window_school_days=appeal,
        )
    ]


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    warnings=frozenset({WARNING}),
)
