"""Who and which class an event is about: its ``Ref``s resolved through the district's identity map.

The map holds the roster's rows (``roster.identities.identity_rows``: sourcedIds, emails and
their ``mbox_sha1sum``, userIds, usernames, class codes and titles, course codes…), saved at
each roster load, and the rows an admin loads (``onpace load mappings FILE.csv``), which win
over the roster's for the same reference. Resolution order (docs/ingest.md, "Identity mapping"):

1. Student: the event's student refs in order; the first that maps wins. When two refs map to
   different students (or one ref to several), the event is ``ambiguous`` and quarantined. A
   ``sourcedId`` no row names is taken as it is (the roster's own id; the enrollment read
   decides whether it exists), so districts loaded before the map still resolve.
2. Class: the first course ref that maps gives the candidate classes (a ``courseCode`` shared by
   sections gives them all); the service keeps those the student is enrolled in. No course at
   all (a log-in) means every active enrollment of the student.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from onpace_rules.input_files import InputFileError, read_text

from onpace_core.ingest.event import COURSE_NAMESPACES, USER_NAMESPACES, LmsEvent, Ref
from onpace_core.roster.identities import IdentityRow, mbox_sha1sum

Kind = Literal["user", "class"]
IdentityKey = tuple[str, Ref]  # (kind, ref)
IdentityMap = Mapping[IdentityKey, frozenset[str]]

MAPPING_COLUMNS = ("kind", "namespace", "value", "sourcedId")


def identity_key(district_id: str, kind: str, ref: Ref) -> str:
    """The item key of a map row (in the raw events table; event ids never start with ``identity#``
    in practice — plain ids have no ``#`` — and a clash could only touch the sender's own district)."""
    return f"{district_id}#identity#{kind}#{ref.namespace}#{ref.value}"


def normalized(ref: Ref) -> Ref:
    """Emails are compared lower-cased (the roster's rows are stored so)."""
    if ref.namespace == "email":
        return Ref("email", ref.value.strip().lower())
    return ref


def event_keys(event: LmsEvent) -> list[IdentityKey]:
    """The map rows an event's resolution may read."""
    return [("user", normalized(r)) for r in event.student] + [("class", normalized(r)) for r in event.course]


def as_map(rows: Iterable[IdentityRow]) -> dict[IdentityKey, frozenset[str]]:
    """Rows grouped by reference (a reference may name several classes)."""
    grouped: dict[IdentityKey, set[str]] = {}
    for row in rows:
        grouped.setdefault((row.kind, normalized(row.ref)), set()).add(row.sourced_id)
    return {key: frozenset(ids) for key, ids in grouped.items()}


@dataclass(frozen=True)
class Resolution:
    """``student`` and its candidate ``classes`` (None: every active enrollment), or ``reason``."""

    student: str | None = None
    classes: frozenset[str] | None = None
    reason: str | None = None


def resolve(event: LmsEvent, identities: IdentityMap) -> Resolution:
    """The student and candidate classes the event names (see the module docstring for the order)."""
    mapped: list[frozenset[str]] = []
    for ref in event.student:
        ids = identities.get(("user", normalized(ref)))
        if ids:
            mapped.append(ids)
    students = frozenset().union(*mapped) if mapped else frozenset()
    if len(students) > 1:
        return Resolution(reason="ambiguous")
    if students:
        (student,) = students
    else:
        own = next((r.value for r in event.student if r.namespace == "sourcedId"), None)
        if own is None:
            return Resolution(reason="unknown student")
        student = own
    if not event.course:
        return Resolution(student=student, classes=None)
    for ref in event.course:
        ids = identities.get(("class", normalized(ref)))
        if ids:
            return Resolution(student=student, classes=ids)
    own_class = next((r.value for r in event.course if r.namespace == "sourcedId"), None)
    if own_class is None:
        return Resolution(student=student, reason="unknown class")
    return Resolution(student=student, classes=frozenset({own_class}))


def _namespace_ok(kind: str, namespace: str) -> bool:
    if kind == "user":
        return namespace in USER_NAMESPACES or namespace.startswith(("userId:", "account:"))
    return namespace in COURSE_NAMESPACES


def read_mappings_file(path: Path) -> list[IdentityRow]:
    """An admin's mappings CSV (columns ``kind,namespace,value,sourcedId``); errors name file and line.

    An email row also maps its xAPI ``mbox_sha1sum``.
    """
    text = read_text(path, what="mappings file")
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(MAPPING_COLUMNS):
        raise InputFileError(path, f"the first line must be the header {','.join(MAPPING_COLUMNS)}", 1)
    rows: list[IdentityRow] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(MAPPING_COLUMNS):
            raise InputFileError(
                path, f"expected 4 columns ({','.join(MAPPING_COLUMNS)}), got {len(cells)}", number
            )
        kind, namespace, value, sourced_id = (c.strip() for c in cells)
        if kind not in ("user", "class"):
            raise InputFileError(path, f"kind must be user or class, not {kind!r}", number)
        if not _namespace_ok(kind, namespace):
            allowed = USER_NAMESPACES if kind == "user" else COURSE_NAMESPACES
            raise InputFileError(
                path, f"namespace {namespace!r} is not one of {', '.join(allowed)} for kind {kind}", number
            )
        if not value or not sourced_id:
            raise InputFileError(path, "value and sourcedId must not be empty", number)
        ref = normalized(Ref(namespace, value))
        typed: Kind = "user" if kind == "user" else "class"
        rows.append(IdentityRow(typed, ref, sourced_id))
        if ref.namespace == "email":
            rows.append(IdentityRow(typed, Ref("mbox_sha1sum", mbox_sha1sum(ref.value)), sourced_id))
    if not rows:
        raise InputFileError(path, "no mappings in the file")
    return rows
