"""A local stand-in for the Cognito hosted UI: authorization code + PKCE, served by the local gateway.

In AWS the console shell signs an admin in at the user pool's hosted UI
(``https://<prefix>.auth.<region>.amazoncognito.com``) and API Gateway's JWT authorizer checks the
ID token it gets. Locally the gateway serves this provider under ``/local-idp/`` (the console's
own origin: no CORS), so the shell, the gateway's token check and the console function run the
same code path as deployed:

``GET /local-idp/oauth2/authorize``
    The sign-in form (email, password); ``response_type=code``, ``client_id``, ``redirect_uri``,
    ``state``, ``nonce``, ``code_challenge`` with ``code_challenge_method=S256`` are required.
``POST /local-idp/oauth2/authorize``
    Checks the password and redirects to ``redirect_uri?code=…&state=…``.
``POST /local-idp/oauth2/token``
    ``grant_type=authorization_code``: checks the code (once only, five minutes), the PKCE
    verifier, ``redirect_uri`` and ``client_id``; answers ``{"id_token", "access_token",
    "token_type": "Bearer", "expires_in"}``.
``GET /local-idp/logout?client_id=…&logout_uri=…``
    Redirects to ``logout_uri`` (the provider keeps no session to end).
``GET /local-idp/.well-known/jwks.json``
    The public key (RS256, made for each run) the gateway checks tokens against.

ID tokens carry the claims Cognito's do: ``iss`` (the template's resolved issuer), ``aud`` (the
app client id), ``token_use: id``, ``sub``, ``email``, ``custom:district_id`` (comma-separated
district ids), ``exp``, ``iat``, ``auth_time``, ``nonce``. The redirect URI must be the
requesting origin's ``/console`` (Cognito checks it against the app client's CallbackURLs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

PREFIX = "/local-idp"
DISTRICT_CLAIM = "custom:district_id"
CODE_SECONDS = 300
TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class LocalUser:
    """A district admin of the local provider (a Cognito user with ``custom:district_id``)."""

    email: str
    password: str
    districts: tuple[str, ...]
    sub: str

    @property
    def district_claim(self) -> str:
        return ",".join(self.districts)


@dataclass(frozen=True)
class IdpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Grant:
    user: LocalUser
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    expires: float


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of a verifier (RFC 7636 §4.2)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


_PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


@dataclass
class LocalIdentityProvider:
    """Users, codes and a signing key for one run; thread-safe (the gateway is threaded)."""

    issuer: str
    client_id: str
    token_seconds: int = TOKEN_SECONDS
    clock: Callable[[], float] = time.time
    users: dict[str, LocalUser] = field(default_factory=dict)
    _grants: dict[str, _Grant] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex

    # -- users and tokens ---------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        districts: tuple[str, ...] | list[str],
        password: str | None = None,
        sub: str | None = None,
    ) -> LocalUser:
        """Add (or replace) an admin; a password is made when none is given."""
        user = LocalUser(
            email=email.lower(),
            password=password or secrets.token_urlsafe(12),
            districts=tuple(districts),
            sub=sub or str(uuid.uuid5(uuid.NAMESPACE_URL, f"onpace-local:{email.lower()}")),
        )
        self.users[user.email] = user
        return user

    def id_token(self, user: LocalUser, nonce: str | None = None, lifetime: int | None = None) -> str:
        """An ID token for ``user`` as Cognito would issue it (``lifetime`` seconds; may be negative)."""
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "token_use": "id",
            "sub": user.sub,
            "email": user.email,
            "email_verified": True,
            DISTRICT_CLAIM: user.district_claim,
            "iat": now,
            "auth_time": now,
            "exp": now + (self.token_seconds if lifetime is None else lifetime),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def _access_token(self, user: LocalUser) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "openid email",
            "sub": user.sub,
            "iat": now,
            "exp": now + self.token_seconds,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set of the signing key (public part only)."""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    # -- HTTP -----------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> IdpResponse:
        """Answer one request under ``/local-idp/`` (``headers`` with lower-case names)."""
        split = urlsplit(target)
        path = split.path[len(PREFIX) :]
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        if path == "/.well-known/jwks.json" and method == "GET":
            return _json(HTTPStatus.OK, self.jwks())
        if path == "/oauth2/authorize" and method == "GET":
            problem = self._authorize_problem(query, headers)
            if problem:
                return _page(HTTPStatus.BAD_REQUEST, _error_page(problem))
            return _page(HTTPStatus.OK, _form(query, None))
        if path == "/oauth2/authorize" and method == "POST":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return self._sign_in(form, headers)
        if path == "/oauth2/token" and method == "POST":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return self._token(form)
        if path == "/logout" and method == "GET":
            target_uri = query.get("logout_uri", "")
            if query.get("client_id") != self.client_id or not self._is_console_uri(target_uri, headers):
                return _page(HTTPStatus.BAD_REQUEST, _error_page("Unknown client or sign-out URL."))
            return IdpResponse(
                int(HTTPStatus.FOUND), [("Location", target_uri), ("Cache-Control", "no-store")], b""
            )
        return _json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})

    @staticmethod
    def _is_console_uri(uri: str, headers: Mapping[str, str]) -> bool:
        # Cognito compares with the app client's CallbackURLs; locally the console is this origin's.
        split = urlsplit(uri)
        same_origin = split.netloc == headers.get("host")
        return split.scheme in ("http", "https") and same_origin and split.path == "/console"

    def _authorize_problem(self, query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
        if query.get("response_type") != "code":
            return "response_type must be code."
        if query.get("client_id") != self.client_id:
            return "Unknown client_id."
        if not self._is_console_uri(query.get("redirect_uri", ""), headers):
            return "redirect_uri is not a callback URL of this client."
        if query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) < 43:
            return "PKCE is required: code_challenge with code_challenge_method=S256."
        if not query.get("state") or not query.get("nonce"):
            return "state and nonce are required."
        return None

    def _sign_in(self, form: Mapping[str, str], headers: Mapping[str, str]) -> IdpResponse:
        problem = self._authorize_problem(form, headers)
        if problem:
            return _page(HTTPStatus.BAD_REQUEST, _error_page(problem))
        user = self.users.get(form.get("email", "").strip().lower())
        if user is None or not hmac.compare_digest(user.password, form.get("password", "")):
            return _page(HTTPStatus.UNAUTHORIZED, _form(form, "Incorrect email or password."))
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[code] = _Grant(
                user=user,
                client_id=form["client_id"],
                redirect_uri=form["redirect_uri"],
                challenge=form["code_challenge"],
                nonce=form["nonce"],
                expires=self.clock() + CODE_SECONDS,
            )
        location = form["redirect_uri"] + "?" + urlencode({"code": code, "state": form["state"]})
        return IdpResponse(
            int(HTTPStatus.FOUND), [("Location", location), ("Cache-Control", "no-store")], b""
        )

    def _token(self, form: Mapping[str, str]) -> IdpResponse:
        if form.get("grant_type") != "authorization_code":
            return _json(HTTPStatus.BAD_REQUEST, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # one use per code, even a failed one
        if grant is None or grant.expires < self.clock():
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        if (
            form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
            or not 43 <= len(verifier) <= 128
            or not hmac.compare_digest(s256(verifier), grant.challenge)
        ):
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_grant"})
        return _json(
            HTTPStatus.OK,
            {
                "id_token": self.id_token(grant.user, nonce=grant.nonce),
                "access_token": self._access_token(grant.user),
                "token_type": "Bearer",
                "expires_in": self.token_seconds,
            },
        )


def _json(status: HTTPStatus, body: dict[str, Any]) -> IdpResponse:
    return IdpResponse(
        int(status),
        [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        json.dumps(body).encode("utf-8"),
    )


def _page(status: HTTPStatus, text: str) -> IdpResponse:
    return IdpResponse(
        int(status),
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy", _PAGE_CSP),
            ("Referrer-Policy", "no-referrer"),
        ],
        text.encode("utf-8"),
    )


_STYLE = """
body{font-family:system-ui,sans-serif;background:#f3f5f8;color:#1b2430;margin:0}
main{max-width:24rem;margin:3rem auto;background:#fff;border:1px solid #d9dee5;border-radius:8px;
padding:1.5rem}
h1{font-size:1.25rem;margin-top:0}label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{font:inherit;width:100%;padding:.5rem;border:1px solid #6b7280;border-radius:5px;
box-sizing:border-box}
button{font:inherit;margin-top:1.25rem;padding:.5rem 1rem;background:#1d4ed8;color:#fff;border:0;
border-radius:5px}
.error{color:#9f1239;background:#fdecef;padding:.5rem;border-radius:5px}.hint{color:#55606e;font-size:.85rem}
"""
_HIDDEN = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "scope",
)


def _shell(title: str, content: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{content}</main></body></html>"
    )


def _form(params: Mapping[str, str], error: str | None) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">' for name in _HIDDEN
    )
    alert = f'<p class="error" role="alert" id="signin-error">{html.escape(error)}</p>' if error else ""
    described = ' aria-describedby="signin-error"' if error else ""
    return _shell(
        "Sign in · OnPace (local)",
        "<h1>Sign in to the OnPace console</h1>"
        '<p class="hint">Local development identity provider (stands in for Cognito).</p>'
        f'{alert}<form method="post" action="{PREFIX}/oauth2/authorize">{hidden}'
        '<label for="email">Email</label>'
        f'<input id="email" name="email" type="email" autocomplete="username" required{described}'
        f' value="{html.escape(params.get("email", ""))}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form>',
    )


def _error_page(problem: str) -> str:
    return _shell(
        "Sign-in error · OnPace (local)",
        f'<h1>Cannot sign in</h1><p class="error" role="alert">{html.escape(problem)}</p>',
    )
