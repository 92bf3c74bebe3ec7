"""POST /caliper/events — IMS Caliper 1.1 and 1.2 envelopes from a Sensor (docs/ingest.md, "Caliper").

Thin: check the bearer credential against the district's ``caliper`` secret, the media type and
the envelope, hand the events to ``onpace_core.ingest.service``. The statuses are the ones the
Caliper spec asks of an endpoint: 401 (credential), 415 (not JSON), 400 (malformed envelope or
event, with ``problems``), 422 (a ``dataVersion`` OnPace does not read), 2xx once stored.
``GET`` on the same path is the spec's ping: the versions read here.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import ingest_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from onpace_core.ingest.bearer import parse_bearer
from onpace_core.ingest.credentials import CredentialError, CredentialName, secret_name, verify
from onpace_core.ingest.limits import MAX_BODY_BYTES, LimitError
from onpace_core.ingest.sources import CALIPER as SOURCE
from onpace_core.ingest.sources import CALIPER_PATH as PATH
from onpace_core.observability.ingest import ingest_events, record_rejection
from onpace_core.settings import get_settings

_ERRORS = {
    400: "invalid_payload",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unsupported_version",
}

logger = Logger(child=True)
router = APIGatewayHttpRouter()
settings = get_settings()


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


def _stored_keys(district_id: str) -> str | None:
    """The district's Caliper secret (``{"keys": {...}}``), or None when it has none."""
    try:
        name = secret_name(settings.webhook_secret_prefix, district_id, SOURCE)
        return str(parameters.get_secret(name, max_age=300))
    except parameters.exceptions.GetParameterError:
        return None


def _body(event: APIGatewayProxyEventV2) -> bytes | str:
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body


def _authenticate(event: APIGatewayProxyEventV2, now: datetime) -> CredentialName | Response:
    """The verified credential of the request, or the 401 to answer with."""
    configured: dict[str, bool] = {}

    def fetch(district_id: str) -> str | None:
        stored = _stored_keys(district_id)
        configured[district_id] = stored is not None
        return stored

    try:
        name, given = parse_bearer(event.headers.get("authorization"))
        verify(name, given, fetch)
    except CredentialError as exc:
        # Audited only for a district that has Caliper credentials: a failed key there is worth
        # an admin's look; a token naming any other district is noise.
        for district_id, has_keys in configured.items():
            if has_keys:
                record_rejection(district_id, SOURCE, 401, str(exc), now, code="invalid_credential")
        return _json(
            401,
            {"error": "invalid_credential", "message": str(exc)},
            {"WWW-Authenticate": 'Bearer realm="onpace-caliper"'},
        )
    return name


@router.get(
    PATH,
    summary="Caliper ping: the versions read here",
    tags=[contract.TAG_CALIPER],
    operation_id="getCaliperPing",
    responses=contract.CALIPER_PING_RESPONSES,
    security=contract.CALIPER_SECURITY,
)
def ping_caliper() -> Response[Any]:
    """Caliper's ping (1.1 §6.1.2): the versions this endpoint reads, for an authorized Sensor."""
    from onpace_core.ingest.formats.caliper import DATA_VERSIONS

    name = _authenticate(router.current_event, datetime.now(UTC))
    if isinstance(name, Response):
        return name
    return _json(200, {"versions": list(DATA_VERSIONS), "maxPayloadSize": MAX_BODY_BYTES})


@router.post(
    PATH,
    summary="Receive a Caliper envelope from a Sensor",
    tags=[contract.TAG_CALIPER],
    operation_id="postCaliperEvents",
    responses=contract.CALIPER_POST_RESPONSES,
    security=contract.CALIPER_SECURITY,
    openapi_extensions={"requestBody": contract.CALIPER_REQUEST},
)
def receive_caliper() -> Response[Any]:
    event = router.current_event
    now = datetime.now(UTC)
    name = _authenticate(event, now)
    if isinstance(name, Response):
        return name
    # The Caliper parser (pydantic models) loads with the first authenticated envelope.
    from onpace_core.ingest.formats.caliper import check_media_type, parse_caliper

    try:
        check_media_type(event.headers.get("content-type"))
        batch = parse_caliper(_body(event), now=now)
    except LimitError as exc:
        error = _ERRORS.get(exc.status, "invalid_payload")
        record_rejection(name.district_id, SOURCE, exc.status, str(exc), now, code=error)
        return _json(
            exc.status,
            {
                "error": error,
                "message": str(exc),
                "problems": getattr(exc, "problems", []),
            },
        )
    report = ingest_events(
        district_id=name.district_id,
        source=SOURCE,
        events=batch.events,
        now=now,
        ttl_days=settings.raw_event_ttl_days,
        long_ttl_days=settings.raw_archive_days,
    )
    summary = {
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "unmatched": len(report.unmatched),
        "ignored": batch.ignored,
        "described": batch.described,
    }
    logger.info("caliper envelope stored", extra={"source": SOURCE, "key": name.key, **summary})
    return _json(
        200,
        {
            **summary,
            "message": (
                f"{report.accepted} stored, {report.duplicates} already received, "
                f"{len(report.unmatched)} for students/classes not on the roster, "
                f"{batch.ignored} kept that count for nothing, {batch.described} entities described"
            ),
        },
    )
