"""The console's Failures view through its real handler, on the local stack (moto server).

Failures are written by the code that parks them (``evaluation.fanout.dead_letter`` for an
enrollment, ``delivery.parked`` for a notice) and recoveries by the code that records them, into
two districts that use the same student ids: each admin sees their own district's only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.log import AuditEntry, append, read
from onpace_core.delivery.parked import parked_entry
from onpace_core.evaluation.fanout import ShardMessage, dead_letter, recovered
from onpace_core.store.models import OutboxModel
from onpace_local.stack import LocalStack

from tests.console_session import ConsoleSession
from tests.unit.test_console_handler import call

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)


def _message(district: str, student: str, class_id: str = "alg-1") -> ShardMessage:
    return ShardMessage(
        district_id=district,
        program_id="prog",
        day=DAY,
        keys=[f"{district}#{class_id}#{student}"],
        shard="retry",
    )


def _park_enrollment(stack: LocalStack, district: str, student: str, minutes: int) -> None:
    message = _message(district, student)
    dead_letter(
        stack.client("sqs"),
        stack.ref("EvaluateDLQ"),
        message,
        message.keys[0],
        "ItemTooLarge",
        4,
        T0 + timedelta(minutes=minutes),
    )


def _notice(district: str, student: str) -> OutboxModel:
    return OutboxModel(
        notice_id=f"{district}#alg-1#{student}#inactivity.day3#1",
        district_id=district,
        program_id="prog",
        enrollment_key=f"{district}#alg-1#{student}",
        student_id=student,
        class_id="alg-1",
        class_title="Algebra I",
        student_name=f"Student {student}",
        rule_id="inactivity.day3",
        episode="1",
        kind="notice",
        policy_version="2026.1",
        decided_on=DAY.isoformat(),
        due_on=DAY.isoformat(),
        status="pending",
        created_at="2026-03-02T14:00:00.000000Z",
    )


@pytest.fixture(scope="module")
def parked(local_stack: LocalStack) -> dict[str, Any]:
    """District a: a parked enrollment later re-driven, a parked notice later sent, a parked
    enrollment still open, and ordinary entries; district b: one parked enrollment of the same
    student id."""
    a, b = f"north-{uuid.uuid4().hex[:8]}", f"south-{uuid.uuid4().hex[:8]}"
    append(a, [AuditEntry(type="notice.decided", actor="test", summary="decided", student_id="stu-1")], T0)
    _park_enrollment(local_stack, a, "stu-1", 1)  # seq 2
    notice = _notice(a, "stu-2")
    append(a, [parked_entry(notice, "Throttling", 6)], T0 + timedelta(minutes=2))  # seq 3
    _park_enrollment(local_stack, a, "stu-3", 3)  # seq 4
    recovered(_message(a, "stu-1"), True, T0 + timedelta(minutes=4))  # seq 5
    sent = AuditEntry(
        type="notice.sent",
        actor="notify",
        summary="sent to student",
        rule_id=notice.rule_id,
        student_id="stu-2",
        class_id="alg-1",
        notice_id=notice.notice_id,
    )
    append(a, [sent], T0 + timedelta(minutes=5))  # seq 6
    # Another class of stu-3 recovering says nothing about stu-3's parked alg-1 enrollment.
    recovered(_message(a, "stu-3", class_id="geo-1"), True, T0 + timedelta(minutes=6))  # seq 7
    _park_enrollment(local_stack, b, "stu-1", 1)
    return {"a": a, "b": b, "notice": notice}


@pytest.fixture(scope="module")
def admins(
    parked: dict[str, Any], console_sign_in: Callable[..., ConsoleSession]
) -> dict[str, ConsoleSession]:
    return {"a": console_sign_in(parked["a"]), "b": console_sign_in(parked["b"])}


def test_each_district_sees_its_own_failures_only(
    admins: dict[str, ConsoleSession], parked: dict[str, Any]
) -> None:
    status, headers, body = call(admins["a"], "/console/api/failures")

    assert status == 200 and headers["cache-control"] == "no-store"
    assert body["district_id"] == parked["a"]
    assert [(f["seq"], f["what"], f["student_id"]) for f in body["failures"]] == [
        (4, "enrollment", "stu-3"),
        (3, "notice", "stu-2"),
        (2, "enrollment", "stu-1"),
    ]
    assert body["next_before"] is None

    _, _, other = call(admins["b"], "/console/api/failures")
    assert [(f["seq"], f["student_id"], f["outcome"]["state"]) for f in other["failures"]] == [
        (1, "stu-1", "open")
    ]
    # District b's entries are not in a's page, though the student id is the same.
    assert all(f["summary"].find(parked["b"]) == -1 for f in body["failures"])


def test_failure_shape_and_what_became_of_each(
    admins: dict[str, ConsoleSession], parked: dict[str, Any]
) -> None:
    _, _, body = call(admins["a"], "/console/api/failures")
    by_seq = {f["seq"]: f for f in body["failures"]}

    evaluation = by_seq[2]
    assert evaluation["type"] == "evaluation.failed"
    assert (evaluation["on"], evaluation["program_id"], evaluation["class_id"]) == (
        "2026-03-02",
        "prog",
        "alg-1",
    )
    assert (evaluation["error"], evaluation["attempts"]) == ("ItemTooLarge", 4)
    assert evaluation["at"] == "2026-03-02T14:01:00.000000Z"
    assert evaluation["outcome"]["state"] == "recovered"
    assert (evaluation["outcome"]["seq"], evaluation["outcome"]["type"]) == (5, "evaluation.recovered")

    notice = by_seq[3]
    assert (notice["rule_id"], notice["notice_id"]) == ("inactivity.day3", parked["notice"].notice_id)
    assert (notice["error"], notice["attempts"]) == ("Throttling", 6)
    assert (notice["outcome"]["state"], notice["outcome"]["seq"]) == ("recovered", 6)

    assert by_seq[4]["outcome"] == {"state": "open"}  # only another class of stu-3 recovered


def test_failures_page_by_page(admins: dict[str, ConsoleSession], parked: dict[str, Any]) -> None:
    claims = admins["a"]
    _, _, first = call(claims, "/console/api/failures", {"limit": "2"})
    assert [f["seq"] for f in first["failures"]] == [4, 3] and first["next_before"] == 3
    _, _, second = call(claims, "/console/api/failures", {"limit": "2", "before": "3"})
    assert [f["seq"] for f in second["failures"]] == [2] and second["next_before"] is None

    status, _, error = call(claims, "/console/api/failures", {"before": "x"})
    assert status == 400 and "before" in error["message"]


def test_failures_view_lists_them_without_script(
    admins: dict[str, ConsoleSession], parked: dict[str, Any]
) -> None:
    status, headers, html = call(admins["a"], "/console/views/failures")

    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in headers["content-security-policy"]
    assert "<script" not in html and "<html" not in html
    assert html.count('data-testid="failure-row"') == 3
    assert 'data-seq="4" data-what="enrollment"' in html and 'data-state="open"' in html
    assert "docs/operations.md" in html and "Start DLQ redrive" in html
    assert parked["b"] not in html


def test_no_district_claim_is_forbidden(console_sign_in: Callable[..., ConsoleSession]) -> None:
    session = console_sign_in("")
    for path in ("/console/views/failures", "/console/api/failures"):
        status, _, body = call(session, path)
        assert status == 403, path
        assert "no district" in body["message"]


def test_parked_entries_go_into_the_failures_index_and_nothing_else(parked: dict[str, Any]) -> None:
    entries = {int(e.seq): e for e in read(parked["a"], limit=100)}
    assert {s for s, e in entries.items() if e.district_failure} == {2, 3, 4}
    assert all(e.district_failure == parked["a"] for s, e in entries.items() if s in (2, 3, 4))
    assert json.loads(entries[5].detail) == {"evaluated": True, "failure": {}}
