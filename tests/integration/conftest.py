"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onpace_local.gateway import GatewayHandle, serve_gateway
from onpace_local.stack import LocalStack


@pytest.fixture(scope="module")
def gateway(local_stack: LocalStack) -> Iterator[GatewayHandle]:
    """The local API Gateway stand-in in front of the real handlers, one per test module."""
    with serve_gateway(local_stack) as handle:
        yield handle
