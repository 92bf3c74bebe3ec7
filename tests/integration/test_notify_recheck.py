"""Re-check at send (issue 12, scope 3) over moto server: the real evaluator decides, the student
re-engages through the ingest service, the real dispatcher letters the notices when the morning
window opens and the real notify handler re-checks each warning member of a letter before it is
rendered: a resolved one is cancelled and left out — and an action is sent whatever happened since."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from onpace_core.delivery.evidence import plain
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.service import ingest_events
from onpace_core.store.models import OutboxModel
from onpace_local.evaluation import run_program_day
from onpace_local.stack import LocalStack

from tests.integration.districts import make_district
from tests.integration.test_notify import _audit, _event_for, _refreshed, _sent

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs=("transactions", "streams"))]

PARTICIPATION = {"cps.participation.warning": {}, "cps.participation.drop_20d": {}}
PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
WARNING_DAY = date(2026, 9, 16)  # past 15 whole school days without a submission, before 20


def _notices(district_id: str, rule_id: str) -> dict[str, OutboxModel]:
    """The district's notices of ``rule_id`` by student (a test may scan)."""
    found = OutboxModel.scan((OutboxModel.district_id == district_id) & (OutboxModel.rule_id == rule_id))
    return {n.student_id: n for n in found}


def letters_of(district_id: str, day: date) -> list[OutboxModel]:
    """The district's letters of ``day``'s window, as stored now (a test may scan)."""
    prefix = f"letter#{district_id}#{day.isoformat()}#"
    found = OutboxModel.scan(OutboxModel.kind == "letter")
    return [
        OutboxModel.get(i.notice_id, consistent_read=True) for i in found if i.notice_id.startswith(prefix)
    ]


def open_window(stack: LocalStack, district_id: str) -> list[OutboxModel]:
    """Open the window the district's waiting notices wait for (the evaluator records them now,
    so it is today's or tomorrow's): the real dispatcher letters them; returns the letters."""
    waiting = [
        n
        for n in OutboxModel.scan(OutboxModel.district_id == district_id)
        if n.status == "scheduled" and n.send_key
    ]
    assert waiting, "no notice waits for the window"
    day = waiting[0].send_key.rsplit("#", 1)[1]
    opens = max(datetime.fromisoformat(n.send_after.replace("Z", "+00:00")) for n in waiting)
    at = (opens + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = stack.invoke("DispatchFunction", {"district_id": district_id, "day": day, "scheduled_time": at})
    assert result["days"], result
    written = letters_of(district_id, date.fromisoformat(day))
    assert written
    return written


def send_window(stack: LocalStack, district_id: str) -> list[OutboxModel]:
    """:func:`open_window`, then the real notify handler gets each letter's INSERT record;
    returns the letters, settled."""
    written = open_window(stack, district_id)
    for letter in written:
        assert stack.invoke("NotifyFunction", _event_for(stack, letter)) == {"batchItemFailures": []}
    return [_refreshed(letter) for letter in written]


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

    letters = send_window(local_stack, d)

    back, gone = warnings["back"], warnings["gone"]
    stored = _refreshed(back)
    assert (stored.status, stored.status_reason) == ("cancelled", "resolved")
    # Each recipient's entry says its letter left the notice out; no message carries it.
    entries = plain(stored.deliveries)
    assert len(entries) == len(stored.recipients) > 0
    assert {(e["status"], e["reason"]) for e in entries.values()} == {("cancelled", "resolved")}
    assert all("message_id" not in e for e in entries.values())
    for letter in letters:
        for _, message, _ in _sent(local_stack, letter.notice_id):
            assert "Back" not in str(message["Subject"])
    # The letters that carried only "back" sent nothing and are settled cancelled.
    alone = [x for x in letters if {m.notice_id for m in x.members} == {back.notice_id}]
    assert alone and all(x.status == "cancelled" and _sent(local_stack, x.notice_id) == [] for x in alone)
    # The evaluator's entry, then one cancellation (oldest first), whatever the number of letters.
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

    sent_gone = plain(_refreshed(gone).deliveries)
    assert len(sent_gone) == len(gone.recipients)
    assert {e["status"] for e in sent_gone.values()} == {"sent"}
    types = [e.type for e in reversed(_audit(gone))]
    assert types == ["notice.decided", *["notice.sent"] * len(gone.recipients)]

    # The same records again (a duplicate, a replay) send nothing and audit nothing more.
    before = len(local_stack.sent_emails())
    for letter in letters:
        assert local_stack.invoke("NotifyFunction", _event_for(local_stack, letter)) == {
            "batchItemFailures": []
        }
    assert len(local_stack.sent_emails()) == before and len(_audit(back)) == 2


def test_an_action_is_sent_whatever_the_student_did_since(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("late",), reported_percent=0.05)
    d = district.district_id
    run_program_day(local_stack, d, "prog", date(2026, 10, 10))  # the day after IPR #1: the drop
    (drop,) = _notices(d, "cps.pacing.ipr_drop").values()
    assert drop.kind == "action"
    at = datetime(2026, 10, 10, 15, tzinfo=UTC)
    _activity(d, "late", "progress", at, percent=60.0)
    _activity(d, "late", "submission", at)

    send_window(local_stack, d)
    entries = plain(_refreshed(drop).deliveries)
    assert len(entries) == len(drop.recipients) > 0
    assert {e["status"] for e in entries.values()} == {"sent"}
    types = [e.type for e in reversed(_audit(drop))]
    assert types == ["action.taken", *["notice.sent"] * len(drop.recipients)]


def test_a_pacing_warning_is_cancelled_once_the_percent_meets_the_threshold(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=("caught-up",), reported_percent=0.05)
    d = district.district_id
    run_program_day(local_stack, d, "prog", date(2026, 9, 25))
    (warning,) = _notices(d, "cps.pacing.ipr_warning_2w").values()
    _activity(d, "caught-up", "progress", datetime(2026, 9, 25, 16, tzinfo=UTC), percent=15.0)

    letters = send_window(local_stack, d)
    assert letters and all(x.status == "cancelled" for x in letters)
    assert all(_sent(local_stack, x.notice_id) == [] for x in letters)
    assert _refreshed(warning).status == "cancelled"
    (entry,) = _audit(warning, "notice.cancelled")
    resolved = json.loads(entry.detail)["resolved_by"]
    assert resolved["fact"] == "percent_complete" and resolved["percent_complete"] == 0.15
