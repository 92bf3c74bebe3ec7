"""An in-memory evaluation store: what ``onpace replay``, the benchmark and unit tests evaluate against.

It keeps the engine's state of each subject (enrollment or student), a heap of wake dates (the
deployed store's ``due`` index), and the decisions recorded, each once per
(subject, rule id, episode) like the outbox's conditional put.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from onpace_rules.decisions import Decision, Evaluation
from onpace_rules.engine import CompiledProgram, apply_evaluation
from onpace_rules.facts import ENDED_STATUSES, ActivityKind, EnrollmentState
from onpace_rules.inputs import STUDENT_WIDE_KINDS, Input

from onpace_core.evaluation.day import DaySummary, Subject


@dataclass
class MemorySubject:
    """One subject's state; activity is folded into ``last_on`` in place (the hot path of a
    replay), and the engine's immutable view is built once per evaluation."""

    base: EnrollmentState
    wake: date | None
    last_on: dict[ActivityKind, date] = field(default_factory=dict)
    percent: float | None = None

    def __post_init__(self) -> None:
        self.last_on = dict(self.base.last_on)
        self.percent = self.base.percent_complete

    @property
    def state(self) -> EnrollmentState:
        return self.base.evolve(last_on=dict(self.last_on), percent_complete=self.percent)


@dataclass(frozen=True)
class RecordedDecision:
    decision: Decision
    student_id: str
    class_id: str | None


@dataclass
class MemoryStore:
    """Subjects of one program, keyed by their enrollment key (``district#class#student``)."""

    subjects: dict[str, MemorySubject] = field(default_factory=dict)
    recorded: list[RecordedDecision] = field(default_factory=list)
    _heap: list[tuple[date, str]] = field(default_factory=list)
    _by_student: dict[str, list[str]] = field(default_factory=dict)
    _student_subject: dict[str, str] = field(default_factory=dict)

    # -- loading ----------------------------------------------------------------------------

    def add(self, state: EnrollmentState, first_look: date | None = None) -> None:
        """Add a subject; its first look is its start date (or ``first_look``), like a roster load."""
        wake = first_look or state.start_date
        self.subjects[state.key] = MemorySubject(base=state, wake=wake)
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
        if subject is None or subject.base.scope != "enrollment":
            return False
        seen = subject.last_on.get(kind)
        if seen is None or seen < on:
            subject.last_on[kind] = on
        if percent_fraction is not None:
            subject.percent = percent_fraction
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
            subject.base = subject.base.with_input(item)
            if subject.base.status not in ENDED_STATUSES:
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
            if subject.base.status not in ENDED_STATUSES:
                self._wake_by(key, day)

    # -- EvaluationStore ----------------------------------------------------------------------

    def due(self, program: CompiledProgram, day: date) -> Iterator[Subject[str]]:
        ready: list[str] = []
        while self._heap and self._heap[0][0] <= day:
            wake, key = heapq.heappop(self._heap)
            subject = self.subjects[key]
            if subject.wake == wake:  # otherwise a stale heap entry: the wake moved since
                subject.wake = None
                ready.append(key)
        for key in sorted(ready):
            yield Subject(state=self.subjects[key].state, ref=key)

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
        state = subject.state
        fresh = []
        for decision in evaluation.decisions:
            if decision.fired_key in state.fired:
                summary.already_recorded += 1
                continue
            fresh.append(decision)
            summary.recorded[(decision.rule_id, decision.kind)] += 1
            self.recorded.append(RecordedDecision(decision, state.student_id, state.class_id))
        if len(fresh) != len(evaluation.decisions):
            evaluation = replace(evaluation, decisions=tuple(fresh))
        # Applied to the stored base: it holds the inputs as they are now; activity stays in place.
        stored.base = apply_evaluation(stored.base, evaluation, day)
        if evaluation.wake_on is not None:
            self._wake_by(subject.ref, max(evaluation.wake_on, day + timedelta(days=1)))
