"""Who is calling, for which district, and the headers every console answer carries.

The caller comes from the claims API Gateway's ``DistrictAdmins`` JWT authorizer verified (an ID
token of the admin user pool) and from nothing else the request says, except the
``X-OnPace-District`` header, which only picks one of the districts the token already lists:

- ``custom:district_id``: one district id, or several comma-separated; each must match
  ``^[A-Za-z0-9._-]{1,64}$`` (no ``#``: the tables' key separator; no ``,``: the list's).
- ``X-OnPace-District``: one of those (else 403); absent with several, 400 saying so.
- No claims at all: 401 (the authorizer was bypassed or missing).

CSRF tokens are stateless: an HMAC keyed with the request's own bearer token, which a page of
another origin cannot read, so it cannot compute the token either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types

if TYPE_CHECKING:
    from jinja2 import Environment

HERE = Path(__file__).resolve().parent
DISTRICT_CLAIM = "custom:district_id"
DISTRICT_HEADER = "x-onpace-district"
DISTRICT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
CSRF_FIELD = "csrf"
_CSRF_LABEL = b"onpace-console-csrf-v1"

_event: ContextVar[Mapping[str, Any] | None] = ContextVar("console_event", default=None)


# ---------------------------------------------------------------------------------------------
# Errors (status codes in console_handler's exception handlers).


class UnauthenticatedError(Exception):
    """No verified claims: the request did not come through the JWT authorizer."""


class NoDistrictError(Exception):
    """The sign-in token names no district, or a district id that is not allowed."""


class DistrictNotAllowedError(Exception):
    """``X-OnPace-District`` names a district the caller's token does not list."""


class DistrictRequiredError(Exception):
    """The caller belongs to several districts and the request did not say which one."""


class CsrfError(Exception):
    """A form was posted without the CSRF token of the caller's sign-in."""


class NotFoundError(LookupError):
    """The request names nothing of the caller's district (another district's item included)."""


class BadQueryError(ValueError):
    """A query parameter is malformed; the message says which and why."""


# ---------------------------------------------------------------------------------------------
# The caller.


@dataclass(frozen=True)
class Caller:
    """A signed-in district admin and the district this request acts in."""

    sub: str
    email: str | None
    districts: tuple[str, ...]
    district: str


def bind(event: Mapping[str, Any]) -> None:
    """Remember the invocation's event (called by ``lambda_handler`` before routing)."""
    _event.set(event)


def _current() -> Mapping[str, Any]:
    event = _event.get()
    if event is None:
        raise UnauthenticatedError("no request")
    return event


def _claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims")
    return claims if isinstance(claims, Mapping) else {}


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def parse_districts(raw: Any) -> tuple[str, ...]:
    """The district ids of a ``custom:district_id`` claim; ``NoDistrictError`` if none or one is bad."""
    if not isinstance(raw, str) or not raw.strip():
        raise NoDistrictError("Forbidden: your sign-in carries no district.")
    ids = tuple(part.strip() for part in raw.split(","))
    if any(not DISTRICT_ID.fullmatch(part) for part in ids):
        raise NoDistrictError("Forbidden: your sign-in's district list is not valid; ask an operator.")
    return tuple(dict.fromkeys(ids))


def current_caller() -> Caller:
    """The caller of the request being handled, with the district it acts in."""
    event = _current()
    claims = _claims(event)
    if not claims:
        raise UnauthenticatedError("no verified claims")
    districts = parse_districts(claims.get(DISTRICT_CLAIM))
    chosen = (_header(event, DISTRICT_HEADER) or "").strip()
    if chosen:
        if chosen not in districts:
            raise DistrictNotAllowedError("Forbidden: you are not an admin of that district.")
        district = chosen
    elif len(districts) == 1:
        district = districts[0]
    else:
        raise DistrictRequiredError(
            "You are an admin of several districts: say which one in the X-OnPace-District header."
        )
    email = claims.get("email")
    return Caller(
        sub=str(claims.get("sub") or "unknown"),
        email=str(email) if email else None,
        districts=districts,
        district=district,
    )


def actor() -> str:
    """The audit log's actor for the caller: ``admin:<sub>``."""
    return f"admin:{current_caller().sub}"


# ---------------------------------------------------------------------------------------------
# CSRF.


def _bearer() -> str:
    raw = (_header(_current(), "authorization") or "").strip()
    return raw[7:].strip() if raw[:7].lower() == "bearer " else raw


def csrf_token() -> str:
    """The CSRF token of the caller's sign-in: put it in every POST form as the ``csrf`` field."""
    token = _bearer()
    if not token:
        raise UnauthenticatedError("no bearer token")
    return hmac.new(token.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def require_csrf(form: Mapping[str, str]) -> None:
    """Raise ``CsrfError`` unless ``form`` carries the caller's CSRF token."""
    given = form.get(CSRF_FIELD, "")
    if not given or not hmac.compare_digest(given, csrf_token()):
        raise CsrfError("The form's security token is missing or not yours; reload the page.")


# ---------------------------------------------------------------------------------------------
# Responses with the security headers.

COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# A fragment shown on its own (opened directly) runs nothing and loads nothing.
FRAGMENT_CSP = (
    "default-src 'none'; style-src 'none'; script-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def page_csp(nonce: str, connect: str = "") -> str:
    """The shell's policy: its one script and style by nonce; fetches to itself (and ``connect``)."""
    return (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        # An email as sent is shown in a sandboxed <iframe srcdoc>, which inherits this policy:
        # its inline style attributes must apply for it to look as the recipient saw it.
        # Attributes only (no <style>, no script): autoescaped data cannot add attributes.
        "style-src-attr 'unsafe-inline'; "
        f"connect-src 'self'{(' ' + connect) if connect else ''}; img-src 'self' data:; "
        "frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def new_nonce() -> str:
    """A fresh CSP nonce."""
    return secrets.token_urlsafe(18)


def html_response(
    body: str,
    *,
    status: HTTPStatus = HTTPStatus.OK,
    csp: str = FRAGMENT_CSP,
    headers: Mapping[str, str] | None = None,
) -> Response[Any]:
    """An HTML answer (a view fragment unless ``csp`` says otherwise) with the security headers."""
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=body,
        headers={**COMMON_HEADERS, "Content-Security-Policy": csp, **(headers or {})},
    )


def no_store_headers() -> dict[str, str]:
    """The security headers of an answer that is not HTML or JSON (a download): never cached."""
    return dict(COMMON_HEADERS)


def json_response(status: HTTPStatus, body: Mapping[str, Any]) -> Response[Any]:
    """A JSON answer with the security headers (never cached: it may name students)."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=dict(COMMON_HEADERS),
    )


@cache
def templates() -> Environment:
    """The console's Jinja2 environment (autoescaped), built on the first render."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """Render ``templates/<name>`` with ``context``."""
    return templates().get_template(name).render(**context)


# ---------------------------------------------------------------------------------------------
# Query parameters.

MAX_FILTER_LENGTH = 256


def _quote(raw: str) -> str:
    return json.dumps(raw if len(raw) <= 20 else raw[:20] + "…", ensure_ascii=False)


def whole_number(name: str, raw: str, low: int, high: int | None) -> int:
    """``raw`` as a whole number in ``[low, high]``, else ``BadQueryError`` naming ``name``."""
    text = raw.strip()
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    if not text.isdigit() or not text.isascii():
        raise BadQueryError(f"{name} must be a whole number {bounds}, got {_quote(raw)}")
    value = int(text)
    if value < low or (high is not None and value > high):
        raise BadQueryError(f"{name} must be a whole number {bounds}, got {value}")
    return value


def filter_text(name: str, raw: str | None) -> str | None:
    """A stripped filter value, ``None`` when empty; at most ``MAX_FILTER_LENGTH`` characters."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if len(text) > MAX_FILTER_LENGTH:
        raise BadQueryError(f"{name} must be at most {MAX_FILTER_LENGTH} characters long")
    return text


# ---------------------------------------------------------------------------------------------
# Posted forms.

MAX_FORM_BYTES = 16_384


def posted_form(event: Any) -> dict[str, str]:
    """The fields of a form-urlencoded POST (the shell's fetch of a view's form), first value of
    each; a body over ``MAX_FORM_BYTES`` is a ``BadQueryError`` (no console form is that big)."""
    from urllib.parse import parse_qs

    raw = event.decoded_body or ""
    if len(raw) > MAX_FORM_BYTES:
        raise BadQueryError(f"the form is over {MAX_FORM_BYTES} bytes")
    return {name: values[0] for name, values in parse_qs(raw, keep_blank_values=True).items()}
