"""Outbox stream → SES: send each newly inserted notice to its recipients.

Thin: the DynamoDB stream (INSERT events only, filtered in ``template.yaml``) brings outbox
items; for each record the notice id is taken from ``NewImage`` and handed to
``onpace_core.delivery.sender.deliver``, which claims, sends and audits. A record whose delivery
raises is reported back as a batch item failure, so only that record is retried (claims make
the retry send nothing twice). Logs carry notice and rule ids only, never names or addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from onpace_core.observability import metrics, tracer
from onpace_core.observability.delivery import deliver
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
settings = get_settings()
bind_tables(settings)
ses = boto3.client("sesv2", region_name=settings.aws_region)  # endpoint: AWS_ENDPOINT_URL if set


def record_handler(record: DynamoDBRecord) -> None:
    if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        event_name = record.event_name.name if record.event_name else None
        logger.info("stream record ignored", extra={"event_name": event_name})
        return
    image = record.dynamodb.new_image
    notice_id = str(image["notice_id"])
    rule_id = image.get("rule_id")
    logger.append_keys(notice_id=notice_id, rule_id=rule_id)
    try:
        try:
            result = deliver(notice_id, ses, settings, TEMPLATES_DIR)
        except ClientError as error:
            # The code only: an error message may quote an address.
            code = error.response.get("Error", {}).get("Code", "Unknown")
            logger.warning("delivery will be retried", extra={"error_code": code})
            raise
        logger.info(
            "notice processed",
            extra={
                "status": result.status,
                "sent_now": result.sent_now,
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
    finally:
        logger.remove_keys(["notice_id", "rule_id"])


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
