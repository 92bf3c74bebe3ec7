"""Letters: one email per address and morning window, carrying every notice due for it.

Issue 12, item 6: "all family notices due the same day for one household (several courses,
several children, several rules) go out as one email, actions first; instructors get one daily
digest of the students to contact". A **household** is a family recipient address within a
district: a guardian's address is one household across siblings, a student's own address is
another. Staff (instructors, counselors, advisors) are grouped by their address the same way.

A letter is an outbox item of its own (``kind == "letter"``) with a deterministic id,
``letter#{district}#{local day}#{sha256(address)[:16]}`` (``#2``, ``#3``… for later letters of the
same window), and its **members**: (notice id, recipient index) pairs. The dispatcher
(``notices/dispatch.py``) writes a letter and claims its members in one transaction: the letter
is put on condition that it does not exist, and each member's ``deliveries.r{i}`` is set to
``{"status": "lettered", "letter": id}`` on condition that it has no entry yet. So a pair is in
exactly one letter, whatever runs twice or concurrently, and a notice that arrives after its
household's letter was written finds that id taken and goes in the next one.

The letter is inserted ``pending``, so the outbox stream hands it to notify, which delivers it
with the notices' own lease/mark/settle discipline (``delivery/ledger.py``; ``sender.py`` asks
:func:`letter_email` for the message). When the letter settles, the same transaction sets each
member's ``deliveries.r{i}`` to the letter's outcome (with the letter id and SES message id) and
appends one audit entry per member notice, carrying its rule id, policy version and facts.

A letter of one member is that notice's own email (its template, its meeting invitation, its
``deadline.ics``). Approval requests and meeting plans always go alone: they ask one person to do
one thing. A letter carries at most :data:`MAX_MEMBERS` notices (one DynamoDB transaction settles
the letter, each member and each member's audit entry).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from onpace_rules.engine import APPROVAL_SUFFIX
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from onpace_core.audit.chain import TRANSACTION_ACTIONS
from onpace_core.audit.log import AuditEntry, Claim, iso_instant
from onpace_core.delivery.deadlines import combined_attachment, deadline_attachment
from onpace_core.delivery.evidence import (
    ACTOR,
    RecipientOutcome,
    audit_entry,
    entry_type,
    notice_entry,
    outcomes,
    plain,
)
from onpace_core.delivery.invitation import InvitationDrafts
from onpace_core.delivery.mime import Attachment, InvalidAddressError, parse_address
from onpace_core.delivery.recheck import CANCELLED, RESOLVED, Cancellation, cancelled_entry
from onpace_core.notices.digest import render_digest
from onpace_core.notices.render import RenderedEmail, render
from onpace_core.store.models import Contact, LetterMember, OutboxModel

LETTER = "letter"
FAMILY_DIGEST = "digest.family"
INSTRUCTOR_DIGEST = "digest.instructor"
LETTERED = "lettered"
#: A member's delivery entry while its letter is on its way.
#: Settling a letter writes the letter, each member and each member's audit entry, plus the
#: letter's own entry, in one transaction: (25 - 2) // 2 members.
MAX_MEMBERS = (TRANSACTION_ACTIONS - 2) // 2
#: Roles that read a notice as the student's family (the household digest).
FAMILY_ROLES = frozenset({"student", "guardian", "parent", "guardians", "relative"})
#: Notices that always go alone: they ask one person to do one thing (and a meeting plan carries
#: its own invitation).
ALONE_RULES = frozenset({"cps_chicago.meeting.one_on_one"})
#: How many later letters of one window an address can get before the dispatcher gives up (a
#: notice arriving every hour of a two-hour window needs two).
MAX_LETTERS_PER_WINDOW = 50


def household(address: str) -> str:
    """The address a letter goes to, as grouped: the mailbox, case-folded (``Ana@X.org`` and
    ``ana@x.org`` are one household); an unusable address stands for itself."""
    try:
        return parse_address(address).addr_spec.strip().lower()
    except InvalidAddressError:
        return address.strip().lower()


def letter_id(district_id: str, day: date, address: str, number: int = 1) -> str:
    """The deterministic id of the ``number``-th letter of ``day``'s window to ``address``."""
    digest = hashlib.sha256(household(address).encode()).hexdigest()[:16]
    base = f"letter#{district_id}#{day.isoformat()}#{digest}"
    return base if number == 1 else f"{base}#{number}"


def is_alone(notice: OutboxModel) -> bool:
    """Whether ``notice`` goes in a letter of its own (approval requests, meeting plans)."""
    return notice.episode.endswith(APPROVAL_SUFFIX) or notice.rule_id in ALONE_RULES


def audience(contact: Contact) -> str:
    return "family" if (contact.role or "student") in FAMILY_ROLES else "staff"


@dataclass(frozen=True)
class Member:
    """One recipient of one notice, as a letter carries it."""

    notice: OutboxModel
    index: int

    @property
    def contact(self) -> Contact:
        return (self.notice.recipients or [])[self.index]

    @property
    def key(self) -> str:
        return f"r{self.index}"


def member_order(member: Member) -> tuple[Any, ...]:
    """Actions (drop, withdrawal, removal) first, then warnings; then by student, class, rule."""
    notice = member.notice
    return (
        0 if notice.kind == "action" else 1,
        notice.student_name or notice.student_id,
        notice.class_title or notice.class_id,
        notice.rule_id,
        notice.notice_id,
        member.index,
    )


@dataclass(frozen=True)
class Plan:
    """A letter to be written: its address, audience and members, in reading order."""

    district_id: str
    day: date
    address: str
    audience: str
    members: tuple[Member, ...]

    @property
    def notices(self) -> tuple[OutboxModel, ...]:
        seen: dict[str, OutboxModel] = {}
        for member in self.members:
            seen.setdefault(member.notice.notice_id, member.notice)
        return tuple(seen.values())

    @property
    def rule_id(self) -> str:
        """The template the letter is written with: the notice's own when it has one notice."""
        if len(self.notices) == 1:
            return self.members[0].notice.rule_id
        return FAMILY_DIGEST if self.audience == "family" else INSTRUCTOR_DIGEST


def _window_day(notice: OutboxModel) -> date:
    key = notice.send_key or f"#{notice.decided_on}"
    return date.fromisoformat(key.rsplit("#", 1)[1])


def plan_letters(notices: Iterable[OutboxModel]) -> list[Plan]:
    """Group the recipients of ``notices`` still without a delivery entry into letters: one per
    (district, window day, address, audience), at most :data:`MAX_MEMBERS` notices each, members
    in :func:`member_order`; a notice :func:`is_alone` gets a letter of its own. Pure."""
    groups: dict[tuple[str, date, str, str], list[Member]] = defaultdict(list)
    alone: list[Plan] = []
    for notice in notices:
        taken = plain(notice.deliveries)
        for index, contact in enumerate(notice.recipients or []):
            member = Member(notice, index)
            if member.key in taken:
                continue
            day, address, who = _window_day(notice), contact.address or "", audience(contact)
            if is_alone(notice):
                alone.append(Plan(notice.district_id, day, address, who, (member,)))
                continue
            groups[(notice.district_id, day, household(address), who)].append(member)
    plans: list[Plan] = []
    for (district_id, day, _, who), members in sorted(groups.items(), key=lambda kv: kv[0]):
        ordered = sorted(members, key=member_order)
        chunk: list[Member] = []
        for member in ordered:
            ids = {m.notice.notice_id for m in chunk}
            if member.notice.notice_id not in ids and len(ids) >= MAX_MEMBERS:
                plans.append(Plan(district_id, day, chunk[0].contact.address or "", who, tuple(chunk)))
                chunk = []
            chunk.append(member)
        if chunk:
            plans.append(Plan(district_id, day, chunk[0].contact.address or "", who, tuple(chunk)))
    return plans + alone


# ---------------------------------------------------------------------------------------------
# Writing a letter (the dispatcher)


def letter_item(plan: Plan, letter: str, now: datetime) -> OutboxModel:
    """The outbox item of the letter ``plan`` describes, as ``pending`` (the stream sends it)."""
    first = plan.members[0]
    contact = first.contact
    notices = plan.notices
    # One person to answer: the members' contact person when they all name the same one.
    people = {(n.reply_to.address if n.reply_to else None) for n in notices}
    reply_to = notices[0].reply_to if len(people) == 1 else None
    return OutboxModel(
        notice_id=letter,
        district_id=plan.district_id,
        program_id=first.notice.program_id,
        enrollment_key="",
        student_id="",
        class_id="",
        rule_id=plan.rule_id,
        episode=plan.day.isoformat(),
        kind=LETTER,
        policy_version=first.notice.policy_version if len(notices) == 1 else "",
        decided_on=plan.day.isoformat(),
        due_on=plan.day.isoformat(),
        recipients=[
            Contact(
                role=contact.role,
                address=contact.address,
                name=contact.name,
                language=contact.language,
                source_id=contact.source_id,
                title=contact.title,
                # The household's number and choice: the letter's one text (delivery/sms.py).
                phone=contact.phone,
                sms=contact.sms,
            )
        ],
        reply_to=reply_to,
        program_name=first.notice.program_name,
        district_name=first.notice.district_name,
        language=contact.language or first.notice.language,
        status="pending",
        created_at=iso_instant(now),
        members=[LetterMember(notice_id=m.notice.notice_id, index=m.index) for m in plan.members],
    )


class MembersTaken(Exception):
    """A member already had a delivery entry (another dispatcher lettered it): plan again."""


def write_letter(plan: Plan, now: datetime) -> str:
    """Put the letter and claim its members in one transaction; returns the letter id.

    The first free id of the window is taken (``#2`` after the first letter, and so on). Raises
    :class:`MembersTaken` when a member was lettered meanwhile (nothing is written then).
    """
    at = iso_instant(now)
    connection = OutboxModel._get_connection().connection
    by_notice: dict[str, list[Member]] = defaultdict(list)
    for member in plan.members:
        by_notice[member.notice.notice_id].append(member)
    for number in range(1, MAX_LETTERS_PER_WINDOW + 1):
        letter = letter_id(plan.district_id, plan.day, plan.address, number)
        item = letter_item(plan, letter, now)
        try:
            with TransactWrite(connection=connection) as transaction:
                # pynamodb sends puts before updates: reason 0 is the letter, then the members.
                transaction.save(item, condition=OutboxModel.notice_id.does_not_exist())
                for members in by_notice.values():
                    target, actions, condition = _claim_members(members, letter, at)
                    transaction.update(target, actions, condition=condition)
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            codes = [reason.code if reason else None for reason in exc.cancellation_reasons or []]
            if "ConditionalCheckFailed" in codes[1:]:
                raise MembersTaken(letter) from None
            if codes[:1] == ["ConditionalCheckFailed"]:
                continue  # this window's letter to the address exists: the next number
            raise
        # The notices read by this dispatch are planned from once more (their other recipients'
        # letters): they must know what is taken now.
        for member in plan.members:
            member.notice.deliveries = {**plain(member.notice.deliveries), member.key: {"status": LETTERED}}
        return letter
    raise RuntimeError("too many letters to one address in one window")


def _claim_members(members: Sequence[Member], letter: str, at: str) -> tuple[OutboxModel, list[Action], Any]:
    notice = members[0].notice
    entry = {"status": LETTERED, "letter": letter, "at": at}
    actions: list[Action] = [OutboxModel.deliveries[m.key].set(dict(entry)) for m in members]
    condition = OutboxModel.status == "scheduled"
    for member in members:
        condition = condition & OutboxModel.deliveries[member.key].does_not_exist()
    mine = {m.key for m in members}
    others = set(plain(notice.deliveries)) - mine
    if all(f"r{i}" in mine | others for i in range(len(notice.recipients or []))):
        # Every recipient has its letter: the notice leaves the dispatcher's index (on condition
        # that the other letters' claims it counts on are indeed written).
        actions += _retire_actions()
        for key in sorted(others):
            condition = condition & OutboxModel.deliveries[key].exists()
    return OutboxModel(notice_id=notice.notice_id), actions, condition


def _retire_actions() -> list[Action]:
    return [OutboxModel.status.set(LETTERED), OutboxModel.send_key.remove(), OutboxModel.send_after.remove()]


def retire(notice: OutboxModel) -> bool:
    """Take a ``scheduled`` notice whose every recipient is lettered out of the dispatcher's index
    (two dispatchers that each lettered some of its recipients leave it there). False when it is
    not (yet) so."""
    condition = OutboxModel.status == "scheduled"
    for index in range(len(notice.recipients or [])):
        condition = condition & OutboxModel.deliveries[f"r{index}"].exists()
    try:
        OutboxModel(notice_id=notice.notice_id).update(actions=_retire_actions(), condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ---------------------------------------------------------------------------------------------
# Sending a letter (notify, through sender.py)


def members_of(letter: OutboxModel) -> list[Member]:
    """The letter's member notices, read in one consistent BatchGetItem, in the letter's order."""
    pairs = [(str(m.notice_id), int(m.index)) for m in letter.members or []]
    ids = list(dict.fromkeys(notice_id for notice_id, _ in pairs))
    found = {n.notice_id: n for n in OutboxModel.batch_get(ids, consistent_read=True)}
    missing = sorted(set(ids) - set(found))
    if missing:
        raise LookupError(f"a letter's member notices are missing ({len(missing)})")
    return [Member(found[notice_id], index) for notice_id, index in pairs]


@dataclass(frozen=True)
class LetterEmail:
    """What the letter's one message says and carries."""

    email: RenderedEmail
    attachments: tuple[Attachment, ...]
    reply_to: Contact | None
    invitation: Mapping[str, Any] | None = None


def letter_email(
    letter: OutboxModel, members: Sequence[Member], contact: Contact, templates_dir: Path, now: datetime
) -> LetterEmail:
    """The message of ``letter`` for its recipient ``contact``.

    One member: that notice's own email (template, meeting invitation, ``deadline.ics``). More:
    the digest (``digest.family`` or ``digest.instructor``) with each member's content block and
    one ``deadline.ics`` holding every member's deadlines.
    """
    notices = list({m.notice.notice_id: m.notice for m in members}.values())
    family = audience(contact) == "family"
    if len(notices) == 1:
        member = members[0]
        own = member.contact
        invitation = InvitationDrafts(member.notice, stamp=now).for_recipient(own)
        extra = {"invitation": invitation.context} if invitation else None
        email = render(member.notice, own, templates_dir, extra)
        calendar = deadline_attachment(member.notice)
        return LetterEmail(
            email=email,
            attachments=(
                *(invitation.attachments if invitation else ()),
                *((calendar,) if calendar is not None else ()),
            ),
            reply_to=member.notice.reply_to if family else None,
            invitation=invitation.evidence if invitation else None,
        )
    email = render_digest(letter, [(m.notice, m.contact) for m in members], contact, templates_dir)
    calendar = combined_attachment(notices)
    return LetterEmail(
        email=email,
        attachments=(calendar,) if calendar is not None else (),
        reply_to=letter.reply_to if family else None,
    )


def settle_members(
    letter: OutboxModel, members: Sequence[Member], found: Sequence[RecipientOutcome], at: str
) -> list[tuple[AuditEntry, Claim]]:
    """Each member notice's delivery entry and audit entry for the letter's outcome ``found``.

    The member's entry is the letter's (``sent`` with SES's message id, ``failed``, ``suppressed``
    or ``unconfirmed``) plus the letter id; its audit entry is the notice's own evidence (rule,
    policy version, facts, deadlines) for that recipient, naming the letter. Only entries still
    ``lettered`` by this letter change (the condition), so a settle cannot be applied twice.
    """
    outcome = found[0] if found else None
    entry: dict[str, Any] = {
        "status": outcome.status if outcome else "failed",
        "letter": letter.notice_id,
        "at": at,
    }
    if outcome is not None and outcome.message_id:
        entry["message_id"] = outcome.message_id
    if outcome is not None and outcome.error:
        entry["error"] = outcome.error
    if outcome is not None and outcome.invitation:  # a meeting plan's, alone in its letter
        entry["invitation"] = dict(outcome.invitation)
    by_notice: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        by_notice[member.notice.notice_id].append(member)
    settled: list[tuple[AuditEntry, Claim]] = []
    for group in by_notice.values():
        notice = group[0].notice
        deliveries = {**plain(notice.deliveries), **{m.key: dict(entry) for m in group}}
        mine = [o for o in outcomes(notice, deliveries) if f"r{o.index}" in {m.key for m in group}]
        status = str(entry["status"])
        evidence = audit_entry(notice, status, mine, entry.get("error"))
        detail = {**evidence.detail, "letter": letter.notice_id, "letter_members": len(by_notice)}
        audited = notice_entry(notice, evidence.type, evidence.summary, detail)
        condition = None
        for member in group:
            path = OutboxModel.deliveries[member.key]
            held = (path["status"] == LETTERED) & (path["letter"] == letter.notice_id)
            condition = held if condition is None else condition & held
        assert condition is not None
        actions = [OutboxModel.deliveries[m.key].set(dict(entry)) for m in group]
        settled.append((audited, Claim(OutboxModel(notice_id=notice.notice_id), actions, condition)))
    return settled


def cancel_members(
    letter: OutboxModel,
    members: Sequence[Member],
    cancellations: Mapping[str, Cancellation | None],
    at: str,
) -> list[tuple[AuditEntry | None, Claim]]:
    """The updates (and audit entries) of the members the re-check at send found resolved
    (``delivery/recheck.py``), for the letter's settle transaction.

    Each such member's ``deliveries.r{i}`` becomes ``cancelled`` (reason ``resolved``, naming the
    letter) and its notice is settled ``cancelled``/``resolved`` with the ``notice.cancelled``
    entry, as on the notice path. A notice another letter cancelled already (None) gets its
    entries cancelled without a second audit entry: the conditions on the notice's status make the
    entry exactly once whichever of its letters goes first.
    """
    entry = {"status": CANCELLED, "reason": RESOLVED, "letter": letter.notice_id, "at": at}
    by_notice: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        by_notice[member.notice.notice_id].append(member)
    changes: list[tuple[AuditEntry | None, Claim]] = []
    for notice_id, group in by_notice.items():
        notice = group[0].notice
        cancellation = cancellations[notice_id]
        condition = _held_by(group, letter.notice_id)
        actions: list[Action] = [OutboxModel.deliveries[m.key].set(dict(entry)) for m in group]
        audited: AuditEntry | None = None
        if cancellation is None:
            condition = condition & (OutboxModel.status == CANCELLED)
        else:
            condition = condition & (OutboxModel.status != CANCELLED)
            actions += [
                OutboxModel.status.set(CANCELLED),
                OutboxModel.status_reason.set(RESOLVED),
                OutboxModel.send_key.remove(),
                OutboxModel.send_after.remove(),
            ]
            found = cancelled_entry(notice, cancellation)
            detail = {**found.detail, "letter": letter.notice_id}
            audited = notice_entry(notice, found.type, found.summary, detail)
        changes.append((audited, Claim(OutboxModel(notice_id=notice_id), actions, condition)))
    return changes


def _held_by(group: Sequence[Member], letter_id_: str) -> Any:
    """The members' entries are still ``lettered`` by this letter (a settle applies once)."""
    condition = None
    for member in group:
        path = OutboxModel.deliveries[member.key]
        held = (path["status"] == LETTERED) & (path["letter"] == letter_id_)
        condition = held if condition is None else condition & held
    assert condition is not None
    return condition


def letter_cancelled_entry(letter: OutboxModel, cancelled: int) -> AuditEntry:
    """The ``letter.cancelled`` entry of a letter every member of which the re-check cancelled:
    nothing was sent (each member notice has its own ``notice.cancelled`` entry)."""
    members = [{"notice_id": str(m.notice_id), "index": int(m.index)} for m in letter.members or []]
    return AuditEntry(
        type="letter.cancelled",
        actor=ACTOR,
        summary=f"Letter of {cancelled} notice(s) ({letter.rule_id}) not sent: every notice was resolved.",
        on=date.fromisoformat(letter.decided_on),
        rule_id=letter.rule_id,
        program_id=letter.program_id,
        notice_id=letter.notice_id,
        detail={"status": CANCELLED, "reason": RESOLVED, "members": members},
    )


def letter_entry(
    letter: OutboxModel, status: str, found: Sequence[RecipientOutcome], why: str | None
) -> AuditEntry:
    """The letter's own audit entry (``letter.sent``, ``letter.failed``…): to whom, with which
    members; each member notice gets its own entry besides (:func:`settle_members`)."""
    members = [{"notice_id": str(m.notice_id), "index": int(m.index)} for m in letter.members or []]
    notices = len({m["notice_id"] for m in members})
    roles = ", ".join(sorted({o.role for o in found})) or "nobody"
    return AuditEntry(
        type=entry_type(status, found).replace("notice.", "letter.", 1),
        actor=ACTOR,
        summary=f"Letter of {notices} notice(s) ({letter.rule_id}) to {roles}: {status}.",
        on=date.fromisoformat(letter.decided_on),
        rule_id=letter.rule_id,
        program_id=letter.program_id,
        notice_id=letter.notice_id,
        detail={
            "status": status,
            "reason": why,
            "members": members,
            "recipients": [
                {"index": o.index, "role": o.role, "address": o.address, "status": o.status, "error": o.error}
                for o in found
            ],
            "ses_message_ids": [o.message_id for o in found if o.message_id],
        },
    )
