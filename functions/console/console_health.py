"""Health: the district's rejected and quarantined events, parked failures (what the dead-letter
queues hold of it, as its audit log records them), suppressed addresses, and per rule and day the
notices decided, sent and delivered (``onpace_core.console.health``).

``GET /console/views/health?days=`` (1–31, default 7; the view fragment) and
``POST /console/views/health/suppressions/clear`` (``id``, ``days`` of the view, with the CSRF
field): clears one
suppressed address, as ``DELETE /console/api/suppressions`` does (audited
``suppression.cleared``), and shows the view again; a second submit says it was cleared already.
"""

from __future__ import annotations

from typing import Any

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import (
    csrf_token,
    current_caller,
    html_response,
    posted_form,
    render,
    require_csrf,
    whole_number,
)
from console_mail import clear_suppression

logger = Logger(child=True)
router = APIGatewayHttpRouter()

DEFAULT_DAYS = 7
MAX_DAYS = 31  # onpace_core.console.health.MAX_DAYS (not imported at cold start)


def _days(raw: str | None) -> int:
    """The period in days: 1 to ``MAX_DAYS``, ``DEFAULT_DAYS`` when absent or empty."""
    text = (raw or "").strip()
    return whole_number("days", text, 1, MAX_DAYS) if text else DEFAULT_DAYS


def render_health(district_id: str, days: int, result: dict[str, str] | None = None) -> Response[Any]:
    """The health view of ``district_id`` over ``days`` days, with ``result`` on top."""
    from onpace_core.console.health import health  # the domain: not at cold start

    report = health(district_id, days=days)
    logger.info(
        "health read",
        extra={
            "district_id": district_id,
            "days": days,
            "entries_read": report.entries_read,
            "rejected": report.rejected_count,
            "quarantined": report.quarantined_count,
            "parked": len(report.parked),
            "suppressed": len(report.suppressed),
        },
    )
    html = render("health_view.html.j2", h=report, days=days, result=result, csrf=csrf_token())
    return html_response(html)


@router.get(
    "/console/views/health",
    summary="The health view (an HTML fragment of the console shell)",
    tags=[contract.TAG],
    operation_id="getHealthView",
    responses=contract.VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.HEALTH_VIEW_PARAMETERS},
)
def health_view() -> Response[Any]:
    caller = current_caller()
    return render_health(
        caller.district, _days((router.current_event.query_string_parameters or {}).get("days"))
    )


@router.post(
    "/console/views/health/suppressions/clear",
    summary="Clear a suppressed address (a form of the health view)",
    tags=[contract.TAG],
    operation_id="postHealthSuppressionClear",
    responses=contract.FORM_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.REQUEST_BODY: contract.SUPPRESSION_CLEAR_FORM},
)
def suppression_clear_form() -> Response[Any]:
    caller = current_caller()
    form = posted_form(router.current_event)
    require_csrf(form)
    if clear_suppression(caller.district, form.get("id", "").strip()):
        result = {"state": "recorded", "message": "Cleared: later notices are sent to that address again."}
    else:
        result = {
            "state": "already",
            "message": "Already cleared (or not on your district's list): nothing changed.",
        }
    return render_health(caller.district, _days(form.get("days")), result)
