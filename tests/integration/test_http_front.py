"""The HTTP front under load: the load benchmark at one tiny rate, and the template's throttling."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from onpace_local.gateway import GatewayHandle, throttle_limits
from onpace_local.stack import LocalStack

from bench.district import setup_district
from bench.load import measure

pytestmark = pytest.mark.integration


def test_load_bench_runs_and_loses_nothing(local_stack: LocalStack, gateway: GatewayHandle) -> None:
    """``python -m bench.run load`` at one small rate: every request answered, every event read back."""
    district, secret = setup_district(local_stack, 10)
    report = measure(gateway.url, district, secret, rates=[4.0], seconds=1.0, batch=10, students=10)
    (step,) = report.steps
    assert step.sent == 4
    assert step.statuses == {202: 4}
    assert all(latency > 0 for latency in step.latencies) and step.p99 >= step.p50 > 0
    assert report.unloaded > 0
    # Three requests one at a time, then four at the rate: 70 events, all stored.
    assert report.accepted_events == 70 and step.events_accepted == 40
    assert report.stored_accepted == 70 and report.missing == []
    assert report.refused_events == 0 and report.stored_refused == 0


def test_template_throttling_is_read_from_the_stage(local_stack: LocalStack) -> None:
    limits = throttle_limits(local_stack.stack.template, local_stack.stack.resolve)
    assert limits == {"OnPaceApi": (50.0, 100)}  # template.yaml's parameter defaults


def _about(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"{url}/xapi/about", timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_flood_of_one_route_gets_429s(gateway: GatewayHandle) -> None:
    """Above the route's burst, API Gateway's 429 — before the function runs."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(lambda _: _about(gateway.url), range(240)))
    elapsed = time.monotonic() - started
    statuses = [status for status, _ in answers]
    throttled = [body for status, body in answers if status == 429]
    assert set(statuses) <= {200, 429}
    assert throttled, "240 requests at once never met the burst limit of 100"
    assert json.loads(throttled[0]) == {"message": "Too Many Requests"}
    # The burst, plus what the rate of 50 a second refilled while the flood lasted.
    assert 100 <= statuses.count(200) <= 100 + 50 * elapsed + 1
