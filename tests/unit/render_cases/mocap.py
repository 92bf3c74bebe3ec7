"""Render cases for Carthage R-9 / Missouri MOCAP (catalogue section 4), facts as recorded."""

from __future__ import annotations

from typing import Any

APPLICATION = {
    "application_id": "app-1",
    "application_date": "2026-10-23",
    "course": "Biology I",
    "business_days_elapsed": 5,
    "decision_business_days": 10,
    "business_day": 5,
    "step": "reminder",
}
PAYMENT = {
    "month": "2026-10",
    "amount_usd": 118.23,
    "paid_to_date_usd": 263.17,
    "semester_cap_usd": 446.25,
    "market_cost_usd": 500.0,
    "adequacy_target_usd": 6375.0,
    "cap_share": 0.07,
    "cap_basis": "adequacy_target",
    "provider": "Launch Virtual Learning",
    "term_id": "fall",
    "term_start": "2026-08-24",
    "term_end": "2026-12-18",
    "covered_from": "2026-10-01",
    "covered_to": "2026-10-31",
    "covered_days": 31,
    "term_days": 117,
    "approval": "approved",
    "approved_on": "2026-08-10",
    "schooling": "public",
}

CASES: dict[str, dict[str, Any]] = {
    "mocap.application.decision_due": {
        "facts": {**APPLICATION, "refused_denial_dates": ["2026-10-26"]},
        "deadlines": {"decision_due": "2026-11-06"},
        "decided_on": "2026-10-30",
        "must_say": [
            "Biology I",
            "Friday, October 23, 2026",
            "Friday, November 6, 2026",
            "10 business days",
            "5 of them have passed",
            "good cause",
            "Monday, October 26, 2026",  # the refused denial is named
        ],
        "roles": ("admin",),
    },
    "mocap.application.denial_reason": {
        "facts": {
            "denied_on": "2026-10-26",
            "denied_by": "principal",
            "application_date": "2026-10-23",
            "reason": "Prior virtual courses were not completed; in-person Biology I is available.",
            "review_procedure": (
                "You may ask for a review of this decision in the same manner as the District allows "
                "review of a denied enrollment in an in-class course."
            ),
        },
        "deadlines": {"appeal": "2026-11-03"},
        "decided_on": "2026-10-27",
        "must_say": [
            "denied",
            "Prior virtual courses were not completed",
            "good cause",
            "best educational interest",
            "in-class course",
            "Friday, October 23, 2026",
            "Tuesday, November 3, 2026",
        ],
        "roles": ("guardian", "student"),
    },
    "mocap.notice.guidance": {
        "facts": {
            "school_year": "2026-27",
            "occasion": "enrollment",
            "enrollment_start": "2026-10-05",
            "guidance_document_url": "https://example.org/virtual-school-guidance.pdf",
        },
        "deadlines": {},
        "decided_on": "2026-10-05",
        "must_say": [
            "Virtual School Guidance",
            "2026-27",
            "enrollment in the District on Monday, October 5, 2026",
            "once each school year",
            "https://example.org/virtual-school-guidance.pdf",
            "main page of the District's website",
            "right to participate",
        ],
        "roles": ("guardian",),
        "student_wide": True,
    },
    "mocap.disenrollment.options": {
        "kind": "notice",
        "facts": {
            "virtual_school": "Show-Me Virtual Academy",
            "disenrolled_on": "2027-02-09",
            "school_year": "2026-27",
            "reenroll_blocked_through": "2027-08-22",
            "reenroll_date_source": "calendar",
            "educational_options": [
                "Full-time enrollment at Carthage High School",
                "Another full-time virtual school",
            ],
        },
        "deadlines": {"reenroll": "2027-08-23"},
        "decided_on": "2027-02-10",
        "must_say": [
            "Show-Me Virtual Academy",
            "Tuesday, February 9, 2027",
            "Full-time enrollment at Carthage High School",
            "Another full-time virtual school",
            "may not re-enroll",
            "Sunday, August 22, 2027",
            "Monday, August 23, 2027",
            "with other providers continue",
        ],
        "roles": ("guardian", "admin"),
        "student_wide": True,
    },
    "mocap.payment.schedule": {
        "facts": PAYMENT,
        "deadlines": {},
        "decided_on": "2026-10-01",
        "must_say": [
            "October 2026",
            "$118.23",
            "$263.17",
            "$446.25",
            "$500.00",
            "$6,375.00",
            "7%",
            "Launch Virtual Learning",
            "31 of the 117 days",
            "no further monthly payments",
            "approved this enrollment on Monday, August 10, 2026",
        ],
        "roles": ("admin",),
    },
    "mocap.attendance.a_plus": {
        "facts": {
            "grade": "B+",
            "graded_on": "2026-12-21",
            "term": "fall",
            "minimum_attendance": 0.95,
        },
        "deadlines": {},
        "decided_on": "2026-12-22",
        "must_say": ["A+ tuition", "95%", "B+", "Monday, December 21, 2026", "successfully completed"],
        "roles": ("admin",),
    },
    "mocap.attendance.ada": {
        "facts": {
            "term_id": "fall",
            "term_end": "2026-12-18",
            "program_courses_in_term": 2,
            "full_time_course_load": 6,
            "student_ada_share": 0.3333,
            "course_ada_share": 0.1667,
            "roster_full_time": False,
        },
        "deadlines": {},
        "decided_on": "2026-12-19",
        "must_say": ["part-time", "2 / 6", "33.33%", "16.67%", "Friday, December 18, 2026", "once"],
        "roles": ("admin",),
    },
}
