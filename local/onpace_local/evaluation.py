"""Runs the fan-out evaluation on the local stack: planner, then the shard queue drained into the
worker (``QueuePump``), the way Scheduler, SQS and Lambda chain them when deployed.

``run_day`` lives one local day (the planner's hourly ticks, so every zone whose day begins in it
is planned); ``run_program_day`` plans one program day as a manual re-run does. Both return the
planner's answers and the workers' shard summaries, and a summary per program merged the way
the single evaluator used to answer (tests and the demo read it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from onpace_local.queues import QueuePump
from onpace_local.scheduler import fire_between, fire_day, schedules
from onpace_local.stack import LocalStack

PLANNER = "EvaluateFunction"
WORKER = "EvaluateWorkerFunction"


@dataclass
class EvaluationRun:
    plans: list[dict[str, Any]] = field(default_factory=list)  # one per program day planned
    shards: list[dict[str, Any]] = field(default_factory=list)  # one per shard message evaluated
    worker_batches: int = 0

    def programs(self) -> list[dict[str, Any]]:
        """Per program day: the plan's fields and the shards' counts added up."""
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        recorded: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
        for plan in self.plans:
            key = (plan["program"], plan["day"])
            merged[key] = {
                "program": plan["program"],
                "day": plan["day"],
                "enrollments_evaluated": 0,
                "recorded": [],
                "already_recorded": 0,
                **({"calendar_changes": plan["calendar_changes"]} if "calendar_changes" in plan else {}),
            }
            recorded[key] = Counter()
        for shard in self.shards:
            key = (shard["program"], shard["day"])
            if key not in merged:  # a retry of an enrollment planned in an earlier run
                merged[key] = {"program": key[0], "day": key[1], "enrollments_evaluated": 0, "recorded": []}
                merged[key]["already_recorded"] = 0
                recorded[key] = Counter()
            total = merged[key]
            total["enrollments_evaluated"] += shard["enrollments_evaluated"]
            total["already_recorded"] += shard["already_recorded"]
            if shard.get("failed"):
                total["failed"] = total.get("failed", 0) + shard["failed"]
            for r in shard["recorded"]:
                recorded[key][(r["rule"], r["kind"])] += r["count"]
        for key, total in merged.items():
            total["recorded"] = [
                {"rule": r, "kind": k, "count": n} for (r, k), n in sorted(recorded[key].items())
            ]
        return list(merged.values())


def drain(stack: LocalStack, run: EvaluationRun) -> EvaluationRun:
    """Deliver every shard message now in the queue to the worker (retries included)."""
    pump = QueuePump.for_function(stack, WORKER)
    pump.pump()
    run.worker_batches += len(pump.responses)
    for response in pump.responses:
        run.shards.extend(response.get("shards", []))
    return run


def discard_shards(stack: LocalStack) -> int:
    """Delete every message now in the shard queue (PurgeQueue allows one call a minute)."""
    pump = QueuePump.for_function(stack, WORKER)
    sqs = stack.client("sqs")
    deleted = 0
    while True:
        messages = sqs.receive_message(QueueUrl=pump.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return deleted
        sqs.delete_message_batch(
            QueueUrl=pump.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        deleted += len(messages)


def run_day(stack: LocalStack, day: date, time_zone: str) -> EvaluationRun:
    """Live ``day`` in ``time_zone``: fire the planner's schedule for it, then drain the queue."""
    run = EvaluationRun()
    for schedule in schedules(stack):
        if schedule.target_function != PLANNER:
            continue
        for result in fire_day(stack, schedule, day, time_zone):
            run.plans.extend(result["programs"])
    return drain(stack, run)


def run_program_day(stack: LocalStack, district_id: str, program_id: str, day: date) -> EvaluationRun:
    """Plan one program day (a manual re-run's input) and drain the queue."""
    run = EvaluationRun()
    result = stack.invoke(
        PLANNER, {"district_id": district_id, "program_id": program_id, "day": day.isoformat()}
    )
    run.plans.extend(result["programs"])
    return drain(stack, run)


DISPATCHER = "DispatchFunction"
#: The local hours the demo fires the hourly dispatcher in (every program's send window lies in
#: them by default); the other hours it would find no window open and write nothing.
MORNING = (time(6, 0), time(10, 0))


def dispatch_morning(stack: LocalStack, day: date, time_zone: str) -> list[dict[str, Any]]:
    """Live the morning of ``day`` in ``time_zone``: fire the dispatcher's hourly schedule through
    it; returns each district-day's result (letters written, digests among them)."""
    zone = ZoneInfo(time_zone)
    start, end = (datetime.combine(day, moment, zone).astimezone(UTC) for moment in MORNING)
    results: list[dict[str, Any]] = []
    for schedule in schedules(stack):
        if schedule.target_function == DISPATCHER:
            for result in fire_between(stack, schedule, start, end):
                results.extend(result["days"])
    return results


CHECKPOINTER = "AuditCheckpointFunction"


def checkpoint_audit(stack: LocalStack, at: datetime) -> list[str]:
    """Fire the audit checkpoint's hourly schedule once, for the hour of ``at`` (its Input as
    the schedule fills it in); returns the checkpoint objects written."""
    for schedule in schedules(stack):
        if schedule.target_function == CHECKPOINTER:
            result: dict[str, Any] = stack.invoke(CHECKPOINTER, schedule.event(at))
            return list(result["written"])
    raise KeyError(f"no schedule of the template targets {CHECKPOINTER}")
