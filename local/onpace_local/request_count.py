"""Count the DynamoDB requests code makes, by operation and table, with botocore's event hooks.

Every pynamodb model talks through a botocore client; a ``before-call`` handler on each of
them sees each API call once (botocore's own retries happen below it). The raw archive's S3
client is hooked too (its calls counted as ``(operation, "s3")``). The tests of the ingest
request budget and the ingest benchmark count with this.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from onpace_core.ingest.archive import s3_client
from onpace_core.store.models import ALL_MODELS


class RequestCounts(Counter[tuple[str, str]]):
    """(operation, table[/index]) -> calls."""

    def of(self, operation: str, table: str | None = None) -> int:
        return sum(
            n
            for (op, name), n in self.items()
            if op == operation and (table is None or name.startswith(table))
        )

    def dynamodb(self) -> int:
        """DynamoDB requests only (``total()`` counts the raw archive's S3 calls too)."""
        return sum(n for (_, name), n in self.items() if name != "s3")


def _table(params: dict[str, Any]) -> str:
    if "TableName" in params:
        index = params.get("IndexName")
        return f"{params['TableName']}/{index}" if index else str(params["TableName"])
    items = params.get("RequestItems") or {}
    return ",".join(sorted(items))


@contextmanager
def counting_requests() -> Iterator[RequestCounts]:
    """Count the calls of every model's client inside the block (bind the models first)."""
    counts = RequestCounts()

    def before_call(model: Any, params: dict[str, Any], **_: Any) -> None:
        # ``params`` is the request as serialized: DynamoDB's is a JSON body.
        body = params.get("body") or b"{}"
        counts[(model.name, _table(json.loads(body)))] += 1

    def before_s3_call(model: Any, **_: Any) -> None:
        counts[(model.name, "s3")] += 1

    clients = _model_clients()
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", before_call, unique_id="onpace-count")
    archive = s3_client()
    archive.meta.events.register("before-call.s3", before_s3_call, unique_id="onpace-count")
    try:
        yield counts
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", unique_id="onpace-count")
        archive.meta.events.unregister("before-call.s3", unique_id="onpace-count")
    if _model_clients().keys() != clients.keys():
        # A handler imported (and so bound the models) inside the block: its calls went through
        # clients made after the hooks were registered, and the counts would silently miss them.
        raise RuntimeError("the models got new clients while counting: import the handlers first")


def _model_clients() -> dict[int, Any]:
    return {id(c): c for c in (m._get_connection().connection.client for m in ALL_MODELS)}
