"""Per-district LMS credentials in the local stack's Secrets Manager (``ingest.credentials``).

``add_credential`` creates (or adds a key to) ``{webhook_secret_prefix}{district}/{source}`` the
way an admin would before pointing an LMS at OnPace; ``caliper_token`` is the Caliper Sensor's
``Bearer`` token for it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from onpace_core.ingest.credentials import CredentialName, active_keys, secret_name
from onpace_core.settings import Settings

LOCAL_KEY = "onpace-local"


def add_credential(secretsmanager: Any, district_id: str, source: str, key: str = LOCAL_KEY) -> str:
    """A new secret for ``{district_id}/{key}`` of ``source``, stored beside the district's other
    active keys of that source (rotation: both stay valid until one is removed)."""
    CredentialName.parse(f"{district_id}/{key}")  # the same rules the route applies
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


def caliper_token(secretsmanager: Any, district_id: str, key: str = LOCAL_KEY) -> str:
    """Create a Caliper credential for the district; its bearer token ``district/key/secret``."""
    return f"{district_id}/{key}/{add_credential(secretsmanager, district_id, 'caliper', key)}"
