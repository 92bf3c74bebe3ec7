"""xAPI 1.0.3 statements, as an LMS sends them to a Learning Record Store (docs/ingest.md, ``## xAPI``).

``parse_statements(body, now=...)`` takes the body of ``POST``/``PUT /xapi/statements`` (one
statement object, or an array of them) and returns one ``LmsEvent`` per statement, in order.
Everything is valid or nothing is accepted: a problem raises ``LimitError`` (400, or 413 for a
body over the size limit) whose message names the statement and the field.

What a statement means to OnPace is kept as data (``VERB_RULES``, ``COURSE_TYPES``, …) so that
docs/ingest.md can list it exactly. The parser knows no roster: it says who and which course in
the LMS's own terms, as ``Ref``s, and the ingest service resolves them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from onpace_core.ingest.event import LmsEvent, Ref, canonical_json, content_digest
from onpace_core.ingest.limits import LimitError, check_instant, check_text, decode_body, load_json
from onpace_core.ingest.sources import XAPI

SOURCE = XAPI
MAX_STATEMENTS_PER_REQUEST = 500
# A statement is stored whole, as one DynamoDB item (at most 400 KB with its other attributes).
MAX_STATEMENT_BYTES = 256_000
# Statements an LMS sent without an id get one derived from their content (uuid5 in this
# namespace), so a retry of the same statement gets the same id and is stored once.
ID_NAMESPACE = uuid.UUID("6c1f3a52-61d5-4c1e-9a0b-6f6e50616365")
# Set by an LRS, not by the sender: two sends of one statement may differ in them.
LRS_FIELDS = ("id", "stored", "authority", "version")

# ---------------------------------------------------------------------------------------------
# What statements mean to OnPace (docs/ingest.md lists these tables; keep the two in step).

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE_TYPES = frozenset(
    {"http://id.tincanapi.com/activitytype/lms/course", "http://adlnet.gov/expapi/activities/course"}
)
ASSESSMENT_TYPES = frozenset(
    {
        "http://adlnet.gov/expapi/activities/assessment",
        "http://id.tincanapi.com/activitytype/school-assignment",
    }
)
DISCUSSION_TYPES = frozenset({"http://id.tincanapi.com/activitytype/discussion"})
# Course-activity definition extensions Moodle's logstore_xapi sends (``send_course_and_module_idnumber``
# and ``send_short_course_id``): the course's ID number (the SIS id a OneRoster sync puts there)
# and its short name.
EXT_EXTERNAL_ID = "https://w3id.org/learning-analytics/learning-management-system/external-id"
EXT_SHORT_ID = "https://w3id.org/learning-analytics/learning-management-system/short-id"
# Context extension of Moodle's JISC profile (``send_jisc_data``): {vle_mod_id: course short name}.
EXT_JISC_COURSE_AREA = "http://xapi.jisc.ac.uk/courseArea"
EXT_JISC_MOD_ID = "http://xapi.jisc.ac.uk/vle_mod_id"
EXT_CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


@dataclass(frozen=True)
class VerbRule:
    """Statements with one of ``verbs`` (and, if given, an object of one of ``object_types``)
    are activity of ``kind``; the first rule that matches decides.

    ``reply_kind``: the kind instead when the statement answers another (``context.statement``).
    ``percent``: ``"complete"`` — the course is finished (100); ``"scaled"`` — progress is
    ``result.score.scaled`` × 100 when no cmi5 progress extension says it. ``to_instructor``:
    only when the object is the Agent named in ``context.instructor``.
    """

    verbs: frozenset[str]
    kind: str | None
    object_types: frozenset[str] | None = None
    reply_kind: str | None = None
    percent: Literal["complete", "scaled"] | None = None
    to_instructor: bool = False
    why: str = ""


def _verbs(*iris: str) -> frozenset[str]:
    return frozenset(iris)


LOGIN_VERBS = _verbs(
    "https://w3id.org/xapi/adl/verbs/logged-in",
    "https://brindlewaye.com/xAPITerms/verbs/loggedin/",  # Moodle logstore_xapi
    "https://brindlewaye.com/xAPITerms/verbs/loggedin",  # the same, with JISC data on
)
LOGOUT_VERBS = _verbs(
    "https://w3id.org/xapi/adl/verbs/logged-out",
    "https://brindlewaye.com/xAPITerms/verbs/loggedout/",
    "https://brindlewaye.com/xAPITerms/verbs/loggedout",
)
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"

VERB_RULES: tuple[VerbRule, ...] = (
    VerbRule(LOGIN_VERBS, "login"),
    VerbRule(LOGOUT_VERBS, None, why="a log-out is not activity OnPace reads"),
    VerbRule(
        _verbs("http://id.tincanapi.com/verb/viewed", "http://adlnet.gov/expapi/verbs/experienced"), "view"
    ),
    VerbRule(_verbs("http://activitystrea.ms/schema/1.0/submit"), "submission"),
    VerbRule(_verbs(COMPLETED, PASSED), "progress", object_types=COURSE_TYPES, percent="complete"),
    VerbRule(_verbs(COMPLETED), "submission", object_types=ASSESSMENT_TYPES),
    VerbRule(_verbs(PASSED), "mastery_exercise", object_types=ASSESSMENT_TYPES),
    VerbRule(_verbs("http://adlnet.gov/expapi/verbs/mastered"), "mastery_exercise"),
    VerbRule(_verbs(COMPLETED), "progress"),
    VerbRule(
        _verbs("http://activitystrea.ms/schema/1.0/create"),
        "discussion_post",
        object_types=DISCUSSION_TYPES,
        reply_kind="discussion_reply",
    ),
    VerbRule(
        _verbs("http://adlnet.gov/expapi/verbs/commented", "http://activitystrea.ms/schema/1.0/post"),
        "discussion_post",
        reply_kind="discussion_reply",
    ),
    VerbRule(_verbs("http://id.tincanapi.com/verb/replied"), "discussion_reply"),
    VerbRule(_verbs("http://adlnet.gov/expapi/verbs/asked"), "forum_question"),
    VerbRule(_verbs("http://activitystrea.ms/schema/1.0/send"), "instructor_message", to_instructor=True),
    VerbRule(_verbs("http://adlnet.gov/expapi/verbs/progressed"), "progress", percent="scaled"),
)

# ---------------------------------------------------------------------------------------------
# The statement, as xAPI 1.0.3 (Data, section 2.4) defines it. Strict: "true" is no boolean.

_IRI = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_DURATION = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")

Iri = Annotated[str, Field(pattern=_IRI, max_length=2048)]
Uuid = Annotated[str, Field(pattern=_UUID)]


def _language_map(value: dict[str, str]) -> dict[str, str]:
    for tag in value:
        if not _LANGUAGE_TAG.match(tag):
            raise ValueError(f"{tag!r} is not a language tag (RFC 5646)")
    return value


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not an ISO 8601 duration")
    return value


LanguageMap = Annotated[dict[str, str], AfterValidator(_language_map)]
Duration = Annotated[str, AfterValidator(_duration)]
Extensions = dict[Annotated[str, Field(pattern=_IRI)], Any]


class _Model(BaseModel):
    # Field names are xAPI's own (camelCase), so a statement validates as sent.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


class Account(_Model):
    homePage: Iri
    name: str = Field(min_length=1)


class _Identified(_Model):
    name: str | None = None
    mbox: str | None = Field(default=None, pattern=r"^mailto:[^@\s]+@[^@\s]+$")
    mbox_sha1sum: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{40}$")
    openid: Iri | None = None
    account: Account | None = None

    def identifiers(self) -> int:
        return sum(x is not None for x in (self.mbox, self.mbox_sha1sum, self.openid, self.account))


class Agent(_Identified):
    objectType: Literal["Agent"] = "Agent"

    @model_validator(mode="after")
    def _one_identifier(self) -> Agent:
        if self.identifiers() != 1:
            raise ValueError("an Agent has exactly one of mbox, mbox_sha1sum, openid, account")
        return self


class Group(_Identified):
    objectType: Literal["Group"]
    member: list[Agent] | None = None

    @model_validator(mode="after")
    def _identified_or_listed(self) -> Group:
        if self.identifiers() > 1:
            raise ValueError("a Group has at most one of mbox, mbox_sha1sum, openid, account")
        if self.identifiers() == 0 and not self.member:
            raise ValueError("an anonymous Group (no identifier) lists its members")
        return self


def _object_type(default: str) -> Callable[[Any], str]:
    def pick(value: Any) -> str:
        if isinstance(value, Mapping):
            return str(value.get("objectType", default))
        return str(getattr(value, "objectType", default))

    return pick


Actor = Annotated[
    Annotated[Agent, Tag("Agent")] | Annotated[Group, Tag("Group")], Discriminator(_object_type("Agent"))
]


class Verb(_Model):
    id: Iri
    display: LanguageMap | None = None


class InteractionComponent(_Model):
    id: str = Field(min_length=1)
    description: LanguageMap | None = None


class ActivityDefinition(_Model):
    name: LanguageMap | None = None
    description: LanguageMap | None = None
    type: Iri | None = None
    moreInfo: Iri | None = None
    extensions: Extensions | None = None
    interactionType: (
        Literal[
            "true-false",
            "choice",
            "fill-in",
            "long-fill-in",
            "matching",
            "performance",
            "sequencing",
            "likert",
            "numeric",
            "other",
        ]
        | None
    ) = None
    correctResponsesPattern: list[str] | None = None
    choices: list[InteractionComponent] | None = None
    scale: list[InteractionComponent] | None = None
    source: list[InteractionComponent] | None = None
    target: list[InteractionComponent] | None = None
    steps: list[InteractionComponent] | None = None


class Activity(_Model):
    objectType: Literal["Activity"] = "Activity"
    id: Iri
    definition: ActivityDefinition | None = None


class StatementRef(_Model):
    objectType: Literal["StatementRef"]
    id: Uuid


class Score(_Model):
    scaled: float | None = Field(default=None, ge=-1, le=1)
    raw: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Score:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.raw is not None and (
            (self.min is not None and self.raw < self.min) or (self.max is not None and self.raw > self.max)
        ):
            raise ValueError("raw lies outside min..max")
        return self


class Result(_Model):
    score: Score | None = None
    success: bool | None = None
    completion: bool | None = None
    response: str | None = None
    duration: Duration | None = None
    extensions: Extensions | None = None


def _as_list(value: Any) -> Any:
    # A single context activity may be sent bare; the LRS treats it as an array of one.
    return [value] if isinstance(value, Mapping) else value


ActivityList = Annotated[list[Activity], BeforeValidator(_as_list)]


class ContextActivities(_Model):
    parent: ActivityList | None = None
    grouping: ActivityList | None = None
    category: ActivityList | None = None
    other: ActivityList | None = None


class Context(_Model):
    registration: Uuid | None = None
    instructor: Actor | None = None
    team: Group | None = None
    contextActivities: ContextActivities | None = None
    revision: str | None = None
    platform: str | None = None
    language: str | None = Field(default=None, pattern=_LANGUAGE_TAG.pattern)
    statement: StatementRef | None = None
    extensions: Extensions | None = None


class Attachment(_Model):
    usageType: Iri
    display: LanguageMap
    description: LanguageMap | None = None
    contentType: str
    length: int = Field(ge=0)
    sha2: str
    fileUrl: Iri | None = None


SubObject = Annotated[
    Annotated[Activity, Tag("Activity")]
    | Annotated[Agent, Tag("Agent")]
    | Annotated[Group, Tag("Group")]
    | Annotated[StatementRef, Tag("StatementRef")],
    Discriminator(_object_type("Activity")),
]


class SubStatement(_Model):
    objectType: Literal["SubStatement"]
    actor: Actor
    verb: Verb
    object: SubObject
    result: Result | None = None
    context: Context | None = None
    timestamp: str | None = None
    attachments: list[Attachment] | None = None


StatementObject = Annotated[
    Annotated[Activity, Tag("Activity")]
    | Annotated[Agent, Tag("Agent")]
    | Annotated[Group, Tag("Group")]
    | Annotated[StatementRef, Tag("StatementRef")]
    | Annotated[SubStatement, Tag("SubStatement")],
    Discriminator(_object_type("Activity")),
]


class Statement(_Model):
    id: Uuid | None = None
    actor: Actor
    verb: Verb
    object: StatementObject
    result: Result | None = None
    context: Context | None = None
    timestamp: str | None = None
    stored: str | None = None
    authority: Actor | None = None
    version: str | None = Field(default=None, pattern=r"^1\.0(\.\d+)?$")
    attachments: list[Attachment] | None = None


# ---------------------------------------------------------------------------------------------
# Parsing.


def parse_statements(body: bytes | str, *, now: datetime, statement_id: str | None = None) -> list[LmsEvent]:
    """The events of a ``POST`` body (one statement or an array), or of a ``PUT`` (``statement_id``
    given: exactly one statement, whose ``id``, if it has one, must equal it)."""
    document = load_json(decode_body(body))
    single = isinstance(document, dict)
    statements: list[Any] = [document] if single else document
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise LimitError("the body must be a statement (a JSON object) or an array of statements")
    if statement_id is not None:
        if not single:
            raise LimitError("PUT takes one statement, not an array")
        wanted = _statement_uuid(statement_id, "the statementId parameter")
        given = statements[0].get("id")
        same = isinstance(given, str) and re.match(_UUID, given) and _normal_uuid(given) == wanted
        if given is not None and not same:
            raise LimitError(
                f"the statement's id {given!r} is not the statementId parameter {statement_id!r}"
            )
    if not statements:
        raise LimitError("the array holds no statements")
    if len(statements) > MAX_STATEMENTS_PER_REQUEST:
        raise LimitError(
            f"at most {MAX_STATEMENTS_PER_REQUEST} statements per request, got {len(statements)}"
        )
    events = []
    for index, raw in enumerate(statements):
        where = "the statement" if single else f"statement {index}"
        if statement_id is not None and "id" not in raw:
            raw = {**raw, "id": statement_id}
        events.append(_parse_one(raw, now, where))
    _check_batch(events)
    return events


def _parse_one(raw: dict[str, Any], now: datetime, where: str) -> LmsEvent:
    _refuse_nulls(raw, where)
    try:
        statement = Statement.model_validate(raw)
    except ValidationError as exc:
        raise LimitError(f"{where}: {_problems(exc)}") from None
    content = {k: v for k, v in raw.items() if k not in LRS_FIELDS}
    digest = content_digest(content)
    event_id = _normal_uuid(statement.id) if statement.id else str(uuid.uuid5(ID_NAMESPACE, digest))
    occurred_at = _instant(statement.timestamp, now, f"{where}: timestamp") if statement.timestamp else now
    if statement.stored is not None:
        _instant(statement.stored, now, f"{where}: stored")
    if isinstance(statement.object, SubStatement) and statement.object.timestamp is not None:
        _instant(statement.object.timestamp, now, f"{where}: object.timestamp")
    payload = canonical_json({**raw, "id": event_id})
    size = len(payload.encode())
    if size > MAX_STATEMENT_BYTES:
        raise LimitError(f"{where} is {size} bytes; at most {MAX_STATEMENT_BYTES} are accepted per statement")
    common: dict[str, Any] = {
        "event_id": event_id,
        "source": SOURCE,
        "occurred_at": occurred_at,
        "payload": payload,
        "digest": digest,
    }
    if statement.verb.id == VOIDED:
        if not isinstance(statement.object, StatementRef):
            raise LimitError(f"{where}: a voiding statement's object must be a StatementRef")
        return LmsEvent(
            **common,
            student=_actor_refs(statement.actor, where),
            course=(),
            kind=None,
            voids=_normal_uuid(statement.object.id),
        )
    if isinstance(statement.actor, Group):
        return LmsEvent(
            **common,
            student=(),
            course=(),
            kind=None,
            ignored="the actor is a Group: OnPace reads what one student did, and a group's members "
            "are not each shown to have done it",
        )
    kind, percent, ignored = _meaning(statement, where)
    return LmsEvent(
        **common,
        student=_actor_refs(statement.actor, where),
        course=_course_refs(statement, where),
        kind=kind,
        percent_complete=percent,
        ignored=ignored,
    )


def _meaning(statement: Statement, where: str) -> tuple[str | None, float | None, str | None]:
    """(kind, percent_complete, why ignored) by the first matching ``VERB_RULES`` entry."""
    reported = _reported_progress(statement, where)
    rule = next((r for r in VERB_RULES if _matches(r, statement)), None)
    if rule is None or rule.kind is None:
        why = rule.why if rule is not None else f"verb {statement.verb.id} is not one OnPace reads"
        if reported is not None:  # progress may ride on any statement
            return "progress", reported, None
        return None, None, why
    kind = rule.kind
    if rule.reply_kind and statement.context is not None and statement.context.statement is not None:
        kind = rule.reply_kind
    percent = reported
    if rule.percent == "complete":
        percent = 100.0
    elif rule.percent == "scaled" and percent is None:
        score = statement.result.score if statement.result else None
        if score is not None and score.scaled is not None:
            if score.scaled < 0:
                raise LimitError(f"{where}: result.score.scaled of a progressed statement is negative")
            percent = score.scaled * 100
    return kind, percent, None


def _matches(rule: VerbRule, statement: Statement) -> bool:
    if statement.verb.id not in rule.verbs:
        return False
    if rule.object_types is not None and _activity_type(statement.object) not in rule.object_types:
        return False
    if rule.to_instructor:
        instructor = statement.context.instructor if statement.context else None
        return (
            isinstance(statement.object, Agent)
            and isinstance(instructor, Agent)
            and (_identifier(statement.object) == _identifier(instructor))
        )
    return True


def _reported_progress(statement: Statement, where: str) -> float | None:
    extensions = (statement.result.extensions if statement.result else None) or {}
    if EXT_CMI5_PROGRESS not in extensions:
        return None
    value = extensions[EXT_CMI5_PROGRESS]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise LimitError(f"{where}: result.extensions[{EXT_CMI5_PROGRESS}] must be a number from 0 to 100")
    return float(value)


def _activity_type(item: Any) -> str | None:
    if isinstance(item, Activity) and item.definition is not None:
        return item.definition.type
    return None


def _identifier(agent: Agent) -> tuple[str, str]:
    if agent.account is not None:
        return ("account", f"{agent.account.homePage} {agent.account.name}")
    if agent.mbox is not None:
        return ("mbox", agent.mbox.lower())
    if agent.mbox_sha1sum is not None:
        return ("mbox_sha1sum", agent.mbox_sha1sum.lower())
    return ("openid", agent.openid or "")


def _actor_refs(actor: Agent | Group, where: str) -> tuple[Ref, ...]:
    """Who did it, most specific first.

    An ``account`` is named three ways because LMSs fill ``account.name`` differently (Moodle
    sends its username or its own user id): the account itself, then a OneRoster username, then
    a roster ``sourcedId`` — the first the district's identity map knows wins.
    """
    refs: list[Ref] = []
    if actor.account is not None:
        name = actor.account.name
        refs += [
            Ref(f"account:{actor.account.homePage}", name),
            Ref("username", name),
            Ref("sourcedId", name),
        ]
    elif actor.mbox is not None:
        refs.append(Ref("email", actor.mbox.removeprefix("mailto:").lower()))
    elif actor.mbox_sha1sum is not None:
        refs.append(Ref("mbox_sha1sum", actor.mbox_sha1sum.lower()))
    elif actor.openid is not None:
        refs.append(Ref("iri", actor.openid))
    for ref in refs:
        check_text(ref.value, f"{where}: actor identifier")
        check_text(ref.namespace, f"{where}: actor account homePage")
    return tuple(refs)


def _course_refs(statement: Statement, where: str) -> tuple[Ref, ...]:
    """Which course, most specific first: the course activities (the object itself when it is a
    course, then ``context.contextActivities`` grouping, parent and other), then the ids of the
    other context activities. Empty: the statement is about the student as a whole."""
    activities: list[Activity] = []
    if isinstance(statement.object, Activity) and _activity_type(statement.object) in COURSE_TYPES:
        activities.append(statement.object)
    context = statement.context
    listed = context.contextActivities if context is not None else None
    if listed is not None:
        for group in (listed.grouping, listed.parent, listed.other):
            activities += group or []
    courses = [a for a in activities if _activity_type(a) in COURSE_TYPES]
    refs: list[Ref] = []
    for course in courses:
        refs += _course_activity_refs(course, where)
    if courses and context is not None and context.extensions:
        area = context.extensions.get(EXT_JISC_COURSE_AREA)
        short = area.get(EXT_JISC_MOD_ID) if isinstance(area, Mapping) else None
        if isinstance(short, str) and short:
            refs += [Ref("classCode", short), Ref("courseCode", short)]
    refs += [Ref("iri", a.id) for a in activities if _activity_type(a) not in COURSE_TYPES]
    for ref in refs:
        check_text(ref.value, f"{where}: course {ref.namespace}")
    return tuple(dict.fromkeys(refs))


def _course_activity_refs(course: Activity, where: str) -> list[Ref]:
    definition = course.definition
    extensions = (definition.extensions if definition else None) or {}
    refs: list[Ref] = []
    external = extensions.get(EXT_EXTERNAL_ID)
    if isinstance(external, str) and external:
        refs.append(Ref("sourcedId", external))
    refs.append(Ref("iri", course.id))
    short = extensions.get(EXT_SHORT_ID)
    if isinstance(short, str) and short:
        refs += [Ref("classCode", short), Ref("courseCode", short)]
    title = _in_english(definition.name) if definition and definition.name else None
    if title:
        refs.append(Ref("title", check_text(title, f"{where}: course name")))
    return refs


def _in_english(names: Mapping[str, str]) -> str | None:
    """The English entry of a language map (``en``, then any ``en-*``), else the first."""
    if "en" in names:
        return names["en"]
    english = next((v for k, v in names.items() if k.lower().startswith("en-")), None)
    return english if english is not None else next(iter(names.values()), None)


def _instant(text: str, now: datetime, what: str) -> datetime:
    """An ISO 8601 time; one without an offset is UTC (xAPI lets an LRS read it so)."""
    if re.search(r"-00(:?00)?$", text):
        raise LimitError(f"{what} {text!r} uses the offset -00:00, which xAPI forbids")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise LimitError(f"{what} {text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return check_instant(at, now, what)


def _normal_uuid(text: str) -> str:
    return str(uuid.UUID(text))


def _statement_uuid(text: str, what: str) -> str:
    if not re.match(_UUID, text):
        raise LimitError(f"{what} {text!r} is not a UUID")
    return _normal_uuid(text)


def _check_batch(events: Iterable[LmsEvent]) -> None:
    seen: set[str] = set()
    voiding: set[str] = set()
    listed = list(events)
    for event in listed:
        if event.event_id in seen:
            raise LimitError(f"statement id {event.event_id} appears twice in one request")
        seen.add(event.event_id)
        if event.voids is not None:
            voiding.add(event.event_id)
    for event in listed:
        if event.voids is not None and event.voids in voiding:
            raise LimitError(
                f"statement {event.event_id} voids {event.voids}, itself a voiding statement: "
                "a voiding statement cannot be voided"
            )


def _refuse_nulls(value: Any, where: str, path: str = "") -> None:
    """xAPI forbids ``null`` anywhere but inside extensions."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if item is None:
                raise LimitError(f"{where}: {here} is null")
            if key != "extensions":
                _refuse_nulls(item, where, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if item is None:
                raise LimitError(f"{where}: {path}[{i}] is null")
            _refuse_nulls(item, where, f"{path}[{i}]")


_PATTERN_NAMES = {_UUID: "is not a UUID", _IRI: "is not an absolute IRI"}


def _problems(exc: ValidationError, limit: int = 5) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:limit]:
        # Drop the discriminator tags (``object.Activity.id`` → ``object.id``).
        location = ".".join(
            str(p)
            for p in error["loc"]
            if p not in {"Activity", "Agent", "Group", "StatementRef", "SubStatement"}
        )
        message = error["msg"]
        if error["type"] == "missing":
            message = "is required"
        elif error["type"] == "string_pattern_mismatch":
            message = _PATTERN_NAMES.get(str((error.get("ctx") or {}).get("pattern")), message)
        problems.append(f"{location} {message}" if location else message)
    more = len(exc.errors()) - limit
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")
