"""Per-district LMS credentials in the local stack's Secrets Manager (``ingest.credentials``).

They are what an admin configures in the LMS: a name ``{district_id}/{key}`` and a secret, stored
in ``{webhook_secret_prefix}{district}/{source}`` (one Secrets Manager secret per district and
source). ``add_credential`` creates the secret or adds a key to it, the way an admin would before
pointing an LMS at OnPace; ``create_source_credentials`` gives HTTP Basic credentials (xAPI) and
``caliper_token`` a Caliper Sensor's ``Bearer`` token.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from onpace_core.ingest.credentials import CredentialName, active_keys, secret_name
from onpace_core.settings import Settings

from onpace_local.stack import LocalStack

LOCAL_KEY = "onpace-local"


@dataclass(frozen=True)
class BasicCredentials:
    """HTTP Basic credentials of one key: ``username`` is ``{district_id}/{key}``."""

    username: str
    password: str

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def add_credential(secretsmanager: Any, district_id: str, source: str, key: str = LOCAL_KEY) -> str:
    """A new secret for ``{district_id}/{key}`` of ``source``, stored beside the district's other
    active keys of that source (rotation: both stay valid until one is removed)."""
    CredentialName.parse(f"{district_id}/{key}")  # the same rules the routes apply
    name = secret_name(Settings.from_env().webhook_secret_prefix, district_id, source)
    secret = secrets.token_urlsafe(32)  # URL-safe: a valid RFC 6750 b64token, no "/" in it
    try:
        current = secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    except secretsmanager.exceptions.ResourceNotFoundException:
        secretsmanager.create_secret(Name=name, SecretString=json.dumps({"keys": {key: secret}}))
    else:
        keys = {**active_keys(current), key: secret}
        secretsmanager.put_secret_value(SecretId=name, SecretString=json.dumps({"keys": keys}))
    return secret


def create_source_credentials(
    stack: LocalStack, district_id: str, source: str, keys: tuple[str, ...] = ("lms",)
) -> list[BasicCredentials]:
    """Active credentials of ``source`` for each key (several keys: a rotation in progress)."""
    client = stack.client("secretsmanager")
    return [
        BasicCredentials(
            str(CredentialName(district_id, key)), add_credential(client, district_id, source, key)
        )
        for key in keys
    ]


def caliper_token(secretsmanager: Any, district_id: str, key: str = LOCAL_KEY) -> str:
    """Create a Caliper credential for the district; its bearer token ``district/key/secret``."""
    return f"{district_id}/{key}/{add_credential(secretsmanager, district_id, 'caliper', key)}"
