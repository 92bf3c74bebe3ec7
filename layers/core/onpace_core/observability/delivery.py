"""``deliver`` with its counts, imported by the notify function.

Rendering (Jinja2, Babel) and meeting invitations (icalendar) are imported on the first
delivery, not at the function's cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onpace_core.observability import (
    DELIVERY_ERRORS,
    EMAILS_FAILED,
    EMAILS_SENT,
    EMAILS_SUPPRESSED,
    NOTICES_CANCELLED,
    NOTICES_FAILED,
    NOTICES_SENT,
    SES_SENDING_BLOCKED,
    count,
)

if TYPE_CHECKING:
    from onpace_core.delivery.sender import DeliveryResult


def deliver(*args: Any, **kwargs: Any) -> DeliveryResult:
    """``onpace_core.delivery.sender.deliver``, counted (same arguments).

    ``NoticesSent``: notices of which SES accepted at least one email in this call (a letter
    counts the notices it carried);
    ``NoticesFailed``: notices that ended ``failed`` (no recipient reached); ``NoticesCancelled``:
    warnings the re-check at send found resolved (``delivery/recheck.py``); ``EmailsSent`` and
    ``EmailsFailed`` per recipient, ``EmailsSuppressed`` (on the district's suppression list);
    ``DeliveryErrors``: calls that raised (to be retried); ``SesSendingBlocked``: notices SES
    refused for the whole account or configuration set (an alarm in template.yaml).
    """
    from onpace_core.delivery import sender

    try:
        result = sender.deliver(*args, **kwargs)
    except Exception:
        count(DELIVERY_ERRORS, 1)
        raise
    count(NOTICES_SENT, (result.letter_notices or 1) if result.sent_now else 0)
    count(NOTICES_FAILED, 1 if result.status == "failed" else 0)
    # A single warning the re-check cancelled, or a letter's members it left out.
    count(NOTICES_CANCELLED, result.letter_cancelled or (1 if result.resolved_by is not None else 0))
    count(EMAILS_SENT, result.sent_now)
    count(EMAILS_FAILED, sum(1 for o in result.outcomes if o.status == "failed"))
    count(EMAILS_SUPPRESSED, sum(1 for o in result.outcomes if o.status == "suppressed"))
    count(SES_SENDING_BLOCKED, 1 if result.blocked else 0)
    return result
