"""Render cases for the Chicago communication policy (catalogue section 5).

``cps_chicago.channel.district_email_only`` is silent (it only suppresses other notices), so only
the meeting plan has templates. The case is the plan that goes with worked example 3's step 1
prompt (Friday 2026-01-23): earliest meeting four calendar days later, Tuesday 2026-01-27.
"""

from __future__ import annotations

from typing import Any

MEETING_FACTS: dict[str, Any] = {
    "prompt_last_submission_date": "2026-01-20",
    "prompt_days_without_submission": 3,
    "prompt_enrollment_start": "2026-01-05",
    "prompt_withdraw_period_end": "2026-01-14",
    "prompt_rule": "msc.progress.step1_contact",
    "purpose": "to agree on a schedule for completing the missing work",
    "platform": "Google Meet",
    "invitation_on": "2026-01-23",
    "notice_days": 4,
    "earliest_school_day": "2026-01-27",
    "required_attendees": ["student"],
    "optional_attendees": ["principal_or_assistant_principal", "guardians"],
    "purpose_shared_with": ["student", "guardians", "principal_or_assistant_principal"],
    "recording_allowed": False,
    "must_attend_one_of": ["principal", "assistant_principal", "guardians"],
}

CASES: dict[str, dict[str, Any]] = {
    "cps_chicago.meeting.one_on_one": {
        "facts": MEETING_FACTS,
        "deadlines": {"meeting_earliest": "2026-01-27"},
        "decided_on": "2026-01-23",
        "must_say": [
            "Tuesday, January 27, 2026",
            "at least 4 calendar days before the meeting",
            "Google Meet",
            "principal or assistant principal, as an optional attendee",
            "parents/guardians, as optional attendees",
            "to agree on a schedule for completing the missing work",
            "may not be recorded",
            "must attend",
            "3 days",
        ],
        "roles": ("instructor",),
    },
}
