"""Upcoming: what the evaluator would decide tomorrow (``days=1``) or over the next 7 days
(``days=7``, the default), from the same engine, grouped by day: a preview, nothing written or
sent (``onpace_core.console.preview``; the page says what it assumes).

``GET /console/views/upcoming?days=1|7`` (the view fragment).
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import BadQueryError, current_caller, html_response, render

logger = Logger(child=True)
router = APIGatewayHttpRouter()

CHOICES = (1, 7)


def parse_days(raw: str | None) -> int:
    """``days`` of the query: 1 (tomorrow) or 7 (the next 7 days, also when absent or empty)."""
    text = (raw or "").strip()
    if not text:
        return 7
    if text not in {str(c) for c in CHOICES}:
        raise BadQueryError(f"days must be 1 or 7, got {text[:20]!r}")
    return int(text)


@router.get(
    "/console/views/upcoming",
    summary="The upcoming view: a preview of the next evaluations' decisions (an HTML fragment)",
    tags=[contract.TAG],
    operation_id="getUpcomingView",
    responses=contract.UPCOMING_VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.UPCOMING_VIEW_PARAMETERS},
)
def upcoming_view() -> Response[Any]:
    from onpace_core.console.preview import preview  # the engine: not at cold start

    caller = current_caller()
    days = parse_days((router.current_event.query_string_parameters or {}).get("days"))
    found = preview(caller.district, days=days)
    logger.info(
        "upcoming previewed",
        extra={
            "district_id": caller.district,
            "days": days,
            "enrollments_read": found.enrollments_read,
            "decisions": len(found.items),
            "truncated": len(found.truncated),
        },
    )
    by_day = [(day, list(items)) for day, items in groupby(found.items, key=lambda u: u.on)]
    html = render("upcoming_view.html.j2", preview=found, days=days, by_day=by_day)
    return html_response(html)
