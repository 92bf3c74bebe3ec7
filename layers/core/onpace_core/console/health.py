"""Health of a district's pipeline: rejected and quarantined events, parked failures (the DLQs'
contents as the audit log records them), suppressed addresses, and per rule and day the notices
decided, sent and delivered.

Cost: one Query of the district's audit partition newest first, read until an entry older than
``days`` (every entry of the period is read: some tens of thousands for a large district's week,
a few MB, a few hundred read units with eventual consistency); one Query of the sparse
``failures`` index, one of the ``unmatched`` index, one of the Suppressions partition.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onpace_core.audit.log import AuditModel, iso_instant, read_failures, utc_now
from onpace_core.console.common import detail_of
from onpace_core.console.queues import QuarantinedEvent, quarantined_events
from onpace_core.delivery.suppression import Suppression, list_suppressions
from onpace_core.store.models import RawEventModel

RECENT = 20
MAX_DAYS = 31


@dataclass(frozen=True)
class Rejected:
    seq: int
    at: str
    summary: str
    reason: str | None


@dataclass(frozen=True)
class Parked:
    seq: int
    at: str
    type: str  # evaluation.failed | delivery.failed
    summary: str
    student_id: str | None
    class_id: str | None
    error: str | None


@dataclass(frozen=True)
class RuleDay:
    rule_id: str
    on: str  # the program-local day the notices were decided for
    decided: int = 0
    sent: int = 0  # notices with at least one recipient handed to SES (``notice.sent``)
    delivered: int = 0  # recipients SES reported delivered


@dataclass
class Health:
    since: str
    entries_read: int
    rejected_count: int
    rejected_recent: list[Rejected]
    quarantined_count: int
    quarantined_recent: list[QuarantinedEvent]
    parked: list[Parked]
    suppressed: list[Suppression]
    per_rule_day: list[RuleDay] = field(default_factory=list)


def _count(detail: dict[str, object]) -> int:
    # One entry per closed minute window of refusals, carrying its count (ingest/refusals.py).
    value = detail.get("count")
    return int(value) if isinstance(value, int) and value > 0 else 1


def health(district_id: str, *, days: int = 7, now: datetime | None = None) -> Health:
    """The district's health over the last ``days`` days."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    since = iso_instant((now or utc_now()) - timedelta(days=days))
    rejected_count = 0
    rejected: list[Rejected] = []
    decided: Counter[tuple[str, str]] = Counter()
    # A notice to several addresses is settled once per letter that carried it: count notices.
    sent: dict[tuple[str, str], set[str]] = {}
    delivered: Counter[tuple[str, str]] = Counter()
    read = 0
    for entry in AuditModel.query(district_id, scan_index_forward=False):
        if entry.at < since:
            break
        read += 1
        if entry.type == "ingest.rejected":
            detail = detail_of(entry)
            rejected_count += _count(detail)
            if len(rejected) < RECENT:
                reason = detail.get("reason") or detail.get("code")
                rejected.append(
                    Rejected(int(entry.seq), entry.at, entry.summary, str(reason) if reason else None)
                )
            continue
        if not entry.rule_id or not entry.on:
            continue
        key = (entry.rule_id, entry.on)
        if entry.type in ("notice.decided", "action.taken"):
            decided[key] += 1
        elif entry.type == "notice.sent":
            sent.setdefault(key, set()).add(entry.notice_id or str(entry.seq))
        elif entry.type == "delivery.delivered":
            delivered[key] += 1
    quarantined = quarantined_events(district_id, limit=RECENT)
    # Select=COUNT over the sparse index: the quarantine's size without reading its items.
    quarantined_count = RawEventModel.unmatched_index.count(district_id)
    parked = [
        Parked(
            seq=int(e.seq),
            at=e.at,
            type=e.type,
            summary=e.summary,
            student_id=e.student_id,
            class_id=e.class_id,
            error=str(detail_of(e).get("error")) if detail_of(e).get("error") else None,
        )
        for e in read_failures(district_id, limit=100)
    ]
    keys = sorted(set(decided) | set(sent) | set(delivered), key=lambda k: (k[1], k[0]), reverse=True)
    return Health(
        since=since,
        entries_read=read,
        rejected_count=rejected_count,
        rejected_recent=rejected,
        quarantined_count=quarantined_count,
        quarantined_recent=quarantined,
        parked=parked,
        suppressed=list_suppressions(district_id),
        per_rule_day=[
            RuleDay(r, d, decided[(r, d)], len(sent.get((r, d), ())), delivered[(r, d)]) for r, d in keys
        ],
    )
