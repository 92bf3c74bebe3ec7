"""Send signed activity webhooks the way an LMS integration would (Standard Webhooks)."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook


def new_secret() -> str:
    """A signing secret in the scheme's ``whsec_`` + base64 form."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any]


def signed_headers(secret: str, body: str, msg_id: str, at: datetime | None = None) -> dict[str, str]:
    timestamp = at or datetime.now(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, timestamp, body),
    }


def post_webhook(
    base_url: str,
    *,
    district_id: str,
    secret: str,
    events: list[dict[str, Any]] | dict[str, Any],
    source: str = "plain",
    msg_id: str | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> WebhookResponse:
    """POST ``events`` to ``{base_url}/webhooks/{source}?district=...``, signed with ``secret``."""
    payload = body if body is not None else json.dumps(events, separators=(",", ":"))
    sent_headers = (
        headers
        if headers is not None
        else signed_headers(secret, payload, msg_id or f"msg_{secrets.token_hex(8)}")
    )
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/webhooks/{source}?district={district_id}",
        data=payload.encode(),
        headers=sent_headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return WebhookResponse(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        return WebhookResponse(error.code, json.loads(error.read() or b"{}"))


def resign_api_event(event: dict[str, Any], secret: str, at: datetime | None = None) -> dict[str, Any]:
    """A copy of an API Gateway event whose webhook headers are signed now with ``secret``.

    Sample events in ``events/`` carry placeholder signatures (a real one expires in five
    minutes); this is how ``onpace invoke`` and the tests make them valid again.
    """
    headers = dict(event.get("headers") or {})
    fresh = signed_headers(secret, event.get("body") or "", headers.get("webhook-id", "msg_local"), at)
    return {**event, "headers": {**headers, **fresh}}
