"""Lapse notices (catalogue convention "Lapses count whole days"): worked example 2 and CPS."""

from __future__ import annotations

from typing import Any

GOLDEN: dict[str, dict[str, Any]] = {
    "csu_at_risk_worked_example_2": {
        "rule_id": "csu.engagement.at_risk_14d",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            "decided_on": "2026-03-17",
            "facts": {
                "last_activity_date": "2026-03-02",
                "enrollment_start": "2026-01-12",
                "calendar_days_without_activity": 14,
                "qualifying_activity": "discussion_post, discussion_reply, forum_question, "
                "mastery_exercise, submission",
            },
            "deadlines": {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        },
    },
}
