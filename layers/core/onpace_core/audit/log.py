"""Append to and read the audit log.

Each district's log is a keyed chain: entry ``seq`` stores (in ``hash``) the HMAC-SHA256, under
the district's chain key (``audit/keys.py``, derived in KMS), of the canonical form of every
attribute it stores, the index attributes included and ``prev_hash`` (the MAC of entry
``seq - 1``) among them. Changing, removing or reordering any entry breaks its MAC or the link
after it, and only a holder of the KMS key can compute new MACs. Appends take the next ``seq``
with a conditional put, so two writers never get the same number and never fork the chain.
Hourly signed checkpoints outside the table (``audit/checkpoint.py``) catch what the chain
alone cannot: a deleted tail, and a rewrite by a holder of the key. :func:`verify_chain`
checks both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from onpace_core.audit.checkpoint import StoredCheckpoint, checkpoint_keys, read_checkpoint
from onpace_core.audit.keys import bound_settings, district_key
from onpace_core.store.models import AuditModel

GENESIS = "0" * 64
_MAX_ATTEMPTS = 12
# Entries of work parked in a dead-letter queue: only these go into the sparse ``failures`` index.
FAILURE_TYPES = frozenset({"evaluation.failed", "delivery.failed"})


@dataclass(frozen=True)
class AuditEntry:
    """What happened, to whom, under which rule: one line of evidence."""

    type: str
    actor: str
    summary: str
    on: date | None = None
    rule_id: str | None = None
    policy_version: str | None = None
    program_id: str | None = None
    student_id: str | None = None
    class_id: str | None = None
    notice_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_instant(instant: datetime) -> str:
    """Fixed-width UTC form, so that string order is time order."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The attribute that holds the entry's own MAC: the one stored attribute the MAC cannot cover.
MAC_ATTRIBUTE = "hash"


def canonical(item: AuditModel) -> bytes:
    """Every attribute ``item`` stores but its MAC, in DynamoDB's typed form, as sorted JSON.

    Generic over the model: an attribute added to ``AuditModel`` (an index key, say) is covered
    the moment it exists, without this function naming it. Absent (null) attributes are left
    out, as DynamoDB leaves them out of the stored item.
    """
    content = {name: value for name, value in item.serialize().items() if name != MAC_ATTRIBUTE}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_mac(item: AuditModel, key: bytes) -> str:
    """The entry's MAC under the district's chain ``key`` (hex)."""
    return hmac.new(key, canonical(item), hashlib.sha256).hexdigest()


def _head(district_id: str) -> AuditModel | None:
    return next(
        iter(AuditModel.query(district_id, scan_index_forward=False, limit=1, consistent_read=True)), None
    )


def _item(district_id: str, seq: int, prev_hash: str, entry: AuditEntry, at: str) -> AuditModel:
    item = AuditModel(
        district_id=district_id,
        seq=seq,
        at=at,
        on=entry.on.isoformat() if entry.on else None,
        type=entry.type,
        actor=entry.actor,
        rule_id=entry.rule_id,
        policy_version=entry.policy_version,
        program_id=entry.program_id,
        student_id=entry.student_id,
        class_id=entry.class_id,
        notice_id=entry.notice_id,
        summary=entry.summary,
        detail=json.dumps(entry.detail, sort_keys=True, default=str, ensure_ascii=False),
        district_student=f"{district_id}#{entry.student_id}" if entry.student_id else None,
        district_rule=f"{district_id}#{entry.rule_id}" if entry.rule_id else None,
        district_failure=district_id if entry.type in FAILURE_TYPES else None,
        # The console's audit filters by class and by type (console/audit_query.py).
        district_class=f"{district_id}#{entry.class_id}" if entry.class_id else None,
        district_type=f"{district_id}#{entry.type}",
        prev_hash=prev_hash,
        hash="",
    )
    item.hash = entry_mac(item, district_key(district_id))
    return item


def append(district_id: str, entries: Sequence[AuditEntry], now: datetime | None = None) -> list[AuditModel]:
    """Append ``entries`` in order to the district's chain; returns the stored items.

    One read of the head, then one conditional put per entry. A put that loses a race to
    another writer re-reads the head and continues from there.
    """
    at = iso_instant(now or utc_now())
    stored: list[AuditModel] = []
    pending = list(entries)
    attempts = 0
    head = _head(district_id)
    while pending:
        seq = int(head.seq) + 1 if head else 1
        prev = head.hash if head else GENESIS
        item = _item(district_id, seq, prev, pending[0], at)
        try:
            item.save(condition=AuditModel.seq.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            attempts += 1
            if not _back_off(attempts):
                raise
            head = _head(district_id)
            continue
        stored.append(item)
        head = item
        pending.pop(0)
    return stored


def _back_off(attempts: int) -> bool:
    """Wait a little (jittered) before reading the head again; False once the attempts are spent."""
    if attempts >= _MAX_ATTEMPTS:
        return False
    time.sleep(random.uniform(0, 0.02 * attempts))
    return True


@dataclass(frozen=True)
class Claim:
    """A conditional update of another item that can succeed only once (or only from a known state).

    ``append_claimed`` writes it in one transaction with an audit entry, so that the entry exists
    exactly when the claim was taken: a re-run finds the claim taken and writes nothing.
    """

    item: Model
    actions: Sequence[Action]
    condition: Condition


def append_claimed(
    district_id: str, entry: AuditEntry, claim: Claim, now: datetime | None = None
) -> AuditModel | None:
    """Append ``entry`` together with ``claim``; ``None`` (nothing written) if the claim's condition fails.

    Like :func:`append`, a put that loses the next ``seq`` to another writer re-reads the head and
    tries again; the claim is tried again with it.
    """
    stored = append_claims(district_id, (entry,), (claim,), now)
    return stored[0] if stored else None


def append_claims(
    district_id: str, entries: Sequence[AuditEntry], claims: Sequence[Claim], now: datetime | None = None
) -> list[AuditModel] | None:
    """Append ``entries`` (in order) together with every one of ``claims``, in one transaction;
    ``None`` (nothing written) if any claim's condition fails. A letter settles its member
    notices this way (``delivery/letters.py``): all of them and their entries, or none."""
    at = iso_instant(now or utc_now())
    # A transaction spans tables; the audit table's connection has the region and endpoint bound.
    connection = AuditModel._get_connection().connection
    attempts = 0
    head = _head(district_id)
    while True:
        seq = int(head.seq) + 1 if head else 1
        prev = head.hash if head else GENESIS
        items: list[AuditModel] = []
        for offset, entry in enumerate(entries):
            item = _item(district_id, seq + offset, prev, entry, at)
            prev = item.hash
            items.append(item)
        try:
            with TransactWrite(connection=connection) as transaction:
                # pynamodb sends puts before updates: the entries' reasons first, then the claims'.
                for item in items:
                    transaction.save(item, condition=AuditModel.seq.does_not_exist())
                for claim in claims:
                    transaction.update(claim.item, list(claim.actions), condition=claim.condition)
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            codes = [reason.code if reason else None for reason in exc.cancellation_reasons]
            if "ConditionalCheckFailed" in codes[len(items) :]:
                return None
            # Lost the seq race, or a conflicting transaction on either item: read the head again.
            attempts += 1
            if not _back_off(attempts):
                raise
            head = _head(district_id)
            continue
        return items


def read(
    district_id: str,
    *,
    student_id: str | None = None,
    rule_id: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditModel]:
    """The district's entries newest first, optionally for one student and/or one rule."""
    range_condition = AuditModel.seq < before_seq if before_seq is not None else None
    results: Iterable[AuditModel]
    if student_id:
        results = AuditModel.by_student.query(
            f"{district_id}#{student_id}",
            range_key_condition=range_condition,
            filter_condition=(AuditModel.rule_id == rule_id) if rule_id else None,
            scan_index_forward=False,
        )
    elif rule_id:
        results = AuditModel.by_rule.query(
            f"{district_id}#{rule_id}", range_key_condition=range_condition, scan_index_forward=False
        )
    else:
        results = AuditModel.query(district_id, range_key_condition=range_condition, scan_index_forward=False)
    out: list[AuditModel] = []
    for item in results:
        out.append(item)
        if len(out) >= limit:
            break
    return out


def read_failures(district_id: str, *, before_seq: int | None = None, limit: int = 100) -> list[AuditModel]:
    """The district's failure entries (``FAILURE_TYPES``) newest first: one Query of the sparse
    ``failures`` index, which holds nothing else."""
    range_condition = AuditModel.seq < before_seq if before_seq is not None else None
    results = AuditModel.failures.query(
        district_id, range_key_condition=range_condition, scan_index_forward=False, limit=limit
    )
    return list(results)


def later_for_student(district_id: str, student_id: str, after_seq: int) -> Iterator[AuditModel]:
    """The student's entries written after ``after_seq``, oldest first (the ``by_student`` index)."""
    return iter(
        AuditModel.by_student.query(
            f"{district_id}#{student_id}", range_key_condition=AuditModel.seq > after_seq
        )
    )


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: intact, or the first bad entry and what is wrong with it.

    ``checkpoint`` names the checkpoint object a problem concerns (or the newest one checked);
    ``checkpoints_checked`` counts the signatures verified.
    """

    district_id: str
    entries: int
    intact: bool
    first_broken_seq: int | None = None
    problem: str | None = None
    checkpoint: str | None = None
    checkpoint_seq: int | None = None
    checkpoints_checked: int = 0


def _ascending(district_id: str) -> Iterator[AuditModel]:
    return iter(AuditModel.query(district_id, scan_index_forward=True, consistent_read=True))


def verify_chain(district_id: str, *, all_checkpoints: bool = False) -> ChainReport:
    """Check the district's chain in order, and against its checkpoints; report the first break.

    Every entry: ``seq`` follows the one before, ``prev_hash`` is that entry's MAC, and its own
    MAC under the district's key matches. The newest checkpoint (every one with
    ``all_checkpoints``): its signature verifies, the log still holds entry ``seq``, and that
    entry carries the MAC it recorded. Costs the chain's Queries, one KMS GenerateMac (the key),
    and per checkpoint checked one GetObject and one KMS Verify, plus the ListObjectsV2 pages.
    """
    checked: list[StoredCheckpoint] = []
    if bound_settings().audit_checkpoint_bucket:
        objects = list(checkpoint_keys(district_id))
        for name in objects if all_checkpoints else objects[-1:]:
            stored = read_checkpoint(district_id, name)
            if not stored.signature_valid or stored.checkpoint is None:
                return ChainReport(district_id, 0, False, None, stored.problem, name, None, len(checked))
            checked.append(stored)
    newest = checked[-1] if checked else None
    newest_key = newest.object_key if newest else None
    newest_seq = newest.checkpoint.seq if newest and newest.checkpoint else None
    pinned: dict[int, list[StoredCheckpoint]] = {}
    for stored in checked:
        assert stored.checkpoint is not None
        pinned.setdefault(stored.checkpoint.seq, []).append(stored)

    def broken(seq: int | None, count: int, problem: str, key: str | None = newest_key) -> ChainReport:
        at = next((c.checkpoint.seq for c in checked if c.object_key == key and c.checkpoint), newest_seq)
        return ChainReport(district_id, count, False, seq, problem, key, at, len(checked))

    chain_key = district_key(district_id)
    prev = GENESIS
    expected_seq = 1
    count = 0
    last_matching: StoredCheckpoint | None = None
    for item in _ascending(district_id):
        count += 1
        seq = int(item.seq)
        if seq != expected_seq:
            return broken(expected_seq, count, f"entry {expected_seq} is missing (the next entry is {seq})")
        if item.prev_hash != prev:
            return broken(seq, count, f"entry {seq} does not follow entry {seq - 1} (its prev_hash differs)")
        if not hmac.compare_digest(entry_mac(item, chain_key), item.hash):
            return broken(seq, count, f"entry {seq} changed after it was written (its MAC does not match)")
        for stored in pinned.get(seq, []):
            assert stored.checkpoint is not None
            if not hmac.compare_digest(stored.checkpoint.mac, item.hash):
                since = (
                    f"after checkpoint {last_matching.object_key} (entry {seq_of(last_matching)}), "
                    if last_matching
                    else ""
                )
                return broken(
                    seq,
                    count,
                    f"entry {seq} is not the entry checkpoint {stored.object_key} recorded: the chain "
                    f"up to it was rewritten {since}and MACed again with the chain key",
                    stored.object_key,
                )
            last_matching = stored
        prev = item.hash
        expected_seq += 1
    if newest_seq is not None and count < newest_seq:
        return broken(
            count + 1,
            count,
            f"tail deleted after checkpoint {newest_key}: it recorded {newest_seq} entries, "
            f"the log holds {count} (entries {count + 1}..{newest_seq} are missing)",
        )
    return ChainReport(district_id, count, True, None, None, newest_key, newest_seq, len(checked))


def seq_of(stored: StoredCheckpoint) -> int | None:
    """The ``seq`` a checkpoint object recorded (``None`` if it was unreadable)."""
    return stored.checkpoint.seq if stored.checkpoint else None
