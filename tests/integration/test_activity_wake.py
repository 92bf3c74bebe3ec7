"""Activity that can make something due brings the wake date forward (deployed path, moto server).

An MSC ladder after step 1 waits for step 2 a week later; a submission in between starts a new
lapse whose step 1 is due three days after it. The webhook's fold moves the enrollment's wake
date forward, so the evaluator sees the new step 1 on its day, not at the old step 2.
"""

from __future__ import annotations

from datetime import date

import pytest
from onpace_core.ingest.raw_store import raw_key
from onpace_core.store.models import EnrollmentModel, OutboxModel, RawEventModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook

from tests.integration.districts import evaluate, make_district

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

LADDER = {
    "msc.progress.step1_contact": {},
    "msc.progress.step2_reminder": {},
    "msc.progress.step3_removal_notice": {},
    "msc.progress.step4_removal": {},
}
PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}


def _submission(event_id: str, at: str) -> dict[str, str]:
    return {
        "event_id": event_id,
        "occurred_at": at,
        "student": "stu-1",
        "class": "cls-1",
        "kind": "submission",
    }


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_a_submission_brings_the_ladder_wake_date_forward(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    district = make_district(local_stack, LADDER, students=("stu-1",))
    key = f"{district.district_id}#cls-1#stu-1"

    # No submission since the start (08-24): step 1 after the 10-day withdraw period.
    first = evaluate(local_stack, district.district_id, date(2026, 9, 3))
    assert first["recorded"] == [{"rule": "msc.progress.step1_contact", "kind": "notice", "count": 1}]
    assert EnrollmentModel.get(key, consistent_read=True).wake_on == "2026-09-10"  # step 2, a week later

    # A Saturday-evening submission in Chicago is already Sunday in UTC; the wake counts from the
    # UTC date minus one, so it is never later than the local date + 4 (09-09: the day after the
    # three whole days 09-06 … 09-08).
    late_evening = _submission("sub-1", "2026-09-05T20:30:00-05:00")
    response = post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=late_evening
    )
    assert response.status == 202, response.body
    assert EnrollmentModel.get(key, consistent_read=True).wake_on == "2026-09-09"

    # A retry of an event whose first attempt stopped after moving the fact, before the wake
    # (the event stored, not marked folded): the fact does not move again, the wake still does.
    EnrollmentModel(enrollment_key=key).update(actions=[EnrollmentModel.wake_on.set("2026-09-10")])
    RawEventModel(pk=raw_key(district.district_id, "sub-1")).update(
        actions=[RawEventModel.status.set("received")]
    )
    again = post_webhook(
        gateway.url, district_id=district.district_id, secret=district.secret, events=late_evening
    )
    assert again.status == 202 and again.body["duplicates"] == 1
    assert EnrollmentModel.get(key, consistent_read=True).wake_on == "2026-09-09"

    # An older submission arriving late wakes from its own date (it could matter when more than
    # one submission is expected); the evaluation then finds nothing new and sleeps again.
    older = _submission("sub-0", "2026-09-04T10:00:00-05:00")
    assert (
        post_webhook(
            gateway.url, district_id=district.district_id, secret=district.secret, events=older
        ).status
        == 202
    )
    assert EnrollmentModel.get(key, consistent_read=True).wake_on == "2026-09-07"  # UTC 09-04 - 1 + 4
    assert evaluate(local_stack, district.district_id, date(2026, 9, 7))["recorded"] == []
    assert EnrollmentModel.get(key, consistent_read=True).wake_on == "2026-09-09"

    assert evaluate(local_stack, district.district_id, date(2026, 9, 9))["recorded"] == [
        {"rule": "msc.progress.step1_contact", "kind": "notice", "count": 1}
    ]
    notices = sorted(
        (o.decided_on, o.rule_id, o.notice_id.rsplit("#", 1)[-1])
        for o in OutboxModel.scan(OutboxModel.district_id == district.district_id)
    )
    assert notices == [
        ("2026-09-03", "msc.progress.step1_contact", "since-2026-08-23"),
        ("2026-09-09", "msc.progress.step1_contact", "since-2026-09-05"),  # the new lapse, on its day
    ]


def test_activity_that_only_delays_does_not_touch_the_wake_date(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    district = make_district(local_stack, PACING, students=("stu-1",))
    key = f"{district.district_id}#cls-1#stu-1"
    item = EnrollmentModel.get(key, consistent_read=True)
    assert item.wake_on == "2026-08-24"
    submission = _submission("sub-1", "2026-08-20T10:00:00-05:00")
    assert (
        post_webhook(
            gateway.url, district_id=district.district_id, secret=district.secret, events=submission
        ).status
        == 202
    )
    after = EnrollmentModel.get(key, consistent_read=True)
    assert after.wake_on == "2026-08-24" and after.last_submission_at is not None


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_expected_work_above_one_is_counted_from_the_logged_submissions(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    """5 submissions a week expected (2 per 3 days): ingest logs each submission by event id (a
    retry counts once), the evaluator reads them all, and a lone submission does not end the
    lapse, so the ladder moves on to step 2."""
    from onpace_core.store.enrollments import to_state
    from onpace_rules.engine import compile_program

    rules = {**LADDER, "msc.progress.step1_contact": {"min_submissions_per_week": 5}}
    district = make_district(local_stack, rules, students=("stu-1",))
    key = f"{district.district_id}#cls-1#stu-1"

    def send(*events: dict[str, str]) -> dict:
        response = post_webhook(
            gateway.url, district_id=district.district_id, secret=district.secret, events=list(events)
        )
        assert response.status == 202, response.body
        return response.body

    def steps() -> list[tuple[str, str]]:
        return sorted(
            (o.decided_on, o.rule_id)
            for o in OutboxModel.scan(OutboxModel.district_id == district.district_id)
        )

    # Events arrive in time order, between the daily evaluations.
    send(
        _submission("sub-a", "2026-09-01T10:00:00-05:00"),
        _submission("sub-b", "2026-09-02T10:00:00-05:00"),  # 2 within 3 days: met on 09-02
    )
    for day in (date(2026, 9, 3), date(2026, 9, 4), date(2026, 9, 5), date(2026, 9, 6)):
        evaluate(local_stack, district.district_id, day)
    # After the three whole days 09-03 … 09-05, and after the withdraw period.
    assert steps() == [("2026-09-06", "msc.progress.step1_contact")]

    lone = _submission("sub-c", "2026-09-08T10:00:00-05:00")  # alone: still short
    send(lone)
    assert send(lone)["duplicates"] == 1
    item = EnrollmentModel.get(key, consistent_read=True)
    assert sorted(item.activity_log.as_dict()) == ["sub-a", "sub-b", "sub-c"]
    calendar = compile_program(district.program).calendar
    assert to_state(item, calendar).history_on == {
        "submission": (date(2026, 9, 1), date(2026, 9, 2), date(2026, 9, 8))
    }
    for day in (date(2026, 9, 12), date(2026, 9, 13)):
        evaluate(local_stack, district.district_id, day)
    assert steps() == [
        ("2026-09-06", "msc.progress.step1_contact"),
        ("2026-09-13", "msc.progress.step2_reminder"),  # 09-08 alone did not end the lapse
    ]


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_activity_folded_during_an_evaluation_is_not_lost(local_stack: LocalStack) -> None:
    """The evaluator read the enrollment (due 09-03); before it records, a submission dated 09-03
    is folded. The evaluation's next date (step 2 on 09-10) comes from facts without it, so it is
    not written: the enrollment stays due and the next run sees the new lapse (step 1 on 09-07)."""
    from datetime import UTC, datetime

    from onpace_core.evaluation.day import DaySummary
    from onpace_core.ingest.event import LmsEvent, Ref
    from onpace_core.ingest.service import ingest_events
    from onpace_core.notices.evaluation import DynamoEvaluationStore
    from onpace_rules.engine import compile_program, evaluate_enrollment

    district = make_district(local_stack, LADDER, students=("stu-1",))
    key = f"{district.district_id}#cls-1#stu-1"
    program = compile_program(district.program)
    store = DynamoEvaluationStore([key], datetime.now(UTC), district.district_id)
    day = date(2026, 9, 3)
    due = store.due(program, day)
    subject = next(due)
    evaluation = evaluate_enrollment(program, subject.state, day)
    assert [d.rule_id for d in evaluation.decisions] == ["msc.progress.step1_contact"]
    assert evaluation.wake_on == date(2026, 9, 10)

    at = datetime(2026, 9, 3, 15, tzinfo=UTC)  # the concurrent fold
    event = LmsEvent(
        "sub-x", "plain", at, (Ref("sourcedId", "stu-1"),), (Ref("sourcedId", "cls-1"),), "submission"
    )
    ingest_events(district_id=district.district_id, source="plain", events=[event], now=at, ttl_days=30)
    store.record(program, subject, evaluation, day, datetime.now(UTC), DaySummary(program.config.key, day))
    assert next(due, None) is None  # the end of the page: the store writes what it recorded
    item = EnrollmentModel.get(key, consistent_read=True)
    assert item.wake_on is not None and item.wake_on <= "2026-09-04"  # still due, not 09-10
    assert item.checked_through == "2026-09-03"
    assert "msc.progress.step1_contact#since-2026-08-23" in item.fired.as_dict()

    due = store.due(program, date(2026, 9, 4))
    subject = next(due)
    later = evaluate_enrollment(program, subject.state, date(2026, 9, 4))
    assert later.decisions == () and later.wake_on == date(2026, 9, 7)  # step 1 of the new lapse
    store.record(
        program, subject, later, date(2026, 9, 4), datetime.now(UTC), DaySummary(program.config.key, day)
    )
    assert next(due, None) is None
    assert EnrollmentModel.get(key, consistent_read=True).wake_on == "2026-09-07"
