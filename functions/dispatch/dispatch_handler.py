"""Hourly morning dispatcher: waiting notices into letters when their send window opens.

Input (the schedule's, or a manual run's): ``{"scheduled_time": "<instant>"}`` dispatches every
district-day whose window is open at that instant (``onpace_core.notices.dispatch``); with
``"district_id"`` and ``"day"`` it dispatches that district-day's notices whose window has opened
(a catch-up). The letters it writes reach notify through the outbox stream. Logs carry counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.observability import LETTERS_WRITTEN, count, metrics, tracer
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
    # The dispatcher (letters, rendering is notify's) loads with the first run, not at import.
    from onpace_core.notices.dispatch import dispatch, dispatch_day
    from onpace_core.store.programs import program_time_zones, programs_in_time_zone

    now = scheduled_time(event)
    if event.get("district_id") and event.get("day"):
        results = [dispatch_day(str(event["district_id"]), date.fromisoformat(str(event["day"])), now)]
    else:
        programs = [p for zone in program_time_zones() for p in programs_in_time_zone(zone)]
        results = dispatch(programs, now)
    for result in results:
        if result.letters:
            # Counts only: a letter id ends in a hash of the household's address.
            counts = {k: v for k, v in result.as_dict().items() if k != "letter_ids"}
            logger.info("district day dispatched", extra=counts)
    count(LETTERS_WRITTEN, sum(len(r.letters) for r in results))
    return {"days": [r.as_dict() for r in results]}
