"""Escalation: a notice that could not reach a family recipient goes to the next contact.

Issue 12, scope 5: "a notice whose recipient is suppressed or bounced goes to the next contact
the policy allows (another guardian, then the counselor or advisor), and the audit log says why".

**When.** A recipient of the family (``student``, ``guardian``, ``parent``) is

- ``suppressed`` at send (on the district's list, ``delivery/suppression.py``; notify, after it
  settled the notice), or
- ``bounced`` (a hard bounce) or ``complained`` about (an SES event, ``delivery/tracking.py``).

A staff recipient's failure is not escalated: staff are the people escalation ends with.

**To whom** (:func:`next_contact`, pure): the first contact not yet tried in this chain of
escalations, in this order:

1. another guardian (roster role ``guardian`` or ``parent``) of the enrollment on the roster,
   only when the notice was written to guardians at all — the engine decided that (an eligible
   student's guardians get notices only where the program says so), and escalation does not
   widen it;
2. the program's counselor(s) (``contacts.counselor``), then advisor(s) (``contacts.advisor``):
   the staff the catalogue names as the family's contact persons.

Addresses already written to by the notice or an earlier step are "tried" (kept as hashes on
the escalation item, never as addresses). A next contact that is itself suppressed is recorded
``suppressed`` when its escalation is sent, which escalates again: the chain walks the list.

**Exactly once.** The escalation is a new outbox item ``{root notice id}#esc{step}`` (step 1 for
the first failure of a notice, ``n + 1`` for a failure of step ``n``; at most
:data:`MAX_STEPS`) carrying the original's rule id, policy version, facts, deadlines, Reply-To
and signature, ``escalated_from`` and why. It is put on condition that it does not exist, in
one transaction with its ``notice.escalated`` audit entry (``audit.chain``); the outbox stream
sends it the normal way. A redelivered SES event, a second failed recipient of the same
notice, a retried notify: the put finds the item and writes nothing. So one notice has at most
one escalation per step, whichever of its family recipients failed first.

When no next contact is left, ``notice.not_escalated`` is audited once (a claim on the notice's
``escalation_end``). For a warning, the evaluator then holds the action it announced for a
person's approval (``notices/family_reach.py``).

Requests, only when a family recipient failed: the enrollment (GetItem), the program (GetItem),
the audit head (Query) and one TransactWriteItems (the item and its entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onpace_rules.program import ProgramConfig, StaffContact, is_mail_address

from onpace_core.audit.chain import Accounted, ChainWriter
from onpace_core.audit.log import AuditEntry, Claim, append_claimed, iso_instant
from onpace_core.delivery.evidence import SUPPRESSED as SUPPRESSED_ERROR
from onpace_core.delivery.evidence import RecipientOutcome, notice_entry, plain
from onpace_core.delivery.suppression import address_hash
from onpace_core.notices.window import open_slot, send_key, send_slot
from onpace_core.store.models import Contact, EnrollmentModel, OutboxModel, ProgramModel

#: Roster roles of the student's family: a failure to reach one of them is escalated.
FAMILY_ROLES = frozenset({"student", "guardian", "parent"})
GUARDIAN_ROLES = frozenset({"guardian", "parent"})
#: Program staff an escalation may go to, in order.
STAFF_ORDER = ("counselor", "advisor")
#: Escalations of one notice at most (a roster with many bouncing guardians ends somewhere).
MAX_STEPS = 4

SUPPRESSED = "suppressed"
BOUNCED = "bounced"
COMPLAINED = "complained"
CAUSES = frozenset({SUPPRESSED, BOUNCED, COMPLAINED})
_CAUSE_WORDS = {
    SUPPRESSED: "its address is on the district's suppression list",
    BOUNCED: "the message bounced (hard bounce)",
    COMPLAINED: "the recipient marked the message as spam",
}


@dataclass(frozen=True)
class Escalated:
    """What :func:`escalate` did, for logs and metrics (no student data, no address)."""

    outcome: str  # escalated | already | none | not_family
    escalation_id: str | None = None
    to_role: str | None = None


def escalation_id(root: str, step: int) -> str:
    """The deterministic id of step ``step`` of the escalations of notice ``root``."""
    return f"{root}#esc{step}"


def next_contact(
    tried: Iterable[str],
    roster: Sequence[Contact],
    staff: Mapping[str, Sequence[StaffContact]],
    *,
    guardians_allowed: bool,
    default_language: str | None = None,
) -> Contact | None:
    """The next contact to try: another guardian on the roster (when the notice may go to
    guardians), then the counselors, then the advisors; ``None`` when all were tried.

    ``tried`` are address hashes (:func:`suppression.address_hash`); contacts without a usable
    address are passed over.
    """
    seen = set(tried)
    if guardians_allowed:
        for person in roster:
            if person.role in GUARDIAN_ROLES and _fresh(person.address, seen):
                return Contact(
                    role=person.role,
                    address=person.address,
                    name=person.name,
                    language=person.language,
                    source_id=person.source_id,
                )
    for role in STAFF_ORDER:
        for member in staff.get(role, ()):
            if _fresh(member.address, seen):
                return Contact(
                    role=role,
                    address=member.address,
                    name=member.name,
                    language=default_language,
                    title=member.title,
                )
    return None


def _fresh(address: str | None, seen: set[str]) -> bool:
    return is_mail_address(address) and address_hash(address or "") not in seen


def after_delivery(notice: OutboxModel, found: Sequence[RecipientOutcome], now: datetime) -> list[Escalated]:
    """Escalate the family recipients notify found suppressed (called once the notice is settled;
    again after a retry, which then writes nothing)."""
    # On the suppression list only: a one-click opt-out (``unsubscribed``) was the family's choice.
    failed = [
        o
        for o in found
        if o.status == "suppressed" and o.error == SUPPRESSED_ERROR and o.role in FAMILY_ROLES
    ]
    return [escalate(notice, f"r{o.index}", SUPPRESSED, now) for o in failed]


def after_letter(
    members: Sequence[tuple[OutboxModel, str]], found: Sequence[RecipientOutcome], now: datetime
) -> list[Escalated]:
    """Escalate each member notice of a letter whose one recipient was suppressed at send:
    ``members`` are (member notice, its recipient key) pairs the letter carried. The letter itself
    is never escalated: its members are, each through its own chain (exactly once per member and
    step, audited per member)."""
    if not any(o.status == "suppressed" and o.error == SUPPRESSED_ERROR for o in found):
        return []
    return [escalate(notice, key, SUPPRESSED, now) for notice, key in members]


def escalate(notice: OutboxModel, key: str, cause: str, now: datetime) -> Escalated:
    """Escalate recipient ``key`` of ``notice``, which ``cause`` kept from reading it (see the module doc)."""
    if cause not in CAUSES:
        raise ValueError(f"unknown escalation cause {cause!r}")
    recipients = list(notice.recipients or [])
    index = int(key[1:])
    failed = recipients[index]
    if failed.role not in FAMILY_ROLES:
        return Escalated("not_family")
    before = plain(notice.escalation) if notice.escalation is not None else {}
    root = str(before.get("root") or notice.notice_id)
    step = int(before.get("step") or 0) + 1
    tried = {
        *(str(h) for h in before.get("tried") or ()),
        *(address_hash(c.address or "") for c in recipients),
    }
    guardians_allowed = bool(before.get("guardians_allowed")) or any(
        c.role in GUARDIAN_ROLES for c in recipients
    )
    program = _program(notice)
    found = None
    if step <= MAX_STEPS:
        found = next_contact(
            tried,
            _roster(notice.enrollment_key),
            program.contacts if program is not None else {},
            guardians_allowed=guardians_allowed,
            default_language=program.default_language if program is not None else notice.language,
        )
    if found is None:
        return _no_contact(notice, key, failed.role, cause, now)
    new_id = escalation_id(root, step)
    detail: dict[str, Any] = {
        "root": root,
        "step": str(step),
        "reason": cause,
        "from_notice": notice.notice_id,
        "from_recipient": key,
        "from_role": failed.role,
        "to_role": found.role,
        "tried": sorted(tried),
        "guardians_allowed": guardians_allowed,
    }
    item = _item(notice, new_id, found, detail, now, program)
    entry = _escalated_entry(notice, key, failed.role, found.role, cause, new_id, step)
    writer = ChainWriter(notice.district_id, now)
    (written,) = writer.append_with([Accounted(entry, item, OutboxModel.notice_id.does_not_exist())])
    return Escalated("escalated" if written else "already", new_id, found.role)


def _program(notice: OutboxModel) -> ProgramConfig | None:
    try:
        stored = ProgramModel.get(notice.district_id, notice.program_id)
    except ProgramModel.DoesNotExist:
        return None
    return ProgramConfig.model_validate_json(stored.config)


def _roster(enrollment_key: str) -> list[Contact]:
    try:
        enrollment = EnrollmentModel.get(enrollment_key)
    except EnrollmentModel.DoesNotExist:
        return []
    return list(enrollment.contacts or [])


def _item(
    notice: OutboxModel,
    new_id: str,
    to: Contact,
    detail: dict[str, Any],
    now: datetime,
    program: ProgramConfig | None,
) -> OutboxModel:
    """The escalation's outbox item: sent at once inside the program's morning window; outside
    it (a complaint at night, a bounce reported after the window closed) it waits for the next
    window like any notice, so escalations never go out at night either."""
    slot = None
    if program is not None and open_slot(now, program.time_zone, program.send_window) is None:
        slot = send_slot(now, program.time_zone, program.send_window)
    return OutboxModel(
        notice_id=new_id,
        district_id=notice.district_id,
        program_id=notice.program_id,
        enrollment_key=notice.enrollment_key,
        student_id=notice.student_id,
        class_id=notice.class_id,
        class_title=notice.class_title,
        student_name=notice.student_name,
        rule_id=notice.rule_id,
        episode=notice.episode,
        kind=notice.kind,
        policy_version=notice.policy_version,
        decided_on=notice.decided_on,
        due_on=notice.due_on,
        deadlines=plain(notice.deadlines),
        facts=plain(notice.facts),
        recipients=[to],
        reply_to=notice.reply_to,
        program_name=notice.program_name,
        district_name=notice.district_name,
        language=to.language or notice.language,
        status="scheduled" if slot else "pending",
        created_at=iso_instant(now),
        send_key=send_key(notice.district_id, slot.day) if slot else None,
        send_after=iso_instant(slot.opens) if slot else None,
        send_before=iso_instant(slot.closes) if slot else None,
        escalated_from=notice.notice_id,
        escalation=detail,
    )


def _escalated_entry(
    notice: OutboxModel, key: str, from_role: str, to_role: str, cause: str, new_id: str, step: int
) -> AuditEntry:
    return notice_entry(
        notice,
        "notice.escalated",
        f"Notice {notice.rule_id} did not reach the {from_role} ({key}): {_CAUSE_WORDS[cause]}; "
        f"sent on to the {to_role} (escalation {step}).",
        {
            "from_recipient": key,
            "from_role": from_role,
            "to_role": to_role,
            "reason": cause,
            "escalation_id": new_id,
            "step": step,
        },
        actor="escalation",
    )


def _no_contact(notice: OutboxModel, key: str, role: str, cause: str, now: datetime) -> Escalated:
    entry = notice_entry(
        notice,
        "notice.not_escalated",
        f"Notice {notice.rule_id} did not reach the {role} ({key}): {_CAUSE_WORDS[cause]}; "
        "no other contact the policy allows is left to write to.",
        {"from_recipient": key, "from_role": role, "reason": cause, "kind": notice.kind},
        actor="escalation",
    )
    claim = Claim(
        OutboxModel(notice_id=notice.notice_id),
        [OutboxModel.escalation_end.set(cause)],
        OutboxModel.notice_id.exists() & OutboxModel.escalation_end.does_not_exist(),
    )
    stored = append_claimed(notice.district_id, entry, claim, now)
    return Escalated("none" if stored is not None else "already")
