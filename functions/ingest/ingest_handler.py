"""POST /webhooks/{source}?district=ID — receive signed LMS activity.

Thin: verify the Standard Webhooks signature with the district's secret, validate the body,
hand the events to ``onpace_core.ingest.service``; map domain errors to status codes here only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.ingest.formats.plain import InvalidPayloadError, parse_plain_events
from onpace_core.ingest.service import ConflictError, ingest_events, record_rejection
from onpace_core.ingest.signature import SignatureError, verify_signature
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

SOURCES = ("plain",)  # later issues add xapi, caliper, canvas

logger = Logger()
app = APIGatewayHttpResolver()
settings = get_settings()
bind_tables(settings)


class UnknownSourceError(Exception):
    pass


class MissingDistrictError(Exception):
    pass


class UnknownDistrictError(Exception):
    pass


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _secret(district_id: str) -> str:
    try:
        value = parameters.get_secret(f"{settings.webhook_secret_prefix}{district_id}", max_age=300)
    except parameters.exceptions.GetParameterError as exc:
        raise UnknownDistrictError(district_id) from exc
    return str(value)


@app.post("/webhooks/<source>")
def receive(source: str) -> Response:
    if source not in SOURCES:
        raise UnknownSourceError(source)
    district_id = app.current_event.get_query_string_value("district")
    if not district_id:
        raise MissingDistrictError()
    body = app.current_event.decoded_body or ""
    now = datetime.now(UTC)
    secret = _secret(district_id)
    try:
        verify_signature(secret, body, app.current_event.headers)
    except SignatureError as exc:
        record_rejection(district_id, source, 401, f"signature not valid ({exc})", now)
        return _json(401, {"error": "invalid_signature", "message": f"webhook signature not valid: {exc}"})
    try:
        events = parse_plain_events(body)
    except InvalidPayloadError as exc:
        record_rejection(district_id, source, 400, str(exc), now)
        return _json(400, {"error": "invalid_payload", "message": str(exc), "problems": exc.problems})
    report = ingest_events(
        district_id=district_id,
        source=source,
        events=[e.to_lms_event() for e in events],
        now=now,
        ttl_days=settings.raw_event_ttl_days,
    )
    logger.info(
        "webhook stored",
        extra={
            "source": source,
            "accepted": report.accepted,
            "duplicates": report.duplicates,
            "unmatched": len(report.unmatched),
            "ignored": report.ignored,
            "voided": report.voided,
        },
    )
    return _json(202, report.as_response())


@app.exception_handler(UnknownSourceError)
def _unknown_source(exc: UnknownSourceError) -> Response:
    return _json(
        404, {"error": "unknown_source", "message": f"unknown source {exc}; use one of {list(SOURCES)}"}
    )


@app.exception_handler(ConflictError)
def _conflict(exc: ConflictError) -> Response:
    return _json(
        409,
        {
            "error": "conflict",
            "message": f"{exc}; nothing of this request was stored (send a new event id for new content)",
            "event_ids": exc.event_ids,
        },
    )


@app.exception_handler(MissingDistrictError)
def _missing_district(_: MissingDistrictError) -> Response:
    return _json(400, {"error": "missing_district", "message": "query parameter 'district' is required"})


@app.exception_handler(UnknownDistrictError)
def _unknown_district(exc: UnknownDistrictError) -> Response:
    return _json(
        401, {"error": "unknown_district", "message": f"no webhook secret is configured for district {exc}"}
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
