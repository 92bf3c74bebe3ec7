"""SES events (SNS) → each recipient's delivery status, its audit entry, the suppression list.

Thin: the SNS envelope is parsed with Powertools' ``SnsModel``, its ``Message`` as the SES event
JSON (``ses_events_contract``), and ``onpace_core.delivery.tracking.record`` does the rest. An
error raises: Lambda retries an SNS invocation twice and then parks the event in
``SesEventsDLQ`` (an alarm); a redelivered event records nothing twice.

Logs carry the event type, the outcome, the rule id and SES's message id — never an address,
a notice id or a student id (the tags name the notice: they are not logged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.observability import (
    ADDRESSES_SUPPRESSED,
    SES_EVENTS_IGNORED,
    SES_EVENTS_RECORDED,
    SES_EVENTS_UNKNOWN,
    count,
    metrics,
    tracer,
)
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

if TYPE_CHECKING:
    from ses_events_contract import SesEventModel

logger = Logger()
settings = get_settings()
bind_tables(settings)

_COUNTERS = {"recorded": SES_EVENTS_RECORDED, "ignored": SES_EVENTS_IGNORED, "unknown": SES_EVENTS_UNKNOWN}


def handle(ses_event: SesEventModel) -> str:
    """Record one SES event; returns the outcome (``recorded``, ``ignored``, ``unknown``, ``untracked``)."""
    from onpace_core.delivery.tracking import record  # the audit's rule titles: on first use

    event = ses_event.to_event()
    if event is None:
        logger.info("SES event type not tracked", extra={"event_type": ses_event.eventType})
        return "untracked"
    tracked = record(event)
    count(_COUNTERS[tracked.outcome], 1)
    count(ADDRESSES_SUPPRESSED, 1 if tracked.suppressed else 0)
    logger.info(
        "SES event",
        extra={
            "event_type": ses_event.eventType,
            "status": tracked.status,
            "bounce": event.bounce,
            "outcome": tracked.outcome,
            "rule_id": tracked.rule_id,
            "ses_message_id": event.message_id,
            "suppressed": tracked.suppressed,
            "escalation": tracked.escalation,
        },
    )
    return tracked.outcome


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # pydantic and the parser load on the first event, not at cold start (docs/scale.md).
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import SnsModel
    from ses_events_contract import SesEventModel

    envelope = parse(event=event, model=SnsModel)
    outcomes = [handle(SesEventModel.model_validate_json(str(r.Sns.Message))) for r in envelope.Records]
    return {"outcomes": outcomes}
