"""Stored facts as the engine reads them: instants become dates of the program's calendar.

Ingest folds instants (``facts.fold``) because it does not know a program's time zone; the
evaluator turns them into program-local dates when it builds an ``EnrollmentState``. Both
evaluation stores do it here: DynamoDB's (``store.enrollments.to_state``) and the in-memory one
``onpace replay`` evaluates (``store.memory``), so a replay reads the facts as deployed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import cast

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.facts import ACTIVITY_KINDS, ActivityKind
from onpace_rules.inputs import Input, input_from_dict


def local_last_on(last: Mapping[str, str | None], calendar: ProgramCalendar) -> dict[ActivityKind, date]:
    """The local date of the latest event of each activity kind (``EnrollmentFacts.last``)."""
    return {
        cast(ActivityKind, kind): calendar.local_date(datetime.fromisoformat(instant))
        for kind, instant in last.items()
        if instant and kind in ACTIVITY_KINDS
    }


def local_history(
    log_entries: Iterable[str], calendar: ProgramCalendar
) -> dict[ActivityKind, tuple[date, ...]]:
    """Every logged date per kind, in order (``EnrollmentFacts.activity_log`` values, "kind instant")."""
    history: dict[ActivityKind, list[date]] = {}
    for entry in log_entries:
        kind, _, instant = str(entry).partition(" ")
        if instant and kind in ACTIVITY_KINDS:
            day = calendar.local_date(datetime.fromisoformat(instant))
            history.setdefault(cast(ActivityKind, kind), []).append(day)
    return {kind: tuple(sorted(days)) for kind, days in history.items()}


def local_inputs(stored: Iterable[str], calendar: ProgramCalendar) -> tuple[Input, ...]:
    """The inputs (JSON of ``input_to_dict``), each dated on the program's calendar, in date order.

    Ingest dates an input by its UTC date; the local date comes from its instant here.
    """
    inputs = (input_from_dict(json.loads(raw)) for raw in stored)
    dated = (replace(item, on=calendar.local_date(item.at)) for item in inputs)
    return tuple(sorted(dated, key=lambda item: (item.on, item.event_id)))
