"""Send Canvas Live Events the way Canvas Data Services does: a signed JWT POSTed over HTTPS,
or the raw event written to the SQS queue.

``CanvasSigner`` plays Instructure's signing service: an RSA key pair whose public half is
published as a JWKS (``jwks``), and ``sign`` makes the compact RS256 JWT whose claims are the
event. ``live_event_from_plain`` turns OnPace's plain activity event into the Canvas event that
would have reported it (for the demo and the tests).
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from onpace_local.webhook_client import WebhookResponse

# A root account id in Canvas's global form (shard 2107, account 1), as in Canvas's own examples.
DEFAULT_ROOT_ACCOUNT = "21070000000000001"
_SHARD_FACTOR = 10**13


@dataclass(frozen=True)
class CanvasSigner:
    """An RSA key pair and its key id: signs live events as Canvas would."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    kid: str

    @classmethod
    def generate(cls, kid: str | None = None) -> CanvasSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, kid or f"local-{uuid.uuid4().hex[:12]}")

    @property
    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def sign(
        self,
        event: dict[str, Any],
        *,
        at: datetime | None = None,
        expires_in: timedelta = timedelta(minutes=5),
        algorithm: str = "RS256",
    ) -> str:
        """The compact JWT whose claims are ``event`` (``metadata`` and ``body``) plus iat/exp."""
        now = at or datetime.now(UTC)
        claims = {**event, "iat": int(now.timestamp()), "exp": int((now + expires_in).timestamp())}
        return jwt.encode(claims, self.private_key, algorithm=algorithm, headers={"kid": self.kid})


def post_live_event(
    base_url: str,
    *,
    district_id: str,
    token: str,
    content_type: str = "application/jwt",
) -> WebhookResponse:
    """POST one signed event (``token``) to ``{base_url}/canvas/live-events?district=...``."""
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/canvas/live-events?district={quote(district_id)}",
        data=token.encode(),
        headers={"content-type": content_type},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return WebhookResponse(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        return WebhookResponse(error.code, json.loads(error.read() or b"{}"))


def send_to_queue(sqs: Any, queue_url: str, event: dict[str, Any] | str) -> str:
    """Write one event to the queue as Canvas does (the JSON as the message body); its id."""
    body = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
    return str(sqs.send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"])


# ---------------------------------------------------------------------------------------------
# From OnPace's plain format.


def _local_id(text: str) -> int:
    """A stable Canvas-like local id for a sourcedId or event id."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 10**9 + 1


def _global_id(shard: int, text: str) -> str:
    return str(shard * _SHARD_FACTOR + _local_id(text))


def _utc(text: str) -> str:
    at = datetime.fromisoformat(text).astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def live_event_from_plain(
    plain: dict[str, Any], root_account_id: str = DEFAULT_ROOT_ACCOUNT
) -> dict[str, Any]:
    """The Canvas live event that would report ``plain`` (OnPace's plain activity event).

    The student's sourcedId becomes the Canvas user's SIS id and the class's sourcedId the
    course's SIS id, so the event resolves to the same enrollment; Canvas ids are derived from
    them. ``percent_complete`` travels only on ``progress`` (as module requirements: n of 100).
    Kinds Canvas has no live event for (``mastery_exercise``, ``forum_question``,
    ``instructor_message``, inputs) raise ``ValueError``.
    """
    kind = plain["kind"]
    student, class_id = str(plain["student"]), plain.get("class")
    shard = int(root_account_id) // _SHARD_FACTOR if int(root_account_id) >= _SHARD_FACTOR else 1
    user_id = _global_id(shard, f"user:{student}")
    event_time = _utc(plain["occurred_at"])
    key = str(plain["event_id"])
    metadata: dict[str, Any] = {
        "producer": "canvas",
        "event_time": event_time,
        "root_account_id": root_account_id,
        "request_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"onpace-demo:{key}")),
        "user_id": user_id,
        "user_sis_id": student,
        "user_login": student,
    }
    if class_id is not None:
        metadata.update(
            context_type="Course",
            context_id=_global_id(shard, f"course:{class_id}"),
            context_sis_source_id=str(class_id),
            context_role="StudentEnrollment",
        )
    body: dict[str, Any]
    if kind == "submission":
        name = "submission_created"
        body = {
            "submission_id": _global_id(shard, f"submission:{key}"),
            "assignment_id": _global_id(shard, f"assignment:{key}"),
            "user_id": user_id,
            "attempt": 1,
            "submitted_at": event_time,
            "submission_type": "online_text_entry",
            "workflow_state": "submitted",
        }
    elif kind == "login":
        name = "logged_in"
        for context_key in ("context_type", "context_id", "context_sis_source_id", "context_role"):
            metadata.pop(context_key, None)
        body = {"redirect_url": None}
    elif kind == "view":
        name = "asset_accessed"
        body = {"asset_type": "course", "asset_id": metadata.get("context_id"), "asset_subtype": "modules"}
    elif kind in ("discussion_post", "discussion_reply"):
        name = "discussion_entry_created"
        body = {
            "discussion_entry_id": str(_local_id(f"entry:{key}")),
            "discussion_topic_id": str(_local_id(f"topic:{class_id}")),
            "user_id": str(_local_id(f"user:{student}")),
            "created_at": event_time,
            "text": "",
        }
        if kind == "discussion_reply":
            body["parent_discussion_entry_id"] = str(_local_id(f"parent:{key}"))
    elif kind == "progress":
        name = "course_progress"
        percent = plain.get("percent_complete")
        if percent is None:
            raise ValueError("a progress event needs percent_complete")
        body = {
            "course": {"id": str(_local_id(f"course:{class_id}")), "sis_source_id": class_id},
            "progress": {"requirement_completed_count": round(float(percent)), "requirement_count": 100},
            "user": {"id": str(_local_id(f"user:{student}"))},
        }
    else:
        raise ValueError(f"Canvas sends no live event for OnPace kind {kind!r}")
    metadata["event_name"] = name
    return {"metadata": metadata, "body": body}
