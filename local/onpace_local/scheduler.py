"""Plays EventBridge Scheduler for the local stack (moto stores schedules but never fires them).

Each schedule created from the template is read back from moto. ``fire_between`` invokes the
target function for every time the schedule fires in a window of simulated time, with the
schedule's own Input and its context attributes filled in (``<aws.scheduler.scheduled-time>``),
exactly as the real scheduler would; ``fire_day`` fires a day's worth. Daily
(``cron(M H * * ? *)``) and hourly (``cron(M * * * ? *)``) expressions are simulated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onpace_local.stack import LocalStack

_DAILY = re.compile(r"^cron\((\d+) (\d+) \* \* \? \*\)$")
_HOURLY = re.compile(r"^cron\((\d+) \* \* \* \? \*\)$")
_RATE = re.compile(r"^rate\((\d+) minutes?\)$")
_SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class UnsupportedScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class LocalSchedule:
    name: str
    expression: str
    time_zone: str
    target_function: str
    raw_input: str

    @property
    def input(self) -> dict[str, Any]:
        """The Input as written in the template (context attributes not filled in)."""
        parsed: dict[str, Any] = json.loads(self.raw_input or "{}")
        return parsed

    @property
    def hourly(self) -> bool:
        return _HOURLY.match(self.expression) is not None

    @property
    def every_minutes(self) -> int | None:
        """The period of a ``rate(N minutes)`` schedule."""
        rate = _RATE.match(self.expression)
        return int(rate.group(1)) if rate else None

    @property
    def local_time(self) -> str:
        """When a daily schedule fires (``HH:MM`` in its zone); ``**:MM`` for an hourly one,
        ``*/N`` for a rate of N minutes."""
        if self.every_minutes:
            return f"*/{self.every_minutes}"
        hourly = _HOURLY.match(self.expression)
        if hourly:
            return f"**:{int(hourly.group(1)):02d}"
        match = _DAILY.match(self.expression)
        if not match:
            raise UnsupportedScheduleError(
                f"schedule {self.name}: only cron(M H * * ? *), cron(M * * * ? *) and rate(N minutes)"
                " are simulated"
            )
        minute, hour = match.groups()
        return f"{int(hour):02d}:{int(minute):02d}"

    def times(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every instant in [start, end) at which the schedule fires (aware, UTC)."""
        _ = self.local_time  # refuses what is not simulated
        zone = ZoneInfo(self.time_zone)
        if self.every_minutes:
            # The scheduler starts a rate at creation; aligned to the epoch here, which is as good.
            period = timedelta(minutes=self.every_minutes)
            epoch = datetime(1970, 1, 1, tzinfo=UTC)
            tick = epoch + -((epoch - start.astimezone(UTC)) // period) * period
            while tick < end:
                yield tick
                tick += period
            return
        if self.hourly:
            minute = int(self.local_time[-2:])
            tick = start.astimezone(UTC).replace(minute=minute, second=0, microsecond=0)
            if tick < start:
                tick += timedelta(hours=1)
            while tick < end:
                yield tick
                tick += timedelta(hours=1)
            return
        hour, minute = (int(p) for p in self.local_time.split(":"))
        day = start.astimezone(zone).date()
        while True:
            at = datetime.combine(day, time(hour, minute), zone).astimezone(UTC)
            if at >= end:
                return
            if at >= start:
                yield at
            day += timedelta(days=1)

    def event(self, at: datetime) -> dict[str, Any]:
        """The target's input at ``at``: the Input with the scheduled time filled in."""
        text = self.raw_input.replace(_SCHEDULED_TIME, at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        event: dict[str, Any] = json.loads(text or "{}")
        return event


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
                raw_input=target.get("Input") or "{}",
            )
        )
    for schedule in found:
        _ = schedule.local_time  # refuse schedules we cannot simulate before the run starts
    return found


def fire_between(stack: LocalStack, schedule: LocalSchedule, start: datetime, end: datetime) -> list[Any]:
    """Invoke the target for each time the schedule fires in [start, end); the results in order."""
    return [stack.invoke(schedule.target_function, schedule.event(at)) for at in schedule.times(start, end)]


def local_day(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """The instants [start, end) of ``day`` in ``time_zone``."""
    zone = ZoneInfo(time_zone)
    return (
        datetime.combine(day, time(), zone).astimezone(UTC),
        datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC),
    )


def fire_day(
    stack: LocalStack, schedule: LocalSchedule, day: date, time_zone: str | None = None
) -> list[Any]:
    """Fire the schedule for ``day`` as lived in ``time_zone`` (default: the schedule's own)."""
    start, end = local_day(day, time_zone or schedule.time_zone)
    return fire_between(stack, schedule, start, end)
