"""Evaluates one shard of a program day, from ``EvaluateQueue`` (SQS, partial batch responses).

Thin: parse the shard message, evaluate its enrollments (``notices.evaluation.evaluate_shard``),
and deal with the enrollments that failed (``evaluation.fanout``): each is sent back as a shard
of its own; a one-enrollment shard that fails is left to SQS to retry and, on its last receive,
audited and parked in ``EvaluateDLQ``; one re-driven from there that goes through is audited
too (``evaluation.recovered``), for the console's Failures page. Logs carry program, day, shard
and counts, never an enrollment key (it holds a student id).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.observability import metrics, tracer
from onpace_core.observability.evaluation import evaluate_shard
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)
settings = get_settings()
bind_tables(settings)
sqs = boto3.client("sqs", region_name=settings.aws_region)  # endpoint: AWS_ENDPOINT_URL if set

# The shards of this invocation, returned beside batchItemFailures (Lambda reads only that key).
_evaluated: list[dict[str, Any]] = []


class EnrollmentRetryError(RuntimeError):
    """A one-enrollment shard failed again: SQS retries it after the visibility timeout."""


def record_handler(record: SQSRecord) -> None:
    # The shard message (pydantic), the program store and the fan-out's retry and dead-letter
    # paths load with the first shard, not at import (docs/scale.md, "Cold start").
    from onpace_core.evaluation.fanout import ShardMessage, dead_letter, recovered, retry_alone
    from onpace_core.store.programs import get_program

    message = ShardMessage.model_validate_json(record.body)
    program = message.program() or get_program(message.district_id, message.program_id)
    now = datetime.now(UTC)
    result = evaluate_shard(program, message.day, message.keys, now, send_from=message.planned_at)
    where = {"program": program.key, "day": message.day.isoformat(), "shard": message.shard}
    logger.info("shard evaluated", extra={**result.as_dict(), **where})
    _evaluated.append({**result.as_dict(), "shard": message.shard})
    if not result.failures:
        if message.failure is not None and len(message.keys) == 1:  # re-driven from EvaluateDLQ
            recovered(message, result.summary.enrollments_evaluated > 0, now)
            logger.info("parked enrollment re-driven and evaluated", extra=where)
        return
    errors = sorted({f.error for f in result.failures})
    if len(message.keys) > 1:
        failed = [f.enrollment_key for f in result.failures]
        sent = retry_alone(sqs, settings.evaluate_queue_url, message, failed)
        logger.warning("enrollments to retry alone", extra={**where, "count": sent, "errors": errors})
        return
    receives = int(record.attributes.approximate_receive_count)
    failure = result.failures[0]
    if receives >= settings.evaluation_max_receives:
        key, error = failure.enrollment_key, failure.error
        dead_letter(sqs, settings.evaluate_dlq_url, message, key, error, receives, now)
        logger.error("enrollment parked in EvaluateDLQ", extra={**where, "errors": errors})
        return
    logger.warning("enrollment failed again", extra={**where, "receives": receives, "errors": errors})
    raise EnrollmentRetryError(f"{program.key} {message.day}: one enrollment failed ({failure.error})")


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    _evaluated.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return {**response, "shards": list(_evaluated)}  # type: ignore[typeddict-unknown-key]
