"""Parked failures: the district's work parked in a dead-letter queue, newest first.

``GET /console/views/failures?before=`` (the view fragment) and ``GET /console/api/failures?
before=&limit=`` (its JSON): enrollments whose evaluation failed its last attempt and notices
whose delivery did, each with the later audit entry that settled it, if any.

The dead-letter queues hold every district's messages, so the console never reads them: a
district's failures are its own audit entries (``evaluation.failed``, ``delivery.failed``),
listed through the audit table's sparse ``failures`` index.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import current_caller, html_response, json_response, render, whole_number
from console_audit import DEFAULT_LIMIT, MAX_LIMIT, detail_of
from onpace_core.audit import log as audit_log
from onpace_core.store.models import AuditModel

logger = Logger(child=True)
router = APIGatewayHttpRouter()


@dataclass(frozen=True)
class FailuresQuery:
    before_seq: int | None
    limit: int


def parse_failures_query(params: dict[str, str] | None) -> FailuresQuery:
    """``before`` and ``limit``; every other parameter is ignored."""
    params = params or {}
    before = params.get("before") or None
    limit = params.get("limit") or None
    return FailuresQuery(
        before_seq=whole_number("before", before, 1, None) if before is not None else None,
        limit=whole_number("limit", limit, 1, MAX_LIMIT) if limit is not None else DEFAULT_LIMIT,
    )


# What a later entry about the same parked work means for it (by the failure's type).
_SETTLES: dict[str, dict[str, str]] = {
    "evaluation.failed": {"evaluation.recovered": "recovered", "evaluation.failed": "parked again"},
    "delivery.failed": {
        "notice.sent": "recovered",
        "notice.confirmed": "recovered",
        "notice.unconfirmed": "recovered",
        "notice.failed": "settled as failed",
        # A warning the re-check at send found resolved (the student re-engaged): nothing to send.
        "notice.cancelled": "cancelled (resolved)",
        "delivery.failed": "parked again",
    },
}


def _same_work(failure: AuditModel, later: AuditModel) -> bool:
    if failure.type == "delivery.failed":
        return later.notice_id == failure.notice_id
    return (later.program_id, later.class_id, later.on) == (failure.program_id, failure.class_id, failure.on)


def outcome_of(district_id: str, failure: AuditModel) -> dict[str, Any]:
    """What became of parked work, from the audit log: the first later entry of the same student
    about the same enrollment day (``evaluation.recovered`` when a re-drive went through) or the
    same notice (``notice.sent`` …). One Query of the student's later entries (``by_student``).

    ``{"state": "open"}`` when there is none. An enrollment evaluated again by a later day's
    run, with no decision, leaves no entry: only a re-drive is recorded as recovering it.
    """
    settles = _SETTLES.get(failure.type, {})
    if failure.student_id:
        for later in audit_log.later_for_student(district_id, failure.student_id, int(failure.seq)):
            state = settles.get(later.type)
            if state and _same_work(failure, later):
                return {
                    "state": state,
                    "seq": int(later.seq),
                    "at": later.at,
                    "type": later.type,
                    "summary": later.summary,
                }
    return {"state": "open"}


def failure_json(item: AuditModel, outcome: dict[str, Any]) -> dict[str, Any]:
    """One parked failure as the API answers it."""
    detail = detail_of(item.detail)
    detail = detail if isinstance(detail, dict) else {}
    attempts = detail.get("attempts")
    return {
        "seq": int(item.seq),
        "at": item.at,
        "on": item.on,
        "type": item.type,
        "what": "notice" if item.type == "delivery.failed" else "enrollment",
        "program_id": item.program_id,
        "class_id": item.class_id,
        "student_id": item.student_id,
        "rule_id": item.rule_id,
        "notice_id": item.notice_id,
        "error": str(detail.get("error") or "unknown"),
        "attempts": attempts if isinstance(attempts, int) else None,
        "summary": item.summary,
        "outcome": outcome,
    }


def failures_page(district_id: str, query: FailuresQuery) -> dict[str, Any]:
    """One page of the district's parked work, newest first, and where the next page starts."""
    items = audit_log.read_failures(district_id, before_seq=query.before_seq, limit=query.limit + 1)
    page = items[: query.limit]
    more = len(items) > query.limit
    return {
        "district_id": district_id,
        "failures": [failure_json(item, outcome_of(district_id, item)) for item in page],
        "next_before": int(page[-1].seq) if more and page else None,
    }


def _log_failures_read(district_id: str, query: FailuresQuery, page: dict[str, Any]) -> None:
    logger.info(
        "failures read",
        extra={
            "district_id": district_id,
            "before": query.before_seq,
            "limit": query.limit,
            "failures": len(page["failures"]),
            "open": sum(1 for f in page["failures"] if f["outcome"]["state"] == "open"),
        },
    )


@router.get(
    "/console/views/failures",
    summary="The parked failures view (an HTML fragment of the console shell)",
    tags=[contract.TAG],
    operation_id="getFailuresView",
    responses=contract.FAILURES_VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.FAILURES_VIEW_PARAMETERS},
)
def failures_view() -> Response[Any]:
    caller = current_caller()
    query = parse_failures_query(router.current_event.query_string_parameters)
    page = failures_page(caller.district, query)
    _log_failures_read(caller.district, query, page)
    html = render(
        "failures_view.html.j2",
        district_id=caller.district,
        failures=page["failures"],
        next_before=page["next_before"],
        first_page=query.before_seq is None,
    )
    return html_response(html)


@router.get(
    "/console/api/failures",
    summary="A page of the district's parked failures",
    tags=[contract.TAG],
    operation_id="getFailures",
    responses=contract.FAILURES_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.FAILURES_PARAMETERS},
)
def failures_entries() -> Response[Any]:
    caller = current_caller()
    query = parse_failures_query(router.current_event.query_string_parameters)
    page = failures_page(caller.district, query)
    _log_failures_read(caller.district, query, page)
    return json_response(HTTPStatus.OK, page)
