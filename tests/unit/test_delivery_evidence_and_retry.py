"""What a notice's deliveries amount to (``delivery/evidence.py``) and how a failed notice is retried
(``delivery/retry.py``): pure code, no AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from onpace_core.delivery.evidence import UNCONFIRMED, audit_entry, outcomes, overall, reason
from onpace_core.delivery.retry import (
    MAX_ATTEMPTS,
    QueueSettings,
    RetryMessage,
    delay_for,
    enqueue,
    notice_ref,
)
from onpace_core.store.models import Contact, OutboxModel


def _notice() -> OutboxModel:
    return OutboxModel(
        notice_id="d1#cls-1#stu-1#cps.pacing.ipr_warning_2w#ipr-2026-10-09",
        district_id="d1",
        program_id="prog",
        enrollment_key="d1#cls-1#stu-1",
        student_id="stu-1",
        class_id="cls-1",
        class_title="Biology Online",
        student_name="Jamie Rivera",
        rule_id="cps.pacing.ipr_warning_2w",
        episode="ipr-2026-10-09",
        kind="notice",
        policy_version="test-2026.1",
        decided_on="2026-09-25",
        due_on="2026-09-25",
        recipients=[
            Contact(role="student", address="jamie@students.example"),
            Contact(role="guardian", address="ana@family.example"),
        ],
        status="sending",
        created_at="2026-09-25T05:05:00.000000Z",
    )


SENT = {"status": "sent", "message_id": "m-0", "at": "t"}
MARKED = {"status": "sending", "at": "t", "by": "dead-attempt"}
FAILED = {"status": "failed", "error": "MessageRejected", "at": "t"}


@pytest.mark.parametrize(
    ("deliveries", "expected"),
    [
        ({"r0": SENT, "r1": {**SENT, "message_id": "m-1"}}, "sent"),
        ({"r0": SENT, "r1": FAILED}, "partial"),
        ({"r0": FAILED, "r1": FAILED}, "failed"),
        ({"r0": SENT, "r1": MARKED}, UNCONFIRMED),  # never "partial": it may have been delivered
        ({"r0": FAILED, "r1": MARKED}, UNCONFIRMED),
    ],
)
def test_overall_status(deliveries: dict[str, Any], expected: str) -> None:
    assert overall(outcomes(_notice(), deliveries)) == expected


def test_an_unconfirmed_recipient_is_audited_as_unknown_not_as_failed() -> None:
    notice = _notice()
    found = outcomes(notice, {"r0": SENT, "r1": MARKED})
    entry = audit_entry(notice, overall(found), found, reason(found))
    assert entry.type == "notice.sent"
    assert entry.summary.endswith(
        "sent to student; outcome unknown for guardian (SES may have accepted it; not sent again)."
    )
    detail = json.loads(json.dumps(dict(entry.detail)))
    assert [r["status"] for r in detail["recipients"]] == ["sent", "unconfirmed"]
    assert detail["ses_message_ids"] == ["m-0"]
    only_unknown = outcomes(notice, {"r0": MARKED, "r1": FAILED})
    assert audit_entry(notice, UNCONFIRMED, only_unknown, reason(only_unknown)).type == "notice.unconfirmed"


def test_notice_ref_hides_the_student() -> None:
    ref = notice_ref(_notice().notice_id)
    assert ref == notice_ref(_notice().notice_id) and len(ref) == 16 and "stu-1" not in ref


class _Queues:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **request: Any) -> None:
        self.sent.append(request)


def test_retries_are_delayed_more_and_more_then_dead_lettered() -> None:
    queues = QueueSettings.from_env({"NOTIFY_RETRY_QUEUE_URL": "retry", "NOTIFY_DLQ_URL": "dlq"})
    sqs = _Queues()
    message = RetryMessage(notice_id="n-1")
    for _ in range(MAX_ATTEMPTS):
        message = message.next("ProvisionedThroughputExceededException")
        enqueue(sqs, queues, message)
    assert [r["QueueUrl"] for r in sqs.sent] == ["retry"] * (MAX_ATTEMPTS - 1) + ["dlq"]
    delays = [r["DelaySeconds"] for r in sqs.sent[:-1]]
    assert delays == sorted(delays) and delays[0] == delay_for(1) and max(delays) <= 900
    dead = RetryMessage.model_validate_json(sqs.sent[-1]["MessageBody"])
    assert dead.attempt == MAX_ATTEMPTS + 1 and dead.error == "ProvisionedThroughputExceededException"


def test_a_handover_is_carried_only_when_passed_again() -> None:
    handed = RetryMessage(notice_id="n-1").next(
        "ProvisionedThroughputExceededException", token="t-1", settles={"r0": SENT}, release=["r1"]
    )
    assert (handed.token, handed.settles, handed.release) == ("t-1", {"r0": SENT}, ["r1"])
    # Once a claim has written it, the next retry must not write it again.
    after = handed.next("TooManyRequestsException")
    assert (after.token, after.settles, after.release) == (None, {}, [])
    assert RetryMessage.model_validate_json(handed.model_dump_json()) == handed
