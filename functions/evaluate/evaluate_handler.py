"""Daily evaluation, invoked by EventBridge Scheduler early each day in a time zone.

Input (the schedule's, or a manual run's): ``{"time_zone": "America/Chicago"}`` evaluates every
program of that zone for its local today; ``"day": "YYYY-MM-DD"`` evaluates that day instead
(catch-up or a re-run, which records nothing twice); ``"program_id"`` + ``"district_id"``
restricts the run to one program.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.event_input import parsed
from onpace_core.observability import metrics, tracer
from onpace_core.observability.evaluation import evaluate_program_day
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables
from onpace_core.store.programs import get_program, programs_in_time_zone
from onpace_rules.program import ProgramConfig
from pydantic import BaseModel, ConfigDict, model_validator

logger = Logger()
settings = get_settings()
bind_tables(settings)


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: str | None = None
    district_id: str | None = None
    program_id: str | None = None
    day: date | None = None

    @model_validator(mode="after")
    def _target(self) -> EvaluateRequest:
        if not self.time_zone and not (self.district_id and self.program_id):
            raise ValueError("give time_zone, or district_id and program_id")
        return self


def _programs(request: EvaluateRequest) -> list[ProgramConfig]:
    if request.district_id and request.program_id:
        return [get_program(request.district_id, request.program_id)]
    assert request.time_zone is not None
    return programs_in_time_zone(request.time_zone)


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
@parsed(EvaluateRequest)
def lambda_handler(event: EvaluateRequest, context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    results = []
    for program in _programs(event):
        day = event.day or program.build_calendar().local_date(now)
        summary = evaluate_program_day(program, day, now)
        logger.info("program evaluated", extra=summary.as_dict())
        results.append(summary.as_dict())
    return {"programs": results}
