"""The xAPI 1.0.3 Statement resource: OnPace as the Learning Record Store an LMS reports to.

``POST /xapi/statements`` (one statement or an array → 200, the ids in order),
``PUT /xapi/statements?statementId=`` (one statement → 204) and ``GET /xapi/about``.
HTTP Basic: the username is the credential's name ``{district_id}/{key}``, the password its
secret (``onpace_core.ingest.credentials``, source ``xapi``). Thin: authenticate, parse
(``formats.xapi``), hand the events to the ingest service, answer; docs/ingest.md ``## xAPI``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any

import ingest_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.utilities import parameters
from onpace_core.ingest.credentials import CredentialError, CredentialName, secret_name, verify
from onpace_core.ingest.limits import LimitError
from onpace_core.ingest.sources import XAPI as SOURCE
from onpace_core.observability.ingest import ConflictError, ingest_events, record_rejection
from onpace_core.settings import get_settings

XAPI_VERSION = "1.0.3"
VERSION_HEADER = "X-Experience-API-Version"
_ACCEPTED_VERSION = re.compile(r"^1\.0(\.\d+)?$")
_REALM = 'Basic realm="OnPace xAPI"'

logger = Logger(child=True)
router = APIGatewayHttpRouter()


class XapiRefusal(Exception):
    """A request answered with a 4xx; ``district_id`` is set once the sender is authenticated
    (or at least names a district with xAPI credentials), so the refusal can be audited."""

    def __init__(
        self, status: int, error: str, message: str, *, district_id: str | None = None, audit: bool = True
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.district_id = district_id
        self.audit = audit


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    all_headers = {VERSION_HEADER: XAPI_VERSION, **(headers or {})}
    if body is None:
        return Response(status_code=status, headers=all_headers, body="")
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers=all_headers,
    )


@router.get(
    "/xapi/about",
    summary="The xAPI versions of this LRS",
    tags=[contract.TAG_XAPI],
    operation_id="getXapiAbout",
    responses=contract.XAPI_ABOUT_RESPONSES,
)
def about() -> Response[Any]:
    return _answer(200, {"version": [XAPI_VERSION]})


@router.post(
    "/xapi/statements",
    summary="Store xAPI statements (Learning Record Store)",
    tags=[contract.TAG_XAPI],
    operation_id="postXapiStatements",
    responses=contract.XAPI_POST_RESPONSES,
    security=contract.XAPI_SECURITY,
    openapi_extensions={
        contract.PARAMETERS: [contract.XAPI_VERSION_HEADER],
        "requestBody": contract.XAPI_REQUEST,
    },
)
def post_statements() -> Response[Any]:
    ids = _store(put=False)
    return _answer(200, ids)


@router.put(
    "/xapi/statements",
    summary="Store one xAPI statement under its id",
    tags=[contract.TAG_XAPI],
    operation_id="putXapiStatement",
    responses=contract.XAPI_PUT_RESPONSES,
    security=contract.XAPI_SECURITY,
    openapi_extensions={
        contract.PARAMETERS: [contract.XAPI_STATEMENT_ID, contract.XAPI_VERSION_HEADER],
        "requestBody": contract.XAPI_PUT_REQUEST,
    },
)
def put_statement() -> Response[Any]:
    _store(put=True)
    return _answer(204)


def _store(*, put: bool) -> list[str]:
    """Authenticate, check the request, parse and ingest; the stored events' ids, in order."""
    event = router.current_event
    settings = get_settings()
    name = _authenticate(event.headers, settings.webhook_secret_prefix)
    district_id = name.district_id
    statement_id = event.get_query_string_value("statementId") if put else None
    if put and not statement_id:
        raise XapiRefusal(
            400,
            "missing_statement_id",
            "PUT needs the query parameter 'statementId'",
            district_id=district_id,
        )
    version = event.headers.get(VERSION_HEADER.lower())
    if version is None:
        raise XapiRefusal(
            400, "missing_version", f"the {VERSION_HEADER} header is required", district_id=district_id
        )
    if not _ACCEPTED_VERSION.match(version.strip()):
        raise XapiRefusal(
            400,
            "unsupported_version",
            f"{VERSION_HEADER} {version!r} is not supported; OnPace speaks {XAPI_VERSION} (1.0.x)",
            district_id=district_id,
        )
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/"):
        raise XapiRefusal(
            400,
            "attachments_not_accepted",
            "attachments are not accepted; send statements as application/json",
            district_id=district_id,
        )
    if content_type != "application/json":
        raise XapiRefusal(
            400,
            "unsupported_content_type",
            f"Content-Type must be application/json, not {content_type or 'none'}",
            district_id=district_id,
        )
    body: bytes | str = event.body or ""
    if event.is_base64_encoded:
        body = base64.b64decode(body)
    now = datetime.now(UTC)
    # The xAPI parser (pydantic models) loads with the first authenticated, well-formed request.
    from onpace_core.ingest.formats.xapi import parse_statements

    try:
        events = parse_statements(body, now=now, statement_id=statement_id)
    except LimitError as exc:
        raise XapiRefusal(exc.status, "invalid_statement", str(exc), district_id=district_id) from None
    try:
        report = ingest_events(
            district_id=district_id,
            source=SOURCE,
            events=events,
            now=now,
            ttl_days=settings.raw_event_ttl_days,
            long_ttl_days=settings.raw_archive_days,
        )
    except ConflictError as exc:
        raise XapiRefusal(
            409,
            "conflict",
            f"statement(s) {', '.join(exc.event_ids)} are already stored with other content; "
            "nothing of this request was stored",
            district_id=district_id,
        ) from None
    logger.info(
        "xapi statements stored",
        extra={
            "key": name.key,
            "statements": len(events),
            "accepted": report.accepted,
            "duplicates": report.duplicates,
            "unmatched": len(report.unmatched),
        },
    )
    return [e.event_id for e in events]


def _authenticate(headers: dict[str, str], prefix: str) -> CredentialName:
    """The verified credential of the request's HTTP Basic ``Authorization``; 401 otherwise."""
    value = headers.get("authorization") or ""
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise XapiRefusal(401, "unauthorized", "HTTP Basic credentials are required", audit=False)
    try:
        username, colon, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise XapiRefusal(
            401, "unauthorized", "the Basic credentials are not base64 of 'name:secret'", audit=False
        ) from None
    if not colon:
        raise XapiRefusal(401, "unauthorized", "the Basic credentials are not 'name:secret'", audit=False)
    try:
        name = CredentialName.parse(username)
    except CredentialError as exc:
        raise XapiRefusal(401, "unauthorized", str(exc), audit=False) from None
    configured = False

    def fetch(district_id: str) -> str | None:
        nonlocal configured
        try:
            value = parameters.get_secret(secret_name(prefix, district_id, SOURCE), max_age=300)
        except parameters.exceptions.GetParameterError:
            return None
        configured = True
        return str(value)

    try:
        verify(name, password, fetch)
    except CredentialError as exc:
        # A district without xAPI credentials is not audited: anyone could name any district.
        raise XapiRefusal(
            401, "unauthorized", str(exc), district_id=name.district_id, audit=configured
        ) from None
    return name


@router.exception_handler(XapiRefusal)
def _refused(exc: XapiRefusal) -> Response:
    if exc.district_id is not None and exc.audit:
        record_rejection(exc.district_id, SOURCE, exc.status, exc.message, datetime.now(UTC), code=exc.error)
    headers = {"WWW-Authenticate": _REALM} if exc.status == 401 else None
    return _answer(exc.status, {"error": exc.error, "message": exc.message}, headers)
