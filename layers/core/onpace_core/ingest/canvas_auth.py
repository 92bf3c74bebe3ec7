"""Who may send Canvas Live Events for a district, and the check of Canvas's RS256 JWT.

With "Sign Payload" on, Canvas Data Services POSTs each event as a compact JWT whose claims are
the event (``metadata`` and ``body``), signed RS256 with a key published in Instructure's JWKS
(rotated monthly: the JWKS lists the previous, current and next key; the JWT header's ``kid``
picks one). A district's receiver is configured in its secret
``{webhook_secret_prefix}{district_id}/canvas``::

    {"jwks_url": "https://8axpcl50e4.execute-api.us-east-1.amazonaws.com/main/jwks",
     "accounts": ["21070000000000001"]}

or with the key set inline (``"jwks": {"keys": [...]}``, what the local stack and the tests
use: no network). ``accounts`` are the Canvas root account ids (``metadata.root_account_id``)
whose events the district accepts.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    import jwt

ALGORITHM = "RS256"
# Canvas's and AWS's clocks may disagree a little; an expired token is still refused.
LEEWAY_SECONDS = 60
# The JWKS URL's keys are cached this long; an unknown kid refetches them at once (rotation).
JWKS_CACHE_SECONDS = 3600


class CanvasTokenError(Exception):
    """The request's JWT is refused; ``status`` is what to answer (400 malformed, 401 not
    authentic, 503 the JWKS could not be fetched) and the message is safe to send back."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class CanvasReceiver(BaseModel):
    """The district's Canvas secret: where the signing keys come from, and its root accounts."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    jwks: dict[str, Any] | None = None
    # HTTPS, or plain HTTP to this machine only (the local stack and the tests).
    jwks_url: str | None = Field(
        default=None, pattern=r"^(https://\S+|http://(127\.0\.0\.1|localhost)(:\d+)?/\S*)$"
    )
    accounts: tuple[str, ...] = Field(min_length=1)

    @field_validator("accounts", mode="before")
    @classmethod
    def _as_strings(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list | tuple) else value

    @model_validator(mode="after")
    def _one_key_source(self) -> CanvasReceiver:
        if (self.jwks is None) == (self.jwks_url is None):
            raise ValueError("give exactly one of 'jwks' and 'jwks_url'")
        return self


def parse_receiver(secret_string: str) -> CanvasReceiver:
    """The stored secret as a ``CanvasReceiver``; a malformed one accepts nobody (401)."""
    try:
        return CanvasReceiver.model_validate_json(secret_string)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'secret'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise CanvasTokenError(f"the district's Canvas configuration is not valid ({problems})") from None


_clients: dict[str, jwt.PyJWKClient] = {}
_clients_lock = threading.Lock()


def _url_key(url: str, kid: str) -> jwt.PyJWK:
    import jwt  # PyJWT and cryptography: on the first Canvas event, not at cold start

    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=5)
            _clients[url] = client
    try:
        return client.get_signing_key(kid)
    except jwt.PyJWKClientConnectionError as exc:
        # Canvas retries a 5xx: the event is not lost while the JWKS endpoint is down.
        raise CanvasTokenError(f"Canvas's signing keys could not be fetched: {exc}", 503) from None
    except jwt.PyJWKClientError:
        raise CanvasTokenError(f"no signing key with kid {kid!r} in Canvas's JWKS") from None


def _inline_key(jwks: dict[str, Any], kid: str) -> jwt.PyJWK:
    import jwt  # PyJWT and cryptography: on the first Canvas event, not at cold start

    try:
        key_set = jwt.PyJWKSet.from_dict(jwks)
    except jwt.PyJWTError as exc:
        raise CanvasTokenError(f"the district's Canvas JWKS holds no usable key ({exc})") from None
    for key in key_set.keys:
        if key.key_id == kid:
            return key
    raise CanvasTokenError(f"no signing key with kid {kid!r} in the district's Canvas JWKS")


def verify_live_event_jwt(token: str, receiver: CanvasReceiver) -> dict[str, Any]:
    """The claims of ``token`` once its RS256 signature (by the key its ``kid`` names), and its
    ``exp``/``nbf`` if present, check out; ``CanvasTokenError`` otherwise."""
    import jwt  # PyJWT and cryptography: on the first Canvas event, not at cold start

    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise CanvasTokenError(f"the body is not a compact JWT ({exc})", 400) from None
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise CanvasTokenError(f"the JWT is signed with {algorithm!r}; only {ALGORITHM} is accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise CanvasTokenError("the JWT header names no key (kid)")
    key = (
        _inline_key(receiver.jwks, kid)
        if receiver.jwks is not None
        else _url_key(str(receiver.jwks_url), kid)
    )
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            leeway=LEEWAY_SECONDS,
            options={"verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise CanvasTokenError("the JWT has expired") from None
    except jwt.InvalidSignatureError:
        raise CanvasTokenError("the JWT's signature is not valid") from None
    except jwt.DecodeError as exc:
        raise CanvasTokenError(f"the JWT is malformed ({exc})", 400) from None
    except jwt.PyJWTError as exc:
        raise CanvasTokenError(f"the JWT is not valid ({exc})") from None
    return claims
