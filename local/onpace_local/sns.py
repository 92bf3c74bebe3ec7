"""Plays SNS's delivery to a Lambda function for the local stack.

moto delivers a topic's messages to SQS subscribers but cannot run a function, so the
provisioner subscribes a *tap* queue in the function's place (``provision.sns_subscription``).
:class:`SnsPump` reads it over HTTP and invokes the real handler with the event Lambda sends
for SNS (one ``aws:sns`` record per invocation, ``Sns`` with Lambda's spelling of the fields).
A handler that raises is retried twice, as Lambda does for an asynchronous invocation, and the
notification then goes to the function's dead-letter queue (``DeadLetterConfig``), as in AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from onpace_local.stack import LocalStack

#: Lambda's attempts of an asynchronous invocation (the first and two retries).
ASYNC_ATTEMPTS = 3


@dataclass
class SnsPump:
    stack: LocalStack
    function_id: str
    subscription_arn: str
    queue_url: str
    dead_letter_url: str | None
    delivered: int = 0
    failed: int = 0
    responses: list[Any] = field(default_factory=list)

    @classmethod
    def for_function(cls, stack: LocalStack, function_id: str) -> SnsPump:
        function_arn = stack.attr(function_id, "Arn")
        resources = stack.stack.template["Resources"]
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::SNS::Subscription":
                continue
            if stack.stack.attrs.get((logical_id, "FunctionArn")) == function_arn:
                target = resources[function_id]["Properties"].get("DeadLetterConfig", {}).get("TargetArn")
                dlq = None
                if target is not None:
                    arn = stack.stack.resolve(target)
                    dlq = stack.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
                return cls(
                    stack, function_id, stack.ref(logical_id), stack.attr(logical_id, "TapQueueUrl"), dlq
                )
        raise KeyError(f"{function_id} is subscribed to no topic in the template")

    def record(self, body: str) -> dict[str, Any]:
        """The ``aws:sns`` record Lambda builds from the notification SNS delivered (``body``)."""
        note = json.loads(body)
        return {
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": self.subscription_arn,
            "Sns": {
                "Type": note["Type"],
                "MessageId": note["MessageId"],
                "TopicArn": note["TopicArn"],
                "Subject": note.get("Subject"),
                "Message": note["Message"],
                "Timestamp": note["Timestamp"],
                "SignatureVersion": note.get("SignatureVersion", "1"),
                "Signature": note.get("Signature", ""),
                "SigningCertUrl": note.get("SigningCertURL"),
                "UnsubscribeUrl": note.get("UnsubscribeURL"),
                "MessageAttributes": note.get("MessageAttributes") or {},
            },
        }

    def pump(self) -> int:
        """Invoke the function once per notification now in the tap queue; returns how many."""
        sqs = self.stack.client("sqs")
        count = 0
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return count
            for message in messages:
                self._invoke(message["Body"])
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                count += 1

    def _invoke(self, body: str) -> None:
        event = {"Records": [self.record(body)]}
        self.delivered += 1
        for attempt in range(ASYNC_ATTEMPTS):
            try:
                self.responses.append(self.stack.invoke(self.function_id, event))
                return
            except Exception:
                if attempt + 1 < ASYNC_ATTEMPTS:
                    continue
        self.failed += 1
        if self.dead_letter_url is not None:
            self.stack.client("sqs").send_message(
                QueueUrl=self.dead_letter_url, MessageBody=json.dumps(event)
            )
