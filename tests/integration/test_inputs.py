"""Non-activity inputs through the deployed path: webhook → enrollment → evaluation on moto server."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
from onpace_core.store.enrollments import upsert_enrollments
from onpace_core.store.models import EnrollmentModel, OutboxModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook

from tests.integration.districts import evaluate, make_district

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_a_held_drop_is_taken_after_an_approval_arrives_by_webhook(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    district = make_district(
        local_stack,
        PACING,
        students=("stu-1",),
        settings={"approvals": {"cps.pacing.ipr_drop": "needs_approval"}},
    )
    key = f"{district.district_id}#cls-1#stu-1"
    # First evaluation on the drop day: the warnings it missed are recorded as superseded.
    held = evaluate(local_stack, district.district_id, date(2026, 10, 10))
    assert held["recorded"] == [
        {"rule": "cps.pacing.ipr_drop", "kind": "notice", "count": 1},
        {"rule": "cps.pacing.ipr_warning_1w", "kind": "skipped", "count": 1},
        {"rule": "cps.pacing.ipr_warning_2w", "kind": "skipped", "count": 1},
    ]
    item = EnrollmentModel.get(key, consistent_read=True)
    assert item.status == "held" and item.wake_on is None and item.held is not None
    (request,) = [
        o for o in OutboxModel.scan(OutboxModel.district_id == district.district_id) if o.kind == "notice"
    ]
    assert request.notice_id.endswith("/approval")
    assert [r.role for r in request.recipients] == ["program_admin"]

    approval = {
        "event_id": "approval-1",
        "occurred_at": "2026-10-12T10:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "approval",
        "data": {"rule": "cps.pacing.ipr_drop", "decision": "approved", "by": "principal.b"},
    }
    response = post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=approval
    )
    assert response.status == 202, response.body
    item = EnrollmentModel.get(key, consistent_read=True)
    stored = json.loads(item.inputs.as_dict()["approval-1"])
    assert stored["kind"] == "approval" and stored["data"]["by"] == "principal.b"
    assert item.wake_on == "2026-10-12"  # brought forward: the approval makes something due

    # The evaluation of 10-12 does not see an approval dated 10-12; the one of 10-13 does.
    assert evaluate(local_stack, district.district_id, date(2026, 10, 12))["recorded"] == []
    taken = evaluate(local_stack, district.district_id, date(2026, 10, 13))
    assert taken["recorded"] == [{"rule": "cps.pacing.ipr_drop", "kind": "action", "count": 1}]
    drop = OutboxModel.get(f"{key}#cps.pacing.ipr_drop#ipr-2026-10-09", consistent_read=True)
    assert drop.decided_on == "2026-10-13" and drop.due_on == "2026-10-10"
    assert drop.deadlines.as_dict() == {"appeal": "2026-10-15"}  # counted from the approval day
    assert drop.facts.as_dict()["approved_by"] == "principal.b"
    assert EnrollmentModel.get(key, consistent_read=True).status == "dropped"


def test_a_student_wide_input_without_class_reaches_the_enrollment_and_bad_data_is_a_400(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    district = make_district(local_stack, PACING, students=("stu-1",))
    accommodation = {
        "event_id": "iep-1",
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": "stu-1",
        "kind": "accommodation",
        "data": {"plan": "iep", "start": "2026-09-01", "end": "2026-12-18", "extend_days": 5, "pause": False},
    }
    response = post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=accommodation
    )
    assert response.status == 202 and response.body["unmatched"] == [], response.body
    item = EnrollmentModel.get(f"{district.district_id}#cls-1#stu-1", consistent_read=True)
    assert "iep-1" in item.inputs.as_dict()

    bad = {
        **accommodation,
        "event_id": "iep-2",
        "data": {"plan": "iep", "start": "2026-09-10", "end": "2026-09-01"},
    }
    refused = post_webhook(gateway.url, district_id=district.district_id, secret=district.secret, events=bad)
    assert refused.status == 400
    assert any("ends (2026-09-01) before it starts" in p["problem"] for p in refused.body["problems"])
    unknown = {**accommodation, "event_id": "iep-3", "student": "stu-nobody"}
    kept = post_webhook(gateway.url, district_id=district.district_id, secret=district.secret, events=unknown)
    assert kept.status == 202 and [u["event_id"] for u in kept.body["unmatched"]] == ["iep-3"]


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_student_wide_rule_runs_on_the_deployed_evaluator(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    """Failure to thrive (catalogue 1) is about a student, not a class: two failed online courses
    posted by webhook reach the student's subject item, and the evaluator tells the family once."""
    terms = [
        {"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "kind": "semester", "season": "fall"},
        {"id": "spring", "start": "2027-01-11", "end": "2027-05-21", "kind": "semester", "season": "spring"},
    ]
    district = make_district(
        local_stack,
        {"cps.eligibility.failure_to_thrive": {}},
        students=("stu-1", "stu-2"),
        terms=terms,
        settings={"calendar": {"terms": terms, "school_year_start": ["2026-08-24"]}},
    )
    subject = EnrollmentModel.get(f"{district.district_id}#*#stu-1", consistent_read=True)
    assert subject.scope == "student" and subject.wake_on == "2026-08-24"
    grades = [
        {
            "event_id": f"grade-{n}",
            # Posted before the day the test runs: the webhook refuses events more than 15
            # minutes ahead of its clock.
            "occurred_at": f"2026-11-1{n}T16:00:00-06:00",
            "student": "stu-1",
            # The second course is one the roster no longer lists: a student-wide input still
            # reaches the student's subject and every enrollment the student has.
            "class": f"cls-{n - 6}",
            "kind": "final_grade",
            "data": {"grade": "F", "course": f"course-{n}", "credits": 1},
        }
        for n in (7, 8)
    ]
    response = post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=grades
    )
    assert response.status == 202 and response.body["unmatched"] == [], response.body
    assert set(EnrollmentModel.get(subject.enrollment_key, consistent_read=True).inputs.as_dict()) == {
        "grade-7",
        "grade-8",
    }
    assert evaluate(local_stack, district.district_id, date(2026, 11, 18))["recorded"] == []
    told = evaluate(local_stack, district.district_id, date(2026, 11, 19))
    assert told["recorded"] == [{"rule": "cps.eligibility.failure_to_thrive", "kind": "notice", "count": 1}]
    (notice,) = [
        o
        for o in OutboxModel.scan(OutboxModel.district_id == district.district_id)
        if o.rule_id == "cps.eligibility.failure_to_thrive"
    ]
    assert notice.student_id == "stu-1"
    assert {r.role for r in notice.recipients} == {"student", "guardian", "counselor"}
    assert notice.deadlines.as_dict()["block_start"] == "2027-01-11"
    again = evaluate(local_stack, district.district_id, date(2026, 12, 20))
    assert again["recorded"] == []


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_a_later_enrollment_in_the_virtual_school_a_student_was_disenrolled_from_is_refused(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    """MOCAP (catalogue 4): "prohibited from re-enrolling in the same virtual school for the remainder
    of the school year". The report reaches the student's items; an enrollment in that school that a
    later roster load adds starts with it and is refused on its first look; the student's course in
    another school goes on."""
    district = make_district(
        local_stack,
        {"mocap.disenrollment.options": {}},
        students=("stu-1",),
        settings={"calendar": {"school_year_start": ["2026-08-24", "2027-08-23"]}},
    )
    report = {
        "event_id": "dis-1",
        "occurred_at": "2026-11-02T10:00:00-06:00",
        "student": "stu-1",
        "kind": "disenrollment",
        "data": {"school": "Show-Me Virtual Academy", "school_id": "org-showme"},
    }
    response = post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=report
    )
    assert response.status == 202 and response.body["unmatched"] == [], response.body
    first = EnrollmentModel.get(f"{district.district_id}#cls-1#stu-1", consistent_read=True)
    assert set(first.inputs.as_dict()) == {"dis-1"}
    later = EnrollmentRecord(
        district_id=district.district_id,
        program_id="prog",
        class_id="cls-showme",
        class_title="English 10",
        student_id="stu-1",
        student_name="Student stu-1",
        term_id="fall",
        start_date=date(2026, 11, 9),
        end_date=date(2026, 12, 18),
        contacts=(ContactRecord("student", "stu-1@students.school.example", "Student stu-1", "en", "stu-1"),),
        school_id="org-showme",
        school_name="Show-Me Virtual Academy",
    )
    upsert_enrollments([later], district.program)
    added = EnrollmentModel.get(f"{district.district_id}#cls-showme#stu-1", consistent_read=True)
    assert set(added.inputs.as_dict()) == {"dis-1"}  # the student-wide report, inherited
    # The family's letter from the student item; cls-1, a course of another school, is left alone.
    letter = evaluate(local_stack, district.district_id, date(2026, 11, 3))
    assert letter["recorded"] == [{"rule": "mocap.disenrollment.options", "kind": "notice", "count": 1}]
    refused = evaluate(local_stack, district.district_id, date(2026, 11, 9))
    assert refused["recorded"] == [{"rule": "mocap.disenrollment.options", "kind": "action", "count": 1}]
    assert EnrollmentModel.get(added.enrollment_key, consistent_read=True).status == "rejected"
    assert EnrollmentModel.get(first.enrollment_key, consistent_read=True).status == "active"
    (notice,) = [
        o
        for o in OutboxModel.scan(OutboxModel.district_id == district.district_id)
        if o.class_id == "cls-showme"
    ]
    assert notice.facts.as_dict()["outcome"] == "rejected"
    assert {r.role for r in notice.recipients} == {"counselor", "program_admin"}


LADDER = {
    "msc.progress.step1_contact": {},
    "msc.progress.step2_reminder": {},
    "msc.progress.step3_removal_notice": {},
    "msc.progress.step4_removal": {},
}


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_correspondence_by_webhook_stops_the_msc_removal_notice(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    """004 step 3: "If the student does not respond by submitting assignments or correspond with
    the instructor ..." — after the reminder (09-10), stu-1 writes to the instructor (activity
    ``instructor_message``) and the instructor records a call with stu-2 (input
    ``instructor_contact``); only stu-3, who did neither, gets the removal notice on 09-17."""
    district = make_district(local_stack, LADDER, students=("stu-1", "stu-2", "stu-3"))
    keys = {s: f"{district.district_id}#cls-1#{s}" for s in district.students}
    steps = [
        evaluate(local_stack, district.district_id, day)["recorded"]
        for day in (date(2026, 9, 3), date(2026, 9, 10))
    ]
    assert [[(r["rule"], r["count"]) for r in day] for day in steps] == [
        [("msc.progress.step1_contact", 3)],
        [("msc.progress.step2_reminder", 3)],
    ]

    message = {
        "event_id": "lms-msg-1",
        "occurred_at": "2026-09-12T19:05:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "instructor_message",
    }
    contact = {
        "event_id": "lms-contact-1",
        "occurred_at": "2026-09-14T15:30:00-05:00",
        "student": "stu-2",
        "class": "cls-1",
        "kind": "instructor_contact",
        "data": {"by": "Pat Teacher", "method": "phone", "contact_with": "parent_guardian"},
    }
    response = post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=[message, contact]
    )
    assert response.status == 202 and response.body["accepted"] == 2, response.body
    assert EnrollmentModel.get(keys["stu-1"], consistent_read=True).last_instructor_message_at == (
        "2026-09-13T00:05:00.000000Z"
    )
    stored = json.loads(
        EnrollmentModel.get(keys["stu-2"], consistent_read=True).inputs.as_dict()["lms-contact-1"]
    )
    assert stored["kind"] == "instructor_contact" and stored["data"]["method"] == "phone"

    notices = evaluate(local_stack, district.district_id, date(2026, 9, 17))["recorded"]
    assert notices == [{"rule": "msc.progress.step3_removal_notice", "kind": "notice", "count": 1}]
    (notice,) = [
        o
        for o in OutboxModel.scan(OutboxModel.district_id == district.district_id)
        if o.rule_id == "msc.progress.step3_removal_notice"
    ]
    assert notice.student_id == "stu-3"
    assert notice.facts.as_dict()["reminder_date"] == "2026-09-10"

    bad = {**contact, "event_id": "lms-contact-2", "data": {"by": "Pat Teacher", "method": "carrier pigeon"}}
    refused = post_webhook(gateway.url, district_id=district.district_id, secret=district.secret, events=bad)
    assert refused.status == 400
    assert any(p["field"] == "data.method" and p["event"] is None for p in refused.body["problems"])


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_an_msc_extension_waits_for_the_program_directors_approval_by_webhook(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    """Catalogue: "an eligible request goes to the Program Director for a decision ...; only an
    approved extension moves the end date". The request of 10-01 goes to the Director on 10-02
    and the course still ends on 12-18; the approval of 10-05 (naming the request) is taken on
    10-06: the counselor is told, and the course ends 14 days later."""
    contacts = {
        "counselor": [{"name": "Dana Counselor", "address": "counselor@school.example"}],
        "program_director": [{"name": "Dr. Lund", "address": "director@msc.example"}],
    }
    district = make_district(
        local_stack,
        {"msc.extension.eligibility": {}},
        students=("stu-1",),
        settings={"contacts": contacts},
    )
    key = f"{district.district_id}#cls-1#stu-1"

    def post(*events: dict[str, Any]) -> Any:
        return post_webhook(
            gateway.url, district_id=district.district_id, secret=district.secret, events=list(events)
        )

    progress = {
        "event_id": "lms-progress-1",
        "occurred_at": "2026-09-30T10:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "progress",
        "percent_complete": 60,
    }
    request = {
        "event_id": "sis-ext-1",
        "occurred_at": "2026-10-01T10:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "extension_request",
        "data": {"days": 14, "requested_by": "Dana Counselor"},
    }
    assert post(progress, request).status == 202
    asked = evaluate(local_stack, district.district_id, date(2026, 10, 2))
    assert asked["recorded"] == [{"rule": "msc.extension.eligibility", "kind": "notice", "count": 1}]
    (forwarded,) = OutboxModel.scan(OutboxModel.district_id == district.district_id)
    assert forwarded.notice_id.endswith("#sis-ext-1/approval")
    assert [(r.role, r.address) for r in forwarded.recipients] == [
        ("program_director", "director@msc.example")
    ]
    assert forwarded.facts.as_dict()["decision"] == "awaiting_approval"
    assert EnrollmentModel.get(key, consistent_read=True).extended_end_date is None

    approval = {
        "event_id": "sis-approval-1",
        "occurred_at": "2026-10-05T09:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "approval",
        "data": {"rule": "msc.extension.eligibility", "decision": "approved", "by": "Dr. Lund"},
    }
    unnamed = post(approval)  # an extension decision names its request
    assert unnamed.status == 400
    assert any("names its request" in p["problem"] for p in unnamed.body["problems"])
    assert post({**approval, "data": {**approval["data"], "request": "sis-ext-1"}}).status == 202

    decided = evaluate(local_stack, district.district_id, date(2026, 10, 6))
    assert decided["recorded"] == [{"rule": "msc.extension.eligibility", "kind": "notice", "count": 1}]
    outcome = OutboxModel.get(f"{key}#msc.extension.eligibility#sis-ext-1/granted-14", consistent_read=True)
    assert [r.role for r in outcome.recipients] == ["counselor"]
    assert outcome.facts.as_dict()["decided_by"] == "Dr. Lund"
    assert outcome.deadlines.as_dict() == {"extension_end": "2027-01-01"}
    assert EnrollmentModel.get(key, consistent_read=True).extended_end_date == "2027-01-01"
