"""Daily evaluation planner, invoked every hour by EventBridge Scheduler.

Input (the schedule's, or a manual run's): ``{"scheduled_time": "<instant>"}`` plans every
program whose local day began in the hour before that instant, whatever its time zone (the
zones come from the Programs table); ``{"time_zone": "America/Chicago"}`` plans that zone's
programs for their local today; ``"day": "YYYY-MM-DD"`` plans that day instead (catch-up or a
re-run, which records nothing twice; alone, it plans every zone in use); ``"program_id"`` +
``"district_id"`` restricts the run to one program. Each program day's due enrollments go to
``EvaluateQueue`` in shards, which ``EvaluateWorkerFunction`` evaluates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.event_input import parsed
from onpace_core.observability import PROGRAM_PLANS_FAILED, count, metrics, tracer
from onpace_core.observability.evaluation import plan_program_day
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

if TYPE_CHECKING:
    from onpace_core.evaluation.request import EvaluateRequest
    from onpace_rules.program import ProgramConfig

logger = Logger()
settings = get_settings()
bind_tables(settings)
sqs = boto3.client("sqs", region_name=settings.aws_region)  # endpoint: AWS_ENDPOINT_URL if set


def _request_model() -> type[EvaluateRequest]:
    # The request model, the program store and the fan-out (pydantic, the program configuration,
    # the audit log) load with the first run, not at import (docs/scale.md, "Cold start").
    from onpace_core.evaluation.request import EvaluateRequest

    return EvaluateRequest


def _targets(request: EvaluateRequest, now: datetime) -> list[tuple[ProgramConfig, date]]:
    """The program days to plan: (program, its local day)."""
    from onpace_core.evaluation.fanout import zones_starting_a_day
    from onpace_core.store.programs import get_program, program_time_zones, programs_in_time_zone

    if request.district_id and request.program_id:
        programs = [get_program(request.district_id, request.program_id)]
    elif request.time_zone:
        programs = programs_in_time_zone(request.time_zone)
    elif request.day:
        programs = [p for zone in program_time_zones() for p in programs_in_time_zone(zone)]
    else:
        assert request.scheduled_time is not None
        return [
            (program, day)
            for zone, day in zones_starting_a_day(program_time_zones(), request.scheduled_time)
            for program in programs_in_time_zone(zone)
        ]
    return [(p, request.day or p.build_calendar().local_date(now)) for p in programs]


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
@parsed(_request_model)
def lambda_handler(event: EvaluateRequest, context: LambdaContext) -> dict[str, Any]:
    from onpace_core.evaluation.fanout import send_messages, shard_messages

    now = datetime.now(UTC)
    results: list[dict[str, Any]] = []
    for program, day in _targets(event, now):
        try:
            plan = plan_program_day(program, day, now, settings.evaluation_shard_size)
        except Exception as error:
            # One program that cannot be planned (a stored configuration the engine now refuses,
            # say) must not stop every other program of the hour: it is logged with its error's
            # class (never its message, which may quote data), counted for the
            # ProgramPlanFailedAlarm, and the run goes on. A manual run plans it once fixed.
            logger.exception(
                "program plan failed",
                extra={"program": program.key, "day": day.isoformat(), "error": type(error).__name__},
            )
            count(PROGRAM_PLANS_FAILED, 1)
            results.append({"program": program.key, "day": day.isoformat(), "failed": type(error).__name__})
            continue
        messages = shard_messages(program, day, plan.shards, planned_at=event.scheduled_time or now)
        send_messages(sqs, settings.evaluate_queue_url, messages)
        logger.info("program planned", extra=plan.as_dict())
        results.append(plan.as_dict())
    return {"programs": results}
