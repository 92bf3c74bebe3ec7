"""POST /webhooks/{source}?district=ID — receive signed LMS activity.

Thin: check the body against the shared limits (size, UTF-8) before anything else reads it,
verify the Standard Webhooks signature with the district's secret, validate the body, hand the
events to ``onpace_core.ingest.service``; map domain errors to status codes here only. A refused
request stores nothing and makes exactly one audit write (``ingest.rejected``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import ingest_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from caliper_routes import router as caliper_router
from canvas_routes import router as canvas_router
from onpace_core.ingest.limits import LimitError, decode_body
from onpace_core.ingest.signature import SignatureError, verify_signature
from onpace_core.ingest.sources import PLAIN
from onpace_core.observability import metrics, tracer
from onpace_core.observability.ingest import ConflictError, ingest_events, record_rejection
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables
from unsubscribe_routes import router as unsubscribe_router
from xapi_routes import router as xapi_router

# Signed plain JSON only: xAPI, Caliper and Canvas have routes of their own (*_routes.py).
SOURCES = (PLAIN,)
# The audit entry of a refusal keeps the reason, not a sender-sized copy of it.
_MAX_REASON = 500

logger = Logger()
app = APIGatewayHttpResolver()
app.include_router(xapi_router)  # POST/PUT /xapi/statements, GET /xapi/about
app.include_router(caliper_router)  # POST/GET /caliper/events
app.include_router(canvas_router)  # POST /canvas/live-events
app.include_router(unsubscribe_router)  # GET/POST /unsubscribe (RFC 8058 one-click)
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


def _raw_body() -> bytes | str:
    """The body as sent: API Gateway base64-encodes a body it does not take for text."""
    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body
    try:
        return base64.b64decode(body)
    except (binascii.Error, ValueError):
        raise LimitError("the body could not be read (isBase64Encoded, but not base64)") from None


def _refuse(
    district_id: str,
    source: str,
    now: datetime,
    status: int,
    error: str,
    message: str,
    problems: list[dict[str, Any]] | None = None,
) -> Response:
    # One counter update per refused request; the window's audit entry carries the count.
    record_rejection(district_id, source, status, message[:_MAX_REASON], now, code=error)
    body: dict[str, Any] = {"error": error, "message": message}
    if problems is not None:
        body["problems"] = problems
    return _json(status, body)


def _limit_refusal(district_id: str, source: str, now: datetime, exc: LimitError) -> Response:
    error = "payload_too_large" if exc.status == 413 else "invalid_payload"
    return _refuse(district_id, source, now, exc.status, error, str(exc), [] if exc.status == 400 else None)


@app.post(
    "/webhooks/<source>",
    summary="Receive signed plain JSON activity",
    description="OnPace's plain format signed with Standard Webhooks (docs/webhooks.md).",
    tags=[contract.TAG_PLAIN],
    operation_id="postPlainWebhook",
    responses=contract.PLAIN_RESPONSES,
    openapi_extensions={
        contract.PARAMETERS: contract.PLAIN_PARAMETERS,
        "requestBody": contract.PLAIN_REQUEST,
    },
)
def receive(source: str) -> Response[Any]:
    if source not in SOURCES:
        raise UnknownSourceError(source)
    district_id = app.current_event.get_query_string_value("district")
    if not district_id:
        raise MissingDistrictError()
    now = datetime.now(UTC)
    secret = _secret(district_id)
    try:
        # Before the signature: the scheme signs text, and a body that is not UTF-8 or is larger
        # than API Gateway would pass is refused the same way whoever sent it.
        body = decode_body(_raw_body())
    except LimitError as exc:
        return _limit_refusal(district_id, source, now, exc)
    try:
        verify_signature(secret, body, app.current_event.headers)
    except SignatureError as exc:
        return _refuse(
            district_id,
            source,
            now,
            401,
            "invalid_signature",
            f"webhook signature not valid: {exc}",
        )
    # The plain format's models (pydantic) load with the first signed webhook, not at cold start.
    from onpace_core.ingest.formats.plain import InvalidPayloadError, parse_plain_events

    try:
        events = parse_plain_events(body, now=now)
    except LimitError as exc:
        return _limit_refusal(district_id, source, now, exc)
    except InvalidPayloadError as exc:
        return _refuse(district_id, source, now, exc.status, "invalid_payload", str(exc), exc.problems)
    report = ingest_events(
        district_id=district_id,
        source=source,
        events=[e.to_lms_event() for e in events],
        now=now,
        ttl_days=settings.raw_event_ttl_days,
        long_ttl_days=settings.raw_archive_days,
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


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
