"""The cost model's arithmetic (``bench/cost_model.py``) on fixed inputs: item sizes by AWS's rules,
request-unit rounding, index writes per projection, and the month's lines."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.cost import _load_template
from bench.cost_model import (
    GB,
    MB_PER_VCPU,
    PRICES,
    Assumptions,
    IndexSpec,
    Line,
    Measured,
    Rate,
    TableSpec,
    Workload,
    index_writes,
    item_size,
    lambda_seconds,
    monthly_lines,
    read_units,
    storage_bytes,
    table_specs,
    write_units,
)

REPO = Path(__file__).resolve().parents[2]


def s(text: str) -> dict[str, str]:
    return {"S": text}


# -- item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)


def test_strings_are_name_plus_utf8_value() -> None:
    assert item_size({"pk": s("abc")}) == 5
    assert item_size({"n": s("é")}) == 3  # "é" is two UTF-8 bytes


def test_the_calculator_example_item_is_141_bytes() -> None:
    # The example of the ddbitemsizer tool (github.com/mikaelvesavuori/ddbitemsizer), which mimics
    # the online DynamoDB item size calculator: 141 bytes.
    item = {
        "itemType": s("SLOT"),
        "id": s("abc1231"),
        "hostName": s("Harry Mason"),
        "timeSlot": s("February 23, 1999"),
        "slotStatus": s("OPEN"),
        "createdAt": s("February 1, 1999"),
        "updatedAt": s("February 1, 1999"),
        "expiresAt": {"N": "2099"},
    }
    assert item_size(item) == 141


@pytest.mark.parametrize(
    ("number", "size"),
    [("2099", 3), ("12345", 4), ("0.001", 2), ("-100", 2), ("1700000000", 2), ("123.45", 4)],
)
def test_numbers_are_one_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert item_size({"x": {"N": number}}) == 1 + size


def test_maps_and_lists_have_three_bytes_plus_one_per_element() -> None:
    assert item_size({"m": {"M": {}}}) == 1 + 3
    assert item_size({"m": {"M": {"ab": s("xyz")}}}) == 1 + 3 + (2 + 3 + 1)
    assert item_size({"l": {"L": [s("a"), {"N": "7"}]}}) == 1 + 3 + (1 + 1) + (2 + 1)
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"ss": {"SS": ["ab", "c"]}}) == 2 + 3


# -- request units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)


def test_write_units_are_whole_kilobytes_at_least_one() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert write_units(3 * 1024) == 3


def test_read_units_are_4kb_steps_halved_when_eventually_consistent() -> None:
    assert read_units(3500, consistent=True) == 1  # "reading a 3,500-byte item" = a 4 KB item
    assert read_units(8 * 1024, consistent=True) == 2
    assert read_units(8 * 1024, consistent=False) == 1
    assert read_units(0, consistent=False) == 0.5
    # BatchGetItem rounds each item (1.5 KB + 6.5 KB = 4 KB + 8 KB), a Query the sum.
    each = read_units(1536, True) + read_units(6656, True)
    assert (each, read_units(1536 + 6656, True)) == (3, 2)


# -- index writes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html)

TABLE = TableSpec(
    "EnrollmentsTable",
    keys=("enrollment_key",),
    indexes=(
        IndexSpec("due", ("due_key", "wake_on"), "ALL"),
        IndexSpec("by_student", ("student_key",), "KEYS_ONLY"),
    ),
)
BASE = {
    "enrollment_key": s("d#c#s"),
    "student_key": s("d#s"),
    "due_key": s("d#p#00"),
    "wake_on": s("2026-09-01"),
}


def test_a_new_item_is_one_put_into_each_index_it_has_keys_for() -> None:
    writes = index_writes(TABLE, None, BASE)
    assert sorted((w.index, w.what) for w in writes) == [("by_student", "put"), ("due", "put")]


def test_a_non_key_change_rewrites_an_all_index_but_not_a_keys_only_one() -> None:
    new = {**BASE, "last_view_at": s("2026-09-02T10:00:00Z")}
    writes = index_writes(TABLE, BASE, new)
    assert [(w.index, w.what, w.size) for w in writes] == [("due", "update", item_size(new))]
    assert index_writes(TABLE, BASE, dict(BASE)) == []


def test_an_index_key_change_is_a_delete_and_a_put() -> None:
    new = {**BASE, "wake_on": s("2026-09-08")}
    writes = index_writes(TABLE, BASE, new)
    assert [(w.index, w.what) for w in writes] == [("due", "delete"), ("due", "put")]


def test_losing_an_index_key_is_a_delete_and_a_sparse_item_costs_nothing() -> None:
    ended = {k: v for k, v in BASE.items() if k != "wake_on"}
    assert [(w.index, w.what) for w in index_writes(TABLE, BASE, ended)] == [("due", "delete")]
    bare = {"enrollment_key": s("x")}
    assert index_writes(TABLE, bare, {**bare, "status": s("active")}) == []


def test_index_write_units_are_on_the_index_entry_size() -> None:
    big = {**BASE, "recent": s("x" * 3000)}
    (write,) = index_writes(TABLE, BASE, big)
    assert write.units == 3
    keys_only = TableSpec("T", ("enrollment_key",), (IndexSpec("due", ("due_key", "wake_on"), "KEYS_ONLY"),))
    moved = {**big, "wake_on": s("2026-09-09")}
    assert [w.units for w in index_writes(keys_only, big, moved)] == [1, 1]  # keys only: small entries


def test_storage_counts_100_bytes_per_item_and_per_index_entry() -> None:
    keys_entry = {k: BASE[k] for k in ("enrollment_key", "student_key")}
    assert storage_bytes(TABLE, BASE) == (item_size(BASE) + 100) * 2 + item_size(keys_entry) + 100


def test_the_templates_tables_and_projections_are_read() -> None:
    specs = table_specs(_load_template(REPO / "template.yaml"))
    enrollments = specs["EnrollmentsTable"]
    assert enrollments.keys == ("enrollment_key",)
    assert {i.name: i.projection for i in enrollments.indexes} == {
        "due": "KEYS_ONLY",
        "by_student": "KEYS_ONLY",
        "held": "KEYS_ONLY",
    }
    assert specs["EventsTable"].ttl_attribute == "expires_at"
    assert all(spec.pitr for spec in specs.values())


# -- the month


def _measured(**overrides: object) -> Measured:
    fields: dict[str, object] = {
        "ingest_per_event": Rate(rru=1.0, wru=2.0, index_wru=0.5),
        "ingest_cpu_per_webhook": 0.1,
        "ingest_calls_per_webhook": 10.0,
        "webhook_body_bytes": 40_000.0,
        "evaluate_per_due": Rate(rru=1.0, wru=4.0, aws_calls=1.0, cpu_seconds=0.005),
        "evaluate_per_decision": Rate(wru=3.0, aws_calls=3.0),
        "due_per_enrollment_day": 0.1,
        "decisions_per_enrollment_day": 0.01,
        "emails_per_decision": 1.0,
        "notify_per_email": Rate(rru=2.0, wru=8.0, aws_calls=6.0, cpu_seconds=0.02),
        "notify_batch": 10,
        "roster_per_enrollment": Rate(),
        "raw_event_bytes": 1000.0,
        "enrollment_bytes": 4000.0,
        "outbox_bytes_per_decision": 0.0,
        "audit_bytes_per_decision": 0.0,
        "log_bytes": {},
        "memory_mb": {
            "IngestFunction": 512,
            "EvaluateFunction": 512,
            "NotifyFunction": 512,
            "RosterImportFunction": 2048,
        },
    }
    fields.update(overrides)
    return Measured(**fields)  # type: ignore[arg-type]


def _line(lines: list[Line], service: str, what: str) -> Line:
    (found,) = [line for line in lines if line.service == service and line.what.startswith(what)]
    return found


def test_the_issue_workload_is_21_million_events_in_210_thousand_webhooks() -> None:
    w = Workload()
    assert w.events == 21_000_000
    assert w.webhooks == 210_000
    # 180 school days a year, a 30-day dedupe window: 30/365 of them kept in DynamoDB...
    assert w.events_kept == pytest.approx(100_000 * 10 * 180 * 30 / 365)
    # ...and 400 days of archive: every school day of a year, one object per webhook.
    assert w.webhooks_archived == pytest.approx(10_000 * 180)


def test_ingest_writes_are_events_times_measured_units_at_the_on_demand_price() -> None:
    lines = monthly_lines(_measured(), Workload(), Assumptions())
    writes = _line(lines, "DynamoDB writes", "ingest")
    assert writes.quantity == pytest.approx(42_000_000)
    assert writes.usd == pytest.approx(42 * 0.625)
    reads = _line(lines, "DynamoDB reads", "ingest")
    assert reads.usd == pytest.approx(21 * 0.125)


def test_storage_and_backups_follow_the_ttl_window() -> None:
    lines = monthly_lines(_measured(), Workload(raw_event_ttl_days=400), Assumptions())
    stored = _line(lines, "DynamoDB storage", "events")
    expected = (100_000 * 10 * 180 * 1000 + 100_000 * 4000) / GB
    assert stored.quantity == pytest.approx(expected)
    assert _line(lines, "DynamoDB PITR", "").usd == pytest.approx(expected * 0.20)
    shorter = _line(monthly_lines(_measured(), Workload(), Assumptions()), "DynamoDB storage", "")
    assert shorter.quantity < stored.quantity / 10


def test_lambda_seconds_scale_cpu_by_the_memory_share_of_a_vcpu_and_add_call_latency() -> None:
    assert lambda_seconds(0.1, 10, 512, 0.008) == pytest.approx(0.1 * MB_PER_VCPU / 512 + 0.08)
    assert lambda_seconds(0.1, 0, 4096, 0.008) == pytest.approx(0.1)  # more than a vCPU: no faster
    lines = monthly_lines(_measured(), Workload(), Assumptions())
    compute = _line(lines, "Lambda compute", "IngestFunction")
    seconds = 210_000 * (0.1 * MB_PER_VCPU / 512 + 10 * 0.008)
    assert compute.quantity == pytest.approx(seconds * 0.5)  # 512 MB = 0.5 GB
    assert compute.usd == pytest.approx(seconds * 0.5 * PRICES["lambda_arm_gb_s"].usd)


def test_http_api_is_metered_per_512_kb_and_ses_per_email() -> None:
    small = monthly_lines(_measured(), Workload(), Assumptions())
    large = monthly_lines(_measured(webhook_body_bytes=600 * 1024.0), Workload(), Assumptions())
    assert _line(small, "HTTP API", "").quantity == 210_000
    assert _line(large, "HTTP API", "").quantity == 420_000
    emails = _line(small, "SES", "").quantity
    assert emails == pytest.approx(100_000 * 30.4 * 0.01)
    notify = _line(small, "Lambda requests", "NotifyFunction")
    assert notify.quantity == math.ceil(emails / 10)


def test_every_price_names_its_source() -> None:
    assert PRICES["dynamodb_wru"].usd == pytest.approx(0.625e-6)
    assert PRICES["dynamodb_rru"].usd == pytest.approx(0.125e-6)
    assert all(p.source.startswith("https://aws.amazon.com/") for p in PRICES.values())


def test_the_planner_runs_hourly_and_each_shard_is_one_sqs_message_and_one_worker_run() -> None:
    lines = monthly_lines(_measured(), Workload(), Assumptions())
    # 0.1 due per enrollment-day: 10,000 due keys a day, 20 shards of 500.
    shards = 30.4 * 20
    assert _line(lines, "Lambda requests", "EvaluateFunction").quantity == pytest.approx(24 * 30.4 + shards)
    assert _line(lines, "EventBridge Scheduler", "").quantity == pytest.approx(24 * 30.4)
    assert _line(lines, "SQS", "").quantity == pytest.approx(shards * 2 + math.ceil(shards / 10))


def test_an_s3_archive_is_one_put_per_webhook_and_a_year_of_gzip_bodies() -> None:
    plain = monthly_lines(_measured(), Workload(), Assumptions())
    assert _line(plain, "S3", "").usd == 0.0
    small = _measured(archive_bytes_per_webhook=4000.0, archive_puts_per_webhook=1.0)
    lines = monthly_lines(small, Workload(), Assumptions())
    assert _line(lines, "S3", "raw archive PUTs").usd == pytest.approx(210_000 * 0.005e-3)
    kept = 210_000 / 21 * 180 * 4000.0
    stored = _line(lines, "S3", "raw archive storage")
    # Under 128 KB: the lifecycle transitions nothing, so Standard for the whole retention.
    assert stored.quantity == pytest.approx(kept / GB)
    assert stored.usd == pytest.approx(kept * 0.023 / GB)
    large = _measured(archive_bytes_per_webhook=200 * 1024.0, archive_puts_per_webhook=1.0)
    big = _line(monthly_lines(large, Workload(), Assumptions()), "S3", "raw archive storage")
    kept = 210_000 / 21 * 180 * 200 * 1024.0
    hot = kept * 30 / 365
    transitions = 210_000 * 0.01e-3
    assert big.usd == pytest.approx((hot * 0.023 + (kept - hot) * 0.0125) / GB + transitions)


def test_the_archive_put_waits_as_long_as_an_ses_call() -> None:
    without = _line(monthly_lines(_measured(), Workload(), Assumptions()), "Lambda compute", "IngestFunction")
    measured = _measured(
        archive_bytes_per_webhook=4000.0, archive_puts_per_webhook=1.0, ingest_calls_per_webhook=11.0
    )
    archived = _line(monthly_lines(measured, Workload(), Assumptions()), "Lambda compute", "IngestFunction")
    # One of the 11 calls is the PUT: 30 ms instead of a DynamoDB call's 8 ms.
    assert archived.quantity - without.quantity == pytest.approx(210_000 * 0.030 * 0.5)


def test_metrics_lines_of_an_invocation_count_as_its_log_bytes_and_stay_off_the_output() -> None:
    """Powertools Metrics prints EMF records on stdout, which CloudWatch Logs bills as log
    ingestion: the cost run counts them for the invoked function and keeps them off its own
    output, and lets its progress lines (written in pieces) through at once."""
    import io
    from types import SimpleNamespace

    from onpace_local.stack import _INVOKED

    from bench.cost import Phase, _CountingMetrics

    phase = Phase("ingest")
    meter = SimpleNamespace(phase=phase)
    out = io.StringIO()
    stream = _CountingMetrics(meter, out)  # type: ignore[arg-type]
    stream.write("  evaluate cps 2026-08-24")
    assert out.getvalue() == "  evaluate cps 2026-08-24"
    record = '{"_aws":{"CloudWatchMetrics":[]},"EventsIngested":[100.0]}'
    token = _INVOKED.set("IngestFunction")
    try:
        stream.write(record[:10])
        stream.write(record[10:] + "\n")
    finally:
        _INVOKED.reset(token)
    stream.write(" done\n")
    assert out.getvalue() == "  evaluate cps 2026-08-24 done\n"
    assert phase.log_bytes["IngestFunction"] == len(record) + 1
    stream.write('{"not": "an invocation"}\n')  # outside any handler: the bench's own output
    assert out.getvalue().endswith('{"not": "an invocation"}\n')
