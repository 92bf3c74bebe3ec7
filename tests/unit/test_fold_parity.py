"""Replay evaluates the facts the deployed ingest path folds, whatever the arrival order.

Replay ingests a day's events at a time through the ingest service into its in-memory
evaluation store (``store.memory_ingest``); webhooks deliver them shuffled in batches of 25
through the same service over the plain in-memory port. This checks that the states replay
evaluates hold every fact the engine reads from activity (latest date per kind, percent complete
with its same-instant tie-break, activity history) as the deployed facts give them on the
program's calendar, worked out here independently of ``facts.local``.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from onpace_core.facts.fold import FoldRules, short_id
from onpace_core.ingest.formats.plain import PlainActivityEvent
from onpace_core.ingest.ports import MemoryIngestStore
from onpace_core.ingest.service import ingest_events
from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
from onpace_rules.engine import compile_program
from onpace_rules.program_files import load_program_file
from onpace_rules.rules import ladder

from tests.unit.rules_helpers import replay_keeping_store

KINDS = ("submission", "view", "login", "discussion_post", "progress")
STUDENTS = ("s1", "s2", "s3")


def _events(seed: int) -> list[PlainActivityEvent]:
    rng = random.Random(seed)
    start = datetime(2026, 8, 25, 3, tzinfo=UTC)  # near midnight in Chicago: local dates differ from UTC
    events = []
    for i in range(120):
        at = start + timedelta(hours=rng.randrange(0, 24 * 20))
        kind = rng.choice(KINDS)
        body = {
            "event_id": f"e{i:03d}",
            "occurred_at": at.isoformat(),
            "student": rng.choice(STUDENTS),
            "class": "c1",
            "kind": kind,
        }
        if kind == "progress" or rng.random() < 0.2:
            body["percent_complete"] = float(rng.randrange(0, 100))
        events.append(PlainActivityEvent.model_validate(body))
    # Two progress values at one instant: replay folds the higher first, so "last folded wins"
    # would keep the lower; the tie-break keeps the higher in both.
    tie = start + timedelta(days=30)
    for event_id, percent in (("tie-b", 60.0), ("tie-a", 35.0)):
        body = {"event_id": event_id, "occurred_at": tie.isoformat(), "student": "s1", "class": "c1"}
        events.append(
            PlainActivityEvent.model_validate({**body, "kind": "progress", "percent_complete": percent})
        )
    return events


def test_replay_and_ingest_fold_to_the_same_facts(repo_root: Path) -> None:
    shipped = load_program_file(repo_root / "programs" / "msc-online.yaml")
    # Five submissions a week expected: the ladder counts every submission date (a history).
    step1 = {**shipped.rules.get(ladder.STEP1, {}), "min_submissions_per_week": 5}
    config = shipped.model_copy(update={"rules": {**shipped.rules, ladder.STEP1: step1}})
    program = compile_program(config)
    district = config.district_id
    records = [
        EnrollmentRecord(
            district_id=district,
            program_id=config.program_id,
            class_id="c1",
            class_title="C1",
            student_id=s,
            student_name=s,
            term_id=None,
            start_date=date(2026, 8, 24),
            end_date=None,
            contacts=(ContactRecord("student", f"{s}@example.org", None, "en"),),
        )
        for s in STUDENTS
    ]
    history = frozenset(program.activity_history)
    assert history, "the program keeps an activity history: the comparison covers it"
    events = _events(5)

    # Replay, day by day, keeping its evaluation store to look at.
    result, memory = replay_keeping_store(config, records, events, date(2026, 8, 24), date(2026, 9, 30))
    assert result.unmatched == []

    # Ingest: shuffled, in batches of 25, through the service over the in-memory port.
    port = MemoryIngestStore()
    for s in STUDENTS:
        port.add_enrollment(district, "c1", s, program_id=config.program_id)
    port.programs[(district, config.program_id)] = FoldRules(
        wake_days=dict(program.activity_wake_days), history=history
    )
    shuffled = [e.to_lms_event() for e in events]
    random.Random(9).shuffle(shuffled)
    for i in range(0, len(shuffled), 25):
        ingest_events(
            district_id=district,
            source="plain",
            events=shuffled[i : i + 25],
            now=datetime.now(UTC),
            ttl_days=1,
            store=port,
        )

    local = program.calendar.local_date
    for s in STUDENTS:
        key = f"{district}#c1#{s}"
        state = memory.subjects[key].state
        facts = port.enrollments[key]
        deployed_last = {
            k: local(datetime.fromisoformat(v.replace("Z", "+00:00"))) for k, v in facts.last.items()
        }
        assert deployed_last == dict(state.last_on), s
        assert facts.percent == state.percent_complete, s
        deployed_history: dict[str, list[date]] = {}
        for entry in facts.activity_log.values():
            kind, _, instant = entry.partition(" ")
            deployed_history.setdefault(kind, []).append(
                local(datetime.fromisoformat(instant.replace("Z", "+00:00")))
            )
        assert {k: sorted(v) for k, v in deployed_history.items()} == {
            k: list(v) for k, v in state.history_on.items()
        }
    assert port.enrollments[f"{district}#c1#s1"].percent_event == short_id("tie-b")
