"""MOCAP letters (rules/mocap_notices.py, rules/mocap_disenrollment.py): guidance and disenrollment."""

from __future__ import annotations

from typing import Any

from onpace_rules.rules.mocap_disenrollment import DEFAULT_OPTIONS

# The student record's notice: no class (class "*", no title).
_STUDENT = {"class_id": "*", "class_title": ""}
_URL = "https://mocap.mo.gov/"

_DISENROLLED: dict[str, Any] = {
    "virtual_school": "Show-Me Virtual Academy",
    "disenrolled_on": "2027-02-09",
    "school_year": "2026-27",
    "reenroll_blocked_through": "2027-08-22",
    "reenroll_date_source": "calendar",
    "educational_options": list(DEFAULT_OPTIONS),
}

GOLDEN: dict[str, dict[str, Any]] = {
    "mocap_guidance_on_enrollment": {
        "rule_id": "mocap.notice.guidance",
        "role": "guardian",
        "name": "Ana Rivera",
        "notice": {
            **_STUDENT,
            "decided_on": "2026-10-05",
            "facts": {
                "school_year": "2026-27",
                "occasion": "enrollment",
                "enrollment_start": "2026-10-05",
                "guidance_document_url": _URL,
            },
        },
    },
    "mocap_guidance_school_year_start": {
        "rule_id": "mocap.notice.guidance",
        "role": "guardian",
        "notice": {
            **_STUDENT,
            "decided_on": "2027-08-23",
            "facts": {
                "school_year": "2027-28",
                "occasion": "school_year_start",
                "enrollment_start": "2026-10-05",
                "guidance_document_url": _URL,
            },
        },
    },
    "mocap_disenrollment_options_letter": {
        "rule_id": "mocap.disenrollment.options",
        "role": "guardian",
        "name": "Ana Rivera",
        "notice": {
            **_STUDENT,
            "decided_on": "2027-02-10",
            "facts": _DISENROLLED,
            "deadlines": {"reenroll": "2027-08-23"},
        },
    },
    "mocap_disenrollment_reenrollment_refused": {
        "rule_id": "mocap.disenrollment.options",
        "role": "counselor",
        "name": "High school counselor",
        "notice": {
            "class_id": "sm-eng",
            "class_title": "English 10",
            "kind": "action",
            "decided_on": "2027-03-01",
            "facts": {
                **_DISENROLLED,
                "outcome": "rejected",
                "enrollment_start": "2027-03-01",
                "reason": "disenrolled from Show-Me Virtual Academy on 2027-02-09: no re-enrollment in the "
                "same virtual school before 2027-08-23",
            },
            "deadlines": {"reenroll": "2027-08-23"},
        },
    },
}
