"""RFC 8058 one-click unsubscribe from courtesy notices: ``POST /unsubscribe?t=TOKEN``.

Public (no cookie, no authorization: a mail client posts ``List-Unsubscribe=One-Click`` on the
reader's behalf); the signed token is the credential (``onpace_core.delivery.unsubscribe``).
``GET`` only shows a page with a button that posts the same form, so a mail scanner that follows
links unsubscribes nobody. Thin: verify, record, answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs

import ingest_contract as contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from onpace_core.delivery import unsubscribe
from onpace_core.settings import get_settings

logger = Logger(child=True)
router = APIGatewayHttpRouter()
_MAX_BODY = 1024

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem">
<h1 style="font-size: 1.25rem">{title}</h1>
<p>{text}</p>
{form}
</body></html>
"""


def _page(status: int, title: str, text: str, form: str = "") -> Response[Any]:
    body = _PAGE.format(title=escape(title), text=escape(text), form=form)
    return Response(status_code=status, content_type=content_types.TEXT_HTML, body=body)


def _claims(token: str) -> unsubscribe.Claims:
    return unsubscribe.verify(token, unsubscribe.key_lookup(get_settings()))


def _token() -> str:
    return str(router.current_event.get_query_string_value("t", "") or "")


@router.get(
    "/unsubscribe",
    summary="Confirmation page of a one-click unsubscribe link",
    description="Shows a button that posts the one-click form; a GET unsubscribes nobody.",
    tags=[contract.TAG_UNSUBSCRIBE],
    operation_id="getUnsubscribe",
    responses=contract.UNSUBSCRIBE_GET_RESPONSES,
    openapi_extensions={contract.PARAMETERS: [contract.UNSUBSCRIBE_TOKEN], "security": []},
)
def confirm() -> Response[Any]:
    token = _token()
    try:
        _claims(token)
    except unsubscribe.InvalidToken as error:
        return _page(400, "This link cannot be used", str(error))
    action = escape(f"?t={token}", quote=True)
    form = (
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    text = "Stop receiving this optional courtesy reminder at this address? Required notices still come."
    return _page(200, "Unsubscribe from courtesy reminders", text, form)


@router.post(
    "/unsubscribe",
    summary="RFC 8058 one-click unsubscribe from a courtesy notice",
    description="Body `List-Unsubscribe=One-Click` (form-encoded); the token of the link is the credential.",
    tags=[contract.TAG_UNSUBSCRIBE],
    operation_id="postUnsubscribe",
    responses=contract.UNSUBSCRIBE_POST_RESPONSES,
    openapi_extensions={
        contract.PARAMETERS: [contract.UNSUBSCRIBE_TOKEN],
        "requestBody": contract.UNSUBSCRIBE_REQUEST,
        "security": [],  # public by design (RFC 8058): the signed token is the credential
    },
)
def one_click() -> Response[Any]:
    body = router.current_event.decoded_body or ""
    if len(body) > _MAX_BODY or parse_qs(body).get("List-Unsubscribe") != ["One-Click"]:
        return _page(400, "Not unsubscribed", "The request must post List-Unsubscribe=One-Click (RFC 8058).")
    try:
        claims = _claims(_token())
    except unsubscribe.InvalidToken as error:
        logger.info("unsubscribe refused", extra={"outcome": "invalid"})
        return _page(403, "Not unsubscribed", str(error))
    recorded = unsubscribe.record(claims, datetime.now(UTC))
    logger.info(
        "unsubscribe", extra={"outcome": "recorded" if recorded else "already", "rule_id": claims.rule_id}
    )
    return _page(
        200,
        "Unsubscribed",
        "This address will not get this courtesy reminder again. Required notices still come.",
    )
