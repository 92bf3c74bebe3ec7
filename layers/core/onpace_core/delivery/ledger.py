"""Every write notify makes to an outbox item: the item is the ledger of the notice's delivery.

One attempt at a time may send a notice: the one holding its **lease** (``lease_token``, valid
until ``lease_until``, which is after the invocation that holds it must have ended). The claim
takes the lease with one conditional update that also returns the whole item, so no read comes
before it. While it holds the lease an attempt knows the item (nobody else writes to it), and
writes only:

- before each message, a **mark** ``deliveries.r{i} = {"status": "sending", "by": token}``
  carrying the outcomes it learned since its last write (SES's answer for the recipient before,
  addresses that could not be used): one write per email;
- at the end, **one transaction** (``audit.log.append_claimed``) with the audit entry and the
  item's final status, the last outcomes and the release of the lease: the entry exists exactly
  when the notice was settled, so it is written once whatever is retried or runs concurrently;
- when interrupted, a **flush**: the outcomes it knows, the marks of messages SES certainly did
  not accept removed, the error, and the lease given back — so that the retry can go on at once.

Every write is conditional on the lease still being ours; a write refused because it is not
raises :class:`LeaseLost` (another attempt took over after our lease ran out).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from onpace_core.audit.log import AuditEntry, Claim, append_claimed, append_claims
from onpace_core.store.models import AuditModel, OutboxModel

Settles = Mapping[str, Mapping[str, Any]]


class NotClaimed(Exception):
    """The notice could not be claimed: no such item, already settled, or another attempt's lease."""


class LeaseLost(Exception):
    """A write was refused because this attempt no longer holds the notice's lease."""


def _is_condition_failure(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def _settle_actions(settles: Settles) -> list[Action]:
    return [OutboxModel.deliveries[key].set(dict(entry)) for key, entry in sorted(settles.items())]


def _holding(token: str) -> Condition:
    return (OutboxModel.lease_token == token) & (OutboxModel.status == "sending")


def claim(
    notice_id: str,
    token: str,
    *,
    at: str,
    until: str,
    handed_over: str | None = None,
    settles: Settles | None = None,
    release: Sequence[str] = (),
) -> OutboxModel:
    """Take the notice's lease and return the item as it is now (one request).

    The lease can be taken from a ``pending`` or ``sending`` item whose lease is absent or over,
    or — ``handed_over`` — from the attempt whose token a retry message carries; ``settles`` are
    the outcomes that attempt could not write and ``release`` its marks of messages SES did not
    accept (both are written with the claim). Raises
    :class:`NotClaimed` when the condition fails.
    """
    free = OutboxModel.lease_until.does_not_exist() | (OutboxModel.lease_until < at)
    if handed_over:
        free = free | (OutboxModel.lease_token == handed_over)
    condition = OutboxModel.notice_id.exists() & OutboxModel.status.is_in("pending", "sending") & free
    actions: list[Action] = [
        OutboxModel.status.set("sending"),
        OutboxModel.lease_token.set(token),
        OutboxModel.lease_until.set(until),
        OutboxModel.attempts.add(1),
    ]
    # Setting the map and one of its entries in one update would be overlapping paths.
    if settles or release:
        actions += _settle_actions(settles or {})
        actions += [OutboxModel.deliveries[key].remove() for key in release]
    else:
        actions.append(OutboxModel.deliveries.set(OutboxModel.deliveries | {}))
    item = OutboxModel(notice_id=notice_id)
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if _is_condition_failure(error):
            raise NotClaimed(notice_id) from None
        raise
    return item


def mark(notice: OutboxModel, token: str, key: str, entry: Mapping[str, Any], settles: Settles) -> None:
    """Record ``settles`` and mark ``key`` as being sent by this attempt, before SES is called."""
    actions = [*_settle_actions(settles), OutboxModel.deliveries[key].set(dict(entry))]
    _update(notice, actions, _holding(token) & OutboxModel.deliveries[key].does_not_exist())


def flush(
    notice: OutboxModel, token: str, *, settles: Settles, release: list[str], error: Mapping[str, Any]
) -> None:
    """An interrupted attempt's last write: what it knows, what it gives back, and why it stopped."""
    actions: list[Action] = [
        *_settle_actions(settles),
        *(OutboxModel.deliveries[key].remove() for key in release),
        OutboxModel.last_error.set(dict(error)),
        OutboxModel.lease_token.remove(),
        OutboxModel.lease_until.remove(),
    ]
    _update(notice, actions, _holding(token))


def settle(
    notice: OutboxModel,
    token: str,
    entry: AuditEntry,
    *,
    settles: Settles,
    status: str,
    reason: str | None,
    first_message_id: str | None,
    at: str,
    also: Sequence[tuple[AuditEntry | None, Claim]] = (),
) -> AuditModel:
    """The notice's final status and its audit entry, in one transaction (see the module doc).

    ``also``: more entries, each with the update it accounts for, in the same transaction (a
    letter's member notices, ``delivery/letters.py``); an update without an entry (None) is
    written in the same transaction unaudited."""
    actions: list[Action] = [
        *_settle_actions(settles),
        OutboxModel.status.set(status),
        OutboxModel.status_reason.set(reason) if reason else OutboxModel.status_reason.remove(),
        OutboxModel.lease_token.remove(),
        OutboxModel.lease_until.remove(),
    ]
    if first_message_id:
        actions += [OutboxModel.ses_message_id.set(first_message_id), OutboxModel.sent_at.set(at)]
    own = Claim(notice, actions, _holding(token))
    if also:
        written = append_claims(
            notice.district_id,
            [entry, *(e for e, _ in also if e is not None)],
            [own, *(c for _, c in also)],
        )
        if written is None:
            raise LeaseLost(notice.notice_id)
        return written[0]
    stored = append_claimed(notice.district_id, entry, own)
    if stored is None:
        raise LeaseLost(notice.notice_id)
    return stored


def confirm(
    notice: OutboxModel, token: str, entry: AuditEntry, *, settles: Settles, status: str, reason: str | None
) -> AuditModel | None:
    """Record outcomes of an attempt that stopped before writing them, after the notice was
    settled without them (``unconfirmed``): only entries still marked by that attempt change,
    together with an audit entry saying so. ``None`` when there was nothing left to confirm."""
    condition: Condition | None = None
    for key in settles:
        path = OutboxModel.deliveries[key]
        marked = (path["status"] == "sending") & (path["by"] == token)
        condition = marked if condition is None else condition & marked
    if condition is None:
        return None
    actions: list[Action] = [
        *_settle_actions(settles),
        OutboxModel.status.set(status),
        OutboxModel.status_reason.set(reason) if reason else OutboxModel.status_reason.remove(),
    ]
    return append_claimed(notice.district_id, entry, Claim(notice, actions, condition))


def note_failure(notice_id: str, error: Mapping[str, Any]) -> None:
    """Record why an attempt could not even claim the notice (best effort: the item may be the
    very thing that is throttled; the retry message carries the error as well)."""
    item = OutboxModel(notice_id=notice_id)
    with contextlib.suppress(UpdateError):
        item.update(
            actions=[OutboxModel.last_error.set(dict(error))],
            condition=OutboxModel.notice_id.exists() & OutboxModel.status.is_in("pending", "sending"),
        )


def _update(notice: OutboxModel, actions: list[Action], condition: Condition) -> None:
    # A copy keyed like the notice: ``update`` loads the returned item into the instance it is
    # called on, and the caller's view of the notice is the one it keeps up to date itself.
    target = OutboxModel(notice_id=notice.notice_id)
    try:
        target.update(actions=actions, condition=condition)
    except UpdateError as error:
        if _is_condition_failure(error):
            raise LeaseLost(notice.notice_id) from None
        raise
