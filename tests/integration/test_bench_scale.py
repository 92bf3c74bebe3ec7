"""The scale benchmark's parts (``bench/scale.py``): moto server in a process of its own, and one
evaluation day of cloned enrollments counted on the session's stack (a small size: the 100,000
run is ``python -m bench.run scale``)."""

from __future__ import annotations

import urllib.error
import urllib.request

import boto3
import pytest
from onpace_local.moto_server import start_moto_process
from onpace_local.stack import LocalStack

from bench.scale import measure_day, sizes_up_to

pytestmark = pytest.mark.integration


def test_moto_in_a_process_of_its_own_serves_and_stops() -> None:
    handle = start_moto_process()
    process = handle.server.process
    try:
        assert process.is_alive() and process.pid is not None
        client = boto3.client(
            "dynamodb",
            endpoint_url=handle.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
        # Its own state, not this process's moto backends (the session's stack holds no table "t").
        assert client.list_tables()["TableNames"] == ["t"]
    finally:
        handle.stop()
    assert not process.is_alive()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{handle.endpoint_url}/moto-api/config", timeout=2)


def test_one_day_of_cloned_enrollments_costs_one_update_each_and_a_read_per_100(
    local_stack: LocalStack,
) -> None:
    for function in ("EvaluateFunction", "EvaluateWorkerFunction"):
        local_stack.handler(function)
    run = measure_day(local_stack, 120)

    assert (run.enrollments, run.due, run.shards) == (120, 120, 1)
    assert run.counts.of("UpdateItem") == 120  # one per enrollment whose state changed
    assert run.counts.of("BatchGetItem") == 2  # ceil(120 / 100)
    assert run.counts.of("Scan") == 0
    # Program item + due Query, then the shard's reads: 1 read per 100 due plus one per shard.
    assert run.reads == 1 + 1 + 2
    assert run.per_due() == pytest.approx(124 / 120)
    assert "120 due in 1 shards" in run.line()


def test_sizes_up_to() -> None:
    assert sizes_up_to(100_000) == [1_000, 10_000, 100_000]
    assert sizes_up_to(20_000) == [1_000, 10_000]
    assert sizes_up_to(500) == [500]
