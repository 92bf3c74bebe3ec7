"""Plays EventBridge Scheduler for the local stack (moto stores schedules but never fires them).

Each schedule created from the template is read back from moto; ``fire_day`` invokes the
target function with the schedule's own Input plus the simulated ``day``, exactly as the real
scheduler would at the schedule's time on that day in its time zone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from onpace_local.stack import LocalStack

_DAILY = re.compile(r"^cron\((\d+) (\d+) \* \* \? \*\)$")


class UnsupportedScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class LocalSchedule:
    name: str
    expression: str
    time_zone: str
    target_function: str
    input: dict[str, Any]

    @property
    def local_time(self) -> str:
        match = _DAILY.match(self.expression)
        if not match:
            raise UnsupportedScheduleError(f"schedule {self.name}: only daily cron(M H * * ? *) is simulated")
        minute, hour = match.groups()
        return f"{int(hour):02d}:{int(minute):02d}"


def _function_for_arn(stack: LocalStack, arn: str) -> str:
    for spec in stack.functions:
        try:
            if stack.attr(spec.logical_id, "Arn") == arn:
                return spec.logical_id
        except KeyError:
            pass
        if arn.endswith(spec.logical_id) or arn.endswith(f"function:{spec.logical_id}"):
            return spec.logical_id
    raise KeyError(f"no function of the template is the target {arn}")


def schedules(stack: LocalStack) -> list[LocalSchedule]:
    client = stack.client("scheduler")
    found = []
    for summary in client.list_schedules()["Schedules"]:
        detail = client.get_schedule(Name=summary["Name"], GroupName=summary.get("GroupName", "default"))
        target = detail["Target"]
        found.append(
            LocalSchedule(
                name=detail["Name"],
                expression=detail["ScheduleExpression"],
                time_zone=detail.get("ScheduleExpressionTimezone", "UTC"),
                target_function=_function_for_arn(stack, target["Arn"]),
                input=json.loads(target.get("Input") or "{}"),
            )
        )
    for schedule in found:
        _ = schedule.local_time  # refuse schedules we cannot simulate before the run starts
    return found


def fire_day(stack: LocalStack, schedule: LocalSchedule, day: date) -> Any:
    return stack.invoke(schedule.target_function, {**schedule.input, "day": day.isoformat()})
