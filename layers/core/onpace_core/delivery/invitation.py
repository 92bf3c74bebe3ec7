"""The calendar invitation that goes with a Chicago meeting plan to the instructor.

A ``cps_chicago.meeting.one_on_one`` notice is addressed to the instructor only, but its draft
invitation (``notices/meeting_invite.py``) names everyone the policy wants at the meeting. They
are looked up when the notice is sent:

- the organizer: the instructor the email goes to (the outbox recipient);
- the student and the parents/guardians: the enrollment's roster contacts;
- the principal or assistant principal: the program's staff contacts ``principal`` and
  ``assistant_principal`` (a OneRoster export carries no school administrators for a class);
- the time zone, the school calendar and the district email domains: the program configuration.

When someone the policy requires cannot be found, the email goes out without the attachment and
says why: the plan it states is still right, and the instructor can invite people by hand. A
read that fails (throttling, a missing permission) raises before anything is claimed, so the
stream retries the record and nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onpace_rules.program import ProgramConfig
from onpace_rules.rules.chicago import CHANNEL, MEETING

from onpace_core.delivery.mime import Attachment, calendar_attachment
from onpace_core.notices.meeting_invite import (
    FILENAME,
    InvitationError,
    MeetingPlan,
    Person,
    PersonRole,
    invitation_uid,
    local_start,
    meeting_invitation,
    proposed_start,
)
from onpace_core.store.models import Contact, EnrollmentModel, OutboxModel, ProgramModel
from onpace_core.store.programs import get_program

# Program staff contact roles that stand for "the school principal or assistant principal".
SCHOOL_LEADERS: tuple[PersonRole, ...] = ("principal", "assistant_principal")
_FAMILY_ROLES = frozenset({"guardian", "parent"})


@dataclass(frozen=True)
class Invitation:
    """What one instructor's email carries for the meeting plan.

    ``context`` is the template value ``invitation``; ``evidence`` is recorded with the delivery
    (and so in the audit entry): roles, UID and start, no addresses.
    """

    attachments: tuple[Attachment, ...]
    context: dict[str, Any]
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Sources:
    """What the invitation is built from besides the notice: roster contacts and the program."""

    contacts: tuple[Contact, ...]
    program: ProgramConfig | None


def needs_invitation(notice: OutboxModel, recipient: Contact) -> bool:
    return notice.rule_id == MEETING and recipient.role == "instructor"


def load_sources(notice: OutboxModel) -> Sources:
    """The enrollment's contacts and the program configuration; a missing item is an empty source."""
    try:
        enrollment = EnrollmentModel.get(notice.enrollment_key, consistent_read=True)
        contacts = tuple(enrollment.contacts or ())
    except EnrollmentModel.DoesNotExist:
        contacts = ()
    try:
        program: ProgramConfig | None = get_program(notice.district_id, notice.program_id)
    except ProgramModel.DoesNotExist:
        program = None
    return Sources(contacts=contacts, program=program)


def _person(contact: Contact, role: PersonRole) -> Person:
    return Person(address=contact.address or "", role=role, name=contact.name)


def _invitees(sources: Sources, program: ProgramConfig) -> tuple[list[Person], list[str]]:
    """(the attendees found, why the policy's required ones could not be)."""
    students = [_person(c, "student") for c in sources.contacts if c.role == "student" and c.address]
    guardians = [_person(c, "guardian") for c in sources.contacts if c.role in _FAMILY_ROLES and c.address]
    leaders = [
        Person(address=s.address, role=role, name=s.name)
        for role in SCHOOL_LEADERS
        for s in program.contacts.get(role, ())
    ]
    missing = []
    if not students:
        missing.append("the roster has no email address for the student")
    if not guardians:
        missing.append("the roster has no parent/guardian email address")
    if not leaders:
        missing.append("the program has no principal or assistant principal address on file")
    return _distinct([*students[:1], *leaders, *guardians]), missing


def _distinct(people: Sequence[Person]) -> list[Person]:
    """One entry per address (a guardian may also be listed twice on the roster), first role wins."""
    seen: set[str] = set()
    out = []
    for person in people:
        key = person.address.strip().lower()
        if key not in seen:
            seen.add(key)
            out.append(person)
    return out


def _in_force(program: ProgramConfig, policy_version: str) -> ProgramConfig:
    """The program version the notice was decided under (its rules name the district domains)."""
    return next((c for _, c in program.versioned() if c.policy_version == policy_version), program)


def _not_attached(reasons: Sequence[str]) -> Invitation:
    return Invitation(
        attachments=(),
        context={"attached": False, "reasons": list(reasons)},
        evidence={"status": "not attached", "reasons": list(reasons)},
    )


def invitation_for(
    notice: OutboxModel, organizer: Contact, sources: Sources, *, stamp: datetime
) -> Invitation:
    """The draft for ``organizer``'s email about the meeting plan ``notice``, sent at ``stamp``.

    Pure: the same inputs give the same bytes, and the UID depends on the notice only, so a
    message rebuilt by a retry describes the same calendar entry.
    """
    if sources.program is None:
        return _not_attached(["the program's configuration could not be read"])
    program = _in_force(sources.program, notice.policy_version)
    attendees, missing = _invitees(sources, program)
    if missing:
        return _not_attached(missing)
    plan = MeetingPlan.from_notice(
        notice.notice_id, _plain(notice.facts), _plain(notice.deadlines), notice.class_title
    )
    calendar = program.build_calendar()
    channel: Mapping[str, Any] = program.rules.get(CHANNEL) or {}
    start = proposed_start(plan, calendar, stamp=stamp)
    try:
        ical = meeting_invitation(
            plan,
            _person(organizer, "instructor"),
            attendees,
            program.time_zone,
            start,
            stamp=stamp,
            student_domains=channel.get("district_domains"),
            allow_subdomains=bool(channel.get("allow_subdomains", False)),
        )
    except InvitationError as error:
        return _not_attached([str(error)])
    uid = invitation_uid(notice.notice_id)
    begins = local_start(start, calendar.zone)
    return Invitation(
        attachments=(calendar_attachment(FILENAME, ical, "REQUEST"),),
        context={
            "attached": True,
            "filename": FILENAME,
            "start": begins,
            "attendees": [
                {
                    "name": " ".join((p.name or p.address).split()),
                    "role": p.role,
                    "required": p.role == "student",
                }
                for p in attendees
            ],
        },
        evidence={
            "status": "attached",
            "filename": FILENAME,
            "uid": uid,
            "start": begins.isoformat(),
            "attendees": [p.role for p in attendees],
        },
    )


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    return dict(value.as_dict())


class InvitationDrafts:
    """Invitations for the recipients of one notice, reading their sources at most once."""

    def __init__(
        self, notice: OutboxModel, stamp: datetime, load: Callable[[OutboxModel], Sources] = load_sources
    ) -> None:
        self._notice = notice
        self._stamp = stamp
        self._load = load
        self._sources: Sources | None = None

    def for_recipient(self, recipient: Contact) -> Invitation | None:
        """The recipient's invitation, or None when the notice has none for them."""
        if not needs_invitation(self._notice, recipient):
            return None
        if self._sources is None:
            self._sources = self._load(self._notice)
        return invitation_for(self._notice, recipient, self._sources, stamp=self._stamp)
