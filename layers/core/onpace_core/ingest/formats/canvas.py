"""Canvas Live Events in Canvas's own format (docs/ingest.md, "Canvas Live Events").

Canvas Data Services sends each event as one JSON object ``{"metadata": {...}, "body": {...}}``:
as the claims of an RS256 JWT over HTTPS, or as the raw message body on SQS. ``metadata`` says
who acted, where (``context_type``/``context_id``), in which root account and when
(``event_time``); ``body`` is the event's own fields. This parser is pure: one message in, one
``LmsEvent`` out, or ``CanvasFormatError``/``LimitError`` naming what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from onpace_core.ingest.event import LmsEvent, Ref, canonical_json, content_digest
from onpace_core.ingest.limits import MAX_EVENT_BYTES, LimitError, check_instant, check_text
from onpace_core.ingest.sources import CANVAS

SOURCE = CANVAS

# Canvas truncates every free-text field of a live event to this many characters
# (``LiveEvents.truncate``; "NOTE: This field will be truncated" in the event docs), so a longer
# one is not a Canvas event.
CANVAS_TEXT_LIMIT = 8192
# Ids, logins, SIS ids, event names: far shorter than this in any Canvas.
_ID_LIMIT = 256
# A Canvas "global id" is shard * 10^13 + the id local to the shard; events carry either form.
_SHARD_FACTOR = 10**13
_STUDENT_ROLE = "StudentEnrollment"

_ROSTER_REASON = "the roster is the source of enrollments"
_GRADE_REASON = (
    "grades come from the SIS as final_grade inputs; a Canvas gradebook change is one assignment's "
    "score, not a course's final grade"
)


class CanvasFormatError(ValueError):
    """The message is not a Canvas live event OnPace can read; the message says why (400)."""

    status = 400  # the parsers' contract (docs/ingest.md, "Limits"): every refusal carries its 4xx


# ---------------------------------------------------------------------------------------------
# Reading fields.


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CanvasFormatError(f"{where} must be a JSON object")
    return value


def _text(container: Mapping[str, Any], key: str, where: str, limit: int = _ID_LIMIT) -> str | None:
    """A string (or number: Canvas stringifies ids, but not always) field, checked; None if absent."""
    value = container.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CanvasFormatError(f"{where}.{key} must be a string")
    return check_text(str(value), f"{where}.{key}", limit)


def _count(container: Mapping[str, Any], key: str, where: str) -> int | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CanvasFormatError(f"{where}.{key} must be a whole number ≥ 0")
    return value


def _instant(text: str, where: str) -> datetime:
    # Canvas writes ISO 8601 with "Z" ("2019-11-01T19:11:21.419Z"); a few job-emitted events use
    # Ruby's "2019-11-05 07:38:00 -0800".
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        try:
            at = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise CanvasFormatError(f"{where} {text!r} is not a date-time") from None
    if at.tzinfo is None:
        raise CanvasFormatError(f"{where} {text!r} has no time zone")
    return at


def _shard(metadata: Mapping[str, Any]) -> int | None:
    root = metadata.get("root_account_id")
    text = str(root) if isinstance(root, str | int) and not isinstance(root, bool) else ""
    return int(text) // _SHARD_FACTOR if text.isdigit() and int(text) >= _SHARD_FACTOR else None


def canvas_id_forms(value: str, shard: int | None) -> tuple[str, ...]:
    """The id as given, then its other form: local for a global id, global (with the root
    account's shard) for a local one. Canvas puts both forms in events (a discussion entry's
    ``body.user_id`` is local, ``metadata.user_id`` global), and an admin's mapping may use either."""
    if not value.isdigit():
        return (value,)
    number = int(value)
    if number >= _SHARD_FACTOR:
        return (value, str(number % _SHARD_FACTOR))
    if shard:
        return (value, str(shard * _SHARD_FACTOR + number))
    return (value,)


# ---------------------------------------------------------------------------------------------
# Who and which course.


class _Message:
    """One message's parts, and the identity helpers every event mapping shares."""

    def __init__(self, message: Mapping[str, Any]) -> None:
        self.metadata = _object(message.get("metadata"), "metadata")
        self.body = _object(message.get("body"), "body")
        name = _text(self.metadata, "event_name", "metadata")
        if name is None:
            raise CanvasFormatError("metadata.event_name is missing")
        self.name = name
        self.shard = _shard(self.metadata)

    def meta(self, key: str) -> str | None:
        return _text(self.metadata, key, "metadata")

    def actor(self) -> tuple[Ref, ...]:
        """The user in ``metadata`` (who made the request): SIS id, Canvas id, login."""
        refs: list[Ref] = []
        sis = self.meta("user_sis_id")
        if sis:
            refs.append(Ref("sourcedId", sis))
        user_id = self.meta("user_id")
        if user_id:
            refs.extend(Ref("canvas", form) for form in canvas_id_forms(user_id, self.shard))
        login = self.meta("user_login")
        if login:
            refs.append(Ref("username", login))
        return tuple(refs)

    def subject(self, canvas_user_id: str, *more: Ref) -> tuple[Ref, ...]:
        """The user the body names; the actor's SIS id and login only if the actor is that user
        (a teacher may submit for a student: then the teacher's ids must not be the student's)."""
        forms = canvas_id_forms(canvas_user_id, self.shard)
        actor_id = self.meta("user_id")
        same = actor_id is not None and bool(set(forms) & set(canvas_id_forms(actor_id, self.shard)))
        refs: list[Ref] = []
        if same and (sis := self.meta("user_sis_id")):
            refs.append(Ref("sourcedId", sis))
        refs.extend(Ref("canvas", form) for form in forms)
        refs.extend(more)
        if same and (login := self.meta("user_login")):
            refs.append(Ref("username", login))
        return tuple(dict.fromkeys(refs))

    def course(self) -> tuple[Ref, ...]:
        """The course of ``metadata`` when its context is a Course: SIS id first, then Canvas id."""
        if self.meta("context_type") != "Course":
            return ()
        refs: list[Ref] = []
        sis = self.meta("context_sis_source_id")
        if sis:
            refs.append(Ref("sourcedId", sis))
        context_id = self.meta("context_id")
        if context_id:
            refs.extend(Ref("canvas", form) for form in canvas_id_forms(context_id, self.shard))
        return tuple(refs)

    def not_a_student(self) -> str | None:
        """Why the actor's activity is not a student's, from ``metadata.context_role`` if given."""
        role = self.meta("context_role")
        if role is None or role == _STUDENT_ROLE:
            return None
        return f"the user acted as {role}, not as a student"

    def body_text(self, key: str) -> str | None:
        return _text(self.body, key, "body")

    def time(self, *body_keys: str) -> str:
        """``metadata.event_time``, else the first of ``body_keys`` present."""
        at = self.meta("event_time")
        for key in body_keys:
            at = at or self.body_text(key)
        if at is None:
            raise CanvasFormatError("metadata.event_time is missing")
        return at


# ---------------------------------------------------------------------------------------------
# One mapping per event.


class _Mapped:
    """What a mapping decides: the kind (or why none), who, which course, a percent."""

    def __init__(
        self,
        kind: str | None,
        student: tuple[Ref, ...] = (),
        course: tuple[Ref, ...] = (),
        percent: float | None = None,
        ignored: str | None = None,
    ) -> None:
        self.kind, self.student, self.course = kind, student, course
        self.percent, self.ignored = percent, ignored


def _ignored(reason: str, m: _Message) -> _Mapped:
    return _Mapped(None, m.actor(), m.course(), ignored=reason)


def _needs_course(kind: str, m: _Message, student: tuple[Ref, ...]) -> _Mapped:
    course = m.course()
    if not course:
        # course=() would mean "about the student as a whole": wrong for a course's work.
        return _Mapped(
            None, student, (), ignored=f"no course context (metadata.context_type Course) for {kind}"
        )
    return _Mapped(kind, student, course)


def _submission_created(m: _Message) -> _Mapped:
    user_id = m.body_text("user_id")
    if user_id is None:
        raise CanvasFormatError("body.user_id (the submitting student) is missing")
    _text(m.body, "body", "body", CANVAS_TEXT_LIMIT)
    return _needs_course("submission", m, m.subject(user_id))


def _discussion_entry_created(m: _Message) -> _Mapped:
    user_id = m.body_text("user_id") or m.meta("user_id")
    if user_id is None:
        raise CanvasFormatError("body.user_id (the author) is missing")
    _text(m.body, "text", "body", CANVAS_TEXT_LIMIT)
    student = m.subject(user_id)
    if reason := m.not_a_student():
        return _Mapped(None, student, m.course(), ignored=reason)
    kind = "discussion_reply" if m.body_text("parent_discussion_entry_id") else "discussion_post"
    return _needs_course(kind, m, student)


def _logged_in(m: _Message) -> _Mapped:
    if not m.meta("user_id"):
        raise CanvasFormatError("metadata.user_id (who logged in) is missing")
    # A log-in is about the student as a whole: it counts for every active enrollment.
    return _Mapped("login", m.actor(), ())


def _asset_accessed(m: _Message) -> _Mapped:
    if not m.meta("user_id"):
        raise CanvasFormatError("metadata.user_id (who viewed) is missing")
    _text(m.body, "asset_name", "body", CANVAS_TEXT_LIMIT)
    if reason := m.not_a_student():
        return _ignored(reason, m)
    if m.meta("context_type") != "Course":
        return _ignored("a page outside any course (metadata.context_type is not Course)", m)
    return _needs_course("view", m, m.actor())


def _quiz_submitted(m: _Message) -> _Mapped:
    if not m.meta("user_id"):
        raise CanvasFormatError("metadata.user_id (who submitted) is missing")
    if reason := m.not_a_student():
        return _ignored(reason, m)
    return _needs_course("submission", m, m.actor())


def _course_progress(m: _Message) -> _Mapped:
    course = _object(m.body.get("course"), "body.course")
    progress = _object(m.body.get("progress"), "body.progress")
    user = _object(m.body.get("user"), "body.user")
    user_id = _text(user, "id", "body.user")
    if user_id is None:
        raise CanvasFormatError("body.user.id (the student) is missing")
    email = _text(user, "email", "body.user")
    student = m.subject(user_id, *((Ref("email", email.strip().lower()),) if email else ()))
    refs: list[Ref] = []
    if sis := _text(course, "sis_source_id", "body.course"):
        refs.append(Ref("sourcedId", sis))
    if course_id := _text(course, "id", "body.course"):
        refs.extend(Ref("canvas", form) for form in canvas_id_forms(course_id, m.shard))
    refs.extend(m.course())
    courses = tuple(dict.fromkeys(refs))
    done = _count(progress, "requirement_completed_count", "body.progress")
    total = _count(progress, "requirement_count", "body.progress")
    if not total or done is None:
        return _Mapped(None, student, courses, ignored="the course has no module requirements: no percent")
    if not courses:
        raise CanvasFormatError("body.course names no course (id or sis_source_id)")
    return _Mapped("progress", student, courses, percent=min(100.0, done / total * 100))


def _enrollment(m: _Message) -> _Mapped:
    user_id = m.body_text("user_id")
    student = m.subject(user_id) if user_id else ()
    return _Mapped(None, student, m.course(), ignored=_ROSTER_REASON)


def _grade_change(m: _Message) -> _Mapped:
    student: tuple[Ref, ...] = ()
    if user_id := m.body_text("student_id") or m.body_text("user_id"):
        student = tuple(Ref("canvas", form) for form in canvas_id_forms(user_id, m.shard))
    if sis := m.body_text("student_sis_id"):
        student = (Ref("sourcedId", sis), *student)
    return _Mapped(None, student, m.course(), ignored=_GRADE_REASON)


_MAPPINGS: dict[str, Callable[[_Message], _Mapped]] = {
    "submission_created": _submission_created,
    "discussion_entry_created": _discussion_entry_created,
    "logged_in": _logged_in,
    "asset_accessed": _asset_accessed,
    "quiz_submitted": _quiz_submitted,
    "course_progress": _course_progress,
    "course_completed": _course_progress,
    "grade_change": _grade_change,
    "enrollment_created": _enrollment,
    "enrollment_updated": _enrollment,
}

# Body times a mapping may fall back on when metadata.event_time is missing.
_BODY_TIMES = ("submitted_at", "created_at", "updated_at")


# ---------------------------------------------------------------------------------------------
# Identity of the event.

# Metadata that names the event's occurrence (not its delivery): the same on a redelivery,
# different for two real events.
_KEY_METADATA = (
    "event_name",
    "event_time",
    "root_account_id",
    "user_id",
    "context_type",
    "context_id",
    "request_id",
    "job_id",
)
# Body fields besides ids that tell two events apart (a re-submission, more progress).
_KEY_BODY_EXTRA = frozenset({"attempt", "requirement_completed_count"})


def _is_key_field(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key in _KEY_BODY_EXTRA


def _body_ids(body: Mapping[str, Any], prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key in sorted(body):
        value = body[key]
        if isinstance(value, Mapping) and depth < 1:
            found.extend(_body_ids(value, f"{prefix}{key}.", depth + 1))
        elif _is_key_field(key) and (isinstance(value, str | int | float | bool) or value is None):
            found.append((prefix + key, value))
    return found


def event_key(message: Mapping[str, Any]) -> str:
    """``canvas:`` + a digest of what identifies the occurrence: the event's name and time, root
    account, actor, context, request or job, and every id its body carries (submission_id,
    discussion_entry_id, …) with the attempt or progress count. A redelivery (HTTPS retry, SQS
    redelivery, or the same event through both) has the same key; two real events do not."""
    metadata = _object(message.get("metadata"), "metadata")
    body = _object(message.get("body"), "body")
    parts = [(key, metadata.get(key)) for key in _KEY_METADATA] + _body_ids(body)
    return "canvas:" + hashlib.sha256(canonical_json(parts).encode()).hexdigest()[:40]


def live_event(message: Mapping[str, Any]) -> dict[str, Any]:
    """The event without its delivery: ``metadata`` and ``body`` only (a JWT's ``iat``/``exp``/
    ``iss`` and any other envelope field left out), as stored and digested."""
    return {"metadata": message.get("metadata"), "body": message.get("body")}


def root_account_id(message: Any) -> str | None:
    """``metadata.root_account_id`` if the message has one (which district it belongs to)."""
    if not isinstance(message, Mapping) or not isinstance(message.get("metadata"), Mapping):
        return None
    value = message["metadata"].get("root_account_id")
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


# ---------------------------------------------------------------------------------------------


def parse_canvas_event(message: Any, now: datetime) -> LmsEvent:
    """One Canvas live event (``{"metadata", "body"}``) as an ``LmsEvent``.

    Raises ``CanvasFormatError`` for a message that is not a readable live event and
    ``LimitError`` for one outside OnPace's limits (a time in the future, an oversized field).
    An event OnPace does not use is returned with ``kind=None`` and the reason in ``ignored``.
    """
    m = _Message(_object(message, "the event"))
    mapping = _MAPPINGS.get(m.name)
    mapped = (
        mapping(m)
        if mapping is not None
        else _Mapped(None, m.actor(), m.course(), ignored=f"OnPace does not use Canvas {m.name} events")
    )
    occurred_at = check_instant(_instant(m.time(*_BODY_TIMES), "metadata.event_time"), now)
    event = live_event(message)
    payload = canonical_json(event)
    size = len(payload.encode())
    if size > MAX_EVENT_BYTES:
        # Stored whole in one Events item (DynamoDB's 400 KB cap): a larger one would fail every
        # retry's write. Canvas truncates its text fields, so no Canvas event is this large.
        raise LimitError(f"the event is {size} bytes; at most {MAX_EVENT_BYTES} are kept per event")
    return LmsEvent(
        event_id=event_key(message),
        source=SOURCE,
        occurred_at=occurred_at,
        student=mapped.student,
        course=mapped.course,
        kind=mapped.kind,
        percent_complete=mapped.percent,
        ignored=mapped.ignored,
        payload=payload,
        digest=content_digest(event),
    )


__all__ = [
    "CANVAS_TEXT_LIMIT",
    "SOURCE",
    "CanvasFormatError",
    "LimitError",
    "canvas_id_forms",
    "event_key",
    "live_event",
    "parse_canvas_event",
    "root_account_id",
]
