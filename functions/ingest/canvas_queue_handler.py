"""Canvas Live Events from the SQS queue Canvas Data Services writes to (docs/ingest.md).

Each message body is one event, ``{"metadata": ..., "body": ...}``, unsigned: only Canvas's
AWS account may send to the queue (its policy is the trust boundary). The district comes from
the event's ``metadata.root_account_id`` through ``CANVAS_ACCOUNTS``.

Partial batch responses: a message whose district cannot be told (not JSON, no root account, an
account not configured) or whose storing failed is reported as a batch item failure, retried,
and after ``maxReceiveCount`` receives kept in the dead-letter queue for an operator (fix the
mapping, then redrive). A message of a known district that is not a valid event can never
succeed: its refusal is audited in the district (a summary only) and it is removed.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.ingest.canvas_accounts import parse_account_map
from onpace_core.ingest.formats.canvas import SOURCE, CanvasFormatError, parse_canvas_event, root_account_id
from onpace_core.ingest.limits import LimitError, decode_body, load_json
from onpace_core.observability import metrics, tracer
from onpace_core.observability.ingest import ingest_events, record_rejection
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)
bind_tables(get_settings())


class UnroutableMessageError(Exception):
    """No district can be told for the message: retried, then kept in the dead-letter queue."""


def _accounts() -> dict[str, str]:
    # Read per invocation (cheap): the mapping is configuration, not code.
    return parse_account_map(os.environ.get("CANVAS_ACCOUNTS", ""))


def record_handler(record: SQSRecord) -> None:
    now = datetime.now(UTC)
    logger.append_keys(message_id=record.message_id)
    try:
        message = load_json(decode_body(record.body or ""))
    except LimitError as exc:
        logger.warning("canvas message unreadable", extra={"problem": str(exc)[:200]})
        raise UnroutableMessageError(str(exc)) from None
    account = root_account_id(message)
    district_id = _accounts().get(account) if account else None
    if district_id is None:
        # The account id is not student data; it is what the operator needs to add.
        logger.warning("canvas message for an unconfigured root account", extra={"root_account_id": account})
        raise UnroutableMessageError(f"root account {account} is not in CANVAS_ACCOUNTS")
    try:
        event = parse_canvas_event(message, now)
    except (CanvasFormatError, LimitError) as exc:
        status = exc.status if isinstance(exc, LimitError) else 400
        record_rejection(district_id, SOURCE, status, f"SQS message {record.message_id}: {exc}", now)
        logger.info("canvas message refused", extra={"status": status})
        return
    settings = get_settings()
    report = ingest_events(
        district_id=district_id,
        source=SOURCE,
        events=[event],
        now=now,
        ttl_days=settings.raw_event_ttl_days,
        long_ttl_days=settings.raw_archive_days,
    )
    logger.info(
        "canvas live event stored",
        extra={"kind": event.kind, "accepted": report.accepted, "duplicates": report.duplicates},
    )


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
