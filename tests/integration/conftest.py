"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onpace_local.gateway import GatewayHandle, serve_gateway
from onpace_local.iam import audit_overwrites, unpermitted
from onpace_local.stack import LocalStack


@pytest.fixture(scope="module")
def gateway(local_stack: LocalStack) -> Iterator[GatewayHandle]:
    """The local API Gateway stand-in in front of the real handlers, one per test module."""
    with serve_gateway(local_stack) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _calls_allowed_by_the_template(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every integration test is also an IAM test: each DynamoDB call a handler makes must be
    allowed by that function's role in template.yaml (moto itself does not enforce IAM); and
    every audit write a handler makes must be a put on condition its ``seq`` does not exist
    (IAM cannot require that condition)."""
    if "local_stack" not in request.fixturenames:
        yield
        return
    stack: LocalStack = request.getfixturevalue("local_stack")
    with stack.recording_calls() as calls:
        yield
    problems = unpermitted(stack.stack, calls)
    assert not problems, "template.yaml does not allow:\n  " + "\n  ".join(problems)
    overwrites = audit_overwrites(stack.stack, calls)
    assert not overwrites, "audit rows must only be added:\n  " + "\n  ".join(overwrites)
