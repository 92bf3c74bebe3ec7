"""Record a decision in the outbox exactly once per (enrollment, rule id, episode)."""

from __future__ import annotations

from datetime import date, datetime

from onpace_rules.decisions import Decision
from onpace_rules.program import STAFF_ROLES, ProgramConfig
from pynamodb.exceptions import PutError

from onpace_core.audit.log import iso_instant
from onpace_core.store.models import Contact, EnrollmentModel, OutboxModel

# Engine recipient roles -> roster contact roles.
_CONTACT_ROLE = {"guardians": "guardian"}


def notice_id(enrollment_key: str, decision: Decision) -> str:
    return f"{enrollment_key}#{decision.rule_id}#{decision.episode}"


def recipients_for(
    enrollment: EnrollmentModel, roles: tuple[str, ...], program: ProgramConfig
) -> list[Contact]:
    """Addresses for the decision's roles: roster contacts of the enrollment, staff of the program."""
    found: list[Contact] = []
    for role in roles:
        if role in STAFF_ROLES:
            found.extend(
                Contact(role=role, address=s.address, name=s.name, language=program.default_language)
                for s in program.contacts.get(role, ())
            )
            continue
        wanted = _CONTACT_ROLE.get(role, role)
        found.extend(
            Contact(role=c.role, address=c.address, name=c.name, language=c.language, source_id=c.source_id)
            for c in enrollment.contacts or []
            if c.role == wanted
        )
    return found


def _initial_status(decision: Decision) -> str:
    """What the notify function does with it: send (pending) or nothing (the other statuses)."""
    if decision.reason and decision.reason.startswith("suppressed"):
        return "suppressed"
    if decision.kind == "skipped":
        return "skipped"
    if not decision.recipients:
        return "recorded"  # an action or record that addresses nobody (e.g. a withdraw-window drop)
    return "pending"


def record_decision(
    enrollment: EnrollmentModel, decision: Decision, program: ProgramConfig, now: datetime
) -> tuple[bool, date]:
    """Insert the outbox item; returns (created, the day it was first recorded).

    The conditional put is what makes re-running a day, retries and overlapping runs safe:
    only the first writer creates the item (and so only one email is ever queued).
    """
    recipients = recipients_for(enrollment, decision.recipients, program)
    item = OutboxModel(
        notice_id=notice_id(enrollment.enrollment_key, decision),
        district_id=enrollment.district_id,
        program_id=enrollment.program_id,
        enrollment_key=enrollment.enrollment_key,
        student_id=enrollment.student_id,
        class_id=enrollment.class_id,
        class_title=enrollment.class_title,
        student_name=enrollment.student_name,
        rule_id=decision.rule_id,
        episode=decision.episode,
        kind=decision.kind,
        policy_version=decision.policy_version,
        decided_on=decision.on.isoformat(),
        due_on=decision.due_on.isoformat(),
        deadlines={name: when.isoformat() for name, when in decision.deadlines.items()},
        facts={k: v for k, v in decision.facts.items() if v is not None},
        recipients=recipients,
        language=next((c.language for c in recipients if c.language), None) or "en",
        status=_initial_status(decision),
        status_reason=decision.reason,
        created_at=iso_instant(now),
    )
    try:
        item.save(condition=OutboxModel.notice_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = OutboxModel.get(item.notice_id, consistent_read=True, attributes_to_get=["decided_on"])
        return False, date.fromisoformat(existing.decided_on)
    return True, decision.on
