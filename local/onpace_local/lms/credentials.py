"""Create a district's credentials for one LMS source (``xapi``, later ``caliper``) in the local stack.

They are what an admin configures in the LMS: a name ``{district_id}/{key}`` and a secret, stored as
``onpace_core.ingest.credentials`` describes (one Secrets Manager secret per district and source).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

from onpace_core.ingest.credentials import CredentialName, secret_name
from onpace_core.settings import Settings

from onpace_local.stack import LocalStack


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


def new_key_secret() -> str:
    return secrets.token_urlsafe(32)


def create_source_credentials(
    stack: LocalStack, district_id: str, source: str, keys: tuple[str, ...] = ("lms",)
) -> list[BasicCredentials]:
    """Create the district's secret for ``source`` with one active secret per key (several keys:
    a rotation in progress); the credentials of each key, in order."""
    made = [BasicCredentials(str(CredentialName(district_id, key)), new_key_secret()) for key in keys]
    stored = {"keys": {CredentialName.parse(c.username).key: c.password for c in made}}
    stack.client("secretsmanager").create_secret(
        Name=secret_name(Settings.from_env().webhook_secret_prefix, district_id, source),
        SecretString=json.dumps(stored),
    )
    return made
