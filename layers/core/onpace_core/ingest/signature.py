"""Webhook authentication with the Standard Webhooks scheme (HMAC-SHA256, 5-minute tolerance).

The scheme and its verification come from the ``standardwebhooks`` library; this module only
maps its outcome to OnPace's errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class SignatureError(Exception):
    """The request is not signed by the district's secret (or is too old or too new)."""


def verify_signature(secret: str, body: str, headers: Mapping[str, Any]) -> None:
    try:
        Webhook(secret).verify(body, {k.lower(): str(v) for k, v in headers.items()}, json_parse=False)
    except WebhookVerificationError as exc:
        raise SignatureError(str(exc)) from exc
    except (ValueError, TypeError) as exc:  # malformed signature header (bad base64, no comma)
        raise SignatureError(f"malformed webhook-signature header: {exc}") from exc
