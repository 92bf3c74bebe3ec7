"""Retrying one notice on its own: the retry queue's message, its delays, and the notice's log id.

A notice whose delivery fails (a throttle that outlasted botocore's retries, a template error, a
bug) is not retried by failing its stream record — that would hold up every later record of the
shard. Its failure is recorded on the item (``last_error``) and a message naming the notice goes
to ``NotifyRetryQueue`` with a growing delay; the notify function takes it from there like a
stream record. After :data:`MAX_ATTEMPTS` the message goes to ``NotifyDLQ`` instead, where an
operator sees it (``docs/operations.md``).

An attempt that could not even write what it knew (SES's answer for a message it sent) hands it
over in the message: ``token`` and ``settles``. The retry takes the lease from that attempt and
writes them first, so nothing SES accepted is forgotten or sent again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onpace_core.delivery.retry_queue import (
    DELAYS,
    MAX_ATTEMPTS,
    MAX_DELAY,
    QueueSettings,
    delay_for,
    enqueue,
    notice_ref,
)


class RetryMessage(BaseModel):
    """The body of a retry (and dead-letter) message."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    notice_id: str
    attempt: int = Field(default=1, ge=1)
    error: str | None = None  # the error code that caused this retry
    token: str | None = None  # the attempt whose lease the retry may take over
    settles: dict[str, dict[str, Any]] = Field(default_factory=dict)

    release: list[str] = Field(default_factory=list)

    def next(
        self,
        error: str,
        *,
        token: str | None = None,
        settles: Mapping[str, Mapping[str, Any]] | None = None,
        release: Sequence[str] = (),
    ) -> RetryMessage:
        """The message for the retry after this one failed with ``error``: with what the attempt
        hands over (its token, SES's answers it could not write, its marks to give back), if any.
        A handover this message carried is dropped unless passed again: once a claim has written
        it, writing it again could undo what the attempts since have done."""
        return RetryMessage(
            notice_id=self.notice_id,
            attempt=self.attempt + 1,
            error=error,
            token=token,
            settles={k: dict(v) for k, v in (settles or {}).items()},
            release=list(release),
        )


__all__ = [
    "DELAYS",
    "MAX_ATTEMPTS",
    "MAX_DELAY",
    "QueueSettings",
    "RetryMessage",
    "delay_for",
    "enqueue",
    "notice_ref",
]
