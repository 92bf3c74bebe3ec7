"""The audit log: its view fragment, its JSON API and the hash-chain check.

``GET /console/views/audit?student=&rule=&before=&limit=&verify=``
    The log as an HTML fragment for the shell, newest first, with the filters, the next page as
    a hash link and, with ``verify=1``, the chain check's result.
``GET /console/api/audit?student=&rule=&before=&limit=``
    ``{"district_id", "entries": [...], "next_before": seq | null}``, newest first.
``GET /console/api/audit/verify``
    ``{"district_id", "entries", "intact", "first_broken_seq", "problem"}``.

Every read is the caller's district's (``console_access.current_caller``); a ``district`` query
parameter, like any other unknown one, is ignored. Logs never carry a student id: the filters
are logged as present/absent only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import current_caller, filter_text, html_response, json_response, render, whole_number
from onpace_core.audit import log as audit_log
from onpace_core.store.models import AuditModel

logger = Logger(child=True)
router = APIGatewayHttpRouter()

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class AuditQuery:
    student_id: str | None
    rule_id: str | None
    before_seq: int | None
    limit: int


def parse_audit_query(params: dict[str, str] | None) -> AuditQuery:
    """``student``, ``rule``, ``before`` and ``limit``; every other parameter is ignored."""
    params = params or {}
    before = params.get("before") or None
    limit = params.get("limit") or None
    return AuditQuery(
        student_id=filter_text("student", params.get("student")),
        rule_id=filter_text("rule", params.get("rule")),
        before_seq=whole_number("before", before, 1, None) if before is not None else None,
        limit=whole_number("limit", limit, 1, MAX_LIMIT) if limit is not None else DEFAULT_LIMIT,
    )


def detail_of(raw: str | None) -> Any:
    """An entry's stored detail as data (``{"unreadable": raw}`` if it is not JSON)."""
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {"unreadable": raw}


def entry_json(item: AuditModel) -> dict[str, Any]:
    """One audit entry as the API answers it."""
    return {
        "seq": int(item.seq),
        "at": item.at,
        "on": item.on,
        "type": item.type,
        "actor": item.actor,
        "rule_id": item.rule_id,
        "policy_version": item.policy_version,
        "program_id": item.program_id,
        "student_id": item.student_id,
        "class_id": item.class_id,
        "notice_id": item.notice_id,
        "summary": item.summary,
        "detail": detail_of(item.detail),
        "prev_hash": item.prev_hash,
        "hash": item.hash,
    }


def audit_page(district_id: str, query: AuditQuery) -> dict[str, Any]:
    """One page of the district's log, newest first, and where the next (older) page starts."""
    items = audit_log.read(
        district_id,
        student_id=query.student_id,
        rule_id=query.rule_id,
        before_seq=query.before_seq,
        limit=query.limit + 1,  # one more than asked tells whether an older page exists
    )
    page = items[: query.limit]
    more = len(items) > query.limit
    return {
        "district_id": district_id,
        "entries": [entry_json(item) for item in page],
        "next_before": int(page[-1].seq) if more and page else None,
    }


def _log_read(district_id: str, query: AuditQuery) -> None:
    logger.info(
        "audit read",
        extra={
            "district_id": district_id,
            "student_filter": query.student_id is not None,  # never the id itself
            "rule_id": query.rule_id,
            "before": query.before_seq,
            "limit": query.limit,
        },
    )


def _verify(district_id: str) -> dict[str, Any]:
    report = audit_log.verify_chain(district_id)
    logger.info(
        "audit chain verified",
        extra={
            "district_id": district_id,
            "entries": report.entries,
            "intact": report.intact,
            "first_broken_seq": report.first_broken_seq,
        },
    )
    return asdict(report)


@router.get(
    "/console/views/audit",
    summary="The audit log view (an HTML fragment of the console shell)",
    tags=[contract.TAG],
    operation_id="getAuditView",
    responses=contract.VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.AUDIT_VIEW_PARAMETERS},
)
def audit_view() -> Response[Any]:
    caller = current_caller()
    params = router.current_event.query_string_parameters or {}
    query = parse_audit_query(params)
    page = audit_page(caller.district, query)
    _log_read(caller.district, query)
    verification = _verify(caller.district) if params.get("verify") == "1" else None
    html = render(
        "audit_view.html.j2",
        district_id=caller.district,
        query=query,
        page=page,
        verification=verification,
        first_page=query.before_seq is None,
    )
    return html_response(html)


@router.get(
    "/console/api/audit",
    summary="A page of the district's audit log",
    tags=[contract.TAG],
    operation_id="getAuditEntries",
    responses=contract.AUDIT_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.AUDIT_PARAMETERS},
)
def audit_entries() -> Response[Any]:
    caller = current_caller()
    query = parse_audit_query(router.current_event.query_string_parameters)
    _log_read(caller.district, query)
    return json_response(HTTPStatus.OK, audit_page(caller.district, query))


@router.get(
    "/console/api/audit/verify",
    summary="Check the district's audit hash chain",
    tags=[contract.TAG],
    operation_id="getAuditVerify",
    responses=contract.VERIFY_RESPONSES,
    security=contract.SECURITY,
)
def audit_verify() -> Response[Any]:
    caller = current_caller()
    return json_response(HTTPStatus.OK, _verify(caller.district))
