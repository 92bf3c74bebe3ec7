"""Every five minutes: one ``ingest.rejected`` audit entry per closed window of refused webhooks.

Input (the schedule's, or a manual run's): ``{"scheduled_time": "<instant>"}`` reports the
windows that ended by then (``onpace_core.ingest.refusals``); without it, by now. Logs carry
counts only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.observability import count, metrics, tracer
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

logger = Logger()
settings = get_settings()
bind_tables(settings)


def _instant(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("scheduled_time must carry a UTC offset")
    return moment.astimezone(UTC)


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from onpace_core.ingest.refusals import sweep

    now = _instant(event["scheduled_time"]) if event.get("scheduled_time") else datetime.now(UTC)
    result = sweep(now)
    logger.info("refusal windows reported", extra={"windows": result.windows, "refused": result.refused})
    count("RefusalWindowsReported", result.windows)
    return {"windows": result.windows, "refused": result.refused}
