"""The identity map a roster gives: every way an LMS may name a user or a class, to its sourcedId.

The ingest service resolves an event's ``Ref``s through these rows (``ingest.identity``); an
admin may load more rows for what the roster does not say (``onpace load mappings``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from onpace_core.ingest.event import Ref
from onpace_core.roster.oneroster import Roster, User


@dataclass(frozen=True, slots=True)
class IdentityRow:
    """``ref`` names the roster user (``kind`` "user") or class ("class") ``sourced_id``."""

    kind: Literal["user", "class"]
    ref: Ref
    sourced_id: str


def mbox_sha1sum(email: str) -> str:
    """xAPI's ``mbox_sha1sum`` of an address (SHA-1 of ``mailto:`` + the address)."""
    return hashlib.sha1(f"mailto:{email}".encode()).hexdigest()  # SHA-1 because xAPI defines it so


def _user_rows(user: User) -> list[IdentityRow]:
    def row(namespace: str, value: str | None) -> list[IdentityRow]:
        value = (value or "").strip()
        return [IdentityRow("user", Ref(namespace, value), user.sourced_id)] if value else []

    rows = row("sourcedId", user.sourced_id)
    if user.email:
        email = user.email.strip().lower()
        rows += row("email", email) + row("mbox_sha1sum", mbox_sha1sum(email))
    rows += row("username", user.username)
    # The SIS's id (1.1 ``identifier``) and 1.2's ``userMasterIdentifier`` name the same thing: the
    # person's id in the system of record.
    rows += row("identifier", user.identifier) + row("identifier", user.master_identifier)
    for kind, ident in user.user_ids:
        rows += row(f"userId:{kind}", ident)
    return rows


def identity_rows(roster: Roster) -> list[IdentityRow]:
    """Rows for every user and class of the roster (its active rows), each distinct row once.

    Users: ``sourcedId``; ``email`` (lower-cased) and its xAPI ``mbox_sha1sum``; ``username``;
    ``identifier`` (1.1 ``identifier`` and 1.2 ``userMasterIdentifier``); each ``userIds`` item
    ``{type:id}`` as ``userId:<type>``. Classes: ``sourcedId``; ``classCode``; ``title``; and
    the ``courseCode`` of its course (courses.csv), which names every class of the course.
    """
    rows: list[IdentityRow] = []
    for user in roster.users.values():
        rows.extend(_user_rows(user))
    for klass in roster.classes.values():
        rows.append(IdentityRow("class", Ref("sourcedId", klass.sourced_id), klass.sourced_id))
        if klass.class_code:
            rows.append(IdentityRow("class", Ref("classCode", klass.class_code), klass.sourced_id))
        rows.append(IdentityRow("class", Ref("title", klass.title), klass.sourced_id))
        course = roster.courses.get(klass.course_sourced_id or "")
        if course is not None and course.course_code:
            rows.append(IdentityRow("class", Ref("courseCode", course.course_code), klass.sourced_id))
    return list(dict.fromkeys(rows))
