"""Per-district, per-source credentials of the LMS routes (xAPI Basic, Caliper Bearer).

A credential is named ``{district_id}/{key}``: the district is read from the name before any
secret is fetched, and several keys of one district and source can be active at once, so a
sender's credential can be rotated without a gap. The secrets live in Secrets Manager, one
secret per district and source, ``{webhook_secret_prefix}{district_id}/{source}``, holding::

    {"keys": {"moodle-2026a": "<secret>", "moodle-2026b": "<secret>"}}

Removing a key from the secret ends it (after the five-minute cache of the functions).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_NAME = re.compile(r"^(?P<district>[A-Za-z0-9_.-]{1,100})/(?P<key>[A-Za-z0-9_.-]{1,100})$")


class CredentialError(Exception):
    """Not a valid credential for this source; the message is safe to answer with (401)."""


@dataclass(frozen=True, slots=True)
class CredentialName:
    district_id: str
    key: str

    @classmethod
    def parse(cls, text: str) -> CredentialName:
        match = _NAME.match(text)
        if match is None:
            raise CredentialError("the credential's name must be '<district id>/<key name>'")
        return cls(match["district"], match["key"])

    def __str__(self) -> str:
        return f"{self.district_id}/{self.key}"


def secret_name(prefix: str, district_id: str, source: str) -> str:
    return f"{prefix}{district_id}/{source}"


def active_keys(secret_string: str) -> Mapping[str, str]:
    """The ``keys`` of a stored secret; a malformed secret has none (and so accepts nobody)."""
    try:
        keys = json.loads(secret_string).get("keys", {})
    except (ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}


def verify(name: CredentialName, given: str, fetch: Callable[[str], str | None]) -> None:
    """Raise CredentialError unless ``given`` is the active secret of ``name``.

    ``fetch(district_id)`` returns the district's stored secret string for this source, or None
    when none is configured. The comparison takes the same time whatever the secret.
    """
    stored = fetch(name.district_id)
    if stored is None:
        raise CredentialError(f"no credentials are configured for district {name.district_id}")
    expected = active_keys(stored).get(name.key)
    if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CredentialError(f"credential {name} is not valid")
