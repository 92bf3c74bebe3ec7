"""Deliver one outbox notice: one SES message per recipient, none sent twice, audited exactly once.

The outbox item is the ledger (``delivery/ledger.py``). An attempt first claims the notice's
lease (one conditional update that returns the item), renders every message, and then for each
recipient marks it ``sending`` before calling SES — the same write records SES's answer for
the recipient before — and settles the notice and writes its audit entry in one transaction.
A notice to ``n`` recipients so costs ``n + 4`` DynamoDB requests (the audit chain's head and the
suppression list are two of them; a warning adds its re-check's GetItem), where it cost ``2n + 8``
before.

What happens on each fault (``docs/operations.md``, "Delivery faults"):

- Another attempt holds the lease (a duplicate stream record, a concurrent retry): nothing is
  written; the result is ``sending`` with ``retry_after``, the seconds until that lease ends.
- An error before a message was accepted (a throttled claim or mark, a template error, SES
  throttling or a 5xx): the attempt writes what it knows, gives back the recipient it was
  sending to and the lease (one *flush* write), and re-raises; the retry sends the rest.
- The flush itself fails (the item is throttled): :class:`Interrupted` carries what the attempt
  knows (its token, SES's answers, the marks to give back) for the retry to write first.
- The attempt dies after SES accepted a message and before recording it: that recipient stays
  marked by it; once its lease is over, the next attempt sends the others and settles the notice
  as ``unconfirmed`` for that recipient (never as failed or partial, and never sending again).
- SES rejects a recipient for good (``DEFINITE_REJECTIONS``): recorded ``failed``, no retry.
- SES refuses every send (``SENDING_BLOCKED``: the account's or the configuration set's sending
  paused, the MAIL FROM domain not verified, the account suspended): the recipients not yet sent
  are recorded ``failed`` with that code and the notice is settled and audited at once, without
  a retry (it would fail the same way until an operator acts); the result's ``blocked`` says so
  and the ``SesSendingBlocked`` metric raises an alarm. Throttling and 5xx keep the retry path.
- A recipient on the district's suppression list (``delivery/suppression.py``: one BatchGetItem
  per 100 recipients, before rendering) is recorded ``suppressed`` and not sent; once the notice
  is settled, a suppressed family recipient is escalated to the next contact
  (``delivery/escalation.py``; again, harmlessly, by a retry that finds the notice settled).
- A courtesy notice (``delivery/unsubscribe.py``) carries RFC 8058 one-click unsubscribe headers
  to the family, and a recipient who unsubscribed from its rule (looked up in the same
  BatchGetItem) is recorded ``suppressed`` with the error ``unsubscribed``, not escalated.

Every message carries the configuration set (its events reach ``delivery/tracking.py``) and
tags naming the notice and the recipient (``tracking.message_tags``), and is kept exactly as
handed to SES (``delivery/sent_mail.py``) after its recipient is marked and before the SES call;
the mark and the recorded answer name the object (``deliveries.r{i}.mail``). A message that
cannot be kept is given back unsent, like one SES throttled.

Lifecycle of the item: ``pending`` → ``sending`` → ``sent`` | ``partial`` | ``failed`` |
``unconfirmed`` | ``cancelled``. ``skipped``, ``suppressed`` and ``recorded`` items are never sent.

A warning is re-checked after the claim and before anything is rendered (``delivery/recheck.py``,
the engine's ``onpace_rules.recheck``): when the student re-engaged since the evaluation, the notice
is settled ``cancelled`` (reason ``resolved``) with a ``notice.cancelled`` audit entry, in the
same transaction as ever, and nothing is sent. That costs one GetItem of the enrollment per
warning; other notices are not re-checked.

A Chicago meeting plan's email to the instructor carries the meeting invitation as an ``.ics``
attachment (``delivery/invitation.py``), built with every other message after the claim from the
notice and ``now``; its UID depends on the notice only, so the message a retry rebuilds is the
same calendar entry. What was attached is settled with the delivery (``deliveries.r{i}.invitation``)
and so reaches the audit entry.

A **letter** (``kind == "letter"``, ``delivery/letters.py``) is delivered the same way: its
member notices are read with it (one BatchGetItem), its one message is their digest (or the one
notice's own email), and the settle transaction also writes each member's outcome and audit
entry (``ledger.settle``'s ``also``). Before rendering, its warning members are re-checked (one
BatchGetItem of their enrollments, ``recheck.resolved_members``): resolved ones are left out and
settled ``cancelled`` in the same transaction (``letters.cancel_members``), and a letter with no
member left sends nothing. Courtesy members of a rule its address opted out of are left out and
settled ``suppressed``/``unsubscribed``; a letter of courtesy members of one rule carries its
one-click headers. A suppressed recipient escalates each member notice, never the letter
(``escalation.after_letter``); the letter's one text is ``s0`` on the letter (``sms.about``).

Every email of a notice that states a deadline (appeal, IPR, last day to act, drop, withdrawal,
removal, re-enrollment…) carries ``deadline.ics``, one ``METHOD:PUBLISH`` VEVENT per deadline
(``delivery/deadlines.py``): built from the item alone, so it costs no request, and its UIDs and
DTSTAMP depend on the notice only, so a retry sends the same entries.

Text messages (``delivery/sms.py``): after the emails and under the same lease, each recipient
who chose texts gets one (``deliveries.s{i}``, marked before the SNS call like an email); one due
in the program's quiet hours is recorded ``deferred``, and an attempt that finds the notice
settled sends the deferred texts whose time has come (``_not_claimed``). Texts never change the
notice's status; its audit entry lists them (``detail.texts``).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from onpace_core.audit.log import iso_instant, utc_now
from onpace_core.delivery import (
    escalation,
    ledger,
    letters,
    recheck,
    sent_mail,
    sms,
    suppression,
    unsubscribe,
)
from onpace_core.delivery.deadlines import deadline_attachment
from onpace_core.delivery.evidence import (
    INVALID_ADDRESS,
    NO_RECIPIENT,
    SUPPRESSED,
    RecipientOutcome,
    audit_entry,
    outcomes,
    overall,
    plain,
    reason,
)
from onpace_core.delivery.invitation import InvitationDrafts
from onpace_core.delivery.mime import InvalidAddressError, build_message, parse_address, to_bytes
from onpace_core.delivery.tracking import message_tags
from onpace_core.notices.render import render
from onpace_core.settings import Settings
from onpace_core.store.models import OutboxModel

__all__ = [
    "DEFINITE_REJECTIONS",
    "ClaimFailed",
    "DeliveryResult",
    "Handover",
    "Interrupted",
    "RecipientOutcome",
    "deliver",
]

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

#: SES error codes that refuse every message whatever its recipient: retrying cannot help until an
#: operator acts, and sending to the notice's other recipients would fail the same way.
SENDING_BLOCKED = frozenset(
    {
        "AccountSendingPausedException",
        "AccountSendingPaused",
        "SendingPausedException",
        "ConfigurationSetSendingPausedException",
        "ConfigurationSetSendingPaused",
        "MailFromDomainNotVerifiedException",
        "MailFromDomainNotVerified",
        "AccountSuspendedException",
        "AccountSuspended",
    }
)

NEVER_SEND = frozenset({"skipped", "suppressed", "recorded", recheck.CANCELLED})
FINAL = frozenset({"sent", "partial", "failed", "unconfirmed"})
# Roster roles of the student's family: their messages carry the contact person's Reply-To.
FAMILY_CONTACT_ROLES = frozenset({"student", "guardian", "parent"})

#: Time an attempt may take when the caller does not say (Lambda's longest timeout).
DEFAULT_TIME_LEFT = 900.0
#: A lease ends this long after its invocation must have ended (clocks of two hosts differ).
LEASE_MARGIN = timedelta(seconds=30)
#: No message is started with less time left than this: the answer must be recorded in time.
SEND_MARGIN = 5.0


@dataclass(frozen=True)
class DeliveryResult:
    """What ``deliver`` found and did.

    ``status`` is the item's status afterwards (``missing`` when there is no such item;
    ``sending`` with ``retry_after`` when another attempt holds the notice); ``sent_now`` counts
    the messages SES accepted during this call only.
    """

    notice_id: str
    status: str
    rule_id: str | None = None
    sent_now: int = 0
    outcomes: tuple[RecipientOutcome, ...] = ()
    retry_after: float | None = None
    blocked: str | None = None  # the SENDING_BLOCKED code that stopped the notice, if any
    resolved_by: Mapping[str, Any] | None = None  # a warning cancelled by this call: what resolved it
    # What escalating each suppressed family recipient did (escalated, already, none).
    escalations: tuple[str, ...] = ()
    texts_sent: int = 0  # text messages SNS accepted during this call (delivery/sms.py)
    texts_after: str | None = None  # a deferred text's first allowed instant, still to come
    letter_notices: int = 0  # a letter's: the notices it carried (delivery/letters.py)
    letter_cancelled: int = 0  # a letter's: member notices the re-check at send cancelled

    @property
    def message_ids(self) -> tuple[str, ...]:
        return tuple(o.message_id for o in self.outcomes if o.message_id)


@dataclass(frozen=True)
class Handover:
    """What an interrupted attempt could not write, for the retry to write first."""

    token: str
    settles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    release: Sequence[str] = ()


class Interrupted(Exception):
    """Delivery stopped and the attempt could not record what it knew: the retry must carry it."""

    def __init__(self, notice_id: str, code: str, handover: Handover) -> None:
        super().__init__(f"delivery interrupted ({code}); the retry carries what was not written")
        self.notice_id = notice_id
        self.code = code
        self.handover = handover


class ClaimFailed(Exception):
    """The claim could not be made (a throttle, an outage): nothing was written, nothing handed
    over was applied — a retry must carry the handover again."""

    def __init__(self, notice_id: str, code: str) -> None:
        super().__init__(f"the notice could not be claimed ({code})")
        self.notice_id = notice_id
        self.code = code


class DeadlineNear(Exception):
    """Too little time is left to send another message and record SES's answer."""


@dataclass(frozen=True)
class _Prepared:
    key: str
    address: str
    raw: bytes
    invitation: Mapping[str, Any] | None = None

    def settled(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The delivery entry, with what the message carried when it carried an invitation."""
        return {**entry, "invitation": dict(self.invitation)} if self.invitation else entry


def error_code(error: BaseException) -> str:
    """The AWS error code of ``error`` (never its message: a message may quote an address)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    if isinstance(error, PynamoDBException) and error.cause_response_code:
        return str(error.cause_response_code)
    return type(error).__name__


# ---------------------------------------------------------------------------------------------
# Rendering and sending


def _prepare(
    notice: OutboxModel,
    settings: Settings,
    templates_dir: Path,
    at: str,
    now: datetime,
    *,
    deliveries: Mapping[str, Any] | None = None,
    learned: dict[str, dict[str, Any]] | None = None,
    members: Sequence[letters.Member] | None = None,
    opted_out: set[str] | None = None,
) -> list[_Prepared]:
    """Render and encode every message still to send (no entry in ``deliveries``, by default the
    notice's) before any is sent.

    A template error (or a failed read of an invitation's sources) therefore stops the notice
    before any email goes out (the retry renders again, and it can be re-driven once fixed). A
    recipient without a usable address goes into ``learned`` as failed and never reaches SES.
    """
    deliveries = plain(notice.deliveries) if deliveries is None else deliveries
    learned = {} if learned is None else learned
    invitations = InvitationDrafts(notice, stamp=now)
    # The notice's deadlines as one calendar (``deadline.ics``), the same for every recipient.
    calendar = deadline_attachment(notice)
    prepared: list[_Prepared] = []
    addresses: dict[str, str] = {}
    for index, contact in enumerate(notice.recipients or []):
        key = f"r{index}"
        if key in deliveries:
            continue
        try:
            addresses[key] = parse_address(contact.address or "", contact.name).addr_spec
        except InvalidAddressError:
            error = INVALID_ADDRESS if (contact.address or "").strip() else NO_RECIPIENT
            learned[key] = {"status": "failed", "error": error, "at": at}
    # One BatchGetItem for every recipient still to send (per 100), before anything is rendered;
    # a courtesy notice looks up its recipients' one-click opt-outs in the same request.
    courtesy = unsubscribe.is_courtesy(notice.rule_id)
    hashes = {key: suppression.address_hash(address) for key, address in addresses.items()}
    opt_outs = {k: unsubscribe.entry_key(notice.rule_id, h) for k, h in hashes.items()} if courtesy else {}
    # A letter: its courtesy members' opt-outs (rule by rule) for its one recipient, same request.
    member_rules = sorted(
        {m.notice.rule_id for m in members or [] if unsubscribe.is_courtesy(m.notice.rule_id)}
    )
    member_opt_outs = {
        (k, rule): unsubscribe.entry_key(rule, h) for k, h in hashes.items() for rule in member_rules
    }
    keys = [*hashes.values(), *opt_outs.values(), *member_opt_outs.values()]
    listed = suppression.listed(notice.district_id, keys) if keys else set()
    key_for = unsubscribe.key_lookup(settings)
    for index, contact in enumerate(notice.recipients or []):
        key = f"r{index}"
        if key not in addresses:
            continue
        if hashes[key] in listed:
            learned[key] = {"status": "suppressed", "error": SUPPRESSED, "at": at}
            continue
        if opt_outs.get(key) in listed:
            learned[key] = {"status": "suppressed", "error": unsubscribe.UNSUBSCRIBED, "at": at}
            continue
        to = parse_address(contact.address or "", contact.name)
        rule_id = notice.rule_id
        if members is not None:  # a letter: its members' notices, as one email (letters.py)
            # Courtesy members of a rule the address opted out of are left out (the caller
            # settles them ``suppressed``/``unsubscribed``); nothing left, nothing is sent.
            out = {rule for (k, rule), entry in member_opt_outs.items() if k == key and entry in listed}
            if opted_out is not None:
                opted_out.update(out)
            carried = [m for m in members if m.notice.rule_id not in out]
            if not carried:
                learned[key] = {"status": "suppressed", "error": unsubscribe.UNSUBSCRIBED, "at": at}
                continue
            # A letter of courtesy notices only, of one rule, carries that rule's one-click link.
            rules = {m.notice.rule_id for m in carried}
            if len(rules) == 1 and all(unsubscribe.is_courtesy(r) for r in rules):
                rule_id = next(iter(rules))
            content = letters.letter_email(notice, carried, contact, templates_dir, now)
            email, attached, person = content.email, content.attachments, content.reply_to
            evidence = content.invitation
        else:
            invitation = invitations.for_recipient(contact)
            extra = {"invitation": invitation.context} if invitation else None
            email = render(notice, contact, templates_dir, extra)
            # A family's answer goes to the person the notice names (catalogue: "replies go to
            # that person (Reply-To)"); staff answer the program the usual way.
            person = notice.reply_to if contact.role in FAMILY_CONTACT_ROLES else None
            attached = (
                *(invitation.attachments if invitation else ()),
                *((calendar,) if calendar is not None else ()),
            )
            evidence = invitation.evidence if invitation else None
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
            attachments=attached,
            reply_to=person.address if person is not None else None,
            reply_to_name=person.name if person is not None else None,
            headers=unsubscribe.headers(
                settings, key_for, notice.district_id, rule_id, contact.role, to.addr_spec
            ),
        )
        prepared.append(_Prepared(key=key, address=to.addr_spec, raw=to_bytes(message), invitation=evidence))
    return prepared


def _send(ses_client: Any, settings: Settings, notice_id: str, item: _Prepared) -> str:
    request: dict[str, Any] = {
        "FromEmailAddress": settings.sender_address,
        "Destination": {"ToAddresses": [item.address]},
        "Content": {"Raw": {"Data": item.raw}},
    }
    tags = message_tags(notice_id, item.key)
    if tags:
        request["EmailTags"] = tags
    if settings.ses_configuration_set:
        request["ConfigurationSetName"] = settings.ses_configuration_set
    response = ses_client.send_email(**request)
    return str(response["MessageId"])


# ---------------------------------------------------------------------------------------------
# One attempt that holds the lease


class _Attempt:
    def __init__(self, notice: OutboxModel, token: str, at: str, deadline: float) -> None:
        self.notice = notice
        self.token = token
        self.at = at
        self.deadline = deadline
        self.deliveries: dict[str, dict[str, Any]] = plain(notice.deliveries)
        self.learned: dict[str, dict[str, Any]] = {}  # outcomes not written yet
        self.release: list[str] = []  # marks of messages SES certainly did not accept
        self.sent_now = 0
        self.blocked: str | None = None
        self.members: list[letters.Member] | None = None  # a letter's (delivery/letters.py)
        # A letter's members the re-check at send found resolved, and why (delivery/recheck.py).
        self.dropped: list[letters.Member] = []
        self.cancellations: dict[str, recheck.Cancellation | None] = {}
        self.unsubscribed: list[letters.Member] = []  # courtesy members the address opted out of

    def run(
        self, ses_client: Any, settings: Settings, templates_dir: Path, now: datetime, sns_client: Any = None
    ) -> DeliveryResult:
        if self.notice.kind == letters.LETTER:
            members = letters.members_of(self.notice)
            # Re-check the warning members until the letter's message was accepted (an attempt
            # that died before recording its answer re-checks the same, resolved stays resolved).
            if not any(e.get("status") == "sent" for e in self.deliveries.values()):
                self.cancellations = recheck.resolved_members([m.notice for m in members], now)
            self.members = [m for m in members if m.notice.notice_id not in self.cancellations]
            self.dropped = [m for m in members if m.notice.notice_id in self.cancellations]
            if not self.members:
                return self.cancel_letter()
        else:
            # Re-check at send: only before the first message (a notice partly sent is finished).
            cancellation = None if self.deliveries else recheck.resolved_at_send(self.notice, now)
            if cancellation is not None:
                return self.cancel(cancellation)
        opted_out: set[str] = set()
        prepared = _prepare(
            self.notice,
            settings,
            templates_dir,
            self.at,
            now,
            deliveries=self.deliveries,
            learned=self.learned,
            members=self.members,
            opted_out=opted_out,
        )
        if opted_out and self.members is not None:
            # Courtesy members the address unsubscribed from: settled apart, never in the email.
            self.unsubscribed = [m for m in self.members if m.notice.rule_id in opted_out]
            self.members = [m for m in self.members if m.notice.rule_id not in opted_out]
        for position, item in enumerate(prepared):
            if time.monotonic() > self.deadline:
                raise DeadlineNear(item.key)
            kept = self._kept(settings, item)
            entry = {"status": "sending", "at": self.at, "by": self.token, **kept}
            ledger.mark(self.notice, self.token, item.key, entry, self.learned)
            self._written()
            self.deliveries[item.key] = entry
            self._keep(settings, item)
            try:
                message_id = _send(ses_client, settings, self.notice.notice_id, item)
            except ClientError as error:
                code = error_code(error)
                if code in SENDING_BLOCKED:
                    # Nobody can be sent to: the rest are failed with the same code, unsent.
                    failed = {"status": "failed", "error": code, "at": self.at}
                    for rest in prepared[position:]:
                        self.learned[rest.key] = rest.settled(dict(failed))
                    self.blocked = code
                    break
                if code in DEFINITE_REJECTIONS:
                    self.learned[item.key] = item.settled({"status": "failed", "error": code, "at": self.at})
                    continue
                self.release.append(item.key)
                raise
            except Exception:
                # The request failed in this process (network, timeout…): give the mark back so
                # the retry sends it. A read timeout after SES accepted the message is the one
                # case where this can mean a second copy; botocore itself retries those too.
                self.release.append(item.key)
                raise
            sent = {"status": "sent", "message_id": message_id, "at": self.at, **kept}
            self.learned[item.key] = item.settled(sent)
            self.sent_now += 1
        # Text messages to those who chose them, after the emails, under the same lease.
        texts = sms.send_texts(self, sns_client, settings, templates_dir, now)
        result = self.settle()
        # Opted-out texts are audited once settled; texts deferred by an earlier attempt may be due.
        later = sms.after_settled(self.notice, sns_client, settings, templates_dir, now, self.deliveries)
        after = min((a for a in (texts.after, later.after) if a), default=None)
        return replace(result, texts_sent=texts.sent_now + later.sent_now, texts_after=after)

    def _kept(self, settings: Settings, item: _Prepared) -> dict[str, str]:
        """Where the message will be kept (``deliveries.r{i}.mail``, ``delivery/sent_mail.py``)."""
        if not settings.sent_mail_bucket:
            return {}
        return {sent_mail.FIELD: sent_mail.mail_key(self.notice.district_id, self.notice.notice_id, item.key)}

    def _keep(self, settings: Settings, item: _Prepared) -> None:
        """The message as handed to SES, kept before the call, so a sent message is always kept;
        one that cannot be kept is given back unsent (the retry keeps and sends it)."""
        try:
            sent_mail.keep(sent_mail.store_for(settings), self.notice, item.key, item.raw)
        except Exception:
            self.release.append(item.key)
            raise

    def _written(self) -> None:
        self.deliveries.update(self.learned)
        self.learned = {}

    written = _written  # for the texts (``sms.Holder``)

    def settle(self) -> DeliveryResult:
        found = outcomes(self.notice, {**self.deliveries, **self.learned})
        status = overall(found)
        why = reason(found)
        first_id = next((o.message_id for o in found if o.message_id), None)
        letter = self.members is not None
        entry = (letters.letter_entry if letter else audit_entry)(self.notice, status, found, why)
        ledger.settle(
            self.notice,
            self.token,
            sms.with_texts(entry, self.notice, {**self.deliveries, **self.learned}),
            settles=self.learned,
            status=status,
            reason=why,
            first_message_id=first_id,
            at=self.at,
            # A letter settles its member notices with it, each with its own audit entry.
            also=[
                *letters.settle_members(self.notice, self.members or [], found, self.at),
                *letters.cancel_members(self.notice, self.dropped, self.cancellations, self.at),
                *letters.settle_members(self.notice, self.unsubscribed, self._opted_out(found), self.at),
            ]
            if letter
            else (),
        )
        self._written()
        carried = len({m.notice.notice_id for m in self.members or []})
        return DeliveryResult(
            self.notice.notice_id,
            status,
            self.notice.rule_id,
            self.sent_now,
            found,
            blocked=self.blocked,
            letter_notices=carried,
            letter_cancelled=len({m.notice.notice_id for m in self.dropped}),
        )

    def _opted_out(self, found: Sequence[RecipientOutcome]) -> list[RecipientOutcome]:
        """The outcome the unsubscribed members are settled with: ``suppressed``/``unsubscribed``."""
        if not self.unsubscribed or not found:
            return []
        return [replace(found[0], status="suppressed", message_id=None, error=unsubscribe.UNSUBSCRIBED)]

    def cancel_letter(self) -> DeliveryResult:
        """Settle a letter all of whose members the re-check found resolved: nothing is sent, the
        letter is ``cancelled``/``resolved`` and each member notice is cancelled and audited."""
        cancelled = len({m.notice.notice_id for m in self.dropped})
        ledger.settle(
            self.notice,
            self.token,
            letters.letter_cancelled_entry(self.notice, cancelled),
            settles=self.learned,
            status=recheck.CANCELLED,
            reason=recheck.RESOLVED,
            first_message_id=None,
            at=self.at,
            also=letters.cancel_members(self.notice, self.dropped, self.cancellations, self.at),
        )
        return DeliveryResult(
            self.notice.notice_id, recheck.CANCELLED, self.notice.rule_id, letter_cancelled=cancelled
        )

    def cancel(self, cancellation: recheck.Cancellation) -> DeliveryResult:
        """Settle a warning the re-check found resolved: ``cancelled``, nothing sent, audited."""
        ledger.settle(
            self.notice,
            self.token,
            recheck.cancelled_entry(self.notice, cancellation),
            settles=self.learned,
            status=recheck.CANCELLED,
            reason=recheck.RESOLVED,
            first_message_id=None,
            at=self.at,
        )
        return DeliveryResult(
            self.notice.notice_id,
            recheck.CANCELLED,
            self.notice.rule_id,
            resolved_by=cancellation.evidence(),
        )

    def lost(self) -> DeliveryResult | None:
        """After a write refused for want of the lease: when this attempt knows nothing the item
        lacks, it simply steps aside for the attempt that holds the notice now."""
        if self.learned or self.release:
            return None
        found = outcomes(self.notice, self.deliveries)
        return DeliveryResult(
            self.notice.notice_id, "sending", self.notice.rule_id, 0, found, retry_after=0.0
        )

    def interrupt(self, error: Exception) -> None:
        """Write what this attempt knows and give the notice back; :class:`Interrupted` if it cannot."""
        code = error_code(error)
        if not isinstance(error, ledger.LeaseLost):
            try:
                ledger.flush(
                    self.notice,
                    self.token,
                    settles=self.learned,
                    release=self.release,
                    error={"code": code, "at": self.at},
                )
                return
            except Exception:  # whatever stopped the flush, the retry must carry what it knows
                pass
        handover = Handover(self.token, dict(self.learned), tuple(self.release))
        raise Interrupted(self.notice.notice_id, code, handover) from error


# ---------------------------------------------------------------------------------------------
# Entry point


def deliver(
    notice_id: str,
    ses_client: Any,
    settings: Settings,
    templates_dir: Path,
    now: datetime | None = None,
    *,
    time_left: float | None = None,
    handover: Handover | None = None,
    sns_client: Any = None,
) -> DeliveryResult:
    """Send the outbox notice ``notice_id`` to each of its recipients, at most once each.

    ``time_left`` is how long this attempt may run (the invocation's remaining time); the lease
    ends :data:`LEASE_MARGIN` after it. ``handover`` is what an interrupted attempt passed on.
    ``sns_client``: text messages go out only with one (``delivery/sms.py``).
    Raises the error that stopped delivery after recording what it could (the retry sends the
    rest), or :class:`Interrupted` when even that could not be recorded.
    """
    now = now or utc_now()
    at = iso_instant(now)
    seconds = DEFAULT_TIME_LEFT if time_left is None else time_left
    token = uuid.uuid4().hex
    try:
        notice = ledger.claim(
            notice_id,
            token,
            at=at,
            until=iso_instant(now + timedelta(seconds=seconds) + LEASE_MARGIN),
            handed_over=handover.token if handover else None,
            settles=handover.settles if handover else None,
            release=handover.release if handover else (),
        )
    except ledger.NotClaimed:
        return _not_claimed(notice_id, now, handover, sms.Later(sns_client, settings, templates_dir))
    except Exception as error:
        code = error_code(error)
        ledger.note_failure(notice_id, {"code": code, "at": at})
        raise ClaimFailed(notice_id, code) from error
    attempt = _Attempt(notice, token, at, deadline=time.monotonic() + seconds - SEND_MARGIN)
    try:
        result = attempt.run(ses_client, settings, templates_dir, now, sns_client)
    except ledger.LeaseLost as error:
        stepped_aside = attempt.lost()
        if stepped_aside is not None:
            return stepped_aside
        attempt.interrupt(error)
        raise
    except Exception as error:
        attempt.interrupt(error)
        raise
    # After the settle: an error here is retried, and the retry escalates from _not_claimed.
    if attempt.members is not None:
        carried = [(m.notice, m.key) for m in attempt.members]
        escalated = escalation.after_letter(carried, result.outcomes, now)
    else:
        escalated = escalation.after_delivery(notice, result.outcomes, now)
    return dataclasses.replace(result, escalations=tuple(e.outcome for e in escalated))


def _not_claimed(
    notice_id: str, now: datetime, handover: Handover | None, texts: sms.Later | None = None
) -> DeliveryResult:
    """Why the claim failed, from the item as it is (one read)."""
    try:
        current = OutboxModel.get(notice_id, consistent_read=True)
    except OutboxModel.DoesNotExist:
        return DeliveryResult(notice_id, "missing")
    if current.kind == "skipped" or current.status in NEVER_SEND:
        return DeliveryResult(notice_id, current.status, current.rule_id)
    deliveries = plain(current.deliveries)
    if current.status in FINAL:
        if handover is not None and handover.settles:
            deliveries = _confirm(current, deliveries, handover) or deliveries
        found = outcomes(current, deliveries)
        # A retry of an attempt that settled the notice but did not finish its escalations.
        if current.kind == letters.LETTER:
            # The members are read only when the letter's recipient was suppressed.
            if any(o.status == "suppressed" and o.error == SUPPRESSED for o in found):
                escalation.after_letter(_carried(current), found, now)
        else:
            escalation.after_delivery(current, found, now)
        done = texts.finish(current, now) if texts is not None else sms.Texts()
        return DeliveryResult(
            notice_id,
            overall(found),
            current.rule_id,
            0,
            found,
            texts_sent=done.sent_now,
            texts_after=done.after,
        )
    if current.status in ("pending", "sending"):
        until = current.lease_until
        left = (datetime.fromisoformat(until) - now).total_seconds() if until else 0.0
        found = outcomes(current, deliveries)
        return DeliveryResult(notice_id, "sending", current.rule_id, 0, found, retry_after=max(0.0, left))
    raise ValueError(f"outbox item {notice_id} has an unknown status {current.status!r}")


def _carried(letter: OutboxModel) -> list[tuple[OutboxModel, str]]:
    """A settled letter's members its message carried (not those the re-check cancelled)."""
    carried = []
    for member in letters.members_of(letter):
        entry = plain(member.notice.deliveries).get(member.key) or {}
        if entry.get("letter") == letter.notice_id and entry.get("status") != recheck.CANCELLED:
            carried.append((member.notice, member.key))
    return carried


def _confirm(
    notice: OutboxModel, deliveries: dict[str, dict[str, Any]], handover: Handover
) -> dict[str, dict[str, Any]] | None:
    """SES's answers an interrupted attempt handed over, for a notice settled without them."""
    settles = {
        key: dict(entry)
        for key, entry in handover.settles.items()
        if deliveries.get(key, {}).get("status") == "sending" and deliveries[key].get("by") == handover.token
    }
    if not settles:
        return None
    merged = {**deliveries, **settles}
    found = outcomes(notice, merged)
    status = overall(found)
    why = reason(found)
    entry = audit_entry(notice, status, found, why, type_="notice.confirmed")
    if ledger.confirm(notice, handover.token, entry, settles=settles, status=status, reason=why) is None:
        return None
    return merged
