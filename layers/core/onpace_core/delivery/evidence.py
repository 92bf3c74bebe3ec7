"""What a notice's deliveries amount to: each recipient's outcome, the notice's status, the audit entry.

Pure functions of the outbox item and its ``deliveries`` map (``r{i}`` → entry). A delivery entry
is ``{"status": "sent", "message_id", "at"}``, ``{"status": "failed", "error", "at"}`` or, while
an attempt is sending it, ``{"status": "sending", "at", "by": <the attempt's token>}``. An entry
still ``sending`` when the notice is settled belongs to an attempt that stopped (killed, timed
out) between marking the recipient and recording SES's answer: SES may have accepted that
message, so it is never sent again and is reported ``unconfirmed`` — not ``failed``, which
would be untrue when the email was delivered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from onpace_rules.titles import rule_title

from onpace_core.audit.log import AuditEntry
from onpace_core.store.models import OutboxModel

ACTOR = "notify"
NO_RECIPIENT = "no recipient address"
INVALID_ADDRESS = "invalid address"
UNCONFIRMED = "unconfirmed"
SUPPRESSED = "address suppressed (hard bounce or complaint)"
#: A recipient's settled outcomes; ``suppressed``: on the district's list, not sent (never sent).
SETTLED = ("sent", "failed", "suppressed")
UNCONFIRMED_REASON = (
    "outcome unknown: the attempt stopped after claiming it, SES may have accepted it; not sent again"
)


@dataclass(frozen=True)
class RecipientOutcome:
    index: int
    role: str
    address: str
    status: str  # sent | failed | suppressed | unconfirmed
    message_id: str | None = None
    error: str | None = None
    invitation: Mapping[str, Any] | None = None  # what a meeting plan's email carried


def plain(value: Any) -> dict[str, Any]:
    """A pynamodb map (or a mapping) as nested plain dicts."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {k: plain(v) if _is_map(v) else v for k, v in value.items()}
    return plain(value.as_dict())


def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping) or callable(getattr(value, "as_dict", None))


def outcomes(
    notice: OutboxModel, deliveries: Mapping[str, Mapping[str, Any]]
) -> tuple[RecipientOutcome, ...]:
    """One outcome per recipient, from ``deliveries`` (a recipient without an entry is unconfirmed
    too: only a notice whose every recipient was dealt with is settled)."""
    out = []
    for index, contact in enumerate(notice.recipients or []):
        entry = deliveries.get(f"r{index}", {})
        status = str(entry.get("status", "sending"))
        out.append(
            RecipientOutcome(
                index=index,
                role=contact.role,
                address=contact.address or "",
                status=status if status in SETTLED else UNCONFIRMED,
                message_id=entry.get("message_id"),
                error=entry.get("error"),
                invitation=entry.get("invitation"),
            )
        )
    return tuple(out)


def overall(found: Sequence[RecipientOutcome]) -> str:
    """``sent`` (every recipient), ``unconfirmed`` (any outcome unknown), ``partial`` or ``failed``."""
    if any(o.status == UNCONFIRMED for o in found):
        return UNCONFIRMED
    sent = sum(1 for o in found if o.status == "sent")
    if found and sent == len(found):
        return "sent"
    return "partial" if sent else "failed"


def reason(found: Sequence[RecipientOutcome]) -> str | None:
    if not found:
        return NO_RECIPIENT
    problems = [o for o in found if o.status != "sent"]
    if not problems:
        return None
    return "; ".join(f"r{o.index} ({o.role}): {_problem(o)}" for o in problems)


def _problem(outcome: RecipientOutcome) -> str:
    return UNCONFIRMED_REASON if outcome.status == UNCONFIRMED else outcome.error or "failed"


def _roles(found: Sequence[RecipientOutcome]) -> str:
    counts = Counter(o.role for o in found)
    return ", ".join(role if n == 1 else f"{n} {role}s" for role, n in counts.items())


def summary(notice: OutboxModel, status: str, found: Sequence[RecipientOutcome], why: str | None) -> str:
    who = notice.student_name or notice.student_id
    where = notice.class_title or notice.class_id
    title = rule_title(notice.rule_id)
    if not found:
        return f"{title} for {who} in {where} was not sent: {why or NO_RECIPIENT}."
    sent = [o for o in found if o.status == "sent"]
    unknown = [o for o in found if o.status == UNCONFIRMED]
    missed = [o for o in found if o.status in ("failed", "suppressed")]
    parts = []
    if sent:
        parts.append(f"sent to {_roles(sent)}")
    if unknown:
        parts.append(f"outcome unknown for {_roles(unknown)} (SES may have accepted it; not sent again)")
    if missed:
        text = ", ".join(f"{o.role} ({o.error or 'failed'})" for o in missed)
        parts.append(f"{'not delivered to' if sent or unknown else 'was not delivered to'} {text}")
    return f"{title} for {who} in {where} " + "; ".join(parts) + "."


def entry_type(status: str, found: Sequence[RecipientOutcome]) -> str:
    if status == "failed":
        return "notice.failed"
    if status == UNCONFIRMED and not any(o.status == "sent" for o in found):
        return "notice.unconfirmed"
    return "notice.sent"


def notice_entry(
    notice: OutboxModel, type_: str, summary: str, detail: dict[str, Any], *, actor: str = ACTOR
) -> AuditEntry:
    """An audit entry about ``notice`` (by notify unless ``actor`` says otherwise): its rule,
    policy version, program, student, class and notice id, so that every delivery entry can be
    traced like the decision."""
    return AuditEntry(
        type=type_,
        actor=actor,
        summary=summary,
        on=date.fromisoformat(notice.decided_on),
        rule_id=notice.rule_id,
        policy_version=notice.policy_version,
        program_id=notice.program_id,
        student_id=notice.student_id,
        class_id=notice.class_id,
        notice_id=notice.notice_id,
        detail=detail,
    )


def audit_entry(
    notice: OutboxModel,
    status: str,
    found: Sequence[RecipientOutcome],
    why: str | None,
    *,
    type_: str | None = None,
) -> AuditEntry:
    """The evidence of one settled notice: who was written to, what SES said, under which rule."""
    return notice_entry(
        notice,
        type_ or entry_type(status, found),
        summary(notice, status, found, why),
        {
            "status": status,
            "reason": why,
            "kind": notice.kind,
            "episode": notice.episode,
            "decided_on": notice.decided_on,
            "due_on": notice.due_on,
            "deadlines": plain(notice.deadlines),
            "facts": plain(notice.facts),
            "recipients": [_recipient_detail(o) for o in found],
            "reply_to": _reply_to_detail(notice),
            "signed": [n for n in (notice.program_name, notice.district_name) if n],
            "ses_message_ids": [o.message_id for o in found if o.message_id],
        },
    )


def _reply_to_detail(notice: OutboxModel) -> dict[str, Any] | None:
    """The person a family notice named, as evidence of whom the family was told to contact."""
    person = notice.reply_to
    if person is None:
        return None
    return {"role": person.role, "name": person.name, "title": person.title, "address": person.address}


def _recipient_detail(outcome: RecipientOutcome) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "index": outcome.index,
        "role": outcome.role,
        "address": outcome.address,
        "status": outcome.status,
        "message_id": outcome.message_id,
        "error": outcome.error,
    }
    if outcome.invitation is not None:
        detail["invitation"] = dict(outcome.invitation)
    return detail
