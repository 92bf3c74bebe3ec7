"""Students: find a student by name, email or id, their timeline, and each email as it was sent.

``GET /console/views/students?q=``
    The search box and its results (name, email, classes), each opening the student's timeline.
``GET /console/api/students?q=``
    The same results as JSON.
``GET /console/views/timeline?student=``
    Per enrollment, in time order: activity facts, notices (status, recipients by role, rule id
    and policy version), actions, deadlines, appeals and approvals as audited.
``GET /console/views/email?notice=&r=``
    One email exactly as the recipient got it (subject, from, to, date, text, the HTML in a
    sandboxed ``<iframe srcdoc>``), beside the same notice rendered now in the other language,
    labelled as not sent.

Every read is the caller's district's (``console_access.current_caller``). Logs carry counts and
hashes, never a search text, a name or a student id.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import (
    HERE,
    BadQueryError,
    current_caller,
    filter_text,
    html_response,
    json_response,
    render,
)
from console_mail import parse_notice_email
from onpace_core.console.directory import SearchResult, search_students
from onpace_core.console.timeline import OTHER_LANGUAGE_LABEL, render_other_language, student_timeline
from onpace_core.delivery import sent_mail
from onpace_core.delivery.retry_queue import notice_ref
from onpace_core.settings import Settings

logger = Logger(child=True)
router = APIGatewayHttpRouter()

SEARCH_LIMIT = 20
LANGUAGES = {"en": "English", "es": "Spanish"}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def find_students(district_id: str, raw: str | None) -> SearchResult | None:
    """The district's students matching ``raw`` (None when nothing was asked)."""
    text = filter_text("q", raw)
    if text is None:
        return None
    result = search_students(district_id, text, limit=SEARCH_LIMIT)
    # A search text is usually a name: the log carries its hash and the count only.
    logger.info(
        "students searched",
        extra={"district_id": district_id, "q_hash": _digest(text), "found": len(result.students)},
    )
    return result


def _query(name: str) -> str | None:
    return (router.current_event.query_string_parameters or {}).get(name)


@router.get(
    "/console/views/students",
    summary="The students view: search by name, email or id (an HTML fragment)",
    tags=[contract.TAG],
    operation_id="getStudentsView",
    responses=contract.VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.STUDENTS_PARAMETERS},
)
def students_view() -> Response[Any]:
    caller = current_caller()
    result = find_students(caller.district, _query("q"))
    return html_response(render("students_view.html.j2", q=(_query("q") or "").strip(), result=result))


@router.get(
    "/console/api/students",
    summary="The district's students matching a name, email or id",
    tags=[contract.TAG],
    operation_id="getStudents",
    responses=contract.STUDENTS_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.STUDENTS_PARAMETERS},
)
def students_api() -> Response[Any]:
    caller = current_caller()
    result = find_students(caller.district, _query("q"))
    students = [asdict(s) for s in result.students] if result else []
    return json_response(
        HTTPStatus.OK,
        {
            "district_id": caller.district,
            "students": students,
            "truncated": bool(result and result.truncated),
        },
    )


@router.get(
    "/console/views/timeline",
    summary="A student's timeline per enrollment (an HTML fragment)",
    tags=[contract.TAG],
    operation_id="getTimelineView",
    responses=contract.VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.TIMELINE_PARAMETERS},
)
def timeline_view() -> Response[Any]:
    caller = current_caller()
    student_id = filter_text("student", _query("student"))
    if student_id is None:
        raise BadQueryError("student is required: the student's sourcedId (find it under Students)")
    timeline = student_timeline(caller.district, student_id)
    events = sum(len(e.events) for e in timeline.enrollments)
    logger.info(
        "timeline read",
        extra={
            "district_id": caller.district,
            "enrollments": len(timeline.enrollments),
            "events": events,
            "known": timeline.student is not None,
        },
    )
    return html_response(render("students_timeline.html.j2", timeline=timeline, languages=LANGUAGES))


@cache
def notice_templates() -> Path | None:
    """The notify function's email templates, which the other language is rendered with.

    ``NOTICE_TEMPLATES_DIR`` when set; else beside this package (``notice_templates/``, what a
    build copies in), else the repository's ``functions/notify/templates`` (local runs).
    """
    import os

    configured = os.environ.get("NOTICE_TEMPLATES_DIR")
    candidates = [Path(configured)] if configured else []
    candidates += [HERE / "notice_templates", HERE.parent / "notify" / "templates"]
    return next((p for p in candidates if p.is_dir()), None)


@router.get(
    "/console/views/email",
    summary="One email of a notice as sent, and the other language rendered now (an HTML fragment)",
    tags=[contract.TAG],
    operation_id="getEmailView",
    responses=contract.EMAIL_VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.EMAIL_VIEW_PARAMETERS},
)
def email_view() -> Response[Any]:
    caller = current_caller()
    notice = _query("notice") or ""
    notice_id, recipient = parse_notice_email(notice, _query("r") or "")
    store = sent_mail.store_for(Settings.from_env())
    sent = sent_mail.kept_email(store, caller.district, notice_id, recipient) if store is not None else None
    if sent is None:
        logger.info(
            "email view: none", extra={"district_id": caller.district, "notice_ref": notice_ref(notice_id)}
        )
        return html_response(
            render("students_email.html.j2", sent=None, other=None, other_reason=None, languages=LANGUAGES),
            status=HTTPStatus.NOT_FOUND,
        )
    templates_dir = notice_templates()
    other = (
        render_other_language(caller.district, notice_id, recipient, templates_dir)
        if templates_dir is not None
        else None
    )
    reason = None
    if other is None:
        reason = (
            "The email templates are not available to the console here."
            if templates_dir is None
            else "A household letter carries several notices: it is shown only as sent."
        )
    logger.info(
        "email view",
        extra={
            "district_id": caller.district,
            "notice_ref": notice_ref(notice_id),
            "other": other is not None,
        },
    )
    return html_response(
        render(
            "students_email.html.j2",
            sent=sent,
            sent_language=_language_of(sent, other),
            other=other,
            other_reason=reason,
            other_label=OTHER_LANGUAGE_LABEL,
            languages=LANGUAGES,
        )
    )


def _language_of(sent: dict[str, Any], other: Any) -> str | None:
    """The language the email was sent in: the other one's other (the kept message has no tag)."""
    if other is None:
        return None
    return "en" if other.language == "es" else "es"
