"""One-click unsubscribe (RFC 8058) from optional courtesy notices.

Issue 12, scope 6: "optional courtesy notices carry RFC 8058 one-click unsubscribe headers". The
catalogue has one optional notice: ``cps.participation.warning``, a "courtesy warning (not in
the source; configurable, on by default)" (:data:`COURTESY_RULES`). Every other notice is
required by the program's policy and carries no such header.

**The link.** Each message of a courtesy notice to the family carries
``List-Unsubscribe: <{UNSUBSCRIBE_URL}?t={token}>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. The token names the district, the rule
id and the SHA-256 of the recipient's address (never the address) and is signed with
HMAC-SHA256 (stdlib ``hmac``) under the district's unsubscribe key: the secret
``{UNSUBSCRIBE_SECRET_PREFIX}{district}`` in Secrets Manager, as the ingest's webhook secrets are
kept per district, or ``UNSUBSCRIBE_KEY`` locally. It does not expire: a link in a months-old
email still works while the district's key is unchanged (rotating the key retires every link).
A district without a key, or a stack without ``UNSUBSCRIBE_URL``, sends its courtesy notices
without the headers.

**The opt-out** is an item of the SuppressionsTable with the sort key
``unsub#{rule id}#{address hash}`` and the reason ``unsubscribed:{rule id}``, put once with its
``notice.unsubscribed`` audit entry (one transaction; a second click writes nothing). notify
reads these keys in the same BatchGetItem as the suppression list, so the check costs no
request, and records such a recipient ``suppressed`` with the error ``unsubscribed`` (not
escalated: the family chose it). Required notices never look at these keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from onpace_core.audit.chain import Accounted, ChainWriter
from onpace_core.audit.log import AuditEntry, iso_instant
from onpace_core.delivery.suppression import address_hash
from onpace_core.settings import Settings
from onpace_core.store.models import SuppressionModel

#: Optional notices (catalogue): the only ones a family can turn off.
COURTESY_RULES = frozenset({"cps.participation.warning"})
#: Roles that receive the one-click link: the family the courtesy notice is written to.
FAMILY_ROLES = frozenset({"student", "guardian", "parent"})
ONE_CLICK = "List-Unsubscribe=One-Click"
UNSUBSCRIBED = "unsubscribed"
_VERSION = 1
_MAX_TOKEN = 600

KeyLookup = Callable[[str], bytes | None]


class InvalidToken(ValueError):
    """A token that is malformed, names no district with a key, or whose signature is wrong."""


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    district_id: str
    rule_id: str
    address_hash: str


def is_courtesy(rule_id: str) -> bool:
    return rule_id in COURTESY_RULES


def entry_key(rule_id: str, hashed: str) -> str:
    """The sort key of an opt-out in the district's SuppressionsTable partition."""
    return f"unsub#{rule_id}#{hashed}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(value: str) -> bytes:
    return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def sign(key: bytes, district_id: str, rule_id: str, address: str) -> str:
    """The token of ``address``'s opt-out from ``rule_id`` in ``district_id``."""
    body = json.dumps([_VERSION, district_id, rule_id, address_hash(address)], separators=(",", ":"))
    payload = _b64(body.encode())
    return f"{payload}.{_mac(key, payload)}"


def verify(token: str, key_for: KeyLookup) -> Claims:
    """The claims of ``token`` if its signature is right under its district's key, else
    :class:`InvalidToken` (whose message says what is wrong, never which district)."""
    if not token or len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise InvalidToken("the link is incomplete or not one of ours")
    payload, signature = token.split(".")
    try:
        version, district_id, rule_id, hashed = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidToken("the link is incomplete or not one of ours") from None
    if version != _VERSION or not all(isinstance(v, str) and v for v in (district_id, rule_id, hashed)):
        raise InvalidToken("the link is incomplete or not one of ours")
    key = key_for(district_id)
    if key is None or not hmac.compare_digest(_mac(key, payload), signature):
        raise InvalidToken("the link's signature is not valid")
    if rule_id not in COURTESY_RULES:
        raise InvalidToken("this notice cannot be turned off")
    return Claims(district_id, rule_id, hashed)


def key_lookup(settings: Settings) -> KeyLookup:
    """The district key source: ``UNSUBSCRIBE_KEY`` when set (local), else Secrets Manager
    (cached five minutes by Powertools, imported only when a key is needed)."""

    def key_for(district_id: str) -> bytes | None:
        if settings.unsubscribe_key:
            return settings.unsubscribe_key.encode()
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_secret(f"{settings.unsubscribe_secret_prefix}{district_id}", max_age=300)
        except parameters.exceptions.GetParameterError:
            return None
        return str(value).encode()

    return key_for


def headers(
    settings: Settings, key_for: KeyLookup, district_id: str, rule_id: str, role: str, address: str
) -> Mapping[str, str]:
    """The RFC 8058 headers of a message to ``address``, or none (a required notice, a staff
    recipient, no URL or no key)."""
    if rule_id not in COURTESY_RULES or role not in FAMILY_ROLES or not settings.unsubscribe_url:
        return {}
    key = key_for(district_id)
    if key is None:
        return {}
    token = sign(key, district_id, rule_id, address)
    url = f"{settings.unsubscribe_url}?{urlencode({'t': token})}"
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}


def record(claims: Claims, now: datetime) -> bool:
    """Record the opt-out with its audit entry, once; False when it was recorded already."""
    at = iso_instant(now)
    item = SuppressionModel(
        district_id=claims.district_id,
        address_hash=entry_key(claims.rule_id, claims.address_hash),
        masked="(one-click unsubscribe)",
        reason=f"{UNSUBSCRIBED}:{claims.rule_id}",
        detail="List-Unsubscribe=One-Click",
        role=None,
        rule_id=claims.rule_id,
        at=at,
    )
    entry = AuditEntry(
        type="notice.unsubscribed",
        actor="unsubscribe",
        summary=f"A family address unsubscribed from {claims.rule_id} notices (one-click link).",
        on=now.date(),
        rule_id=claims.rule_id,
        detail={"entry": item.address_hash, "reason": item.reason},
    )
    writer = ChainWriter(claims.district_id, now)
    (written,) = writer.append_with([Accounted(entry, item, SuppressionModel.address_hash.does_not_exist())])
    return written
