"""Hourly signed checkpoints of each district's audit chain head, kept outside the table.

The MAC chain (``audit/log.py``) proves that entries were written by a holder of the chain key
and were not changed since; it cannot prove that entries were not removed from the end, nor stop
a holder of the key (every writing function) from rewriting the chain and MACing it again.
A checkpoint ``{district, seq, mac, at}`` pins the head: signed with a KMS asymmetric key that
only the checkpoint function may use (``kms:Sign``), written to an S3 bucket under Object Lock
in COMPLIANCE mode (nobody, the account root included, can delete or overwrite it before its
retention ends). ``verify_chain`` then requires the log to still hold entry ``seq`` carrying
that ``mac``.

Objects: ``checkpoints/<district>/<yyyy>/<mm>/<dd>/<hh>.json`` (UTC hour), so a district's
objects list in time order.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from onpace_core.audit.keys import bound_endpoint, bound_settings, kms_client
from onpace_core.store.models import TIME_ZONES_PARTITION, AuditModel, ProgramModel, TimeZoneModel

PREFIX = "checkpoints/"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
FORMAT = "onpace-audit-checkpoint/v1"


@dataclass(frozen=True)
class Checkpoint:
    """The head of one district's chain at one instant."""

    district: str
    seq: int
    mac: str
    at: str

    def message(self) -> bytes:
        """The signed bytes: the checkpoint as sorted, compact JSON with its format name."""
        content = {"format": FORMAT, **asdict(self)}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint object read back: what it says (``None`` if unreadable) and whether its
    signature verifies under the deployment's checkpoint key."""

    object_key: str
    checkpoint: Checkpoint | None
    signature_valid: bool
    problem: str | None = None


@dataclass
class CheckpointRun:
    """What one hourly run did: the objects written, the districts with no log yet."""

    written: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def s3_client() -> Any:
    """One S3 client per container (AWS_ENDPOINT_URL, when set, points it at the local stack)."""
    return _s3(bound_settings().aws_region, bound_endpoint())


@lru_cache(maxsize=4)
def _s3(region: str, endpoint_url: str | None) -> Any:
    return boto3.client("s3", region_name=region, endpoint_url=endpoint_url)


def object_key(district_id: str, hour: datetime) -> str:
    """Where the checkpoint of ``district_id`` for the UTC hour of ``hour`` is kept."""
    return f"{PREFIX}{district_id}/{hour.astimezone(UTC):%Y/%m/%d/%H}.json"


def districts() -> list[str]:
    """The districts with a program: one Query of the time zones, one index Query per zone.

    No Scan: the Programs table keeps its zones under one partition (the evaluation planner's
    list) and its ``by_time_zone`` index names each program's district.
    """
    found: set[str] = set()
    for zone in TimeZoneModel.query(TIME_ZONES_PARTITION):
        for program in ProgramModel.by_time_zone.query(zone.program_id, attributes_to_get=["district_id"]):
            found.add(program.district_id)
    return sorted(found)


def head(district_id: str) -> AuditModel | None:
    """The newest entry of the district's chain (one strongly consistent Query)."""
    return next(
        iter(AuditModel.query(district_id, scan_index_forward=False, limit=1, consistent_read=True)), None
    )


def sign(checkpoint: Checkpoint) -> dict[str, Any]:
    """The object to store: the checkpoint and its KMS signature."""
    settings = bound_settings()
    response = kms_client().sign(
        KeyId=settings.audit_checkpoint_key,
        Message=checkpoint.message(),
        MessageType="RAW",
        SigningAlgorithm=SIGNING_ALGORITHM,
    )
    return {
        "checkpoint": asdict(checkpoint),
        "format": FORMAT,
        "signing_algorithm": SIGNING_ALGORITHM,
        "signature": base64.b64encode(response["Signature"]).decode(),
    }


def write_checkpoints(hour: datetime, now: datetime) -> CheckpointRun:
    """Checkpoint the head of every district's chain for the UTC hour of ``hour``.

    Per district: one Query (the head), one KMS Sign, one PutObject. A head that did not move
    is checkpointed again: that costs the same as finding out it did not move (a read of the
    last checkpoint), and it proves the log held no more than ``seq`` entries at that hour.
    """
    settings = bound_settings()
    run = CheckpointRun()
    at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for district_id in districts():
        newest = head(district_id)
        if newest is None:
            run.empty.append(district_id)
            continue
        body = sign(Checkpoint(district_id, int(newest.seq), newest.hash, at))
        key = object_key(district_id, hour)
        # The bucket's default retention (Object Lock, COMPLIANCE) applies to every new object;
        # boto3 sends the checksum Object Lock requires.
        s3_client().put_object(
            Bucket=settings.audit_checkpoint_bucket,
            Key=key,
            Body=json.dumps(body, sort_keys=True).encode(),
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
        )
        run.written.append(key)
    return run


def checkpoint_keys(district_id: str) -> Iterator[str]:
    """The district's checkpoint objects, oldest first (ListObjectsV2, 1,000 a page)."""
    paginator = s3_client().get_paginator("list_objects_v2")
    pages = paginator.paginate(
        Bucket=bound_settings().audit_checkpoint_bucket, Prefix=f"{PREFIX}{district_id}/"
    )
    for page in pages:
        for content in page.get("Contents", []):
            yield str(content["Key"])


def read_checkpoint(district_id: str, key: str) -> StoredCheckpoint:
    """Read one checkpoint object and verify its signature with KMS (``kms:Verify``).

    The key is the deployment's checkpoint key, never one the object names: a forger could name
    a key of their own.
    """
    settings = bound_settings()
    try:
        body = s3_client().get_object(Bucket=settings.audit_checkpoint_bucket, Key=key)["Body"].read()
        document = json.loads(body)
        checkpoint = Checkpoint(**document["checkpoint"])
        signature = base64.b64decode(document["signature"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        return StoredCheckpoint(key, None, False, f"checkpoint {key} is unreadable ({type(exc).__name__})")
    if checkpoint.district != district_id:
        return StoredCheckpoint(key, checkpoint, False, f"checkpoint {key} is for another district")
    try:
        valid = bool(
            kms_client().verify(
                KeyId=settings.audit_checkpoint_key,
                Message=checkpoint.message(),
                MessageType="RAW",
                Signature=signature,
                SigningAlgorithm=SIGNING_ALGORITHM,
            )["SignatureValid"]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "KMSInvalidSignatureException":
            raise
        valid = False
    if not valid:
        return StoredCheckpoint(key, checkpoint, False, f"checkpoint {key}: signature invalid")
    return StoredCheckpoint(key, checkpoint, True)


def forget() -> None:
    """Drop the cached client (a new deployment or local stack in the same process)."""
    _s3.cache_clear()
