"""The audit log: its view fragment, its CSV export, its JSON API and the hash-chain check.

``GET /console/views/audit?from=&to=&tz=&student=&who=&class=&rule=&type=&status=&cursor=&limit=&verify=``
    The log as an HTML fragment for the shell, newest first: one page of
    ``console.audit_query.audit_query`` (one DynamoDB Query), rows with the student's name and
    the class's title, both dates labelled; the filters (``who``: a name looked up in the
    directory, several matches ask which); the next page as a hash link carrying the cursor;
    Export CSV; with ``verify=1``, the chain check's result.
``GET /console/api/audit/export?`` (the same filters)
    The filtered rows as CSV (``audit_query.audit_csv``: at most 10,000, formula-safe).
``GET /console/api/audit?student=&rule=&before=&limit=``
    ``{"district_id", "entries": [...], "next_before": seq | null}``, newest first.
``GET /console/api/audit/verify``
    ``{"district_id", "entries", "intact", "first_broken_seq", "problem"}``.

Every read is the caller's district's (``console_access.current_caller``); a ``district`` query
parameter, like any other unknown one, is ignored. Logs never carry a student id or name: the
filters are logged by name only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import (
    COMMON_HEADERS,
    BadQueryError,
    current_caller,
    filter_text,
    html_response,
    json_response,
    render,
    whole_number,
)
from onpace_core.audit import log as audit_log
from onpace_core.console.audit_query import (
    DELIVERY_STATUSES,
    AuditFilters,
    AuditPage,
    AuditQueryError,
    audit_csv,
    audit_query,
)
from onpace_core.console.directory import StudentHit, district_classes, search_students
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


@dataclass(frozen=True)
class ViewQuery:
    """The audit view's filters as asked, and what they resolved to."""

    filters: AuditFilters
    cursor: str | None
    limit: int
    who: str | None  # a student's name (or email) to look up in the directory
    params: dict[str, str]  # the filters as given, for links that keep them


VIEW_FILTERS = ("from", "to", "tz", "student", "who", "class", "rule", "type", "status")


def _day(name: str, raw: str | None) -> date | None:
    text = filter_text(name, raw)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise BadQueryError(f"{name} must be a date (YYYY-MM-DD)") from exc
    # Far years cannot be turned into UTC instants (and no entry is written there).
    if not 1970 <= day.year <= 9000:
        raise BadQueryError(f"{name} must be a day from 1970 to 9000")
    return day


def parse_view_query(params: dict[str, str] | None) -> ViewQuery:
    """The audit view's parameters: the date range (``from``, ``to``, days in ``tz``), ``student``
    (a sourcedId) or ``who`` (a name), ``class``, ``rule``, ``type``, ``status``, ``cursor``."""
    params = params or {}
    limit = params.get("limit") or None
    try:
        filters = AuditFilters(
            date_from=_day("from", params.get("from")),
            date_to=_day("to", params.get("to")),
            tz=filter_text("tz", params.get("tz")) or "UTC",
            student_id=filter_text("student", params.get("student")),
            class_id=filter_text("class", params.get("class")),
            rule_id=filter_text("rule", params.get("rule")),
            event_type=filter_text("type", params.get("type")),
            delivery_status=filter_text("status", params.get("status")),
        )
    except AuditQueryError as exc:
        raise BadQueryError(str(exc)) from exc
    given = {k: params[k].strip() for k in VIEW_FILTERS if (params.get(k) or "").strip()}
    if "who" in given:  # a name typed in the form replaces a student picked before
        given.pop("student", None)
    return ViewQuery(
        filters=filters,
        cursor=filter_text("cursor", params.get("cursor"))
        if len(params.get("cursor") or "") < 4096
        else None,
        limit=whole_number("limit", limit, 1, MAX_LIMIT) if limit is not None else DEFAULT_LIMIT,
        who=filter_text("who", params.get("who")),
        params=given,
    )


@dataclass(frozen=True)
class StudentChoice:
    """What a name in the student filter found: one student (used), several (asked), or none."""

    name: str
    students: tuple[StudentHit, ...]


def resolve_student(district_id: str, query: ViewQuery) -> tuple[ViewQuery, StudentChoice | None]:
    """``query`` with ``who`` turned into the student id when it names one student (or none:
    then it is taken as a sourcedId); several are returned as the choice to ask about."""
    if query.who is None:
        return query, None
    found = search_students(district_id, query.who, limit=20).students
    exact = [s for s in found if s.student_id == query.who]
    found = tuple(exact) or found
    choice = StudentChoice(query.who, found)
    if len(found) > 1:
        return query, choice
    # One student: theirs. None: the text is taken as a sourcedId (a log may name students the
    # directory never had, such as those of events refused before any roster import).
    student_id = found[0].student_id if found else query.who
    return replace(query, filters=replace(query.filters, student_id=student_id)), choice


def _view_page(district_id: str, query: ViewQuery, choice: StudentChoice | None) -> AuditPage | None:
    if choice is not None and len(choice.students) > 1:
        return None  # ask which student first
    try:
        return audit_query(district_id, query.filters, query.cursor, limit=query.limit)
    except AuditQueryError as exc:  # a cursor of other filters, a garbled one
        raise BadQueryError(str(exc)) from exc


class ClassList:
    """The district's classes for the class filter, kept per container for ``ttl_seconds``: a
    warm page of the log costs its one Query and nothing else (a class added by a roster import
    shows in the list after that; it can be typed in the URL before)."""

    def __init__(self, ttl_seconds: float = 900.0, max_districts: int = 1_000) -> None:
        self._kept: dict[str, tuple[float, list[tuple[str, str]]]] = {}
        self._ttl = ttl_seconds
        self._max = max_districts

    def get(self, district_id: str) -> list[tuple[str, str]]:
        now = time.monotonic()
        found = self._kept.get(district_id)
        if found is not None and now - found[0] <= self._ttl:
            return found[1]
        classes = district_classes(district_id)
        if len(self._kept) >= self._max:
            self._kept.clear()
        self._kept[district_id] = (now, classes)
        return classes

    def clear(self) -> None:
        self._kept.clear()


CLASSES = ClassList()


def _resolved_params(query: ViewQuery) -> dict[str, str]:
    """The filters for the next page's and the export's links: a name already resolved to one
    student travels as that student's id, so those requests search the directory no more (a
    page stays one Query); a name naming several still asks which."""
    student_id = query.filters.student_id
    if query.who is None or student_id is None:
        return dict(query.params)
    resolved = {k: v for k, v in query.params.items() if k != "who"}
    resolved["student"] = student_id
    return resolved


def _linker(params: dict[str, str]) -> Callable[..., str]:
    """``link(**changes)``: the view's hash link with the filters kept, changed (None: removed)."""

    def link(**changes: str | None) -> str:
        merged: dict[str, str] = dict(params)
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return "#/audit" + (f"?{urlencode(merged)}" if merged else "")

    return link


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
    query, choice = resolve_student(caller.district, parse_view_query(params))
    page = _view_page(caller.district, query, choice)
    logger.info(
        "audit view read",
        extra={
            "district_id": caller.district,
            "filters": sorted(k for k in query.params if k not in ("student", "who")),
            "student_filter": query.filters.student_id is not None,  # never the id itself
            "rows": len(page.rows) if page else 0,
            "index": page.index if page else None,
        },
    )
    verification = _verify(caller.district) if params.get("verify") == "1" else None
    html = render(
        "audit_view.html.j2",
        district_id=caller.district,
        query=query,
        choice=choice,
        page=page,
        verification=verification,
        first_page=query.cursor is None,
        classes=CLASSES.get(caller.district),
        statuses=tuple(DELIVERY_STATUSES),
        export_href="/console/api/audit/export?" + urlencode(_resolved_params(query)),
        link=_linker(_resolved_params(query)),
    )
    return html_response(html)


@router.get(
    "/console/api/audit/export",
    summary="The filtered audit entries as CSV (at most 10,000 rows, newest first)",
    tags=[contract.TAG],
    operation_id="getAuditExport",
    responses=contract.AUDIT_EXPORT_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.AUDIT_EXPORT_PARAMETERS},
)
def audit_export() -> Response[Any]:
    caller = current_caller()
    query, choice = resolve_student(
        caller.district, parse_view_query(router.current_event.query_string_parameters)
    )
    if choice is not None and len(choice.students) > 1:
        raise BadQueryError(f"who names {len(choice.students)} students: pick one (student=<sourcedId>)")
    try:
        export = audit_csv(caller.district, query.filters)
    except AuditQueryError as exc:
        raise BadQueryError(str(exc)) from exc
    logger.info(
        "audit exported",
        extra={"district_id": caller.district, "rows": export.rows, "capped": export.capped},
    )
    return Response(
        status_code=HTTPStatus.OK,
        content_type="text/csv; charset=utf-8",
        body=export.text,
        headers={
            **COMMON_HEADERS,
            "Content-Disposition": f'attachment; filename="audit-{caller.district}.csv"',
        },
    )


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
