"""Hourly audit checkpoints: each district's chain head, signed, into the object-locked bucket.

Input (the schedule's, or a manual run's): ``{"scheduled_time": "<instant>"}``; the checkpoint
objects are named by that instant's UTC hour (``onpace_core.audit.checkpoint``). Logs carry
counts and district ids, never an entry's content.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.audit.checkpoint import write_checkpoints
from onpace_core.observability import (
    AUDIT_CHECKPOINT_RUNS,
    AUDIT_CHECKPOINTS_WRITTEN,
    count,
    metrics,
    tracer,
)
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
    now = datetime.now(UTC)
    hour = scheduled_time(event, default=now)
    run = write_checkpoints(hour, now)
    logger.info("audit checkpoints written", extra={"written": len(run.written), "empty": len(run.empty)})
    count(AUDIT_CHECKPOINTS_WRITTEN, len(run.written))
    count(AUDIT_CHECKPOINT_RUNS, 1)
    return {"written": run.written, "empty": run.empty}
