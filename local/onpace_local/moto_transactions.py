"""Make moto's TransactWriteItems cost what a transaction's items cost, not what its tables hold.

moto backs a transaction up by deep-copying every table it touches, once per item of the
transaction, so that it can put the tables back if a condition fails. The evaluator writes its
decisions in transactions of 24 items (audit entries and outbox items), and a test session's
tables hold thousands of items: each transaction copied them 24 times (minutes, and gigabytes).

Here a transaction of puts and condition checks is backed up by a shallow snapshot of each table
it touches (the item maps and the stream's records, not the items: a put replaces an item object,
it never changes one). A transaction with an update or a delete, which change items in place,
keeps moto's deep copy. Behaviour is moto's: the same writes, the same cancellation reasons, the
same stream records, the same rollback.

moto also keeps every model instance it ever made (each DynamoDB item version, stream record and
table copy) in a class-level list, for its dashboard (``/moto-api/data.json``): a session that
writes thousands of items makes that list, memory and every read of ``data.json`` grow without
end. DynamoDB's models are not tracked here (the tests read only SES messages from it).

moto also runs requests on threads without locking, and its rollback puts back whole tables: two
transactions at once could undo each other's writes. Transactions are serialized here (DynamoDB
isolates them), so that tests of concurrent writers test OnPace, not moto.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from typing import Any

_state = threading.local()
_lock = threading.Lock()
_installed = False


def _snapshot(table: Any) -> Any:
    snap = copy.copy(table)
    if table.has_range_key:
        snap.items = defaultdict(dict, {h: dict(v) for h, v in table.items.items()})
    else:
        snap.items = defaultdict(dict, table.items)
    if table.stream_shard is not None:
        shard = copy.copy(table.stream_shard)
        shard.items = list(table.stream_shard.items)
        snap.stream_shard = shard
    return snap


class _CopyModule:
    """Stands in for ``copy`` inside moto's DynamoDB backend: a table copy is a snapshot while a
    put-only transaction runs, a real deep copy otherwise."""

    def __init__(self, real: Any, table_type: type) -> None:
        self._real = real
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if getattr(_state, "cheap", False) and isinstance(value, self._table_type):
            return _snapshot(value)
        return self._real.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _Untracked(list[Any]):
    """An ``instances_tracked`` list that keeps nothing."""

    def append(self, value: Any) -> None:
        return None


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent)."""
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as models
    from moto.core.model_instances import model_data
    from moto.dynamodb.models.table import Table

    for service in ("dynamodb", "dynamodbstreams"):
        for cls in model_data.get(service, {}).values():
            cls.instances_tracked = _Untracked()  # type: ignore[attr-defined]

    original = models.DynamoDBBackend.transact_write_items
    models.copy = _CopyModule(copy, Table)  # type: ignore[assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        cheap = all(next(iter(item)) in ("Put", "ConditionCheck") for item in transact_items)
        with _lock:
            _state.cheap = cheap
            try:
                original(self, transact_items)
            finally:
                _state.cheap = False

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True
