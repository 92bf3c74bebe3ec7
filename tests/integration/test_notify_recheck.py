"""Re-check at send (issue 12, scope 3) over moto server: the real evaluator decides, the student
re-engages through the ingest service, the real notify handler cancels the warning — and sends an
action whatever happened since."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from onpace_core.delivery.evidence import plain
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.service import ingest_events
from onpace_core.store.models import OutboxModel
from onpace_local.evaluation import run_program_day
from onpace_local.stack import LocalStack

from tests.integration.districts import make_district
from tests.integration.test_notify import _audit, _event_for, _refreshed, _sent

pytestmark = pytest.mark.integration

PARTICIPATION = {"cps.participation.warning": {}, "cps.participation.drop_20d": {}}
PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
WARNING_DAY = date(2026, 9, 16)  # past 15 whole school days without a submission, before 20


def _notices(district_id: str, rule_id: str) -> dict[str, OutboxModel]:
    """The district's notices of ``rule_id`` by student (a test may scan)."""
    found = OutboxModel.scan((OutboxModel.district_id == district_id) & (OutboxModel.rule_id == rule_id))
    return {n.student_id: n for n in found}


def _activity(district_id: str, student: str, kind: str, at: datetime, percent: float | None = None) -> None:
    event = LmsEvent(
        str(uuid.uuid4()),
        "test",
        at,
        (Ref("sourcedId", student),),
        (Ref("sourcedId", "cls-1"),),
        kind,
        percent_complete=percent,
        digest=uuid.uuid4().hex,
    )
    ingest_events(district_id=district_id, source="test", events=[event], now=at, ttl_days=30)


def test_a_warning_to_a_student_who_submitted_since_the_evaluation_is_cancelled(
    local_stack: LocalStack,
) -> None:
    district = make_district(local_stack, PARTICIPATION, students=("back", "gone"))
    d = district.district_id
    run_program_day(local_stack, d, "prog", WARNING_DAY)
    warnings = _notices(d, "cps.participation.warning")
    assert set(warnings) == {"back", "gone"}
    # "back" submits the morning of the evaluation day, after the evaluation and before the send.
    submitted_at = datetime(2026, 9, 16, 14, 30, tzinfo=UTC)
    _activity(d, "back", "submission", submitted_at)
    _activity(d, "gone", "view", submitted_at)  # a view is not participation: still warned

    for notice in warnings.values():
        assert local_stack.invoke("NotifyFunction", _event_for(local_stack, notice)) == {
            "batchItemFailures": []
        }

    back, gone = warnings["back"], warnings["gone"]
    assert _sent(local_stack, back.notice_id) == []
    stored = _refreshed(back)
    assert (stored.status, stored.status_reason) == ("cancelled", "resolved")
    assert stored.ses_message_id is None and plain(stored.deliveries) == {}
    # The evaluator's entry, then the cancellation (oldest first): no notice.sent.
    assert [e.type for e in reversed(_audit(back))] == ["notice.decided", "notice.cancelled"]
    (entry,) = _audit(back, "notice.cancelled")
    assert (entry.rule_id, entry.policy_version, entry.notice_id) == (
        "cps.participation.warning",
        "test-2026.1",
        back.notice_id,
    )
    detail = json.loads(entry.detail)
    assert detail["status"] == "cancelled" and detail["reason"] == "resolved"
    resolved = detail["resolved_by"]
    assert resolved["fact"] == "submission" and resolved["on"] == "2026-09-16"
    assert resolved["at"].startswith("2026-09-16T14:30")
    # The evidence names the activity, never the student's addresses.
    assert "@" not in entry.detail

    assert len(_sent(local_stack, gone.notice_id)) == len(gone.recipients)
    assert _refreshed(gone).status == "sent"
    assert [e.type for e in reversed(_audit(gone))] == ["notice.decided", "notice.sent"]

    # The same record again (a duplicate, a replay) sends nothing and audits nothing more.
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, back)) == {"batchItemFailures": []}
    assert _sent(local_stack, back.notice_id) == [] and len(_audit(back)) == 2


def test_an_action_is_sent_whatever_the_student_did_since(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("late",), reported_percent=0.05)
    d = district.district_id
    run_program_day(local_stack, d, "prog", date(2026, 10, 10))  # the day after IPR #1: the drop
    (drop,) = _notices(d, "cps.pacing.ipr_drop").values()
    assert drop.kind == "action"
    at = datetime(2026, 10, 10, 15, tzinfo=UTC)
    _activity(d, "late", "progress", at, percent=60.0)
    _activity(d, "late", "submission", at)

    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, drop)) == {"batchItemFailures": []}
    assert len(_sent(local_stack, drop.notice_id)) == len(drop.recipients) > 0
    assert _refreshed(drop).status == "sent"
    assert [e.type for e in reversed(_audit(drop))] == ["action.taken", "notice.sent"]


def test_a_pacing_warning_is_cancelled_once_the_percent_meets_the_threshold(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("caught-up",), reported_percent=0.05)
    d = district.district_id
    run_program_day(local_stack, d, "prog", date(2026, 9, 25))
    (warning,) = _notices(d, "cps.pacing.ipr_warning_2w").values()
    _activity(d, "caught-up", "progress", datetime(2026, 9, 25, 16, tzinfo=UTC), percent=15.0)

    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, warning)) == {
        "batchItemFailures": []
    }
    assert _sent(local_stack, warning.notice_id) == []
    assert _refreshed(warning).status == "cancelled"
    (entry,) = _audit(warning, "notice.cancelled")
    resolved = json.loads(entry.detail)["resolved_by"]
    assert resolved["fact"] == "percent_complete" and resolved["percent_complete"] == 0.15
