"""The local IAM check: recorded calls against the function's role (moto does not enforce IAM)."""

from __future__ import annotations

from typing import Any

from onpace_local.iam import AwsCall, audit_overwrites, required, role_statements, unpermitted
from onpace_local.provision import ProvisionedStack

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/"


def _stack(statements: list[dict[str, Any]]) -> ProvisionedStack:
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}},
            },
            "FnRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]
                },
            },
            "Items": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "Audit": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        }
    }
    return ProvisionedStack(
        endpoint_url="http://127.0.0.1:1",
        region="us-east-1",
        stack_name="s",
        template=template,
        refs={"Items": "items-t", "Audit": "audit-t"},
        attrs={("Items", "Arn"): ARN + "items-t", ("Audit", "Arn"): ARN + "audit-t"},
    )


ALLOW_ITEMS = {
    "Effect": "Allow",
    "Action": ["dynamodb:GetItem", "dynamodb:Query"],
    "Resource": [{"Fn::GetAtt": ["Items", "Arn"]}, {"Fn::Sub": "${Items.Arn}/index/by_x"}],
}


def test_role_statements_are_resolved_to_arns() -> None:
    (statement,) = role_statements(_stack([ALLOW_ITEMS, {**ALLOW_ITEMS, "Effect": "Deny"}]), "Fn")
    assert statement.resources == (ARN + "items-t", ARN + "items-t/index/by_x")
    assert statement.allows("dynamodb:GetItem", ARN + "items-t")
    assert not statement.allows("dynamodb:UpdateItem", ARN + "items-t")


def test_allowed_calls_pass_and_others_are_named() -> None:
    stack = _stack([ALLOW_ITEMS])
    calls = [
        AwsCall("Fn", "dynamodb", "GetItem", {"TableName": "items-t"}),
        AwsCall("Fn", "dynamodb", "Query", {"TableName": "items-t", "IndexName": "by_x"}),
        AwsCall("Fn", "dynamodb", "Query", {"TableName": "items-t", "IndexName": "by_y"}),
        AwsCall("Fn", "dynamodb", "UpdateItem", {"TableName": "items-t"}),
        AwsCall("Fn", "dynamodb", "UpdateItem", {"TableName": "items-t"}),  # reported once
        AwsCall("Fn", "ses", "SendRawEmail", {"RawMessage": {}}),  # not checked here
    ]
    assert unpermitted(stack, calls) == [
        f"Fn: dynamodb:Query on {ARN}items-t/index/by_y (Query)",
        f"Fn: dynamodb:UpdateItem on {ARN}items-t (UpdateItem)",
    ]


def test_a_transaction_needs_each_of_its_actions() -> None:
    call = AwsCall(
        "Fn",
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "audit-t"}}, {"Update": {"TableName": "items-t"}}]},
    )
    assert required(call, {"audit-t": ARN + "audit-t", "items-t": ARN + "items-t"}) == [
        ("dynamodb:PutItem", ARN + "audit-t"),
        ("dynamodb:UpdateItem", ARN + "items-t"),
    ]
    both = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": {"Fn::GetAtt": ["Audit", "Arn"]}}
    assert unpermitted(_stack([both]), [call]) == [
        f"Fn: dynamodb:UpdateItem on {ARN}items-t (TransactWriteItems)"
    ]


def test_secrets_by_name_and_queues_by_url_are_checked_by_arn() -> None:
    account = "arn:aws:secretsmanager:us-east-1:123456789012"
    secrets = {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": f"{account}:secret:onpace/webhooks/*",
    }
    queue = {
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": "arn:aws:sqs:us-east-1:123456789012:dlq",
    }
    stack = _stack([secrets, queue])
    calls = [
        AwsCall("Fn", "secretsmanager", "GetSecretValue", {"SecretId": "onpace/webhooks/d-1"}),
        AwsCall("Fn", "secretsmanager", "GetSecretValue", {"SecretId": "other/d-1"}),
        AwsCall("Fn", "sqs", "SendMessage", {"QueueUrl": "http://127.0.0.1:5000/123456789012/dlq"}),
        AwsCall("Fn", "sqs", "SendMessage", {"QueueUrl": "http://127.0.0.1:5000/123456789012/other"}),
    ]
    assert unpermitted(stack, calls) == [
        f"Fn: secretsmanager:GetSecretValue on {account}:secret:other/d-1 (GetSecretValue)",
        "Fn: sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:other (SendMessage)",
    ]


def test_kms_calls_are_checked_by_key_arn_and_listing_needs_list_bucket() -> None:
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/k-1"
    kms = {"Effect": "Allow", "Action": "kms:GenerateMac", "Resource": key_arn}
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::cp"}
    stack = _stack([kms, listing])
    stack.params.update({"AWS::Partition": "aws", "AWS::AccountId": "123456789012"})
    calls = [
        AwsCall("Fn", "kms", "GenerateMac", {"KeyId": "k-1", "Message": b"x"}),
        AwsCall("Fn", "kms", "GenerateMac", {"KeyId": "k-2", "Message": b"x"}),
        AwsCall("Fn", "kms", "Sign", {"KeyId": "k-1", "Message": b"x"}),
        AwsCall("Fn", "s3", "ListObjectsV2", {"Bucket": "cp", "Prefix": "checkpoints/d/"}),
        AwsCall("Fn", "s3", "ListObjectsV2", {"Bucket": "other"}),
    ]
    assert unpermitted(stack, calls) == [
        "Fn: kms:GenerateMac on arn:aws:kms:us-east-1:123456789012:key/k-2 (GenerateMac)",
        f"Fn: kms:Sign on {key_arn} (Sign)",
        "Fn: s3:ListBucket on arn:aws:s3:::other (ListObjectsV2)",
    ]


def test_audit_writes_must_be_puts_of_a_new_seq() -> None:
    stack = _stack([])
    stack.refs["AuditTable"] = "audit-t"  # the template's logical id of the audit table
    new_seq = {
        "TableName": "audit-t",
        "ConditionExpression": "attribute_not_exists (#0)",
        "ExpressionAttributeNames": {"#0": "seq"},
    }
    calls = [
        AwsCall("Fn", "dynamodb", "PutItem", new_seq),
        AwsCall("Fn", "dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": new_seq}]}),
        AwsCall("Fn", "dynamodb", "PutItem", {"TableName": "items-t"}),  # another table: not ours
        AwsCall("A", "dynamodb", "PutItem", {"TableName": "audit-t"}),
        AwsCall(
            "B",
            "dynamodb",
            "PutItem",
            {**new_seq, "ExpressionAttributeNames": {"#0": "district_id"}},  # a condition, the wrong one
        ),
        AwsCall(
            "C", "dynamodb", "TransactWriteItems", {"TransactItems": [{"Update": {"TableName": "audit-t"}}]}
        ),
        AwsCall("D", "dynamodb", "DeleteItem", {"TableName": "audit-t"}),
        AwsCall("E", "dynamodb", "BatchWriteItem", {"RequestItems": {"audit-t": []}}),
    ]
    assert audit_overwrites(stack, calls) == [
        "A: audit put without attribute_not_exists(seq) (PutItem)",
        "B: audit put without attribute_not_exists(seq) (PutItem)",
        "C: Update of an audit row (TransactWriteItems)",
        "D: Delete of an audit row (DeleteItem)",
        "E: BatchWriteItem on the audit table",
    ]
