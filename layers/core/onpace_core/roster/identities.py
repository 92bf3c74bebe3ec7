"""The identity map a roster gives: every way an LMS may name a user or a class, to its sourcedId.

The ingest service resolves an event's ``Ref``s through these rows (``ingest.identity``); an
admin may load more rows for what the roster does not say (``onpace load mappings``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from onpace_core.ingest.event import Ref
from onpace_core.roster.oneroster import Roster


@dataclass(frozen=True, slots=True)
class IdentityRow:
    """``ref`` names the roster user (``kind`` "user") or class ("class") ``sourced_id``."""

    kind: Literal["user", "class"]
    ref: Ref
    sourced_id: str


def mbox_sha1sum(email: str) -> str:
    """xAPI's ``mbox_sha1sum`` of an address (SHA-1 of ``mailto:`` + the address)."""
    return hashlib.sha1(f"mailto:{email}".encode()).hexdigest()  # SHA-1 because xAPI defines it so


def identity_rows(roster: Roster) -> list[IdentityRow]:
    """Rows for every user (sourcedId, email, its mbox_sha1sum) and class (sourcedId, title)."""
    rows: list[IdentityRow] = []
    for user in roster.users.values():
        rows.append(IdentityRow("user", Ref("sourcedId", user.sourced_id), user.sourced_id))
        if user.email:
            email = user.email.strip().lower()
            rows.append(IdentityRow("user", Ref("email", email), user.sourced_id))
            rows.append(IdentityRow("user", Ref("mbox_sha1sum", mbox_sha1sum(email)), user.sourced_id))
    for klass in roster.classes.values():
        rows.append(IdentityRow("class", Ref("sourcedId", klass.sourced_id), klass.sourced_id))
        rows.append(IdentityRow("class", Ref("title", klass.title), klass.sourced_id))
    return rows
