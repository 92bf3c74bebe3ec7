"""Create the data resources of the TRANSFORMED template on a moto server, through boto3.

What moto can hold (tables, queues, SES configuration set and identities, schedules, the Cognito
user pool) is created from the template's own properties; what only runs code (functions,
layers, roles, the HTTP API, permissions, event-source mappings) is not created but given
predictable physical names and ARNs, so every ``Ref``/``Fn::GetAtt`` still resolves. The local
stack plays the part of those resources in-process.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from onpace_local.template import (
    ACCOUNT_ID,
    PARTITION,
    parameter_defaults,
    references,
    resolve,
    transform,
)

DEFAULT_STACK_NAME = "onpace-local"
DEFAULT_REGION = "us-east-1"
_DEFAULT_SCHEDULE_GROUP = "default"
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+)$")


@dataclass(frozen=True)
class DynamoDbServer:
    """The server that holds the tables, and what of DynamoDB it implements beyond items, queries,
    batches and secondary indexes (moto: all of it; dynalite: none of these)."""

    name: str
    endpoint_url: str
    transactions: bool = True
    streams: bool = True
    time_to_live: bool = True
    backups: bool = True


@dataclass
class ProvisionedStack:
    """What ``provision`` created, and how to resolve the template against it.

    ``params`` holds the template parameters together with the pseudo parameters of this stack
    (``AWS::Region``, ``AWS::StackName``, ``AWS::AccountId``, ``AWS::Partition``), so that
    ``resolve(value, stack.refs, stack.attrs, stack.params)`` works for any template value.
    """

    endpoint_url: str
    region: str
    stack_name: str
    template: dict[str, Any] = field(repr=False)
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)  # logical id -> resource type
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> resource type
    # Where the tables are: the same moto server, unless the stack serves DynamoDB from another.
    dynamodb: DynamoDbServer | None = None
    # Table properties the DynamoDB server cannot hold, per logical id (left out, not faked).
    left_out: dict[str, list[str]] = field(default_factory=dict)

    @property
    def dynamodb_server(self) -> DynamoDbServer:
        return self.dynamodb or DynamoDbServer("moto", self.endpoint_url)

    def resolve(self, value: Any) -> Any:
        return resolve(value, self.refs, self.attrs, self.params)

    def function_env(self, logical_id: str) -> dict[str, str]:
        """The function's environment variables (Globals merged by SAM), resolved to strings."""
        resource = self.template["Resources"].get(logical_id)
        if resource is None or resource.get("Type") != "AWS::Lambda::Function":
            raise KeyError(f"{logical_id} is not a function of the template")
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        return {name: _as_env_string(self.resolve(value)) for name, value in variables.items()}

    def physical_name(self, logical_id: str) -> str:
        return self.refs[logical_id]


def _as_env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------


class _Provisioner:
    def __init__(self, stack: ProvisionedStack) -> None:
        self.stack = stack
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            endpoint = self.stack.dynamodb_server.endpoint_url if service == "dynamodb" else None
            self._clients[service] = boto3.client(
                service,
                endpoint_url=endpoint or self.stack.endpoint_url,
                region_name=self.stack.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    # -- names and ARNs ---------------------------------------------------------------------

    def name(self, logical_id: str, *, max_length: int = 128) -> str:
        return f"{self.stack.stack_name}-{logical_id}"[:max_length]

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        where = self.stack.region if region else ""
        return f"arn:{PARTITION}:{service}:{where}:{ACCOUNT_ID}:{resource}"

    def set(self, logical_id: str, ref: str, **attrs: str) -> None:
        self.stack.refs[logical_id] = ref
        for attribute, value in attrs.items():
            self.stack.attrs[(logical_id, attribute)] = value

    # -- resources moto holds -----------------------------------------------------------------

    def dynamodb_table(self, logical_id: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        server = self.stack.dynamodb_server
        name = props.get("TableName") or self.name(logical_id, max_length=255)
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if request["BillingMode"] == "PROVISIONED":
            request["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                indexes = []
                for index in props[key]:
                    spec = {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
                    if key == "GlobalSecondaryIndexes" and request["BillingMode"] == "PROVISIONED":
                        spec["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
                    indexes.append(spec)
                request[key] = indexes
        stream = props.get("StreamSpecification")
        if stream and not server.streams:
            self._leave_out(logical_id, "StreamSpecification")
        elif stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        sse = props.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))}
            if sse.get("SSEType"):
                request["SSESpecification"]["SSEType"] = sse["SSEType"]
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        try:
            table = ddb.create_table(**request)["TableDescription"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise
            table = ddb.describe_table(TableName=name)["Table"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled") and not server.time_to_live:
            self._leave_out(logical_id, "TimeToLiveSpecification")
        elif ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled") and not server.backups:
            self._leave_out(logical_id, "PointInTimeRecoverySpecification")
        elif pitr and pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        # The ARN of this stack's account, whatever account the server puts in its own
        # (dynalite's is 000000000000): the template's policies name tables by this one.
        attrs = {"Arn": self.arn("dynamodb", f"table/{name}")}
        if table.get("LatestStreamArn"):
            attrs["StreamArn"] = table["LatestStreamArn"]
        elif stream:
            # No stream on this server: an ARN that resolves (policies, event sources) but names
            # no stream anywhere, so a test that reads the stream fails instead of reading nothing.
            attrs["StreamArn"] = f"{attrs['Arn']}/stream/not-on-{server.name}"
        self.set(logical_id, name, **attrs)

    def _leave_out(self, logical_id: str, prop: str) -> None:
        self.stack.left_out.setdefault(logical_id, []).append(prop)

    def sqs_queue(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self.client("sqs")
        name = props.get("QueueName") or self.name(logical_id, max_length=80)
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name = name[:75] + ".fifo"
        attributes: dict[str, str] = {}
        for key, value in props.items():
            if key in ("QueueName", "Tags"):
                continue
            if isinstance(value, bool):
                attributes[key] = "true" if value else "false"
            elif isinstance(value, dict):
                attributes[key] = json.dumps(value)
            else:
                attributes[key] = str(value)
        request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if props.get("Tags"):
            request["tags"] = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
        url = sqs.create_queue(**request)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.set(logical_id, url, Arn=arn, QueueName=name, QueueUrl=url)

    def sqs_queue_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        # moto keeps the policy but, like all of IAM locally, does not enforce it.
        sqs = self.client("sqs")
        policy = json.dumps(props["PolicyDocument"])
        for url in props.get("Queues", []):
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        self.set(logical_id, self.name(logical_id))

    def s3_bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        # NotificationConfiguration is not set: moto cannot call a local function; a test (or
        # `onpace invoke`) hands the function the S3 event itself.
        s3 = self.client("s3")
        name = props.get("BucketName") or self.name(logical_id, max_length=63).lower()
        request: dict[str, Any] = {"Bucket": name}
        if self.stack.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.stack.region}
        if props.get("ObjectLockEnabled") in (True, "true", "True"):
            request["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**request)
        if "ObjectLockConfiguration" in props:
            # Object Lock at creation has turned versioning on; this sets the default retention.
            lock = props["ObjectLockConfiguration"]
            configuration: dict[str, Any] = {"ObjectLockEnabled": lock["ObjectLockEnabled"]}
            if "Rule" in lock:
                retention = dict(lock["Rule"]["DefaultRetention"])
                for unit in ("Days", "Years"):
                    if unit in retention:
                        retention[unit] = int(retention[unit])
                configuration["Rule"] = {"DefaultRetention": retention}
            s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=configuration)
        if "BucketEncryption" in props:
            # CloudFormation spells the API's ApplyServerSideEncryptionByDefault without "Apply".
            rules = [
                {
                    **{k: v for k, v in rule.items() if k != "ServerSideEncryptionByDefault"},
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                }
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
            )
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if "LifecycleConfiguration" in props:
            rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        self.set(logical_id, name, Arn=f"arn:{PARTITION}:s3:::{name}", BucketName=name)

    def kms_key(self, logical_id: str, props: dict[str, Any]) -> None:
        # The key policy is not applied: moto does not enforce it (nor IAM); the roles' KMS
        # statements are checked by onpace_local.iam against the calls the handlers make.
        request: dict[str, Any] = {
            "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        }
        if "Description" in props:
            request["Description"] = props["Description"]
        metadata = self.client("kms").create_key(**request)["KeyMetadata"]
        self.set(logical_id, metadata["KeyId"], Arn=metadata["Arn"], KeyId=metadata["KeyId"])

    def s3_bucket_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        # moto server speaks plain HTTP and enforces bucket policies: a "TLS only" statement would
        # deny every local call, so it is left out here (the template's stays as written).
        document = dict(props["PolicyDocument"])
        document["Statement"] = [
            statement
            for statement in document["Statement"]
            if "aws:SecureTransport" not in json.dumps(statement.get("Condition", {}))
        ]
        if document["Statement"]:
            self.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))
        self.set(logical_id, props["Bucket"])

    def ses_configuration_set(self, logical_id: str, props: dict[str, Any]) -> None:
        sesv2 = self.client("sesv2")
        name = props.get("Name") or self.name(logical_id, max_length=64)
        request: dict[str, Any] = {"ConfigurationSetName": name}
        for key in (
            "TrackingOptions",
            "DeliveryOptions",
            "ReputationOptions",
            "SendingOptions",
            "SuppressionOptions",
            "VdmOptions",
        ):
            if key in props:
                request[key] = props[key]
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        try:
            sesv2.create_configuration_set(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "AlreadyExistsException":
                raise
        self.set(logical_id, name)

    def ses_email_identity(self, logical_id: str, props: dict[str, Any]) -> None:
        sesv2, ses = self.client("sesv2"), self.client("ses")
        identity = props["EmailIdentity"]
        request: dict[str, Any] = {"EmailIdentity": identity}
        config_set = props.get("ConfigurationSetAttributes", {}).get("ConfigurationSetName")
        if config_set:
            request["ConfigurationSetName"] = config_set
        try:
            sesv2.create_email_identity(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "AlreadyExistsException":
                raise
        # moto accepts a send only from a verified identity: verify it, and every address
        # parameter of the template that belongs to this domain (the sender address).
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)
            for value in self.stack.params.values():
                match = _EMAIL.match(value)
                if match and match.group(1).lower() == identity.lower():
                    ses.verify_email_identity(EmailAddress=value)
        self.set(logical_id, identity)

    def schedule_group(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("Name") or self.name(logical_id, max_length=64)
        self._ensure_schedule_group(name, props.get("Tags"))
        self.set(logical_id, name, Arn=self.arn("scheduler", f"schedule-group/{name}"))

    def _ensure_schedule_group(self, name: str, tags: list[dict[str, str]] | None = None) -> None:
        if name == _DEFAULT_SCHEDULE_GROUP:
            return
        request: dict[str, Any] = {"Name": name}
        if tags:
            request["Tags"] = tags
        try:
            self.client("scheduler").create_schedule_group(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConflictException":
                raise

    def schedule(self, logical_id: str, props: dict[str, Any]) -> None:
        scheduler = self.client("scheduler")
        name = props.get("Name") or self.name(logical_id, max_length=64)
        request: dict[str, Any] = {
            "Name": name,
            "ScheduleExpression": props["ScheduleExpression"],
            "FlexibleTimeWindow": props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
            "Target": props["Target"],
        }
        for key in (
            "ScheduleExpressionTimezone",
            "Description",
            "State",
            "StartDate",
            "EndDate",
            "KmsKeyArn",
        ):
            if key in props:
                request[key] = props[key]
        group = props.get("GroupName")
        if group:
            self._ensure_schedule_group(group)
            request["GroupName"] = group
        try:
            arn = scheduler.create_schedule(**request)["ScheduleArn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConflictException":
                raise
            arn = scheduler.get_schedule(Name=name, GroupName=group or _DEFAULT_SCHEDULE_GROUP)["Arn"]
        self.set(logical_id, name, Arn=arn)

    def cognito_user_pool(self, logical_id: str, props: dict[str, Any]) -> None:
        idp = self.client("cognito-idp")
        name = props.get("UserPoolName") or self.name(logical_id)
        request = {key: value for key, value in props.items() if key in _USER_POOL_KEYS}
        pool = idp.create_user_pool(PoolName=name, **request)["UserPool"]
        pool_id = pool["Id"]
        provider = f"cognito-idp.{self.stack.region}.amazonaws.com/{pool_id}"
        self.set(
            logical_id,
            pool_id,
            Arn=pool["Arn"],
            ProviderName=provider,
            ProviderURL=f"https://{provider}",
            UserPoolId=pool_id,
        )

    def cognito_user_pool_client(self, logical_id: str, props: dict[str, Any]) -> None:
        idp = self.client("cognito-idp")
        request = {key: value for key, value in props.items() if key in _USER_POOL_CLIENT_KEYS}
        request["ClientName"] = props.get("ClientName") or self.name(logical_id)
        client = idp.create_user_pool_client(**request)["UserPoolClient"]
        attrs = {"ClientId": client["ClientId"], "Name": client["ClientName"]}
        if client.get("ClientSecret"):
            attrs["ClientSecret"] = client["ClientSecret"]
        self.set(logical_id, client["ClientId"], **attrs)

    def cognito_user_pool_domain(self, logical_id: str, props: dict[str, Any]) -> None:
        # Ref of a UserPoolDomain is its prefix; locally the sign-in is the local identity
        # provider's (identity_provider.py), the domain is only recorded.
        idp = self.client("cognito-idp")
        idp.create_user_pool_domain(Domain=props["Domain"], UserPoolId=props["UserPoolId"])
        self.set(logical_id, str(props["Domain"]))

    def sns_topic(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("TopicName") or self.name(logical_id, max_length=256)
        attributes = {
            key: str(props[key]) for key in ("DisplayName", "KmsMasterKeyId") if props.get(key) is not None
        }
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.set(logical_id, arn, TopicArn=arn, TopicName=name)

    def sns_topic_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        policy = json.dumps(props["PolicyDocument"])
        for topic in props.get("Topics", []):
            self.client("sns").set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=policy
            )
        self.set(logical_id, logical_id)

    def sns_subscription(self, logical_id: str, props: dict[str, Any]) -> None:
        """A subscription; one to a function (``lambda``, which moto cannot run) becomes one of a
        *tap* queue created here, which ``onpace_local.sns.SnsPump`` reads to invoke the
        function with the event Lambda would get (``TapQueueUrl``)."""
        sns, sqs = self.client("sns"), self.client("sqs")
        attrs: dict[str, str] = {}
        protocol, endpoint = props["Protocol"], props.get("Endpoint", "")
        if protocol == "lambda":
            url = sqs.create_queue(QueueName=self.name(f"{logical_id}-tap", max_length=80))["QueueUrl"]
            endpoint = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            protocol = "sqs"
            attrs = {"TapQueueUrl": url, "FunctionArn": str(props.get("Endpoint", ""))}
        arn = sns.subscribe(TopicArn=props["TopicArn"], Protocol=protocol, Endpoint=endpoint)[
            "SubscriptionArn"
        ]
        self.set(logical_id, arn, **attrs)

    def ses_event_destination(self, logical_id: str, props: dict[str, Any]) -> None:
        # moto keeps the destination (SES v1's API) but never publishes events: a test publishes
        # the event JSON to the topic itself (onpace_local.ses_events).
        destination = dict(props["EventDestination"])
        sns = destination.pop("SnsDestination", None)
        request: dict[str, Any] = {
            "Name": destination.get("Name") or self.name(logical_id, max_length=64),
            "Enabled": bool(destination.get("Enabled", False)),
            "MatchingEventTypes": destination.get("MatchingEventTypes", []),
        }
        if sns:
            request["SNSDestination"] = {"TopicARN": sns["TopicARN"]}
        ses = self.client("ses")
        name = props["ConfigurationSetName"]
        try:
            ses.create_configuration_set(ConfigurationSet={"Name": name})
        except ClientError as error:
            if error.response["Error"]["Code"] not in (
                "ConfigurationSetAlreadyExists",
                "AlreadyExistsException",
            ):
                raise
        ses.create_configuration_set_event_destination(ConfigurationSetName=name, EventDestination=request)
        self.set(logical_id, request["Name"])

    def cloudwatch_alarm(self, logical_id: str, props: dict[str, Any]) -> None:
        # moto stores the alarm (and checks its shape) but never evaluates it: the alarms are
        # checked as configuration (tests/unit/test_template_alarms.py), not fired locally.
        request = {key: value for key, value in props.items() if key != "AlarmName"}
        request["AlarmName"] = props.get("AlarmName") or self.name(logical_id, max_length=255)
        if "Threshold" in request:
            request["Threshold"] = float(request["Threshold"])
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in request:
                request[key] = int(request[key])
        for query in request.get("Metrics", []):
            stat = query.get("MetricStat")
            if stat is not None:
                stat["Period"] = int(stat["Period"])
        self.client("cloudwatch").put_metric_alarm(**request)
        self.set(
            logical_id, request["AlarmName"], Arn=self.arn("cloudwatch", f"alarm:{request['AlarmName']}")
        )

    # -- resources that only run code: named, not created ------------------------------------

    def placeholder(self, logical_id: str, resource_type: str) -> None:
        name = self.name(logical_id, max_length=64)
        if resource_type == "AWS::Lambda::Function":
            self.set(logical_id, name, Arn=self.arn("lambda", f"function:{name}"))
        elif resource_type == "AWS::IAM::Role":
            self.set(
                logical_id,
                name,
                Arn=f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{name}",
                RoleId="AROA" + _digest(name, 16).upper(),
            )
        elif resource_type == "AWS::Lambda::LayerVersion":
            arn = self.arn("lambda", f"layer:{name}:1")
            self.set(logical_id, arn, LayerVersionArn=arn)
        elif resource_type == "AWS::ApiGatewayV2::Api":
            api_id = _digest(name, 10)
            self.set(
                logical_id,
                api_id,
                ApiId=api_id,
                ApiEndpoint=f"https://{api_id}.execute-api.{self.stack.region}.amazonaws.com",
            )
        else:
            self.set(logical_id, name, Arn=self.arn(resource_type.split("::")[1].lower(), name))
        self.stack.skipped[logical_id] = resource_type


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule as the S3 API takes it."""
    found: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"], "Filter": {"Prefix": ""}}
    if "NoncurrentVersionExpiration" in rule:
        found["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        found["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    if "ExpirationInDays" in rule:
        found["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "Transitions" in rule:
        found["Transitions"] = [
            {"Days": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
            for t in rule["Transitions"]
        ]
    return found


def _digest(text: str, length: int) -> str:
    """A stable pseudo id (the same for the same name in every process)."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _throughput(value: Mapping[str, Any] | None) -> dict[str, int]:
    value = value or {}
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


_USER_POOL_KEYS = frozenset(
    {
        "Policies",
        "LambdaConfig",
        "AutoVerifiedAttributes",
        "AliasAttributes",
        "UsernameAttributes",
        "SmsVerificationMessage",
        "EmailVerificationMessage",
        "EmailVerificationSubject",
        "VerificationMessageTemplate",
        "SmsAuthenticationMessage",
        "MfaConfiguration",
        "DeviceConfiguration",
        "EmailConfiguration",
        "SmsConfiguration",
        "UserPoolTags",
        "AdminCreateUserConfig",
        "Schema",
        "UserPoolAddOns",
        "UsernameConfiguration",
        "AccountRecoverySetting",
        "DeletionProtection",
    }
)

_USER_POOL_CLIENT_KEYS = frozenset(
    {
        "UserPoolId",
        "GenerateSecret",
        "RefreshTokenValidity",
        "AccessTokenValidity",
        "IdTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
        "ExplicitAuthFlows",
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
        "DefaultRedirectURI",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "AuthSessionValidity",
    }
)

_HANDLERS: dict[str, Callable[[_Provisioner, str, dict[str, Any]], None]] = {
    "AWS::DynamoDB::Table": _Provisioner.dynamodb_table,
    "AWS::SQS::Queue": _Provisioner.sqs_queue,
    "AWS::SQS::QueuePolicy": _Provisioner.sqs_queue_policy,
    "AWS::S3::Bucket": _Provisioner.s3_bucket,
    "AWS::S3::BucketPolicy": _Provisioner.s3_bucket_policy,
    "AWS::KMS::Key": _Provisioner.kms_key,
    "AWS::SES::ConfigurationSet": _Provisioner.ses_configuration_set,
    "AWS::SES::EmailIdentity": _Provisioner.ses_email_identity,
    "AWS::Scheduler::ScheduleGroup": _Provisioner.schedule_group,
    "AWS::Scheduler::Schedule": _Provisioner.schedule,
    "AWS::Cognito::UserPool": _Provisioner.cognito_user_pool,
    "AWS::Cognito::UserPoolClient": _Provisioner.cognito_user_pool_client,
    "AWS::Cognito::UserPoolDomain": _Provisioner.cognito_user_pool_domain,
    "AWS::SNS::Topic": _Provisioner.sns_topic,
    "AWS::SNS::TopicPolicy": _Provisioner.sns_topic_policy,
    "AWS::SNS::Subscription": _Provisioner.sns_subscription,
    "AWS::SES::ConfigurationSetEventDestination": _Provisioner.ses_event_destination,
    "AWS::CloudWatch::Alarm": _Provisioner.cloudwatch_alarm,
}

#: Resource types that run code or route to it: the local stack plays their part in-process.
SKIPPED_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::ApiMapping",
        "AWS::ApiGatewayV2::DomainName",
        "AWS::Logs::LogGroup",
    }
)


def _creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids ordered so that each comes after everything it refers to."""
    depends: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        needed = references(resource.get("Properties", {}))
        depends_on = resource.get("DependsOn", [])
        needed |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        depends[logical_id] = {name for name in needed if name in resources and name != logical_id}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(logical_id: str, path: tuple[str, ...]) -> None:
        if state.get(logical_id) == 2:
            return
        if state.get(logical_id) == 1:
            raise ValueError(f"circular references between resources: {' -> '.join((*path, logical_id))}")
        state[logical_id] = 1
        for dependency in sorted(depends[logical_id]):
            visit(dependency, (*path, logical_id))
        state[logical_id] = 2
        order.append(logical_id)

    for logical_id in resources:
        visit(logical_id, ())
    return order


def provision(
    template_path: Path | str,
    endpoint_url: str,
    region: str = DEFAULT_REGION,
    stack_name: str = DEFAULT_STACK_NAME,
    parameter_overrides: Mapping[str, str] | None = None,
    dynamodb: DynamoDbServer | None = None,
) -> ProvisionedStack:
    """Create every data resource of the transformed template on the server at ``endpoint_url``
    (the tables on ``dynamodb`` instead, when given)."""
    pseudo = {
        "AWS::Region": region,
        "AWS::StackName": stack_name,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": PARTITION,
    }
    template = transform(template_path, {**dict(parameter_overrides or {}), **pseudo})
    params = {**parameter_defaults(template), **dict(parameter_overrides or {}), **pseudo}
    stack = ProvisionedStack(
        endpoint_url=endpoint_url,
        region=region,
        stack_name=stack_name,
        template=template,
        params=params,
        dynamodb=dynamodb,
    )
    provisioner = _Provisioner(stack)
    resources: dict[str, Any] = template["Resources"]
    for logical_id in _creation_order(resources):
        resource = resources[logical_id]
        resource_type = resource["Type"]
        if "Condition" in resource:
            raise ValueError(f"{logical_id}: conditional resources are not supported by the local stack")
        handler = _HANDLERS.get(resource_type)
        if handler is None:
            if resource_type not in SKIPPED_TYPES:
                raise ValueError(
                    f"{logical_id}: the local stack does not know how to provision {resource_type}; "
                    "add it to onpace_local.provision"
                )
            provisioner.placeholder(logical_id, resource_type)
            continue
        properties = stack.resolve(resource.get("Properties", {}))
        handler(provisioner, logical_id, properties)
        stack.created[logical_id] = resource_type
    return stack
