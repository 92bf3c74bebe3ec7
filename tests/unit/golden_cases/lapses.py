"""Lapse notices (catalogue convention "Lapses count whole days"): worked example 2 and CPS."""

from __future__ import annotations

from typing import Any

# Worked example 2: last engagement Mon 2026-03-02, the At-Risk email on 03-17.
CSU_AT_RISK_FACTS: dict[str, Any] = {
    "last_activity_date": "2026-03-02",
    "enrollment_start": "2026-01-12",
    "calendar_days_without_activity": 14,
    "qualifying_activity": "discussion_post, discussion_reply, forum_question, mastery_exercise, submission",
}
# Last submission Fri 09-18: the 15 whole school days end Fri 10-09, the warning goes on Sat 10-10.
CPS_WARNING_FACTS: dict[str, Any] = {
    "last_activity_date": "2026-09-18",
    "enrollment_start": "2026-08-24",
    "school_days_without_activity": 15,
    "qualifying_activity": "submission",
}

GOLDEN: dict[str, dict[str, Any]] = {
    "csu_at_risk_worked_example_2": {
        "rule_id": "csu.engagement.at_risk_14d",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            "decided_on": "2026-03-17",
            "facts": CSU_AT_RISK_FACTS,
            "deadlines": {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        },
    },
    "cps_participation_warning_to_guardian": {
        "rule_id": "cps.participation.warning",
        "role": "guardian",
        "name": "Ana Rivera",
        "notice": {
            # Last submission Fri 09-18: the 15 whole school days end Fri 10-09, the warning goes
            # on Sat 10-10; the 20th school day is Fri 10-16, the drop on Sat 10-17.
            "decided_on": "2026-10-10",
            "facts": CPS_WARNING_FACTS,
            "deadlines": {"last_day": "2026-10-16", "drop": "2026-10-17"},
        },
    },
    # A program (or policy version) with the warning on and its action off: nothing to announce,
    # so the email names no date it cannot keep.
    "csu_at_risk_without_the_withdrawal_rule": {
        "rule_id": "csu.engagement.at_risk_14d",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            "decided_on": "2026-03-17",
            "facts": CSU_AT_RISK_FACTS,
            "deadlines": {},
        },
    },
    "cps_participation_warning_without_the_drop_rule": {
        "rule_id": "cps.participation.warning",
        "role": "guardian",
        "name": "Ana Rivera",
        "notice": {
            "decided_on": "2026-10-10",
            "facts": CPS_WARNING_FACTS,
            "deadlines": {},
        },
    },
}
