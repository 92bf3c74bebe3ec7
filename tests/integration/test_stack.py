"""The template provisioned on a moto server over HTTP, as the local stack and the demo use it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from onpace_local.stack import LocalStack

pytestmark = pytest.mark.integration

TABLE_INDEXES = {
    "EventsTable": {"unmatched", "open_refusals"},
    "EnrollmentsTable": {"due", "by_student", "held"},
    "OutboxTable": {"scheduled"},
    "AuditTable": {"by_student", "by_rule", "failures", "by_class", "by_type", "by_time"},
    "ProgramsTable": {"by_time_zone"},
}


def test_endpoint_is_a_local_http_server(local_stack: LocalStack) -> None:
    assert local_stack.endpoint_url.startswith("http://127.0.0.1:")
    assert os.environ["AWS_ENDPOINT_URL"] == local_stack.endpoint_url
    assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "us-east-1"


@pytest.mark.parametrize(("logical_id", "indexes"), TABLE_INDEXES.items())
def test_tables_have_their_indexes_stream_and_backups(
    local_stack: LocalStack, logical_id: str, indexes: set[str]
) -> None:
    ddb = local_stack.client("dynamodb")
    name = local_stack.ref(logical_id)
    assert name == f"onpace-local-{logical_id}"
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])} == indexes
    for index in table.get("GlobalSecondaryIndexes", []):
        # by_student only finds keys: the inputs it routes are written to each item by key.
        # due lists keys for the planner; the workers read the items by key (BatchGetItem).
        keys_only = (logical_id, index["IndexName"]) in (
            ("EnrollmentsTable", "by_student"),
            ("EnrollmentsTable", "due"),
            ("EnrollmentsTable", "held"),  # the approvals queue reads the held items by key
            ("AuditTable", "by_time"),
        )
        expected = "KEYS_ONLY" if keys_only else "ALL"
        assert index["Projection"]["ProjectionType"] == expected
    assert local_stack.attr(logical_id, "Arn") == table["TableArn"]
    if logical_id == "OutboxTable":
        assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert local_stack.attr(logical_id, "StreamArn") == table["LatestStreamArn"]
    else:
        assert not table.get("StreamSpecification", {}).get("StreamEnabled")
    backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_events_table_expires_raw_events(local_stack: LocalStack) -> None:
    ttl = local_stack.client("dynamodb").describe_time_to_live(TableName=local_stack.ref("EventsTable"))
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_hourly_schedule_targets_the_evaluation_planner(local_stack: LocalStack) -> None:
    scheduler = local_stack.client("scheduler")
    names = sorted(schedule["Name"] for schedule in scheduler.list_schedules()["Schedules"])
    assert names == [
        "onpace-local-audit-checkpoint",
        "onpace-local-evaluation-planner",
        "onpace-local-morning-dispatcher",
        "onpace-local-refusal-sweep",
    ]
    checkpoint = scheduler.get_schedule(Name=names[0])
    assert checkpoint["ScheduleExpression"] == "cron(15 * * * ? *)"
    assert checkpoint["Target"]["Arn"] == local_stack.attr("AuditCheckpointFunction", "Arn")
    names = names[1:]
    schedule = scheduler.get_schedule(Name=names[0])
    assert schedule["ScheduleExpression"] == "cron(5 * * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    target = schedule["Target"]
    assert target["Arn"] == local_stack.attr("EvaluateFunction", "Arn")
    assert json.loads(target["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert target["DeadLetterConfig"]["Arn"] == local_stack.attr("EvaluateDLQ", "Arn")
    dispatcher = scheduler.get_schedule(Name=names[1])
    assert dispatcher["ScheduleExpression"] == "cron(10 * * * ? *)"
    assert dispatcher["Target"]["Arn"] == local_stack.attr("DispatchFunction", "Arn")


def test_audit_keys_and_the_object_locked_checkpoint_bucket(local_stack: LocalStack) -> None:
    kms = local_stack.client("kms")
    chain = kms.describe_key(KeyId=local_stack.ref("AuditChainKey"))["KeyMetadata"]
    assert (chain["KeySpec"], chain["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    assert chain["Arn"] == local_stack.attr("AuditChainKey", "Arn")
    signing = kms.describe_key(KeyId=local_stack.ref("AuditCheckpointKey"))["KeyMetadata"]
    assert (signing["KeySpec"], signing["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    lock = local_stack.client("s3").get_object_lock_configuration(
        Bucket=local_stack.ref("AuditCheckpointBucket")
    )["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 2190)
    env = local_stack.function_env("NotifyFunction")
    assert env["AUDIT_CHAIN_KEY"] == local_stack.ref("AuditChainKey")
    assert env["AUDIT_CHECKPOINT_BUCKET"] == local_stack.ref("AuditCheckpointBucket")


def test_dead_letter_queues(local_stack: LocalStack) -> None:
    sqs = local_stack.client("sqs")
    for logical_id in ("NotifyDLQ", "EvaluateDLQ", "CanvasLiveEventsDLQ"):
        attributes = sqs.get_queue_attributes(QueueUrl=local_stack.ref(logical_id), AttributeNames=["All"])[
            "Attributes"
        ]
        assert attributes["QueueArn"] == local_stack.attr(logical_id, "Arn")
        assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
        assert attributes["SqsManagedSseEnabled"] == "true"


def test_ses_configuration_set_and_sender(local_stack: LocalStack) -> None:
    sesv2 = local_stack.client("sesv2")
    name = local_stack.ref("NoticesConfigurationSet")
    config_set = sesv2.get_configuration_set(ConfigurationSetName=name)
    assert config_set["ConfigurationSetName"] == name
    # (moto 5.2 stores SendingOptions as a whole dict where it expects the flag, so it reads
    # SendingEnabled back as False whatever was sent: not checked here.)
    identity = sesv2.get_email_identity(EmailIdentity="onpace.example.org")
    assert identity["ConfigurationSetName"] == name
    identities = local_stack.client("ses").list_identities()["Identities"]
    assert {"onpace.example.org", "notices@onpace.example.org"} <= set(identities)


def test_sender_can_send_raw_mail_through_the_configuration_set(local_stack: LocalStack) -> None:
    env = local_stack.function_env("NotifyFunction")
    message = (
        f"From: {env['SENDER_ADDRESS']}\r\nTo: guardian@example.com\r\nSubject: check\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    )
    sent = local_stack.client("sesv2").send_email(
        FromEmailAddress=env["SENDER_ADDRESS"],
        Destination={"ToAddresses": ["guardian@example.com"]},
        Content={"Raw": {"Data": message.encode()}},
        ConfigurationSetName=env["SES_CONFIGURATION_SET"],
    )
    assert sent["MessageId"]


def test_ses_events_reach_the_topic_the_function_is_subscribed_to(local_stack: LocalStack) -> None:
    """The configuration set publishes the five tracked event types to SesEventsTopic, and the
    function's subscription (a tap queue locally) is on that topic."""
    described = local_stack.client("ses").describe_configuration_set(
        ConfigurationSetName=local_stack.ref("NoticesConfigurationSet"),
        ConfigurationSetAttributeNames=["eventDestinations"],
    )
    (destination,) = described["EventDestinations"]
    assert destination["SNSDestination"]["TopicARN"] == local_stack.ref("SesEventsTopic")
    assert set(destination["MatchingEventTypes"]) == {
        "delivery",
        "bounce",
        "complaint",
        "reject",
        "deliveryDelay",
    }
    subscriptions = local_stack.client("sns").list_subscriptions_by_topic(
        TopicArn=local_stack.ref("SesEventsTopic")
    )
    assert [s["Protocol"] for s in subscriptions["Subscriptions"]] == ["sqs"]


def test_admin_user_pool(local_stack: LocalStack) -> None:
    idp = local_stack.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=local_stack.ref("AdminUserPool"))["UserPool"]
    district = next(a for a in pool["SchemaAttributes"] if a["Name"] == "custom:district_id")
    # Operators may change an admin's districts; the app client may not (WriteAttributes).
    assert district["Mutable"] is True
    client = idp.describe_user_pool_client(
        UserPoolId=local_stack.ref("AdminUserPool"), ClientId=local_stack.ref("AdminUserPoolClient")
    )["UserPoolClient"]
    assert client["ClientId"] == local_stack.ref("AdminUserPoolClient")
    assert client["AllowedOAuthFlows"] == ["code"]
    assert "custom:district_id" not in client["WriteAttributes"]
    domain = idp.describe_user_pool_domain(Domain=local_stack.ref("AdminUserPoolDomain"))["DomainDescription"]
    assert domain["UserPoolId"] == local_stack.ref("AdminUserPool")


def test_code_resources_are_considered_but_not_created(local_stack: LocalStack) -> None:
    skipped = local_stack.stack.skipped
    functions = {spec.logical_id for spec in local_stack.functions}
    assert functions == {
        "IngestFunction",
        "CanvasQueueFunction",
        "EvaluateFunction",
        "EvaluateWorkerFunction",
        "NotifyFunction",
        "ConsoleFunction",
        "RosterImportFunction",
        "SesEventsFunction",
        "DispatchFunction",
        "AuditCheckpointFunction",
        "RefusalSweepFunction",
    }
    assert {k for k, v in skipped.items() if v == "AWS::Lambda::Function"} == functions
    assert "AWS::IAM::Role" in skipped.values()
    assert "AWS::Lambda::EventSourceMapping" in skipped.values()
    assert "AWS::ApiGatewayV2::Api" in skipped.values()
    assert set(skipped).isdisjoint(local_stack.stack.created)
    template_ids = set(local_stack.stack.template["Resources"])
    assert set(skipped) | set(local_stack.stack.created) == template_ids


def test_function_env_names_tables_that_exist(local_stack: LocalStack) -> None:
    env = local_stack.function_env("IngestFunction")
    existing = set(local_stack.client("dynamodb").list_tables()["TableNames"])
    for variable in (
        "EVENTS_TABLE",
        "ENROLLMENTS_TABLE",
        "OUTBOX_TABLE",
        "AUDIT_TABLE",
        "PROGRAMS_TABLE",
        "SUPPRESSIONS_TABLE",
    ):
        assert env[variable] in existing, variable
    assert env["SES_CONFIGURATION_SET"] == local_stack.ref("NoticesConfigurationSet")
    assert env["SENDER_ADDRESS"] == "notices@onpace.example.org"
    assert env["RAW_EVENT_TTL_DAYS"] == "30" and env["RAW_ARCHIVE_DAYS"] == "400"
    assert env["WEBHOOK_SECRET_PREFIX"] == "onpace/webhooks/"


def test_process_environment_and_models_are_bound(local_stack: LocalStack) -> None:
    from onpace_core.settings import Settings
    from onpace_core.store.models import AuditModel, RawEventModel

    for spec in local_stack.functions:
        for name, value in local_stack.function_env(spec.logical_id).items():
            assert os.environ[name] == value, (spec.logical_id, name)
    settings = Settings.from_env()
    assert settings.events_table == local_stack.ref("EventsTable")
    assert RawEventModel.Meta.table_name == local_stack.ref("EventsTable")
    assert AuditModel.Meta.table_name == local_stack.ref("AuditTable")
    assert RawEventModel.exists()


def test_lambda_context(local_stack: LocalStack) -> None:
    context = local_stack.context("EvaluateFunction")
    assert context.function_name == "onpace-local-EvaluateFunction"
    assert context.memory_limit_in_mb == 512
    assert context.invoked_function_arn == local_stack.attr("EvaluateFunction", "Arn")
    assert 299_000 < context.get_remaining_time_in_millis() <= 300_000
    assert context.aws_request_id != local_stack.context("EvaluateFunction").aws_request_id


def test_a_second_stack_in_the_same_process_is_refused(local_stack: LocalStack, repo_root: Path) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        LocalStack.start(repo_root / "template.yaml", root=repo_root)
    assert local_stack.client("dynamodb").list_tables()["TableNames"]  # still intact
