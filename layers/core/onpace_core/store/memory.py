"""An in-memory evaluation store: what ``onpace replay``, the benchmark and unit tests evaluate against.

It keeps the engine's state of each subject (enrollment or student), a heap of wake dates (the
deployed store's ``due`` index), and the decisions recorded, each once per
(subject, rule id, episode) like the outbox's conditional put.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from onpace_rules.decisions import Decision, Evaluation
from onpace_rules.engine import CompiledProgram, moved_end_date
from onpace_rules.facts import ENDED_STATUSES, ActivityKind, EnrollmentState, update_in_place
from onpace_rules.inputs import STUDENT_WIDE_KINDS, Input

from onpace_core.evaluation.day import DaySummary, Subject


@dataclass(slots=True)
class MemorySubject:
    """One subject's state, which this store owns and moves forward in place (a replay's hot
    path): activity updates ``last_on`` and ``history_on`` (the very maps the state holds),
    evaluations update status, ``fired``, ``checked_through`` and ``held``. The engine gets the
    state during an evaluation and keeps nothing of it.
    """

    state: EnrollmentState
    wake: date | None
    last_on: dict[ActivityKind, date]
    history_on: dict[ActivityKind, list[date]]

    @classmethod
    def of(cls, state: EnrollmentState, wake: date | None) -> MemorySubject:
        last_on = dict(state.last_on)
        history_on = {kind: list(dates) for kind, dates in state.history_on.items()}
        return cls(state.evolve(last_on=last_on, history_on=history_on), wake, last_on, history_on)

    def record(self, decisions: dict[str, Decision], evaluation: Evaluation, day: date) -> None:
        """What ``engine.apply_evaluation`` gives, applied in place; ``decisions`` are the ones
        recorded now, by their fired key."""
        state = self.state
        if decisions:
            # A new map, not changed in place: decisions recorded earlier keep theirs.
            fired = {**state.fired, **dict.fromkeys(decisions, day)}
            end_date = moved_end_date(decisions.values(), state.end_date)
            update_in_place(state, fired=fired, end_date=end_date)
        update_in_place(state, status=evaluation.status, checked_through=day, held=evaluation.held)


class RecordedDecision(NamedTuple):
    decision: Decision
    student_id: str
    class_id: str | None


@dataclass
class MemoryStore:
    """Subjects of one program, keyed by their enrollment key (``district#class#student``)."""

    subjects: dict[str, MemorySubject] = field(default_factory=dict)
    # The program's ``activity_wake_days``: activity of these kinds brings the wake date forward.
    activity_wake_days: Mapping[ActivityKind, int] = field(default_factory=dict)
    # The program's ``activity_history``: every date of these kinds is kept, not only the latest.
    activity_history: frozenset[ActivityKind] = frozenset()
    recorded: list[RecordedDecision] = field(default_factory=list)
    _heap: list[tuple[date, str]] = field(default_factory=list)
    _by_student: dict[str, list[str]] = field(default_factory=dict)
    _student_subject: dict[str, str] = field(default_factory=dict)

    # -- loading ----------------------------------------------------------------------------

    def add(self, state: EnrollmentState, first_look: date | None = None) -> None:
        """Add a subject; its first look is its start date (or ``first_look``), like a roster load."""
        wake = first_look or state.start_date
        self.subjects[state.key] = MemorySubject.of(state, wake)
        heapq.heappush(self._heap, (wake, state.key))
        if state.scope == "student":
            self._student_subject[state.student_id] = state.key
        else:
            self._by_student.setdefault(state.student_id, []).append(state.key)

    def enrollment_keys_of(self, student_id: str) -> list[str]:
        return list(self._by_student.get(student_id, ()))

    # -- facts (what ingest does when deployed) ---------------------------------------------

    def fold_activity(
        self, key: str, kind: ActivityKind, on: date, percent_fraction: float | None = None
    ) -> bool:
        """Move one enrollment's facts forward; False when the enrollment is unknown."""
        subject = self.subjects.get(key)
        if subject is None or subject.state.scope != "enrollment":
            return False
        seen = subject.last_on.get(kind)
        if seen is None or seen < on:
            subject.last_on[kind] = on
        if percent_fraction is not None:
            update_in_place(subject.state, percent_complete=percent_fraction)
        if kind in self.activity_history:
            bisect.insort(subject.history_on.setdefault(kind, []), on)
        days = self.activity_wake_days.get(kind)
        if days is not None and subject.state.status not in ENDED_STATUSES:
            self._wake_by(key, on + timedelta(days=days))
        return True

    def add_input(self, student_id: str, class_key: str | None, item: Input) -> bool:
        """Give an input to its enrollment (student-wide kinds: to all of the student's subjects).

        An input wakes its subjects the day after it (the first evaluation that sees it).
        """
        own = class_key is not None and class_key in self.subjects
        if not own and (class_key is not None or student_id not in self._by_student):
            return False  # unknown enrollment: the caller keeps and reports it
        targets = [class_key] if own and class_key is not None else []
        if item.kind in STUDENT_WIDE_KINDS or class_key is None:
            targets.extend(k for k in self._by_student.get(student_id, ()) if k != class_key)
            if student_id in self._student_subject:
                targets.append(self._student_subject[student_id])
        for key in targets:
            subject = self.subjects[key]
            subject.state = subject.state.with_input(item)
            if subject.state.status not in ENDED_STATUSES:
                self._wake_by(key, item.on + timedelta(days=1))
        return True

    def _wake_by(self, key: str, day: date) -> None:
        subject = self.subjects[key]
        if subject.wake is None or day < subject.wake:
            subject.wake = day
            heapq.heappush(self._heap, (day, key))

    def wake_all(self, day: date) -> None:
        """Look at every live subject again on ``day`` (after a calendar change, say)."""
        for key, subject in self.subjects.items():
            if subject.state.status not in ENDED_STATUSES:
                self._wake_by(key, day)

    # -- EvaluationStore ----------------------------------------------------------------------

    def due(self, program: CompiledProgram, day: date) -> Iterator[Subject[str]]:
        heap, subjects = self._heap, self.subjects
        ready: list[str] = []
        while heap and heap[0][0] <= day:
            wake, key = heapq.heappop(heap)
            subject = subjects[key]
            if subject.wake == wake:  # otherwise a stale heap entry: the wake moved since
                subject.wake = None
                ready.append(key)
        ready.sort()
        for key in ready:
            yield Subject(subjects[key].state, key)

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
        state = stored.state
        fresh: dict[str, Decision] = {}
        for decision in evaluation.decisions:
            key = decision.fired_key
            if key in state.fired:
                summary.already_recorded += 1
                continue
            fresh[key] = decision
            summary.recorded[(decision.rule_id, decision.kind)] += 1
            self.recorded.append(RecordedDecision(decision, state.student_id, state.class_id))
        stored.record(fresh, evaluation, day)
        if evaluation.wake_on is not None:
            self._wake_by(subject.ref, max(evaluation.wake_on, day + timedelta(days=1)))
