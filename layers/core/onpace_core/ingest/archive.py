"""The raw archive: each request's accepted events, as received and as parsed, in S3.

One gzip JSON-lines object per request, written before any DynamoDB write of the request (so
before its 2xx): ``{district}/{yyyy-mm-dd}/{request id}.jsonl.gz``, the date the request was
received (UTC), the request id a sortable time and a random part. No student id in the key: a
listing of the bucket names districts and days only. One line per accepted event (``line``).

The archive holds the bodies for ``RawArchiveDays`` (the bucket's lifecycle); the per-event
items in DynamoDB are a slim dedupe window (``ingest.raw_store``, docs/ingest.md "Raw events").
Writing is at least once: a request whose raw items failed after its archive was written is
retried by the sender and archived again under another request id, so a reader of the
archive keeps the first line of each ``event_id``.
"""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

from onpace_core.audit.log import iso_instant
from onpace_core.ingest.ports import RawRecord

SUFFIX = ".jsonl.gz"
CONTENT_TYPE = "application/gzip"


class RawArchive(Protocol):
    def put(self, key: str, body: bytes) -> None:
        """Store ``body`` under ``key``; raise when it was not stored (the request then fails)."""
        ...


def archive_key(district_id: str, received_at: datetime, request_id: str | None = None) -> str:
    """``{district}/{yyyy-mm-dd}/{request id}.jsonl.gz`` (the district quoted: it is a path part)."""
    moment = received_at.astimezone(UTC)
    request = request_id or f"{moment:%H%M%S%f}-{secrets.token_hex(8)}"
    return f"{quote(district_id, safe='')}/{moment:%Y-%m-%d}/{request}{SUFFIX}"


def line(record: RawRecord) -> dict[str, Any]:
    """One accepted event as archived: its outcome, its payload as received, its parsed copy."""
    return {
        "event_id": record.event_id,
        "source": record.source,
        "status": record.status,
        "received_at": iso_instant(record.received_at),
        "occurred_at": iso_instant(record.occurred_at),
        "digest": record.digest,
        "reason": record.reason,
        "enrollments": list(record.enrollments),
        "payload": record.payload,
        "event": json.loads(record.event) if record.event else None,
    }


def encode(records: Iterable[RawRecord]) -> bytes:
    text = "".join(json.dumps(line(r), ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    # mtime 0: the same lines give the same bytes (tests, and no clock in the object).
    return gzip.compress(text.encode(), mtime=0)


def decode(body: bytes) -> list[dict[str, Any]]:
    """The lines of one archived object."""
    return [json.loads(row) for row in gzip.decompress(body).decode().splitlines() if row]


def archive_records(
    archive: RawArchive, district_id: str, received_at: datetime, records: Sequence[RawRecord]
) -> str | None:
    """Archive the request's accepted events in one object; returns its key, or None when the
    request accepted nothing (all duplicates: archived with the request that first sent them)."""
    if not records:
        return None
    key = archive_key(district_id, received_at)
    archive.put(key, encode(records))
    return key


@lru_cache(maxsize=1)
def s3_client() -> Any:
    """The archive's S3 client, made once per container (``s3_client.cache_clear()`` forgets it)."""
    # Made on the first archived request, not at import: the ingest functions' cold start
    # (docs/scale.md) stays what it was; the first request pays for the client.
    import boto3

    from onpace_core.settings import get_settings

    return boto3.client("s3", region_name=get_settings().aws_region)  # AWS_ENDPOINT_URL if set


@dataclass(frozen=True)
class S3RawArchive:
    """The deployed archive: one ``PutObject`` per request into ``RawArchiveBucket``."""

    bucket: str

    def put(self, key: str, body: bytes) -> None:
        if not self.bucket:
            raise RuntimeError("RAW_ARCHIVE_BUCKET is not set: raw events cannot be archived")
        s3_client().put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=CONTENT_TYPE,
        )


@dataclass
class MemoryRawArchive:
    """The archive in a dict (unit tests, replay): key -> gzip body."""

    objects: dict[str, bytes] = field(default_factory=dict)

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = body

    def lines(self) -> list[dict[str, Any]]:
        return [row for key in sorted(self.objects) for row in decode(self.objects[key])]


def read_district(client: Any, bucket: str, district_id: str) -> list[dict[str, Any]]:
    """Every archived line of a district, oldest object first (an operator's look-up, a replay
    from the archive, tests); a district's objects are listed by its prefix, never the bucket."""
    prefix = f"{quote(district_id, safe='')}/"
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    rows: list[dict[str, Any]] = []
    for key in sorted(keys):
        rows += decode(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    return rows
