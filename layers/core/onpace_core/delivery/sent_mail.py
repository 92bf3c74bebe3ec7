"""The email as sent (issue 12, scope 8): every message kept exactly as it was handed to SES.

The sender keeps a message's raw MIME bytes in ``SentMailBucket`` after marking the recipient
and before calling SES (``keep``), so a message SES accepted is always kept; a retry of the same
recipient overwrites the object with the message it sends. The key,
``{district_id}/{sha256 of notice_id}/{r_i}.eml``, names no student (the notice id does, so it is
hashed) and goes into the recipient's delivery entry (``deliveries.r{i}.mail``) with the writes
the sender makes anyway: no extra DynamoDB request.

An admin reads a kept email through the console (``kept_email``): the notice must belong to the
caller's district, and ``fetch`` refuses a key under another district's prefix whatever the
notice says. The bucket's lifecycle removes objects after ``SentMailDays`` (docs/operations.md).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cache
from typing import Any, Protocol
from urllib.parse import quote

from onpace_core.settings import Settings
from onpace_core.store.models import OutboxModel

CONTENT_TYPE = "message/rfc822"
#: The delivery entry's field that holds the key.
FIELD = "mail"


class ForeignMailError(Exception):
    """A key outside the caller's district was asked for."""


class MailStore(Protocol):
    """Where kept messages go: ``SentMailBucket``, or a dict in tests."""

    def put(self, key: str, body: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...


@cache
def _s3_client(region: str) -> Any:
    import boto3

    return boto3.client("s3", region_name=region)  # AWS_ENDPOINT_URL if set


@dataclass(frozen=True)
class S3MailStore:
    """The deployed store: one PutObject per message sent, one GetObject per console read."""

    bucket: str
    region: str

    def put(self, key: str, body: bytes) -> None:
        _s3_client(self.region).put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return bytes(_s3_client(self.region).get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as error:
            # Without s3:ListBucket (least privilege) S3 answers a missing object with AccessDenied,
            # not NoSuchKey: both mean there is nothing to show (the object expired).
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "AccessDenied", "404"):
                return None
            raise


@dataclass
class MemoryMailStore:
    """Kept messages in a dict (unit tests)."""

    objects: dict[str, bytes] = field(default_factory=dict)

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = body

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)


def store_for(settings: Settings) -> MailStore | None:
    """The store ``settings`` name (``SENT_MAIL_BUCKET``), or None where none is configured (a
    unit test of the sender; every deployed notify function has one)."""
    if not settings.sent_mail_bucket:
        return None
    return S3MailStore(settings.sent_mail_bucket, settings.aws_region)


def _prefix(district_id: str) -> str:
    return f"{quote(district_id, safe='')}/"


def mail_key(district_id: str, notice_id: str, recipient_key: str) -> str:
    """``{district}/{sha256(notice_id)}/{r_i}.eml``: no student id in the key."""
    digest = hashlib.sha256(notice_id.encode("utf-8")).hexdigest()
    return f"{_prefix(district_id)}{digest}/{recipient_key}.eml"


def keep(store: MailStore | None, notice: OutboxModel, recipient_key: str, raw: bytes) -> dict[str, str]:
    """Keep ``raw`` (the bytes about to be handed to SES) for ``recipient_key``; the fields it adds
    to the recipient's delivery entry (``{"mail": key}``; none without a store). Raises what the
    store raises: the caller gives the recipient back and sends nothing it could not keep."""
    if store is None:
        return {}
    key = mail_key(notice.district_id, notice.notice_id, recipient_key)
    store.put(key, raw)
    return {FIELD: key}


def fetch(store: MailStore, district_id: str, key: str) -> bytes | None:
    """The kept message under ``key``, for a caller of ``district_id``; :class:`ForeignMailError`
    for a key of another district, None when there is no such object (expired)."""
    if not key.startswith(_prefix(district_id)):
        raise ForeignMailError(key)
    return store.get(key)


def message_view(raw: bytes) -> dict[str, Any]:
    """What the family saw, as data: headers, the text and HTML parts, the attachments' names.

    The HTML is returned as SES received it, not sanitised: whoever displays it must do so in a
    sandboxed iframe (no scripts, no same origin), never inline in the console's page.
    """
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    attachments = [
        {"filename": part.get_filename(), "content_type": part.get_content_type()}
        for part in parsed.iter_attachments()
    ]
    return {
        "subject": _header(parsed, "Subject"),
        "from": _header(parsed, "From"),
        "to": _header(parsed, "To"),
        "reply_to": _header(parsed, "Reply-To"),
        "date": _header(parsed, "Date"),
        "message_id": _header(parsed, "Message-ID"),
        "text": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
        "attachments": attachments,
    }


def _header(message: EmailMessage, name: str) -> str | None:
    value = message[name]
    # CPython keeps the space of a fold right after the colon; mail clients drop it.
    return str(value).strip() if value is not None else None


def _entry(deliveries: Any, recipient_key: str) -> Mapping[str, Any]:
    # Not ``evidence.plain``: evidence imports the rules' titles, which the console's cold start
    # must not load (tests/unit/test_cold_imports.py).
    found = deliveries.as_dict() if hasattr(deliveries, "as_dict") else dict(deliveries or {})
    entry = found.get(recipient_key)
    return entry if isinstance(entry, Mapping) else {}


def kept_email(
    store: MailStore, district_id: str, notice_id: str, recipient_key: str
) -> dict[str, Any] | None:
    """The email ``recipient_key`` of ``notice_id`` as sent, for an admin of ``district_id``, or
    None when there is none to show: no such notice in the caller's district (another district's
    notice is not found either), no message kept for that recipient, or the object expired.
    One GetItem of the notice (projected) and one GetObject."""
    try:
        notice = OutboxModel.get(notice_id, attributes_to_get=["district_id", "deliveries"])
    except OutboxModel.DoesNotExist:
        return None
    if notice.district_id != district_id:
        return None
    entry = _entry(notice.deliveries, recipient_key)
    key = entry.get(FIELD)
    if not isinstance(key, str):
        return None
    try:
        raw = fetch(store, district_id, key)
    except ForeignMailError:
        return None
    if raw is None:
        return None
    return {
        "notice_id": notice_id,
        "recipient": recipient_key,
        "status": entry.get("status"),
        "ses_message_id": entry.get("message_id"),
        **message_view(raw),
    }
