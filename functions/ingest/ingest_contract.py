"""The HTTP contract of the ingest routes, as the OpenAPI document (docs/openapi.json) states it.

The routes read their requests raw (a signature covers the exact bytes), so Powertools cannot
infer parameters or bodies from the handlers' signatures: each route passes what it reads and
what it answers to its decorator (``PARAMETERS``/``requestBody`` through ``openapi_extensions``,
``responses``) from here. Plain dicts, so that importing the handler builds nothing; the request
body schemas made from the parsers' pydantic models are computed only when the document is
generated (``component_schemas``). ``tests/integration/test_openapi_fuzz.py`` holds the handlers
to these shapes with schemathesis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the types only: importing Powertools' OpenAPI modules costs cold-start time
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader

# The operation's whole parameter list (local/onpace_local/openapi.py puts it in place of the
# path parameters Powertools infers from the handler's signature).
PARAMETERS = "x-onpace-parameters"

TAG_PLAIN = "Plain webhooks"
TAG_XAPI = "xAPI"
TAG_CALIPER = "Caliper"
TAG_CANVAS = "Canvas Live Events"
TAG_UNSUBSCRIBE = "Unsubscribe"

JSON = "application/json"
_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


def _error(description: str, schema: str = "IngestError") -> OpenAPIResponse:
    return {"description": description, "content": _json_body(_ref(schema))}


# API Gateway's own answers (throttling, a body over its 10 MB): ``{"message": ...}``.
GATEWAY_RESPONSES: dict[int, OpenAPIResponse] = {
    429: _error(
        "Throttled by the HTTP API (template.yaml DefaultRouteSettings); retry later", "GatewayError"
    ),
}

DISTRICT_QUERY: dict[str, Any] = {
    "name": "district",
    "in": "query",
    "required": True,
    "description": "The district's id, as OnPace configured it (it names the district's secret)",
    "schema": {"type": "string"},
}


def _header(name: str, description: str, *, required: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


_REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["accepted", "duplicates", "ignored", "voided", "unmatched", "message"],
    "properties": {
        "accepted": {"type": "integer", "minimum": 0},
        "duplicates": {"type": "integer", "minimum": 0},
        "ignored": {"type": "integer", "minimum": 0},
        "voided": {"type": "integer", "minimum": 0},
        "unmatched": {
            "type": "array",
            "items": {"type": "object", "additionalProperties": {"type": "string"}},
            "description": "Events kept for students or classes not on the roster",
        },
        "message": {"type": "string"},
    },
}

# ---------------------------------------------------------------------------------------------
# Plain webhooks.

PLAIN_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "source",
        "in": "path",
        "required": True,
        "description": "The sender's format: only 'plain' (xAPI, Caliper, Canvas have routes of their own)",
        "schema": {"type": "string"},
    },
    DISTRICT_QUERY,
    _header("webhook-id", "Standard Webhooks message id (the same on a retry)"),
    _header("webhook-timestamp", "Standard Webhooks timestamp, Unix seconds; at most 5 minutes old"),
    _header(
        "webhook-signature",
        "Standard Webhooks signature(s): 'v1,<base64 HMAC-SHA256>' with the district's secret",
    ),
]

PLAIN_REQUEST: dict[str, Any] = {
    "required": True,
    "description": "One event, or an array of at most 500 (docs/webhooks.md)",
    "content": {
        JSON: {
            "schema": {
                "oneOf": [
                    _ref("PlainActivityEvent"),
                    {"type": "array", "minItems": 1, "maxItems": 500, "items": _ref("PlainActivityEvent")},
                ]
            },
            "example": [
                {
                    "event_id": "lms-123",
                    "occurred_at": "2026-09-01T10:00:00-05:00",
                    "student": "stu-1",
                    "class": "cls-1",
                    "kind": "submission",
                    "percent_complete": 42.5,
                }
            ],
        }
    },
}

PLAIN_RESPONSES: dict[int, OpenAPIResponse] = {
    202: {
        "description": "Stored (or already stored) and folded",
        "content": _json_body(_ref("IngestReport")),
    },
    400: _error("Missing district, or a body that is not valid activity (``problems`` says where)"),
    401: _error("No secret for the district, or the signature is not valid"),
    404: _error("Unknown source"),
    409: _error("An event id already stored with other content; nothing of the request was stored"),
    413: _error("The body is over the size limit"),
    **GATEWAY_RESPONSES,
}

# ---------------------------------------------------------------------------------------------
# xAPI.

XAPI_EXAMPLE_ID = "5211a89a-7c90-543f-9f71-553d1c077c37"
XAPI_VERSION_HEADER = {
    "name": "X-Experience-API-Version",
    "in": "header",
    "required": True,
    "description": "xAPI version of the request: 1.0.x",
    "schema": {"type": "string"},
    "example": "1.0.3",
}
XAPI_STATEMENT_ID = {
    "name": "statementId",
    "in": "query",
    "required": True,
    "description": "The statement's id (a UUID)",
    "schema": {"type": "string"},
    "example": XAPI_EXAMPLE_ID,
}
_XAPI_ANSWER_HEADERS: dict[str, OpenAPIResponseHeader] = {
    "X-Experience-API-Version": {"description": "Always 1.0.3", "schema": {"type": "string"}},
}
_XAPI_401_HEADERS: dict[str, OpenAPIResponseHeader] = {
    **_XAPI_ANSWER_HEADERS,
    "WWW-Authenticate": {"description": 'Basic realm="OnPace xAPI"', "schema": {"type": "string"}},
}


def _xapi_error(description: str) -> OpenAPIResponse:
    return {**_error(description), "headers": dict(_XAPI_ANSWER_HEADERS)}


# Examples, as an LMS sends them (schemathesis sends them first: a request that is stored).
_COURSE_TYPE = "http://id.tincanapi.com/activitytype/lms/course"
_LMS_EXTERNAL_ID = "https://w3id.org/learning-analytics/learning-management-system/external-id"
XAPI_EXAMPLE: dict[str, Any] = {
    "id": XAPI_EXAMPLE_ID,
    "actor": {"objectType": "Agent", "account": {"homePage": "https://moodle.example.edu", "name": "stu-1"}},
    "verb": {"id": "http://activitystrea.ms/schema/1.0/submit", "display": {"en": "submission"}},
    "timestamp": "2026-09-01T10:00:00-05:00",
    "context": {
        "contextActivities": {
            "grouping": [
                {
                    "objectType": "Activity",
                    "id": "https://moodle.example.edu/course/cls-1",
                    "definition": {"type": _COURSE_TYPE, "extensions": {_LMS_EXTERNAL_ID: "cls-1"}},
                }
            ]
        }
    },
    "object": {
        "objectType": "Activity",
        "id": "https://moodle.example.edu/activity/lms-123",
        "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
    },
}

XAPI_REQUEST: dict[str, Any] = {
    "required": True,
    "description": "One xAPI 1.0.3 statement, or an array of at most 500 (docs/ingest.md, xAPI)",
    "content": {
        JSON: {
            "schema": {
                "oneOf": [
                    _ref("XapiStatement"),
                    {"type": "array", "maxItems": 500, "items": _ref("XapiStatement")},
                ]
            },
            "example": [XAPI_EXAMPLE],
        }
    },
}
XAPI_PUT_REQUEST: dict[str, Any] = {
    "required": True,
    "description": "One xAPI 1.0.3 statement; its id, if any, is the statementId parameter",
    "content": {JSON: {"schema": _ref("XapiStatement"), "example": XAPI_EXAMPLE}},
}

_XAPI_ERRORS: dict[int, OpenAPIResponse] = {
    400: _xapi_error(
        "Missing or unsupported version header or statementId, not JSON, or an invalid statement"
    ),
    401: {**_error("HTTP Basic credentials missing or not valid"), "headers": _XAPI_401_HEADERS},
    409: _xapi_error("A statement id already stored with other content; nothing was stored"),
    413: _xapi_error("The body is over the size limit"),
    **GATEWAY_RESPONSES,
}

XAPI_POST_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "Stored: the statements' ids, in order",
        "headers": dict(_XAPI_ANSWER_HEADERS),
        "content": _json_body({"type": "array", "items": {"type": "string"}}),
    },
    **_XAPI_ERRORS,
}
XAPI_PUT_RESPONSES: dict[int, OpenAPIResponse] = {
    # ``content`` empty, not left out: Powertools would describe a JSON body of the route's return.
    204: {"description": "Stored", "headers": dict(_XAPI_ANSWER_HEADERS), "content": {}},
    **_XAPI_ERRORS,
}
XAPI_ABOUT_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The xAPI versions this LRS speaks",
        "headers": dict(_XAPI_ANSWER_HEADERS),
        "content": _json_body(
            {
                "type": "object",
                "required": ["version"],
                "properties": {"version": {"type": "array", "items": {"type": "string"}}},
            }
        ),
    },
    **GATEWAY_RESPONSES,
}
XAPI_SECURITY: list[dict[str, list[str]]] = [{"xapiBasic": []}]

# ---------------------------------------------------------------------------------------------
# Caliper.


_HTML_PAGE: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
UNSUBSCRIBE_TOKEN: dict[str, Any] = {
    "name": "t",
    "in": "query",
    "required": True,
    "description": "The signed token of the List-Unsubscribe link (district, rule id, address hash)",
    "schema": {"type": "string"},
}
UNSUBSCRIBE_REQUEST: dict[str, Any] = {
    "required": True,
    "description": "RFC 8058 one-click: the form field List-Unsubscribe=One-Click",
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["List-Unsubscribe"],
                "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
            }
        }
    },
}
UNSUBSCRIBE_GET_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "A page with a button that posts the one-click form", "content": _HTML_PAGE},
    400: {"description": "The link's token is malformed, forged or altered", "content": _HTML_PAGE},
    **GATEWAY_RESPONSES,
}
UNSUBSCRIBE_POST_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "Unsubscribed (again: nothing changes)", "content": _HTML_PAGE},
    400: {"description": "The body is not List-Unsubscribe=One-Click", "content": _HTML_PAGE},
    403: {"description": "The link's token is malformed, forged or altered", "content": _HTML_PAGE},
    **GATEWAY_RESPONSES,
}


def _lis(value: str) -> list[dict[str, str]]:
    return [{"type": "SystemIdentifier", "identifier": value, "identifierType": "LisSourcedId"}]


_CALIPER_V1P2 = "http://purl.imsglobal.org/ctx/caliper/v1p2"
CALIPER_EXAMPLE: dict[str, Any] = {
    "sensor": "https://lms.example.edu/sensors/lms",
    "sendTime": "2026-09-01T15:05:00.000Z",
    "dataVersion": _CALIPER_V1P2,
    "data": [
        {
            "@context": _CALIPER_V1P2,
            "id": "urn:uuid:f093308a-c96d-5a47-8e2b-632407329adb",
            "type": "AssignableEvent",
            "action": "Submitted",
            "actor": {
                "id": "https://lms.example.edu/users/stu-1",
                "type": "Person",
                "otherIdentifiers": _lis("stu-1"),
            },
            "object": {
                "id": "https://lms.example.edu/activities/lms-123",
                "type": "AssignableDigitalResource",
            },
            "eventTime": "2026-09-01T15:00:00.000Z",
            "edApp": {"id": "https://lms.example.edu", "type": "SoftwareApplication"},
            "group": {
                "id": "https://lms.example.edu/sections/cls-1",
                "type": "CourseSection",
                "otherIdentifiers": _lis("cls-1"),
            },
        }
    ],
}

CALIPER_REQUEST: dict[str, Any] = {
    "required": True,
    "description": "A Caliper 1.1 or 1.2 envelope (docs/ingest.md, Caliper)",
    "content": {JSON: {"schema": _ref("CaliperEnvelope"), "example": CALIPER_EXAMPLE}},
}
_CALIPER_401: OpenAPIResponse = {
    **_error("Bearer credential missing or not valid"),
    "headers": {
        "WWW-Authenticate": {"description": 'Bearer realm="onpace-caliper"', "schema": {"type": "string"}}
    },
}
CALIPER_POST_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "Stored",
        "content": _json_body(
            {
                "type": "object",
                "required": ["accepted", "duplicates", "unmatched", "ignored", "described", "message"],
                "properties": {
                    "accepted": {"type": "integer", "minimum": 0},
                    "duplicates": {"type": "integer", "minimum": 0},
                    "unmatched": {"type": "integer", "minimum": 0},
                    "ignored": {"type": "integer", "minimum": 0},
                    "described": {"type": "integer", "minimum": 0},
                    "message": {"type": "string"},
                },
            }
        ),
    },
    400: _error("A malformed envelope or event (``problems`` says where)"),
    401: _CALIPER_401,
    409: _error("An event id already stored with other content; nothing was stored"),
    413: _error("The body is over the size limit"),
    415: _error("Not sent as application/json"),
    422: _error("A dataVersion OnPace does not read"),
    **GATEWAY_RESPONSES,
}
CALIPER_PING_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The Caliper versions read here and the largest body accepted",
        "content": _json_body(
            {
                "type": "object",
                "required": ["versions", "maxPayloadSize"],
                "properties": {
                    "versions": {"type": "array", "items": {"type": "string"}},
                    "maxPayloadSize": {"type": "integer"},
                },
            }
        ),
    },
    401: _CALIPER_401,
    **GATEWAY_RESPONSES,
}
CALIPER_SECURITY: list[dict[str, list[str]]] = [{"caliperBearer": []}]

# ---------------------------------------------------------------------------------------------
# Canvas Live Events.

CANVAS_REQUEST: dict[str, Any] = {
    "required": True,
    "description": "One live event, signed by Canvas as a compact RS256 JWT ('Sign Payload' on)",
    "content": {"application/jwt": {"schema": {"type": "string"}}},
}
CANVAS_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "Stored (or already stored)",
        "content": _json_body(
            {
                "type": "object",
                "required": [*_REPORT_SCHEMA["required"], "event_id", "kind"],
                "properties": {
                    **_REPORT_SCHEMA["properties"],
                    "event_id": {"type": "string"},
                    "kind": {
                        "type": ["string", "null"],
                        "description": "The activity or input kind; null if ignored",
                    },
                    "ignored": {
                        "type": ["string", "null"],
                        "description": "Why the event counts for nothing",
                    },
                },
            }
        ),
    },
    400: _error("Missing district, a malformed JWT or an event OnPace cannot read"),
    401: _error("No Canvas configuration for the district, or the JWT is not valid"),
    403: _error("The event's root account is not one of the district's"),
    409: _error("An event id already stored with other content; nothing was stored"),
    413: _error("The body is over the size limit"),
    **GATEWAY_RESPONSES,
}

# ---------------------------------------------------------------------------------------------
# Components and security schemes.

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. invalid_signature"},
        "message": {"type": "string", "description": "What was wrong, for a person"},
        "problems": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Where in the body and why, one per problem",
        },
        "event_ids": {"type": "array", "items": {"type": "string"}},
    },
}

# What the xAPI parser requires of a statement (the rest is checked there, with messages).
_XAPI_STATEMENT: dict[str, Any] = {
    "type": "object",
    "required": ["actor", "verb", "object"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "actor": {"type": "object"},
        "verb": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
        "object": {"type": "object"},
        "result": {"type": "object"},
        "context": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
}


def component_schemas() -> dict[str, Any]:
    """The schemas the routes refer to; the request bodies from the parsers' own models."""
    from onpace_core.ingest.formats.caliper import DATA_VERSIONS, Envelope
    from onpace_core.ingest.formats.plain import PlainActivityEvent
    from onpace_rules.facts import ACTIVITY_KINDS
    from onpace_rules.inputs import INPUT_KINDS

    plain = PlainActivityEvent.model_json_schema(by_alias=True, mode="validation")
    # The model checks ``kind`` in a validator (for its message); the document lists the values.
    plain["properties"]["kind"]["enum"] = [*ACTIVITY_KINDS, *INPUT_KINDS]
    caliper = Envelope.model_json_schema(mode="validation")
    # Another dataVersion is a 422 of its own (Caliper's "unsupported version"), not a 400.
    caliper["properties"]["dataVersion"]["enum"] = list(DATA_VERSIONS)
    return {
        "IngestError": _ERROR_SCHEMA,
        "GatewayError": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
        "IngestReport": _REPORT_SCHEMA,
        "PlainActivityEvent": plain,
        "XapiStatement": _XAPI_STATEMENT,
        "CaliperEnvelope": caliper,
    }


SECURITY_SCHEMES: dict[str, Any] = {
    "xapiBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "user {district_id}/{key}, password the key's secret (the district's xapi credential)",
    },
    "caliperBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Bearer {district_id}/{key}/{secret} of the district's caliper credential",
    },
}
