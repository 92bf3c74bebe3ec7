"""The Caliper route's credential: ``Authorization: Bearer {district_id}/{key}/{secret}``.

Caliper (1.1 §5.4, 1.2 "Sensor API") authenticates with an RFC 6750 bearer token the endpoint
can validate and the Sensor may treat as opaque. OnPace's token names its credential
(``credentials.CredentialName``: district, key) before the secret, so the district is known
without a lookup table and a district can hold several keys at once (rotation).
"""

from __future__ import annotations

from onpace_core.ingest.credentials import CredentialError, CredentialName

SCHEME = "Bearer"


def parse_bearer(authorization: str | None) -> tuple[CredentialName, str]:
    """The credential name and secret of an ``Authorization`` header; CredentialError (401)
    when it is missing or not ``Bearer <district>/<key>/<secret>``."""
    if not authorization or not authorization.strip():
        raise CredentialError("an Authorization header 'Bearer <district>/<key>/<secret>' is required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != SCHEME.lower() or not token.strip():
        raise CredentialError("the Authorization header must use the Bearer scheme")
    parts = token.strip().split("/", 2)
    if len(parts) != 3 or not parts[2]:
        raise CredentialError("the bearer token must be '<district>/<key>/<secret>'")
    district, key, secret = parts
    return CredentialName.parse(f"{district}/{key}"), secret
