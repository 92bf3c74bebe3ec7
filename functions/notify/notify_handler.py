"""Outbox stream and retry queue → SES: send each new notice to its recipients.

Thin: a DynamoDB stream record (INSERT events only, filtered in ``template.yaml``) or a message
of ``NotifyRetryQueue`` names a notice, which ``onpace_core.delivery.sender.deliver`` claims,
sends and audits. A notice whose delivery fails is handed to the retry queue with its attempt
count (``delivery/retry.py``) and its record counts as processed, so one failing notice never
holds up the others of the batch or the shard; after its last attempt it is audited
(``delivery.failed``, which the console's Failures page lists) and goes to ``NotifyDLQ``.
Only a record that cannot even be handed over is reported as a batch item failure.

Logs carry a hash of the notice id (``notice_ref``: the id names the student), rule ids, counts
and error codes — never names, addresses or student ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.delivery.retry_queue import MAX_ATTEMPTS, MAX_DELAY, QueueSettings, enqueue, notice_ref
from onpace_core.observability import metrics, tracer
from onpace_core.observability.delivery import deliver
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

if TYPE_CHECKING:
    from onpace_core.delivery.retry import RetryMessage
    from onpace_core.delivery.sender import DeliveryResult

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

logger = Logger()
stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
queue_processor = BatchProcessor(event_type=EventType.SQS)
settings = get_settings()
queues = QueueSettings.from_env()
bind_tables(settings)
ses = boto3.client("sesv2", region_name=settings.aws_region)  # endpoint: AWS_ENDPOINT_URL if set
sqs = boto3.client("sqs", region_name=settings.aws_region)
sns = boto3.client("sns", region_name=settings.aws_region)  # text messages (delivery/sms.py)


def stream_record(record: DynamoDBRecord, lambda_context: LambdaContext | None = None) -> None:
    if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        event_name = record.event_name.name if record.event_name else None
        logger.info("stream record ignored", extra={"event_name": event_name})
        return
    image = record.dynamodb.new_image
    if image.get("status") != "pending":
        # Skipped, suppressed and recorded notices are inserted so and never sent: no request.
        logger.info("notice not for sending", extra={"status": image.get("status")})
        return
    from onpace_core.delivery.retry import RetryMessage  # pydantic: on the first record, not at import

    attempt(RetryMessage(notice_id=str(image["notice_id"])), lambda_context)


def queue_record(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    from onpace_core.delivery.retry import RetryMessage

    attempt(RetryMessage.model_validate_json(record.body), lambda_context)


def attempt(message: RetryMessage, context: LambdaContext | None) -> None:
    """One delivery attempt of the notice ``message`` names; a failure goes to the retry queue."""
    # The sender (rendering, Jinja2, Babel, icalendar) loads on the first notice, not at cold start.
    from onpace_core.delivery.sender import ClaimFailed, Handover, Interrupted, error_code

    logger.append_keys(notice_ref=notice_ref(message.notice_id), attempt=message.attempt)
    try:
        handover = Handover(message.token, message.settles, message.release) if message.token else None
        time_left = context.get_remaining_time_in_millis() / 1000 if context is not None else None
        try:
            result = deliver(
                message.notice_id,
                ses,
                settings,
                TEMPLATES_DIR,
                time_left=time_left,
                handover=handover,
                sns_client=sns,
            )
        except Interrupted as error:
            handed = error.handover
            _retry(
                message.next(error.code, token=handed.token, settles=handed.settles, release=handed.release)
            )
            return
        except ClaimFailed as error:  # nothing written: what this message carried is still owed
            _retry(_again(message, error.code))
            return
        except Exception as error:
            _retry(message.next(error_code(error)))
            return
        if result.retry_after is not None:  # another attempt holds the notice: look again after it
            _retry(_again(message, "in progress"), delay=int(result.retry_after) + 1)
            return
        _log_result(result)
        if result.texts_after is not None:
            _wake_for_texts(message.notice_id, result.texts_after)
    finally:
        logger.remove_keys(["notice_ref", "attempt"])


def _wake_for_texts(notice_id: str, after: str) -> None:
    """A text waits for the end of quiet hours: the notice comes back then (in steps of at most
    the 15 minutes SQS can delay a message), as a fresh message: waiting is no failed attempt."""
    from onpace_core.audit.log import utc_now
    from onpace_core.delivery.retry import RetryMessage
    from onpace_core.delivery.sms import seconds_until

    delay = int(seconds_until(after, utc_now())) + 1
    enqueue(sqs, queues, RetryMessage(notice_id=notice_id, error="text deferred"), delay=delay)
    logger.info("text deferred to the end of quiet hours", extra={"delay_seconds": min(delay, MAX_DELAY)})


def _again(message: RetryMessage, error: str) -> RetryMessage:
    """The next attempt, still carrying what this message handed over (nothing of it was written)."""
    return message.next(error, token=message.token, settles=message.settles, release=message.release)


def _retry(message: RetryMessage, delay: int | None = None) -> None:
    if message.attempt > MAX_ATTEMPTS:
        # Audited first (the district's record, which the console lists), then parked: a failed
        # audit write fails the record, and SQS hands it back to try both again.
        from onpace_core.delivery.parked import audit_parked

        if not audit_parked(message):
            logger.warning("parked notice not in the outbox", extra={"error_code": message.error})
    where = enqueue(sqs, queues, message, delay=delay)
    level = logger.error if where == "dead-letter" else logger.warning
    level(
        "delivery given up" if where == "dead-letter" else "delivery will be retried",
        extra={
            "error_code": message.error,
            "next_attempt": message.attempt,
            # SES message ids an interrupted attempt could not record (no address in them).
            "handed_over": sorted(str(s.get("message_id")) for s in message.settles.values()),
        },
    )


def _log_result(result: DeliveryResult) -> None:
    if result.blocked:
        # Not retried (it would fail the same way): the notice is settled failed and audited.
        logger.error("SES refuses to send: notice failed, not retried", extra={"error_code": result.blocked})
    logger.info(
        "notice processed",
        extra={
            "status": result.status,
            "rule_id": result.rule_id,
            "sent_now": result.sent_now,
            "texts_sent": result.texts_sent,
            # A warning cancelled at send: the activity kind that resolved it (no date, no name).
            "resolved_by": result.resolved_by.get("fact") if result.resolved_by else None,
            "escalations": list(result.escalations),
            "recipients": [
                {
                    "index": o.index,
                    "role": o.role,
                    "status": o.status,
                    "error": o.error,
                    # "attached" / "not attached" for a meeting plan; the reasons stay in the audit.
                    "invitation": o.invitation.get("status") if o.invitation else None,
                }
                for o in result.outcomes
            ],
        },
    )


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:sqs":
        return process_partial_response(
            event=event, record_handler=queue_record, processor=queue_processor, context=context
        )
    return process_partial_response(
        event=event, record_handler=stream_record, processor=stream_processor, context=context
    )
