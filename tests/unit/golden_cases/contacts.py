"""CPS drop notices (issue 9, item 8) and one signed notice per program style (item 9).

Each names the person the family can contact (its Reply-To) and is signed with the program's
and district's names, as ``outbox.record_decision`` records them from the program file.
"""

from __future__ import annotations

from typing import Any

from onpace_core.store.models import Contact

_PACING = {
    "percent_complete": 0.12,
    "required_percent": 0.15,
    "ipr_date": "2026-10-09",
    "pacing_appeals_per_year": 1,
}
_CPS = {
    "program_name": "CPS Online",
    "district_name": "Columbia Public Schools",
    "reply_to": Contact(
        role="counselor",
        name="Morgan Lee",
        title="CPS Online counselor",
        address="counselor@cpsonline.example",
    ),
}
_CPS_DROP_DAY = {"kind": "action", "decided_on": "2026-10-10", "deadlines": {"appeal": "2026-10-13"}}

GOLDEN: dict[str, dict[str, Any]] = {
    # Worked example 1: the drop of 2026-10-10; the student's other course shares the one appeal.
    "cps_ipr_drop_family_appeal_left_two_courses": {
        "rule_id": "cps.pacing.ipr_drop",
        "role": "guardian",
        "name": "Ana Rivera",
        "notice": {
            **_CPS,
            **_CPS_DROP_DAY,
            "facts": {
                **_PACING,
                "appeal_available": True,
                "pacing_appeals_used": 0,
                "other_courses_this_term": ["Biology I"],
            },
        },
    },
    "cps_ipr_drop_student_appeal_used": {
        "rule_id": "cps.pacing.ipr_drop",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            **_CPS,
            **_CPS_DROP_DAY,
            "deadlines": {},
            "facts": {
                **_PACING,
                "appeal_available": False,
                "pacing_appeals_used": 1,
                "other_courses_this_term": [],
            },
        },
    },
    "cps_ipr_drop_counselor": {
        "rule_id": "cps.pacing.ipr_drop",
        "role": "counselor",
        "name": "Morgan Lee",
        "notice": {
            **_CPS,
            **_CPS_DROP_DAY,
            "facts": {
                **_PACING,
                "appeal_available": True,
                "pacing_appeals_used": 0,
                "other_courses_this_term": ["Biology I"],
            },
        },
    },
    "cps_participation_drop_family": {
        "rule_id": "cps.participation.drop_20d",
        "role": "guardian",
        "name": "Ana Rivera",
        "notice": {
            **_CPS,
            "kind": "action",
            "decided_on": "2026-10-17",
            "deadlines": {"appeal": "2026-10-20"},
            "facts": {
                "last_activity_date": "2026-09-18",
                "enrollment_start": "2026-08-24",
                "school_days_without_activity": 20,
                "qualifying_activity": "submission",
            },
        },
    },
    # One signed notice per program style: CSU (advisor), MSC (program contact), MOCAP (letter).
    "csu_withdrawal_signed": {
        "rule_id": "csu.engagement.withdraw_21d",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            "program_name": "CSU Global",
            "district_name": "Colorado State University Global Campus",
            "reply_to": Contact(
                role="advisor",
                name="Taylor Brooks",
                title="Academic advisor",
                address="advising@csuglobal.example",
            ),
            "kind": "action",
            "decided_on": "2026-03-24",
            "facts": {
                "last_activity_date": "2026-03-02",
                "enrollment_start": "2026-01-12",
                "calendar_days_without_activity": 21,
                "qualifying_activity": "discussion_post, discussion_reply, forum_question, "
                "mastery_exercise, submission",
            },
        },
    },
    "msc_grade_report_signed": {
        "rule_id": "msc.grades.verification_window",
        "role": "student",
        "name": "Jamie Rivera",
        "notice": {
            "program_name": "MSC Online Learning Program",
            "district_name": "Example School District",
            "reply_to": Contact(
                role="program_contact",
                name="Robin Hale",
                title="MSC Online Administrator",
                address="administrator@msconline.example",
            ),
            "decided_on": "2026-05-30",
            "deadlines": {"grade_final": "2026-06-14"},
            "facts": {
                "grade": "B+",
                "credits": 0.5,
                "course": "Biology",
                "grade_posted_on": "2026-05-29",
                "verification_days": 15,
            },
        },
    },
    "mocap_denial_signed": {
        "rule_id": "mocap.application.denial_reason",
        "role": "guardian",
        "name": "Ana Rivera",
        "notice": {
            "program_name": "MOCAP courses",
            "district_name": "Carthage R-9 School District",
            "reply_to": Contact(
                role="program_contact",
                name="Casey Ward",
                title="MOCAP administrator",
                address="mocap.admin@carthage-r9.example",
            ),
            "decided_on": "2026-10-27",
            "deadlines": {"appeal": "2026-11-03"},
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
        },
    },
    # A minor's removal with no guardian on the roster: held, and the request reaches a person.
    "msc_removal_held_no_guardian_request": {
        "rule_id": "msc.progress.step4_removal",
        "role": "program_admin",
        "name": "Robin Hale",
        "notice": {
            "program_name": "MSC Online Learning Program",
            "district_name": "Example School District",
            "episode": "since-2026-01-20/approval",
            "decided_on": "2026-02-10",
            "facts": {
                "approval": "requested",
                "approval_reason": "no guardian can be reached",
            },
        },
    },
}
