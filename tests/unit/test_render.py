"""Notice templates: every rule id renders in English with the facts and dates it must state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError
from onpace_core.notices.render import RenderedEmail, render
from onpace_core.store.models import Contact, OutboxModel
from onpace_rules.registry import EMAILED_RULE_IDS

from tests.unit.notices import outbox_notice
from tests.unit.render_cases import more_cases

TEMPLATES = Path(__file__).resolve().parents[2] / "functions" / "notify" / "templates"

# Facts and deadlines as the evaluator records them for each rule (worked examples of the catalogue).
PACING_FACTS = {"percent_complete": 0.1, "required_percent": 0.15, "ipr_date": "2026-10-09"}
CSU_FACTS = {
    "last_activity_date": "2026-03-02",
    "enrollment_start": "2026-01-12",
    "calendar_days_without_activity": 14,
    "qualifying_activity": "discussion_post, discussion_reply, forum_question, mastery_exercise, submission",
}
CPS_PARTICIPATION_FACTS = {
    "last_activity_date": "2026-09-18",
    "enrollment_start": "2026-08-24",
    "school_days_without_activity": 15,
    "qualifying_activity": "submission",
}
MSC_FACTS = {
    "last_submission_date": "2026-01-20",
    "days_without_submission": 3,
    "enrollment_start": "2026-01-05",
    "withdraw_period_end": "2026-01-14",
}

CASES: dict[str, dict[str, Any]] = {
    "cps.pacing.ipr_warning_2w": {
        "facts": PACING_FACTS,
        "deadlines": {"ipr": "2026-10-09", "drop": "2026-10-10"},
        "decided_on": "2026-09-25",
        "must_say": [
            "10%",
            "15%",
            "Friday, October 9, 2026",
            "two weeks",
            "dropped",
            "Saturday, October 10, 2026",
        ],
    },
    "cps.pacing.ipr_warning_1w": {
        "facts": {**PACING_FACTS, "percent_complete": 0.12},
        "deadlines": {"ipr": "2026-10-09", "drop": "2026-10-10"},
        "decided_on": "2026-10-02",
        "must_say": [
            "12%",
            "15%",
            "Friday, October 9, 2026",
            "one week",
            "dropped",
            "Saturday, October 10, 2026",
        ],
    },
    "cps.pacing.ipr_drop": {
        "kind": "action",
        "facts": {
            **PACING_FACTS,
            "percent_complete": 0.12,
            "appeal_available": True,
            "pacing_appeals_used": 0,
            "pacing_appeals_per_year": 1,
            "other_courses_this_term": [],
        },
        "deadlines": {"appeal": "2026-10-13"},
        "decided_on": "2026-10-10",
        "must_say": [
            "dropped",
            "12%",
            "15%",
            "Friday, October 9, 2026",
            "Tuesday, October 13, 2026",
            "graduation credits and/or MSHSAA eligibility",
        ],
    },
    "data.missing": {
        "facts": {
            "missing_value": "percent_complete",
            "needed_by": ["cps.pacing.ipr_warning_2w"],
            "required_percent": 0.15,
            "ipr_date": "2026-10-09",
        },
        "deadlines": {"ipr": "2026-10-09"},
        "decided_on": "2026-09-25",
        "roles": ("program_admin",),
        "must_say": [
            "percent complete",
            "Pacing warning, two weeks before IPR #1",
            "Friday, October 9, 2026",
            "not counted as zero",
        ],
    },
    "cps.participation.warning": {
        "facts": CPS_PARTICIPATION_FACTS,
        "deadlines": {"last_day": "2026-10-16", "drop": "2026-10-17"},
        "decided_on": "2026-10-10",
        "must_say": [
            "15 school days",
            "Friday, September 18, 2026",
            "Friday, October 16, 2026",  # the last day to submit
            "Saturday, October 17, 2026",  # the drop
            "dropped",
        ],
    },
    "cps.participation.drop_20d": {
        "kind": "action",
        "facts": {**CPS_PARTICIPATION_FACTS, "school_days_without_activity": 20},
        "deadlines": {"appeal": "2026-10-20"},
        "decided_on": "2026-10-16",
        "must_say": [
            "dropped",
            "20 consecutive school days",
            "Tuesday, October 20, 2026",
            "appeal",
            "graduation credits and/or MSHSAA eligibility",
        ],
    },
    "csu.engagement.at_risk_14d": {
        "facts": CSU_FACTS,
        "deadlines": {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        "decided_on": "2026-03-17",
        "must_say": [
            "14 days",
            "Monday, March 2, 2026",
            "Monday, March 23, 2026",  # worked example 2: the last day to engage
            "Tuesday, March 24, 2026",  # and the withdrawal
            "withdrawn",
            "Logging in or viewing course pages does not count",
        ],
    },
    "csu.engagement.withdraw_21d": {
        "kind": "action",
        "facts": {**CSU_FACTS, "calendar_days_without_activity": 21},
        "deadlines": {},
        "decided_on": "2026-03-23",
        "must_say": [
            "administratively withdrawn",
            "21 days",
            "Monday, March 2, 2026",
            "tuition",
            "drop deadline",
        ],
        "roles": ("student", "advisor"),
    },
    "msc.progress.step1_contact": {
        "facts": MSC_FACTS,
        "deadlines": {},
        "decided_on": "2026-01-23",
        "must_say": ["contact", "schedule", "3 days", "Tuesday, January 20, 2026"],
        "roles": ("instructor",),
    },
    "msc.progress.step2_reminder": {
        "facts": {**MSC_FACTS, "days_without_submission": 10},
        "deadlines": {},
        "decided_on": "2026-01-30",
        "must_say": ["reminder", "10 days", "Tuesday, January 20, 2026"],
        "roles": ("student", "staff", "admin"),
    },
    "msc.progress.step3_removal_notice": {
        "facts": {
            **MSC_FACTS,
            "days_without_submission": 17,
            "reminder_date": "2026-01-31",
            "course_fee_usd": 425.0,
        },
        "deadlines": {"last_day": "2026-02-09", "removal": "2026-02-10"},
        "decided_on": "2026-02-07",
        "must_say": [
            "removed",
            "Monday, February 9, 2026",  # the last day to submit or write
            "Tuesday, February 10, 2026",  # the removal
            "17 days",
            "has been recorded since the reminder of Saturday, January 31, 2026",
            "full course fee ($425.00)",
        ],
        "roles": ("district", "student", "instructor"),
    },
    "msc.progress.step4_removal": {
        "kind": "action",
        "facts": {
            **MSC_FACTS,
            "days_without_submission": 20,
            "reminder_date": "2026-01-31",
            "fee_kind": "full_course_fee",
            "course_fee_usd": 425.0,
            "reenroll_available": True,
            "reenroll_fee_usd": 400.0,
        },
        "deadlines": {"reenroll": "2026-02-17"},
        "decided_on": "2026-02-10",
        "must_say": [
            "removed",
            "re-enroll",
            "once",
            "Tuesday, February 17, 2026",
            "re-enrollment fee ($400.00)",
            "full course fee ($425.00)",
            "since the reminder of Saturday, January 31, 2026",
        ],
        "roles": ("student", "district"),
    },
}
# Each rule module's cases live beside this file in render_cases/<module>.py.
CASES.update(more_cases())


def make_notice(rule_id: str, **overrides: Any) -> OutboxModel:
    case = CASES[rule_id]
    fields: dict[str, Any] = {
        "kind": case.get("kind", "notice"),
        "decided_on": case["decided_on"],
        "deadlines": dict(case["deadlines"]),
        "facts": dict(case["facts"]),
    }
    return outbox_notice(rule_id, **{**fields, **overrides})


def contact(role: str = "student", name: str | None = None, language: str | None = None) -> Contact:
    return Contact(role=role, address=f"{role}@school.example.org", name=name, language=language)


def _all_parts(email: RenderedEmail) -> tuple[str, str, str]:
    return email.subject, email.text, email.html


def test_every_implemented_rule_has_english_templates() -> None:
    for rule_id in EMAILED_RULE_IDS:
        for part in ("subject", "txt", "html"):
            assert (TEMPLATES / f"{rule_id}.{part}.j2").is_file(), f"{rule_id}.{part}.j2 missing"
    assert set(CASES) == set(EMAILED_RULE_IDS)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_each_rule_states_its_facts_and_dates(rule_id: str) -> None:
    case = CASES[rule_id]
    # A student-wide notice is recorded on the student record, whose class is "*" with no title.
    student_wide = case.get("student_wide", False)
    subject = {"class_id": "*", "class_title": ""} if student_wide else {}
    for role in case.get("roles", ("student", "guardian")):
        email = render(make_notice(rule_id, **subject), contact(role), TEMPLATES)
        assert email.language == "en"
        assert email.subject and "\n" not in email.subject
        for needle in case["must_say"]:
            assert needle.lower() in email.text.lower(), (role, needle)
            assert needle.lower() in email.html.lower(), (role, needle)
        # Traceability: the footer names the rule id and the policy version, in small print.
        for body in (email.text, email.html):
            assert rule_id in body and "policy version 2026.1" in body
        assert 'style="font-size:12px' in email.html.split(rule_id)[0].rsplit("<p", 1)[-1]
        assert "Jamie Rivera" in email.text or role == "student"
        if student_wide:
            # Never the record's class "*", nor an empty name where a course would go.
            for part in _all_parts(email):
                assert "*" not in part and " in ," not in part and " in ." not in part, (role, part)
        else:
            assert "Algebra I" in email.subject + email.text


def test_every_student_wide_rule_is_rendered_as_the_student_record_would_be() -> None:
    """The rules of student-scope families (in the shipped programs) render with class "*" above."""
    from onpace_rules import compile_program
    from onpace_rules.program_files import load_program_file

    programs = Path(__file__).resolve().parents[2] / "programs"
    student_wide = {
        rule_id
        for path in programs.glob("*.yaml")
        if "kind: policy" not in path.read_text(encoding="utf-8")
        for family in compile_program(load_program_file(path)).families
        if family.scope == "student"
        for rule_id in family.rule_ids
    }
    assert student_wide >= {"csu.sap.evaluate", "mocap.notice.guidance", "mocap.disenrollment.options"}
    assert student_wide <= {r for r, case in CASES.items() if case.get("student_wide")}


def test_ipr_warning_worked_example_subject_and_greeting() -> None:
    email = render(make_notice("cps.pacing.ipr_warning_2w"), contact("guardian"), TEMPLATES)
    assert email.subject == "Action needed: Jamie Rivera has two weeks to reach 15% in Algebra I"
    assert email.text.startswith("Dear parent or guardian,\n")
    named = render(
        make_notice("cps.pacing.ipr_warning_2w"), contact("guardian", name="Ana Rivera"), TEMPLATES
    )
    assert named.text.startswith("Dear Ana Rivera,\n")
    assert "<p>Dear Ana Rivera,</p>" in named.html
    to_student = render(make_notice("cps.pacing.ipr_warning_2w"), contact("student"), TEMPLATES)
    assert "You have completed 10% of Algebra I" in to_student.text


def test_percent_is_not_rounded_up_to_the_threshold() -> None:
    notice = make_notice("cps.pacing.ipr_warning_1w", facts={**PACING_FACTS, "percent_complete": 0.1495})
    email = render(notice, contact(), TEMPLATES)
    assert "14.95%" in email.text
    assert "15% of" not in email.text.split("To stay")[0]


def test_pacing_drop_states_the_appeal_deadline_in_subject_and_body() -> None:
    email = render(make_notice("cps.pacing.ipr_drop"), contact("guardian"), TEMPLATES)
    assert "October 13, 2026" in email.subject
    assert "The last day to appeal is Tuesday, October 13, 2026." in email.text
    staff = render(make_notice("cps.pacing.ipr_drop"), contact("counselor"), TEMPLATES)
    assert staff.subject.startswith("Pacing drop: Jamie Rivera, Algebra I")


def test_html_escapes_a_hostile_student_name_and_class_title() -> None:
    hostile = '<script>alert("x")</script>'
    notice = make_notice("csu.engagement.at_risk_14d", student_name=hostile, class_title="<b>Bio</b> & Co")
    for role in ("student", "advisor"):
        email = render(notice, contact(role, name='"><img src=x onerror=alert(1)>'), TEMPLATES)
        assert "<script>" not in email.html and "<img" not in email.html and "<b>Bio" not in email.html
        assert "&lt;b&gt;Bio&lt;/b&gt; &amp; Co" in email.html
        assert "&lt;img src=x onerror=alert(1)&gt;" in email.html
        assert "<b>Bio</b> & Co" in email.text  # plain text is not HTML-escaped
    advisor = render(notice, contact("advisor"), TEMPLATES)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in advisor.html


def test_a_missing_fact_fails_loudly() -> None:
    facts = {k: v for k, v in PACING_FACTS.items() if k != "percent_complete"}
    with pytest.raises(UndefinedError, match="percent_complete"):
        render(make_notice("cps.pacing.ipr_warning_2w", facts=facts), contact(), TEMPLATES)


def test_a_missing_deadline_fails_loudly() -> None:
    with pytest.raises(UndefinedError, match="appeal"):
        render(make_notice("cps.pacing.ipr_drop", deadlines={}), contact(), TEMPLATES)


def test_unknown_rule_has_no_template() -> None:
    from jinja2 import TemplateNotFound

    CASES["x.unknown"] = CASES["cps.pacing.ipr_warning_2w"]
    try:
        with pytest.raises(TemplateNotFound):
            render(make_notice("x.unknown"), contact(), TEMPLATES)
    finally:
        del CASES["x.unknown"]


@pytest.mark.parametrize(
    ("rule_id", "absent", "says"),
    [
        (
            "csu.engagement.at_risk_14d",
            "last_activity_date",
            "since the course started on Monday, January 12, 2026",
        ),
        (
            "cps.participation.warning",
            "last_activity_date",
            "since the course started on Monday, August 24, 2026",
        ),
        (
            "msc.progress.step1_contact",
            "last_submission_date",
            "since the enrollment began on Monday, January 5, 2026",
        ),
    ],
)
def test_never_active_student_is_described_from_the_start_date(rule_id: str, absent: str, says: str) -> None:
    """The evaluator leaves out a last-activity date the student never had."""
    facts = {k: v for k, v in CASES[rule_id]["facts"].items() if k != absent}
    role = "instructor" if rule_id.startswith("msc") else "guardian"
    email = render(make_notice(rule_id, facts=facts), contact(role), TEMPLATES)
    assert says in email.text and says in email.html


def test_student_without_a_name_is_described_by_role() -> None:
    notice = make_notice("cps.participation.warning", student_name=None)
    family = render(notice, contact("guardian"), TEMPLATES)
    assert family.subject.startswith("Your student needs to submit")
    assert "Your student has not submitted" in family.text


def test_msc_emails_claim_no_silence_they_do_not_record() -> None:
    """Issue 9: no email may assert "we have not heard from you" (or similar). Steps 3 and 4 say
    what is recorded since the reminder (``_msc_correspondence.j2``); nothing else speaks of it."""
    for path in sorted(TEMPLATES.glob("*msc*.j2")):
        text = path.read_text(encoding="utf-8").lower()
        for phrase in ("heard from", "not replied", "not reply", "no reply", "did not respond"):
            assert phrase not in text, (path.name, phrase)
