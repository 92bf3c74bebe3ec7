"""Evidence packet and FERPA record of disclosures.

``GET /console/views/packet?student=&class=``
    One student's evidence packet for one course (``onpace_core.console.packet``): a printable
    page (the shell's print CSS drops the navigation and breaks pages between sections). Without
    ``student`` or ``class``, a picker. An enrollment the district does not have is 404.
``GET /console/api/packet.pdf?student=&class=``
    The same packet as a PDF (``application/pdf``, an attachment, never cached).
``GET /console/views/disclosures?student=``
    The FERPA record of disclosures of one student (34 CFR 99.32): every notice handed to SES
    about them, with date, party and purpose.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import console_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import (
    BadQueryError,
    NotFoundError,
    current_caller,
    filter_text,
    html_response,
    no_store_headers,
    render,
)

if TYPE_CHECKING:
    from onpace_core.console.packet import Packet

logger = Logger(child=True)
router = APIGatewayHttpRouter()

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _id(name: str, raw: str | None) -> str | None:
    value = filter_text(name, raw)
    if value is not None and "#" in value:
        raise BadQueryError(f"{name} must not contain '#'")
    return value


def _packet(district_id: str, student_id: str, class_id: str) -> Packet:
    from onpace_core.console.common import NotInDistrict
    from onpace_core.console.packet import evidence_packet  # the domain: not at cold start

    try:
        return evidence_packet(district_id, student_id, class_id)
    except NotInDistrict as exc:
        raise NotFoundError("no such enrollment") from exc


def pdf_file_name(student_id: str, class_id: str) -> str:
    """The PDF's download name: ids reduced to safe characters (a header value, a file name)."""
    return f"evidence-{_UNSAFE.sub('_', student_id)[:60]}-{_UNSAFE.sub('_', class_id)[:60]}.pdf"


@router.get(
    "/console/views/packet",
    summary="The evidence packet of one student and course (an HTML fragment, printable)",
    tags=[contract.TAG],
    operation_id="getPacketView",
    responses=contract.PACKET_VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.PACKET_VIEW_PARAMETERS},
)
def packet_view() -> Response[Any]:
    caller = current_caller()
    query = router.current_event.query_string_parameters or {}
    student, class_id = _id("student", query.get("student")), _id("class", query.get("class"))
    if student is None or class_id is None:
        return html_response(render("packet_pick.html.j2", student=student or "", class_id=class_id or ""))
    packet = _packet(caller.district, student, class_id)
    logger.info(
        "packet read",
        extra={
            "district_id": caller.district,
            "notices": len(packet.notices),
            "actions": len(packet.actions),
        },
    )
    html = render("packet_view.html.j2", p=packet, pdf_name=pdf_file_name(student, class_id))
    return html_response(html)


@router.get(
    "/console/api/packet.pdf",
    summary="The evidence packet of one student and course as a PDF",
    tags=[contract.TAG],
    operation_id="getPacketPdf",
    responses=contract.PACKET_PDF_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.PACKET_PDF_PARAMETERS},
)
def packet_pdf_download() -> Response[Any]:
    caller = current_caller()
    query = router.current_event.query_string_parameters or {}
    student, class_id = _id("student", query.get("student")), _id("class", query.get("class"))
    if student is None or class_id is None:
        raise BadQueryError("student and class are both required")
    from onpace_core.console.packet import packet_pdf

    pdf = packet_pdf(_packet(caller.district, student, class_id))
    logger.info("packet pdf", extra={"district_id": caller.district, "bytes": len(pdf)})
    return Response(
        status_code=200,
        content_type="application/pdf",
        body=pdf,
        headers={
            **no_store_headers(),
            "Content-Disposition": f'attachment; filename="{pdf_file_name(student, class_id)}"',
        },
    )


@router.get(
    "/console/views/disclosures",
    summary="The FERPA record of disclosures of one student (an HTML fragment)",
    tags=[contract.TAG],
    operation_id="getDisclosuresView",
    responses=contract.VIEW_RESPONSES,
    security=contract.SECURITY,
    openapi_extensions={contract.PARAMETERS: contract.DISCLOSURES_VIEW_PARAMETERS},
)
def disclosures_view() -> Response[Any]:
    from onpace_core.console.disclosures import disclosures

    caller = current_caller()
    query = router.current_event.query_string_parameters or {}
    student = _id("student", query.get("student"))
    masked = (query.get("masked") or "") == "1"
    found = disclosures(caller.district, student, masked=masked) if student else []
    logger.info("disclosures read", extra={"district_id": caller.district, "disclosures": len(found)})
    html = render("disclosures_view.html.j2", student=student or "", rows=found, masked=masked)
    return html_response(html)
