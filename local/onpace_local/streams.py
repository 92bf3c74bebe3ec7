"""Plays Lambda's DynamoDB-stream event source mapping for the local stack.

Reads the stream that a function's ``Type: DynamoDB`` event names (from moto, over HTTP),
applies the event's FilterCriteria and BatchSize, invokes the real handler with the same event
shape Lambda sends, and honours ``batchItemFailures`` by retrying from the first failed record up
to ``MaximumRetryAttempts`` times, then sending the batch to the OnFailure destination.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar

from onpace_local.stack import LocalStack


def _ref_or_attr(stack: LocalStack, value: Any) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        logical, attribute = target if isinstance(target, list) else target.split(".", 1)
        return stack.attr(logical, attribute)
    if isinstance(value, dict) and "Ref" in value:
        return stack.ref(value["Ref"])
    return str(value)


def _matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    """The subset of EventBridge-style filter patterns the template uses: exact values per key."""
    for key, wanted in pattern.items():
        actual = record.get(key)
        if isinstance(wanted, dict):
            if not isinstance(actual, dict) or not _matches(wanted, actual):
                return False
        elif isinstance(wanted, list):
            if not any(
                actual == w or (isinstance(w, str) and fnmatch.fnmatch(str(actual), w)) for w in wanted
            ):
                return False
        elif actual != wanted:
            return False
    return True


def as_lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A copy of a ``GetRecords`` record shaped as Lambda's event source mapping delivers it."""
    shaped = copy.deepcopy(record)
    shaped.setdefault("eventSourceARN", stream_arn)
    shaped.setdefault("awsRegion", region)
    shaped.setdefault("eventSource", "aws:dynamodb")
    created = shaped.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        # boto3 parsed it into a datetime; Lambda sends epoch seconds.
        shaped["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    return shaped


@dataclass
class StreamCursor:
    """Reads a stream on from where it last stopped, shard by shard.

    Reading from TRIM_HORIZON on every look-up costs time in proportion to everything the session
    has written (one moto server serves the whole test session); a cursor reads each record once.
    """

    stack: LocalStack
    stream_arn: str
    # The last sequence number read per shard, not the iterator: an iterator names moto's shard
    # object, which a rolled-back transaction replaces with a copy (moto restores a backup).
    _last_read: dict[str, str | None] = field(default_factory=dict)

    def read(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The next records of one shard written since the last read, at most ``limit`` (a batch
        never mixes shards, as Lambda's never does); empty once every shard is read to its end."""
        streams = self.stack.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            last = self._last_read.get(shard_id)
            where: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                if last
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **where)
            records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=limit)["Records"]
            if records:
                self._last_read[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                return list(records)
        return []

    def read_all(self) -> list[dict[str, Any]]:
        """Every record written since the last read, however many."""
        records: list[dict[str, Any]] = []
        while batch := self.read():
            records.extend(batch)
        return records


class StreamLog:
    """Every record of one table's stream this stack has seen, read incrementally (for tests
    that look records up by key many times in a long session)."""

    _logs: ClassVar[weakref.WeakKeyDictionary[LocalStack, dict[str, StreamLog]]] = weakref.WeakKeyDictionary()

    def __init__(self, stack: LocalStack, table_id: str) -> None:
        self.stream_arn = stack.attr(table_id, "StreamArn")
        self._region = stack.region
        self._cursor = StreamCursor(stack, self.stream_arn)
        self._records: list[dict[str, Any]] = []

    @classmethod
    def of(cls, stack: LocalStack, table_id: str) -> StreamLog:
        logs = cls._logs.setdefault(stack, {})
        if table_id not in logs:
            logs[table_id] = cls(stack, table_id)
        return logs[table_id]

    def records(self) -> list[dict[str, Any]]:
        """Every record so far, shaped as Lambda delivers them."""
        new = self._cursor.read_all()
        self._records.extend(as_lambda_record(r, self.stream_arn, self._region) for r in new)
        return list(self._records)


@dataclass
class StreamPump:
    stack: LocalStack
    function_id: str
    event_name: str
    stream_arn: str
    batch_size: int
    max_retries: int
    filters: list[dict[str, Any]]
    on_failure_queue_arn: str | None
    _cursor: StreamCursor | None = None
    delivered: int = 0
    failed_to_dlq: int = 0

    @classmethod
    def for_function(cls, stack: LocalStack, function_id: str) -> StreamPump:
        spec = stack.function(function_id)
        name, event = next((n, e) for n, e in spec.events.items() if e.get("Type") == "DynamoDB")
        props = event["Properties"]
        patterns = [json.loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", [])]
        on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        return cls(
            stack=stack,
            function_id=function_id,
            event_name=name,
            stream_arn=_ref_or_attr(stack, props["Stream"]),
            batch_size=int(props.get("BatchSize", 100)),
            max_retries=int(props.get("MaximumRetryAttempts", 2)),
            filters=patterns,
            on_failure_queue_arn=_ref_or_attr(stack, on_failure) if on_failure else None,
        )

    def pump(self) -> int:
        """Deliver every record now in the stream; returns how many records reached the handler."""
        if self._cursor is None:
            self._cursor = StreamCursor(self.stack, self.stream_arn)
        before = self.delivered
        while batch := self._cursor.read(limit=self.batch_size):
            records = [r for r in batch if not self.filters or any(_matches(p, r) for p in self.filters)]
            if records:
                self._deliver(records)
        return self.delivered - before

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        records = [as_lambda_record(r, self.stream_arn, self.stack.region) for r in records]
        pending = records
        for _attempt in range(self.max_retries + 1):
            response = self.stack.invoke(self.function_id, {"Records": pending}) or {}
            failures = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
            self.delivered += len(pending)
            if not failures:
                return
            # Lambda retries from the first failed sequence number onwards.
            first = min(i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in set(failures))
            pending = pending[first:]
        self.failed_to_dlq += len(pending)
        if self.on_failure_queue_arn:
            sqs = self.stack.client("sqs")
            url = sqs.get_queue_url(QueueName=self.on_failure_queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(
                QueueUrl=url,
                MessageBody=json.dumps(
                    {
                        "function": self.function_id,
                        "sequenceNumbers": [r["dynamodb"]["SequenceNumber"] for r in pending],
                    }
                ),
            )
