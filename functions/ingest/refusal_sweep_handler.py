"""Every five minutes: one ``ingest.rejected`` audit entry per closed window of refused webhooks.

Input (the schedule's, or a manual run's): ``{"scheduled_time": "<instant>"}`` reports the
windows that ended by then (``onpace_core.ingest.refusals``); without it, by now. Logs carry
counts only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.observability import REFUSAL_WINDOWS_REPORTED, count, metrics, tracer
from onpace_core.schedule_input import scheduled_time
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

logger = Logger()
settings = get_settings()
bind_tables(settings)


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from onpace_core.ingest.refusals import sweep

    now = scheduled_time(event)
    result = sweep(now)
    logger.info("refusal windows reported", extra={"windows": result.windows, "refused": result.refused})
    count(REFUSAL_WINDOWS_REPORTED, result.windows)
    return {"windows": result.windows, "refused": result.refused}
