"""The DynamoDB evaluation store: due enrollments from the ``due`` index, decisions to the outbox
and audit log, the engine's bookkeeping back on the enrollment item.

The day loop itself is ``onpace_core.evaluation.day.evaluate_day``, shared with ``onpace replay``.
After it, a program day on which a calendar change applies gets one ``calendar.changed`` audit
entry (what changed, and how many enrollments were looked at again under the new calendar).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime

from onpace_rules.decisions import Decision, Evaluation, decision_to_dict
from onpace_rules.engine import CompiledProgram, compile_program
from onpace_rules.facts import moved_end_date
from onpace_rules.program import CalendarChange, ProgramConfig
from onpace_rules.titles import rule_title
from pynamodb.exceptions import UpdateError

from onpace_core.audit.log import AuditEntry, append, append_claimed
from onpace_core.evaluation.day import CalendarChangeApplied, DaySummary, Subject, evaluate_day
from onpace_core.notices.outbox import record_decision
from onpace_core.store.enrollments import due_enrollments, to_state
from onpace_core.store.models import EnrollmentModel
from onpace_core.store.programs import (
    applies_from,
    audited_change_ids,
    calendar_audit_claim,
    change_detail,
    change_id,
    describe_change,
)

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
        # ``evaluation.reset`` is not stored: moving the wake date later as activity arrives
        # would cost a write per counted activity to save one evaluation per lapse threshold
        # (docs/architecture.md, "Wake dates"). Here activity only brings it forward (fold).
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
        extension = []
        end_date = moved_end_date(evaluation.decisions, subject.state.end_date)
        if end_date is not None and end_date != subject.state.end_date:
            extension.append(EnrollmentModel.extended_end_date.set(end_date.isoformat()))
        recorded = [
            *fired_updates,
            *extension,
            EnrollmentModel.checked_through.set(day.isoformat()),
            EnrollmentModel.status.set(evaluation.status),
            held,
        ]
        # Activity, an input or a program load may have changed the enrollment since the due
        # query read it (``facts_seq``); then this evaluation's wake date, worked out from older
        # facts, must not be written: the one in place stays, and the next run looks again.
        read = item.facts_seq
        unchanged = (
            EnrollmentModel.facts_seq == read
            if read is not None
            else EnrollmentModel.facts_seq.does_not_exist()
        )
        try:
            item.update(actions=[*recorded, wake], condition=unchanged)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            item.update(actions=recorded)  # setting the same values again is harmless


def _calendar_entry(
    program: CompiledProgram, changes: list[CalendarChange], day: date, evaluated: int
) -> AuditEntry:
    config = program.config
    changed = "; ".join(f"from {applies_from(c).isoformat()}: {describe_change(c)}" for c in changes)
    return AuditEntry(
        type="calendar.changed",
        actor=ACTOR,
        summary=f"Calendar of {config.name} changed {changed}; {evaluated} enrollment(s) re-evaluated",
        on=day,
        policy_version=program.version_on(day).config.policy_version,
        program_id=config.program_id,
        detail={"changes": [change_detail(c) for c in changes], "enrollments_reevaluated": evaluated},
    )


def _audit_calendar_changes(program: CompiledProgram, day: date, now: datetime, summary: DaySummary) -> None:
    """Audit the calendar changes in force on ``day`` that are not audited yet, once.

    Normally that is the change announced the day before (the engine woke every live enrollment
    for it); a change loaded after the day it applied from is audited on the first day evaluated
    after the load. The claim on the program item makes a re-run of the day write nothing.
    """
    config = program.config
    in_force = [c for c in config.calendar.changes if applies_from(c) <= day]
    if not in_force:
        return
    audited = audited_change_ids(config.district_id, config.program_id)
    pending = [c for c in in_force if change_id(c) not in audited]
    if not pending:
        return
    entry = _calendar_entry(program, pending, day, summary.enrollments_evaluated)
    if append_claimed(config.district_id, entry, calendar_audit_claim(config, pending), now) is None:
        return  # another run of this day audited them first
    summary.calendar_changes = tuple(
        CalendarChangeApplied(
            announced=c.announced,
            applies_from=applies_from(c),
            closed=tuple(sorted(c.closed)),
            opened=tuple(sorted(c.opened)),
            reason=c.reason,
        )
        for c in pending
    )


def evaluate_program_day(config: ProgramConfig, day: date, now: datetime) -> DaySummary:
    """Evaluate every enrollment of ``config`` that may have something due on ``day``."""
    program = compile_program(config)
    summary = evaluate_day(DynamoEvaluationStore(), program, day, now)
    _audit_calendar_changes(program, day, now, summary)
    return summary
