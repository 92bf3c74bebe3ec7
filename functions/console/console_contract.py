"""The HTTP contract of the console routes, as the OpenAPI document (docs/openapi.json) states it.

Plain dicts passed to the route decorators (``responses``, ``openapi_extensions``), so that
importing the handler builds nothing. Every route but the shell (``GET /console``, public) is
behind the ``DistrictAdmins`` JWT authorizer (template.yaml): API Gateway answers a request
without a valid Cognito ID token with 401 before the function runs; the function answers 403 for
a token that names no valid district or an ``X-OnPace-District`` the token does not list, and 400
when an admin of several districts names none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the types only: importing Powertools' OpenAPI modules costs cold-start time
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

# The operation's whole parameter list (local/onpace_local/openapi.py puts it in place of the
# path parameters Powertools infers from the handler's signature).
PARAMETERS = "x-onpace-parameters"
# A form's request body (local/onpace_local/openapi.py puts it in place as ``requestBody``).
REQUEST_BODY = "x-onpace-request-body"

TAG = "Console"
JSON = "application/json"
SECURITY: list[dict[str, list[str]]] = [{"cognitoJwt": []}]
SECURITY_SCHEMES: dict[str, Any] = {
    "cognitoJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito ID token of the stack's admin user pool, with custom:district_id",
    }
}

_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}


def _message(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {JSON: {"schema": _MESSAGE}}}


_STORE = {503: _message("The audit log is unavailable; try again")}
_COMMON: dict[int, OpenAPIResponse] = {
    400: _message("A malformed query parameter, or no X-OnPace-District for an admin of several districts"),
    401: _message("No valid sign-in token (API Gateway's JWT authorizer)"),
    403: _message("The sign-in token names no valid district, or not the one X-OnPace-District asks for"),
    429: _message("Throttled by the HTTP API; retry later"),
}

_NULLABLE_STRING = {"type": ["string", "null"]}
_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "at", "type", "actor", "summary", "detail", "prev_hash", "hash"],
    "properties": {
        "seq": {"type": "integer"},
        "at": {"type": "string"},
        "on": _NULLABLE_STRING,
        "type": {"type": "string"},
        "actor": {"type": "string"},
        "rule_id": _NULLABLE_STRING,
        "policy_version": _NULLABLE_STRING,
        "program_id": _NULLABLE_STRING,
        "student_id": _NULLABLE_STRING,
        "class_id": _NULLABLE_STRING,
        "notice_id": _NULLABLE_STRING,
        "summary": {"type": "string"},
        "detail": {},
        "prev_hash": {"type": "string"},
        "hash": {"type": "string"},
    },
}

SHELL_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The console shell: signs the admin in and loads the views (no data)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    429: _message("Throttled by the HTTP API; retry later"),
}

_FRAGMENT: dict[str, Any] = {
    "text/html": {"schema": {"type": "string", "description": "An HTML fragment (no <html>)"}}
}

VIEW_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "The view as an HTML fragment for the shell's <main>", "content": _FRAGMENT},
    **_COMMON,
    **_STORE,
}

# The page's form sends an empty field as ``name=``: the same as leaving the parameter out.
_EMPTY = {"type": "string", "maxLength": 0}

AUDIT_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "student",
        "in": "query",
        "required": False,
        "description": "Only entries about this student (sourcedId)",
        "schema": {"type": "string", "maxLength": 256},
    },
    {
        "name": "rule",
        "in": "query",
        "required": False,
        "description": "Only entries of this rule id",
        "schema": {"type": "string", "maxLength": 256},
    },
    {
        "name": "before",
        "in": "query",
        "required": False,
        "description": "Entries older than this sequence (next_before of the previous page); empty: none",
        "schema": {"anyOf": [{"type": "integer", "minimum": 1}, _EMPTY]},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Entries per page, 1 to 200 (50 when absent or empty)",
        "schema": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 200}, _EMPTY]},
    },
]


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_TEXT = {"type": "string", "maxLength": 256}
_DAY = {"anyOf": [{"type": "string", "format": "date"}, _EMPTY]}

# The audit view's and the CSV export's filters (console_audit.parse_view_query).
AUDIT_FILTER_PARAMETERS: list[dict[str, Any]] = [
    _query("from", "Entries written on or after this day (YYYY-MM-DD, a day in tz)", _DAY),
    _query("to", "Entries written on or before this day (YYYY-MM-DD, a day in tz, included)", _DAY),
    _query("tz", "The IANA time zone whose days from and to are (UTC when absent)", _TEXT),
    _query("student", "Only entries about this student (sourcedId)", _TEXT),
    _query(
        "who",
        "Only entries about the student this name, email or id finds in the directory (several: "
        "the view asks which, the export answers 400; none: taken as a sourcedId); it replaces student",
        _TEXT,
    ),
    _query("class", "Only entries of this class (class id)", _TEXT),
    _query("rule", "Only entries of this rule id", _TEXT),
    _query("type", "Only entries of this event type (notice.sent, delivery.bounced, …)", _TEXT),
    _query(
        "status",
        "Only entries that record this delivery status",
        {
            "anyOf": [
                {
                    "enum": [
                        "sent",
                        "delivered",
                        "delayed",
                        "bounced",
                        "complained",
                        "rejected",
                        "failed",
                        "unconfirmed",
                        "cancelled",
                        "escalated",
                        "unsubscribed",
                    ]
                },
                _EMPTY,
            ]
        },
    ),
]

AUDIT_VIEW_PARAMETERS: list[dict[str, Any]] = [
    *AUDIT_FILTER_PARAMETERS,
    _query(
        "cursor",
        "Where the next (older) page starts: the Older link's cursor, for the same filters",
        _TEXT | {"maxLength": 4096},
    ),
    _query(
        "limit",
        "Entries per page, 1 to 200 (50 when absent or empty)",
        {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 200}, _EMPTY]},
    ),
    _query(
        "verify",
        "1: check the district's hash chain and show the result above the log",
        {"enum": ["1", ""]},
    ),
]

AUDIT_EXPORT_PARAMETERS: list[dict[str, Any]] = list(AUDIT_FILTER_PARAMETERS)

AUDIT_EXPORT_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": (
            "The filtered entries as CSV, newest first, with names and labelled dates; at most "
            "10,000 rows (a capped file's last line says so); cells never start like a formula"
        ),
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    **_COMMON,
    400: _message("A malformed filter, or a name that finds several students"),
    **_STORE,
}

STUDENTS_PARAMETERS: list[dict[str, Any]] = [
    _query("q", "A name (or part of one), an email or a student id; empty: no search", _TEXT),
]

_CLASS = {
    "type": "object",
    "required": ["class_id", "title"],
    "properties": {"class_id": {"type": "string"}, "title": {"type": "string"}, "ended_on": _NULLABLE_STRING},
}
_STUDENT = {
    "type": "object",
    "required": ["student_id", "name", "email", "classes", "removed_on"],
    "properties": {
        "student_id": {"type": "string"},
        "name": _NULLABLE_STRING,
        "email": _NULLABLE_STRING,
        "grade": _NULLABLE_STRING,
        "classes": {"type": "array", "items": _CLASS},
        "removed_on": _NULLABLE_STRING,
    },
}

STUDENTS_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The district's students matching q, best first (at most 20)",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["district_id", "students", "truncated"],
                    "properties": {
                        "district_id": {"type": "string"},
                        "students": {"type": "array", "items": _STUDENT},
                        "truncated": {"type": "boolean"},
                    },
                }
            }
        },
    },
    **_COMMON,
    **_STORE,
}

TIMELINE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "student",
        "in": "query",
        "required": True,
        "description": "The student's sourcedId",
        "schema": {"type": "string", "minLength": 1, "maxLength": 256},
    }
]

EMAIL_VIEW_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "notice",
        "in": "query",
        "required": True,
        "description": "The notice id (or the household letter's) as the timeline links it",
        "schema": {"type": "string", "minLength": 1, "maxLength": 1024},
    },
    {
        "name": "r",
        "in": "query",
        "required": True,
        "description": "The recipient's index in the notice (0, 1, …; r0, r1, … too)",
        "schema": {"type": "string", "pattern": "^r?[0-9]{1,3}$"},
    },
]

EMAIL_VIEW_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": (
            "The email as sent (its HTML in a sandboxed iframe) and the other language rendered "
            "now, labelled as not sent (a fragment)"
        ),
        "content": _FRAGMENT,
    },
    **_COMMON,
    404: {
        "description": "No such email of a notice in the district (a fragment saying so)",
        "content": _FRAGMENT,
    },
    **_STORE,
}

AUDIT_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "One page of the district's audit log, newest first",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["district_id", "entries", "next_before"],
                    "properties": {
                        "district_id": {"type": "string"},
                        "entries": {"type": "array", "items": _ENTRY},
                        "next_before": {"type": ["integer", "null"]},
                    },
                }
            }
        },
    },
    **_COMMON,
    400: _message("A malformed query parameter (the message says which)"),
    **_STORE,
}

VERIFY_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "Whether the district's hash chain is intact, and where it first breaks",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["district_id", "entries", "intact", "first_broken_seq", "problem"],
                    "properties": {
                        "district_id": {"type": "string"},
                        "entries": {"type": "integer", "minimum": 0},
                        "intact": {"type": "boolean"},
                        "first_broken_seq": {"type": ["integer", "null"]},
                        "problem": _NULLABLE_STRING,
                        # The signed checkpoint (S3 key) a problem concerns, or the newest checked.
                        "checkpoint": _NULLABLE_STRING,
                        "checkpoint_seq": {"type": ["integer", "null"]},
                        "checkpoints_checked": {"type": "integer", "minimum": 0},
                    },
                }
            }
        },
    },
    **_COMMON,
    **_STORE,
}

FAILURES_VIEW_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "before",
        "in": "query",
        "required": False,
        "description": "Failures older than this sequence (the previous page's last); empty: none",
        "schema": {"anyOf": [{"type": "integer", "minimum": 1}, _EMPTY]},
    },
]

FAILURES_PARAMETERS: list[dict[str, Any]] = [
    *FAILURES_VIEW_PARAMETERS,
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Failures per page, 1 to 200 (50 when absent or empty)",
        "schema": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 200}, _EMPTY]},
    },
]

FAILURES_VIEW_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The district's work parked in a dead-letter queue (a fragment)",
        "content": _FRAGMENT,
    },
    **_COMMON,
    **_STORE,
}

_OUTCOME: dict[str, Any] = {
    "type": "object",
    "required": ["state"],
    "description": "The first later audit entry about the same work, if any",
    "properties": {
        "state": {"enum": ["open", "recovered", "parked again", "settled as failed"]},
        "seq": {"type": "integer"},
        "at": {"type": "string"},
        "type": {"type": "string"},
        "summary": {"type": "string"},
    },
}

_FAILURE: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "at", "type", "what", "error", "attempts", "summary", "outcome"],
    "properties": {
        "seq": {"type": "integer"},
        "at": {"type": "string"},
        "on": _NULLABLE_STRING,
        "type": {"enum": ["evaluation.failed", "delivery.failed"]},
        "what": {"enum": ["enrollment", "notice"]},
        "program_id": _NULLABLE_STRING,
        "class_id": _NULLABLE_STRING,
        "student_id": _NULLABLE_STRING,
        "rule_id": _NULLABLE_STRING,
        "notice_id": _NULLABLE_STRING,
        "error": {"type": "string"},
        "attempts": {"type": ["integer", "null"]},
        "summary": {"type": "string"},
        "outcome": _OUTCOME,
    },
}

FAILURES_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "One page of the district's parked failures, newest first",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["district_id", "failures", "next_before"],
                    "properties": {
                        "district_id": {"type": "string"},
                        "failures": {"type": "array", "items": _FAILURE},
                        "next_before": {"type": ["integer", "null"]},
                    },
                }
            }
        },
    },
    **_COMMON,
    400: _message("A malformed query parameter (the message says which)"),
    **_STORE,
}

_SUPPRESSION: dict[str, Any] = {
    "type": "object",
    "required": ["id", "masked", "reason", "at"],
    "properties": {
        "id": {"type": "string", "description": "SHA-256 of the address: what DELETE takes"},
        "masked": {"type": "string", "description": "The address masked (j***@example.org)"},
        "reason": {"enum": ["bounce", "complaint"]},
        "detail": _NULLABLE_STRING,
        "role": _NULLABLE_STRING,
        "rule_id": _NULLABLE_STRING,
        "at": {"type": "string"},
    },
}

SUPPRESSIONS_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The district's suppressed addresses (hard bounces and complaints)",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["district_id", "suppressions"],
                    "properties": {
                        "district_id": {"type": "string"},
                        "suppressions": {"type": "array", "items": _SUPPRESSION},
                    },
                }
            }
        },
    },
    **_COMMON,
    **_STORE,
}

SUPPRESSION_CLEAR_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "id",
        "in": "query",
        "required": True,
        "description": "The entry's id (from GET /console/api/suppressions)",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    }
]

SUPPRESSION_CLEAR_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The entry was cleared: later notices are sent to the address again",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["district_id", "id", "cleared"],
                    "properties": {
                        "district_id": {"type": "string"},
                        "id": {"type": "string"},
                        "cleared": {"type": "boolean"},
                    },
                }
            }
        },
    },
    **_COMMON,
    400: _message("No id, or not an entry id"),
    404: _message("The district has no such entry"),
    **_STORE,
}

NOTICE_EMAIL_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "notice_id",
        "in": "path",
        "required": True,
        "description": "The notice id, percent-encoded (it holds #), as audit entries name it",
        "schema": {"type": "string", "minLength": 1, "maxLength": 3072},
    },
    {
        "name": "r",
        "in": "path",
        "required": True,
        "description": "The recipient's index in the notice (0, 1, …; r0, r1, … too)",
        "schema": {"type": "string", "pattern": "^r?[0-9]{1,3}$"},
    },
]

_ATTACHMENT: dict[str, Any] = {
    "type": "object",
    "required": ["filename", "content_type"],
    "properties": {"filename": _NULLABLE_STRING, "content_type": {"type": "string"}},
}

NOTICE_EMAIL_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": (
            "The email exactly as it was handed to SES. `html` is the HTML part as sent, not "
            "sanitised: show it only in a sandboxed iframe (no scripts, no same origin)"
        ),
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": [
                        "district_id",
                        "notice_id",
                        "recipient",
                        "subject",
                        "from",
                        "to",
                        "date",
                        "text",
                        "html",
                        "attachments",
                    ],
                    "properties": {
                        "district_id": {"type": "string"},
                        "notice_id": {"type": "string"},
                        "recipient": {"type": "string", "description": "r0, r1, …"},
                        "status": _NULLABLE_STRING,
                        "ses_message_id": _NULLABLE_STRING,
                        "subject": _NULLABLE_STRING,
                        "from": _NULLABLE_STRING,
                        "to": _NULLABLE_STRING,
                        "reply_to": _NULLABLE_STRING,
                        "date": _NULLABLE_STRING,
                        "message_id": _NULLABLE_STRING,
                        "text": _NULLABLE_STRING,
                        "html": _NULLABLE_STRING,
                        "attachments": {"type": "array", "items": _ATTACHMENT},
                    },
                }
            }
        },
    },
    **_COMMON,
    400: _message("A malformed notice id or recipient index"),
    404: _message("No such notice in the district, or no email kept for that recipient"),
    **_STORE,
}


# -- Upcoming, work queues, evidence packet, disclosures, health (views B) -----------------------

UPCOMING_VIEW_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "days",
        "in": "query",
        "required": False,
        "description": "1: tomorrow; 7: the next 7 days (also when absent or empty)",
        "schema": {"enum": ["1", "7", ""]},
    }
]

UPCOMING_VIEW_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "A preview of the decisions of the next evaluations, by day (nothing sent)",
        "content": _FRAGMENT,
    },
    **_COMMON,
    400: _message("days is not 1 or 7"),
    **_STORE,
}

FORM_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": (
            "The view again: what the form did on top (recorded, already done, or what is missing), "
            "the queue without the item"
        ),
        "content": _FRAGMENT,
    },
    **_COMMON,
    400: _message("A malformed field (the message says which)"),
    403: _message("No or a wrong CSRF field, or a district the sign-in token does not name"),
    404: _message("The item is not one of the district's"),
    **_STORE,
}


def _form(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    fields = {"csrf": {"type": "string", "description": "The view's CSRF token (hidden field)"}, **properties}
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "required": ["csrf", *required], "properties": fields}
            }
        },
    }


APPROVAL_FORM = _form(
    ["ref", "decision"],
    {
        "ref": {"type": "string", "description": "The held enrollment's key"},
        "decision": {"enum": ["approve", "reject"]},
        "reason": {"type": "string", "maxLength": 1000, "description": "Required to reject"},
    },
)

APPEAL_FORM = _form(
    ["ref", "outcome", "note"],
    {
        "ref": {"type": "string", "description": "The notice id of the action appealed"},
        "outcome": {"enum": ["granted", "denied", "withdrawn"]},
        "note": {"type": "string", "minLength": 1, "maxLength": 1000},
    },
)

SUPPRESSION_CLEAR_FORM = _form(
    ["id"],
    {
        "id": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "The entry's id"},
        "days": {"type": "string", "description": "The period the view shows again (1 to 31; 7 when empty)"},
    },
)

_STUDENT = {
    "name": "student",
    "in": "query",
    "description": "The student's sourcedId",
    "schema": {"type": "string", "maxLength": 256},
}
_CLASS = {
    "name": "class",
    "in": "query",
    "description": "The class's sourcedId",
    "schema": {"type": "string", "maxLength": 256},
}

PACKET_VIEW_PARAMETERS: list[dict[str, Any]] = [
    {**_STUDENT, "required": False, "description": "The student's sourcedId (absent: a picker)"},
    {**_CLASS, "required": False, "description": "The class's sourcedId (absent: a picker)"},
]

PACKET_VIEW_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "The evidence packet (printable), or a picker", "content": _FRAGMENT},
    **_COMMON,
    404: _message("The district has no such enrollment"),
    **_STORE,
}

PACKET_PDF_PARAMETERS: list[dict[str, Any]] = [
    {**_STUDENT, "required": True},
    {**_CLASS, "required": True},
]

PACKET_PDF_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The evidence packet as a PDF (an attachment, never cached)",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
    **_COMMON,
    400: _message("student or class missing or malformed"),
    404: _message("The district has no such enrollment"),
    **_STORE,
}

DISCLOSURES_VIEW_PARAMETERS: list[dict[str, Any]] = [
    {**_STUDENT, "required": False, "description": "The student's sourcedId (absent: a picker)"},
    {
        "name": "masked",
        "in": "query",
        "required": False,
        "description": "1: addresses masked (a copy that leaves the office)",
        "schema": {"enum": ["1", ""]},
    },
]

HEALTH_VIEW_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "days",
        "in": "query",
        "required": False,
        "description": "The period, 1 to 31 days (7 when absent or empty)",
        "schema": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 31}, _EMPTY]},
    }
]
