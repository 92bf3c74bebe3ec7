"""The evaluate handler against moto server: due-index queries, outbox, audit, idempotence."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from onpace_core.audit.log import iso_instant, read, verify_chain
from onpace_core.notices.window import send_slot
from onpace_core.store.models import EnrollmentModel, OutboxModel
from onpace_local.evaluation import run_day
from onpace_local.scheduler import schedules
from onpace_local.stack import LocalStack
from onpace_rules.program import SendWindow

from tests.integration.districts import evaluate, make_district

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}


def _outbox(district_id: str) -> list[OutboxModel]:
    return sorted(OutboxModel.scan(OutboxModel.district_id == district_id), key=lambda o: o.notice_id)


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_same_day_twice_records_nothing_new(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-low", "stu-ok"))
    EnrollmentModel(enrollment_key=f"{district.district_id}#cls-1#stu-ok").update(
        actions=[
            EnrollmentModel.percent_complete.set(0.5),
            EnrollmentModel.percent_at.set("2026-09-20T00:00:00.000000Z"),
        ]
    )
    first = evaluate(local_stack, district.district_id, date(2026, 9, 25))
    assert first["recorded"] == [{"rule": "cps.pacing.ipr_warning_2w", "kind": "notice", "count": 1}]
    outbox = _outbox(district.district_id)
    assert [(o.student_id, o.rule_id, o.status) for o in outbox] == [
        ("stu-low", "cps.pacing.ipr_warning_2w", "scheduled")
    ]
    # It waits for the program's next morning window after it was recorded (docs/notices.md).
    window = send_slot(datetime.fromisoformat(outbox[0].created_at), "America/Chicago", SendWindow())
    assert outbox[0].send_key == f"{district.district_id}#{window.day.isoformat()}"
    # Recorded before the window opens, it waits for it; recorded inside it (the clock's morning
    # in Chicago), the window has already opened: either way it goes out before the window closes.
    assert outbox[0].send_after < outbox[0].send_before and outbox[0].created_at < outbox[0].send_before
    assert outbox[0].send_after == iso_instant(window.opens)
    assert outbox[0].deadlines.as_dict() == {"ipr": "2026-10-09", "drop": "2026-10-10"}
    assert {r.role for r in outbox[0].recipients} == {"student", "guardian"}
    audit_before = read(district.district_id)

    second = evaluate(local_stack, district.district_id, date(2026, 9, 25))
    assert second["recorded"] == [] and second["enrollments_evaluated"] == 0
    assert [(o.notice_id, o.status) for o in _outbox(district.district_id)] == [
        (o.notice_id, o.status) for o in outbox
    ]
    assert len(read(district.district_id)) == len(audit_before)


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_forced_reevaluation_is_still_exactly_once(local_stack: LocalStack) -> None:
    """Even if an enrollment is looked at again (wake date reset), the outbox refuses a second copy."""
    district = make_district(local_stack, PACING, students=("stu-a",))
    key = f"{district.district_id}#cls-1#stu-a"
    evaluate(local_stack, district.district_id, date(2026, 9, 25))
    item = EnrollmentModel.get(key, consistent_read=True)
    assert item.wake_on == "2026-10-02"  # jumps straight to the one-week warning
    # Simulate a crash after the outbox write but before the enrollment update.
    item.update(
        actions=[
            EnrollmentModel.wake_on.set("2026-09-25"),
            EnrollmentModel.fired.set({}),
            EnrollmentModel.checked_through.remove(),
        ]
    )
    again = evaluate(local_stack, district.district_id, date(2026, 9, 25))
    assert again["recorded"] == [] and again["already_recorded"] == 1
    assert len(_outbox(district.district_id)) == 1
    assert EnrollmentModel.get(key, consistent_read=True).fired.as_dict() == {
        "cps.pacing.ipr_warning_2w#ipr-2026-10-09": "2026-09-25"
    }


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_drop_action_ends_the_enrollment_and_is_audited(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-a",))
    for day in (date(2026, 9, 25), date(2026, 10, 2), date(2026, 10, 10)):
        evaluate(local_stack, district.district_id, day)
    item = EnrollmentModel.get(f"{district.district_id}#cls-1#stu-a", consistent_read=True)
    assert item.status == "dropped" and item.wake_on is None
    drop = next(o for o in _outbox(district.district_id) if o.kind == "action")
    assert drop.rule_id == "cps.pacing.ipr_drop"
    assert drop.deadlines.as_dict() == {"appeal": "2026-10-13"}
    assert {r.role for r in drop.recipients} == {"student", "guardian", "counselor", "instructor"}
    audit = read(district.district_id)
    assert [a.type for a in audit] == ["action.taken", "notice.decided", "notice.decided"]
    assert audit[0].policy_version == "test-2026.1" and audit[0].rule_id == "cps.pacing.ipr_drop"
    assert '"percent_complete": 0' in audit[0].detail
    assert verify_chain(district.district_id).intact


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_catch_up_after_outage_sends_only_the_latest_warning(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-a",))
    evaluate(local_stack, district.district_id, date(2026, 9, 20))  # before the first warning
    summary = evaluate(local_stack, district.district_id, date(2026, 10, 3))  # outage 09-21..10-02
    assert sorted((r["rule"], r["kind"]) for r in summary["recorded"]) == [
        ("cps.pacing.ipr_warning_1w", "notice"),
        ("cps.pacing.ipr_warning_2w", "skipped"),
    ]
    statuses = {o.rule_id: o.status for o in _outbox(district.district_id)}
    assert statuses == {"cps.pacing.ipr_warning_1w": "scheduled", "cps.pacing.ipr_warning_2w": "skipped"}


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_hourly_planner_evaluates_the_programs_of_the_time_zone(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("stu-a",), time_zone="America/Chicago")
    (planner,) = [s for s in schedules(local_stack) if s.target_function == "EvaluateFunction"]
    assert planner.time_zone == "UTC" and planner.target_function == "EvaluateFunction" and planner.hourly
    run = run_day(local_stack, date(2026, 9, 25), "America/Chicago")
    mine = [p for p in run.programs() if p["program"] == f"{district.district_id}#prog"]
    assert mine and mine[0]["day"] == "2026-09-25"
    assert mine[0]["recorded"] == [{"rule": "cps.pacing.ipr_warning_2w", "kind": "notice", "count": 1}]


def test_unknown_event_shape_is_refused(local_stack: LocalStack) -> None:
    from aws_lambda_powertools.utilities.parser import ValidationError

    with pytest.raises(ValidationError):
        local_stack.invoke("EvaluateFunction", {"district_id": "d-1"})
    with pytest.raises(ValidationError):
        local_stack.invoke("EvaluateFunction", {})
