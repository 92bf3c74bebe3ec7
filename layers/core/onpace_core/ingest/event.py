"""The one internal event every LMS format parses to (docs/ingest.md).

A parser (``ingest.formats.*``) knows its format and nothing about the roster: it says *who*
and *which course* in the LMS's own terms, as ``Ref``s, most specific first. The ingest service
resolves them against the district's identity map (roster ``sourcedId``s, OneRoster
``userIds``/``identifier``/``email``/``username``, class ``classCode``/``title``, course
``courseCode``, and the mappings an admin loads) before anything is folded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Namespaces of a ``Ref`` (what the value is). A parser may use ``userId:<type>`` for a OneRoster
# ``userIds`` entry and ``account:<homePage>`` for an xAPI account; the others are fixed.
USER_NAMESPACES = (
    "sourcedId",  # the roster's own id (plain JSON, Canvas SIS ids)
    "identifier",  # OneRoster users.identifier
    "username",  # OneRoster users.username; an LMS login name
    "email",  # lower-cased address, no "mailto:"
    "mbox_sha1sum",  # xAPI: SHA-1 hex of "mailto:" + address
    "canvas",  # a Canvas user id
    "iri",  # a Caliper Person id or an xAPI openid
)
COURSE_NAMESPACES = (
    "sourcedId",  # the roster class's sourcedId
    "classCode",  # OneRoster classes.classCode
    "courseCode",  # OneRoster courses.courseCode (several sections may share it)
    "title",  # OneRoster classes.title
    "canvas",  # a Canvas course id
    "iri",  # an xAPI activity id or a Caliper Organization/CourseSection id
)


@dataclass(frozen=True, slots=True)
class Ref:
    """One way the LMS names a user or a course: ``Ref("email", "ana@example.org")``."""

    namespace: str
    value: str


@dataclass(frozen=True, slots=True)
class LmsEvent:
    """One event as OnPace keeps it, whatever format it came in.

    ``kind`` is an activity kind (``onpace_rules.facts.ACTIVITY_KINDS``) or an input kind
    (``onpace_rules.inputs.INPUT_KINDS``, with its validated ``data``), or None for an event that
    is stored but counts for nothing (``ignored`` says why: a log-out, a verb no rule reads).
    ``course`` is empty for an event about the student as a whole (a log-in carries no course:
    it applies to every active enrollment of the student). ``voids`` is the ``event_id`` this
    event retracts (an xAPI ``voided`` statement). ``digest`` identifies the content, so the
    same id with other content can be refused (409) while a retry is accepted once.
    """

    event_id: str
    source: str
    occurred_at: datetime
    student: tuple[Ref, ...]
    course: tuple[Ref, ...]
    kind: str | None
    percent_complete: float | None = None
    data: Any = None
    voids: str | None = None
    ignored: str | None = None
    payload: str = ""
    digest: str = ""


def canonical_json(value: Any) -> str:
    """The JSON text two equal documents share (sorted keys, no spaces): what is digested."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_digest(value: Any) -> str:
    """SHA-256 of ``canonical_json(value)``; also the id of an event its sender gave none."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
