"""Upcoming: what the evaluator will decide tomorrow and over the next days, from the same engine.

A preview, nothing written or sent: the district's programs are read by key (one Query of its
Programs partition), the enrollments with something possibly due in the period through the
``due`` index (one Query per shard partition, keys only, ``wake_on <=`` the last day) and
⌈n/100⌉ BatchGetItem of their items; then each day is evaluated with
``evaluation.day.evaluate_day`` over a ``MemoryStore`` holding copies of their states, as
``onpace replay`` does. Facts are those of now: no new activity or input is assumed, so a student
who logs in tomorrow will not get the notice previewed for them; and a family action whose
warnings all failed to reach the family (held by the deployed evaluator after it reads their
outbox items) is shown as taken. Held enrollments wait for a person and are not in the preview.
Cost: DynamoDB requests grow with the enrollments due in the period, not with the roster: 2,001
due enrollments took 2 Query and 21 BatchGetItem (docs/operations.md, "Upcoming", has the
measurement); at most ``max_enrollments`` per program are read, and the preview says which
programs were cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from onpace_rules.engine import compile_program
from onpace_rules.titles import rule_title

from onpace_core.audit.log import utc_now
from onpace_core.console.common import batch_items, district_programs, local_today
from onpace_core.evaluation.day import evaluate_day
from onpace_core.notices.evaluation import due_keys
from onpace_core.store.enrollments import to_state
from onpace_core.store.memory import MemoryStore
from onpace_core.store.models import STUDENT_SUBJECT_CLASS

MAX_DAYS = 14
# Enrollments read per program and preview: 50 BatchGetItem, about a second of DynamoDB reads and
# of engine time in a Lambda; a larger program's preview says it is cut (``truncated``).
MAX_ENROLLMENTS = 5_000


@dataclass(frozen=True)
class Upcoming:
    """One decision the evaluator would record on ``on``."""

    on: date
    due_on: date
    program_id: str
    rule_id: str
    title: str
    policy_version: str
    kind: str  # notice | action | approval (a request for one) | skipped
    recipients: tuple[str, ...]  # roles
    student_id: str
    student_name: str | None
    class_id: str | None
    class_title: str | None
    deadlines: dict[str, str]
    status_after: str | None


@dataclass(frozen=True)
class Preview:
    first_day: date | None
    days: int
    enrollments_read: int
    items: tuple[Upcoming, ...]
    # Programs whose due enrollments exceeded ``max_enrollments``: only the first were previewed.
    truncated: tuple[str, ...] = ()


def preview(
    district_id: str, *, days: int = 7, now: datetime | None = None, max_enrollments: int = MAX_ENROLLMENTS
) -> Preview:
    """The decisions of the next ``days`` evaluation days (from tomorrow, each program's local
    date) of ``district_id``'s programs, in date order, computed in memory."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    now = now or utc_now()
    found: list[Upcoming] = []
    read = 0
    first: date | None = None
    truncated: list[str] = []
    for config in district_programs(district_id):
        program = compile_program(config)
        tomorrow = local_today(config, now) + timedelta(days=1)
        first = tomorrow if first is None or tomorrow < first else first
        last = tomorrow + timedelta(days=days - 1)
        keys = due_keys(config, last)
        if len(keys) > max_enrollments:
            truncated.append(config.program_id)
            keys = keys[:max_enrollments]
        items = batch_items(keys)
        read += len(items)
        store = MemoryStore()
        for stored in items.values():
            if stored.wake_on is None or stored.district_id != district_id:
                continue
            # Copies: the store builds its own state from this one and writes nothing back.
            wake = max(date.fromisoformat(stored.wake_on), tomorrow)
            store.add(to_state(stored, program.calendar), first_look=wake)
        day = tomorrow
        while day <= last:
            before = len(store.recorded)
            evaluate_day(store, program, day, now)
            for recorded in store.recorded[before:]:
                d = recorded.decision
                item = items.get(
                    f"{district_id}#{recorded.class_id or STUDENT_SUBJECT_CLASS}#{recorded.student_id}"
                )
                approval = d.facts.get("approval") == "requested"
                found.append(
                    Upcoming(
                        on=d.on,
                        due_on=d.due_on,
                        program_id=config.program_id,
                        rule_id=d.rule_id,
                        title=rule_title(d.rule_id),
                        policy_version=d.policy_version,
                        kind="approval" if approval else d.kind,
                        recipients=tuple(d.recipients),
                        student_id=recorded.student_id,
                        student_name=item.student_name if item is not None else None,
                        class_id=recorded.class_id,
                        class_title=item.class_title if item is not None else None,
                        deadlines={k: v.isoformat() for k, v in d.deadlines.items()},
                        status_after=d.status_after,
                    )
                )
            day += timedelta(days=1)
    found.sort(key=lambda u: (u.on, u.program_id, u.student_id, u.rule_id))
    return Preview(
        first_day=first, days=days, enrollments_read=read, items=tuple(found), truncated=tuple(truncated)
    )
