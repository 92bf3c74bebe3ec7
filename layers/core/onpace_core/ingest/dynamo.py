"""The ingest port on DynamoDB (and the raw archive on S3): batched reads and writes,
conditional facts updates.

Per request of N events (docs/architecture.md, "One ingest path"): ⌈(N + refs)/100⌉
BatchGetItem on the raw events table (duplicates and identity rows share it), one by_student
Query per student of a course-less event, ⌈enrollments/100⌉ BatchGetItem of the touched
enrollments' facts, one S3 PutObject of the accepted events (none when all are duplicates),
⌈N/25⌉ BatchWriteItem of raw events, one conditional UpdateItem per enrollment whose facts
change, and one audit append when there is something to report.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from onpace_rules.facts import ACTIVITY_KINDS
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from onpace_core.audit.log import AuditEntry, append
from onpace_core.facts.fold import EnrollmentFacts, FoldRules, short_id
from onpace_core.facts.program_rules import program_rules
from onpace_core.ingest.archive import RawArchive, archive_records
from onpace_core.ingest.identity import IdentityKey, as_map, identity_key
from onpace_core.ingest.ports import ConditionFailed, RawRecord
from onpace_core.ingest.raw_store import from_item, raw_key, to_item
from onpace_core.roster.identities import IdentityRow
from onpace_core.store.models import EnrollmentModel, IdentityModel, RawEventModel
from onpace_core.store.packed import (
    INSTANT_CHARS,
    KIND_CODES,
    KINDS_BY_CODE,
    pack_instant,
    stored_names,
    unpack_instant,
)

GET_BATCH = 100
WRITE_BATCH = 25
MAX_ATTEMPTS = 8

_FACT_ATTRIBUTES = stored_names(
    EnrollmentModel.get_attributes(),
    [
        "enrollment_key",
        "program_id",
        "status",
        "scope",
        *(f"last_{kind}_at" for kind in ACTIVITY_KINDS),
        "recent",
        "percent_complete",
        "percent_at",
        "percent_event",
        "percent_recent",
        "activity_log",
        "inputs",
        "wake_on",
        "facts_seq",
    ],
)


def _client() -> Any:
    return RawEventModel._get_connection().connection.client


def _backoff(attempt: int) -> None:
    time.sleep(min(1.0, 0.02 * (2**attempt)) * random.uniform(0.5, 1.0))


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _batch_get(table: str, keys: list[str]) -> list[dict[str, Any]]:
    """Every item of ``keys`` (pk) there is, one BatchGetItem per 100 keys plus retries of the unprocessed."""
    found: list[dict[str, Any]] = []
    client = _client()
    for chunk in _chunks(keys, GET_BATCH):
        request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": k}} for k in chunk], "ConsistentRead": True}}
        for attempt in range(MAX_ATTEMPTS):
            answer = client.batch_get_item(RequestItems=request)
            found.extend(answer.get("Responses", {}).get(table, []))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            _backoff(attempt)
        else:
            raise RuntimeError(f"BatchGetItem on {table}: keys still unprocessed after {MAX_ATTEMPTS} tries")
    return found


def _batch_put(table: str, items: list[dict[str, Any]]) -> None:
    """One BatchWriteItem per 25 items; unprocessed items are sent again with backoff."""
    client = _client()
    for chunk in _chunks(items, WRITE_BATCH):
        request: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        for attempt in range(MAX_ATTEMPTS):
            answer = client.batch_write_item(RequestItems=request)
            request = answer.get("UnprocessedItems") or {}
            if not request:
                break
            _backoff(attempt)
        else:
            raise RuntimeError(
                f"BatchWriteItem on {table}: items still unprocessed after {MAX_ATTEMPTS} tries"
            )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# ``recent`` and ``percent_recent`` as stored: each entry a packed instant
# (``store.packed.pack_instant``) then the event's ``short_id`` (6 characters); ``recent`` one
# string of such entries per kind code (``store.packed.KIND_CODES``), ``percent_recent`` one
# string per entry with the fraction after them (docs/scale.md, "Item sizes").
_SID = 6
_ENTRY = INSTANT_CHARS + _SID


def pack_recent(entries: Sequence[tuple[str, str]]) -> str:
    """One kind's ``recent`` entries (instant, short id) as stored."""
    return "".join(pack_instant(at) + sid for at, sid in entries)


def unpack_recent(stored: Any) -> tuple[tuple[str, str], ...]:
    """A kind's stored ``recent``; items written before the packing hold "instant event_id" strings."""
    if isinstance(stored, str):
        chunks = [stored[i : i + _ENTRY] for i in range(0, len(stored), _ENTRY)]
        return tuple((unpack_instant(c[:INSTANT_CHARS]), c[INSTANT_CHARS:]) for c in chunks)
    return tuple((str(e).split(" ", 1)[0], short_id(str(e).split(" ", 1)[1])) for e in stored)


def pack_percent(entry: tuple[str, float, str]) -> str:
    """One ``percent_recent`` entry (instant, fraction, short id) as stored."""
    at, fraction, sid = entry
    return f"{pack_instant(at)}{sid}{fraction!r}"


def unpack_percent(stored: str) -> tuple[str, float, str]:
    if " " in stored:  # written before the packing: "instant fraction event_id"
        at, fraction, event_id = stored.split(" ", 2)
        return at, float(fraction), short_id(event_id)
    return unpack_instant(stored[:INSTANT_CHARS]), float(stored[_ENTRY:]), stored[INSTANT_CHARS:_ENTRY]


def facts_of(item: EnrollmentModel) -> EnrollmentFacts:
    last: dict[str, str] = {k: v for k in ACTIVITY_KINDS if (v := getattr(item, f"last_{k}_at", None))}
    recent_raw = item.recent.as_dict() if item.recent else {}
    # Kinds by their stored code (by name on items written before the codes).
    recent = {KINDS_BY_CODE.get(str(k), str(k)): unpack_recent(entries) for k, entries in recent_raw.items()}
    percent_recent = tuple(unpack_percent(str(e)) for e in (item.percent_recent or ()))
    return EnrollmentFacts(
        key=item.enrollment_key,
        program_id=item.program_id or "",
        status=item.status or "active",
        scope=item.scope or "enrollment",
        last=last,
        recent=recent,
        percent=_number(item.percent_complete),
        percent_at=item.percent_at,
        percent_event=item.percent_event,
        percent_recent=percent_recent,
        activity_log={
            str(k): str(v) for k, v in (item.activity_log.as_dict() if item.activity_log else {}).items()
        },
        inputs={str(k): str(v) for k, v in (item.inputs.as_dict() if item.inputs else {}).items()},
        wake_on=item.wake_on,
        seq=int(item.facts_seq) if item.facts_seq is not None else None,
    )


def _map_actions(attribute: Any, old: dict[str, Any], new: dict[str, Any]) -> list[Action]:
    """Set and remove the entries of a map that changed (never the whole map: it may be large)."""
    actions: list[Action] = [attribute[k].set(v) for k, v in new.items() if old.get(k) != v]
    actions.extend(attribute[k].remove() for k in old if k not in new)
    return actions


def _actions(old: EnrollmentFacts, new: EnrollmentFacts) -> list[Action]:
    actions: list[Action] = []
    for kind in ACTIVITY_KINDS:
        before, after = old.last.get(kind), new.last.get(kind)
        if before != after:
            attribute = getattr(EnrollmentModel, f"last_{kind}_at")
            actions.append(attribute.set(after) if after is not None else attribute.remove())
    if old.recent != new.recent:
        actions.append(
            EnrollmentModel.recent.set(
                {KIND_CODES[k]: pack_recent(entries) for k, entries in new.recent.items()}
            )
        )
    if (old.percent, old.percent_at, old.percent_event) != (new.percent, new.percent_at, new.percent_event):
        if new.percent is None:
            actions += [
                EnrollmentModel.percent_complete.remove(),
                EnrollmentModel.percent_at.remove(),
                EnrollmentModel.percent_event.remove(),
            ]
        else:
            actions += [
                EnrollmentModel.percent_complete.set(new.percent),
                EnrollmentModel.percent_at.set(new.percent_at or ""),
                EnrollmentModel.percent_event.set(new.percent_event or ""),
            ]
    if old.percent_recent != new.percent_recent:
        actions.append(EnrollmentModel.percent_recent.set([pack_percent(e) for e in new.percent_recent]))
    if old.activity_log != new.activity_log:
        if not old.activity_log:
            actions.append(EnrollmentModel.activity_log.set(dict(new.activity_log)))
        else:
            actions += _map_actions(
                EnrollmentModel.activity_log, dict(old.activity_log), dict(new.activity_log)
            )
    if old.inputs != new.inputs:
        if not old.inputs:
            actions.append(EnrollmentModel.inputs.set(dict(new.inputs)))
        else:
            actions += _map_actions(EnrollmentModel.inputs, dict(old.inputs), dict(new.inputs))
    if old.wake_on != new.wake_on and new.wake_on is not None:
        actions.append(EnrollmentModel.wake_on.set(new.wake_on))
    return actions


def _condition(old: EnrollmentFacts, new: EnrollmentFacts) -> Condition:
    """Unchanged since read: ``facts_seq`` (every facts write bumps it) and, when the wake date
    moves, the wake date and status too (the evaluator writes those without bumping the seq)."""
    condition = EnrollmentModel.enrollment_key.exists()
    if old.seq is None:
        condition &= EnrollmentModel.facts_seq.does_not_exist()
    else:
        condition &= EnrollmentModel.facts_seq == old.seq
    if old.wake_on != new.wake_on:
        if old.wake_on is None:
            condition &= EnrollmentModel.wake_on.does_not_exist()
        else:
            condition &= EnrollmentModel.wake_on == old.wake_on
        condition &= EnrollmentModel.status == old.status
    return condition


class DynamoIngestStore:
    """``ingest.ports.IngestStore`` on the deployed tables (pynamodb models, bound at cold start)
    and the raw archive (``archive``; None: a store that only reads and re-applies, e.g. the
    roster's, and refuses to ingest)."""

    def __init__(
        self, rules: Callable[[str, str], FoldRules] | None = None, archive: RawArchive | None = None
    ) -> None:
        self._rules = rules
        self._archive = archive

    def lookup(
        self, district_id: str, event_ids: Sequence[str], identities: Sequence[IdentityKey]
    ) -> tuple[dict[str, RawRecord], dict[IdentityKey, frozenset[str]]]:
        by_key: dict[str, IdentityKey] = {identity_key(district_id, k, r): (k, r) for k, r in identities}
        keys = list(dict.fromkeys([raw_key(district_id, e) for e in event_ids] + list(by_key)))
        raws: dict[str, RawRecord] = {}
        rows: dict[IdentityKey, frozenset[str]] = {}
        for item in _batch_get(RawEventModel.Meta.table_name, keys):
            pk = item["pk"]["S"]
            if pk in by_key and "sourced_ids" in item:
                rows[by_key[pk]] = frozenset(IdentityModel.from_raw_data(item).sourced_ids)
            else:
                record = from_item(RawEventModel.from_raw_data(item))
                raws[record.event_id] = record
        return raws, rows

    def student_enrollments(self, district_id: str, student_id: str) -> list[str]:
        return [i.enrollment_key for i in EnrollmentModel.by_student.query(f"{district_id}#{student_id}")]

    def facts(self, keys: Sequence[str]) -> dict[str, EnrollmentFacts]:
        if not keys:
            return {}
        items = EnrollmentModel.batch_get(
            list(dict.fromkeys(keys)), consistent_read=True, attributes_to_get=_FACT_ATTRIBUTES
        )
        return {item.enrollment_key: facts_of(item) for item in items}

    def rules(self, district_id: str, program_id: str) -> FoldRules:
        if self._rules is not None:
            return self._rules(district_id, program_id)
        program = program_rules(district_id, program_id)
        if program is None:
            return FoldRules()
        return FoldRules.of(program)

    def write_facts(self, old: EnrollmentFacts, new: EnrollmentFacts) -> None:
        actions = _actions(old, new)
        if not actions:
            return
        actions.append(EnrollmentModel.facts_seq.add(1))
        try:
            EnrollmentModel(enrollment_key=old.key).update(actions=actions, condition=_condition(old, new))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ConditionFailed(old.key) from exc
            raise

    def archive(self, district_id: str, received_at: datetime, records: Sequence[RawRecord]) -> None:
        if not records:
            return
        if self._archive is None:
            raise RuntimeError("this store has no raw archive: events cannot be accepted through it")
        archive_records(self._archive, district_id, received_at, records)

    def put_raw(self, records: Sequence[RawRecord], ttl_days: int) -> None:
        _batch_put(RawEventModel.Meta.table_name, [to_item(r, ttl_days).serialize() for r in records])

    def unmatched(self, district_id: str) -> list[RawRecord]:
        return [from_item(i) for i in RawEventModel.unmatched_index.query(district_id)]

    def save_identities(self, district_id: str, rows: Sequence[IdentityRow], origin: str) -> int:
        grouped = as_map(rows)
        keyed = {
            identity_key(district_id, kind, ref): (kind, ref, ids) for (kind, ref), ids in grouped.items()
        }
        # One read of what is stored: an admin's mapping of the same reference wins over a
        # roster's, and a row stored as it is now is not written again (a daily roster load
        # writes only what changed).
        for item in _batch_get(RawEventModel.Meta.table_name, list(keyed)):
            stored_origin = item.get("origin", {}).get("S")
            stored_ids = frozenset(item.get("sourced_ids", {}).get("SS", ()))
            pk = item["pk"]["S"]
            admin_wins = origin == "roster" and stored_origin == "admin"
            unchanged = stored_origin == origin and stored_ids == keyed[pk][2]
            if admin_wins or unchanged:
                keyed.pop(pk, None)
        items = [
            IdentityModel(
                pk=pk,
                district_id=district_id,
                kind=kind,
                namespace=ref.namespace,
                value=ref.value,
                sourced_ids=set(ids),
                origin=origin,
            ).serialize()
            for pk, (kind, ref, ids) in keyed.items()
        ]
        _batch_put(IdentityModel.Meta.table_name, items)
        return len(items)

    def audit(self, district_id: str, entry: AuditEntry, now: datetime) -> None:
        append(district_id, [entry], now=now)
