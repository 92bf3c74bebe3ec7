"""``onpace replay``: a practice run of one program over a roster and its events, in memory.

It evaluates every day of the range exactly as the scheduled evaluator would — the same day
loop (``onpace_core.evaluation.day``) and engine, over an in-memory store instead of DynamoDB —
and sends nothing. Events go through the deployed ingest service (``ingest.service``) over an
in-memory port (``store.memory_ingest``): duplicates, identity resolution, voids, quarantine and
the fold are the webhooks'. The evaluation of day D sees the events dated (in the program's time
zone) before D; on a skipped day (``--skip``) events still arrive but the evaluator is idle, so
the next run catches up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from onpace_core.evaluation.day import evaluate_day
from onpace_core.ingest.event import LmsEvent
from onpace_core.ingest.formats.detect import DOCUMENT_ERRORS, describe, detect_format, parse_document
from onpace_core.ingest.formats.plain import InvalidPayloadError, PlainActivityEvent, parse_plain_events
from onpace_core.ingest.identity import read_mappings_file
from onpace_core.ingest.limits import LimitError, load_json
from onpace_core.ingest.service import ingest_events
from onpace_core.roster.enrollments import (
    EnrollmentRecord,
    build_enrollments,
    district_enrollments,
    roster_facts,
    subject_facts,
)
from onpace_core.roster.identities import IdentityRow, identity_rows
from onpace_core.roster.oneroster import Roster, read_roster
from onpace_core.store.enrollments import student_subjects
from onpace_core.store.memory import MemoryStore, RecordedDecision
from onpace_core.store.memory_ingest import EvaluationIngestStore
from onpace_core.store.programs import applies_from, change_detail, describe_change
from onpace_rules.engine import CompiledProgram, compile_program
from onpace_rules.facts import EnrollmentState, RosterFacts
from onpace_rules.input_files import InputFileError, read_text
from onpace_rules.program import ProgramConfig

# The engine names the family's role in the plural ("guardians"); replay prints roster roles.
_PRINTED_ROLE = {"guardians": "guardian"}


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    @classmethod
    def parse(cls, text: str) -> DayRange:
        """``YYYY-MM-DD..YYYY-MM-DD`` (or a single day)."""
        first, _, last = text.partition("..")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError as exc:
            raise ValueError(f"{text!r}: expected FROM..TO as YYYY-MM-DD..YYYY-MM-DD") from exc
        if end < start:
            raise ValueError(f"{text!r}: the range ends before it starts")
        return cls(start, end)


@dataclass
class ReplayResult:
    lines: list[dict[str, Any]]
    # Events the ingest service quarantined: a student or class not on the roster (or a student
    # not in that class), with the reason.
    unmatched: list[dict[str, str]] = field(default_factory=list)
    # Events for classes (or class-less inputs for students) that are on the roster but belong to
    # schools outside the program's org_ids: another program's activity, left out as expected.
    other_programs: list[dict[str, str]] = field(default_factory=list)
    # What the program applies to, when that is probably not what was meant (no org_ids on a
    # roster of several schools, or org_ids that select no class).
    warnings: list[str] = field(default_factory=list)
    duplicates: int = 0
    # Events of the files that count for nothing (a log-out, a verb no rule reads: ``ignored``)
    # and xAPI statements voided by another (what they set is taken back when the void arrives).
    ignored: int = 0
    voided: int = 0
    days_evaluated: int = 0
    enrollment_days: int = 0
    evaluations: int = 0
    # CPU time spent in the evaluator's day loop (the engine and the store), without reading
    # and folding events: what the benchmark reports as enrollment-days evaluated per second.
    evaluation_seconds: float = field(default=0.0, compare=False)
    # Calendar changes as the deployed evaluator audits them (``calendar.changed``): each on the
    # first day evaluated that sees it, with how many subjects that day re-evaluated.
    calendar_changes: list[dict[str, object]] = field(default_factory=list)


def read_event_file(path: Path) -> Iterator[tuple[str, PlainActivityEvent]]:
    """Each line of a JSON-lines file of plain events with its event, validated; InputFileError
    names the line (the demo sends these lines to the webhook as they are).

    The webhook's limits apply but for the future bound: a file may hold a term still to come
    (a practice run of next semester), and the evaluation of day D only ever sees the events
    dated before D, so an event ahead of the wall clock cannot switch a rule off early here.
    """
    text = read_text(path, what="events file")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if not line.lstrip().startswith("{"):
            raise InputFileError(path, "each line must be one JSON object", number)
        yield line, _plain_line(path, line, number)


def _plain_line(path: Path, line: str, number: int | None) -> PlainActivityEvent:
    try:
        (event,) = parse_plain_events(line, now=None)
    except InvalidPayloadError as exc:
        detail = "; ".join(f"{p['field'] or 'event'}: {p['problem']}" for p in exc.problems) or str(exc)
        raise InputFileError(path, detail, number) from exc
    except LimitError as exc:
        raise InputFileError(path, str(exc), number) from exc
    return event


ReplayEvent = PlainActivityEvent | LmsEvent


def read_any_event_file(path: Path) -> Iterator[ReplayEvent]:
    """The events of a file in any format OnPace reads (``ingest.formats.detect``), validated by
    its format's parser; InputFileError names the line (or the document of a whole-file array).

    JSON Lines: one document per line (a plain event, an xAPI statement or array of statements,
    a Caliper envelope, a Canvas live event; formats may be mixed). A file whose first line is
    not a JSON document on its own is read as one JSON document (pretty-printed, or an array).
    Plain lines become ``PlainActivityEvent``s exactly as before (the replay's fast path); the
    other formats ``LmsEvent``s whose refs the ingest service resolves against the roster. No
    time is refused as in the future (see ``read_event_file``): the parsers that need a clock get
    ``detect.FAR_CLOCK``.
    """
    text = read_text(path, what="events file")
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return
    try:
        load_json(lines[first])
    except LimitError as exc:
        yield from _whole_file(path, text, first + 1, exc)
        return
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield from _document(path, line, number)


def _document(path: Path, line: str, number: int) -> Iterator[ReplayEvent]:
    try:
        document = load_json(line)
        if isinstance(document, dict) and detect_format(document) == "plain":
            yield _plain_line(path, line, number)
            return
        yield from parse_document(document, now=None)
    except DOCUMENT_ERRORS as exc:
        raise InputFileError(path, describe(exc), number) from exc


def _whole_file(path: Path, text: str, first: int, line_error: LimitError) -> Iterator[ReplayEvent]:
    try:
        document = load_json(text)
    except LimitError as exc:
        problem = f"not one JSON document per line ({line_error}), nor one JSON document ({exc})"
        raise InputFileError(path, problem, first) from exc
    documents = document if isinstance(document, list) else [document]
    for index, item in enumerate(documents, start=1):
        try:
            yield from parse_document(item, now=None)
        except DOCUMENT_ERRORS as exc:
            where = f"document {index}: " if isinstance(document, list) else ""
            raise InputFileError(path, where + describe(exc)) from exc


def read_events(paths: Sequence[Path]) -> list[ReplayEvent]:
    """Events from files in any format, validated, each event id once (the first), in time order."""
    events: dict[str, ReplayEvent] = {}
    for path in paths:
        for event in read_any_event_file(path):
            events.setdefault(event.event_id, event)
    return sorted(events.values(), key=lambda e: (e.occurred_at.astimezone(UTC), e.event_id))


def _state(record: EnrollmentRecord, facts: RosterFacts) -> EnrollmentState:
    return EnrollmentState(
        key=record.enrollment_key,
        start_date=record.start_date,
        term_id=record.term_id,
        end_date=record.end_date,
        student_id=record.student_id,
        class_id=record.class_id,
        roster=facts,
    )


def _student_states(
    records: list[EnrollmentRecord], pool: Sequence[EnrollmentRecord], facts: dict[str, RosterFacts]
) -> Iterator[EnrollmentState]:
    """The student records the deployed roster load makes (``store.enrollments.student_subjects``)."""
    subjects = sorted(student_subjects(pool), key=lambda s: s.student_id)
    roster = subject_facts(subjects, records, facts)
    for subject in subjects:
        yield EnrollmentState(
            key=f"{subject.district_id}#student#{subject.student_id}",
            start_date=subject.start_date,
            end_date=subject.end_date,
            student_id=subject.student_id,
            class_id=None,
            scope="student",
            roster=roster[subject.enrollment_key],
        )


def load_store(
    program: CompiledProgram,
    records: list[EnrollmentRecord],
    first_day: date,
    district_records: Sequence[EnrollmentRecord] | None = None,
) -> MemoryStore:
    """An in-memory store holding the program's enrollments (and students, for student-wide rules:
    every student of ``district_records`` when a rule addresses every family of the district)."""
    store = MemoryStore()
    facts = roster_facts(records)
    for record in records:
        store.add(_state(record, facts[record.enrollment_key]), first_look=max(record.start_date, first_day))
    if any(f.scope == "student" for v in program.versions for f in v.families):
        pool = district_records if program.addresses_district and district_records else records
        for state in _student_states(records, pool, facts):
            store.add(state, first_look=max(state.start_date, first_day))
    return store


def _by_local_date(
    program: CompiledProgram, events: Iterable[ReplayEvent], result: ReplayResult
) -> dict[date, list[LmsEvent]]:
    """Events grouped by their program-local date, each group in time order, each event id once.

    The evaluation of D sees exactly the events dated before D, so a day's group is ingested
    whole before the first evaluation after it. An event id given twice counts once (the first).
    """
    zone = program.calendar.zone
    groups: dict[date, list[LmsEvent]] = {}
    seen: set[str] = set()
    for event in sorted(events, key=lambda e: e.occurred_at):
        if event.event_id in seen:
            result.duplicates += 1
            continue
        seen.add(event.event_id)
        lms = event.to_lms_event() if isinstance(event, PlainActivityEvent) else event
        groups.setdefault(event.occurred_at.astimezone(zone).date(), []).append(lms)
    return groups


def _ingest(
    port: EvaluationIngestStore, district_id: str, group: list[LmsEvent], result: ReplayResult
) -> None:
    """One day's events through the deployed ingest service, over the in-memory port."""
    report = ingest_events(
        district_id=district_id, source="replay", events=group, now=datetime.now(UTC), ttl_days=0, store=port
    )
    result.duplicates += report.duplicates
    result.ignored += report.ignored
    result.voided += report.voided


def _unmatched(port: EvaluationIngestStore, district_id: str) -> list[dict[str, str]]:
    """The quarantined events, with the student and class as resolved where they were."""
    return [
        {"event_id": r.event_id, "student": r.student_id, "class": r.class_id, "reason": r.reason or ""}
        for r in port.unmatched(district_id)
    ]


def _line(recorded: RecordedDecision) -> dict[str, Any]:
    d = recorded.decision
    facts: dict[str, Any] = dict(d.facts)
    facts["policy_version"] = d.policy_version
    if d.due_on != d.on:
        facts["due_on"] = d.due_on.isoformat()
    if d.reason:
        facts["reason"] = d.reason
    return {
        "date": d.on.isoformat(),
        "rule": d.rule_id,
        "student": recorded.student_id,
        "class": recorded.class_id,
        "kind": d.kind,
        "recipients": [_PRINTED_ROLE.get(r, r) for r in d.recipients],
        "deadlines": {name: when.isoformat() for name, when in d.deadlines.items()},
        "facts": facts,
    }


def replay(
    config: ProgramConfig,
    records: list[EnrollmentRecord],
    events: Iterable[ReplayEvent],
    first: date,
    last: date,
    skip: Sequence[DayRange] = (),
    district_records: Sequence[EnrollmentRecord] | None = None,
    identities: Sequence[tuple[Sequence[IdentityRow], str]] = (),
) -> ReplayResult:
    """Evaluate ``first``..``last`` day by day and return every decision as a replay line.

    Each day's events go through the ingest service first (``_ingest``), as webhooks would have
    delivered them. ``district_records``: every student enrollment of the district's roster
    (``district_enrollments``), for a program with a rule addressed to every family of the district.
    ``identities``: identity map rows with their origin (``roster`` or ``admin``), as the deployed
    map holds them; without rows an event's refs resolve only as roster ``sourcedId``s.
    """
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    program = compile_program(config)
    district = config.district_id
    store = load_store(program, records, first, district_records)
    port = EvaluationIngestStore.over(store, program)
    for rows, origin in identities:
        port.save_identities(district, rows, origin=origin)
    result = ReplayResult(lines=[])
    groups = _by_local_date(program, events, result)
    unreported = sorted(
        (c for c in config.calendar.changes if applies_from(c) >= first),
        key=lambda c: (applies_from(c), c.reason),
    )
    arrived = sorted(groups)
    index = 0
    now = datetime.now(UTC)
    day = first
    while day <= last:
        # Everything dated before ``day`` in the program's time zone has arrived by its evaluation.
        while index < len(arrived) and arrived[index] < day:
            _ingest(port, district, groups[arrived[index]], result)
            index += 1
        if program.calendar.changes_announced_on(day):
            store.wake_all(day)
        if not any(day in r for r in skip):
            started = time.process_time()
            summary = evaluate_day(store, program, day, now)
            result.evaluation_seconds += time.process_time() - started
            result.evaluations += summary.enrollments_evaluated
            result.days_evaluated += 1
            while unreported and applies_from(unreported[0]) <= day:
                change = unreported.pop(0)
                result.calendar_changes.append(
                    {
                        "date": day.isoformat(),
                        **change_detail(change),
                        "summary": describe_change(change),
                        "enrollments_reevaluated": summary.enrollments_evaluated,
                    }
                )
        day += timedelta(days=1)
    result.enrollment_days = len(records) * ((last - first).days + 1)
    result.unmatched = _unmatched(port, district)
    result.lines = [_line(r) for r in store.recorded]
    result.lines.sort(
        key=lambda line: (
            line["date"],
            line["student"],
            line["class"] or "",
        )
    )
    return result


def replay_files(
    program_file: Path,
    roster_dir: Path,
    event_files: Sequence[Path],
    first: date,
    last: date,
    skip: Sequence[DayRange] = (),
    mappings: Sequence[Path] = (),
) -> ReplayResult:
    """Read the inputs (each error names its file and line) and replay them.

    ``mappings``: an admin's identity mappings files (``onpace load mappings``'s CSV).
    """
    from onpace_rules.program_files import load_program_file

    config = load_program_file(program_file)
    roster = read_roster(roster_dir)
    records = build_enrollments(roster, [config])
    district = district_enrollments(roster, config)
    identities = [(identity_rows(roster), "roster")]
    identities += [(read_mappings_file(path), "admin") for path in mappings]
    result = replay(config, records, read_events(event_files), first, last, skip, district, identities)
    _set_aside_other_programs(result, roster, records)
    result.warnings = scope_warnings(program_file, roster_dir, config, roster, records)
    return result


def _set_aside_other_programs(result: ReplayResult, roster: Roster, records: list[EnrollmentRecord]) -> None:
    """Move the unmatched events that belong to the roster's other schools to ``other_programs``."""
    classes = {r.class_id for r in records}
    students = {r.student_id for r in records}

    def elsewhere(event: dict[str, str]) -> bool:
        if event["class"]:
            return event["class"] in roster.classes and event["class"] not in classes
        return event["student"] in roster.users and event["student"] not in students

    result.other_programs = [e for e in result.unmatched if elsewhere(e)]
    result.unmatched = [e for e in result.unmatched if not elsewhere(e)]


def scope_warnings(
    program_file: Path,
    roster_dir: Path,
    config: ProgramConfig,
    roster: Roster,
    records: list[EnrollmentRecord],
) -> list[str]:
    """Which classes the program was applied to, when that is probably a mistake.

    A program with no ``org_ids`` applies to every class of the roster (the one open program
    takes them all); a program whose ``org_ids`` name no school of the roster applies to none.
    """
    schools = sorted({roster.classes[r.class_id].school_sourced_id for r in records})
    on_roster = sorted({c.school_sourced_id for c in roster.classes.values()})
    if not records:
        named = ", ".join(config.org_ids) or "none: every class"
        return [
            f"no student enrollment of {roster_dir} belongs to {program_file} (its org_ids: {named}; "
            f"the roster's schools: {', '.join(on_roster) or 'none'}): nothing was evaluated"
        ]
    if not config.org_ids and len(schools) > 1:
        count = len({r.class_id for r in records})
        return [
            f"{program_file} lists no org_ids, so it was applied to every class of {roster_dir}: "
            f"{count} classes of {len(schools)} schools ({', '.join(schools)}); list the schools whose "
            "classes belong to the program in org_ids to replay only those"
        ]
    return []


def as_json_lines(result: ReplayResult) -> Iterator[str]:
    for line in result.lines:
        yield json.dumps(line, ensure_ascii=False, sort_keys=False)


def as_table(result: ReplayResult) -> Iterator[str]:
    """The same lines as a table for people: one row per decision, deadlines and key facts inline."""
    header = ("date", "rule", "student", "class", "kind", "recipients", "deadlines", "facts")
    rows = [header]
    for line in result.lines:
        rows.append(
            (
                line["date"],
                line["rule"],
                line["student"],
                line["class"] or "-",
                line["kind"],
                ", ".join(line["recipients"]) or "-",
                ", ".join(f"{k} {v}" for k, v in line["deadlines"].items()) or "-",
                ", ".join(f"{k}={v}" for k, v in line["facts"].items() if k != "policy_version"),
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) - 1)]
    for number, row in enumerate(rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        yield "  ".join([*cells, str(row[-1])]).rstrip()
        if number == 0:
            yield "  ".join("-" * width for width in widths) + "  -----"
