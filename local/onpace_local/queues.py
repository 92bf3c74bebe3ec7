"""Plays Lambda's SQS event source mapping for the local stack.

Reads the queue that a function's ``Type: SQS`` event names (from moto, over HTTP), invokes the
real handler with the event shape Lambda sends (``Records`` of ``aws:sqs`` messages, at most
``BatchSize``), deletes the messages that succeeded and honours ``batchItemFailures``; a
handler that raises fails the whole batch, as in Lambda.

One difference, for speed: a failed message is made visible again at once (Lambda waits for the
queue's visibility timeout). moto applies the queue's ``RedrivePolicy`` on receive, so a message
that keeps failing ends in the dead-letter queue after ``maxReceiveCount`` receives, as in AWS.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from onpace_local.stack import LocalStack
from onpace_local.streams import _ref_or_attr

# Lambda's limit for a standard queue without a batching window is 10 (ReceiveMessage's too).
_MAX_RECEIVE = 10


def _lambda_attributes(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """SQS message attributes as Lambda writes them (camelCase keys, list fields present)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        out[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
    return out


@dataclass
class QueuePump:
    stack: LocalStack
    function_id: str
    event_name: str
    queue_arn: str
    queue_url: str
    batch_size: int
    delivered: int = 0
    failed: int = 0
    # What the handler returned for each batch (a worker adds its shards' summaries).
    responses: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def for_function(cls, stack: LocalStack, function_id: str) -> QueuePump:
        spec = stack.function(function_id)
        name, event = next((n, e) for n, e in spec.events.items() if e.get("Type") == "SQS")
        props = event["Properties"]
        arn = _ref_or_attr(stack, props["Queue"])
        url = stack.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        return cls(
            stack=stack,
            function_id=function_id,
            event_name=name,
            queue_arn=arn,
            queue_url=url,
            batch_size=min(int(props.get("BatchSize", 10)), _MAX_RECEIVE),
        )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        body = message.get("Body", "")
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": _lambda_attributes(message),
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.stack.region,
        }

    def pump(self) -> int:
        """Deliver every message now visible in the queue (retrying failures until they succeed
        or moto moves them to the dead-letter queue); returns how many reached the handler."""
        sqs = self.stack.client("sqs")
        before = self.delivered
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return self.delivered - before
            self._deliver(messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [self._record(m) for m in messages]
        self.delivered += len(records)
        try:
            response = self.stack.invoke(self.function_id, {"Records": records}) or {}
            self.responses.append(response)
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except Exception:
            # A function error returns the whole batch to the queue.
            failed = {r["messageId"] for r in records}
        sqs = self.stack.client("sqs")
        done = [r for r in records if r["messageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)],
            )
        for record in records:
            if record["messageId"] in failed:
                self.failed += 1
                sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                )
