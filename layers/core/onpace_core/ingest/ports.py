"""The storage the ingest service needs, as a port with two adapters: DynamoDB
(``ingest.dynamo``, deployed) and in memory (``MemoryIngestStore`` here: unit tests, replay checks).

The port is shaped by request cost: ``lookup`` reads the raw events and the identity rows of a
whole request together (one BatchGetItem per 100 keys), ``facts`` the touched enrollments
together, ``archive`` writes the request's accepted events to the raw archive (one S3 object,
``ingest.archive``) and ``put_raw`` their slim items (one BatchWriteItem per 25).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from onpace_core.audit.log import AuditEntry
from onpace_core.facts.fold import EnrollmentFacts, FoldRules
from onpace_core.ingest.identity import IdentityKey, as_map
from onpace_core.roster.identities import IdentityRow


@dataclass(frozen=True)
class RawRecord:
    """A raw event as kept: ``status`` folded | unmatched | ignored | voided."""

    district_id: str
    event_id: str
    source: str
    status: str
    received_at: datetime
    occurred_at: datetime
    student_id: str = ""
    class_id: str = ""
    kind: str = ""
    payload: str = ""
    event: str = ""  # JSON of the parsed event (``ingest.stored``)
    digest: str = ""
    reason: str | None = None
    enrollments: tuple[str, ...] = ()
    expires_at: datetime | None = None


def slim(record: RawRecord) -> RawRecord:
    """The record as its item keeps it: no ``payload`` (the archive has it), and the parsed
    ``event`` only while it is quarantined (a re-apply resolves it again)."""
    return replace(record, payload="", event=record.event if record.status == "unmatched" else "")


def is_void_marker(record: RawRecord) -> bool:
    """A void that arrived before its event: ``voided`` with no digest. Told by the digest, not by
    a missing ``event`` — slim items of voided events have no ``event`` either, but keep their
    digest; items written before the slimming have both or (a marker) neither."""
    return record.status == "voided" and not record.digest and not record.event


class ConditionFailed(Exception):
    """A conditional facts write lost to a concurrent writer: re-read and fold again."""


class IngestStore(Protocol):
    def lookup(
        self, district_id: str, event_ids: Sequence[str], identities: Sequence[IdentityKey]
    ) -> tuple[dict[str, RawRecord], dict[IdentityKey, frozenset[str]]]:
        """Stored raw events by id, and identity rows by key (missing ones absent)."""
        ...

    def student_enrollments(self, district_id: str, student_id: str) -> list[str]:
        """Every enrollment key of the student (the student-wide item included)."""
        ...

    def facts(self, keys: Sequence[str]) -> dict[str, EnrollmentFacts]:
        """The facts of the enrollments that exist among ``keys``."""
        ...

    def rules(self, district_id: str, program_id: str) -> FoldRules: ...

    def write_facts(self, old: EnrollmentFacts, new: EnrollmentFacts) -> None:
        """Write what changed, only if ``old`` is still what is stored; else ``ConditionFailed``."""
        ...

    def archive(self, district_id: str, received_at: datetime, records: Sequence[RawRecord]) -> None:
        """Keep the request's accepted events whole (payload and parsed copy) before anything
        else is written; raise if they were not kept (the request then fails, 5xx)."""
        ...

    def put_raw(self, records: Sequence[RawRecord], ttl_days: int) -> None:
        """Write the records' items (``slim``); a record without ``expires_at`` expires
        ``ttl_days`` after it was received."""
        ...

    def unmatched(self, district_id: str) -> list[RawRecord]:
        """The district's quarantined events (an index query, never a scan)."""
        ...

    def save_identities(self, district_id: str, rows: Sequence[IdentityRow], origin: str) -> int:
        """Save map rows; a roster's rows never replace an admin's for the same reference, and a
        row stored as it is now is not written again. Returns the rows written."""
        ...

    def audit(self, district_id: str, entry: AuditEntry, now: datetime) -> None: ...


@dataclass
class MemoryIngestStore:
    """The port over dicts: every rule of the service runs here as it does on DynamoDB."""

    raw: dict[tuple[str, str], RawRecord] = field(default_factory=dict)
    identities: dict[tuple[str, IdentityKey], tuple[frozenset[str], str]] = field(default_factory=dict)
    enrollments: dict[str, EnrollmentFacts] = field(default_factory=dict)
    by_student: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    programs: dict[tuple[str, str], FoldRules] = field(default_factory=dict)
    audited: list[AuditEntry] = field(default_factory=list)
    archived: list[tuple[str, tuple[RawRecord, ...]]] = field(default_factory=list)  # district, records
    writes: int = 0

    def add_enrollment(self, district_id: str, class_id: str, student_id: str, **facts: object) -> str:
        key = f"{district_id}#{class_id}#{student_id}"
        self.enrollments[key] = EnrollmentFacts(key=key, **facts)  # type: ignore[arg-type]
        self.by_student.setdefault((district_id, student_id), []).append(key)
        return key

    def lookup(
        self, district_id: str, event_ids: Sequence[str], identities: Sequence[IdentityKey]
    ) -> tuple[dict[str, RawRecord], dict[IdentityKey, frozenset[str]]]:
        raws = {i: self.raw[(district_id, i)] for i in event_ids if (district_id, i) in self.raw}
        rows = {
            k: self.identities[(district_id, k)][0] for k in identities if (district_id, k) in self.identities
        }
        return raws, rows

    def student_enrollments(self, district_id: str, student_id: str) -> list[str]:
        return list(self.by_student.get((district_id, student_id), ()))

    def facts(self, keys: Sequence[str]) -> dict[str, EnrollmentFacts]:
        return {k: self.enrollments[k] for k in keys if k in self.enrollments}

    def rules(self, district_id: str, program_id: str) -> FoldRules:
        return self.programs.get((district_id, program_id), FoldRules())

    def write_facts(self, old: EnrollmentFacts, new: EnrollmentFacts) -> None:
        current = self.enrollments.get(old.key)
        if current is None or current.seq != old.seq:
            raise ConditionFailed(old.key)
        self.enrollments[old.key] = replace(new, seq=(old.seq or 0) + 1)
        self.writes += 1

    def archive(self, district_id: str, received_at: datetime, records: Sequence[RawRecord]) -> None:
        if records:
            self.archived.append((district_id, tuple(records)))

    def put_raw(self, records: Sequence[RawRecord], ttl_days: int) -> None:
        for record in records:
            self.raw[(record.district_id, record.event_id)] = slim(record)

    def unmatched(self, district_id: str) -> list[RawRecord]:
        found = [r for (d, _), r in self.raw.items() if d == district_id and r.status == "unmatched"]
        return sorted(found, key=lambda r: r.received_at)

    def save_identities(self, district_id: str, rows: Sequence[IdentityRow], origin: str) -> int:
        grouped = as_map(rows)
        saved = 0
        for key, ids in grouped.items():
            current = self.identities.get((district_id, key))
            if origin == "roster" and current is not None and current[1] == "admin":
                continue
            if current == (ids, origin):  # stored as it is: not written again
                continue
            self.identities[(district_id, key)] = (ids, origin)
            saved += 1
        return saved

    def audit(self, district_id: str, entry: AuditEntry, now: datetime) -> None:
        self.audited.append(entry)
