"""Would a function's calls be allowed in AWS? Its recorded calls checked against its role.

moto does not enforce IAM, so a permission missing from ``template.yaml`` shows up only after a
deployment, as AccessDenied in a dead-letter queue. The local stack records every AWS call a
handler makes (``LocalStack.recording_calls``); ``unpermitted`` checks each DynamoDB, Secrets
Manager, SQS, S3, SNS and KMS call against the ``Allow`` statements of the role SAM gives that function: the
action (a transaction's items count one by one) and the table, index, secret or queue ARN. SES
is not checked here (its resources are not in the request; ``test_template.py`` pins them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from onpace_local.provision import ProvisionedStack

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class AwsCall:
    """One API call a handler made: which function, which service and operation, with what."""

    function: str  # the function's logical id
    service: str  # botocore's service name ("dynamodb")
    operation: str  # "UpdateItem"
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(fnmatchcase(action, a) for a in self.actions) and any(
            fnmatchcase(resource, r) for r in self.resources
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(stack: ProvisionedStack, function: str) -> list[Statement]:
    """The ``Allow`` statements of the inline policies of ``function``'s role, resolved."""
    resources = stack.template["Resources"]
    role = resources[function]["Properties"]["Role"]
    role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else None
    if role_id is None:
        return []
    statements = []
    for policy in resources[role_id]["Properties"].get("Policies", []):
        for statement in _as_list(policy["PolicyDocument"]["Statement"]):
            if statement.get("Effect") != "Allow":
                continue
            statements.append(
                Statement(
                    actions=tuple(str(a) for a in _as_list(statement["Action"])),
                    resources=tuple(str(stack.resolve(r)) for r in _as_list(statement["Resource"])),
                )
            )
    return statements


def _table_arns(stack: ProvisionedStack) -> dict[str, str]:
    return {
        stack.refs[logical_id]: stack.attrs[(logical_id, "Arn")]
        for logical_id, resource in stack.template["Resources"].items()
        if resource.get("Type") == "AWS::DynamoDB::Table" and logical_id in stack.refs
    }


def required(
    call: AwsCall, table_arns: Mapping[str, str], stack: ProvisionedStack | None = None
) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs IAM checks for ``call``; empty for unchecked services."""
    params = call.params
    if stack is not None and call.service in ("secretsmanager", "sqs"):
        return _named_resource(call, stack)
    if call.service == "s3":
        return _s3_object(call, stack)
    if call.service == "sns":
        return _sns(call)
    if call.service == "kms":
        return _kms(call, stack)
    if call.service != "dynamodb":
        return []
    if call.operation in ("TransactWriteItems", "TransactGetItems"):
        needed = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                needed.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _arn(table_arns, body["TableName"])))
        return needed
    if call.operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{call.operation}", _arn(table_arns, t)) for t in params.get("RequestItems", {})]
    table = params.get("TableName")
    if table is None:
        return [(f"dynamodb:{call.operation}", "*")]
    resource = _arn(table_arns, table)
    if params.get("IndexName"):
        resource = f"{resource}/index/{params['IndexName']}"
    return [(f"dynamodb:{call.operation}", resource)]


def _named_resource(call: AwsCall, stack: ProvisionedStack) -> list[tuple[str, str]]:
    """A secret by name or a queue by URL, as the ARN a role names it by."""
    prefix = f"arn:{stack.params.get('AWS::Partition', 'aws')}:{call.service}:{stack.region}:"
    account = stack.params.get("AWS::AccountId", "123456789012")
    if call.service == "secretsmanager" and "SecretId" in call.params:
        secret = str(call.params["SecretId"])
        return [
            (
                f"secretsmanager:{call.operation}",
                secret if secret.startswith("arn:") else f"{prefix}{account}:secret:{secret}",
            )
        ]
    if call.service == "sqs" and "QueueUrl" in call.params:
        queue = str(call.params["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]
        # IAM has no batch actions for SQS: SendMessageBatch needs sqs:SendMessage, and so on.
        action = call.operation.removesuffix("Batch")
        return [(f"sqs:{action}", f"{prefix}{account}:{queue}")]
    return []


def _sns(call: AwsCall) -> list[tuple[str, str]]:
    """A text message (``Publish`` to a phone number) and the opt-out check have no resource ARN:
    IAM evaluates them against ``*``; a publish to a topic is checked against the topic."""
    target = call.params.get("TopicArn") or call.params.get("TargetArn") or "*"
    return [(f"sns:{call.operation}", str(target))]


def _kms(call: AwsCall, stack: ProvisionedStack | None) -> list[tuple[str, str]]:
    """A KMS call by key id (what ``!Ref`` of a key gives the functions), as the key's ARN."""
    key = str(call.params.get("KeyId", "*"))
    if key != "*" and not key.startswith("arn:") and stack is not None:
        partition = stack.params.get("AWS::Partition", "aws")
        account = stack.params.get("AWS::AccountId", "123456789012")
        key = f"arn:{partition}:kms:{stack.region}:{account}:key/{key}"
    return [(f"kms:{call.operation}", key)]


# S3 operations whose IAM action is named otherwise.
_S3_ACTIONS = {"ListObjectsV2": "ListBucket", "ListObjects": "ListBucket"}


def _s3_object(call: AwsCall, stack: ProvisionedStack | None) -> list[tuple[str, str]]:
    """An object read or written by bucket and key, as the ARN a role names it by (a read of a
    given version is its own action, ``s3:GetObjectVersion``)."""
    bucket, key = call.params.get("Bucket"), call.params.get("Key")
    if bucket is None:
        return [(f"s3:{call.operation}", "*")]
    partition = stack.params.get("AWS::Partition", "aws") if stack is not None else "aws"
    resource = f"arn:{partition}:s3:::{bucket}" + (f"/{key}" if key is not None else "")
    action = _S3_ACTIONS.get(call.operation, call.operation)
    if action == "GetObject" and call.params.get("VersionId"):
        action = "GetObjectVersion"
    return [(f"s3:{action}", resource)]


def _arn(table_arns: Mapping[str, str], table: str) -> str:
    return table_arns.get(table, f"(a table the template does not create: {table})")


def unpermitted(stack: ProvisionedStack, calls: Iterable[AwsCall]) -> list[str]:
    """One line per call its function's role does not allow (each distinct problem once)."""
    table_arns = _table_arns(stack)
    statements: dict[str, list[Statement]] = {}
    problems: dict[str, None] = {}
    for call in calls:
        allowed = statements.setdefault(call.function, role_statements(stack, call.function))
        for action, resource in required(call, table_arns, stack):
            if not any(s.allows(action, resource) for s in allowed):
                problems[f"{call.function}: {action} on {resource} ({call.operation})"] = None
    return list(problems)


_NOT_EXISTS = re.compile(r"attribute_not_exists\s*\(\s*([#\w.]+)\s*\)")


def _puts_new_seq(body: Mapping[str, Any]) -> bool:
    """Does a Put carry ``attribute_not_exists(seq)`` (so that it can never replace a row)?"""
    names = body.get("ExpressionAttributeNames", {})
    return any(
        names.get(name, name) == "seq"
        for name in _NOT_EXISTS.findall(str(body.get("ConditionExpression", "")))
    )


def audit_overwrites(stack: ProvisionedStack, calls: Iterable[AwsCall]) -> list[str]:
    """One line per call that could change or remove an audit row: a put to the audit table
    without ``attribute_not_exists(seq)``, or any update, delete or batch write to it.

    IAM cannot require a condition on ``dynamodb:PutItem``; this check, run on every call the
    integration tests record, is what holds the code to it.
    """
    audit = stack.refs.get("AuditTable")
    problems: dict[str, None] = {}
    for call in calls:
        if call.service != "dynamodb" or audit is None:
            continue
        writes: list[tuple[str, Mapping[str, Any]]] = []
        if call.operation == "TransactWriteItems":
            for item in call.params.get("TransactItems", []):
                writes.extend((kind, body) for kind, body in item.items() if kind != "ConditionCheck")
        elif call.operation == "BatchWriteItem":
            if audit in call.params.get("RequestItems", {}):
                problems[f"{call.function}: BatchWriteItem on the audit table"] = None
        elif call.operation in ("PutItem", "UpdateItem", "DeleteItem"):
            writes.append((call.operation.removesuffix("Item"), call.params))
        for kind, body in writes:
            if body.get("TableName") != audit:
                continue
            if kind != "Put":
                problems[f"{call.function}: {kind} of an audit row ({call.operation})"] = None
            elif not _puts_new_seq(body):
                problems[
                    f"{call.function}: audit put without attribute_not_exists(seq) ({call.operation})"
                ] = None
    return list(problems)
