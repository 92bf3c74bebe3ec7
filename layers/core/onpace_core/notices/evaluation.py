"""The evaluation of one program day: due enrollments → engine → outbox, audit, next wake date."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from onpace_rules.decisions import Decision
from onpace_rules.engine import CompiledProgram, compile_program, evaluate_enrollment
from onpace_rules.program import ProgramConfig
from onpace_rules.titles import rule_title

from onpace_core.audit.log import AuditEntry, append
from onpace_core.notices.outbox import record_decision
from onpace_core.store.enrollments import due_enrollments, to_state
from onpace_core.store.models import EnrollmentModel

ACTOR = "evaluate"
_AUDIT_TYPE = {"notice": "notice.decided", "action": "action.taken", "skipped": "notice.skipped"}


@dataclass
class DaySummary:
    program_key: str
    day: date
    enrollments_evaluated: int = 0
    recorded: Counter[tuple[str, str]] = field(default_factory=Counter)  # (rule id, kind) -> count
    already_recorded: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "program": self.program_key,
            "day": self.day.isoformat(),
            "enrollments_evaluated": self.enrollments_evaluated,
            "recorded": [{"rule": r, "kind": k, "count": n} for (r, k), n in sorted(self.recorded.items())],
            "already_recorded": self.already_recorded,
        }


def _audit_entry(item: EnrollmentModel, decision: Decision, notice: str) -> AuditEntry:
    who = item.student_name or item.student_id
    what = rule_title(decision.rule_id)
    if decision.kind == "skipped":
        summary = f"{what} for {who} in {item.class_title}: skipped ({decision.reason})"
    elif decision.kind == "action":
        summary = f"{what}: {who} {decision.status_after} from {item.class_title}"
    else:
        summary = f"{what} for {who} in {item.class_title}"
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


def evaluate_enrollment_item(
    program: CompiledProgram, item: EnrollmentModel, day: date, now: datetime, summary: DaySummary
) -> None:
    state = to_state(item, program.calendar)
    evaluation = evaluate_enrollment(program, state, day)
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
    item.update(
        actions=[
            *fired_updates,
            EnrollmentModel.checked_through.set(day.isoformat()),
            EnrollmentModel.status.set(evaluation.status),
            wake,
        ]
    )


def evaluate_program_day(config: ProgramConfig, day: date, now: datetime) -> DaySummary:
    """Evaluate every enrollment of ``config`` that may have something due on ``day``."""
    program = compile_program(config)
    summary = DaySummary(program_key=config.key, day=day)
    for item in due_enrollments(config, day):
        summary.enrollments_evaluated += 1
        evaluate_enrollment_item(program, item, day, now, summary)
    return summary
