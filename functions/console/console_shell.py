"""The console shell: ``GET /console``, public (``Auth: NONE``), holding no data.

It signs the admin in (authorization code + PKCE at ``CONSOLE_AUTH_URL``: the Cognito hosted UI
in AWS, the local identity provider under ``/local-idp`` locally), keeps the ID token in
``sessionStorage`` and loads every view (``/console/views/<name>``) with it; see
``static/console.js``. Its CSS and script are inlined with the response's CSP nonce.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import console_contract as contract
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from console_access import HERE, html_response, new_nonce, page_csp, render
from markupsafe import Markup

router = APIGatewayHttpRouter()

# Our own static files, inlined verbatim into <style>/<script> (trusted content, not data).
_CSS = Markup((HERE / "static" / "console.css").read_text(encoding="utf-8"))
_JS = Markup((HERE / "static" / "console.js").read_text(encoding="utf-8"))

#: The views the shell's navigation lists (hash route, label); later views add theirs here.
NAV: tuple[tuple[str, str], ...] = (
    ("students", "Students"),
    ("audit", "Audit log"),
    ("failures", "Failures"),
    ("upcoming", "Upcoming"),
    ("queues", "Work queues"),
    ("packet", "Evidence packet"),
    ("health", "Health"),
)


def sign_in_config() -> dict[str, str]:
    """Where the shell signs in: the identity provider's base URL and the app client id."""
    return {
        "auth_url": os.environ.get("CONSOLE_AUTH_URL", "").rstrip("/"),
        "client_id": os.environ.get("CONSOLE_CLIENT_ID", ""),
    }


@router.get(
    "/console",
    summary="The console shell (public: it signs the admin in and loads the views)",
    tags=[contract.TAG],
    operation_id="getConsole",
    responses=contract.SHELL_RESPONSES,
    security=[],
)
def console_shell() -> Response[Any]:
    config = sign_in_config()
    nonce = new_nonce()
    auth = urlsplit(config["auth_url"])
    # The token endpoint is another origin in AWS (the hosted UI's domain): allow fetching it.
    connect = f"{auth.scheme}://{auth.netloc}" if auth.scheme and auth.netloc else ""
    base = (router.current_event.raw_path or "/console").rstrip("/")
    html = render(
        "shell.html.j2",
        nonce=nonce,
        css=_CSS,
        js=_JS,
        base=base,
        nav=NAV,
        auth_url=config["auth_url"],
        client_id=config["client_id"],
    )
    return html_response(html, csp=page_csp(nonce, connect))
