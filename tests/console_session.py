"""Signing in to the console the way its shell does: code + PKCE at the local identity provider.

``sign_in_over_http(gateway_url, email, password)`` performs the whole exchange over HTTP (the
sign-in form's POST, the redirect's code, the token endpoint with the verifier) and returns the ID
token; ``ConsoleSession`` is an HTTP client that sends it (``Authorization: Bearer``) with an
optional ``X-OnPace-District``. The fixtures in tests/conftest.py build on these.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from onpace_local.identity_provider import LocalUser


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed; ``(status, headers with lower-case names, body)``."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, method=method, data=body, headers=headers or {})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_in_over_http(gateway_url: str, email: str, password: str, client_id: str) -> dict[str, Any]:
    """The token endpoint's answer after signing in at the local identity provider's form."""
    verifier, challenge = pkce_pair()
    redirect_uri = f"{gateway_url}/console"
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    form = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "openid email",
        "email": email,
        "password": password,
    }
    status, headers, _ = http(
        f"{gateway_url}/local-idp/oauth2/authorize",
        "POST",
        urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 302, f"sign-in refused ({status})"
    location = urlsplit(headers["location"])
    answer = parse_qs(location.query)
    assert answer["state"] == [state]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": answer["code"][0],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    status, _, body = http(
        f"{gateway_url}/local-idp/oauth2/token",
        "POST",
        urlencode(exchange).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, body
    tokens: dict[str, Any] = json.loads(body)
    return tokens


@dataclass
class ConsoleSession:
    """An authorised HTTP client of the console: a signed-in admin's ID token on every request."""

    url: str  # the gateway's base URL
    user: LocalUser
    token: str
    district: str | None = None  # sent as X-OnPace-District when set

    def headers(self, district: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", **extra}
        chosen = district if district is not None else self.district
        if chosen:
            headers["X-OnPace-District"] = chosen
        return headers

    def request(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        district: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """``(status, headers, body)``; the body parsed when it is JSON."""
        target = f"{self.url}{path}" + (f"?{urlencode(query)}" if query else "")
        status, answer_headers, raw = http(target, method, body, self.headers(district, **(headers or {})))
        kind = answer_headers.get("content-type", "")
        if kind.startswith("application/json"):
            return status, answer_headers, json.loads(raw) if raw else None
        if kind.startswith("application/pdf"):
            return status, answer_headers, raw  # bytes: a download
        return status, answer_headers, raw.decode("utf-8")

    def csrf(self) -> str:
        """The CSRF field the console's views put in their forms for this sign-in (an HMAC of the
        bearer token: console_access.csrf_token)."""
        return hmac.new(self.token.encode("utf-8"), b"onpace-console-csrf-v1", hashlib.sha256).hexdigest()

    def post_form(
        self, path: str, fields: dict[str, str], district: str | None = None, csrf: bool = True
    ) -> tuple[int, dict[str, str], Any]:
        """POST ``fields`` form-urlencoded as the shell does, with the CSRF field unless ``csrf``
        is False."""
        body = {**({"csrf": self.csrf()} if csrf else {}), **fields}
        return self.request(
            "POST",
            path,
            body=urlencode(body).encode(),
            district=district,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def get(
        self, path: str, query: dict[str, str] | None = None, district: str | None = None
    ) -> tuple[int, dict[str, str], Any]:
        return self.request("GET", path, query, district=district)
