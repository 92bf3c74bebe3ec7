"""Deliver one outbox notice: one SES message per recipient, each sent at most once, with evidence.

The outbox item is the ledger. For recipient ``i`` the map entry ``deliveries.r{i}`` is claimed
with a conditional update (it must not exist yet) *before* SES is called, and then settled as
``sent`` (with the SES message id) or ``failed`` (with the error code). A retry of the same
stream record, a replay or a second invocation therefore finds the claim and sends nothing
again. Only an error after which SES certainly did not accept the message (throttling, a 5xx,
a network failure) releases the claim and re-raises, so that the stream retries the record.

Lifecycle of the item: ``pending`` → ``sending`` → ``sent`` | ``partial`` | ``failed``.
``skipped`` (superseded warnings) and ``suppressed`` (channel policy) items are never sent.
Every outcome is written to the audit log (``notice.sent`` / ``notice.failed``) before the
item's final status, so a crash in between leaves the item ``sending`` and the retry audits it.

A Chicago meeting plan's email to the instructor carries the meeting invitation as an ``.ics``
attachment (``delivery/invitation.py``). It is built with every other message, before any claim,
from the notice and ``now``; its UID depends on the notice only, so the message a retry rebuilds
(after a released claim) is the same calendar entry. What was attached is settled with the
delivery (``deliveries.r{i}.invitation``) and so reaches the audit entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from onpace_rules.titles import rule_title
from pynamodb.exceptions import UpdateError

from onpace_core.audit.log import AuditEntry, append, iso_instant, utc_now
from onpace_core.delivery.invitation import InvitationDrafts
from onpace_core.delivery.mime import InvalidAddressError, build_message, parse_address, to_bytes
from onpace_core.notices.render import render
from onpace_core.settings import Settings
from onpace_core.store.models import OutboxModel

ACTOR = "notify"

#: SES error codes after which the message was certainly not accepted and a retry cannot help.
#: (SES v2 names end in "Exception"; moto and SES v1 use the short names and
#: ``InvalidParameterValue`` for a malformed address.)
DEFINITE_REJECTIONS = frozenset(
    {
        "MessageRejected",
        "AccountSuspended",
        "AccountSuspendedException",
        "MailFromDomainNotVerified",
        "MailFromDomainNotVerifiedException",
        "BadRequest",
        "BadRequestException",
        "InvalidParameterValue",
    }
)

NEVER_SEND = frozenset({"skipped", "suppressed", "recorded"})
# Roster roles of the student's family: their messages carry the contact person's Reply-To.
FAMILY_CONTACT_ROLES = frozenset({"student", "guardian", "parent"})
FINAL = frozenset({"sent", "partial", "failed"})
NO_RECIPIENT = "no recipient address"
INVALID_ADDRESS = "invalid address"


@dataclass(frozen=True)
class RecipientOutcome:
    index: int
    role: str
    address: str
    status: str  # sent | failed | sending (claimed by an attempt that never recorded a result)
    message_id: str | None = None
    error: str | None = None
    invitation: Mapping[str, Any] | None = None  # what a meeting plan's email carried


@dataclass(frozen=True)
class DeliveryResult:
    """What ``deliver`` found and did.

    ``status`` is the item's status afterwards (``missing`` when there is no such item);
    ``sent_now`` counts the messages SES accepted during this call only.
    """

    notice_id: str
    status: str
    rule_id: str | None = None
    sent_now: int = 0
    outcomes: tuple[RecipientOutcome, ...] = ()

    @property
    def message_ids(self) -> tuple[str, ...]:
        return tuple(o.message_id for o in self.outcomes if o.message_id)


@dataclass(frozen=True)
class _Prepared:
    key: str
    address: str
    raw: bytes
    invitation: Mapping[str, Any] | None = None

    def settled(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The delivery entry, with what the message carried when it carried an invitation."""
        return {**entry, "invitation": dict(self.invitation)} if self.invitation else entry


# ---------------------------------------------------------------------------------------------
# Outbox updates (all conditional, all through the pynamodb model)


def _is_condition_failure(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {k: _plain(v) if _is_map(v) else v for k, v in value.items()}
    return _plain(value.as_dict())


def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping) or callable(getattr(value, "as_dict", None))


def _deliveries(notice: OutboxModel) -> dict[str, dict[str, Any]]:
    return _plain(notice.deliveries)


def _start(notice: OutboxModel) -> bool:
    """``pending`` → ``sending``; False when another writer changed the status first."""
    try:
        notice.update(
            actions=[
                OutboxModel.status.set("sending"),
                OutboxModel.deliveries.set(OutboxModel.deliveries | {}),
            ],
            condition=OutboxModel.status == "pending",
        )
    except UpdateError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


def _put_delivery(notice: OutboxModel, key: str, entry: dict[str, Any]) -> bool:
    """Create ``deliveries[key]``; False when it already exists (someone claimed it first)."""
    try:
        notice.update(
            actions=[OutboxModel.deliveries[key].set(entry)],
            condition=OutboxModel.deliveries[key].does_not_exist(),
        )
    except UpdateError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


def _settle(notice: OutboxModel, key: str, entry: dict[str, Any]) -> None:
    """Record the result of our claim (unconditionally: what SES said is the truth)."""
    notice.update(actions=[OutboxModel.deliveries[key].set(entry)])


def _release(notice: OutboxModel, key: str) -> None:
    """Give back a claim whose message SES certainly did not accept, so a retry may send it."""
    try:
        notice.update(
            actions=[OutboxModel.deliveries[key].remove()],
            condition=OutboxModel.deliveries[key]["status"] == "sending",
        )
    except UpdateError as error:
        if not _is_condition_failure(error):
            raise


def _finalize(notice: OutboxModel, status: str, reason: str | None, first_id: str | None, at: str) -> bool:
    actions: list[Any] = [OutboxModel.status.set(status)]
    actions.append(OutboxModel.status_reason.set(reason) if reason else OutboxModel.status_reason.remove())
    if first_id:
        actions += [OutboxModel.ses_message_id.set(first_id), OutboxModel.sent_at.set(at)]
    try:
        notice.update(actions=actions, condition=OutboxModel.status.is_in("pending", "sending"))
    except UpdateError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


# ---------------------------------------------------------------------------------------------
# Outcomes and evidence


def _outcomes(notice: OutboxModel) -> tuple[RecipientOutcome, ...]:
    deliveries = _deliveries(notice)
    out = []
    for index, contact in enumerate(notice.recipients or []):
        entry = deliveries.get(f"r{index}", {})
        out.append(
            RecipientOutcome(
                index=index,
                role=contact.role,
                address=contact.address or "",
                status=str(entry.get("status", "sending")),
                message_id=entry.get("message_id"),
                error=entry.get("error"),
                invitation=entry.get("invitation"),
            )
        )
    return tuple(out)


def _overall(outcomes: Sequence[RecipientOutcome]) -> str:
    sent = sum(1 for o in outcomes if o.status == "sent")
    if outcomes and sent == len(outcomes):
        return "sent"
    return "partial" if sent else "failed"


def _roles(outcomes: Sequence[RecipientOutcome]) -> str:
    counts = Counter(o.role for o in outcomes)
    return ", ".join(role if n == 1 else f"{n} {role}s" for role, n in counts.items())


def _reason(outcomes: Sequence[RecipientOutcome]) -> str | None:
    problems = [o for o in outcomes if o.status != "sent"]
    if not problems:
        return None
    parts = [
        f"r{o.index} ({o.role}): {o.error or 'outcome unknown, claimed but no result recorded'}"
        for o in problems
    ]
    return "; ".join(parts)


def _summary(
    notice: OutboxModel, status: str, outcomes: Sequence[RecipientOutcome], reason: str | None
) -> str:
    who = notice.student_name or notice.student_id
    where = notice.class_title or notice.class_id
    title = rule_title(notice.rule_id)
    sent = [o for o in outcomes if o.status == "sent"]
    missed = [o for o in outcomes if o.status != "sent"]
    if not outcomes:
        return f"{title} for {who} in {where} was not sent: {reason or NO_RECIPIENT}."
    if status == "sent":
        return f"{title} for {who} in {where} sent to {_roles(sent)}."
    missed_text = ", ".join(f"{o.role} ({o.error or 'outcome unknown'})" for o in missed)
    if status == "partial":
        return f"{title} for {who} in {where} sent to {_roles(sent)}; not delivered to {missed_text}."
    return f"{title} for {who} in {where} was not delivered to {missed_text}."


def _audit(
    notice: OutboxModel, status: str, outcomes: Sequence[RecipientOutcome], reason: str | None, now: datetime
) -> None:
    entry = AuditEntry(
        type="notice.failed" if status == "failed" else "notice.sent",
        actor=ACTOR,
        summary=_summary(notice, status, outcomes, reason),
        on=date.fromisoformat(notice.decided_on),
        rule_id=notice.rule_id,
        policy_version=notice.policy_version,
        program_id=notice.program_id,
        student_id=notice.student_id,
        class_id=notice.class_id,
        notice_id=notice.notice_id,
        detail={
            "status": status,
            "reason": reason,
            "kind": notice.kind,
            "episode": notice.episode,
            "decided_on": notice.decided_on,
            "due_on": notice.due_on,
            "deadlines": _plain(notice.deadlines),
            "facts": _plain(notice.facts),
            "recipients": [_recipient_detail(o) for o in outcomes],
            "reply_to": _reply_to_detail(notice),
            "signed": [n for n in (notice.program_name, notice.district_name) if n],
            "ses_message_ids": [o.message_id for o in outcomes if o.message_id],
        },
    )
    append(notice.district_id, [entry], now=now)


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


def _finish(notice: OutboxModel, now: datetime, sent_now: int) -> DeliveryResult:
    """Settle the item's status from its deliveries, audit it, and return what happened."""
    notice.refresh(consistent_read=True)
    outcomes = _outcomes(notice)
    if notice.status not in ("pending", "sending"):
        return DeliveryResult(notice.notice_id, notice.status, notice.rule_id, sent_now, outcomes)
    status = _overall(outcomes)
    reason = _reason(outcomes) if outcomes else NO_RECIPIENT
    first_id = next((o.message_id for o in outcomes if o.message_id), None)
    _audit(notice, status, outcomes, reason, now)
    _finalize(notice, status, reason, first_id, iso_instant(now))
    notice.refresh(consistent_read=True)
    return DeliveryResult(notice.notice_id, notice.status, notice.rule_id, sent_now, outcomes)


# ---------------------------------------------------------------------------------------------
# Sending


def _prepare(
    notice: OutboxModel, settings: Settings, templates_dir: Path, at: str, now: datetime
) -> list[_Prepared]:
    """Render and encode every recipient's message before anything is claimed or sent.

    A template error (or a failed read of an invitation's sources) therefore fails the whole
    record before any email goes out (the stream retries it, and it can be replayed once fixed).
    A recipient without a usable address is recorded as failed here and never reaches SES.
    """
    deliveries = _deliveries(notice)
    invitations = InvitationDrafts(notice, stamp=now)
    prepared: list[_Prepared] = []
    for index, contact in enumerate(notice.recipients or []):
        key = f"r{index}"
        if key in deliveries:
            continue
        try:
            to = parse_address(contact.address or "", contact.name)
        except InvalidAddressError:
            error = INVALID_ADDRESS if (contact.address or "").strip() else NO_RECIPIENT
            _put_delivery(notice, key, {"status": "failed", "error": error, "at": at})
            continue
        invitation = invitations.for_recipient(contact)
        extra = {"invitation": invitation.context} if invitation else None
        email = render(notice, contact, templates_dir, extra)
        # A family's answer goes to the person the notice names (catalogue: "replies go to that
        # person (Reply-To)"); staff answer the program the usual way.
        person = notice.reply_to if contact.role in FAMILY_CONTACT_ROLES else None
        message = build_message(
            sender=settings.sender_address,
            sender_name=notice.program_name,
            to_address=to.addr_spec,
            to_name=contact.name,
            subject=email.subject,
            text=email.text,
            html=email.html,
            notice_id=notice.notice_id,
            sent_at=now,
            attachments=invitation.attachments if invitation else (),
            reply_to=person.address if person is not None else None,
            reply_to_name=person.name if person is not None else None,
        )
        evidence = invitation.evidence if invitation else None
        prepared.append(_Prepared(key=key, address=to.addr_spec, raw=to_bytes(message), invitation=evidence))
    return prepared


def _send(ses_client: Any, settings: Settings, item: _Prepared) -> str:
    request: dict[str, Any] = {
        "FromEmailAddress": settings.sender_address,
        "Destination": {"ToAddresses": [item.address]},
        "Content": {"Raw": {"Data": item.raw}},
    }
    if settings.ses_configuration_set:
        request["ConfigurationSetName"] = settings.ses_configuration_set
    response = ses_client.send_email(**request)
    return str(response["MessageId"])


def deliver(
    notice_id: str,
    ses_client: Any,
    settings: Settings,
    templates_dir: Path,
    now: datetime | None = None,
) -> DeliveryResult:
    """Send the outbox notice ``notice_id`` to each of its recipients, at most once each.

    Raises the SES (or DynamoDB) error when a message could not be sent for a reason that a
    retry may fix; messages already sent are not sent again by the retry.
    """
    now = now or utc_now()
    at = iso_instant(now)
    try:
        notice = OutboxModel.get(notice_id, consistent_read=True)
    except OutboxModel.DoesNotExist:
        return DeliveryResult(notice_id, "missing")

    if notice.kind == "skipped" or notice.status in NEVER_SEND:
        return DeliveryResult(notice_id, notice.status, notice.rule_id)
    if notice.status in FINAL:
        return DeliveryResult(notice_id, notice.status, notice.rule_id, 0, _outcomes(notice))
    if notice.status not in ("pending", "sending"):
        raise ValueError(f"outbox item {notice_id} has an unknown status {notice.status!r}")
    if not notice.recipients:
        return _finish(notice, now, 0)
    if notice.status == "pending" and not _start(notice):
        return deliver(notice_id, ses_client, settings, templates_dir, now)  # look again
    notice.refresh(consistent_read=True)

    sent_now = 0
    for item in _prepare(notice, settings, templates_dir, at, now):
        if not _put_delivery(notice, item.key, {"status": "sending", "at": at}):
            continue  # another attempt owns this recipient
        try:
            message_id = _send(ses_client, settings, item)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "Unknown"))
            if code in DEFINITE_REJECTIONS:
                _settle(notice, item.key, item.settled({"status": "failed", "error": code, "at": at}))
                continue
            _release(notice, item.key)
            raise
        except Exception:
            # The request failed in this process (network, timeout…): give the claim back so
            # the stream's retry sends it. A read timeout after SES accepted the message is the
            # one case where this can mean a second copy; botocore itself retries those too.
            _release(notice, item.key)
            raise
        _settle(notice, item.key, item.settled({"status": "sent", "message_id": message_id, "at": at}))
        sent_now += 1
    return _finish(notice, now, sent_now)
