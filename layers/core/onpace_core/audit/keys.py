"""Each district's audit-chain key: derived in KMS, held only in a container's memory.

The key is ``GenerateMac(KeyId=AUDIT_CHAIN_KEY, Message="onpace-audit-chain/v1/<district>")``
with the deployment's HMAC_256 KMS key, asked once per container and district and then cached.
No key material is stored anywhere, so whoever can write the audit table but may not call
``kms:GenerateMac`` on that key cannot compute a single valid MAC, let alone re-hash a chain.
A container pays one KMS request per district it writes to, not one per entry.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3

from onpace_core.settings import Settings, get_settings

CONTEXT = "onpace-audit-chain/v1/"
MAC_ALGORITHM = "HMAC_SHA_256"

# (KMS key id, district) -> derived key. Keyed by the KMS key too: a new binding (another
# deployment, the next local stack) never answers from the last one's keys.
_keys: dict[tuple[str, str], bytes] = {}


class ChainKeyMissingError(RuntimeError):
    """AUDIT_CHAIN_KEY is not set: the audit log cannot be written or verified without it."""


# A binding other than the functions' environment (``onpace load`` writing to a stack it names).
_bound: tuple[Settings, str | None] | None = None


def bind(settings: Settings | None, endpoint_url: str | None = None) -> None:
    """Use ``settings``' chain key (and KMS at ``endpoint_url``) instead of the environment's;
    ``None`` goes back to the environment."""
    global _bound
    _bound = (settings, endpoint_url) if settings is not None else None


def bound_settings() -> Settings:
    """The settings the audit log runs with: the bound ones, else the environment's."""
    return _bound[0] if _bound is not None else get_settings()


def bound_endpoint() -> str | None:
    """The endpoint given to :func:`bind` (``None``: botocore's own, AWS_ENDPOINT_URL if set)."""
    return _bound[1] if _bound is not None else None


def kms_client() -> Any:
    """One KMS client per container (AWS_ENDPOINT_URL, when set, points it at the local stack)."""
    return _kms(bound_settings().aws_region, bound_endpoint())


@lru_cache(maxsize=4)
def _kms(region: str, endpoint_url: str | None) -> Any:
    return boto3.client("kms", region_name=region, endpoint_url=endpoint_url)


def district_key(district_id: str) -> bytes:
    """The HMAC key of ``district_id``'s chain (one KMS GenerateMac the first time per container)."""
    key_id = bound_settings().audit_chain_key
    if not key_id:
        raise ChainKeyMissingError("AUDIT_CHAIN_KEY is not set: no key to MAC the audit chain with")
    cached = _keys.get((key_id, district_id))
    if cached is None:
        response = kms_client().generate_mac(
            KeyId=key_id, MacAlgorithm=MAC_ALGORITHM, Message=f"{CONTEXT}{district_id}".encode()
        )
        cached = bytes(response["Mac"])
        _keys[(key_id, district_id)] = cached
    return cached


def forget() -> None:
    """Drop the cached keys and client (a new deployment or local stack in the same process)."""
    _keys.clear()
    _kms.cache_clear()
