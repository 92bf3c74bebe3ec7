"""Mail: suppressed addresses and every email exactly as it was sent.

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
"""

from __future__ import annotations

import re
from dataclasses import asdict
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import BadQueryError, actor, current_caller, json_response
from onpace_core.audit import log as audit_log
from onpace_core.delivery import sent_mail, suppression
from onpace_core.delivery.retry_queue import notice_ref
from onpace_core.settings import Settings

logger = Logger(child=True)
router = APIGatewayHttpRouter()

_ENTRY_ID = re.compile("[0-9a-f]{64}")
_RECIPIENT = re.compile("r?([0-9]{1,3})")
MAX_NOTICE_ID_LENGTH = 1024


@router.get(
    "/console/api/suppressions",
    summary="The district's suppressed addresses",
    tags=[contract.TAG],
    operation_id="getSuppressions",
    responses=contract.SUPPRESSIONS_RESPONSES,
    security=contract.SECURITY,
)
def suppressions_list() -> Response[Any]:
    district_id = current_caller().district
    entries = suppression.list_suppressions(district_id)
    logger.info("suppressions read", extra={"district_id": district_id, "entries": len(entries)})
    return json_response(
        HTTPStatus.OK, {"district_id": district_id, "suppressions": [asdict(e) for e in entries]}
    )


@router.delete(
    "/console/api/suppressions",
    summary="Clear one of the district's suppressed addresses",
    tags=[contract.TAG],
    operation_id="deleteSuppression",
    responses=contract.SUPPRESSION_CLEAR_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.SUPPRESSION_CLEAR_PARAMETERS},
)
def suppressions_clear() -> Response[Any]:
    district_id = current_caller().district
    entry_id = (router.current_event.query_string_parameters or {}).get("id", "")
    if not _ENTRY_ID.fullmatch(entry_id):
        raise BadQueryError("id must be an entry id (64 hexadecimal digits)")
    if not clear_suppression(district_id, entry_id):
        return json_response(HTTPStatus.NOT_FOUND, {"message": "No such entry in your district."})
    return json_response(HTTPStatus.OK, {"district_id": district_id, "id": entry_id, "cleared": True})


def clear_suppression(district_id: str, entry_id: str) -> bool:
    """Clear the district's entry ``entry_id`` and audit it (``suppression.cleared``, the caller
    as actor); False, writing nothing, when the district has no such entry (cleared already, or
    another district's: the key includes the caller's district, so it is simply not found)."""
    if not _ENTRY_ID.fullmatch(entry_id):
        raise BadQueryError("id must be an entry id (64 hexadecimal digits)")
    if not suppression.clear(district_id, entry_id):
        return False
    audit_log.append(
        district_id,
        [
            audit_log.AuditEntry(
                type="suppression.cleared",
                actor=actor(),
                summary="An administrator cleared a suppressed address; later notices are sent to it again.",
                detail={"id": entry_id},
            )
        ],
    )
    logger.info("suppression cleared", extra={"district_id": district_id})
    return True


def parse_notice_email(notice_id: str, r: str) -> tuple[str, str]:
    """The notice id (percent-decoded) and the recipient's delivery key (``r{i}``) of the path."""
    decoded = unquote(notice_id)
    if not decoded or len(decoded) > MAX_NOTICE_ID_LENGTH:
        raise BadQueryError(f"notice_id must be 1 to {MAX_NOTICE_ID_LENGTH} characters")
    found = _RECIPIENT.fullmatch(r)
    if found is None:
        raise BadQueryError("r must be a recipient index (0, 1, … or r0, r1, …)")
    return decoded, f"r{int(found.group(1))}"


@router.get(
    "/console/api/notices/<notice_id>/emails/<r>",
    summary="One email of a notice, exactly as it was sent",
    tags=[contract.TAG],
    operation_id="getNoticeEmail",
    responses=contract.NOTICE_EMAIL_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.NOTICE_EMAIL_PARAMETERS},
)
def notice_email(notice_id: str, r: str) -> Response[Any]:
    district_id = current_caller().district
    decoded, recipient = parse_notice_email(notice_id, r)
    store = sent_mail.store_for(Settings.from_env())
    found = sent_mail.kept_email(store, district_id, decoded, recipient) if store is not None else None
    # The notice id names the student: logs carry its hash.
    logger.info(
        "notice email read",
        extra={"district_id": district_id, "notice_ref": notice_ref(decoded), "found": found is not None},
    )
    if found is None:
        return json_response(HTTPStatus.NOT_FOUND, {"message": "No such email of a notice in your district."})
    return json_response(HTTPStatus.OK, {"district_id": district_id, **found})
