"""Render cases of the CSU Global SAP and late-policy notices (rules/sap.py, rules/late.py)."""

from __future__ import annotations

from typing import Any

# A student placed on SAP Warning at the end of a trimester (the evaluation of end + 1).
SAP_FACTS: dict[str, Any] = {
    "term_id": "tri-spring-2026",
    "term_end": "2026-04-25",
    "student_level": "undergraduate",
    "gpa": 1.85,
    "min_gpa": 2.0,
    "completion_rate": 0.6,
    "min_completion_rate": 0.6666,
    "attempted_credits": 15.0,
    "earned_credits": 9.0,
    "gpa_credits": 12.0,
    "max_attempted_credits": 180.0,
    "failed_standards": ["gpa", "completion_rate"],
    "standing_before": "Good Academic Standing",
    "standing_after": "SAP Warning",
    "probation_trimesters_failed": 0,
    "occasion": "term_end",
}

INACTIVE_FACTS: dict[str, Any] = {
    "standing": "SAP Warning",
    "standing_since_term_id": "tri-spring-2026",
    "standing_since": "2026-04-25",
    "last_completed_coursework": "2026-04-20",
    "months_without_coursework": 12,
    "student_start": "2026-01-05",
}

LATE_ASSIGNMENT_FACTS: dict[str, Any] = {
    "work": "assignment",
    "work_id": "ct-3",
    "due_at": "2026-03-01T23:59:00-07:00",
    "due_date": "2026-03-01",
    "due_time": "23:59 MST",
    "submitted_at": "2026-03-10T09:15:00-06:00",
    "submitted_date": "2026-03-10",
    "submitted_time": "09:15 MDT",
    "days_late": 9,
    "grace_days": 7,
    "last_accepted_day": 14,
    "accepted": True,
    "max_penalty_percent": 10.0,
    "not_accepted_because": [],
    "last_day_of_class": "2026-04-26",
    "incomplete_approved": False,
}

LATE_DISCUSSION_FACTS: dict[str, Any] = {
    "work": "discussion_reply",
    "work_id": "db-2-reply-1",
    "posted_at": "2026-03-09T00:30:00-06:00",
    "posted_date": "2026-03-09",
    "posted_time": "00:30 MDT",
    "due_date": "2026-03-08",
    "deadline_at": "2026-03-08T23:59:00-06:00",
    "deadline_zone": "MDT",
    "time_zone": "America/Denver",
    "week_start": "2026-03-02",
    "week_end": "2026-03-08",
    "week_end_zone": "MDT",
    "course_week": 2,
    "accepted": False,
    "not_accepted_because": ["after_sunday_of_its_week"],
}

CASES: dict[str, dict[str, Any]] = {
    "csu.sap.evaluate": {
        "facts": SAP_FACTS,
        "deadlines": {},
        "decided_on": "2026-04-26",
        "must_say": [
            "SAP Warning",
            "Good Academic Standing",
            "Saturday, April 25, 2026",
            "1.85",
            "2.00",
            "60%",
            "66.66%",
            "9 of 15",
            "180",
            "next trimester",
            "SAP Probation",
            "12 months",
            "Title IV",
        ],
        "roles": ("student", "advisor"),
        "student_wide": True,
    },
    "csu.sap.inactive_withdrawal": {
        "kind": "action",
        "facts": INACTIVE_FACTS,
        "deadlines": {},
        "decided_on": "2027-04-25",
        "must_say": [
            "administratively withdrawn",
            "SAP Warning",
            "12 months",
            "Saturday, April 25, 2026",
            "Monday, April 20, 2026",
        ],
        "roles": ("student", "advisor"),
        "student_wide": True,
    },
    "csu.late.assignment": {
        "facts": LATE_ASSIGNMENT_FACTS,
        "deadlines": {},
        "decided_on": "2026-03-11",
        "must_say": [
            "ct-3",
            "9 days late",
            "Sunday, March 1, 2026",
            "Tuesday, March 10, 2026",
            "accepted with a potential reduction of up to 10 percent",
            "between 8 and 14 days",
        ],
        "roles": ("instructor",),
    },
    "csu.late.discussion": {
        "facts": LATE_DISCUSSION_FACTS,
        "deadlines": {},
        "decided_on": "2026-03-10",
        "must_say": [
            "peer response",
            "Monday, March 9, 2026",
            "00:30 MDT",
            "Sunday, March 8, 2026",
            "11:59 p.m. MDT",
            "course week 2",
            "not accepted",
        ],
        "roles": ("instructor",),
    },
}
