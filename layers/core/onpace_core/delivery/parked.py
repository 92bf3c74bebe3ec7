"""The audit entry of a notice given up on: its last attempt failed and it goes to ``NotifyDLQ``.

``NotifyDLQ`` holds every district's notices, and only operators read it; the district's own
record of a parked notice is this entry (``delivery.failed``), which the console's Failures page
lists (the ``failures`` index of the audit table). A re-drive that then delivers the notice is
audited as usual (``notice.sent`` with the same ``notice_id``), which the page looks for.
"""

from __future__ import annotations

from datetime import datetime

from onpace_rules.titles import rule_title

from onpace_core.audit.log import AuditEntry, append
from onpace_core.delivery.evidence import notice_entry
from onpace_core.delivery.retry import RetryMessage
from onpace_core.store.models import OutboxModel


def parked_entry(notice: OutboxModel, error: str, attempts: int) -> AuditEntry:
    """``delivery.failed`` for ``notice``: which rule, student and class, the error, the attempts."""
    who = notice.student_name or notice.student_id
    where = notice.class_title or notice.class_id
    return notice_entry(
        notice,
        "delivery.failed",
        f"{rule_title(notice.rule_id)} for {who} in {where}: delivery failed {attempts} times "
        f"({error}); parked in NotifyDLQ",
        {"error": error, "attempts": attempts, "status": notice.status},
    )


def audit_parked(message: RetryMessage, now: datetime | None = None) -> bool:
    """Append ``delivery.failed`` for the notice ``message`` gives up on (``message.attempt`` is the
    attempt that would come next); False when the outbox holds no such notice (nothing to audit)."""
    try:
        notice = OutboxModel.get(message.notice_id, consistent_read=True)
    except OutboxModel.DoesNotExist:
        return False
    entry = parked_entry(notice, message.error or "unknown", message.attempt - 1)
    append(notice.district_id, [entry], now=now)
    return True
