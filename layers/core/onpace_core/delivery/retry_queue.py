"""The retry queue of the notify function: where a failed notice's message goes, and when.

``retry.RetryMessage`` is the message itself (a pydantic model); this module is what the notify
function needs at import, without pydantic (docs/scale.md, "Cold start"). The whole story of a
retry is in ``retry``'s docstring.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onpace_core.delivery.retry import RetryMessage

MAX_ATTEMPTS = 6
# Seconds before retry n (1-based): SQS allows a message delay of at most 900 seconds.
DELAYS = (15, 60, 180, 600, 900)
MAX_DELAY = 900


def notice_ref(notice_id: str) -> str:
    """The notice's id for logs: a notice id names the student, so logs carry a hash of it (the
    same hash for the same notice, so log lines can be followed; ``notice_ref`` of an outbox
    item's id finds them)."""
    return hashlib.sha256(notice_id.encode()).hexdigest()[:16]


def delay_for(attempt: int) -> int:
    """The delay before retry ``attempt`` (1 for the first retry)."""
    return DELAYS[min(max(attempt, 1), len(DELAYS)) - 1]


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """The queues the notify function writes to (``template.yaml`` sets both URLs)."""

    notify_retry_queue_url: str = ""
    notify_dlq_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> QueueSettings:
        """From ``NOTIFY_RETRY_QUEUE_URL`` and ``NOTIFY_DLQ_URL`` (default: ``os.environ``)."""
        source = os.environ if env is None else env
        return cls(source.get("NOTIFY_RETRY_QUEUE_URL", ""), source.get("NOTIFY_DLQ_URL", ""))


def enqueue(
    sqs_client: Any, queues: QueueSettings, message: RetryMessage, *, delay: int | None = None
) -> str:
    """Send ``message`` to the retry queue, or to the dead-letter queue once the attempts are spent;
    returns which (``"retry"`` / ``"dead-letter"``)."""
    body = message.model_dump_json()
    if message.attempt > MAX_ATTEMPTS:
        sqs_client.send_message(QueueUrl=queues.notify_dlq_url, MessageBody=body)
        return "dead-letter"
    seconds = min(MAX_DELAY, delay if delay is not None else delay_for(message.attempt - 1))
    sqs_client.send_message(
        QueueUrl=queues.notify_retry_queue_url, MessageBody=body, DelaySeconds=max(0, seconds)
    )
    return "retry"
