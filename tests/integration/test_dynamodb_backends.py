"""The local stack's two DynamoDB servers: moto (with every other service) or dynalite beside moto.

Each test runs as ``[moto]`` and ``[dynalite]``; what differs between the two is asserted by name.
"""

from __future__ import annotations

import os
import uuid

import pytest
from onpace_core.audit.log import AuditEntry, append, verify_chain
from onpace_local.stack import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]

TABLE_INDEXES = {
    "EventsTable": {"unmatched", "open_refusals"},
    "EnrollmentsTable": {"due", "by_student", "held"},
    "OutboxTable": {"scheduled"},
    "AuditTable": {"by_student", "by_rule", "failures", "by_class", "by_type", "by_time"},
    "ProgramsTable": {"by_time_zone"},
    "SuppressionsTable": set(),
}

# What dynalite cannot hold (no time to live, streams or backups), per table of template.yaml.
LEFT_OUT_ON_DYNALITE = {
    "EventsTable": ["TimeToLiveSpecification", "PointInTimeRecoverySpecification"],
    "EnrollmentsTable": ["PointInTimeRecoverySpecification"],
    "OutboxTable": ["StreamSpecification", "PointInTimeRecoverySpecification"],
    "AuditTable": ["PointInTimeRecoverySpecification"],
    "ProgramsTable": ["PointInTimeRecoverySpecification"],
    "SuppressionsTable": ["PointInTimeRecoverySpecification"],
}


def test_every_dynamodb_client_is_pointed_at_the_tables_server(local_stack: LocalStack) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == local_stack.endpoint_url
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == local_stack.dynamodb_endpoint_url
    ddb = local_stack.client("dynamodb")
    assert ddb.meta.endpoint_url == local_stack.dynamodb_endpoint_url
    assert local_stack.client("sqs").meta.endpoint_url == local_stack.endpoint_url
    if local_stack.dynamodb.name == "dynalite":
        assert local_stack.dynamodb_endpoint_url != local_stack.endpoint_url
        assert local_stack.dynamodb_endpoint_url.startswith("http://127.0.0.1:")
    else:
        assert local_stack.dynamodb_endpoint_url == local_stack.endpoint_url


@pytest.mark.parametrize(("logical_id", "indexes"), TABLE_INDEXES.items())
def test_the_template_tables_and_indexes_are_on_that_server(
    local_stack: LocalStack, logical_id: str, indexes: set[str]
) -> None:
    name = local_stack.ref(logical_id)
    table = local_stack.client("dynamodb").describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])} == indexes
    for index in table.get("GlobalSecondaryIndexes", []):
        # Enrollments: every index (due, by_student, held); Audit: by_time (a date range's seq bounds).
        keys_only = logical_id == "EnrollmentsTable" or index["IndexName"] == "by_time"
        assert index["Projection"]["ProjectionType"] == ("KEYS_ONLY" if keys_only else "ALL")
    # The ARN the template's policies use: this stack's account, whichever server holds the table.
    assert local_stack.attr(logical_id, "Arn") == f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
    if local_stack.dynamodb.name == "dynalite":
        assert local_stack.stack.left_out[logical_id] == LEFT_OUT_ON_DYNALITE[logical_id]
    else:
        assert local_stack.stack.left_out == {}


def test_the_tables_are_not_on_moto_when_dynalite_holds_them(local_stack: LocalStack) -> None:
    import boto3

    moto_ddb = boto3.client(
        "dynamodb",
        endpoint_url=local_stack.endpoint_url,
        region_name=local_stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    on_moto = set(moto_ddb.list_tables()["TableNames"])
    ours = {local_stack.ref(logical_id) for logical_id in TABLE_INDEXES}
    assert on_moto == (ours if local_stack.dynamodb.name == "moto" else set())


def test_the_handlers_models_write_the_audit_chain_there(local_stack: LocalStack) -> None:
    district = f"d-{uuid.uuid4().hex[:10]}"
    entries = [AuditEntry(type="test.entry", actor="test", summary=f"entry {n}") for n in range(3)]
    stored = append(district, entries)
    assert [int(item.seq) for item in stored] == [1, 2, 3]
    # Read back with a plain client of the tables' server: the models wrote there, not elsewhere.
    found = local_stack.client("dynamodb").query(
        TableName=local_stack.ref("AuditTable"),
        KeyConditionExpression="district_id = :d",
        ExpressionAttributeValues={":d": {"S": district}},
        ConsistentRead=True,
    )["Items"]
    assert [item["summary"]["S"] for item in found] == ["entry 0", "entry 1", "entry 2"]
    report = verify_chain(district)
    assert report.intact and report.entries == 3
