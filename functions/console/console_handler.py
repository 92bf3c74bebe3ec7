"""District console: the app, its Lambda handler, the error mapping and the area routers.

``GET /console`` is the public shell (``console_shell``); every other route is behind the
``DistrictAdmins`` JWT authorizer and acts for ``console_access.current_caller()``'s district:
views (``/console/views/<name>``, HTML fragments the shell puts in ``<main>``) and JSON under
``/console/api/``. Areas: ``console_audit`` (the log, its check), ``console_failures`` (parked
work), ``console_mail`` (suppressions, emails as sent), ``console_students`` (search, the
student's timeline, an email as sent beside the other language), ``console_upcoming`` (the
preview), ``console_queues`` (work queues and their forms), ``console_evidence`` (evidence packet,
its PDF, FERPA record of disclosures), ``console_health``. Domain errors become status codes here,
in the ``@app.exception_handler`` functions, and nowhere else.
"""

from __future__ import annotations

import traceback
from http import HTTPStatus
from typing import Any

import console_access
import console_audit
import console_contract as contract  # noqa: F401  (its SECURITY_SCHEMES: local/onpace_local/openapi.py)
import console_evidence
import console_failures
import console_health
import console_mail
import console_queues
import console_shell
import console_students
import console_upcoming
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from console_access import (
    BadQueryError,
    CsrfError,
    DistrictNotAllowedError,
    DistrictRequiredError,
    NoDistrictError,
    NotFoundError,
    UnauthenticatedError,
    json_response,
)
from onpace_core.observability import metrics, tracer
from onpace_core.settings import Settings
from onpace_core.store.models import bind_tables
from pynamodb.exceptions import PynamoDBException

logger = Logger()
app = APIGatewayHttpResolver(debug=False)
app.include_router(console_shell.router)
app.include_router(console_audit.router)
app.include_router(console_failures.router)
app.include_router(console_mail.router)
app.include_router(console_students.router)
app.include_router(console_upcoming.router)
app.include_router(console_queues.router)
app.include_router(console_evidence.router)
app.include_router(console_health.router)

bind_tables(Settings.from_env())


@app.exception_handler(UnauthenticatedError)
def _unauthorized(error: UnauthenticatedError) -> Response[Any]:
    return json_response(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"})


@app.exception_handler(NoDistrictError)
def _no_district(error: NoDistrictError) -> Response[Any]:
    logger.warning("console request without a valid district claim")
    return json_response(HTTPStatus.FORBIDDEN, {"message": str(error)})


@app.exception_handler(DistrictNotAllowedError)
def _not_your_district(error: DistrictNotAllowedError) -> Response[Any]:
    logger.warning("console request for a district not in the caller's claim")
    return json_response(HTTPStatus.FORBIDDEN, {"message": str(error)})


@app.exception_handler(CsrfError)
def _csrf(error: CsrfError) -> Response[Any]:
    logger.warning("console form without its CSRF token")
    return json_response(HTTPStatus.FORBIDDEN, {"message": str(error)})


@app.exception_handler(DistrictRequiredError)
def _which_district(error: DistrictRequiredError) -> Response[Any]:
    return json_response(HTTPStatus.BAD_REQUEST, {"message": str(error)})


@app.exception_handler(BadQueryError)
def _bad_query(error: BadQueryError) -> Response[Any]:
    return json_response(HTTPStatus.BAD_REQUEST, {"message": str(error)})


@app.exception_handler(NotFoundError)
def _not_found(error: NotFoundError) -> Response[Any]:
    # The reference may name a student: not logged.
    return json_response(HTTPStatus.NOT_FOUND, {"message": "No such record in your district."})


@app.exception_handler(PynamoDBException)
def _store_unavailable(error: PynamoDBException) -> Response[Any]:
    # The exception text may quote keys (district#student): log its type and frames only.
    logger.error(
        "audit store error",
        extra={"error_type": type(error).__name__, "frames": traceback.format_tb(error.__traceback__)},
    )
    return json_response(
        HTTPStatus.SERVICE_UNAVAILABLE, {"message": "The audit log is unavailable; try again."}
    )


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    console_access.bind(event)
    return app.resolve(event, context)
