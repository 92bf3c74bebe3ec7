"""The DynamoDB evaluation store: due enrollments from the ``due`` index, decisions to the outbox
and audit log, the engine's bookkeeping back on the enrollment item.

The day loop itself is ``onpace_core.evaluation.day.evaluate_day``, shared with ``onpace replay``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime

from onpace_rules.decisions import Decision, Evaluation, decision_to_dict
from onpace_rules.engine import CompiledProgram, compile_program
from onpace_rules.program import ProgramConfig
from onpace_rules.titles import rule_title

from onpace_core.audit.log import AuditEntry, append
from onpace_core.evaluation.day import DaySummary, Subject, evaluate_day
from onpace_core.notices.outbox import record_decision
from onpace_core.store.enrollments import due_enrollments, to_state
from onpace_core.store.models import EnrollmentModel

ACTOR = "evaluate"
_AUDIT_TYPE = {"notice": "notice.decided", "action": "action.taken", "skipped": "notice.skipped"}


def _audit_entry(item: EnrollmentModel, decision: Decision, notice: str) -> AuditEntry:
    who = item.student_name or item.student_id
    where = item.class_title or "the program"
    what = rule_title(decision.rule_id)
    if decision.kind == "skipped":
        summary = f"{what} for {who} in {where}: skipped ({decision.reason})"
    elif decision.kind == "action":
        summary = f"{what}: {who} {decision.status_after} from {where}"
    else:
        summary = f"{what} for {who} in {where}"
    return AuditEntry(
        type=_AUDIT_TYPE[decision.kind],
        actor=ACTOR,
        summary=summary,
        on=decision.on,
        rule_id=decision.rule_id,
        policy_version=decision.policy_version,
        program_id=item.program_id,
        student_id=item.student_id,
        class_id=item.class_id,
        notice_id=notice,
        detail={
            "episode": decision.episode,
            "due_on": decision.due_on.isoformat(),
            "facts": dict(decision.facts),
            "deadlines": {k: v.isoformat() for k, v in decision.deadlines.items()},
            "recipients": list(decision.recipients),
            "status_after": decision.status_after,
            "reason": decision.reason,
        },
    )


class DynamoEvaluationStore:
    """``EvaluationStore`` over the Enrollments, Outbox and Audit tables."""

    def due(self, program: CompiledProgram, day: date) -> Iterator[Subject[EnrollmentModel]]:
        for item in due_enrollments(program.config, day):
            yield Subject(state=to_state(item, program.calendar), ref=item)

    def record(
        self,
        program: CompiledProgram,
        subject: Subject[EnrollmentModel],
        evaluation: Evaluation,
        day: date,
        now: datetime,
        summary: DaySummary,
    ) -> None:
        item = subject.ref
        fired_updates = []
        audit: list[AuditEntry] = []
        for decision in evaluation.decisions:
            created, first_day = record_decision(item, decision, program.config, now)
            fired_updates.append(EnrollmentModel.fired[decision.fired_key].set(first_day.isoformat()))
            if created:
                summary.recorded[(decision.rule_id, decision.kind)] += 1
                audit.append(_audit_entry(item, decision, f"{item.enrollment_key}#{decision.fired_key}"))
            else:
                summary.already_recorded += 1
        if audit:
            append(item.district_id, audit, now=now)
        wake = (
            EnrollmentModel.wake_on.set(evaluation.wake_on.isoformat())
            if evaluation.wake_on is not None
            else EnrollmentModel.wake_on.remove()
        )
        held = (
            EnrollmentModel.held.set(json.dumps(decision_to_dict(evaluation.held)))
            if evaluation.held is not None
            else EnrollmentModel.held.remove()
        )
        item.update(
            actions=[
                *fired_updates,
                EnrollmentModel.checked_through.set(day.isoformat()),
                EnrollmentModel.status.set(evaluation.status),
                wake,
                held,
            ]
        )


def evaluate_program_day(config: ProgramConfig, day: date, now: datetime) -> DaySummary:
    """Evaluate every enrollment of ``config`` that may have something due on ``day``."""
    return evaluate_day(DynamoEvaluationStore(), compile_program(config), day, now)
