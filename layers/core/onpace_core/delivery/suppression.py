"""Each district's suppressed addresses: hard bounces and complaints are not written to again.

An address goes on the list when SES reports a permanent bounce or a complaint for a message to
it (``delivery/tracking.py``); notify looks up a notice's recipients in one BatchGetItem before
rendering (``delivery/sender.py``) and records a listed one ``suppressed`` instead of sending;
a district's admins list and clear the entries in the console (``/console/api/suppressions``).

Privacy: the key is the SHA-256 of the trimmed, lower-cased address, and the address itself is
not stored, only a masked form (``j***@example.org``) an admin can recognise. A hash of an email
address is not anonymous (anyone holding the address can compute it), but the list then holds
no address in plain sight for exports, backups or a console screenshot, while a lookup by the
roster's address stays one key read. Entries are per district: the same family in two districts
is two entries, and one district's admin never sees or clears another's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from onpace_core.store.models import SuppressionModel

#: Keys BatchGetItem takes per request.
BATCH = 100


def address_hash(address: str) -> str:
    """The key of ``address`` in the list (lower case: SES and mailbox providers treat the
    domain, and in practice the local part, case-insensitively)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def mask(address: str) -> str:
    """``jane.doe@example.org`` → ``j***@example.org``."""
    local, _, domain = address.strip().partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


@dataclass(frozen=True)
class Suppression:
    """One entry as the console shows it."""

    id: str  # the address hash: what DELETE takes
    masked: str
    reason: str
    detail: str | None
    role: str | None
    rule_id: str | None
    at: str


def suppressed(district_id: str, addresses: Iterable[str]) -> set[str]:
    """The hashes of those of ``addresses`` the district suppresses: one BatchGetItem per
    :data:`BATCH` distinct addresses (none for none)."""
    return listed(district_id, (address_hash(a) for a in addresses if a.strip()))


def listed(district_id: str, keys: Iterable[str]) -> set[str]:
    """Those of the sort ``keys`` the district's partition holds (address hashes, and the
    one-click opt-outs of ``delivery/unsubscribe.py``): one BatchGetItem per :data:`BATCH`."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), BATCH):
        batch = [(district_id, k) for k in wanted[start : start + BATCH]]
        found.update(item.address_hash for item in SuppressionModel.batch_get(batch))
    return found


def suppress(
    district_id: str,
    address: str,
    *,
    reason: str,
    detail: str | None,
    role: str | None,
    rule_id: str | None,
    at: str,
) -> None:
    """Put ``address`` on the district's list (one PutItem; again is harmless: the first report
    is kept, so a redelivered event changes nothing)."""
    item = SuppressionModel(
        district_id=district_id,
        address_hash=address_hash(address),
        masked=mask(address),
        reason=reason,
        detail=detail,
        role=role,
        rule_id=rule_id,
        at=at,
    )
    from pynamodb.exceptions import PutError

    try:
        item.save(condition=SuppressionModel.address_hash.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def list_suppressions(district_id: str, *, limit: int = 500) -> list[Suppression]:
    """The district's entries (one Query per 1 MB), in key order."""
    out: list[Suppression] = []
    for item in SuppressionModel.query(district_id):
        out.append(
            Suppression(
                id=item.address_hash,
                masked=item.masked,
                reason=item.reason,
                detail=item.detail,
                role=item.role,
                rule_id=item.rule_id,
                at=item.at,
            )
        )
        if len(out) >= limit:
            break
    return out


def clear(district_id: str, entry_id: str) -> bool:
    """Take the entry ``entry_id`` (an address hash) off the district's list; False when the
    district has no such entry (another district's id included)."""
    from pynamodb.exceptions import DeleteError

    item = SuppressionModel(district_id=district_id, address_hash=entry_id)
    try:
        item.delete(condition=SuppressionModel.address_hash.exists())
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
