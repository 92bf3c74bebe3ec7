"""Work queues: approvals waiting, open appeal windows, quarantined events, ``data.missing`` alerts.

``GET /console/views/queues`` (the view fragment), and its two forms, each POSTed by the shell
with the CSRF field (``require_csrf``):

``POST /console/views/queues/approval`` (``ref``, ``decision`` = approve | reject, ``reason``)
    Approve or reject a held action (a rejection needs a reason): ``queues.approve`` /
    ``queues.reject``, audited ``approval.approved`` / ``approval.rejected`` with the admin as
    actor.
``POST /console/views/queues/appeal`` (``ref``, ``outcome`` = granted | denied | withdrawn,
``note``)
    Record an appeal's outcome (a note is required): ``queues.record_appeal_outcome``, audited
    ``appeal.outcome``.

Each answers with the view again: what the action did on top (``recorded``, or ``already`` when
the same form was submitted before: nothing written twice), the queue without the item. A
missing reason writes nothing and shows the view with the message (200: the shell shows only a
successful answer's fragment). A ref of another district is
404 (``NotInDistrict``, console_handler).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal, cast

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import (
    BadQueryError,
    NotFoundError,
    actor,
    csrf_token,
    current_caller,
    html_response,
    posted_form,
    render,
    require_csrf,
)

logger = Logger(child=True)
router = APIGatewayHttpRouter()

MAX_REASON = 1000
OUTCOMES = ("granted", "denied", "withdrawn")


@dataclass(frozen=True)
class Result:
    """What the last form did, for the banner at the top of the view."""

    state: Literal["recorded", "already", "invalid"]
    message: str
    seq: int | None = None


def render_queues(
    district_id: str, result: Result | None = None, status: HTTPStatus = HTTPStatus.OK
) -> Response[Any]:
    """The work queues of ``district_id`` as the view fragment, with ``result`` on top."""
    from onpace_core.console import queues  # the domain and its engine: not at cold start

    approvals = queues.approvals_waiting(district_id)
    appeals = queues.open_appeal_windows(district_id)
    quarantined = queues.quarantined_events(district_id)
    alerts = queues.data_alerts(district_id)
    logger.info(
        "queues read",
        extra={
            "district_id": district_id,
            "approvals": len(approvals),
            "appeals": len(appeals),
            "quarantined": len(quarantined),
            "alerts": sum(1 for a in alerts if a.open),
        },
    )
    html = render(
        "queues_view.html.j2",
        approvals=approvals,
        appeals=appeals,
        quarantined=quarantined,
        alerts=alerts,
        result=result,
        csrf=csrf_token(),
        outcomes=OUTCOMES,
        max_reason=MAX_REASON,
    )
    return html_response(html, status=status)


def _own(district_id: str, key: str) -> str:
    """``key`` when it is one of the district's enrollment keys, else ``NotFoundError``."""
    from onpace_core.console.common import NotInDistrict, own_key

    try:
        return own_key(district_id, key)
    except NotInDistrict as exc:
        raise NotFoundError("not in your district") from exc


def _text(form: dict[str, str], name: str, limit: int = MAX_REASON) -> str:
    value = form.get(name, "").strip()
    if len(value) > limit:
        raise BadQueryError(f"{name} must be at most {limit} characters long")
    return value


@router.get(
    "/console/views/queues",
    summary="The work queues view (an HTML fragment of the console shell)",
    tags=[contract.TAG],
    operation_id="getQueuesView",
    responses=contract.VIEW_RESPONSES,
    security=contract.SECURITY,
)
def queues_view() -> Response[Any]:
    return render_queues(current_caller().district)


@router.post(
    "/console/views/queues/approval",
    summary="Approve or reject a held action (a form of the work queues view)",
    tags=[contract.TAG],
    operation_id="postQueuesApproval",
    responses=contract.FORM_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.REQUEST_BODY: contract.APPROVAL_FORM},
)
def approval_form() -> Response[Any]:
    district_id = current_caller().district
    form = posted_form(router.current_event)
    require_csrf(form)
    ref = _own(district_id, _text(form, "ref", 1024))
    decision = form.get("decision", "")
    reason = _text(form, "reason")
    if decision not in ("approve", "reject"):
        raise BadQueryError("decision must be approve or reject")
    if decision == "reject" and not reason:
        invalid = Result("invalid", "A rejection needs a reason: say why the action is not taken.")
        return render_queues(district_id, invalid)
    from onpace_core.console import queues
    from onpace_core.console.common import NotInDistrict

    try:
        if decision == "approve":
            done = queues.approve(district_id, ref, actor(), reason or None)
        else:
            done = queues.reject(district_id, ref, actor(), reason)
    except NotInDistrict as exc:
        raise NotFoundError("not in your district") from exc
    verb = "approved" if decision == "approve" else "rejected"
    logger.info("approval form", extra={"district_id": district_id, "decision": verb, "status": done.status})
    if done.status == "recorded":
        message = f"The action was {verb} (audit entry #{done.seq}). The next evaluation " + (
            "takes it, its deadlines counted from that day." if verb == "approved" else "records it skipped."
        )
        return render_queues(district_id, Result("recorded", message, done.seq))
    return render_queues(
        district_id,
        Result(
            "already",
            "Already done: this action was decided before, or is no longer waiting. "
            "Nothing was recorded again.",
        ),
    )


@router.post(
    "/console/views/queues/appeal",
    summary="Record the outcome of an appeal (a form of the work queues view)",
    tags=[contract.TAG],
    operation_id="postQueuesAppeal",
    responses=contract.FORM_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.REQUEST_BODY: contract.APPEAL_FORM},
)
def appeal_form() -> Response[Any]:
    district_id = current_caller().district
    form = posted_form(router.current_event)
    require_csrf(form)
    ref = _text(form, "ref", 1024)
    if ref.count("#") < 4:
        raise BadQueryError("ref must be the notice id of an action")
    _own(district_id, "#".join(ref.split("#")[:3]))
    outcome = form.get("outcome", "")
    note = _text(form, "note")
    if outcome not in OUTCOMES:
        raise BadQueryError("outcome must be granted, denied or withdrawn")
    if not note:
        invalid = Result("invalid", "An appeal outcome needs a note: it is the record of why.")
        return render_queues(district_id, invalid)
    from onpace_core.console import queues
    from onpace_core.console.common import NotInDistrict

    try:
        done = queues.record_appeal_outcome(
            district_id, ref, cast(Literal["granted", "denied", "withdrawn"], outcome), actor(), note
        )
    except NotInDistrict as exc:
        raise NotFoundError("not in your district") from exc
    logger.info("appeal form", extra={"district_id": district_id, "outcome": outcome, "status": done.status})
    if done.status == "recorded":
        message = f"The appeal's outcome ({outcome}) was recorded (audit entry #{done.seq})."
        if outcome == "granted":
            message += (
                " OnPace does not reverse the action: re-enroll the student on the roster to carry it out."
            )
        return render_queues(district_id, Result("recorded", message, done.seq))
    return render_queues(
        district_id,
        Result(
            "already",
            "Already recorded: this appeal's outcome was recorded before. Nothing was recorded again.",
        ),
    )
