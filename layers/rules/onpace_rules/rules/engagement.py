"""CSU Global engagement: the At-Risk email at day 14 without engagement, withdrawal at day 21.

Source: shared/seeds/003_87de092a038aeaf4.txt — "students who have not actively engaged for 14
days will receive an At-Risk email ... students who do not engage within 21 days will be
administratively withdrawn". Engagement: an assignment submitted to the grade book, a mastery
exercise, a discussion post or reply, a question to the instructor in a course forum; logging in
or viewing pages is not. Catalogue section 3: ``csu.engagement.at_risk_14d``,
``csu.engagement.withdraw_21d`` (calendar days).
"""

from __future__ import annotations

from onpace_rules.facts import ActivityKind
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import RuleFamily, RuleModule
from onpace_rules.rules.helpers import merged_params, validated
from onpace_rules.rules.inactivity import InactivityParams, InactivitySeries

AT_RISK = "csu.engagement.at_risk_14d"
WITHDRAW = "csu.engagement.withdraw_21d"
RULE_IDS = (AT_RISK, WITHDRAW)
TITLES = {
    AT_RISK: "At-Risk email after 14 days without engagement",
    WITHDRAW: "Administrative withdrawal after 21 days without engagement",
}

ENGAGEMENT: frozenset[ActivityKind] = frozenset(
    {"submission", "mastery_exercise", "discussion_post", "discussion_reply", "forum_question"}
)


def build(config: ProgramConfig) -> list[RuleFamily]:
    if not frozenset(config.rules) & frozenset(RULE_IDS):
        return []
    merged = {"warning_day": 14, "action_day": 21} | merged_params(config.rules, RULE_IDS)
    return [
        InactivitySeries(
            warning_id=AT_RISK if AT_RISK in config.rules else None,
            action_id=WITHDRAW if WITHDRAW in config.rules else None,
            kinds=ENGAGEMENT,
            unit="calendar",
            params=validated(InactivityParams, merged, "csu.engagement.*"),
            warning_recipients=("student",),
            action_recipients=("student", "advisor"),
            action_status="withdrawn",
            action_deadline="withdrawal",
        )
    ]


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    warnings=frozenset({AT_RISK}),
)
