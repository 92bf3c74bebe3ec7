"""Record a decision in the outbox exactly once per (enrollment, rule id, episode)."""

from __future__ import annotations

from datetime import date, datetime

from onpace_rules.decisions import Decision
from onpace_rules.program import STAFF_ROLES, ProgramConfig, is_mail_address
from pynamodb.exceptions import PutError

from onpace_core.audit.log import iso_instant
from onpace_core.notices.window import send_key, send_slot
from onpace_core.store.models import Contact, EnrollmentModel, OutboxModel

# Engine recipient roles -> roster contact roles.
_CONTACT_ROLE = {"guardians": "guardian"}
# Roles whose notices go to the student's family (and so name a person to contact).
FAMILY_ROLES = frozenset({"student", "guardians"})
# Staff a rule's "who" can name as the family's contact, in order of preference: the counselor
# (who takes appeals), the advisor, the instructor; else the program's own contact.
CONTACT_ROLES = ("counselor", "advisor", "instructor")
PROGRAM_CONTACT = "program_contact"
_DEFAULT_TITLES = {"counselor": "School counselor", "advisor": "Advisor", "instructor": "Teacher"}


def notice_id(enrollment_key: str, decision: Decision) -> str:
    return f"{enrollment_key}#{decision.rule_id}#{decision.episode}"


def _program_contact(program: ProgramConfig, role: str = PROGRAM_CONTACT) -> list[Contact]:
    if program.notices is None:
        return []
    person = program.notices.contact
    return [
        Contact(
            role=role,
            address=person.address,
            name=person.name,
            language=program.default_language,
            title=person.title or "Program contact",
        )
    ]


def recipients_for(
    enrollment: EnrollmentModel, roles: tuple[str, ...], program: ProgramConfig
) -> list[Contact]:
    """Addresses for the decision's roles: roster contacts of the enrollment, staff of the program.

    The program administrator, when the program lists none, is its notices contact: a request for
    approval (an action held for a person) must reach someone.
    """
    found: list[Contact] = []
    for role in roles:
        if role in STAFF_ROLES:
            staff = program.contacts.get(role, ())
            found.extend(
                Contact(
                    role=role,
                    address=s.address,
                    name=s.name,
                    language=program.default_language,
                    title=s.title,
                )
                for s in staff
            )
            if not staff and role == "program_admin":
                found.extend(_program_contact(program, role))
            continue
        wanted = _CONTACT_ROLE.get(role, role)
        found.extend(
            Contact(
                role=c.role,
                address=c.address,
                name=c.name,
                language=c.language,
                source_id=c.source_id,
                phone=c.phone,
                sms=c.sms,
            )
            for c in enrollment.contacts or []
            if c.role == wanted
        )
    return found


def contact_person(
    enrollment: EnrollmentModel, roles: tuple[str, ...], program: ProgramConfig
) -> Contact | None:
    """The person a family notice names and replies go to (Reply-To).

    Catalogue "Recipients and contact data": "Every notice to a family names a person to contact,
    with name and address (the counselor, advisor, instructor or program contact that the rule's
    "who" column and the program name)". So: the first of the counselor, the advisor and the
    instructor that the decision writes to and that has an address, else the program contact
    (``notices.contact``). None for a notice that reaches no family, or a program without one.
    """
    if not FAMILY_ROLES & set(roles):
        return None
    for role in CONTACT_ROLES:
        if role not in roles:
            continue
        for person in recipients_for(enrollment, (role,), program):
            if is_mail_address(person.address):
                title = person.title or _DEFAULT_TITLES[role]
                if role == "instructor" and enrollment.class_title:
                    title = f"{title}, {enrollment.class_title}"
                return Contact(
                    role=role, address=person.address, name=person.name, language=person.language, title=title
                )
    found = _program_contact(program)
    return found[0] if found else None


def _initial_status(decision: Decision) -> str:
    """What the notify function does with it: send (pending) or nothing (the other statuses)."""
    if decision.reason and decision.reason.startswith("suppressed"):
        return "suppressed"
    if decision.kind == "skipped":
        return "skipped"
    if not decision.recipients:
        return "recorded"  # an action or record that addresses nobody (e.g. a withdraw-window drop)
    # Emailed in the program's morning window by letters (notices/dispatch.py), never at once.
    return "scheduled"


def outbox_item(
    enrollment: EnrollmentModel,
    decision: Decision,
    program: ProgramConfig,
    now: datetime,
    *,
    send_from: datetime | None = None,
) -> OutboxModel:
    """The outbox item of ``decision`` (not written): what ``record_decision`` and the evaluator's
    batched transactions (``audit.chain``) put, on condition that it does not exist yet.

    A notice to send waits (``scheduled``) for the program's first send window after
    ``send_from`` (the planning of its day; default ``now``), under the sparse ``scheduled``
    index's key ``{district}#{that window's local day}``."""
    recipients = recipients_for(enrollment, decision.recipients, program)
    status = _initial_status(decision)
    if status == "scheduled" and not recipients:
        # Nobody to write to (no address on the roster): nothing to wait for. Notify settles it
        # failed with its audit entry at once, and sends no email, so nothing goes out at night.
        status = "pending"
    window = program.send_window
    slot = send_slot(send_from or now, program.time_zone, window) if status == "scheduled" else None
    return OutboxModel(
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
        reply_to=contact_person(enrollment, decision.recipients, program),
        program_name=program.notices.program_name if program.notices else program.name,
        district_name=program.notices.district_name if program.notices else None,
        language=next((c.language for c in recipients if c.language), None) or "en",
        status=status,
        status_reason=decision.reason,
        created_at=iso_instant(now),
        send_key=send_key(enrollment.district_id, slot.day) if slot else None,
        send_after=iso_instant(slot.opens) if slot else None,
        send_before=iso_instant(slot.closes) if slot else None,
    )


def record_decision(
    enrollment: EnrollmentModel, decision: Decision, program: ProgramConfig, now: datetime
) -> tuple[bool, date]:
    """Insert the outbox item; returns (created, the day it was first recorded).

    The conditional put is what makes re-running a day, retries and overlapping runs safe:
    only the first writer creates the item (and so only one email is ever queued).
    """
    item = outbox_item(enrollment, decision, program, now)
    try:
        item.save(condition=OutboxModel.notice_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = OutboxModel.get(item.notice_id, consistent_read=True, attributes_to_get=["decided_on"])
        return False, date.fromisoformat(existing.decided_on)
    return True, decision.on
