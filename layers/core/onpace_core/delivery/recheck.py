"""Re-check at send (issue 12, scope 3): a warning whose student re-engaged since the evaluation
is cancelled, not sent.

Just after the sender claims a notice and before it renders anything, a warning (``kind`` notice
of a rule in ``onpace_rules.recheck.WARNING_RULE_IDS``, not an approval request) is checked
against the enrollment as stored now: one consistent GetItem of the enrollment, projected to
what the engine reads, and the compiled program (``facts.program_rules``: read once per container
every few minutes). Whether the warning still stands is the engine's answer
(``onpace_rules.recheck.recheck_warning``); this module only loads the facts and words the
evidence. Actions, approval requests, data alerts and every other notice cost no request here.

A cancelled notice is settled ``cancelled`` with reason ``resolved`` and audited
``notice.cancelled``, naming what resolved it (an activity kind or the percent complete, its
program-local date and, when the enrollment keeps it, its instant) — never a name or address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from onpace_rules.facts import ACTIVITY_KINDS
from onpace_rules.titles import rule_title

from onpace_core.audit.log import AuditEntry
from onpace_core.delivery.evidence import notice_entry, plain
from onpace_core.store.models import EnrollmentModel, OutboxModel
from onpace_core.store.packed import stored_names

if TYPE_CHECKING:
    from onpace_rules.rules.contract import Resolution

#: The notice's status and reason when the re-check cancels it (never sent, final).
CANCELLED = "cancelled"
RESOLVED = "resolved"
ENTRY_TYPE = "notice.cancelled"

#: What ``store.enrollments.to_state`` reads of an enrollment (the contacts only for the roster
#: facts' student address), and nothing else: no due index keys, no recent-event ids.
_STATE_ATTRIBUTES = stored_names(
    EnrollmentModel.get_attributes(),
    [
        "enrollment_key",
        "class_id",
        "class_title",
        "student_id",
        "term_id",
        "start_date",
        "end_date",
        "extended_end_date",
        "activity_log",
        "status",
        "contacts",
        "roster_facts",
        "scope",
        *(f"last_{kind}_at" for kind in ACTIVITY_KINDS),
        "percent_complete",
        "percent_at",
        "inputs",
        "fired",
        "checked_through",
        "held",
    ],
)


@dataclass(frozen=True)
class Cancellation:
    """Why a warning is not sent: the engine's resolution and the instant of the fact, if kept."""

    resolution: Resolution
    instant: str | None

    def evidence(self) -> dict[str, Any]:
        """The audit entry's ``resolved_by``: what resolved the warning, without names."""
        found = self.resolution
        return {
            "fact": found.fact,
            "on": found.on.isoformat() if found.on else None,
            "at": self.instant,
            **dict(found.detail),
        }


#: A member's delivery entries that mean nothing was sent to anyone yet (its letters are waiting
#: or the re-check of another letter cancelled it).
_UNSENT = frozenset({"lettered", CANCELLED})


def resolved_members(notices: Sequence[OutboxModel], now: datetime) -> dict[str, Cancellation | None]:
    """The warnings among a letter's member ``notices`` that no longer stand at ``now``, by notice
    id: a :class:`Cancellation`, or None for a notice another letter's re-check cancelled already
    (cancelled again without a second audit entry).

    One BatchGetItem of the warnings' enrollments (per 100) instead of a GetItem each. A notice
    that was sent to anyone already (another letter of it settled) is finished and not re-checked.
    """
    from onpace_rules.recheck import is_warning

    found: dict[str, Cancellation | None] = {}
    warnings: list[OutboxModel] = []
    for notice in notices:
        if notice.status == CANCELLED:
            found[notice.notice_id] = None
            continue
        if not is_warning(notice.rule_id, notice.kind, notice.episode):
            continue
        entries = plain(notice.deliveries).values()
        if all(str((entry or {}).get("status")) in _UNSENT for entry in entries):
            warnings.append(notice)
    if not warnings:
        return found
    keys = sorted({n.enrollment_key for n in warnings})
    items = {
        e.enrollment_key: e
        for e in EnrollmentModel.batch_get(keys, consistent_read=True, attributes_to_get=_STATE_ATTRIBUTES)
    }
    for notice in warnings:
        item = items.get(notice.enrollment_key)
        cancellation = _resolve(notice, item, now) if item is not None else None
        if cancellation is not None:
            found[notice.notice_id] = cancellation
    return found


def resolved_at_send(notice: OutboxModel, now: datetime) -> Cancellation | None:
    """Why the warning ``notice`` no longer stands at ``now``, or None: it is sent as decided.

    No request for a notice that is not a warning; one GetItem of the enrollment for a warning
    (and the program, when this container has not read it in the last minutes). A warning whose
    enrollment or program is not stored stands.
    """
    # The engine (every rule, the calendar) loads only when a warning is about to be sent.
    from onpace_rules.recheck import is_warning

    if not is_warning(notice.rule_id, notice.kind, notice.episode):
        return None
    try:
        item = EnrollmentModel.get(
            notice.enrollment_key, consistent_read=True, attributes_to_get=_STATE_ATTRIBUTES
        )
    except EnrollmentModel.DoesNotExist:
        return None
    return _resolve(notice, item, now)


def _resolve(notice: OutboxModel, item: EnrollmentModel, now: datetime) -> Cancellation | None:
    """The engine's answer for the warning ``notice`` against the stored enrollment ``item``."""
    from onpace_rules.recheck import recheck_warning

    from onpace_core.facts.program_rules import program_rules
    from onpace_core.store.enrollments import to_state

    program = program_rules(notice.district_id, notice.program_id)
    if program is None:
        return None
    state = to_state(item, program.calendar)
    found = recheck_warning(
        program,
        state,
        notice.rule_id,
        notice.episode,
        date.fromisoformat(notice.decided_on),
        program.calendar.local_date(now),
    )
    if found is None:
        return None
    return Cancellation(found, _instant(item, found.fact))


def _instant(item: EnrollmentModel, fact: str) -> str | None:
    """The stored instant of the fact that resolved the warning (the latest of its kind)."""
    if fact == "percent_complete":
        return item.percent_at
    if fact in ACTIVITY_KINDS:
        value = getattr(item, f"last_{fact}_at", None)
        return str(value) if value else None
    return None  # an input (a contact the instructor recorded) is known by its date


_FACT_WORDS: Mapping[str, str] = {
    "percent_complete": "the percent complete now meets the threshold",
    "instructor_contact": "the instructor recorded a contact",
}


def cancelled_entry(notice: OutboxModel, cancellation: Cancellation) -> AuditEntry:
    """The ``notice.cancelled`` audit entry: the notice's trace fields (``notice_entry``), and what
    resolved it."""
    found = cancellation.resolution
    what = _FACT_WORDS.get(found.fact, f"{found.fact.replace('_', ' ')} recorded")
    when = f" on {found.on.isoformat()}" if found.on else ""
    who = notice.student_name or notice.student_id
    where = notice.class_title or notice.class_id
    summary = (
        f"{rule_title(notice.rule_id)} for {who} in {where} was cancelled before sending: "
        f"{what}{when}, after the evaluation of {notice.decided_on}."
    )
    return notice_entry(
        notice,
        ENTRY_TYPE,
        summary,
        {
            "status": CANCELLED,
            "reason": RESOLVED,
            "kind": notice.kind,
            "episode": notice.episode,
            "decided_on": notice.decided_on,
            "due_on": notice.due_on,
            "facts": plain(notice.facts),
            "resolved_by": cancellation.evidence(),
        },
    )
