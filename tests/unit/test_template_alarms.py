"""The observability configuration of template.yaml: log groups, alarms, and every handler
decorated with Powertools Metrics and Tracer."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import onpace_core.observability as observability
import pytest
from onpace_local.template import function_specs, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
ENV = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]


def _of_type(kind: str) -> dict[str, Any]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def _getatt_names(value: Any) -> set[str]:
    """Logical ids that ``value`` refers to with GetAtt (anywhere inside it)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= _getatt_names(item)
    elif isinstance(value, list):
        for item in value:
            found |= _getatt_names(item)
    return found


def _dead_letter_queues() -> set[str]:
    """Queues the template sends failures to: redrive targets, stream/async on-failure
    destinations and schedule dead-letter configs."""
    queues: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("RedrivePolicy", "DeadLetterConfig", "OnFailure"):
                    queues.update(_getatt_names(item))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(RESOURCES)
    sqs = set(_of_type("AWS::SQS::Queue"))
    return {q for q in queues if q in sqs} | {q for q in sqs if q.endswith("DLQ")}


def test_every_dead_letter_queue_has_a_depth_alarm() -> None:
    dlqs = _dead_letter_queues()
    assert {"NotifyDLQ", "EvaluateDLQ", "CanvasLiveEventsDLQ"} <= dlqs
    watched = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in _of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Properties"]["Dimensions"]
        if dimension["Name"] == "QueueName"
    }
    assert dlqs <= watched, f"no depth alarm on {sorted(dlqs - watched)}"


def _alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    props = alarm["Properties"]
    if "MetricName" in props:
        return [props]
    return [q["MetricStat"]["Metric"] for q in props.get("Metrics", []) if "MetricStat" in q]


def test_custom_metric_alarms_name_what_the_handlers_emit() -> None:
    """Namespace and the ``service`` dimension as Powertools writes them, and metric names the
    observability package defines (a renamed metric would leave an alarm watching nothing)."""
    emitted = {
        value for name, value in vars(observability).items() if name.isupper() and isinstance(value, str)
    }
    custom = [
        metric
        for alarm in _of_type("AWS::CloudWatch::Alarm").values()
        for metric in _alarm_metrics(alarm)
        if metric["Namespace"] != "AWS/SQS"
    ]
    assert {m["MetricName"] for m in custom} == {
        "ProgramDaysEvaluated",
        "ProgramPlansFailed",
        "Decisions",
        "NoticesSent",
        "SesSendingBlocked",
        "AuditCheckpointRuns",
    }
    for metric in custom:
        assert metric["Namespace"] == ENV["POWERTOOLS_METRICS_NAMESPACE"]
        assert metric["Dimensions"] == [{"Name": "service", "Value": ENV["POWERTOOLS_SERVICE_NAME"]}]
        assert metric["MetricName"] in emitted


def test_a_day_without_evaluation_is_breaching() -> None:
    props = RESOURCES["EvaluationMissedAlarm"]["Properties"]
    assert props["TreatMissingData"] == "breaching"
    assert props["Period"] * props["EvaluationPeriods"] == 24 * 3600
    assert props["DatapointsToAlarm"] == props["EvaluationPeriods"]


def test_two_hours_without_an_audit_checkpoint_are_breaching() -> None:
    props = RESOURCES["AuditCheckpointMissedAlarm"]["Properties"]
    assert props["TreatMissingData"] == "breaching"
    assert props["Period"] * props["EvaluationPeriods"] == 2 * 3600
    assert props["DatapointsToAlarm"] == props["EvaluationPeriods"]


def test_sends_are_compared_with_decisions_by_metric_math() -> None:
    queries = RESOURCES["SendsBelowDecisionsAlarm"]["Properties"]["Metrics"]
    (expression,) = [q for q in queries if q.get("ReturnData")]
    assert "sent" in expression["Expression"] and "decisions" in expression["Expression"]


def test_every_alarm_notifies_the_operators() -> None:
    for name, alarm in _of_type("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OperatorAlarmsTopic"}], name


def test_every_function_has_a_log_group_with_retention() -> None:
    all_groups = _of_type("AWS::Logs::LogGroup").values()
    # Every log group keeps its entries as long as the stack says (the API's access logs too).
    assert all(g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in all_groups)
    groups = {
        group["Properties"]["LogGroupName"]["Fn::Sub"]: group["Properties"]
        for group in all_groups
        if "LogGroupName" in group["Properties"]
    }
    for function in _of_type("AWS::Serverless::Function"):
        props = groups.get(f"/aws/lambda/${{{function}}}")
        assert props is not None, f"{function} has no log group"
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_fallback_namespace_is_the_templates() -> None:
    assert ENV["POWERTOOLS_METRICS_NAMESPACE"] == observability.NAMESPACE


def test_traces_keep_no_responses_or_errors() -> None:
    assert ENV["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert ENV["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == "Active"


def _decorators(path: Path, name: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return [ast.unparse(d) for d in function.decorator_list]


SPECS = {spec.handler: spec for spec in function_specs(ROOT / "template.yaml")}


@pytest.mark.parametrize("handler", sorted(SPECS))
def test_every_handler_has_metrics_and_tracer(handler: str) -> None:
    spec = SPECS[handler]
    decorators = _decorators(spec.code_dir / f"{spec.module}.py", spec.attribute)
    assert decorators[0].startswith("metrics.log_metrics"), decorators  # outermost: flushes last
    assert "tracer.capture_lambda_handler" in decorators
