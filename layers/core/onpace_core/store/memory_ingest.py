"""The ingest port over the in-memory evaluation store: how ``onpace replay`` ingests its events.

Replay hands its events to the one ingest service (``ingest.service.ingest_events``) over this
adapter of the port (``ingest.ports.IngestStore``), so duplicates, identity resolution, voids,
quarantine and the fold (``facts.fold``) are the deployed ones. The adapter keeps each subject's
facts as DynamoDB keeps an enrollment item's and hands every write to the evaluation store
(``MemoryStore.apply_facts``), which reads them on the program's calendar as the deployed
evaluator does. The status and wake date come from the evaluation store (the evaluator sets them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.engine import CompiledProgram
from onpace_rules.inputs import input_to_dict

from onpace_core.facts.fold import EnrollmentFacts, FoldRules, changed_fields
from onpace_core.ingest.ports import MemoryIngestStore
from onpace_core.store.memory import MemoryStore


@dataclass
class EvaluationIngestStore(MemoryIngestStore):
    """``MemoryIngestStore`` whose enrollments are the subjects of a ``MemoryStore``."""

    evaluation: MemoryStore = field(default_factory=MemoryStore)
    calendar: ProgramCalendar | None = None

    @classmethod
    def over(cls, evaluation: MemoryStore, program: CompiledProgram) -> EvaluationIngestStore:
        """The port over every subject of ``evaluation``, folding with ``program``'s rules."""
        config = program.config
        port = cls(evaluation=evaluation, calendar=program.calendar)
        port.programs[(config.district_id, config.program_id)] = FoldRules.of(program)
        for key, subject in evaluation.subjects.items():
            added = subject.added
            port.enrollments[key] = EnrollmentFacts(
                key=key,
                program_id=config.program_id,
                scope=added.scope,
                # What a roster load gave the subject (student-wide inputs of the student).
                inputs={i.event_id: json.dumps(input_to_dict(i)) for i in subject.inputs},
            )
            port.by_student.setdefault((config.district_id, added.student_id), []).append(key)
        return port

    def facts(self, keys: Sequence[str]) -> dict[str, EnrollmentFacts]:
        found: dict[str, EnrollmentFacts] = {}
        for key in keys:
            stored = self.enrollments.get(key)
            if stored is None:
                continue
            subject = self.evaluation.subjects[key]
            wake = subject.wake.isoformat() if subject.wake is not None else None
            if stored.status != subject.status or stored.wake_on != wake:
                stored = self.enrollments[key] = replace(stored, status=subject.status, wake_on=wake)
            found[key] = stored
        return found

    def write_facts(self, old: EnrollmentFacts, new: EnrollmentFacts) -> None:
        changed = changed_fields(old, new)
        super().write_facts(old, new)
        assert self.calendar is not None
        self.evaluation.apply_facts(old.key, new, changed, self.calendar)
