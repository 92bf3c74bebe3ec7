"""Batched appends to a district's audit chain, each entry written with the item it accounts for.

The evaluator's decisions are appended here: an audit entry and its outbox item go into the same
DynamoDB transaction, so a decision is in the audit log exactly when its notice is in the outbox
(a worker killed between the two writes cannot leave one without the other, and a re-run finds
the outbox item and writes neither again).

Concurrency: the chain stays one chain per district (the console reads it newest first, by
student and by rule). Each entry of a transaction is conditional on its ``seq`` not existing, so
two writers that read the same head cannot both write: one transaction is cancelled, and that
writer reads the head again and rebuilds its entries after the winner's. No fork, no gap. A
writer keeps the head it last wrote, so an uncontended worker reads the head once per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from onpace_core.audit.log import GENESIS, AuditEntry, _back_off, _head, _item, iso_instant
from onpace_core.store.models import AuditModel

# Actions per TransactWriteItems: DynamoDB allows 100 since 2022; moto server, which the tests
# run against, still 25. Two actions per decision (entry and item): 12 decisions a transaction.
TRANSACTION_ACTIONS = 25
PAIRS_PER_TRANSACTION = TRANSACTION_ACTIONS // 2

# Cancellation reasons worth another attempt (after a back-off): someone else's transaction on
# the same item, or throttling that outlasted botocore's own retries.
_RETRYABLE = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
_CONDITION = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Accounted:
    """An audit entry and the item whose first write it records (put on ``condition``)."""

    entry: AuditEntry
    item: Model
    condition: Condition


class ChainWriter:
    """Appends to one district's chain; reads the head lazily and again only after losing a race."""

    def __init__(self, district_id: str, now: datetime) -> None:
        self.district_id = district_id
        self._at = iso_instant(now)
        self._head: AuditModel | None = None
        self._head_known = False
        self.head_reads = 0
        self.transactions = 0
        # After a call that raised: ``settled[:settled_count]`` are the outcomes of the
        # transactions that went through before it.
        self.settled: list[bool] = []
        self.settled_count = 0

    def _current_head(self) -> AuditModel | None:
        if not self._head_known:
            self._head = _head(self.district_id)
            self._head_known = True
            self.head_reads += 1
        return self._head

    def append_with(self, records: Sequence[Accounted]) -> list[bool]:
        """Write each record's item and entry together, in transactions of ``PAIRS_PER_TRANSACTION``.

        Returns per record whether it was written (False: its item already existed, so neither
        was written now: a re-run or an overlapping run recorded it first). Raises the DynamoDB
        error of a transaction that failed for another reason; records of earlier transactions
        stay written.
        """
        written: list[bool] = [False] * len(records)
        self.settled = written
        self.settled_count = 0
        for start in range(0, len(records), PAIRS_PER_TRANSACTION):
            chunk = list(range(start, min(start + PAIRS_PER_TRANSACTION, len(records))))
            self._write(chunk, records, written)
            self.settled_count = chunk[-1] + 1
        return written

    def _write(self, todo: list[int], records: Sequence[Accounted], written: list[bool]) -> None:
        attempts = 0
        connection = AuditModel._get_connection().connection
        while todo:
            head = self._current_head()
            seq = int(head.seq) + 1 if head else 1
            prev = head.hash if head else GENESIS
            entries: list[AuditModel] = []
            for offset, index in enumerate(todo):
                entry = _item(self.district_id, seq + offset, prev, records[index].entry, self._at)
                prev = entry.hash
                entries.append(entry)
            try:
                with TransactWrite(connection=connection) as transaction:
                    for entry in entries:
                        transaction.save(entry, condition=AuditModel.seq.does_not_exist())
                    for index in todo:
                        transaction.save(records[index].item, condition=records[index].condition)
            except TransactWriteError as exc:
                if exc.cause_response_code != "TransactionCanceledException":
                    raise
                codes = [_code(reason) for reason in exc.cancellation_reasons or []]
                entry_codes, item_codes = codes[: len(entries)], codes[len(entries) :]
                existing = {i for i, code in zip(todo, item_codes, strict=False) if code == _CONDITION}
                others = {code for code in codes if code not in (None, _CONDITION)}
                if others - _RETRYABLE or not any(codes):
                    raise
                todo = [index for index in todo if index not in existing]
                lost_race = _CONDITION in entry_codes
                if lost_race:
                    self._head_known = False  # another writer appended: continue after its entries
                if lost_race or others:
                    attempts += 1
                    if not _back_off(attempts):
                        raise
                continue
            self.transactions += 1
            for index in todo:
                written[index] = True
            self._head, self._head_known = entries[-1], True
            todo = []


def _code(reason: object) -> str | None:
    code = getattr(reason, "code", None) if reason is not None else None
    return None if code in (None, "None") else str(code)
