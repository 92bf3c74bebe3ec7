"""Fan-out of the daily evaluation: which programs start a day, their shards as SQS messages, and
what happens to an enrollment that fails.

The planner (``EvaluateFunction``, hourly) picks the programs whose local day began in the hour
before the schedule's time, cuts each program day into shards of due keys
(``notices.evaluation.plan_program_day``) and sends one message per shard to ``EvaluateQueue``.
A worker (``EvaluateWorkerFunction``) evaluates one shard. An enrollment that fails inside a
shard is sent back to the queue as a shard of its own; that one-key message is retried by SQS
(visibility timeout) and, on its last receive, recorded in the audit log
(``evaluation.failed``) and sent to ``EvaluateDLQ`` with the enrollment key, so the rest of the
shard, the program and the time zone are never held up by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onpace_rules.program import ProgramConfig
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from onpace_core.audit.log import AuditEntry, append

ACTOR = "evaluate"
SEND_BATCH = 10  # SendMessageBatch's limit
# Below SQS's 256 KB per message and per batch, with room for the attributes.
_MAX_BATCH_BYTES = 200_000
# A program's configuration rides along with its shards when it is this small (a worker then
# reads nothing but the enrollments); else each worker reads the program item.
MAX_INLINE_CONFIG = 32_000


class ShardMessage(BaseModel):
    """One shard of a program day: the due enrollment keys a worker evaluates."""

    model_config = ConfigDict(extra="forbid")

    district_id: str
    program_id: str
    day: date
    keys: list[str] = Field(min_length=1)
    shard: str = Field(description='"3/7": the third of seven shards; "retry" for one enrollment')
    config: str | None = Field(default=None, description="the program's configuration as planned (JSON)")
    # When the day was planned (the schedule's time): its notices go out in the first morning
    # window after it (notices/window.py), whenever a worker or a retry records them.
    planned_at: AwareDatetime | None = None
    # Set on a message in EvaluateDLQ (why it is there); ignored when one is re-driven.
    failure: dict[str, Any] | None = None

    def program(self) -> ProgramConfig | None:
        return ProgramConfig.model_validate_json(self.config) if self.config else None


def zones_starting_a_day(zones: Iterable[str], instant: datetime) -> list[tuple[str, date]]:
    """The zones whose local date changed in the hour before ``instant``, with that new date.

    Run every hour, this picks each zone exactly once a day, also across daylight-saving changes
    (a midnight skipped or repeated) and in zones a half or a quarter hour off UTC.
    """
    earlier = instant - timedelta(hours=1)
    found = []
    for zone in sorted(set(zones)):
        tz = ZoneInfo(zone)
        today = instant.astimezone(tz).date()
        if earlier.astimezone(tz).date() != today:
            found.append((zone, today))
    return found


def shard_messages(
    config: ProgramConfig,
    day: date,
    shards: Sequence[Sequence[str]],
    *,
    inline_config: bool = True,
    planned_at: datetime | None = None,
) -> list[ShardMessage]:
    text = config.model_dump_json()
    carried = text if inline_config and len(text) <= MAX_INLINE_CONFIG else None
    return [
        ShardMessage(
            district_id=config.district_id,
            program_id=config.program_id,
            day=day,
            keys=list(keys),
            shard=f"{n}/{len(shards)}",
            config=carried,
            planned_at=planned_at,
        )
        for n, keys in enumerate(shards, start=1)
    ]


class SendError(RuntimeError):
    """SQS refused some messages (after the client's own retries): the planner run fails."""


def send_messages(sqs: Any, queue_url: str, messages: Sequence[ShardMessage]) -> int:
    """Send ``messages`` with SendMessageBatch (10, and under 200 KB, a request); returns requests."""
    requests = 0
    batch: list[str] = []
    size = 0
    for body in (m.model_dump_json() for m in messages):
        if batch and (len(batch) == SEND_BATCH or size + len(body) > _MAX_BATCH_BYTES):
            _send(sqs, queue_url, batch)
            requests += 1
            batch, size = [], 0
        batch.append(body)
        size += len(body)
    if batch:
        _send(sqs, queue_url, batch)
        requests += 1
    return requests


def _send(sqs: Any, queue_url: str, bodies: list[str]) -> None:
    response = sqs.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )
    failed = response.get("Failed") or []
    if failed:
        # A re-sent batch duplicates nothing that matters: a worker skips what is no longer due.
        retry = [bodies[int(f["Id"])] for f in failed if not f.get("SenderFault")]
        if len(retry) != len(failed):
            raise SendError(f"{len(failed)} shard message(s) refused: {failed[0].get('Code')}")
        response = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(retry)]
        )
        if response.get("Failed"):
            raise SendError(f"{len(response['Failed'])} shard message(s) not sent")


def retry_alone(sqs: Any, queue_url: str, message: ShardMessage, keys: Iterable[str]) -> int:
    """Send each failed key back to the queue as a one-key shard; returns how many."""
    retries = [message.model_copy(update={"keys": [key], "shard": "retry"}) for key in dict.fromkeys(keys)]
    if retries:
        send_messages(sqs, queue_url, retries)
    return len(retries)


def _key_parts(enrollment_key: str) -> tuple[str, str]:
    """(class id, student id) of ``{district}#{class}#{student}``."""
    _, class_id, student_id = enrollment_key.split("#", 2)
    return class_id, student_id


def dead_letter(
    sqs: Any, dlq_url: str, message: ShardMessage, key: str, error: str, attempts: int, now: datetime
) -> None:
    """The enrollment's last attempt failed: audit it and park it in the dead-letter queue.

    The DLQ message is the one-key shard plus why it failed; re-driving it to ``EvaluateQueue``
    (after the cause is fixed) evaluates the enrollment again, recording nothing twice.
    """
    class_id, student_id = _key_parts(key)
    entry = AuditEntry(
        type="evaluation.failed",
        actor=ACTOR,
        summary=(
            f"Evaluation of {message.day.isoformat()} failed {attempts} times for student {student_id} "
            f"in {'the program' if class_id == '*' else class_id} ({error}); parked in EvaluateDLQ"
        ),
        on=message.day,
        program_id=message.program_id,
        student_id=student_id,
        class_id=class_id,
        detail={"error": error, "attempts": attempts},
    )
    append(message.district_id, [entry], now=now)
    why = {"error": error, "attempts": attempts}
    parked = message.model_copy(update={"keys": [key], "shard": "retry", "config": None, "failure": why})
    sqs.send_message(QueueUrl=dlq_url, MessageBody=parked.model_dump_json())


def recovered(message: ShardMessage, evaluated: bool, now: datetime) -> None:
    """A message re-driven from ``EvaluateDLQ`` (it carries ``failure``) went through: audit that
    the parked enrollment is dealt with (``evaluation.recovered``), so that the console can tell a
    parked enrollment that was re-driven from one still waiting.

    ``evaluated``: evaluated now; else it was no longer due (a later run, or an earlier try of this
    message, evaluated it).
    """
    (key,) = message.keys
    class_id, student_id = _key_parts(key)
    where = "the program" if class_id == "*" else class_id
    what = "evaluated" if evaluated else "already evaluated (no longer due)"
    entry = AuditEntry(
        type="evaluation.recovered",
        actor=ACTOR,
        summary=(
            f"Evaluation of {message.day.isoformat()} for student {student_id} in {where}, parked "
            f"in EvaluateDLQ, was re-driven: {what}"
        ),
        on=message.day,
        program_id=message.program_id,
        student_id=student_id,
        class_id=class_id,
        detail={"evaluated": evaluated, "failure": message.failure or {}},
    )
    append(message.district_id, [entry], now=now)
