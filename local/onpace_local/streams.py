"""Plays Lambda's DynamoDB-stream event source mapping for the local stack.

Reads the stream that a function's ``Type: DynamoDB`` event names (from moto, over HTTP),
applies the event's FilterCriteria and BatchSize, invokes the real handler with the same event
shape Lambda sends, and honours ``batchItemFailures`` by retrying from the first failed record up
to ``MaximumRetryAttempts`` times, then sending the batch to the OnFailure destination.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any

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
    _iterators: dict[str, str] = field(default_factory=dict)
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

    def _shard_iterators(self) -> list[str]:
        streams = self.stack.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        return list(self._iterators)

    def pump(self) -> int:
        """Deliver every record now in the stream; returns how many records reached the handler."""
        streams = self.stack.client("dynamodbstreams")
        before = self.delivered
        for shard_id in self._shard_iterators():
            while True:
                response = streams.get_records(ShardIterator=self._iterators[shard_id], Limit=self.batch_size)
                self._iterators[shard_id] = response["NextShardIterator"]
                records = [
                    r
                    for r in response["Records"]
                    if not self.filters or any(_matches(p, r) for p in self.filters)
                ]
                if records:
                    self._deliver(records)
                if not response["Records"]:
                    break
        return self.delivered - before

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            record.setdefault("eventSourceARN", self.stream_arn)
            record.setdefault("awsRegion", self.stack.region)
            record.setdefault("eventSource", "aws:dynamodb")
            if "ApproximateCreationDateTime" in record.get("dynamodb", {}):
                # boto3 parsed it into a datetime; Lambda sends epoch seconds.
                record["dynamodb"]["ApproximateCreationDateTime"] = record["dynamodb"][
                    "ApproximateCreationDateTime"
                ].timestamp()
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
