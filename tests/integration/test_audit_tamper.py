"""Tamper evidence of the audit log, against moto server over HTTP.

Each test writes a district's chain through the code (``append``), checkpoints it through the
AuditCheckpointFunction's hourly schedule, tampers with the table or the bucket the way an
attacker with that access could, and asserts the first bad entry ``verify_chain`` names. The
console's route and ``onpace audit verify`` return the same report (last tests).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.checkpoint import Checkpoint, object_key
from onpace_core.audit.keys import district_key
from onpace_core.audit.log import AuditEntry, ChainReport, append, entry_mac, verify_chain
from onpace_core.store.models import AuditModel
from onpace_local.evaluation import checkpoint_audit
from onpace_local.stack import LocalStack

from tests.integration.districts import make_district

pytestmark = [pytest.mark.integration]

PACING = {"cps.pacing.ipr_warning_2w": {}}
HOUR = datetime(2026, 9, 28, 14, 15, tzinfo=UTC)


@pytest.fixture
def district(local_stack: LocalStack) -> str:
    """A district with a program (so the checkpoint function lists it) and five entries."""
    district_id = make_district(local_stack, PACING, students=("stu-1",)).district_id
    append(district_id, [_entry(i) for i in range(1, 6)], now=HOUR - timedelta(minutes=30))
    return district_id


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        type="notice.decided",
        actor="test",
        summary=f"entry {i}",
        student_id="stu-1",
        rule_id="cps.pacing.ipr_warning_2w",
        class_id="cls-1",
        detail={"n": i},
    )


def _items(district_id: str) -> list[AuditModel]:
    return list(AuditModel.query(district_id, consistent_read=True))


def _raw_put(stack: LocalStack, item: AuditModel) -> None:
    """Write a row as someone with dynamodb:PutItem on the table would, with no condition."""
    stack.client("dynamodb").put_item(TableName=stack.ref("AuditTable"), Item=item.serialize())


def _update(stack: LocalStack, district_id: str, seq: int, attribute: str, value: str) -> None:
    stack.client("dynamodb").update_item(
        TableName=stack.ref("AuditTable"),
        Key={"district_id": {"S": district_id}, "seq": {"N": str(seq)}},
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":v": {"S": value}},
    )


def _delete(stack: LocalStack, district_id: str, *seqs: int) -> None:
    for seq in seqs:
        stack.client("dynamodb").delete_item(
            TableName=stack.ref("AuditTable"), Key={"district_id": {"S": district_id}, "seq": {"N": str(seq)}}
        )


def _checkpoint(stack: LocalStack, district_id: str, at: datetime = HOUR) -> str:
    written = checkpoint_audit(stack, at)
    key = object_key(district_id, at)
    assert key in written
    return key


def _broken(report: ChainReport, seq: int | None, *fragments: str) -> None:
    assert report.intact is False, report
    assert report.first_broken_seq == seq, report
    for fragment in fragments:
        assert fragment in (report.problem or ""), report


# -- intact -------------------------------------------------------------------------------------


def test_an_untouched_chain_verifies_against_its_signed_checkpoint(
    local_stack: LocalStack, district: str
) -> None:
    key = _checkpoint(local_stack, district)
    report = verify_chain(district)
    assert report == ChainReport(district, 5, True, None, None, key, 5, 1)
    stored = json.loads(
        local_stack.client("s3")
        .get_object(Bucket=local_stack.ref("AuditCheckpointBucket"), Key=key)["Body"]
        .read()
    )
    assert stored["checkpoint"] == {
        "district": district,
        "seq": 5,
        "mac": _items(district)[-1].hash,
        "at": stored["checkpoint"]["at"],
    }
    # The bucket's default retention locked it, in COMPLIANCE mode.
    head = local_stack.client("s3").head_object(Bucket=local_stack.ref("AuditCheckpointBucket"), Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(days=365)


# -- the table tampered with by someone without the chain key ------------------------------------


def test_a_changed_field(local_stack: LocalStack, district: str) -> None:
    _update(local_stack, district, 3, "summary", "nothing happened")
    _broken(verify_chain(district), 3, "entry 3 changed after it was written")


@pytest.mark.parametrize("attribute", ["district_student", "district_rule", "at", "actor"])
def test_a_changed_index_or_other_attribute(local_stack: LocalStack, district: str, attribute: str) -> None:
    _update(local_stack, district, 2, attribute, f"{district}#someone-else")
    _broken(verify_chain(district), 2, "entry 2 changed")


def test_a_deleted_middle_entry(local_stack: LocalStack, district: str) -> None:
    _delete(local_stack, district, 3)
    _broken(verify_chain(district), 3, "entry 3 is missing")


def test_a_deleted_tail_after_a_checkpoint(local_stack: LocalStack, district: str) -> None:
    key = _checkpoint(local_stack, district)
    _delete(local_stack, district, 4, 5)
    report = verify_chain(district)
    _broken(report, 4, f"tail deleted after checkpoint {key}", "recorded 5 entries, the log holds 3")
    assert report.checkpoint == key


@pytest.mark.parametrize("scheme", ["sha256", "own hmac key"])
def test_a_rewritten_chain_rehashed_without_the_kms_key(
    local_stack: LocalStack, district: str, scheme: str
) -> None:
    """Entry 2 rewritten and every MAC from it on recomputed, by someone with PutItem on the
    table but not kms:GenerateMac: a plain SHA-256 chain, or an HMAC under a key of their own."""
    items = _items(district)
    prev = items[0].hash
    for item in items[1:]:
        if item.seq == 2:
            item.summary = "nothing happened"
        item.prev_hash = prev
        if scheme == "sha256":
            item.hash = hashlib.sha256(prev.encode() + item.summary.encode()).hexdigest()
        else:
            item.hash = entry_mac(item, b"the attacker's own key")
        prev = item.hash
        _raw_put(local_stack, item)
    _broken(verify_chain(district), 2, "entry 2 changed after it was written")


def test_a_forged_last_entry(local_stack: LocalStack, district: str) -> None:
    last = _items(district)[-1]
    forged = AuditModel(**{**last.attribute_values, "seq": 6, "summary": "approved", "prev_hash": last.hash})
    forged.hash = entry_mac(forged, b"a guessed key")
    _raw_put(local_stack, forged)
    _broken(verify_chain(district), 6, "entry 6 changed after it was written")


# -- the checkpoints tampered with ---------------------------------------------------------------


def _signed_object(local_stack: LocalStack, key: str) -> dict[str, Any]:
    body = local_stack.client("s3").get_object(Bucket=local_stack.ref("AuditCheckpointBucket"), Key=key)[
        "Body"
    ]
    document: dict[str, Any] = json.loads(body.read())
    return document


def _put_object(local_stack: LocalStack, key: str, document: dict[str, Any]) -> None:
    local_stack.client("s3").put_object(
        Bucket=local_stack.ref("AuditCheckpointBucket"),
        Key=key,
        Body=json.dumps(document).encode(),
        ChecksumAlgorithm="SHA256",
    )


def test_an_altered_checkpoint_fails_its_signature(local_stack: LocalStack, district: str) -> None:
    """Someone who could write to the bucket (nobody but the checkpointer may) adds a newer
    checkpoint claiming fewer entries, to cover a deleted tail: its signature does not verify."""
    key = _checkpoint(local_stack, district)
    document = _signed_object(local_stack, key)
    document["checkpoint"]["seq"] = 3
    document["checkpoint"]["mac"] = _items(district)[2].hash
    later = object_key(district, HOUR + timedelta(hours=1))
    _put_object(local_stack, later, document)
    _delete(local_stack, district, 4, 5)
    report = verify_chain(district)
    _broken(report, None, f"checkpoint {later}: signature invalid")
    assert report.checkpoint == later


def test_a_checkpoint_signed_with_another_key_fails(local_stack: LocalStack, district: str) -> None:
    """A forger's own KMS signing key (named in the object, even) is not the deployment's."""
    kms = local_stack.client("kms")
    own = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    forged = Checkpoint(district, 3, _items(district)[2].hash, "2026-09-28T15:15:00.000000Z")
    signature = kms.sign(
        KeyId=own, Message=forged.message(), MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
    )
    document = {
        "checkpoint": forged.__dict__,
        "key_id": own,
        "signing_algorithm": "ECDSA_SHA_256",
        "signature": base64.b64encode(signature["Signature"]).decode(),
    }
    key = object_key(district, HOUR + timedelta(hours=1))
    _put_object(local_stack, key, document)
    _broken(verify_chain(district), None, f"checkpoint {key}: signature invalid")


def test_a_rewrite_remaced_with_the_real_key_is_caught_by_the_checkpoint(
    local_stack: LocalStack, district: str
) -> None:
    """A holder of the chain key (any writing function) rewrites entry 4 and MACs the chain
    again: every MAC checks out, but entry 5 is no longer what the checkpoint recorded."""
    first = _checkpoint(local_stack, district, HOUR)  # seq 5
    append(district, [_entry(6), _entry(7)], now=HOUR + timedelta(minutes=20))
    second = _checkpoint(local_stack, district, HOUR + timedelta(hours=1))  # seq 7
    key = district_key(district)
    items = _items(district)
    prev = items[2].hash
    for item in items[3:]:
        if item.seq == 4:
            item.summary = "nothing happened"
        item.prev_hash = prev
        item.hash = entry_mac(item, key)
        prev = item.hash
        _raw_put(local_stack, item)
    # The newest checkpoint alone: entry 7 differs from it.
    _broken(verify_chain(district), 7, f"checkpoint {second} recorded", "rewritten")
    # Every checkpoint: the first one that disagrees is the one at entry 5, none matched before.
    report = verify_chain(district, all_checkpoints=True)
    _broken(report, 5, f"checkpoint {first} recorded", "rewritten")
    assert report.checkpoints_checked == 2


def test_a_key_holder_can_still_append_after_the_last_checkpoint(
    local_stack: LocalStack, district: str
) -> None:
    """The documented limit (docs/architecture.md): entries written after the newest checkpoint
    are protected by the MAC chain alone, so a holder of the chain key can forge them until the
    next checkpoint pins them: at most an hour's entries."""
    _checkpoint(local_stack, district)
    last = _items(district)[-1]
    forged = AuditModel(**{**last.attribute_values, "seq": 6, "summary": "approved", "prev_hash": last.hash})
    forged.hash = entry_mac(forged, district_key(district))
    _raw_put(local_stack, forged)
    assert verify_chain(district).intact


# -- the same report through the console and the CLI ----------------------------------------------


def test_the_console_route_returns_the_report(local_stack: LocalStack, district: str) -> None:
    key = _checkpoint(local_stack, district)
    _delete(local_stack, district, 5)
    event = {
        "version": "2.0",
        "routeKey": "GET /console/api/audit/verify",
        "rawPath": "/console/api/audit/verify",
        "rawQueryString": "",
        "headers": {"accept": "application/json"},
        "requestContext": {
            "http": {"method": "GET", "path": "/console/api/audit/verify", "sourceIp": "127.0.0.1"},
            "requestId": "r-1",
            "routeKey": "GET /console/api/audit/verify",
            "stage": "$default",
            "authorizer": {
                "jwt": {"claims": {"custom:district_id": district, "sub": "admin-1"}, "scopes": None}
            },
        },
        "isBase64Encoded": False,
    }
    result = local_stack.invoke("ConsoleFunction", event)
    assert result["statusCode"] == 200
    report = json.loads(result["body"])
    assert report["intact"] is False
    assert report["first_broken_seq"] == 5
    assert report["checkpoint"] == key
    assert "tail deleted" in report["problem"]


def test_onpace_audit_verify(
    local_stack: LocalStack, district: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from onpace_local.cli import main

    _checkpoint(local_stack, district)
    assert main(["audit", "verify", "--district", district]) == 0
    out = capsys.readouterr().out
    assert f"{district}: intact" in out and "5 entries" in out
    _update(local_stack, district, 2, "district_rule", f"{district}#other")
    assert main(["audit", "verify", "--district", district]) == 1
    out = capsys.readouterr().out
    assert "first bad entry: 2" in out and "entry 2 changed" in out
