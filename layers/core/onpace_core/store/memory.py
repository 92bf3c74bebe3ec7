"""An in-memory evaluation store: what ``onpace replay``, the benchmark and unit tests evaluate against.

It keeps the engine's state of each subject (enrollment or student), the subjects queued by wake
date (the deployed store's ``due`` index), and the decisions recorded, each once per
(subject, rule id, episode) like the outbox's conditional put. Events reach it as they reach the
deployed store: through the ingest service (``ingest.service``) over the port
``store.memory_ingest`` adapts to this store, which folds them (``facts.fold``); ``apply_facts``
then reads the folded facts as the deployed evaluator reads an item (``facts.local``). Wake dates
move as deployed: ingest brings them forward, an evaluation sets the next one.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, NamedTuple

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import Decision, Evaluation
from onpace_rules.engine import CompiledProgram
from onpace_rules.facts import (
    ENDED_STATUSES,
    ONE_DAY,
    ActivityKind,
    EnrollmentState,
    EnrollmentStatus,
    moved_end_date,
)
from onpace_rules.inputs import STUDENT_WIDE_KINDS, Input

from onpace_core.evaluation.day import DaySummary, Subject
from onpace_core.facts.fold import EnrollmentFacts
from onpace_core.facts.local import local_history, local_inputs, local_last_on


@dataclass(slots=True, eq=False)
class MemorySubject:
    """One subject's facts: ingest's (``apply_facts``: ``last_on``, ``history_on``, progress,
    inputs), and the evaluations' (``fired``, the very map the states it hands out hold; status,
    ``checked_through``, ``held`` and the end date).

    ``state`` is the subject as an ``EnrollmentState`` value, built from these facts when asked
    for after a change (once per evaluation at most: every evaluation changes ``checked_through``).
    The engine gets the state during an evaluation and keeps nothing of it.
    """

    key: str
    wake: date | None
    last_on: Mapping[ActivityKind, date]
    history_on: Mapping[ActivityKind, Sequence[date]]
    fired: dict[str, date]
    # What evaluations, progress and inputs change; the rest of the state stays as it was added.
    status: EnrollmentStatus
    checked_through: date | None
    held: Decision | None
    end_date: date | None
    percent_complete: float | None
    inputs: tuple[Input, ...]
    added: EnrollmentState
    # The earliest date this subject is queued on in the store: a wake date moved later keeps
    # that place, and ``due`` queues the subject again when the date comes up.
    queued: date | None = None
    # ``state`` as last built; None after a change.
    built: EnrollmentState | None = None

    @classmethod
    def of(cls, state: EnrollmentState) -> MemorySubject:
        return cls(
            key=state.key,
            wake=None,
            last_on=dict(state.last_on),
            history_on=state.history_on,
            fired=dict(state.fired),
            status=state.status,
            checked_through=state.checked_through,
            held=state.held,
            end_date=state.end_date,
            percent_complete=state.percent_complete,
            inputs=state.inputs,
            added=state,
        )

    @property
    def state(self) -> EnrollmentState:
        built = self.built
        if built is None:
            added = self.added
            built = self.built = _new_state(EnrollmentState)
            # Every field of EnrollmentState (see "Building states" below).
            _set_key(built, added.key)
            _set_start_date(built, added.start_date)
            _set_status(built, self.status)
            _set_term_id(built, added.term_id)
            _set_last_on(built, self.last_on)
            _set_percent_complete(built, self.percent_complete)
            _set_fired(built, self.fired)
            _set_checked_through(built, self.checked_through)
            _set_end_date(built, self.end_date)
            _set_student_id(built, added.student_id)
            _set_class_id(built, added.class_id)
            _set_scope(built, added.scope)
            _set_inputs(built, self.inputs)
            _set_roster(built, added.roster)
            _set_held(built, self.held)
            _set_history_on(built, self.history_on)
            _set_family_unwarned(built, added.family_unwarned)  # False unless a test says so
        return built


# -- Building states -------------------------------------------------------------------------
# A state per evaluation is this store's hottest allocation. EnrollmentState's own ``__init__``
# (a frozen dataclass's) sets each of its 17 fields through ``object.__setattr__``, which costs
# about twice what setting the new instance's slots through their descriptors does; on the
# benchmark, building with ``EnrollmentState(...)`` made the evaluation about a fifth slower
# (README, "Speed tricks, and what removing them costs"). Only an
# instance made here, before anyone else holds it, is written: a state handed out never changes.
# ``tests/unit/test_value_types.py`` checks the result against ``EnrollmentState(...)``; a field
# added to EnrollmentState and not set here fails there (reading an unset slot raises).
_new_state = object.__new__
_SETTERS: dict[str, Callable[[EnrollmentState, Any], None]] = {
    f.name: getattr(EnrollmentState, f.name).__set__ for f in fields(EnrollmentState)
}
_set_key = _SETTERS["key"]
_set_start_date = _SETTERS["start_date"]
_set_status = _SETTERS["status"]
_set_term_id = _SETTERS["term_id"]
_set_last_on = _SETTERS["last_on"]
_set_percent_complete = _SETTERS["percent_complete"]
_set_fired = _SETTERS["fired"]
_set_checked_through = _SETTERS["checked_through"]
_set_end_date = _SETTERS["end_date"]
_set_student_id = _SETTERS["student_id"]
_set_class_id = _SETTERS["class_id"]
_set_scope = _SETTERS["scope"]
_set_inputs = _SETTERS["inputs"]
_set_roster = _SETTERS["roster"]
_set_held = _SETTERS["held"]
_set_history_on = _SETTERS["history_on"]
_set_family_unwarned = _SETTERS["family_unwarned"]


def _by_key(subject: MemorySubject) -> str:
    return subject.key


class RecordedDecision(NamedTuple):
    decision: Decision
    student_id: str
    class_id: str | None


@dataclass
class MemoryStore:
    """Subjects of one program, keyed by their enrollment key (``district#class#student``)."""

    subjects: dict[str, MemorySubject] = field(default_factory=dict)
    recorded: list[RecordedDecision] = field(default_factory=list)
    # The deployed ``due`` index in memory: subjects queued by date, and those dates in a heap.
    _queued: dict[date, list[MemorySubject]] = field(default_factory=dict)
    _queue_days: list[date] = field(default_factory=list)
    _by_student: dict[str, list[str]] = field(default_factory=dict)
    _student_subject: dict[str, str] = field(default_factory=dict)

    # -- loading ----------------------------------------------------------------------------

    def add(self, state: EnrollmentState, first_look: date | None = None) -> None:
        """Add a subject; its first look is its start date (or ``first_look``), like a roster load.

        Like the deployed roster load, a subject added later starts with the student-wide inputs
        the student's other subjects hold (a check on its first look sees them).
        """
        if state.key in self.subjects:
            raise ValueError(f"{state.key}: already in the store (one state per subject)")
        for item in self._student_wide_inputs(state.student_id):
            state = state.with_input(item)
        subject = self.subjects[state.key] = MemorySubject.of(state)
        self._move_wake(subject, first_look or state.start_date)
        if state.scope == "student":
            self._student_subject[state.student_id] = state.key
        else:
            self._by_student.setdefault(state.student_id, []).append(state.key)

    def _student_wide_inputs(self, student_id: str) -> list[Input]:
        keys = [*self._by_student.get(student_id, ()), self._student_subject.get(student_id)]
        found: dict[str, Input] = {}
        for key in keys:
            if key is not None:
                for item in self.subjects[key].inputs:
                    if item.kind in STUDENT_WIDE_KINDS:
                        found.setdefault(item.event_id, item)
        return list(found.values())

    # -- facts (what ingest folded: ``store.memory_ingest``) ---------------------------------

    def apply_facts(
        self, key: str, facts: EnrollmentFacts, changed: Iterable[str], calendar: ProgramCalendar
    ) -> None:
        """Take one subject's facts as ingest folded them (``changed``: the fields a deployed write
        would set), read on the program's calendar as the deployed evaluator reads an item."""
        subject = self.subjects[key]
        for name in changed:
            if name == "last":
                subject.last_on = local_last_on(facts.last, calendar)
            elif name == "activity_log":
                subject.history_on = local_history(facts.activity_log.values(), calendar)
            elif name == "percent":
                subject.percent_complete = facts.percent
            elif name == "inputs":
                subject.inputs = local_inputs(facts.inputs.values(), calendar)
            elif name == "wake_on" and facts.wake_on is not None and subject.status not in ENDED_STATUSES:
                self._wake_by(subject, date.fromisoformat(facts.wake_on))
        subject.built = None

    def _wake_by(self, subject: MemorySubject, day: date) -> None:
        """Bring the wake date forward to ``day`` (never later)."""
        if subject.wake is None or day < subject.wake:
            self._move_wake(subject, day)

    def _move_wake(self, subject: MemorySubject, day: date | None) -> None:
        """Set the wake date, earlier or later. Only a date before the one the subject is queued
        on queues it again: an evaluation may move a wake date later, and ``due`` sorts that out
        when the earlier date comes up."""
        subject.wake = day
        if day is not None and (subject.queued is None or day < subject.queued):
            self._queue(subject, day)

    def _queue(self, subject: MemorySubject, day: date) -> None:
        subject.queued = day
        queued = self._queued.get(day)
        if queued is None:
            self._queued[day] = [subject]
            heapq.heappush(self._queue_days, day)
        else:
            queued.append(subject)

    def wake_all(self, day: date) -> None:
        """Look at every live subject again on ``day`` (after a calendar change, say)."""
        for subject in self.subjects.values():
            if subject.status not in ENDED_STATUSES:
                self._wake_by(subject, day)

    # -- EvaluationStore ----------------------------------------------------------------------

    def due(self, program: CompiledProgram, day: date) -> Iterator[Subject[str]]:
        days, queued = self._queue_days, self._queued
        ready: list[MemorySubject] = []
        while days and days[0] <= day:
            entry = heapq.heappop(days)
            for subject in queued.pop(entry):
                if subject.queued != entry:
                    continue  # queued again on an earlier date since, and taken then
                subject.queued = None
                wake = subject.wake
                if wake is None:
                    continue
                if wake <= day:
                    subject.wake = None
                    ready.append(subject)
                else:  # moved later since it was queued
                    self._queue(subject, wake)
        ready.sort(key=_by_key)
        for subject in ready:
            yield Subject(subject.state, subject.key)

    def record(
        self,
        program: CompiledProgram,
        subject: Subject[str],
        evaluation: Evaluation,
        day: date,
        now: datetime,
        summary: DaySummary,
    ) -> None:
        stored = self.subjects[subject.ref]
        added = stored.added
        fired = stored.fired
        extended: list[Decision] = []
        for decision in evaluation.decisions:
            key = decision.fired_key
            if key in fired:
                summary.already_recorded += 1
                continue
            fired[key] = day
            summary.recorded[(decision.rule_id, decision.kind)] += 1
            self.recorded.append(RecordedDecision(decision, added.student_id, added.class_id))
            if decision.end_date_after is not None:
                extended.append(decision)
        # What ``engine.apply_evaluation`` gives (``fired`` is already up to date).
        if extended:
            stored.end_date = moved_end_date(extended, stored.end_date)
        stored.status = evaluation.status
        stored.checked_through = day
        stored.held = evaluation.held
        stored.built = None
        # ``due`` took the subject off its wake date; this evaluation gives the next one.
        wake = evaluation.wake_on
        if wake is not None:
            self._move_wake(stored, wake if wake > day else day + ONE_DAY)
