"""SES's events about a sent message → that recipient's delivery status, the audit log, and the
district's suppression list.

**Finding the recipient.** notify tags every message with the notice and the recipient key
(:func:`message_tags`); SES echoes a message's tags in each of its events (``mail.tags``), so
the event names its outbox item and ``deliveries.r{i}`` directly: no index on the message id
(an index cannot reach into the ``deliveries`` map) and no lookup item (one more write per email
in notify, outside its ``n + 3`` budget). The tag is not trusted alone: the update is
conditional on ``deliveries.r{i}.message_id`` being the event's message id, so a stale or
forged tag changes nothing. One event costs a GetItem, the audit head Query and one
transaction (the status with its audit entry), and a PutItem for a suppression.

**Statuses and precedence** (``deliveries.r{i}.tracking``, next to SES's answer ``status``
``sent``): ``delayed`` (1) < ``delivered`` (2) < ``bounced`` soft (3) < ``rejected`` (4) <
``bounced`` hard (5) < ``complained`` (6). An event is recorded only if it ranks above what the
recipient has: the most serious thing SES said about a message stands, whatever order SNS
delivers the events in (a delivery after a bounce, a delay after the delivery change nothing).
An event ranking the same as the recorded one — SNS redelivering it — is ignored too, so each
change is audited exactly once (the status and its ``delivery.*`` entry are one transaction).

**Suppression**: a hard (``Permanent``) bounce or a complaint puts the address on the district's
list (``delivery/suppression.py``) before the status is written, so a redelivered event
finishes a suppression an earlier attempt could not write. For a family recipient it then
escalates the notice to the next contact (``delivery/escalation.py``), also before the status,
for the same reason; the escalation's conditional put makes a redelivered event write nothing.

**Letters**: the event of a letter's message is recorded on the letter and, in the same
transaction, on each member notice's entry that carries the message id (with a ``delivery.*``
entry per member: its rule id and policy version); a suppressing event escalates each member
notice, never the letter. That costs one BatchGetItem of the members more.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onpace_core.audit.log import AuditEntry, Claim, append_claimed, append_claims, utc_now
from onpace_core.delivery import escalation, suppression
from onpace_core.delivery.evidence import notice_entry, plain
from onpace_core.delivery.letters import LETTER, members_of
from onpace_core.store.models import OutboxModel

ACTOR = "ses-events"
#: Tag names notify sets on every message (SES allows letters, digits, ``_`` and ``-``).
NOTICE_TAG = "onpace-notice"
RECIPIENT_TAG = "onpace-recipient"

RANKS: Mapping[str, int] = {
    "delayed": 1,
    "delivered": 2,
    "bounced-soft": 3,
    "rejected": 4,
    "bounced-hard": 5,
    "complained": 6,
}


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode(value: str) -> str:
    # validate=True: a value with characters outside the alphabet is not ours (urlsafe_b64decode
    # would drop them silently).
    decoded = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True).decode()
    if not decoded:
        raise ValueError("empty notice tag")
    return decoded


#: SES's limit on a tag value; a longer one would make SES refuse the message itself.
MAX_TAG_VALUE = 256


def message_tags(notice_id: str, key: str) -> list[dict[str, str]]:
    """The ``EmailTags`` of the message to recipient ``key`` of ``notice_id`` (the notice id
    base64url-encoded: its ``#`` and any character of a roster id are not allowed in a tag).

    None for a notice id too long for a tag (over 191 characters): the message is still sent,
    and its events are counted as unknown rather than the email refused."""
    notice = _encode(notice_id)
    if len(notice) > MAX_TAG_VALUE:
        return []
    return [{"Name": NOTICE_TAG, "Value": notice}, {"Name": RECIPIENT_TAG, "Value": key}]


@dataclass(frozen=True)
class SesEvent:
    """What OnPace needs of one SES event (``eventType`` and its object; ``mail``)."""

    message_id: str
    status: str  # delivered | bounced | complained | rejected | delayed
    at: str  # SES's timestamp of the event (of the mail when the event has none)
    tags: Mapping[str, list[str]]
    bounce: str | None = None  # hard | soft
    detail: str | None = None  # bounce subtype, complaint feedback type, reject reason, delay type
    smtp: str | None = None  # diagnostic code / SMTP response (may quote the address: audit only)

    @property
    def rank_key(self) -> str:
        return f"{self.status}-{self.bounce}" if self.status == "bounced" else self.status

    @property
    def suppresses(self) -> bool:
        return self.status == "complained" or (self.status == "bounced" and self.bounce == "hard")

    def target(self) -> tuple[str, str] | None:
        """The notice id and recipient key its tags name, or ``None`` (not one of notify's)."""
        notice = next(iter(self.tags.get(NOTICE_TAG) or ()), None)
        key = next(iter(self.tags.get(RECIPIENT_TAG) or ()), None)
        if not notice or not key or not key.startswith("r") or not key[1:].isdigit():
            return None
        try:
            return _decode(notice), key
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None


@dataclass(frozen=True)
class Tracked:
    """What :func:`record` did, for the handler's log line and metrics (no student data)."""

    outcome: str  # recorded | ignored | unknown
    status: str
    rule_id: str | None = None
    suppressed: bool = False
    # What escalating the recipient did (delivery/escalation.py): escalated | already | none |
    # not_family; None when the event escalates nothing.
    escalation: str | None = None


def record(event: SesEvent) -> Tracked:
    """Record ``event`` on its recipient's delivery entry with its audit entry (see the module doc)."""
    target = event.target()
    if target is None:
        return Tracked("unknown", event.status)
    notice_id, key = target
    try:
        notice = OutboxModel.get(notice_id)
    except OutboxModel.DoesNotExist:
        return Tracked("unknown", event.status)
    index = int(key[1:])
    recipients = list(notice.recipients or [])
    entry = plain(notice.deliveries).get(key) or {}
    if index >= len(recipients) or entry.get("message_id") != event.message_id:
        return Tracked("unknown", event.status, notice.rule_id)
    contact = recipients[index]
    suppressed = False
    escalated: str | None = None
    # A letter's message: SES's event is about each member notice it carried too.
    carried = _carried(notice, event.message_id) if notice.kind == LETTER else []
    if event.suppresses and contact.address:
        suppression.suppress(
            notice.district_id,
            contact.address,
            reason="complaint" if event.status == "complained" else "bounce",
            detail=event.detail,
            role=contact.role,
            rule_id=notice.rule_id,
            at=event.at,
        )
        suppressed = True
        # Before the status: a redelivered event finishes an escalation an earlier attempt
        # could not write (the escalation's put is conditional, so it is written once).
        cause = escalation.COMPLAINED if event.status == "complained" else escalation.BOUNCED
        if notice.kind == LETTER:
            # The letter is not escalated; each member notice is, through its own chain.
            done = [
                escalation.escalate(member, member_key, cause, utc_now()) for member, member_key in carried
            ]
            escalated = done[0].outcome if done else "none"
        else:
            escalated = escalation.escalate(notice, key, cause, utc_now()).outcome
    # A one-digit string: compared as a string in the condition, whatever type DynamoDB infers.
    rank = str(RANKS[event.rank_key])
    tracking: dict[str, Any] = {"status": event.status, "rank": rank, "at": event.at}
    if event.bounce:
        tracking["bounce"] = event.bounce
    if event.detail:
        tracking["detail"] = event.detail
    path = OutboxModel.deliveries[key]
    condition = (path["message_id"] == event.message_id) & (
        path["tracking"].does_not_exist() | (path["tracking"]["rank"] < rank)
    )
    audit = _audit_entry(notice, key, contact.role, event, suppressed)
    claim = Claim(OutboxModel(notice_id=notice_id), [path["tracking"].set(tracking)], condition)
    if carried:
        # The members' entries carry the letter's message id: the same status, each with its own
        # entry (rule id, policy version), in the letter's transaction: all or none, once.
        entries, claims = [audit], [claim]
        for member, member_key in carried:
            role = (member.recipients or [])[int(member_key[1:])].role
            entries.append(_audit_entry(member, member_key, role, event, suppressed))
            claims.append(_member_claim(member, member_key, event.message_id, tracking, rank))
        written = append_claims(notice.district_id, entries, claims)
        stored = written[0] if written else None
    else:
        stored = append_claimed(notice.district_id, audit, claim)
    if stored is None:
        return Tracked("ignored", event.status, notice.rule_id, suppressed, escalated)
    return Tracked("recorded", event.status, notice.rule_id, suppressed, escalated)


def _carried(letter: OutboxModel, message_id: str) -> list[tuple[OutboxModel, str]]:
    """The (member notice, recipient key) pairs the letter's message ``message_id`` carried."""
    carried = []
    for member in members_of(letter):
        entry = plain(member.notice.deliveries).get(member.key) or {}
        if entry.get("message_id") == message_id:
            carried.append((member.notice, member.key))
    return carried


def _member_claim(
    member: OutboxModel, key: str, message_id: str, tracking: dict[str, Any], rank: str
) -> Claim:
    path = OutboxModel.deliveries[key]
    condition = (path["message_id"] == message_id) & (
        path["tracking"].does_not_exist() | (path["tracking"]["rank"] < rank)
    )
    return Claim(OutboxModel(notice_id=member.notice_id), [path["tracking"].set(dict(tracking))], condition)


_WORDS = {
    "delivered": "delivered to",
    "bounced": "bounced for",
    "complained": "marked as spam by",
    "rejected": "rejected by SES for",
    "delayed": "delayed for",
}


def _audit_entry(notice: OutboxModel, key: str, role: str, event: SesEvent, suppressed: bool) -> AuditEntry:
    status = f"{event.status} ({event.bounce})" if event.bounce else event.status
    words = _WORDS[event.status]
    summary = f"Notice {notice.rule_id} {words} the {role} ({key})"
    if event.bounce:
        summary += f", {event.bounce} bounce"
    if suppressed:
        summary += "; the address is suppressed for later notices"
    return notice_entry(
        notice,
        f"delivery.{event.status}",
        summary + ".",
        {
            "recipient": key,
            "role": role,
            "status": status,
            "ses_message_id": event.message_id,
            "at": event.at,
            "detail": event.detail,
            "smtp": event.smtp,
            "suppressed": suppressed,
        },
        actor=ACTOR,
    )
