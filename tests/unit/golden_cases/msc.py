"""MSC Online emails (catalogue section 2): the progress ladder's steps and the extension flow.

The facts are those the rules record for the catalogue's worked example 3 (enrolled 2026-01-05,
last submission 01-20; step 1 on 01-24, the reminder on 01-31, the removal notice on 02-07, the
removal on 02-10) and for an extension request of 2026-05-01 in a course ending 05-29. Steps 3
and 4 state what they stand on — the last submission, the last correspondence with the
instructor on record or none since the reminder — never "we have not heard from you".
"""

from __future__ import annotations

from typing import Any

LADDER_FACTS: dict[str, Any] = {
    "last_submission_date": "2026-01-20",
    "enrollment_start": "2026-01-05",
    "withdraw_period_end": "2026-01-14",
}
SINCE_REMINDER: dict[str, Any] = {"reminder_date": "2026-01-31"}
REMOVAL_FACTS: dict[str, Any] = {
    **LADDER_FACTS,
    **SINCE_REMINDER,
    "days_without_submission": 20,
    "fee_kind": "full_course_fee",
    "course_fee_usd": 425.0,
}
REQUEST: dict[str, Any] = {
    "request_id": "sis-ext-7",
    "request_date": "2026-05-01",
    "requested_by": "Counselor Diaz",
    "requested_days": 10,
    "max_extension_days": 14,
    "course_end": "2026-05-29",
    "already_extended_days": 0,
}
ELIGIBILITY: dict[str, Any] = {
    "refused_for": [],
    "percent_complete": 0.62,
    "required_percent": 0.5,
    "awaiting_approval_days": 0,
    "no_extension_last_days": 14,
    "no_extension_from": "2026-05-16",
}

GOLDEN: dict[str, dict[str, Any]] = {
    # -- the progress ladder -------------------------------------------------------------------
    "msc_step1_instructor_several_expected": {
        "rule_id": "msc.progress.step1_contact",
        "role": "instructor",
        "name": "Ms. Okafor",
        "notice": {
            "decided_on": "2026-01-24",
            "facts": {
                **LADDER_FACTS,
                "last_submission_date": "2026-01-21",
                "days_without_submission": 1,
                "expected_submissions": 2,
                "window_days": 3,
                "expectation_last_met": "2026-01-19",
            },
        },
    },
    "msc_step2_student": {
        "rule_id": "msc.progress.step2_reminder",
        "role": "student",
        "notice": {
            "decided_on": "2026-01-31",
            "facts": {**LADDER_FACTS, "days_without_submission": 10},
        },
    },
    "msc_step2_district_staff": {
        "rule_id": "msc.progress.step2_reminder",
        "role": "district_staff",
        "name": "Enrolling district online coordinator",
        "notice": {
            "decided_on": "2026-01-31",
            "facts": {**LADDER_FACTS, "days_without_submission": 10},
        },
    },
    "msc_step3_student_nothing_since_the_reminder": {
        "rule_id": "msc.progress.step3_removal_notice",
        "role": "student",
        "notice": {
            "decided_on": "2026-02-07",
            "facts": {
                **LADDER_FACTS,
                **SINCE_REMINDER,
                "days_without_submission": 17,
                "course_fee_usd": 425.0,
            },
            "deadlines": {"last_day": "2026-02-09", "removal": "2026-02-10"},
        },
    },
    "msc_step3_district_staff_message_before_the_reminder": {
        "rule_id": "msc.progress.step3_removal_notice",
        "role": "district_staff",
        "name": "Enrolling district online coordinator",
        "notice": {
            "decided_on": "2026-02-07",
            "facts": {
                **LADDER_FACTS,
                **SINCE_REMINDER,
                "days_without_submission": 17,
                "course_fee_usd": 425.0,
                "last_correspondence_date": "2026-01-27",
                "last_correspondence": "instructor_message",
            },
            "deadlines": {"last_day": "2026-02-09", "removal": "2026-02-10"},
        },
    },
    "msc_step3_instructor_without_prices": {
        "rule_id": "msc.progress.step3_removal_notice",
        "role": "instructor",
        "notice": {
            "decided_on": "2026-02-07",
            "facts": {
                **LADDER_FACTS,
                **SINCE_REMINDER,
                "days_without_submission": 17,
                "last_correspondence_date": "2026-01-26",
                "last_correspondence": "instructor_contact",
            },
            "deadlines": {"last_day": "2026-02-09", "removal": "2026-02-10"},
        },
    },
    "msc_step4_student_first_removal": {
        "rule_id": "msc.progress.step4_removal",
        "role": "student",
        "notice": {
            "kind": "action",
            "decided_on": "2026-02-10",
            "facts": {**REMOVAL_FACTS, "reenroll_available": True, "reenroll_fee_usd": 400.0},
            "deadlines": {"reenroll": "2026-02-17"},
        },
    },
    "msc_step4_district_staff_first_removal": {
        "rule_id": "msc.progress.step4_removal",
        "role": "district_staff",
        "name": "Enrolling district online coordinator",
        "notice": {
            "kind": "action",
            "decided_on": "2026-02-10",
            "facts": {**REMOVAL_FACTS, "reenroll_available": True, "reenroll_fee_usd": 400.0},
            "deadlines": {"reenroll": "2026-02-17"},
        },
    },
    "msc_step4_student_second_removal": {
        "rule_id": "msc.progress.step4_removal",
        "role": "student",
        "notice": {
            "kind": "action",
            "decided_on": "2026-02-10",
            "facts": {**REMOVAL_FACTS, "reenroll_available": False, "reenrolled_on": "2026-01-04"},
        },
    },
    "msc_step4_district_staff_second_removal": {
        "rule_id": "msc.progress.step4_removal",
        "role": "district_staff",
        "name": "Enrolling district online coordinator",
        "notice": {
            "kind": "action",
            "decided_on": "2026-02-10",
            "facts": {**REMOVAL_FACTS, "reenroll_available": False, "reenrolled_on": "2026-01-04"},
        },
    },
    # -- course extensions -----------------------------------------------------------------------
    "msc_extension_for_the_program_director": {
        "rule_id": "msc.extension.eligibility",
        "role": "program_director",
        "name": "Dr. Lund",
        "notice": {
            "decided_on": "2026-05-02",
            "facts": {
                **REQUEST,
                **ELIGIBILITY,
                "decision": "awaiting_approval",
                "extension_end_if_approved": "2026-06-08",
            },
        },
    },
    "msc_extension_approved_for_the_counselor": {
        "rule_id": "msc.extension.eligibility",
        "role": "counselor",
        "name": "Counselor Diaz",
        "notice": {
            "decided_on": "2026-05-05",
            "facts": {
                **REQUEST,
                "decision": "granted",
                "decided_by": "Dr. Lund",
                "decided_on": "2026-05-04",
            },
            "deadlines": {"extension_end": "2026-06-08"},
        },
    },
    "msc_extension_rejected_for_the_counselor": {
        "rule_id": "msc.extension.eligibility",
        "role": "counselor",
        "name": "Counselor Diaz",
        "notice": {
            "decided_on": "2026-05-05",
            "facts": {
                **REQUEST,
                "decision": "rejected",
                "decided_by": "Dr. Lund",
                "decided_on": "2026-05-04",
                "director_note": "No documentation of the medical treatment was provided.",
            },
        },
    },
    "msc_extension_refused_for_the_counselor": {
        "rule_id": "msc.extension.eligibility",
        "role": "counselor",
        "name": "Counselor Diaz",
        "notice": {
            "decided_on": "2026-05-02",
            "facts": {
                **REQUEST,
                **ELIGIBILITY,
                "decision": "refused",
                "requested_days": 7,
                "already_extended_days": 4,
                "awaiting_approval_days": 5,
                "percent_complete": 0.45,
                "refused_for": ["less_than_required_percent_complete", "more_days_than_allowed"],
            },
        },
    },
}
