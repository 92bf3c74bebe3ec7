"""Short human titles of rule ids, for audit summaries and the console."""

from __future__ import annotations

RULE_TITLES: dict[str, str] = {
    "cps.pacing.ipr_warning_2w": "Pacing warning, two weeks before IPR #1",
    "cps.pacing.ipr_warning_1w": "Pacing warning, one week before IPR #1",
    "cps.pacing.ipr_drop": "Pacing drop at IPR #1",
    "cps.participation.warning": "Participation warning (no submission)",
    "cps.participation.drop_20d": "Participation drop after 20 school days",
    "csu.engagement.at_risk_14d": "At-Risk email after 14 days without engagement",
    "csu.engagement.withdraw_21d": "Administrative withdrawal after 21 days without engagement",
    "msc.progress.step1_contact": "Instructor contact prompt (progress step 1)",
    "msc.progress.step2_reminder": "Progress reminder (step 2)",
    "msc.progress.step3_removal_notice": "Removal notice (progress step 3)",
    "msc.progress.step4_removal": "Administrative removal (progress step 4)",
}


def rule_title(rule_id: str) -> str:
    return RULE_TITLES.get(rule_id, rule_id)
