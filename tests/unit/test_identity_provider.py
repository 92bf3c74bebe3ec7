"""The local identity provider's authorization code + PKCE endpoints, called as the gateway does."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from onpace_local.gateway import JwtAuthorizer
from onpace_local.identity_provider import LocalIdentityProvider, s256

HOST = {"host": "127.0.0.1:8321"}
CONSOLE = "http://127.0.0.1:8321/console"
VERIFIER = "v" * 43 + "-verifier"


@pytest.fixture
def provider() -> LocalIdentityProvider:
    idp = LocalIdentityProvider(
        issuer="https://cognito-idp.us-east-1.amazonaws.com/pool", client_id="client-1"
    )
    idp.add_user("Ana@Riverbend.example.org", ["riverbend", "lakeside"], password="pw-ana")
    return idp


def authorize(idp: LocalIdentityProvider, **overrides: str) -> tuple[int, dict[str, str], bytes]:
    form = {
        "response_type": "code",
        "client_id": "client-1",
        "redirect_uri": CONSOLE,
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        "email": "ana@riverbend.example.org",
        "password": "pw-ana",
        **overrides,
    }
    answer = idp.handle("POST", "/local-idp/oauth2/authorize", HOST, urlencode(form).encode())
    return answer.status, dict(answer.headers), answer.body


def code_of(idp: LocalIdentityProvider) -> str:
    status, headers, _ = authorize(idp)
    assert status == 302
    location = urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CONSOLE
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def token(idp: LocalIdentityProvider, code: str, **overrides: str) -> tuple[int, dict[str, Any]]:
    form = {
        "grant_type": "authorization_code",
        "client_id": "client-1",
        "code": code,
        "redirect_uri": CONSOLE,
        "code_verifier": VERIFIER,
        **overrides,
    }
    answer = idp.handle("POST", "/local-idp/oauth2/token", HOST, urlencode(form).encode())
    return answer.status, json.loads(answer.body)


def test_code_exchange_gives_an_id_token_with_cognitos_claims(provider: LocalIdentityProvider) -> None:
    status, tokens = token(provider, code_of(provider))
    assert status == 200
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    claims = JwtAuthorizer(provider.issuer, ("client-1",), provider.jwks()).verify(tokens["id_token"])
    assert claims is not None
    assert claims["iss"] == provider.issuer and claims["aud"] == "client-1"
    assert claims["token_use"] == "id" and claims["nonce"] == "n-1"
    assert claims["email"] == "ana@riverbend.example.org"
    assert claims["custom:district_id"] == "riverbend,lakeside"
    assert claims["exp"] - claims["iat"] == 3600 and claims["auth_time"] == claims["iat"]
    assert jwt.get_unverified_header(tokens["id_token"])["alg"] == "RS256"


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_verifier": "w" * 50},  # not the challenge's verifier
        {"redirect_uri": "http://127.0.0.1:8321/elsewhere"},
        {"client_id": "client-2"},
        {"code_verifier": "short"},
    ],
)
def test_the_exchange_checks_verifier_redirect_and_client(
    provider: LocalIdentityProvider, overrides: dict[str, str]
) -> None:
    status, answer = token(provider, code_of(provider), **overrides)
    assert (status, answer) == (400, {"error": "invalid_grant"})


def test_a_code_is_used_once(provider: LocalIdentityProvider) -> None:
    code = code_of(provider)
    assert token(provider, code)[0] == 200
    assert token(provider, code) == (400, {"error": "invalid_grant"})
    # A failed exchange uses the code up too.
    other = code_of(provider)
    assert token(provider, other, code_verifier="x" * 50)[0] == 400
    assert token(provider, other)[0] == 400


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"password": "wrong"}, 401),
        ({"email": "nobody@example.org"}, 401),
        ({"code_challenge_method": "plain"}, 400),
        ({"code_challenge": ""}, 400),
        ({"redirect_uri": "https://evil.example/console"}, 400),
        ({"client_id": "client-2"}, 400),
        ({"state": ""}, 400),
        ({"nonce": ""}, 400),
    ],
)
def test_sign_in_refuses(provider: LocalIdentityProvider, overrides: dict[str, str], status: int) -> None:
    got, headers, body = authorize(provider, **overrides)
    assert got == status
    assert "Location" not in headers
    assert b'<label for="email">' in body or b'role="alert"' in body


def test_the_form_is_labelled_and_carries_the_request(provider: LocalIdentityProvider) -> None:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "client-1",
            "redirect_uri": CONSOLE,
            "state": "s<t>",
            "nonce": "n",
            "code_challenge": s256(VERIFIER),
            "code_challenge_method": "S256",
        }
    )
    answer = provider.handle("GET", f"/local-idp/oauth2/authorize?{query}", HOST, b"")
    page = answer.body.decode()
    assert answer.status == 200
    assert '<label for="email">Email</label>' in page and '<label for="password">Password</label>' in page
    assert 'name="state" value="s&lt;t&gt;"' in page
    assert dict(answer.headers)["Cache-Control"] == "no-store"


def test_logout_redirects_to_the_console_only(provider: LocalIdentityProvider) -> None:
    ok = provider.handle(
        "GET", "/local-idp/logout?" + urlencode({"client_id": "client-1", "logout_uri": CONSOLE}), HOST, b""
    )
    assert (ok.status, dict(ok.headers)["Location"]) == (302, CONSOLE)
    bad = provider.handle(
        "GET",
        "/local-idp/logout?" + urlencode({"client_id": "client-1", "logout_uri": "https://evil.example/"}),
        HOST,
        b"",
    )
    assert bad.status == 400


def test_jwks_has_the_public_key_only(provider: LocalIdentityProvider) -> None:
    answer = provider.handle("GET", "/local-idp/.well-known/jwks.json", HOST, b"")
    (key,) = json.loads(answer.body)["keys"]
    assert (key["kty"], key["alg"], key["kid"]) == ("RSA", "RS256", provider.kid)
    assert "d" not in key and "p" not in key
