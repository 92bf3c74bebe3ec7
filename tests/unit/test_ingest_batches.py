"""The DynamoDB adapter's batches: 100 keys a BatchGetItem, 25 items a BatchWriteItem, and what
DynamoDB leaves unprocessed sent again (with backoff) until done.

The client here is a fake DynamoDB that leaves part of each first request unprocessed, as
DynamoDB does under throttling; the adapter's own batching code runs unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from onpace_core.ingest import dynamo


class ThrottlingDynamo:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.stored: dict[str, dict[str, Any]] = {}
        self._throttled = False

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.calls.append(("BatchWriteItem", len(requests)))
        assert len(requests) <= 25
        if not self._throttled and len(requests) > 1:
            self._throttled = True
            kept, left = requests[:1], requests[1:]
        else:
            kept, left = requests, []
        for r in kept:
            item = r["PutRequest"]["Item"]
            self.stored[item["pk"]["S"]] = item
        return {"UnprocessedItems": {table: left} if left else {}}

    def batch_get_item(self, RequestItems: dict[str, dict[str, Any]]) -> dict[str, Any]:
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.calls.append(("BatchGetItem", len(keys)))
        assert len(keys) <= 100 and request["ConsistentRead"]
        answered, left = (keys[:10], keys[10:]) if len(keys) > 10 and not self._throttled else (keys, [])
        self._throttled = self._throttled or bool(left)
        found = [self.stored[k["pk"]["S"]] for k in answered if k["pk"]["S"] in self.stored]
        unprocessed = {table: {**request, "Keys": left}} if left else {}
        return {"Responses": {table: found}, "UnprocessedKeys": unprocessed}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> ThrottlingDynamo:
    client = ThrottlingDynamo()
    monkeypatch.setattr(dynamo, "_client", lambda: client)
    monkeypatch.setattr(dynamo, "_backoff", lambda attempt: None)
    return client


def test_writes_go_25_at_a_time_and_unprocessed_items_are_sent_again(fake: ThrottlingDynamo) -> None:
    items = [{"pk": {"S": f"k{i}"}} for i in range(60)]
    dynamo._batch_put("events", items)
    assert len(fake.stored) == 60
    assert fake.calls == [
        ("BatchWriteItem", 25),
        ("BatchWriteItem", 24),
        ("BatchWriteItem", 25),
        ("BatchWriteItem", 10),
    ]


def test_reads_go_100_at_a_time_and_unprocessed_keys_are_asked_again(fake: ThrottlingDynamo) -> None:
    fake.stored = {f"k{i}": {"pk": {"S": f"k{i}"}} for i in range(0, 250, 2)}
    found = dynamo._batch_get("events", [f"k{i}" for i in range(250)])
    assert sorted(item["pk"]["S"] for item in found) == sorted(fake.stored)
    assert fake.calls == [
        ("BatchGetItem", 100),
        ("BatchGetItem", 90),
        ("BatchGetItem", 100),
        ("BatchGetItem", 50),
    ]


def test_a_write_never_processed_fails_loudly(
    fake: ThrottlingDynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        fake,
        "batch_write_item",
        lambda RequestItems: {"UnprocessedItems": RequestItems},
    )
    with pytest.raises(RuntimeError, match="still unprocessed"):
        dynamo._batch_put("events", [{"pk": {"S": "k"}}])
