"""IMS Caliper Analytics 1.1 and 1.2 envelopes → ``LmsEvent``s (docs/ingest.md, "Caliper").

A Sensor POSTs one Envelope (``sensor``, ``sendTime``, ``dataVersion``, ``data``); ``data`` mixes
Events and Entity *describes*. Describes are not events: they are counted, and they fill in the
entities an event names only by IRI in the same envelope (a ``Person`` described once with its
``otherIdentifiers``, then ``"actor": "https://…/users/554433"`` in each event).

What an event becomes is the data table ``EVENT_MAP`` ((type, action) → kind, or why it is
ignored, and where the student is); identities follow ``USER_IDENTIFIER_NAMESPACES`` and
``COURSE_IDENTIFIER_NAMESPACES``. Canvas's Caliper 1.1 events carry its ids in
``extensions["com.instructure.canvas"]`` and in ``urn:instructure:canvas:…`` IRIs.

Errors carry the status the Caliper spec (1.1 §6.1.1, 1.2 "Endpoint responses") asks of an
endpoint: 400 for a missing or malformed envelope or event, 422 for a ``dataVersion`` OnPace
does not read, 415 for another media type. All events are valid or none is kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from onpace_core.ingest.event import LmsEvent, Ref, canonical_json, content_digest
from onpace_core.ingest.limits import LimitError, check_instant, check_text, decode_body, load_json
from onpace_core.ingest.sources import CALIPER, CALIPER_PATH

SOURCE = CALIPER
PATH = CALIPER_PATH  # the route a Sensor posts to (template.yaml, IngestFunction)
CALIPER_V1P1 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
CALIPER_V1P2 = "http://purl.imsglobal.org/ctx/caliper/v1p2"
DATA_VERSIONS = (CALIPER_V1P1, CALIPER_V1P2)
# The spec names application/json; JSON-LD's own type is the same document.
MEDIA_TYPES = ("application/json", "application/ld+json")
MAX_ITEMS = 500  # events and describes in one envelope, as the plain format's batch
# A raw event is one DynamoDB item (400 KB with its other attributes).
MAX_EVENT_CHARS = 256 * 1024
MAX_ID = 200  # identifiers lifted into refs; the event id itself is a 45-character URN

_URN_UUID = r"(?i)^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_TERM_PREFIXES = ("http://purl.imsglobal.org/caliper/", "https://purl.imsglobal.org/caliper/")
_CANVAS = "com.instructure.canvas"
_CANVAS_IRI = re.compile(r"^urn:instructure:canvas:(?P<what>user|course):(?P<id>\d+)$")

# Every Event type of Caliper 1.1 and 1.2 (base and extension profiles). Another ``type`` on an
# item that has the shape of an event (actor, action, eventTime) is refused: the spec's
# ``caliperEvent-UnknownEventType`` error fixture.
EVENT_TYPES = frozenset(
    {
        "Event",
        "AnnotationEvent",
        "AssessmentEvent",
        "AssessmentItemEvent",
        "AssignableEvent",
        "FeedbackEvent",
        "ForumEvent",
        "GradeEvent",
        "LibraryUseEvent",
        "MediaEvent",
        "MessageEvent",
        "NavigationEvent",
        "NotificationEvent",
        "OutcomeEvent",  # 1.0, deprecated by 1.1
        "ParticipationEvent",
        "QuestionnaireEvent",
        "QuestionnaireItemEvent",
        "ReadingEvent",  # deprecated by 1.1
        "ResourceManagementEvent",
        "ResourceUseEvent",
        "SearchEvent",
        "SessionEvent",
        "SurveyEvent",
        "SurveyInvitationEvent",
        "ThreadEvent",
        "ToolLaunchEvent",
        "ToolUseEvent",
        "ViewEvent",
    }
)
_EVENT_KEYS = ("actor", "action", "eventTime")


@dataclass(frozen=True)
class EventMapping:
    """What one (type, action) becomes: an activity ``kind``, or None and why it is ignored.

    ``learner`` is where the student is: the ``actor``, or (when the actor is the system or a
    grader) ``object.user`` / ``object.assignee``.
    """

    kind: str | None
    ignored: str | None = None
    learner: str = "actor"


# The mapping (docs/ingest.md lists it row by row). Two refinements in ``_map_event``: a
# ``MessageEvent`` whose Message has ``replyTo`` is a ``discussion_reply``; a ``ToolUseEvent``
# is ``progress`` only with a UnitsCompleted measure that has a maximum (else ignored).
EVENT_MAP: dict[tuple[str, str], EventMapping] = {
    ("SessionEvent", "LoggedIn"): EventMapping("login"),
    ("SessionEvent", "LoggedOut"): EventMapping(None, "a log-out is not activity"),
    ("SessionEvent", "TimedOut"): EventMapping(None, "a session time-out is not activity", "object.user"),
    ("AssessmentEvent", "Submitted"): EventMapping("submission"),
    ("AssessmentEvent", "Started"): EventMapping(None, "starting an assessment is not a submission"),
    ("AssignableEvent", "Submitted"): EventMapping("submission"),
    ("AssignableEvent", "Completed"): EventMapping("submission"),
    ("AssignableEvent", "Activated"): EventMapping(None, "activating an assignment is the instructor's act"),
    ("AssignableEvent", "Started"): EventMapping(None, "starting an assignment is not a submission"),
    ("MessageEvent", "Posted"): EventMapping("discussion_post"),
    ("NavigationEvent", "NavigatedTo"): EventMapping("view"),
    ("ViewEvent", "Viewed"): EventMapping("view"),
    ("ToolUseEvent", "Used"): EventMapping("progress"),
    # A Score grades one attempt; OnPace's final_grade is the course grade the SIS records.
    ("GradeEvent", "Graded"): EventMapping(None, "grades come from the SIS", "object.assignee"),
}
NO_PROGRESS = "a tool use with no UnitsCompleted measure that has a maxMetricValue"
NO_COURSE = "the event names no course (group), so it cannot count for one class"
PROGRESS_METRICS = ("UnitsCompleted",)

# SystemIdentifier.identifierType → Ref namespace. A user's other types become ``userId:<type>``
# (OneRoster userIds); a course's other types name nothing OnPace can map, and are left out.
USER_IDENTIFIER_NAMESPACES: dict[str, str] = {
    "LisSourcedId": "sourcedId",
    "SisSourcedId": "sourcedId",
    "OneRosterSourcedId": "sourcedId",
    "AccountUserName": "username",
    "EmailAddress": "email",
}
COURSE_IDENTIFIER_NAMESPACES: dict[str, str] = {
    "LisSourcedId": "sourcedId",
    "SisSourcedId": "sourcedId",
    "OneRosterSourcedId": "sourcedId",
}
# Canvas extension keys (``extensions["com.instructure.canvas"]``) → namespace.
CANVAS_USER_KEYS: dict[str, str] = {
    "user_sis_id": "sourcedId",
    "sis_id": "sourcedId",
    "entity_id": "canvas",
    "user_login": "username",
}
CANVAS_COURSE_KEYS: dict[str, str] = {"sis_id": "sourcedId", "entity_id": "canvas"}

# Refs most specific first (the identity map takes the first course ref that maps).
_USER_ORDER = ("sourcedId", "canvas", "iri", "username", "email")
_COURSE_ORDER = ("sourcedId", "canvas", "iri", "classCode", "title", "courseCode")


class CaliperError(LimitError):
    """The request is not a Caliper envelope OnPace accepts: ``status`` and ``problems``
    (``{"event": index in data or None, "field": path or None, "problem": why}``)."""

    def __init__(self, message: str, status: int = 400, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, status)
        self.problems = problems or []


@dataclass(frozen=True)
class CaliperBatch:
    """The events of one envelope, and how many describes it carried besides."""

    events: list[LmsEvent]
    described: int
    sensor: str
    data_version: str

    @property
    def ignored(self) -> int:
        return sum(1 for e in self.events if e.kind is None)


def check_media_type(content_type: str | None) -> None:
    """415 unless the request says ``application/json`` (or ``application/ld+json``)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        shown = f"'{media}'" if media else "none"
        raise CaliperError(
            f"a Caliper envelope is sent as application/json; the Content-Type was {shown}", 415
        )


# ---------------------------------------------------------------------------------------------
# Validation: the envelope and each event's required properties (pydantic), the rest by hand.


def _entity_value(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be empty")
        return value
    if isinstance(value, dict):
        if not isinstance(value.get("id"), str) or not value["id"].strip():
            raise ValueError("an embedded entity needs a string 'id'")
        return value
    raise ValueError("must be an IRI (a string) or an entity (an object with 'id' and 'type')")


EntityValue = Annotated[str | dict[str, Any], BeforeValidator(_entity_value)]


class Envelope(BaseModel):
    """Caliper §5.2: four required properties, no custom ones."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sensor: str = Field(min_length=1, max_length=2000)
    sendTime: AwareDatetime
    dataVersion: str
    data: list[Any] = Field(min_length=1, max_length=MAX_ITEMS)


class EventCore(BaseModel):
    """The properties every Caliper Event requires (1.1 §2.1, 1.2 "Event")."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    id: str = Field(pattern=_URN_UUID)
    type: str
    actor: EntityValue
    action: str = Field(min_length=1, max_length=200)
    object: EntityValue
    eventTime: AwareDatetime


_REQUIRED = "required: every Caliper Event has id, type, actor, action, object and eventTime"
_REQUIRED_ENVELOPE = "required: a Caliper envelope has sensor, sendTime, dataVersion and data"


class _Problem(Exception):
    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return _REQUIRED
    if error["type"] == "string_pattern_mismatch":
        return "must be a UUID URN ('urn:uuid:…'), as Caliper requires of an event id"
    cause = (error.get("ctx") or {}).get("error")
    return str(cause) if error["type"] == "value_error" and cause is not None else str(error["msg"])


def _validation_problems(exc: ValidationError, index: int | None) -> list[dict[str, Any]]:
    return [
        {"event": index, "field": ".".join(str(p) for p in e["loc"]) or None, "problem": _message(e)}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def _term(value: str) -> str:
    """A type or action as its bare Term (a full Caliper IRI is accepted too)."""
    for prefix in _TERM_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :].rsplit("/", 1)[-1]
    return value.rsplit("#", 1)[-1] if "://" in value else value


def _is_event(item: Mapping[str, Any]) -> bool:
    kind = item.get("type")
    return (isinstance(kind, str) and _term(kind) in EVENT_TYPES) or any(k in item for k in _EVENT_KEYS)


# ---------------------------------------------------------------------------------------------
# Parsing.


def parse_caliper(body: bytes | str, *, now: datetime) -> CaliperBatch:
    """Parse one Caliper envelope; raise ``CaliperError``/``LimitError`` (with a 4xx) or return
    every event of it (describes counted, not returned)."""
    document = load_json(decode_body(body))
    if not isinstance(document, dict):
        raise CaliperError(
            "the body is not a Caliper envelope (an object with sensor, sendTime, dataVersion and data)"
        )
    if "data" not in document and ("actor" in document or "type" in document):
        raise CaliperError(
            "events and entities must be sent inside a Caliper envelope "
            "(sensor, sendTime, dataVersion, data)",
            problems=[{"event": None, "field": "data", "problem": _REQUIRED_ENVELOPE}],
        )
    version = document.get("dataVersion")
    if isinstance(version, str) and version not in DATA_VERSIONS:
        raise CaliperError(
            f"dataVersion {version!r} is not one OnPace reads; send {' or '.join(DATA_VERSIONS)}",
            422,
            [{"event": None, "field": "dataVersion", "problem": "unsupported Caliper version"}],
        )
    try:
        envelope = Envelope.model_validate(document)
    except ValidationError as exc:
        problems = _validation_problems(exc, None)
        for problem in problems:
            if problem["problem"] == _REQUIRED:
                problem["problem"] = _REQUIRED_ENVELOPE
            elif problem["problem"] == "Extra inputs are not permitted":
                problem["problem"] = "not an envelope property (Caliper permits no custom ones)"
        message = f"the Caliper envelope is malformed ({len(problems)} problem(s)); nothing was stored"
        raise CaliperError(message, 400, problems) from None
    return _parse_data(envelope, now)


def _parse_data(envelope: Envelope, now: datetime) -> CaliperBatch:
    problems: list[dict[str, Any]] = []
    described: dict[str, dict[str, Any]] = {}
    candidates: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(envelope.data):
        if not isinstance(item, dict):
            problems.append({"event": index, "field": None, "problem": "must be an Event or Entity object"})
        elif not isinstance(item.get("type"), str) or not item["type"]:
            problems.append({"event": index, "field": "type", "problem": "required: a string Caliper type"})
        elif _is_event(item):
            candidates.append((index, item))
        elif not isinstance(item.get("id"), str) or not item["id"]:
            problems.append({"event": index, "field": "id", "problem": "required: a described entity's IRI"})
        else:
            described[item["id"]] = item
    events: list[LmsEvent] = []
    seen: dict[str, int] = {}
    for index, item in candidates:
        try:
            event = _parse_event(item, described, now)
        except ValidationError as exc:
            problems += _validation_problems(exc, index)
            continue
        except _Problem as problem:
            problems.append({"event": index, "field": problem.field, "problem": problem.problem})
            continue
        if event.event_id in seen:
            problems.append(
                {"event": index, "field": "id", "problem": f"the same id is event {seen[event.event_id]} too"}
            )
            continue
        seen[event.event_id] = index
        events.append(event)
    if problems:
        raise CaliperError(
            f"{len(problems)} problem(s) in the envelope's data; nothing was stored", 400, problems
        )
    return CaliperBatch(events, len(described), envelope.sensor, envelope.dataVersion)


def _parse_event(item: dict[str, Any], described: Mapping[str, dict[str, Any]], now: datetime) -> LmsEvent:
    core = EventCore.model_validate(item)
    event_type, action = _term(core.type), _term(core.action)
    if event_type not in EVENT_TYPES:
        raise _Problem("type", f"{core.type!r} is not a Caliper 1.1 or 1.2 Event type")
    try:
        occurred_at = check_instant(core.eventTime, now, "eventTime")
    except LimitError as exc:
        raise _Problem("eventTime", str(exc)) from None
    payload = canonical_json(item)
    if len(payload) > MAX_EVENT_CHARS:
        raise _Problem(None, f"the event is {len(payload)} characters; at most {MAX_EVENT_CHARS} are kept")
    mapping = EVENT_MAP.get((event_type, action)) or EventMapping(
        None, f"no OnPace rule reads {event_type} {action}", _learner_of(event_type)
    )
    learner_path = mapping.learner
    learner = _learner(item, learner_path, described)
    student = tuple(_person_refs(learner, learner_path, described)) if learner is not None else ()
    course = tuple(_course_refs(item.get("group"), described))
    kind, ignored, percent = mapping.kind, mapping.ignored, None
    if kind == "discussion_post" and _entity(item.get("object"), described).get("replyTo"):
        kind = "discussion_reply"
    if kind == "progress":
        percent = _percent_complete(item.get("generated"), described)
        if percent is None:
            kind, ignored = None, NO_PROGRESS
    if kind is not None and kind != "login" and not course:
        kind, ignored, percent = None, NO_COURSE, None
    if kind is not None and learner_path == "actor":
        role = _not_a_learner(item, described)
        if role is not None:
            kind, ignored, percent = None, f"the actor is not a learner in the course (roles: {role})", None
    return LmsEvent(
        event_id=core.id.lower(),  # UUIDs compare case-insensitively (RFC 4122)
        source=SOURCE,
        occurred_at=occurred_at,
        student=student,
        course=course,
        kind=kind,
        percent_complete=percent,
        ignored=ignored,
        payload=payload,
        digest=content_digest(item),
    )


def _learner_of(event_type: str) -> str:
    return "object.assignee" if event_type == "GradeEvent" else "actor"


def _entity(value: Any, described: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The entity ``value`` names: embedded (completed by a describe of the same id) or by IRI."""
    if isinstance(value, str):
        return described.get(value, {"id": value})
    if isinstance(value, dict):
        ident = value.get("id")
        base = described.get(ident, {}) if isinstance(ident, str) else {}
        return {**base, **value}
    return {}


def _learner(item: Mapping[str, Any], path: str, described: Mapping[str, dict[str, Any]]) -> Any:
    """The value at ``path`` ("actor", "object.user"): entities on the way may be IRIs."""
    first, *rest = path.split(".")
    value = item.get(first)
    for part in rest:
        value = _entity(value, described).get(part)
    return value


def _text(value: Any, where: str, limit: int = MAX_ID) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _Problem(where, "must be a string")
    text = str(value).strip()
    try:
        return check_text(text, where, limit)
    except LimitError as exc:
        raise _Problem(where, str(exc)) from None


def _identifiers(entity: Mapping[str, Any], where: str) -> Iterator[tuple[str, str, str]]:
    """(identifierType, identifier, field path) of a 1.2 entity's ``otherIdentifiers``."""
    others = entity.get("otherIdentifiers")
    if others is None:
        return
    if not isinstance(others, list):
        raise _Problem(f"{where}.otherIdentifiers", "must be a list of SystemIdentifier objects")
    for number, other in enumerate(others):
        at = f"{where}.otherIdentifiers.{number}"
        if not isinstance(other, dict):
            raise _Problem(at, "must be a SystemIdentifier object")
        kind = _text(other.get("identifierType"), f"{at}.identifierType")
        value = _text(other.get("identifier"), f"{at}.identifier")
        if kind and value:
            yield kind, value, at


def _canvas(entity: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    extensions = entity.get("extensions")
    found = extensions.get(_CANVAS) if isinstance(extensions, dict) else None
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise _Problem(f"{where}.extensions.{_CANVAS}", "must be an object")
    return found


def _ordered(refs: Sequence[Ref], order: Sequence[str]) -> list[Ref]:
    rank = {namespace: number for number, namespace in enumerate(order)}
    unique = list(dict.fromkeys(refs))
    return sorted(unique, key=lambda r: rank.get(r.namespace.split(":", 1)[0], len(order)))


def _person_refs(value: Any, where: str, described: Mapping[str, dict[str, Any]]) -> list[Ref]:
    entity = _entity(value, described)
    ident = _text(entity.get("id"), f"{where}.id", 2000)
    refs = [Ref("iri", ident)]
    canvas_iri = _CANVAS_IRI.match(ident)
    if canvas_iri and canvas_iri["what"] == "user":
        refs.append(Ref("canvas", canvas_iri["id"]))
    for kind, identifier, _ in _identifiers(entity, where):
        namespace = USER_IDENTIFIER_NAMESPACES.get(kind, f"userId:{kind}")
        refs.append(_user_ref(namespace, identifier))
    canvas = _canvas(entity, where)
    for key, namespace in CANVAS_USER_KEYS.items():
        if canvas.get(key) not in (None, ""):
            refs.append(_user_ref(namespace, _text(canvas[key], f"{where}.extensions.{_CANVAS}.{key}")))
    return _ordered(refs, _USER_ORDER)


def _user_ref(namespace: str, value: str) -> Ref:
    if namespace == "email":
        return Ref("email", value.removeprefix("mailto:").lower())
    return Ref(namespace, value)


def _course_refs(value: Any, described: Mapping[str, dict[str, Any]]) -> list[Ref]:
    """The group and the organizations above it (a Group within a CourseSection within a
    CourseOffering), each with its ids, codes and name."""
    refs: list[Ref] = []
    where = "group"
    for _ in range(4):  # Group → CourseSection → CourseOffering; deeper is not a course
        if value is None:
            break
        entity = _entity(value, described)
        if not entity:
            raise _Problem(where, "must be an IRI or an Organization object")
        refs += _organization_refs(entity, where)
        value = entity.get("subOrganizationOf")
        where = f"{where}.subOrganizationOf"
    return _ordered(refs, _COURSE_ORDER)


def _organization_refs(entity: Mapping[str, Any], where: str) -> list[Ref]:
    ident = _text(entity.get("id"), f"{where}.id", 2000)
    refs = [Ref("iri", ident)]
    canvas_iri = _CANVAS_IRI.match(ident)
    if canvas_iri and canvas_iri["what"] == "course":
        refs.append(Ref("canvas", canvas_iri["id"]))
    for kind, identifier, _ in _identifiers(entity, where):
        if kind in COURSE_IDENTIFIER_NAMESPACES:
            refs.append(Ref(COURSE_IDENTIFIER_NAMESPACES[kind], identifier))
    canvas = _canvas(entity, where)
    if canvas.get("context_type", "Course") == "Course":
        for key, namespace in CANVAS_COURSE_KEYS.items():
            if canvas.get(key) not in (None, ""):
                refs.append(Ref(namespace, _text(canvas[key], f"{where}.extensions.{_CANVAS}.{key}")))
    number = entity.get("courseNumber")
    if number is not None:
        code = _text(number, f"{where}.courseNumber")
        # A CourseSection's number names the section (OneRoster classCode, "CPS 435-01"); some
        # LMSs put the course's code there, so the courseCode is tried after it.
        if entity.get("type") == "CourseSection":
            refs.append(Ref("classCode", code))
        refs.append(Ref("courseCode", code))
    if entity.get("name") is not None:
        refs.append(Ref("title", _text(entity["name"], f"{where}.name", 2000)))
    return refs


def _percent_complete(value: Any, described: Mapping[str, dict[str, Any]]) -> float | None:
    """Percent complete (0–100) from a ToolUseEvent's ``generated`` AggregateMeasure(Collection):
    100 × metricValue / maxMetricValue of its UnitsCompleted measure; None without one."""
    if value is None:
        return None
    generated = _entity(value, described)
    measures: list[tuple[str, Any]]
    if generated.get("type") == "AggregateMeasure":
        measures = [("generated", generated)]
    else:
        items = generated.get("items") or []
        if not isinstance(items, list):
            raise _Problem("generated.items", "must be a list of AggregateMeasure objects")
        measures = [(f"generated.items.{n}", _entity(m, described)) for n, m in enumerate(items)]
    for metric in PROGRESS_METRICS:
        for where, measure in measures:
            if measure.get("metric") != metric or measure.get("maxMetricValue") is None:
                continue
            done = _number(measure.get("metricValue"), f"{where}.metricValue")
            total = _number(measure.get("maxMetricValue"), f"{where}.maxMetricValue")
            if total <= 0:
                raise _Problem(f"{where}.maxMetricValue", "must be more than 0")
            if not 0 <= done <= total:
                raise _Problem(f"{where}.metricValue", f"must lie between 0 and maxMetricValue ({total:g})")
            return 100 * done / total
    return None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Problem(where, "must be a number")
    return float(value)


def _not_a_learner(item: Mapping[str, Any], described: Mapping[str, dict[str, Any]]) -> str | None:
    """The actor's roles when its Membership lists some and none is Learner; else None."""
    membership = _entity(item.get("membership"), described)
    member = _entity(membership.get("member"), described).get("id")
    if member is not None and member != _entity(item.get("actor"), described).get("id"):
        return None
    roles = membership.get("roles")
    if not isinstance(roles, list) or not roles:
        return None
    names = [_term(r) for r in roles if isinstance(r, str)]
    if any(n.split("#", 1)[0] == "Learner" for n in names):
        return None
    return ", ".join(names) or None


__all__ = [
    "CALIPER_V1P1",
    "CALIPER_V1P2",
    "DATA_VERSIONS",
    "EVENT_MAP",
    "CaliperBatch",
    "CaliperError",
    "check_media_type",
    "parse_caliper",
]
