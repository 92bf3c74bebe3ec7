"""District console: the audit log page, its JSON API and the hash-chain check.

Routes (HTTP API, payload v2, every one behind the ``DistrictAdmins`` JWT authorizer):

``GET /console``
    The HTML page (CSS and JS inline, so the page needs no other route and no CDN).
``GET /console/api/audit?student=&rule=&before=&limit=``
    ``{"district_id", "entries": [...], "next_before": seq | null}``, newest first.
``GET /console/api/audit/verify``
    ``{"district_id", "entries", "intact", "first_broken_seq", "problem"}``.
``GET /console/failures?before=`` and ``GET /console/api/failures?before=&limit=``
    The district's work parked in a dead-letter queue (enrollments whose evaluation failed its
    last attempt, notices whose delivery did), newest first, each with the later audit entry
    that settled it, if any: the HTML page (no script) and its JSON.

``GET /console/api/notices/{notice_id}/emails/{r}``
    One email of a notice exactly as it was handed to SES (``delivery/sent_mail.py``): subject,
    from, to, date, the text and HTML parts and the attachments' names. ``notice_id`` is
    percent-encoded (it holds ``#``), ``r`` the recipient's index (``0`` or ``r0``). A notice of
    another district, or a recipient with no kept message, is 404. The HTML is data, not
    sanitised: a page must show it only in a sandboxed iframe.

``GET /console/api/suppressions`` and ``DELETE /console/api/suppressions?id=``
    The district's suppressed addresses (SES hard bounces and complaints: notify does not
    write to them), masked; clearing one (audited ``suppression.cleared``) lets later notices
    reach the address again.

The dead-letter queues hold every district's messages, so the console never reads them: a
district's failures are its own audit entries (``evaluation.failed``, ``delivery.failed``),
listed through the audit table's sparse ``failures`` index.

The district is taken from the verified JWT claim ``custom:district_id`` and from nothing else:
a ``district`` query parameter (or any other unknown one) is ignored. Domain errors become HTTP
status codes in one place, the ``@app.exception_handler`` functions below.

Logs never carry a student id: the filters are logged as present/absent only.
"""

from __future__ import annotations

import json
import re
import secrets
import traceback
from dataclasses import asdict, dataclass
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from markupsafe import Markup
from onpace_core.audit import log as audit_log
from onpace_core.delivery import sent_mail, suppression
from onpace_core.delivery.retry_queue import notice_ref
from onpace_core.observability import metrics, tracer
from onpace_core.settings import Settings
from onpace_core.store.models import AuditModel, bind_tables
from pynamodb.exceptions import PynamoDBException

if TYPE_CHECKING:
    from jinja2 import Environment

HERE = Path(__file__).resolve().parent
DISTRICT_CLAIM = "custom:district_id"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_FILTER_LENGTH = 256
_ENTRY_ID = re.compile("[0-9a-f]{64}")
_RECIPIENT = re.compile("r?([0-9]{1,3})")
MAX_NOTICE_ID_LENGTH = 1024

logger = Logger()
app = APIGatewayHttpResolver(debug=False)

SETTINGS = Settings.from_env()
bind_tables(SETTINGS)


@cache
def _templates() -> Environment:
    # Built on the first page request, not at cold start: the API routes never render.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# Our own static files, inlined verbatim into <style>/<script> (trusted content, not data).
_CSS = Markup((HERE / "static" / "console.css").read_text(encoding="utf-8"))
_JS = Markup((HERE / "static" / "console.js").read_text(encoding="utf-8"))

_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


# ---------------------------------------------------------------------------------------------
# Domain errors (mapped to status codes by the exception handlers at the bottom).


class NoDistrictError(Exception):
    """The caller's token carries no district: nobody may see any log without one."""


class BadQueryError(ValueError):
    """A query parameter is malformed; the message says which and why."""


# ---------------------------------------------------------------------------------------------
# Request parsing: claims and query parameters in, plain values out.


@dataclass(frozen=True)
class AuditQuery:
    student_id: str | None
    rule_id: str | None
    before_seq: int | None
    limit: int


def district_of(claims: dict[str, Any]) -> str:
    district = claims.get(DISTRICT_CLAIM)
    if not isinstance(district, str) or not district.strip():
        raise NoDistrictError("no district in the sign-in token")
    return district.strip()


def _quote(raw: str) -> str:
    return json.dumps(raw if len(raw) <= 20 else raw[:20] + "…", ensure_ascii=False)


def _whole_number(name: str, raw: str, low: int, high: int | None) -> int:
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BadQueryError(f"{name} must be a whole number {bounds}, got {_quote(raw)}")
    value = int(text)
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BadQueryError(f"{name} must be a whole number {bounds}, got {value}")
    return value


def _filter_text(name: str, raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if len(text) > MAX_FILTER_LENGTH:
        raise BadQueryError(f"{name} must be at most {MAX_FILTER_LENGTH} characters long")
    return text


def parse_audit_query(params: dict[str, str] | None) -> AuditQuery:
    """``student``, ``rule``, ``before`` and ``limit``; every other parameter is ignored."""
    params = params or {}
    before = params.get("before") or None
    limit = params.get("limit") or None
    return AuditQuery(
        student_id=_filter_text("student", params.get("student")),
        rule_id=_filter_text("rule", params.get("rule")),
        before_seq=_whole_number("before", before, 1, None) if before is not None else None,
        limit=_whole_number("limit", limit, 1, MAX_LIMIT) if limit is not None else DEFAULT_LIMIT,
    )


# ---------------------------------------------------------------------------------------------
# Response shapes.


def _detail(raw: str | None) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {"unreadable": raw}


def entry_json(item: AuditModel) -> dict[str, Any]:
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
        "detail": _detail(item.detail),
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
        before_seq=_whole_number("before", before, 1, None) if before is not None else None,
        limit=_whole_number("limit", limit, 1, MAX_LIMIT) if limit is not None else DEFAULT_LIMIT,
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
    detail = _detail(item.detail)
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


def _json(status: HTTPStatus, body: dict[str, Any]) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=dict(_NO_STORE),
    )


def _caller_district() -> str:
    return district_of(app.current_event.request_context.authorizer.jwt_claim)


def _console_base(suffix: str = "") -> str:
    """The console page's own path (``/console``, or behind a stage prefix), from this request's."""
    path = app.current_event.raw_path or "/console"
    return path[: -len(suffix)] if suffix and path.endswith(suffix) else path.rstrip("/")


def _html(html: str, nonce: str, script: bool) -> Response[Any]:
    csp = (
        "default-src 'none'; "
        + (f"script-src 'nonce-{nonce}'; " if script else "script-src 'none'; ")
        + f"style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return Response(
        status_code=HTTPStatus.OK,
        content_type="text/html; charset=utf-8",
        body=html,
        headers={
            **_NO_STORE,
            "Content-Security-Policy": csp,
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        },
    )


# ---------------------------------------------------------------------------------------------
# Routes.


@app.get(
    "/console",
    summary="The console page",
    tags=[contract.TAG],
    operation_id="getConsole",
    responses=contract.PAGE_RESPONSES,
    security=contract.SECURITY,
)
def console_page() -> Response[Any]:
    district_id = _caller_district()
    nonce = secrets.token_urlsafe(18)
    html = (
        _templates()
        .get_template("console.html.j2")
        .render(
            district_id=district_id,
            nonce=nonce,
            css=_CSS,
            js=_JS,
            default_limit=DEFAULT_LIMIT,
            max_limit=MAX_LIMIT,
            base=_console_base(),
            current="audit",
        )
    )
    return _html(html, nonce, script=True)


@app.get(
    "/console/failures",
    summary="The page of the district's parked failures",
    tags=[contract.TAG],
    operation_id="getFailuresPage",
    responses=contract.FAILURES_PAGE_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.FAILURES_PAGE_PARAMETERS},
)
def failures_html() -> Response[Any]:
    district_id = _caller_district()
    query = parse_failures_query(app.current_event.query_string_parameters)
    page = failures_page(district_id, query)
    _log_failures_read(district_id, query, page)
    nonce = secrets.token_urlsafe(18)
    html = (
        _templates()
        .get_template("failures.html.j2")
        .render(
            district_id=district_id,
            nonce=nonce,
            css=_CSS,
            base=_console_base("/failures"),
            current="failures",
            failures=page["failures"],
            next_before=page["next_before"],
            first_page=query.before_seq is None,
        )
    )
    return _html(html, nonce, script=False)


@app.get(
    "/console/api/failures",
    summary="A page of the district's parked failures",
    tags=[contract.TAG],
    operation_id="getFailures",
    responses=contract.FAILURES_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.FAILURES_PARAMETERS},
)
def failures_entries() -> Response[Any]:
    district_id = _caller_district()
    query = parse_failures_query(app.current_event.query_string_parameters)
    page = failures_page(district_id, query)
    _log_failures_read(district_id, query, page)
    return _json(HTTPStatus.OK, page)


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


@app.get(
    "/console/api/audit",
    summary="A page of the district's audit log",
    tags=[contract.TAG],
    operation_id="getAuditEntries",
    responses=contract.AUDIT_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.AUDIT_PARAMETERS},
)
def audit_entries() -> Response[Any]:
    district_id = _caller_district()
    query = parse_audit_query(app.current_event.query_string_parameters)
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
    return _json(HTTPStatus.OK, audit_page(district_id, query))


@app.get(
    "/console/api/audit/verify",
    summary="Check the district's audit hash chain",
    tags=[contract.TAG],
    operation_id="getAuditVerify",
    responses=contract.VERIFY_RESPONSES,
    security=contract.SECURITY,
)
def audit_verify() -> Response[Any]:
    district_id = _caller_district()
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
    return _json(HTTPStatus.OK, asdict(report))


@app.get(
    "/console/api/suppressions",
    summary="The district's suppressed addresses",
    tags=[contract.TAG],
    operation_id="getSuppressions",
    responses=contract.SUPPRESSIONS_RESPONSES,
    security=contract.SECURITY,
)
def suppressions_list() -> Response[Any]:
    district_id = _caller_district()
    entries = suppression.list_suppressions(district_id)
    logger.info("suppressions read", extra={"district_id": district_id, "entries": len(entries)})
    return _json(HTTPStatus.OK, {"district_id": district_id, "suppressions": [asdict(e) for e in entries]})


@app.delete(
    "/console/api/suppressions",
    summary="Clear one of the district's suppressed addresses",
    tags=[contract.TAG],
    operation_id="deleteSuppression",
    responses=contract.SUPPRESSION_CLEAR_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.SUPPRESSION_CLEAR_PARAMETERS},
)
def suppressions_clear() -> Response[Any]:
    district_id = _caller_district()
    entry_id = (app.current_event.query_string_parameters or {}).get("id", "")
    if not _ENTRY_ID.fullmatch(entry_id):
        raise BadQueryError("id must be an entry id (64 hexadecimal digits)")
    # The key includes the caller's district: another district's id is simply not found.
    if not suppression.clear(district_id, entry_id):
        return _json(HTTPStatus.NOT_FOUND, {"message": "No such entry in your district."})
    claims = app.current_event.request_context.authorizer.jwt_claim
    actor = f"admin:{claims.get('sub', 'unknown')}"
    audit_log.append(
        district_id,
        [
            audit_log.AuditEntry(
                type="suppression.cleared",
                actor=actor,
                summary="An administrator cleared a suppressed address; later notices are sent to it again.",
                detail={"id": entry_id},
            )
        ],
    )
    logger.info("suppression cleared", extra={"district_id": district_id})
    return _json(HTTPStatus.OK, {"district_id": district_id, "id": entry_id, "cleared": True})


def parse_notice_email(notice_id: str, r: str) -> tuple[str, str]:
    """The notice id (percent-decoded) and the recipient's delivery key (``r{i}``) of the path."""
    decoded = unquote(notice_id)
    if not decoded or len(decoded) > MAX_NOTICE_ID_LENGTH:
        raise BadQueryError(f"notice_id must be 1 to {MAX_NOTICE_ID_LENGTH} characters")
    found = _RECIPIENT.fullmatch(r)
    if found is None:
        raise BadQueryError("r must be a recipient index (0, 1, … or r0, r1, …)")
    return decoded, f"r{int(found.group(1))}"


@app.get(
    "/console/api/notices/<notice_id>/emails/<r>",
    summary="One email of a notice, exactly as it was sent",
    tags=[contract.TAG],
    operation_id="getNoticeEmail",
    responses=contract.NOTICE_EMAIL_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.NOTICE_EMAIL_PARAMETERS},
)
def notice_email(notice_id: str, r: str) -> Response[Any]:
    district_id = _caller_district()
    decoded, recipient = parse_notice_email(notice_id, r)
    store = sent_mail.store_for(SETTINGS)
    found = sent_mail.kept_email(store, district_id, decoded, recipient) if store is not None else None
    # The notice id names the student: logs carry its hash.
    logger.info(
        "notice email read",
        extra={"district_id": district_id, "notice_ref": notice_ref(decoded), "found": found is not None},
    )
    if found is None:
        return _json(HTTPStatus.NOT_FOUND, {"message": "No such email of a notice in your district."})
    return _json(HTTPStatus.OK, {"district_id": district_id, **found})


# ---------------------------------------------------------------------------------------------
# The one place where errors become status codes.


@app.exception_handler(NoDistrictError)
def _forbidden(error: NoDistrictError) -> Response:
    logger.warning("console request without a district claim")
    return _json(HTTPStatus.FORBIDDEN, {"message": "Forbidden: your sign-in carries no district."})


@app.exception_handler(BadQueryError)
def _bad_query(error: BadQueryError) -> Response:
    return _json(HTTPStatus.BAD_REQUEST, {"message": str(error)})


@app.exception_handler(PynamoDBException)
def _store_unavailable(error: PynamoDBException) -> Response:
    # The exception text may quote keys (district#student): log its type and frames only.
    logger.error(
        "audit store error",
        extra={"error_type": type(error).__name__, "frames": traceback.format_tb(error.__traceback__)},
    )
    return _json(HTTPStatus.SERVICE_UNAVAILABLE, {"message": "The audit log is unavailable; try again."})


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
