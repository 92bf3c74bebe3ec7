"""``template.yaml`` checked offline: cfn-lint, the SAM transform, the tables against the pynamodb
models, and least privilege in every IAM statement."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from onpace_core.store import models
from onpace_local.template import function_specs, load_template, references, resolve, transform
from pynamodb.models import Model

# Each model, by the environment variable that names its table (Settings / bind_tables).
MODEL_TABLE_VARIABLE: dict[type[Model], str] = {
    models.RawEventModel: "EVENTS_TABLE",
    models.EnrollmentModel: "ENROLLMENTS_TABLE",
    models.OutboxModel: "OUTBOX_TABLE",
    models.AuditModel: "AUDIT_TABLE",
    models.ProgramModel: "PROGRAMS_TABLE",
    models.SuppressionModel: "SUPPRESSIONS_TABLE",
}
# Item types that share a table with the model above (their key is the same ``pk``).
SHARED_TABLE_MODELS: dict[type[Model], tuple[type[Model], ...]] = {
    models.RawEventModel: (models.IdentityModel, models.RefusalWindowModel),
}


@pytest.fixture(scope="module")
def cfn(template_path: Path) -> dict[str, Any]:
    return transform(template_path)


@pytest.fixture(scope="module")
def sam(template_path: Path) -> dict[str, Any]:
    return load_template(template_path)


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


# ---------------------------------------------------------------------------------------------


def test_cfn_lint_reports_no_errors(template_path: Path) -> None:
    script = Path(sys.executable).with_name("cfn-lint")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())"]
    )
    result = subprocess.run(
        [*command, "--format", "parseable", str(template_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational, 1 fatal.
    assert result.returncode & 0b11 == 0, f"cfn-lint found errors:\n{result.stdout}{result.stderr}"
    errors = [line for line in result.stdout.splitlines() if re.search(r":E\d{4}:", line)]
    assert errors == []


def test_all_env_var_names_of_settings_are_set_for_every_function(cfn: dict[str, Any]) -> None:
    from onpace_core.settings import env_names

    expected = env_names() - {"AWS_REGION"}  # Lambda sets it
    for logical_id, function in _of_type(cfn, "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert expected <= set(variables), f"{logical_id} lacks {sorted(expected - set(variables))}"
        assert "AWS_REGION" not in variables  # reserved by Lambda
        assert variables["POWERTOOLS_SERVICE_NAME"] == "onpace"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "OnPace"
        assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
        assert variables["SES_CONFIGURATION_SET"] == {"Ref": "NoticesConfigurationSet"}


def test_functions_share_runtime_architecture_and_layers(cfn: dict[str, Any]) -> None:
    layers = _of_type(cfn, "AWS::Lambda::LayerVersion")
    assert {p["Properties"]["Content"]["S3Key"] for p in layers.values()} == {
        "layers/deps",
        "layers/rules",
        "layers/core",
    }
    functions = _of_type(cfn, "AWS::Lambda::Function")
    assert set(functions) == {
        "IngestFunction",
        "CanvasQueueFunction",
        "EvaluateFunction",
        "EvaluateWorkerFunction",
        "NotifyFunction",
        "ConsoleFunction",
        "RosterImportFunction",
        "SesEventsFunction",
        "DispatchFunction",
        "RefusalSweepFunction",
        "AuditCheckpointFunction",
    }
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        # The roster import holds a whole district's export in memory, and may take minutes.
        batch = logical_id == "RosterImportFunction"
        evaluation = logical_id in (
            "EvaluateFunction",
            "EvaluateWorkerFunction",
            "DispatchFunction",
            "AuditCheckpointFunction",
        )
        assert props["MemorySize"] == (2048 if logical_id == "RosterImportFunction" else 512), logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert {ref["Ref"] for ref in props["Layers"]} == set(layers), logical_id
        assert props["Timeout"] == (900 if batch else 300 if evaluation else 30), logical_id


def test_function_specs_point_at_existing_folders_with_unique_modules(template_path: Path) -> None:
    specs = {spec.logical_id: spec for spec in function_specs(template_path)}
    assert {logical_id: spec.handler for logical_id, spec in specs.items()} == {
        "IngestFunction": "ingest_handler.lambda_handler",
        "CanvasQueueFunction": "canvas_queue_handler.lambda_handler",
        "EvaluateFunction": "evaluate_handler.lambda_handler",
        "EvaluateWorkerFunction": "evaluate_worker.lambda_handler",
        "NotifyFunction": "notify_handler.lambda_handler",
        "ConsoleFunction": "console_handler.lambda_handler",
        "RosterImportFunction": "roster_handler.lambda_handler",
        "SesEventsFunction": "ses_events_handler.lambda_handler",
        "DispatchFunction": "dispatch_handler.lambda_handler",
        "RefusalSweepFunction": "refusal_sweep_handler.lambda_handler",
        "AuditCheckpointFunction": "audit_checkpoint_handler.lambda_handler",
    }
    # The Canvas queue's function is an ingest function: the same code, another handler.
    folders = {
        "CanvasQueueFunction": "ingest",
        "RefusalSweepFunction": "ingest",
        "RosterImportFunction": "roster",
        "EvaluateWorkerFunction": "evaluate",
        "SesEventsFunction": "ses_events",
        "AuditCheckpointFunction": "audit_checkpoint",
    }
    for spec in specs.values():
        assert spec.code_dir.is_dir(), spec
        expected = folders.get(spec.logical_id, spec.logical_id.removesuffix("Function").lower())
        assert spec.code_dir.name == expected
    assert len({spec.module for spec in specs.values()}) == len(specs)
    # Globals are merged into each function's environment.
    assert specs["NotifyFunction"].environment["OUTBOX_TABLE"] == {"Ref": "OutboxTable"}


# -- events ------------------------------------------------------------------------------------


def test_http_api_routes_and_authorizers(cfn: dict[str, Any]) -> None:
    body = cfn["Resources"]["OnPaceApi"]["Properties"]["Body"]
    routes = {
        (path, method.upper()): operation
        for path, operations in body["paths"].items()
        for method, operation in operations.items()
    }
    assert set(routes) == {
        ("/webhooks/{source}", "POST"),
        ("/xapi/statements", "POST"),
        ("/xapi/statements", "PUT"),
        ("/xapi/about", "GET"),
        ("/caliper/events", "POST"),
        ("/caliper/events", "GET"),
        ("/canvas/live-events", "POST"),
        ("/console", "GET"),
        ("/console/api/audit", "GET"),
        ("/console/api/audit/verify", "GET"),
        ("/console/views/audit", "GET"),
        ("/console/views/failures", "GET"),
        ("/console/api/failures", "GET"),
        ("/console/api/suppressions", "GET"),
        ("/console/api/suppressions", "DELETE"),
        ("/console/api/notices/{notice_id}/emails/{r}", "GET"),
        ("/console/views/upcoming", "GET"),
        ("/console/views/queues", "GET"),
        ("/console/views/queues/approval", "POST"),
        ("/console/views/queues/appeal", "POST"),
        ("/console/views/packet", "GET"),
        ("/console/api/packet.pdf", "GET"),
        ("/console/views/disclosures", "GET"),
        ("/console/views/health", "GET"),
        ("/console/views/health/suppressions/clear", "POST"),
        ("/console/views/students", "GET"),
        ("/console/views/timeline", "GET"),
        ("/console/views/email", "GET"),
        ("/console/api/students", "GET"),
        ("/console/api/audit/export", "GET"),
        ("/unsubscribe", "POST"),
        ("/unsubscribe", "GET"),
    }

    def target(operation: dict[str, Any]) -> str:
        uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        return re.search(r"\$\{(\w+)\.Arn\}", uri).group(1)  # type: ignore[union-attr]

    webhook = routes[("/webhooks/{source}", "POST")]
    assert target(webhook) == "IngestFunction"
    assert webhook["security"] == [{"NONE": []}], "webhooks are HMAC-signed: no JWT authorizer"
    for method in ("POST", "GET"):  # envelopes, and the Caliper ping
        caliper = routes[("/caliper/events", method)]
        assert target(caliper) == "IngestFunction"
        assert caliper["security"] == [{"NONE": []}], "Caliper sends a bearer credential the function checks"
    for key, operation in routes.items():
        if key[0].startswith("/xapi/"):
            assert target(operation) == "IngestFunction"
            assert operation["security"] == [{"NONE": []}], "xAPI uses HTTP Basic per district"
    for method in ("POST", "GET"):  # RFC 8058: the signed token is the credential, no cookie or JWT
        page = routes[("/unsubscribe", method)]
        assert target(page) == "IngestFunction"
        assert page["security"] == [{"NONE": []}], "one-click unsubscribe is public by design"
    canvas = routes[("/canvas/live-events", "POST")]
    assert target(canvas) == "IngestFunction"
    assert canvas["security"] == [{"NONE": []}], "Canvas signs its own JWT: no authorizer"
    for key, operation in routes.items():
        if key[0].startswith("/console"):
            assert target(operation) == "ConsoleFunction"
            if key == ("/console", "GET"):
                assert operation["security"] == [{"NONE": []}], "the shell is public: it signs the admin in"
            else:
                assert operation["security"] == [{"DistrictAdmins": []}]

    scheme = body["components"]["securitySchemes"]["DistrictAdmins"]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "jwt"
    assert scheme["jwtConfiguration"]["audience"] == [{"Ref": "AdminUserPoolClient"}]
    assert "AdminUserPool" in references(scheme["jwtConfiguration"]["issuer"])


def test_user_pool_district_attribute_holds_a_list_no_client_may_write(cfn: dict[str, Any]) -> None:
    schema = cfn["Resources"]["AdminUserPool"]["Properties"]["Schema"]
    district = next(attr for attr in schema if attr["Name"] == "district_id")
    assert district["AttributeDataType"] == "String"
    # Several comma-separated ids of up to 64 characters each.
    assert int(district["StringAttributeConstraints"]["MaxLength"]) >= 10 * 65
    clients = _of_type(cfn, "AWS::Cognito::UserPoolClient")
    assert clients
    for client in clients.values():
        properties = client["Properties"]
        # Operators set it (AdminUpdateUserAttributes); an admin's own token may not.
        assert "WriteAttributes" in properties, "without WriteAttributes a client may write every attribute"
        assert "custom:district_id" not in properties["WriteAttributes"]
        assert "custom:district_id" in properties["ReadAttributes"]


def test_console_sign_in_is_the_hosted_ui_with_code_and_pkce(cfn: dict[str, Any]) -> None:
    client = cfn["Resources"]["AdminUserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["GenerateSecret"] is False  # a browser holds no secret: PKCE instead
    assert client["CallbackURLs"] == [{"Ref": "ConsoleUrl"}] == client["LogoutURLs"]
    assert (client["IdTokenValidity"], client["TokenValidityUnits"]["IdToken"]) == (1, "hours")
    domain = cfn["Resources"]["AdminUserPoolDomain"]
    assert domain["Type"] == "AWS::Cognito::UserPoolDomain"
    assert domain["Properties"] == {
        "Domain": {"Ref": "CognitoDomainPrefix"},
        "UserPoolId": {"Ref": "AdminUserPool"},
    }
    env = cfn["Resources"]["ConsoleFunction"]["Properties"]["Environment"]["Variables"]
    assert "AdminUserPoolDomain" in references(env["CONSOLE_AUTH_URL"])
    assert env["CONSOLE_CLIENT_ID"] == {"Ref": "AdminUserPoolClient"}


def test_hourly_evaluation_planner_schedule(cfn: dict[str, Any]) -> None:
    """One UTC schedule for every zone: the planner picks the programs whose day began."""
    schedules = _of_type(cfn, "AWS::Scheduler::Schedule")
    assert sorted(schedules) == [
        "AuditCheckpointFunctionHourlyCheckpoint",
        "DispatchFunctionHourlyDispatch",
        "EvaluateFunctionHourlyPlan",
        "RefusalSweepFunctionSweep",
    ]
    props = schedules["EvaluateFunctionHourlyPlan"]["Properties"]
    assert props["ScheduleExpression"] == "cron(5 * * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["EvaluateFunction", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["EvaluateDLQ", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert json.loads(target["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert "ProgramTimeZone" not in cfn.get("Parameters", {})


def test_hourly_morning_dispatcher_schedule(cfn: dict[str, Any]) -> None:
    """The dispatcher runs every hour after the planner, and reads waiting notices by key only."""
    props = _of_type(cfn, "AWS::Scheduler::Schedule")["DispatchFunctionHourlyDispatch"]["Properties"]
    assert props["ScheduleExpression"] == "cron(10 * * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert props["Target"]["Arn"] == {"Fn::GetAtt": ["DispatchFunction", "Arn"]}
    assert json.loads(props["Target"]["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    outbox = cfn["Resources"]["OutboxTable"]["Properties"]
    (index,) = outbox["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "scheduled"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["send_key", "send_after"]


def test_shard_queue_feeds_the_evaluate_worker(cfn: dict[str, Any]) -> None:
    mapping = cfn["Resources"]["EvaluateWorkerFunctionShards"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "EvaluateWorkerFunction"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["EvaluateQueue", "Arn"]}
    assert mapping["BatchSize"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = cfn["Resources"]["EvaluateQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["EvaluateDLQ", "Arn"]}
    assert (
        queue["VisibilityTimeout"] >= 6 * cfn["Resources"]["EvaluateWorkerFunction"]["Properties"]["Timeout"]
    )
    variables = cfn["Resources"]["EvaluateWorkerFunction"]["Properties"]["Environment"]["Variables"]
    # The worker parks a failing enrollment (with why) one receive before SQS's own redrive would.
    assert variables["EVALUATION_MAX_RECEIVES"] == str(queue["RedrivePolicy"]["maxReceiveCount"] - 1)


def test_outbox_stream_feeds_notify(cfn: dict[str, Any]) -> None:
    mappings = _of_type(cfn, "AWS::Lambda::EventSourceMapping")
    assert set(mappings) == {
        "NotifyFunctionOutboxStream",
        "NotifyFunctionRetryQueue",
        "CanvasQueueFunctionLiveEvents",
        "EvaluateWorkerFunctionShards",
    }
    props = mappings["NotifyFunctionOutboxStream"]["Properties"]
    assert props["FunctionName"] == {"Ref": "NotifyFunction"}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BatchSize"] == 10
    assert props["MaximumRetryAttempts"] == 5
    assert props["BisectBatchOnFunctionError"] is True
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert patterns == [{"eventName": ["INSERT"]}]
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["NotifyDLQ", "Arn"]}
    stream = cfn["Resources"]["OutboxTable"]["Properties"]["StreamSpecification"]
    assert stream == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    # A failed notice is retried alone from its own queue, which ends in the same DLQ.
    retry = mappings["NotifyFunctionRetryQueue"]["Properties"]
    assert retry["EventSourceArn"] == {"Fn::GetAtt": ["NotifyRetryQueue", "Arn"]}
    assert retry["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = cfn["Resources"]["NotifyRetryQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["NotifyDLQ", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * 30


def test_queues_and_ses(cfn: dict[str, Any]) -> None:
    queues = _of_type(cfn, "AWS::SQS::Queue")
    assert set(queues) == {
        "NotifyRetryQueue",
        "NotifyDLQ",
        "EvaluateDLQ",
        "EvaluateQueue",
        "CanvasLiveEventsQueue",
        "CanvasLiveEventsDLQ",
        "SesEventsDLQ",
    }
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        # Shards are for the day they were planned: four days is plenty to retry and re-drive.
        days = 4 if logical_id == "EvaluateQueue" else 14
        assert queue["Properties"]["MessageRetentionPeriod"] == days * 24 * 3600
    identity = cfn["Resources"]["SenderIdentity"]["Properties"]
    assert identity["EmailIdentity"] == {"Ref": "SenderDomain"}
    assert identity["ConfigurationSetAttributes"]["ConfigurationSetName"] == {
        "Ref": "NoticesConfigurationSet"
    }


def test_ses_events_reach_their_function(cfn: dict[str, Any]) -> None:
    """The configuration set publishes the five tracked event types to SesEventsTopic; the
    function is subscribed to it, with its dead-letter queue for events it cannot record."""
    destination = cfn["Resources"]["NoticesEventDestination"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "NoticesConfigurationSet"}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert set(event_destination["MatchingEventTypes"]) == {
        "delivery",
        "bounce",
        "complaint",
        "reject",
        "deliveryDelay",
    }
    assert event_destination["SnsDestination"]["TopicARN"] == {"Ref": "SesEventsTopic"}
    subscriptions = _of_type(cfn, "AWS::SNS::Subscription")
    (subscription,) = subscriptions.values()
    assert subscription["Properties"]["Protocol"] == "lambda"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "SesEventsTopic"}
    assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": ["SesEventsFunction", "Arn"]}
    function = cfn["Resources"]["SesEventsFunction"]["Properties"]
    assert function["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": ["SesEventsDLQ", "Arn"]}
    (statement,) = cfn["Resources"]["SesEventsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"} and statement["Action"] == "sns:Publish"


def test_canvas_queue_feeds_its_function(cfn: dict[str, Any]) -> None:
    mapping = cfn["Resources"]["CanvasQueueFunctionLiveEvents"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "CanvasQueueFunction"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["CanvasLiveEventsQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = cfn["Resources"]["CanvasLiveEventsQueue"]["Properties"]
    # Canvas Data Services only writes to queues whose name starts so.
    assert queue["QueueName"]["Fn::Sub"].startswith("canvas-live-events")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CanvasLiveEventsDLQ", "Arn"]}
    assert 1 < queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert queue["VisibilityTimeout"] >= 6 * cfn["Resources"]["CanvasQueueFunction"]["Properties"]["Timeout"]
    (statement,) = cfn["Resources"]["CanvasLiveEventsQueuePolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::636161780776:root"}
    assert "sqs:SendMessage" in statement["Action"]
    assert not any(a in statement["Action"] for a in ("sqs:*", "sqs:ReceiveMessage", "sqs:DeleteMessage"))
    variables = cfn["Resources"]["CanvasQueueFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CANVAS_ACCOUNTS"] == {"Ref": "CanvasAccounts"}


def test_outputs(cfn: dict[str, Any]) -> None:
    outputs = cfn["Outputs"]
    assert "ApiUrl" in outputs
    tables = _of_type(cfn, "AWS::DynamoDB::Table")
    assert {o["Value"]["Ref"] for o in outputs.values() if "Ref" in o["Value"]} >= set(tables)


# -- tables against the models -----------------------------------------------------------------


def _table_logical_ids(cfn: dict[str, Any]) -> dict[str, str]:
    """Environment variable -> logical id of the table it names (through ``!Ref``)."""
    function = next(iter(_of_type(cfn, "AWS::Lambda::Function").values()))
    variables = function["Properties"]["Environment"]["Variables"]
    return {name: variables[name]["Ref"] for name in MODEL_TABLE_VARIABLE.values()}


def _key_schema(items: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(name, HASH) then (name, RANGE): pynamodb does not list the hash key first, AWS does."""
    return sorted(((item["AttributeName"], item["KeyType"]) for item in items), key=lambda key: key[1])


@pytest.mark.parametrize("model", list(MODEL_TABLE_VARIABLE), ids=lambda m: m.__name__)
def test_table_matches_model(cfn: dict[str, Any], model: type[Model]) -> None:
    logical_id = _table_logical_ids(cfn)[MODEL_TABLE_VARIABLE[model]]
    table = cfn["Resources"][logical_id]
    assert table["Type"] == "AWS::DynamoDB::Table"
    props = table["Properties"]
    schema = model._get_schema()
    # Other item types kept in the same table bring their own index attributes and indexes.
    for other in SHARED_TABLE_MODELS.get(model, ()):
        extra = other._get_schema()
        known = {a["AttributeName"] for a in schema["attribute_definitions"]}
        schema["attribute_definitions"] += [
            a for a in extra["attribute_definitions"] if a["AttributeName"] not in known
        ]
        schema["global_secondary_indexes"] += extra["global_secondary_indexes"]

    assert _key_schema(props["KeySchema"]) == _key_schema(schema["key_schema"])
    declared = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    expected = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    assert declared == expected

    template_indexes = {
        index["IndexName"]: (_key_schema(index["KeySchema"]), index["Projection"]["ProjectionType"])
        for index in props.get("GlobalSecondaryIndexes", [])
    }
    model_indexes = {
        index["index_name"]: (_key_schema(index["key_schema"]), index["projection"]["ProjectionType"])
        for index in schema["global_secondary_indexes"]
    }
    assert template_indexes == model_indexes
    assert not props.get("LocalSecondaryIndexes")
    assert not schema["local_secondary_indexes"]

    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "TableName" not in props

    ttl_attributes = [
        name for name, attr in model.get_attributes().items() if type(attr).__name__ == "TTLAttribute"
    ]
    if ttl_attributes:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl_attributes[0], "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


# -- least privilege ---------------------------------------------------------------------------


def _statements(cfn: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, role in _of_type(cfn, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                found.append((logical_id, statement))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions(cfn: dict[str, Any], sam: dict[str, Any]) -> None:
    statements = _statements(cfn)
    assert len(statements) > 10
    for role, statement in statements:
        assert "NotAction" not in statement, role
        for action in _as_list(statement["Action"]):
            assert "*" not in action, f"{role} allows the wildcard action {action}"
    for logical_id, resource in _of_type(sam, "AWS::Serverless::Function").items():
        for policy in resource["Properties"].get("Policies", []):
            assert not isinstance(policy, str), f"{logical_id} uses the managed policy {policy}"
            assert not (isinstance(policy, dict) and "DynamoDBCrudPolicy" in policy), logical_id
    for role in _of_type(cfn, "AWS::IAM::Role").values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert "FullAccess" not in str(arn)


def test_index_resources_name_existing_indexes(cfn: dict[str, Any]) -> None:
    indexes = {
        logical_id: {i["IndexName"] for i in table["Properties"].get("GlobalSecondaryIndexes", [])}
        for logical_id, table in _of_type(cfn, "AWS::DynamoDB::Table").items()
    }
    seen = 0
    for role, statement in _statements(cfn):
        for resource in _as_list(statement.get("Resource", [])):
            if isinstance(resource, dict) and "Fn::Sub" in resource:
                match = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(\w+)", resource["Fn::Sub"])
                if match:
                    seen += 1
                    assert match.group(2) in indexes[match.group(1)], f"{role}: {resource}"
            assert resource != "*" or not any(
                str(action).startswith("dynamodb:") for action in _as_list(statement["Action"])
            ), f"{role} grants DynamoDB on every resource"
    assert seen >= 4


def test_notify_sends_only_as_the_sender_through_the_configuration_set(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"]["NotifyFunctionRole"]
    ses = [
        s
        for _, s in _statements({"Resources": {"NotifyFunctionRole": role}})
        if any(str(a).startswith("ses:") for a in _as_list(s["Action"]))
    ]
    assert len(ses) == 1
    assert sorted(_as_list(ses[0]["Action"])) == ["ses:SendEmail", "ses:SendRawEmail"]
    resources = [r["Fn::Sub"] for r in ses[0]["Resource"]]
    assert all(":identity/" in r or ":configuration-set/" in r for r in resources)
    assert any(r.endswith("configuration-set/${NoticesConfigurationSet}") for r in resources)


# -- the audit log: added to, never changed ----------------------------------------------------

# What a role may do on the audit table: append (a put, conditional in the code) and read.
AUDIT_ACTIONS = {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:ConditionCheckItem"}


def _names(value: Any) -> set[str]:
    """The logical ids a statement's resource or action value refers to (GetAtt, Sub, Ref)."""
    return set(references(value)) if isinstance(value, (dict, list)) else set()


def _function_roles(cfn: dict[str, Any]) -> dict[str, str]:
    return {
        logical_id: function["Properties"]["Role"]["Fn::GetAtt"][0]
        for logical_id, function in _of_type(cfn, "AWS::Lambda::Function").items()
    }


def _role_statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [s for r, s in _statements(cfn) if r == role and s.get("Effect") == "Allow"]


def test_no_function_may_update_or_delete_an_audit_row(cfn: dict[str, Any]) -> None:
    """Every function's role allows at most PutItem (and reads) on the audit table: no
    UpdateItem, DeleteItem or BatchWriteItem, and no DynamoDB write on a wildcard resource.
    IAM cannot require the put's ConditionExpression; ``audit_overwrites`` (run on every call
    the integration tests record) and the MAC chain with its checkpoints cover that."""
    writers = set()
    for function, role in _function_roles(cfn).items():
        for statement in _role_statements(cfn, role):
            actions = {str(a) for a in _as_list(statement["Action"])}
            resources = _as_list(statement.get("Resource", []))
            on_audit = any("AuditTable" in _names(r) for r in resources)
            if on_audit:
                assert actions <= AUDIT_ACTIONS, (
                    f"{function} may {sorted(actions - AUDIT_ACTIONS)} audit rows"
                )
                if "dynamodb:PutItem" in actions:
                    writers.add(function)
            for resource in resources:
                if isinstance(resource, str) and "*" in resource:
                    writes = {a for a in actions if a.startswith("dynamodb:") and "Get" not in a}
                    assert not writes - {"dynamodb:Query", "dynamodb:Scan"}, f"{function}: {statement}"
    assert writers == {
        "IngestFunction",
        "CanvasQueueFunction",
        "EvaluateFunction",
        "EvaluateWorkerFunction",
        "NotifyFunction",
        "SesEventsFunction",
        "RosterImportFunction",
        "ConsoleFunction",
        "RefusalSweepFunction",
    }


def _grants(cfn: dict[str, Any], action: str, resource: str) -> set[str]:
    """The functions whose role allows ``action`` on (something of) the logical id ``resource``."""
    found = set()
    for function, role in _function_roles(cfn).items():
        for statement in _role_statements(cfn, role):
            if action in _as_list(statement["Action"]) and any(
                resource in _names(r) for r in _as_list(statement.get("Resource", []))
            ):
                found.add(function)
    return found


def test_audit_keys_and_checkpoints_least_privilege(cfn: dict[str, Any]) -> None:
    """The writers derive chain keys (GenerateMac); only the checkpoint function signs and
    writes checkpoints; the console verifies them; nobody may delete or re-lock one."""
    writers = _grants(cfn, "dynamodb:PutItem", "AuditTable")
    assert _grants(cfn, "kms:GenerateMac", "AuditChainKey") == writers
    assert _grants(cfn, "kms:Sign", "AuditCheckpointKey") == {"AuditCheckpointFunction"}
    assert _grants(cfn, "s3:PutObject", "AuditCheckpointBucket") == {"AuditCheckpointFunction"}
    assert _grants(cfn, "kms:Verify", "AuditCheckpointKey") == {"ConsoleFunction"}
    assert _grants(cfn, "s3:GetObject", "AuditCheckpointBucket") == {"ConsoleFunction"}
    assert _grants(cfn, "s3:ListBucket", "AuditCheckpointBucket") == {"ConsoleFunction"}
    assert "AuditCheckpointFunction" not in writers
    for action in (
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "s3:BypassGovernanceRetention",
        "s3:PutBucketObjectLockConfiguration",
        "kms:ScheduleKeyDeletion",
    ):
        assert not _grants(cfn, action, "AuditCheckpointBucket") | _grants(cfn, action, "AuditCheckpointKey")
    chain = cfn["Resources"]["AuditChainKey"]["Properties"]
    assert (chain["KeySpec"], chain["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    signing = cfn["Resources"]["AuditCheckpointKey"]["Properties"]
    assert (signing["KeySpec"], signing["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")


def test_checkpoint_bucket_locks_each_object_in_compliance_mode(cfn: dict[str, Any]) -> None:
    props = cfn["Resources"]["AuditCheckpointBucket"]["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    lock = props["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"] == {
        "Mode": "COMPLIANCE",
        "Days": {"Ref": "AuditCheckpointRetentionDays"},
    }
    assert "LifecycleConfiguration" not in props  # nothing may expire a locked checkpoint early
    schedule = _of_type(cfn, "AWS::Scheduler::Schedule")["AuditCheckpointFunctionHourlyCheckpoint"]
    assert _HOURLY_CRON.fullmatch(schedule["Properties"]["ScheduleExpression"])


_HOURLY_CRON = re.compile(r"cron\(\d+ \* \* \* \? \*\)")


# -- the resolver ------------------------------------------------------------------------------


def test_resolver() -> None:
    refs = {"Table": "stack-Table"}
    attrs = {("Table", "Arn"): "arn:aws:dynamodb:us-east-1:123456789012:table/stack-Table"}
    params = {"Zone": "America/Chicago"}
    assert resolve({"Ref": "Table"}, refs, attrs, params) == "stack-Table"
    assert resolve({"Ref": "Zone"}, refs, attrs, params) == "America/Chicago"
    assert resolve({"Fn::GetAtt": ["Table", "Arn"]}, refs, attrs, params).endswith("table/stack-Table")
    assert resolve({"Fn::GetAtt": "Table.Arn"}, refs, attrs, params).endswith("table/stack-Table")
    assert (
        resolve({"Fn::Sub": "${Table.Arn}/index/due"}, refs, attrs, params)
        == "arn:aws:dynamodb:us-east-1:123456789012:table/stack-Table/index/due"
    )
    assert (
        resolve(
            {"Fn::Sub": "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Zone}"},
            refs,
            attrs,
            params,
        )
        == "arn:aws:x:us-east-1:123456789012:America/Chicago"
    )
    assert resolve({"Fn::Sub": ["${A}-${Table}", {"A": {"Ref": "Zone"}}]}, refs, attrs, params) == (
        "America/Chicago-stack-Table"
    )
    assert resolve({"Fn::Join": ["/", ["a", {"Ref": "Table"}]]}, refs, attrs, params) == "a/stack-Table"
    assert resolve({"Fn::Sub": "${AWS::StackName}"}, refs, attrs, {"AWS::StackName": "s"}) == "s"
    assert resolve({"Fn::Sub": "${!Literal}"}, refs, attrs, params) == "${Literal}"
    assert resolve(
        {"a": [{"Ref": "AWS::NoValue"}, 1], "b": {"Ref": "AWS::NoValue"}}, refs, attrs, params
    ) == {"a": [1]}
    with pytest.raises(KeyError):
        resolve({"Ref": "Missing"}, refs, attrs, params)
