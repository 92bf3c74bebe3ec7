"""CSU Global SAP letters (rules/sap.py): probation and suspension state the source's consequences."""

from __future__ import annotations

from typing import Any

# The student record's notice: no class (class "*", no title).
_STUDENT = {"class_id": "*", "class_title": ""}

_STATS: dict[str, Any] = {
    "student_level": "undergraduate",
    "min_gpa": 2.0,
    "min_completion_rate": 0.6666,
    "attempted_credits": 18.0,
    "gpa_credits": 18.0,
    "max_attempted_credits": 180.0,
    "failed_standards": ["gpa"],
    "probation_trimesters_failed": 0,
    "occasion": "term_end",
}

# Placed on Academic Suspension at the end of spring 2027.
_SUSPENDED: dict[str, Any] = {
    **_STATS,
    "term_id": "csu-2027-spring",
    "term_end": "2027-04-24",
    "gpa": 1.5,
    "completion_rate": 0.75,
    "attempted_credits": 36.0,
    "gpa_credits": 36.0,
    "earned_credits": 27.0,
    "standing_before": "SAP Probation",
    "standing_after": "Academic Suspension",
}

GOLDEN: dict[str, dict[str, Any]] = {
    "csu_sap_probation_student": {
        "rule_id": "csu.sap.evaluate",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            **_STUDENT,
            "decided_on": "2026-08-23",
            "facts": {
                **_STATS,
                "term_id": "csu-2026-summer",
                "term_end": "2026-08-22",
                "gpa": 1.66,
                "completion_rate": 0.8333,
                "earned_credits": 15.0,
                "standing_before": "SAP Warning",
                "standing_after": "SAP Probation",
            },
        },
    },
    "csu_sap_suspension_student": {
        "rule_id": "csu.sap.evaluate",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            **_STUDENT,
            "decided_on": "2027-04-25",
            "facts": {**_SUSPENDED, "reentry_term_id": "csu-2027-fall", "reentry_term_start": "2027-08-30"},
            "deadlines": {"appeal": "2027-08-16"},
        },
    },
    "csu_sap_suspension_advisor": {
        "rule_id": "csu.sap.evaluate",
        "role": "advisor",
        "name": "Academic advising",
        "notice": {
            **_STUDENT,
            "decided_on": "2027-04-25",
            "facts": _SUSPENDED,
        },
    },
    "csu_sap_regrade_student": {
        "rule_id": "csu.sap.evaluate",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            **_STUDENT,
            "decided_on": "2026-06-04",
            "facts": {
                **_STATS,
                "term_id": "csu-2026-spring",
                "term_end": "2026-04-26",
                "gpa": 3.5,
                "completion_rate": 1.0,
                "attempted_credits": 6.0,
                "gpa_credits": 6.0,
                "earned_credits": 6.0,
                "failed_standards": [],
                "standing_before": "SAP Warning",
                "standing_after": "Good Academic Standing",
                "occasion": "grade_change",
                "grade_posted_on": "2026-06-03",
                "regraded_terms": ["csu-2026-spring"],
                "regraded_term_ends": ["2026-04-26"],
                "regraded_courses": ["MTH101"],
            },
        },
    },
}
