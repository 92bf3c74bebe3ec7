"""Where ``onpace load`` writes: the tables' endpoint is chosen as botocore chooses DynamoDB's."""

from __future__ import annotations

from onpace_local.load import resolve_target

TABLES = {
    "PROGRAMS_TABLE": "p-table",
    "ENROLLMENTS_TABLE": "e-table",
    "AUDIT_TABLE": "a-table",
    "AWS_REGION": "us-east-1",
}


def test_dynamodb_endpoint_variable_wins_over_the_general_one() -> None:
    env = TABLES | {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2",
    }
    target = resolve_target(stack=None, endpoint_url=None, region=None, env=env)
    assert target.endpoint_url == "http://127.0.0.1:2"
    assert "at http://127.0.0.1:2" in target.describe()


def test_general_endpoint_variable_when_dynamodb_has_none() -> None:
    env = TABLES | {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    assert (
        resolve_target(stack=None, endpoint_url=None, region=None, env=env).endpoint_url
        == "http://127.0.0.1:1"
    )


def test_the_flag_wins_over_both_variables() -> None:
    env = TABLES | {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2",
    }
    target = resolve_target(stack=None, endpoint_url="http://127.0.0.1:3", region=None, env=env)
    assert target.endpoint_url == "http://127.0.0.1:3"


def test_no_endpoint_at_all_means_aws() -> None:
    assert resolve_target(stack=None, endpoint_url=None, region=None, env=TABLES).endpoint_url is None
