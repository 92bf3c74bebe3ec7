"""Send xAPI statements the way an LMS's LRS client does (Moodle's logstore_xapi, TinCan libraries).

``post_statements``/``put_statement`` talk HTTP to ``{base_url}/xapi/statements`` with Basic
credentials and the version header. ``statement_from_plain`` writes a plain activity event
(docs/webhooks.md) as the statement OnPace's xAPI parser reads back as the same kind, time,
student and class — how the demo feeds a district through xAPI.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onpace_core.ingest.formats import xapi
from onpace_core.ingest.formats.plain import PlainActivityEvent

from onpace_local.lms.credentials import BasicCredentials

VERSION = "1.0.3"


@dataclass(frozen=True)
class XapiResponse:
    status: int
    body: Any  # the ids (POST), an error object, or None (PUT's 204)
    headers: Mapping[str, str]


def post_statements(
    base_url: str,
    credentials: BasicCredentials | None,
    statements: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> XapiResponse:
    """POST one statement or a batch; ``body``/``headers`` replace what would be sent (tests)."""
    payload = body if body is not None else json.dumps(statements, separators=(",", ":"))
    return _send("POST", f"{base_url.rstrip('/')}/xapi/statements", credentials, payload, headers)


def put_statement(
    base_url: str,
    credentials: BasicCredentials | None,
    statement_id: str,
    statement: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
) -> XapiResponse:
    """PUT one statement under ``statement_id``."""
    query = urllib.parse.urlencode({"statementId": statement_id})
    url = f"{base_url.rstrip('/')}/xapi/statements?{query}"
    return _send("PUT", url, credentials, json.dumps(statement, separators=(",", ":")), headers)


def default_headers(credentials: BasicCredentials | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Experience-API-Version": VERSION}
    if credentials is not None:
        headers["Authorization"] = credentials.authorization
    return headers


def _send(
    method: str,
    url: str,
    credentials: BasicCredentials | None,
    payload: str,
    headers: Mapping[str, str] | None,
) -> XapiResponse:
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        headers=dict(headers) if headers is not None else default_headers(credentials),
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return _response(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return _response(error.code, error.read(), error.headers)


def _response(status: int, raw: bytes, headers: Any) -> XapiResponse:
    return XapiResponse(status, json.loads(raw) if raw else None, dict(headers.items()))


# ---------------------------------------------------------------------------------------------
# Plain activity → statement.

_ACTIVITY = "http://adlnet.gov/expapi/activities/"
# kind → (verb, object activity type); the parser's VERB_RULES map each back to the kind.
_STATEMENT_OF_KIND: dict[str, tuple[str, str | None]] = {
    "login": ("https://w3id.org/xapi/adl/verbs/logged-in", "http://id.tincanapi.com/activitytype/lms"),
    "view": ("http://id.tincanapi.com/verb/viewed", f"{_ACTIVITY}module"),
    "submission": ("http://activitystrea.ms/schema/1.0/submit", f"{_ACTIVITY}assessment"),
    "discussion_post": (
        "http://adlnet.gov/expapi/verbs/commented",
        "http://id.tincanapi.com/activitytype/discussion",
    ),
    "discussion_reply": (
        "http://id.tincanapi.com/verb/replied",
        "http://id.tincanapi.com/activitytype/discussion",
    ),
    "mastery_exercise": ("http://adlnet.gov/expapi/verbs/mastered", f"{_ACTIVITY}assessment"),
    "forum_question": ("http://adlnet.gov/expapi/verbs/asked", f"{_ACTIVITY}question"),
    "instructor_message": ("http://activitystrea.ms/schema/1.0/send", None),  # object: the instructor
    "progress": ("http://adlnet.gov/expapi/verbs/progressed", None),
}


def statement_from_plain(
    plain_event: Mapping[str, Any],
    homepage: str,
    *,
    actor: Mapping[str, Any] | None = None,
    course: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The xAPI statement of one plain activity event (docs/webhooks.md), as an LMS at
    ``homepage`` would send it: the student as an account named by their roster ``sourcedId``,
    the class as a course activity whose ID number (``external-id``) is the class ``sourcedId``,
    and a statement id derived from the event id (so a resend is the same statement).
    ``actor`` (an Agent) and ``course`` (a course Activity) replace that student and class, to
    name them as an LMS that does not know the roster's ids does (a username, a short name).
    ``ValueError`` for a plain event that is not activity (a final grade, …)."""
    event = PlainActivityEvent.model_validate(plain_event)
    if not event.is_activity or event.class_id is None:
        raise ValueError(f"kind {event.kind!r} is not activity: xAPI carries only activity")
    verb, object_type = _STATEMENT_OF_KIND[event.kind]
    site = homepage.rstrip("/")
    course_activity: dict[str, Any] = (
        dict(course)
        if course is not None
        else {
            "objectType": "Activity",
            "id": f"{site}/course/{urllib.parse.quote(event.class_id, safe='')}",
            "definition": {
                "type": "http://id.tincanapi.com/activitytype/lms/course",  # as Moodle sends it
                "extensions": {xapi.EXT_EXTERNAL_ID: event.class_id},
            },
        }
    )
    course_id = str(course_activity["id"])
    thing = f"{site}/activity/{urllib.parse.quote(event.event_id, safe='')}"
    instructor = {
        "objectType": "Agent",
        "account": {"homePage": site, "name": f"instructor-of-{event.class_id}"},
    }
    statement: dict[str, Any] = {
        "id": str(uuid.uuid5(xapi.ID_NAMESPACE, f"plain:{event.event_id}")),
        "actor": dict(actor)
        if actor is not None
        else {"objectType": "Agent", "account": {"homePage": site, "name": event.student}},
        "verb": {"id": verb, "display": {"en": event.kind.replace("_", " ")}},
        "timestamp": event.occurred_at.isoformat(),
        "context": {
            "platform": "OnPace local LMS",
            "contextActivities": {"grouping": [course_activity]},
        },
    }
    if event.kind == "instructor_message":
        statement["object"] = instructor
        statement["context"]["instructor"] = instructor
    elif event.kind == "login":
        statement["object"] = {"objectType": "Activity", "id": site, "definition": {"type": object_type}}
    elif event.kind == "progress":
        statement["object"] = {"objectType": "Activity", "id": course_id}
    else:
        statement["object"] = {"objectType": "Activity", "id": thing, "definition": {"type": object_type}}
    if event.percent_complete is not None:
        statement["result"] = {"extensions": {xapi.EXT_CMI5_PROGRESS: event.percent_complete}}
    return statement
