"""The evaluation planner's input: the schedule's event, or an operator's manual run."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator


class EvaluateRequest(BaseModel):
    """``{"scheduled_time": ...}`` (the hourly schedule), ``{"time_zone": ...}``, ``{"day": ...}``
    or ``{"district_id": ..., "program_id": ...}`` (manual runs); see the planner's docstring."""

    model_config = ConfigDict(extra="forbid")

    scheduled_time: AwareDatetime | None = None
    time_zone: str | None = None
    district_id: str | None = None
    program_id: str | None = None
    day: date | None = None

    @model_validator(mode="after")
    def _target(self) -> EvaluateRequest:
        if bool(self.district_id) != bool(self.program_id):
            raise ValueError("give district_id and program_id together")
        if not (self.scheduled_time or self.time_zone or self.district_id or self.day):
            raise ValueError("give scheduled_time, time_zone, district_id and program_id, or day")
        return self
