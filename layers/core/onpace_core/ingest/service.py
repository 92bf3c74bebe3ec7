"""Accept a batch of verified, validated events: store, fold (activity) or attach (inputs), report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from onpace_rules.facts import ACTIVITY_KINDS
from onpace_rules.inputs import Input

from onpace_core.audit.log import AuditEntry, append
from onpace_core.facts.fold import Activity, FoldOutcome, fold
from onpace_core.facts.inputs import store_input
from onpace_core.ingest.event import LmsEvent
from onpace_core.ingest.raw_store import StoreOutcome, mark, store_raw

ACTOR = "ingest"


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    unmatched: list[dict[str, str]] = field(default_factory=list)

    def as_response(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "message": (
                f"{self.accepted} stored, {self.duplicates} already received"
                + (
                    f", {len(self.unmatched)} kept for students/classes not on the roster"
                    if self.unmatched
                    else ""
                )
            ),
        }


def ingest_events(
    *,
    district_id: str,
    source: str,
    events: Sequence[LmsEvent],
    now: datetime,
    ttl_days: int,
) -> IngestReport:
    """Store each event before anything else, then fold it into facts.

    A retried request finds its events stored and counts them as duplicates; an event whose
    folding was interrupted is folded again (folding is idempotent). Events for students or
    classes the roster does not know are kept, marked ``unmatched`` and reported.
    """
    report = IngestReport()
    for event in events:
        student, class_id = _roster_ids(event)
        stored = store_raw(
            district_id=district_id,
            source=source,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            student_id=student,
            class_id=class_id or "",
            kind=event.kind or "",
            payload=event.payload,
            received_at=now,
            ttl_days=ttl_days,
        )
        if stored is StoreOutcome.DUPLICATE:
            report.duplicates += 1
            continue
        if not _apply(district_id, event, student, class_id):
            mark(district_id, event.event_id, "unmatched")
            report.unmatched.append({"event_id": event.event_id, "student": student, "class": class_id or ""})
        else:
            mark(district_id, event.event_id, "folded")
        if stored is StoreOutcome.NEW:
            report.accepted += 1
        else:
            report.duplicates += 1
    if report.unmatched:
        append(
            district_id,
            [
                AuditEntry(
                    type="ingest.unmatched",
                    actor=ACTOR,
                    summary=(
                        f"{len(report.unmatched)} {source} event(s) name a student or class that is not "
                        "on the roster; kept for review"
                    ),
                    detail={"source": source, "events": report.unmatched},
                )
            ],
            now=now,
        )
    return report


def _roster_ids(event: LmsEvent) -> tuple[str, str | None]:
    """The roster ids the event names directly (identity mapping comes with issue 10)."""
    student = next((r.value for r in event.student if r.namespace == "sourcedId"), "")
    class_id = next((r.value for r in event.course if r.namespace == "sourcedId"), None)
    return student, class_id


def _apply(district_id: str, event: LmsEvent, student: str, class_id: str | None) -> bool:
    """Fold activity into facts, or store an input on its enrollments; False if nobody matched."""
    if event.kind in ACTIVITY_KINDS:
        if not student or class_id is None:
            return False
        outcome = fold(
            Activity(
                district_id=district_id,
                student_id=student,
                class_id=class_id,
                kind=event.kind,
                occurred_at=event.occurred_at,
                percent_complete=event.percent_complete,
                event_id=event.event_id,
            )
        )
        return outcome is not FoldOutcome.UNKNOWN_ENROLLMENT
    item = Input(
        event_id=event.event_id,
        kind=event.kind,  # type: ignore[arg-type]
        # The program's local date is worked out from ``at`` when the enrollment is evaluated.
        on=event.occurred_at.astimezone(UTC).date(),
        at=event.occurred_at,
        data=event.data,
        class_id=class_id,
    )
    return store_input(district_id, student, item) > 0


def record_rejection(district_id: str, source: str, status: int, reason: str, now: datetime) -> None:
    """Audit a refused webhook (a summary only: the body may hold student data)."""
    append(
        district_id,
        [
            AuditEntry(
                type="ingest.rejected",
                actor=ACTOR,
                summary=f"{source} webhook refused with {status}: {reason}",
                detail={"source": source, "status": status, "reason": reason},
            )
        ],
        now=now,
    )


class ConflictError(Exception):
    """Events whose ids are already stored with other content (xAPI answers 409); none was stored."""

    def __init__(self, event_ids: list[str]) -> None:
        super().__init__(f"already stored with other content: {', '.join(event_ids)}")
        self.event_ids = event_ids
