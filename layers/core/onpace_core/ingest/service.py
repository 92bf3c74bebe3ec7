"""The one ingest path: every format's events, the webhook's, ``onpace load``'s and re-applies alike.

A request is handled whole (docs/architecture.md, "One ingest path"):

1. one lookup of its raw events (duplicates, conflicts, voided targets) and identity rows;
2. a conflict (a stored event id with other content) refuses the request before anything is
   stored (``ConflictError``: 409);
3. each event is resolved to a student and enrollments (``ingest.identity``); one read of the
   touched enrollments' facts; the fold runs in memory (``facts.fold``);
4. the accepted events are archived whole (payload as received and parsed copy) in one S3
   object (``ingest.archive``): a failure here fails the request before anything is written;
5. the raw events' slim items are written, each with its outcome (folded, unmatched, ignored,
   voided): a dedupe window of ``ttl_days``, except quarantined events and inputs, kept
   ``long_ttl_days`` (docs/ingest.md, "Raw events: archive and dedupe window");
6. one conditional write per enrollment whose facts changed; one audit entry when some event
   was quarantined or voided.

Raw events are written before the facts. If a facts write fails after them, the request fails
(5xx) and the sender's retry finds its events stored: a duplicate whose outcome was ``folded``
is folded again, which changes nothing when it was folded already (the fold is idempotent:
instants only move forward, logs and inputs are keyed by event id) and finishes the job when it
was not. Limit: a sender that never retries leaves those facts unfolded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from onpace_rules.facts import ACTIVITY_KINDS
from onpace_rules.inputs import STUDENT_WIDE_KINDS, Input, input_to_dict

from onpace_core.audit.log import AuditEntry
from onpace_core.facts.fold import (
    ActivityOp,
    EnrollmentFacts,
    FoldOp,
    FoldRules,
    InputOp,
    RetractOp,
    changed_fields,
    enrollment_key,
    fold_enrollment,
)
from onpace_core.ingest.errors import ConflictError
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.identity import IdentityMap, event_keys, resolve
from onpace_core.ingest.ports import ConditionFailed, IngestStore, RawRecord, is_void_marker
from onpace_core.ingest.raw_store import event_from_json, event_to_json
from onpace_core.roster.identities import IdentityRow

ACTOR = "ingest"
WRITE_ATTEMPTS = 5
FOLDED_STATUSES = ("folded", "received")


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    voided: int = 0
    unmatched: list[dict[str, str]] = field(default_factory=list)

    def as_response(self) -> dict[str, object]:
        parts = [f"{self.accepted} stored", f"{self.duplicates} already received"]
        if self.ignored:
            parts.append(f"{self.ignored} stored but counting for nothing")
        if self.voided:
            parts.append(f"{self.voided} voided")
        if self.unmatched:
            parts.append(f"{len(self.unmatched)} kept for students/classes not on the roster")
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "ignored": self.ignored,
            "voided": self.voided,
            "unmatched": self.unmatched,
            "message": ", ".join(parts),
        }


def _default_store() -> IngestStore:
    from onpace_core.ingest.archive import S3RawArchive
    from onpace_core.ingest.dynamo import DynamoIngestStore
    from onpace_core.settings import get_settings

    return DynamoIngestStore(archive=S3RawArchive(get_settings().raw_archive_bucket))


# -- resolution to enrollments ----------------------------------------------------------------


@dataclass
class _Placed:
    """Where one event goes: its targets and what it does there, or why it is kept unmatched."""

    event: LmsEvent
    student: str = ""
    class_id: str = ""
    targets: list[str] = field(default_factory=list)
    op: FoldOp | None = None
    reason: str | None = None


class _Planner:
    """Resolves events to enrollment keys with one facts read for the whole batch."""

    def __init__(self, district_id: str, store: IngestStore, identities: IdentityMap) -> None:
        self.district_id = district_id
        self.store = store
        self.identities = identities
        self.facts: dict[str, EnrollmentFacts] = {}
        self._students: dict[str, list[str]] = {}

    def _student_keys(self, student: str) -> list[str]:
        if student not in self._students:
            self._students[student] = self.store.student_enrollments(self.district_id, student)
        return self._students[student]

    def place(self, events: Sequence[LmsEvent]) -> list[_Placed]:
        resolved = [(e, resolve(e, self.identities)) for e in events]
        wanted: list[str] = []
        for event, r in resolved:
            if r.reason is not None or r.student is None:
                continue
            if r.classes is not None:
                wanted += [enrollment_key(self.district_id, c, r.student) for c in sorted(r.classes)]
            if r.classes is None or event.kind in STUDENT_WIDE_KINDS:
                wanted += self._student_keys(r.student)
        self.facts = self.store.facts(list(dict.fromkeys(wanted)))
        placed = []
        for event, r in resolved:
            first_student = event.student[0].value if event.student else ""
            first_class = event.course[0].value if event.course else ""
            if r.reason is not None or r.student is None:
                placed.append(
                    _Placed(event, first_student, first_class, reason=r.reason or "unknown student")
                )
                continue
            placed.append(self._targets(event, r.student, r.classes, first_class))
        return placed

    def _targets(
        self, event: LmsEvent, student: str, classes: frozenset[str] | None, sent_class: str
    ) -> _Placed:
        facts = self.facts
        own: list[str] = []
        own_class = ""
        if classes is not None:
            found = [
                (c, k)
                for c in sorted(classes)
                if (k := enrollment_key(self.district_id, c, student)) in facts
                and facts[k].scope == "enrollment"
            ]
            own = [k for _, k in found]
            own_class = found[0][0] if found else ""
            if len(own) > 1:
                return _Placed(
                    event, student, sent_class, reason="ambiguous class: the student is in several"
                )
        if event.kind in ACTIVITY_KINDS:
            if classes is not None:
                targets = own
                reason = "no enrollment of this student in this class"
            else:
                targets = [
                    k
                    for k in self._student_keys(student)
                    if k in facts and facts[k].scope == "enrollment" and facts[k].live
                ]
                reason = "no active enrollment of this student"
            if not targets:
                return _Placed(event, student, sent_class, reason=reason)
            fraction = None if event.percent_complete is None else round(event.percent_complete / 100.0, 6)
            op: FoldOp = ActivityOp(event.event_id, event.kind, event.occurred_at, fraction)
            return _Placed(event, student, own_class, targets, op)
        # An input: its own enrollment, and every item of the student for the student-wide kinds
        # or an input naming no class (the student-wide item included).
        targets = list(own)
        if classes is None or event.kind in STUDENT_WIDE_KINDS:
            targets += [k for k in self._student_keys(student) if k in facts and k not in targets]
        if not targets or (classes is not None and not own and event.kind not in STUDENT_WIDE_KINDS):
            return _Placed(event, student, sent_class, reason="no enrollment of this student for this input")
        class_id = own_class or None
        item = Input(
            event_id=event.event_id,
            kind=event.kind,  # type: ignore[arg-type]
            # The program's local date is worked out from ``at`` when the enrollment is evaluated.
            on=event.occurred_at.astimezone(UTC).date(),
            at=event.occurred_at,
            data=event.data,
            class_id=class_id,
        )
        op = InputOp(event.event_id, json.dumps(input_to_dict(item)), event.occurred_at)
        return _Placed(event, student, class_id or "", targets, op)


# -- folding ----------------------------------------------------------------------------------


def _fold_all(
    store: IngestStore, district_id: str, facts: dict[str, EnrollmentFacts], ops: dict[str, list[FoldOp]]
) -> int:
    """Fold each enrollment's ops and write those that changed; returns how many were written.

    A write that loses to a concurrent one re-reads that enrollment and folds again.
    """
    rules: dict[str, FoldRules] = {}
    written = 0
    for key, enrollment_ops in ops.items():
        old = facts.get(key)
        for attempt in range(WRITE_ATTEMPTS):
            if old is None:
                break
            if old.program_id not in rules:
                rules[old.program_id] = store.rules(district_id, old.program_id)
            new = fold_enrollment(old, enrollment_ops, rules[old.program_id])
            if not changed_fields(old, new):
                break
            try:
                store.write_facts(old, new)
            except ConditionFailed:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                old = store.facts([key]).get(key)
                continue
            written += 1
            break
    return written


def _record(
    district_id: str,
    event: LmsEvent,
    status: str,
    now: datetime,
    placed: _Placed | None = None,
    reason: str | None = None,
) -> RawRecord:
    return RawRecord(
        district_id=district_id,
        event_id=event.event_id,
        source=event.source,
        status=status,
        received_at=now,
        occurred_at=event.occurred_at,
        student_id=placed.student if placed else (event.student[0].value if event.student else ""),
        class_id=placed.class_id if placed else (event.course[0].value if event.course else ""),
        kind=event.kind or "",
        payload=event.payload,
        event=event_to_json(event),
        digest=event.digest,
        reason=reason if reason is not None else (placed.reason if placed else None),
        enrollments=tuple(placed.targets) if placed and status == "folded" else (),
    )


def _unmatched_entry(placed: _Placed) -> dict[str, str]:
    return {
        "event_id": placed.event.event_id,
        "student": placed.event.student[0].value if placed.event.student else "",
        "class": placed.event.course[0].value if placed.event.course else "",
        "reason": placed.reason or "",
    }


def _unique(events: Sequence[LmsEvent], report: IngestReport) -> tuple[dict[str, LmsEvent], list[str]]:
    """Each event id once; an id repeated with other content is a conflict, with the same a duplicate."""
    unique: dict[str, LmsEvent] = {}
    conflicts: list[str] = []
    for event in events:
        seen = unique.get(event.event_id)
        if seen is None:
            unique[event.event_id] = event
        elif seen.digest != event.digest:
            conflicts.append(event.event_id)
        else:
            # By id, not identity: the same event object given twice is a repeat too.
            report.duplicates += 1
    return unique, conflicts


@dataclass
class _Batch:
    """What one request writes: raw records, fold operations per enrollment, keys to read."""

    records: list[RawRecord] = field(default_factory=list)
    ops: dict[str, list[FoldOp]] = field(default_factory=dict)
    retracted: list[str] = field(default_factory=list)  # enrollment keys a void touches

    def fold(self, key: str, op: FoldOp) -> None:
        self.ops.setdefault(key, []).append(op)


def _kept_long(record: RawRecord) -> bool:
    """Items a later request needs beyond the dedupe window: a quarantined event (a roster load
    re-applies it from its item) and an input (rare, and a void of it weeks later must find
    which enrollments to take it back from). Activity and voids live for the window only."""
    return record.status == "unmatched" or (
        record.status == "folded" and bool(record.kind) and record.kind not in ACTIVITY_KINDS
    )


def _with_expiry(records: list[RawRecord], long_ttl_days: int | None) -> list[RawRecord]:
    if long_ttl_days is None:
        return records
    return [
        replace(r, expires_at=r.received_at + timedelta(days=long_ttl_days))
        if r.expires_at is None and _kept_long(r)
        else r
        for r in records
    ]


def ingest_events(
    *,
    district_id: str,
    source: str,
    events: Sequence[LmsEvent],
    now: datetime,
    ttl_days: int,
    long_ttl_days: int | None = None,
    store: IngestStore | None = None,
) -> IngestReport:
    """Store the request's events, fold them into facts, report (see the module docstring).

    ``ttl_days``: how long a raw event's item is kept (the dedupe window, ``RawEventTtlDays``);
    ``long_ttl_days``: the same for quarantined events and inputs (``RawArchiveDays``; None:
    ``ttl_days`` for every item)."""
    store = store or _default_store()
    report = IngestReport()
    unique, conflicts = _unique(events, report)
    targets = [e.voids for e in unique.values() if e.voids]
    keys = list(dict.fromkeys(k for e in unique.values() for k in event_keys(e)))
    raws, identities = store.lookup(district_id, list(dict.fromkeys([*unique, *targets])), keys)
    for event in unique.values():
        stored = raws.get(event.event_id)
        if stored is not None and stored.digest and event.digest and stored.digest != event.digest:
            conflicts.append(event.event_id)
    if conflicts:
        raise ConflictError(sorted(set(conflicts)))

    batch = _Batch()
    to_place, redo = _sort_out(district_id, unique, raws, batch, report, now)
    planner = _Planner(district_id, store, identities)
    for p in planner.place(to_place):
        if p.event.event_id in redo:  # a duplicate: folded again, its raw item left as it is
            for key in p.targets:
                if p.op is not None:
                    batch.fold(key, p.op)
        elif p.reason is not None or p.op is None:
            report.unmatched.append(_unmatched_entry(p))
            batch.records.append(_record(district_id, p.event, "unmatched", now, p))
        else:
            for key in p.targets:
                batch.fold(key, p.op)
            batch.records.append(_record(district_id, p.event, "folded", now, p))
    # What this request accepted: every record so far is a new event's; what ``_apply_voids``
    # adds (markers, voided targets' new status) carries no event of this request.
    accepted = list(batch.records)
    _apply_voids(district_id, unique, raws, batch, report, now)

    missing = [k for k in dict.fromkeys(batch.retracted) if k not in planner.facts]
    facts = {**planner.facts, **(store.facts(missing) if missing else {})}
    # Archived before any write: if S3 fails the request fails with nothing stored, and the
    # sender's retry starts again (a raw item without its archived body would be acknowledged
    # as a duplicate on that retry and its body lost).
    store.archive(district_id, now, accepted)
    if batch.records:
        store.put_raw(_with_expiry(batch.records, long_ttl_days), ttl_days)
    _fold_all(store, district_id, facts, batch.ops)
    _audit_request(store, district_id, source, report, now)
    return report


def _sort_out(
    district_id: str,
    unique: dict[str, LmsEvent],
    raws: dict[str, RawRecord],
    batch: _Batch,
    report: IngestReport,
    now: datetime,
) -> tuple[list[LmsEvent], set[str]]:
    """Duplicates, voided, void and ignored events take their records; returns the events to
    place (new ones, and duplicates whose outcome was ``folded``, folded again) and those duplicates."""
    voided_here = {e.voids for e in unique.values() if e.voids}
    to_place: list[LmsEvent] = []
    redo: set[str] = set()
    for event in unique.values():
        stored = raws.get(event.event_id)
        tombstone = stored is not None and is_void_marker(stored)
        if stored is not None and not tombstone:
            report.duplicates += 1
            again = event.kind is not None and not event.voids and event.event_id not in voided_here
            if stored.status in FOLDED_STATUSES and again:
                to_place.append(event)
                redo.add(event.event_id)
            continue
        report.accepted += 1
        if tombstone or event.event_id in voided_here:
            report.voided += 1
            batch.records.append(_record(district_id, event, "voided", now, reason="voided"))
        elif event.voids:
            batch.records.append(_record(district_id, event, "folded", now))
        elif event.kind is None:
            report.ignored += 1
            reason = event.ignored or "not used by any rule"
            batch.records.append(_record(district_id, event, "ignored", now, reason=reason))
        else:
            to_place.append(event)
    return to_place, redo


def _apply_voids(
    district_id: str,
    unique: dict[str, LmsEvent],
    raws: dict[str, RawRecord],
    batch: _Batch,
    report: IngestReport,
    now: datetime,
) -> None:
    """Voids of events stored before take back what those set and mark them voided; a void of an
    event not yet received leaves a ``voided`` marker its event finds when it comes."""
    handled: set[str] = set()
    for void in (e for e in unique.values() if e.voids):
        target_id = void.voids or ""
        if target_id in handled:
            continue  # two voids of one event in one request: once is enough
        handled.add(target_id)
        target = raws.get(target_id)
        if target is None or is_void_marker(target):
            if target_id in unique or target is not None:
                continue  # arrives in this request (stored voided), or already marked
            batch.records.append(
                RawRecord(
                    district_id=district_id,
                    event_id=target_id,
                    source=void.source,
                    status="voided",
                    received_at=now,
                    occurred_at=void.occurred_at,
                    reason=f"voided by {void.event_id} before it arrived",
                )
            )
            continue
        keys = list(target.enrollments) or (
            [enrollment_key(district_id, target.class_id, target.student_id)] if target.class_id else []
        )
        for key in keys:
            batch.fold(key, RetractOp(target.event_id))
            batch.retracted.append(key)
        if target.status != "voided":
            report.voided += 1
            batch.records.append(replace(target, status="voided", reason=f"voided by {void.event_id}"))


def _audit_request(
    store: IngestStore, district_id: str, source: str, report: IngestReport, now: datetime
) -> None:
    if not report.unmatched and not report.voided:
        return
    summary = []
    if report.unmatched:
        summary.append(
            f"{len(report.unmatched)} {source} event(s) name a student or class that is not on the roster; "
            "kept for review and re-applied at the next roster or mapping load"
        )
    if report.voided:
        summary.append(f"{report.voided} {source} event(s) voided")
    store.audit(
        district_id,
        AuditEntry(
            type="ingest.unmatched" if report.unmatched else "ingest.voided",
            actor=ACTOR,
            summary="; ".join(summary),
            detail={"source": source, "events": report.unmatched, "voided": report.voided},
        ),
        now,
    )


# -- quarantine -------------------------------------------------------------------------------


def _legacy_event(record: RawRecord) -> LmsEvent | None:
    """An unmatched item written before the parsed event was kept: its roster ids as it named them."""
    if record.kind not in ACTIVITY_KINDS or not record.student_id:
        return None
    return LmsEvent(
        event_id=record.event_id,
        source=record.source,
        occurred_at=record.occurred_at,
        student=(Ref("sourcedId", record.student_id),),
        course=(Ref("sourcedId", record.class_id),) if record.class_id else (),
        kind=record.kind,
        payload=record.payload,
    )


def reapply_unmatched(district_id: str, *, now: datetime, store: IngestStore | None = None) -> int:
    """Resolve the district's quarantined events again and fold those that now match; returns how many.

    Called after every roster load and mapping load. Reads the sparse ``unmatched`` index (a
    Query, never a Scan); what still matches nobody stays there.
    """
    store = store or _default_store()
    kept = store.unmatched(district_id)
    events: list[tuple[RawRecord, LmsEvent]] = []
    for record in kept:
        event = event_from_json(record.event, record.payload) if record.event else _legacy_event(record)
        if event is not None:
            events.append((record, event))
    if not events:
        return 0
    keys = list(dict.fromkeys(k for _, e in events for k in event_keys(e)))
    _, identities = store.lookup(district_id, [], keys)
    planner = _Planner(district_id, store, identities)
    placed = planner.place([e for _, e in events])
    ops: dict[str, list[FoldOp]] = {}
    records: list[RawRecord] = []
    for (record, _), p in zip(events, placed, strict=True):
        if p.reason is not None or p.op is None:
            continue
        for key in p.targets:
            ops.setdefault(key, []).append(p.op)
        records.append(
            replace(
                record,
                status="folded",
                reason=None,
                student_id=p.student,
                class_id=p.class_id,
                enrollments=tuple(p.targets),
            )
        )
    if not records:
        return 0
    store.put_raw(records, ttl_days=0)
    _fold_all(store, district_id, planner.facts, ops)
    store.audit(
        district_id,
        AuditEntry(
            type="ingest.reapplied",
            actor=ACTOR,
            summary=f"{len(records)} quarantined event(s) now match the roster and were folded",
            detail={"events": [r.event_id for r in records]},
        ),
        now,
    )
    return len(records)


def load_identities(
    district_id: str,
    rows: Iterable[IdentityRow],
    *,
    origin: str,
    now: datetime,
    store: IngestStore | None = None,
) -> tuple[int, int]:
    """Save identity map rows (``origin`` roster or admin), then re-apply the quarantine.

    Returns (rows saved, events re-applied).
    """
    store = store or _default_store()
    saved = store.save_identities(district_id, list(rows), origin)
    return saved, reapply_unmatched(district_id, now=now, store=store)


def record_rejection(
    district_id: str, source: str, status: int, reason: str, now: datetime, *, code: str | None = None
) -> None:
    """Count a refused webhook in its minute's window (``ingest/refusals.py``): the sweep audits
    each window once, with its count, so refusals cannot flood the district's log. ``reason`` is
    the message the sender got (the window keeps its first); ``code`` the error code it carried."""
    from onpace_core.ingest.refusals import count_refusal

    count_refusal(district_id, source, status, reason, now, code=code)
