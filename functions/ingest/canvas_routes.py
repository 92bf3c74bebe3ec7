"""POST /canvas/live-events?district=ID — Canvas Live Events over HTTPS (docs/ingest.md).

Canvas Data Services POSTs one event per request; with "Sign Payload" on, the body is a compact
JWT (RS256) whose claims are the event. Thin: find the district's Canvas configuration, verify
the JWT, check the event's root account belongs to the district, parse, hand the event to
``onpace_core.ingest.service``. A refused request stores nothing but an audit summary.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import ingest_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.utilities import parameters
from onpace_core.ingest.credentials import secret_name
from onpace_core.ingest.limits import LimitError, decode_body
from onpace_core.ingest.sources import CANVAS as SOURCE
from onpace_core.observability.ingest import ingest_events, record_rejection
from onpace_core.settings import get_settings

logger = Logger(child=True)
router = APIGatewayHttpRouter()

# The district id becomes part of a secret's name: the same characters credentials allow.
_DISTRICT = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _receiver_secret(district_id: str) -> str | None:
    name = secret_name(get_settings().webhook_secret_prefix, district_id, SOURCE)
    try:
        return str(parameters.get_secret(name, max_age=300))
    except parameters.exceptions.GetParameterError:
        return None


def _refuse(district_id: str, status: int, error: str, message: str, now: datetime) -> Response:
    record_rejection(district_id, SOURCE, status, message, now, code=error)
    logger.info("canvas live event refused", extra={"status": status, "error": error})
    return _json(status, {"error": error, "message": message})


@router.post(
    "/canvas/live-events",
    summary="Receive one Canvas live event (a signed JWT)",
    tags=[contract.TAG_CANVAS],
    operation_id="postCanvasLiveEvent",
    responses=contract.CANVAS_RESPONSES,
    openapi_extensions={
        contract.PARAMETERS: [contract.DISTRICT_QUERY],
        "requestBody": contract.CANVAS_REQUEST,
    },
)
def receive_canvas_live_event() -> Response[Any]:
    # The receiver's settings (pydantic) and the event parser load on the first Canvas request.
    from onpace_core.ingest.canvas_auth import CanvasTokenError, parse_receiver, verify_live_event_jwt
    from onpace_core.ingest.formats.canvas import CanvasFormatError, parse_canvas_event, root_account_id

    district_id = router.current_event.get_query_string_value("district") or ""
    if not _DISTRICT.match(district_id):
        return _json(
            400,
            {
                "error": "missing_district",
                "message": "query parameter 'district' (a district id) is required",
            },
        )
    now = datetime.now(UTC)
    secret = _receiver_secret(district_id)
    if secret is None:
        return _json(
            401,
            {
                "error": "unknown_district",
                "message": f"no Canvas Live Events configuration for district {district_id}",
            },
        )
    try:
        receiver = parse_receiver(secret)
        token = decode_body(router.current_event.decoded_body or "").strip()
        if token.startswith(("{", "[")):
            raise CanvasTokenError("the body is unsigned JSON: turn on 'Sign Payload' in the subscription")
        claims = verify_live_event_jwt(token, receiver)
    except CanvasTokenError as exc:
        error = "malformed_jwt" if exc.status == 400 else "invalid_jwt"
        return _refuse(district_id, exc.status, error, str(exc), now)
    except LimitError as exc:
        return _refuse(district_id, exc.status, "invalid_payload", str(exc), now)
    account = root_account_id(claims)
    if account not in receiver.accounts:
        return _refuse(
            district_id,
            403,
            "unknown_account",
            f"Canvas root account {account} is not one of district {district_id}'s accounts",
            now,
        )
    try:
        event = parse_canvas_event(claims, now)
    except (CanvasFormatError, LimitError) as exc:
        status = exc.status if isinstance(exc, LimitError) else 400
        return _refuse(district_id, status, "invalid_payload", str(exc), now)
    settings = get_settings()
    report = ingest_events(
        district_id=district_id,
        source=SOURCE,
        events=[event],
        now=now,
        ttl_days=settings.raw_event_ttl_days,
        long_ttl_days=settings.raw_archive_days,
    )
    logger.info(
        "canvas live event stored",
        extra={
            "kind": event.kind,
            "accepted": report.accepted,
            "duplicates": report.duplicates,
            "unmatched": len(report.unmatched),
        },
    )
    return _json(
        200,
        {**report.as_response(), "event_id": event.event_id, "kind": event.kind, "ignored": event.ignored},
    )
