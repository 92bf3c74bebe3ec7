"""The arithmetic of the cost model: DynamoDB item sizes and request units, index writes, prices,
and the monthly bill from measured per-unit figures. Pure: no AWS, no moto (``bench/cost.py``
measures; ``tests/unit/test_cost_model.py`` checks this).

Rules, from the AWS documentation (read 2026-12-03):

- Item size (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
  the sum of attribute names and values. A string is its UTF-8 bytes; a number about 1 byte per
  two significant digits plus 1 (leading and trailing zeroes trimmed); binary its raw bytes;
  null and Boolean 1 byte; a List or Map 3 bytes plus its elements, each element 1 byte more
  (a map element's name counts like an attribute name). Storage adds 100 bytes per item.
- Request units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
  https://aws.amazon.com/dynamodb/pricing/on-demand/): a write is 1 WRU per KB
  of the item, rounded up (an UpdateItem or a PutItem that replaces an item is charged on the
  larger of the item before and after; a failed conditional write still costs, on the stored
  item); a transactional write 2x. A strongly consistent read is 1 RRU per 4 KB, eventually
  consistent half, transactional 2x; BatchGetItem rounds each item up, Query rounds the sum of
  the items it reads.
- Global secondary indexes
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes):
  an item that gains the index keys is one put into the index; one that loses them one delete;
  a change of an index key a delete and a put; a change of a projected non-key attribute one
  write; anything else nothing. Each index write is charged on the size of the index entry
  (keys plus projected attributes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KB = 1024
WRITE_UNIT_BYTES = 1 * KB
READ_UNIT_BYTES = 4 * KB
STORAGE_OVERHEAD = 100  # bytes per item and per index entry
GB = 1024**3

# ---------------------------------------------------------------------------------------------
# Prices, us-east-1, USD, list prices without free tiers (an account at this scale has spent them
# on its other work, and the model should not depend on being the only workload).
#
# Read 2026-12-03 from the stored copies of the AWS pricing pages named on each entry. Those
# copies carry each page's text but not always its price tables (rendered by script); a figure
# that could not be read from the page itself is marked ``checked="list price"`` and is the
# published list price of the date on the entry, to be re-checked on the page before quoting.

PRICES_READ = "2026-12-03"


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    source: str
    checked: str = "page"


PRICES: dict[str, Price] = {
    # DynamoDB on-demand, Standard table class: halved on 2024-11-01 (What's New, "Amazon
    # DynamoDB reduces prices for on-demand throughput by 50%"); $0.625 / $0.125 confirmed by
    # https://airbyte.com/data-engineering-resources/dynamodb-pricing (2025-07-21).
    "dynamodb_wru": Price(
        0.625e-6, "write request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/"
    ),
    "dynamodb_rru": Price(
        0.125e-6, "read request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/"
    ),
    "dynamodb_storage": Price(
        0.25, "GB-month", "https://aws.amazon.com/dynamodb/pricing/on-demand/", "list price"
    ),
    # Continuous backups (PITR) are charged on the table size; template.yaml turns them on everywhere.
    "dynamodb_pitr": Price(
        0.20, "GB-month", "https://aws.amazon.com/dynamodb/pricing/on-demand/", "list price"
    ),
    "lambda_arm_gb_s": Price(
        0.0000133334, "GB-second (arm64)", "https://aws.amazon.com/lambda/pricing/", "list price"
    ),
    "lambda_request": Price(0.20e-6, "request", "https://aws.amazon.com/lambda/pricing/", "list price"),
    # HTTP API: $1.00 per million for the first 300 million a month, metered per 512 KB.
    "http_api_request": Price(
        1.00e-6, "request (per 512 KB)", "https://aws.amazon.com/api-gateway/pricing/", "list price"
    ),
    "ses_email": Price(0.10e-3, "email", "https://aws.amazon.com/ses/pricing/", "list price"),
    "sqs_request": Price(
        0.40e-6, "request (standard, per 64 KB)", "https://aws.amazon.com/sqs/pricing/", "list price"
    ),
    "scheduler_invocation": Price(
        1.00e-6, "invocation", "https://aws.amazon.com/eventbridge/pricing/", "list price"
    ),
    "logs_ingest": Price(0.50, "GB ingested", "https://aws.amazon.com/cloudwatch/pricing/", "list price"),
    "xray_trace": Price(5.00e-6, "trace recorded", "https://aws.amazon.com/xray/pricing/", "list price"),
    "secret_month": Price(
        0.40, "secret-month", "https://aws.amazon.com/secrets-manager/pricing/", "list price"
    ),
    "secret_call": Price(
        0.05e-4, "API call", "https://aws.amazon.com/secrets-manager/pricing/", "list price"
    ),
    "s3_storage": Price(0.023, "GB-month", "https://aws.amazon.com/s3/pricing/", "list price"),
    # The raw archive (RawArchiveBucket): Standard-IA after 30 days for objects of 128 KB or more
    # (S3 lifecycle transitions nothing smaller by default since 2024-09, and IA bills any object
    # as at least 128 KB); a transition is a request of its own.
    "s3_ia_storage": Price(0.0125, "GB-month", "https://aws.amazon.com/s3/pricing/", "list price"),
    "s3_ia_transition": Price(
        0.01e-3, "lifecycle transition request", "https://aws.amazon.com/s3/pricing/", "list price"
    ),
    "s3_put": Price(0.005e-3, "PUT request", "https://aws.amazon.com/s3/pricing/", "list price"),
}

# S3's default lifecycle minimum for a transition (``TransitionDefaultMinimumObjectSize``
# all_storage_classes_128K): a smaller archive object stays in Standard until it expires.
S3_TRANSITION_MIN_BYTES = 128 * KB

# Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
MB_PER_VCPU = 1769


# ---------------------------------------------------------------------------------------------
# Item sizes


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").lower().split("e")[0].replace(".", "").strip("0")
    return max(1, math.ceil(len(digits) / 2)) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Size in bytes of one DynamoDB attribute value (``{"S": ...}``, ``{"M": {...}}``…), name excluded."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return _number_size(str(data))
    if kind == "B":
        return len(data) if isinstance(data, bytes | bytearray) else len(str(data).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in data)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in data)
    if kind == "BS":
        return sum(len(v) for v in data)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Size in bytes of an item in DynamoDB's JSON form (what the low-level API sends), 0 for none."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """WRU of a standard write of an item of ``size`` bytes (at least 1)."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    """RRU of reading ``size`` bytes at once (one item, or a Query's sum): 4 KB steps, at least one."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


# ---------------------------------------------------------------------------------------------
# Tables and their global secondary indexes, from template.yaml


@dataclass(frozen=True)
class IndexSpec:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    keys: tuple[str, ...]
    indexes: tuple[IndexSpec, ...] = ()
    pitr: bool = False
    ttl_attribute: str | None = None


def table_specs(template: Mapping[str, Any]) -> dict[str, TableSpec]:
    """Every ``AWS::DynamoDB::Table`` of a (parsed) template, by logical id."""
    specs: dict[str, TableSpec] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        properties = resource.get("Properties", {})
        indexes = tuple(
            IndexSpec(
                name=index["IndexName"],
                keys=tuple(k["AttributeName"] for k in index["KeySchema"]),
                projection=index.get("Projection", {}).get("ProjectionType", "ALL"),
                included=tuple(index.get("Projection", {}).get("NonKeyAttributes", ())),
            )
            for index in properties.get("GlobalSecondaryIndexes", ())
        )
        ttl = properties.get("TimeToLiveSpecification") or {}
        specs[logical_id] = TableSpec(
            logical_id=logical_id,
            keys=tuple(k["AttributeName"] for k in properties["KeySchema"]),
            indexes=indexes,
            pitr=bool(
                (properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
            ),
            ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
        )
    return specs


Item = Mapping[str, Mapping[str, Any]]


def index_entry(table: TableSpec, index: IndexSpec, item: Item | None) -> dict[str, Any] | None:
    """The item as the index holds it (None when the item lacks an index key: sparse)."""
    if not item or any(k not in item for k in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    wanted = {*table.keys, *index.keys, *(index.included if index.projection == "INCLUDE" else ())}
    return {k: v for k, v in item.items() if k in wanted}


@dataclass(frozen=True)
class IndexWrite:
    index: str
    what: str  # put | delete | update
    size: int

    @property
    def units(self) -> int:
        return write_units(self.size)


def index_writes(table: TableSpec, old: Item | None, new: Item | None) -> list[IndexWrite]:
    """The writes to each global secondary index that changing ``old`` into ``new`` costs."""
    writes: list[IndexWrite] = []
    for index in table.indexes:
        before, after = index_entry(table, index, old), index_entry(table, index, new)
        if before is None and after is None:
            continue
        if before is None:
            writes.append(IndexWrite(index.name, "put", item_size(after)))
        elif after is None:
            writes.append(IndexWrite(index.name, "delete", item_size(before)))
        elif any(before.get(k) != after.get(k) for k in index.keys):
            writes.append(IndexWrite(index.name, "delete", item_size(before)))
            writes.append(IndexWrite(index.name, "put", item_size(after)))
        elif before != after:
            writes.append(IndexWrite(index.name, "update", max(item_size(before), item_size(after))))
    return writes


def storage_bytes(table: TableSpec, item: Item) -> int:
    """What one item takes in the table and its indexes, overhead included."""
    total = item_size(item) + STORAGE_OVERHEAD
    for index in table.indexes:
        entry = index_entry(table, index, item)
        if entry is not None:
            total += item_size(entry) + STORAGE_OVERHEAD
    return total


# ---------------------------------------------------------------------------------------------
# Measured figures -> a month


@dataclass
class Units:
    """DynamoDB work of some requests: request counts, RRU, WRU on the tables and on their indexes."""

    requests: int = 0
    rru: float = 0.0
    wru: int = 0
    index_wru: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    by_table: dict[str, float] = field(default_factory=dict)  # table -> WRU + index WRU

    def add(self, other: Units) -> None:
        self.requests += other.requests
        self.rru += other.rru
        self.wru += other.wru
        self.index_wru += other.index_wru
        for k, v in other.by_operation.items():
            self.by_operation[k] = self.by_operation.get(k, 0) + v
        for t, w in other.by_table.items():
            self.by_table[t] = self.by_table.get(t, 0.0) + w


@dataclass(frozen=True)
class Rate:
    """Per-unit DynamoDB and Lambda figures of one kind of work (per event, per due enrollment…)."""

    requests: float = 0.0
    rru: float = 0.0
    wru: float = 0.0  # tables and indexes together
    index_wru: float = 0.0  # of which on indexes
    aws_calls: float = 0.0  # every AWS call (DynamoDB, SES, Secrets Manager…): latency
    cpu_seconds: float = 0.0  # handler CPU in this process


def rate_of(units: Units, calls: int, cpu_seconds: float, n: float) -> Rate:
    return Rate(
        requests=units.requests / n,
        rru=units.rru / n,
        wru=(units.wru + units.index_wru) / n,
        index_wru=units.index_wru / n,
        aws_calls=calls / n,
        cpu_seconds=cpu_seconds / n,
    )


@dataclass(frozen=True)
class Workload:
    """How much happens in a month (the issue's figure: 10 events per enrollment per school day,
    in webhooks of 100)."""

    enrollments: int = 100_000
    events_per_school_day: int = 10
    school_days_per_month: float = 21.0  # a month in term: the month the bill is highest
    days_per_month: float = 30.4
    batch: int = 100
    raw_event_ttl_days: int = 30  # template.yaml RawEventTtlDays default: the dedupe window
    raw_archive_days: int = 400  # template.yaml RawArchiveDays default: the S3 archive
    school_days_per_year: int = 180
    time_zones: int = 1
    districts: int = 1
    sources_per_district: int = 1

    @property
    def events(self) -> float:
        return self.enrollments * self.events_per_school_day * self.school_days_per_month

    @property
    def webhooks(self) -> float:
        return self.events / self.batch

    def _school_days(self, days: int) -> float:
        return self.school_days_per_year * min(days, 365) / 365

    @property
    def events_kept(self) -> float:
        """Raw event items held at once: those of the school days inside the TTL window (the
        bench's events are all activity; quarantined events and inputs, kept longer, are few)."""
        return self.enrollments * self.events_per_school_day * self._school_days(self.raw_event_ttl_days)

    @property
    def webhooks_archived(self) -> float:
        """Archive objects held at once: a webhook's, for the school days inside ``raw_archive_days``."""
        return self.webhooks / self.school_days_per_month * self._school_days(self.raw_archive_days)


@dataclass(frozen=True)
class Measured:
    """Everything the model takes from measurement (``bench/cost.py`` fills it in)."""

    ingest_per_event: Rate
    ingest_cpu_per_webhook: float
    ingest_calls_per_webhook: float
    webhook_body_bytes: float
    evaluate_per_due: Rate  # the enrollment's own read and write, and its share of the due Query
    evaluate_per_decision: Rate  # outbox and audit
    due_per_enrollment_day: float
    decisions_per_enrollment_day: float
    emails_per_decision: float
    notify_per_email: Rate
    notify_batch: int  # stream records per invocation (template BatchSize)
    roster_per_enrollment: Rate  # a daily reload of an unchanged roster
    raw_event_bytes: float  # stored, with index entries and overhead
    enrollment_bytes: float
    outbox_bytes_per_decision: float
    audit_bytes_per_decision: float
    log_bytes: Mapping[str, float]  # function -> handler log bytes per invocation
    memory_mb: Mapping[str, int]  # function -> MemorySize
    decisions_source: str = ""
    # The raw archive: the size of a webhook's object in S3 (gzip JSON lines, measured) and the
    # PutObject calls per webhook (one; none when a webhook holds only duplicates). 0: no archive.
    archive_bytes_per_webhook: float = 0.0
    archive_puts_per_webhook: float = 0.0


@dataclass(frozen=True)
class Assumptions:
    """What is not measured here, stated: latency per AWS call, platform log lines, traces."""

    dynamodb_call_seconds: float = 0.008
    other_call_seconds: float = 0.030  # SES SendEmail, Secrets Manager, S3 PutObject
    platform_log_bytes: float = 350.0  # START, END and REPORT lines of one invocation
    traced_fraction: float = 1.0  # X-Ray: below 1 request a second the default rule samples all
    roster_loads_per_month: float = 30.4  # a district that uploads its export daily
    months_of_logs_kept: float = 1.0


@dataclass(frozen=True)
class Line:
    service: str
    what: str
    quantity: float
    unit: str
    usd: float


def lambda_seconds(rate_cpu: float, calls: float, memory_mb: int, call_seconds: float) -> float:
    """Billed duration: the handler's CPU slowed to the function's share of a vCPU, plus waiting on AWS."""
    cpu_share = min(1.0, memory_mb / MB_PER_VCPU)
    return rate_cpu / cpu_share + calls * call_seconds


def monthly_lines(
    m: Measured, w: Workload, a: Assumptions, prices: Mapping[str, Price] = PRICES
) -> list[Line]:
    """The month's bill, line by line."""
    p = {k: v.usd for k, v in prices.items()}
    lines: list[Line] = []
    events = w.events
    enrollment_days = w.enrollments * w.days_per_month
    due = enrollment_days * m.due_per_enrollment_day
    decisions = enrollment_days * m.decisions_per_enrollment_day
    emails = decisions * m.emails_per_decision
    roster_enrollments = w.enrollments * a.roster_loads_per_month

    # DynamoDB request units, by path.
    for what, count, rate in (
        ("ingest: events", events, m.ingest_per_event),
        ("evaluate: due enrollments", due, m.evaluate_per_due),
        ("evaluate: decisions (outbox, audit)", decisions, m.evaluate_per_decision),
        ("notify: emails", emails, m.notify_per_email),
        ("roster: daily reload", roster_enrollments, m.roster_per_enrollment),
    ):
        lines.append(
            Line("DynamoDB writes", what, count * rate.wru, "WRU", count * rate.wru * p["dynamodb_wru"])
        )
        lines.append(
            Line("DynamoDB reads", what, count * rate.rru, "RRU", count * rate.rru * p["dynamodb_rru"])
        )

    # DynamoDB storage at steady state, and its continuous backups.
    stored = (
        w.events_kept * m.raw_event_bytes
        + w.enrollments * m.enrollment_bytes
        + decisions * 12 * (m.outbox_bytes_per_decision + m.audit_bytes_per_decision)
    ) / GB
    lines.append(
        Line(
            "DynamoDB storage",
            "events (TTL window), enrollments, a year of outbox and audit",
            stored,
            "GB-month",
            stored * p["dynamodb_storage"],
        )
    )
    lines.append(
        Line(
            "DynamoDB PITR", "continuous backups of the same", stored, "GB-month", stored * p["dynamodb_pitr"]
        )
    )

    # Lambda.
    # The planner runs every hour (whatever zones are loaded); each program day's due keys go to
    # the worker in shards of 500, one SQS message and one worker invocation each.
    ticks = 24 * w.days_per_month
    shards = w.days_per_month * w.time_zones * max(1, math.ceil(due / w.days_per_month / 500))
    invocations = {
        "IngestFunction": w.webhooks,
        "EvaluateFunction": ticks + shards,
        "NotifyFunction": math.ceil(decisions / max(1, m.notify_batch)) if decisions else 0,
        "RosterImportFunction": a.roster_loads_per_month * w.districts,
    }
    seconds = {
        "IngestFunction": w.webhooks
        * lambda_seconds(m.ingest_cpu_per_webhook, 0, m.memory_mb["IngestFunction"], 0)
        + w.webhooks * (m.ingest_calls_per_webhook - m.archive_puts_per_webhook) * a.dynamodb_call_seconds
        + w.webhooks * m.archive_puts_per_webhook * a.other_call_seconds,
        "EvaluateFunction": due
        * lambda_seconds(
            m.evaluate_per_due.cpu_seconds,
            m.evaluate_per_due.aws_calls,
            m.memory_mb["EvaluateFunction"],
            a.dynamodb_call_seconds,
        )
        + decisions
        * lambda_seconds(
            m.evaluate_per_decision.cpu_seconds,
            m.evaluate_per_decision.aws_calls,
            m.memory_mb["EvaluateFunction"],
            a.dynamodb_call_seconds,
        ),
        "NotifyFunction": emails
        * lambda_seconds(
            m.notify_per_email.cpu_seconds,
            m.notify_per_email.aws_calls,
            m.memory_mb["NotifyFunction"],
            a.dynamodb_call_seconds,
        )
        + emails * a.other_call_seconds,
        "RosterImportFunction": roster_enrollments
        * lambda_seconds(
            m.roster_per_enrollment.cpu_seconds,
            m.roster_per_enrollment.aws_calls,
            m.memory_mb["RosterImportFunction"],
            a.dynamodb_call_seconds,
        ),
    }
    for function, count in invocations.items():
        gb_s = seconds[function] * m.memory_mb[function] / 1024
        lines.append(Line("Lambda requests", function, count, "requests", count * p["lambda_request"]))
        lines.append(Line("Lambda compute", function, gb_s, "GB-s", gb_s * p["lambda_arm_gb_s"]))

    body_units = max(1, math.ceil(m.webhook_body_bytes / (512 * KB)))
    lines.append(
        Line(
            "HTTP API",
            "webhooks",
            w.webhooks * body_units,
            "requests",
            w.webhooks * body_units * p["http_api_request"],
        )
    )
    lines.append(Line("SES", "emails", emails, "emails", emails * p["ses_email"]))
    # Shard messages: sent in batches of 10, received and deleted by the event source mapping.
    sqs = shards * 2 + math.ceil(shards / 10)
    lines.append(
        Line("SQS", "evaluation shards (send, receive, delete)", sqs, "requests", sqs * p["sqs_request"])
    )
    scheduler = ticks
    lines.append(
        Line(
            "EventBridge Scheduler",
            "hourly evaluation planner",
            scheduler,
            "invocations",
            scheduler * p["scheduler_invocation"],
        )
    )
    log_bytes = sum(
        count * (m.log_bytes.get(function, 0.0) + a.platform_log_bytes)
        for function, count in invocations.items()
    )
    log_gb = log_bytes / GB
    lines.append(
        Line(
            "CloudWatch Logs",
            "ingestion (handler lines + platform lines)",
            log_gb,
            "GB",
            log_gb * p["logs_ingest"],
        )
    )
    traces = sum(invocations.values()) * a.traced_fraction
    lines.append(
        Line("X-Ray", "Tracing: Active on every function", traces, "traces", traces * p["xray_trace"])
    )
    secrets = w.districts * w.sources_per_district
    lines.append(
        Line(
            "Secrets Manager",
            "webhook secrets (GetSecretValue cached 5 min)",
            secrets,
            "secret-months",
            secrets * p["secret_month"],
        )
    )
    if m.archive_bytes_per_webhook:
        puts = w.webhooks * (m.archive_puts_per_webhook or 1.0)
        lines.append(Line("S3", "raw archive PUTs (one per webhook)", puts, "requests", puts * p["s3_put"]))
        kept = w.webhooks_archived * m.archive_bytes_per_webhook
        if m.archive_bytes_per_webhook < S3_TRANSITION_MIN_BYTES:
            # Too small for the lifecycle's Standard-IA transition: Standard until expiry.
            what, usd = (
                "raw archive storage (gzip; Standard: objects under 128 KB)",
                kept * p["s3_storage"] / GB,
            )
        else:
            # Standard for 30 days, then Standard-IA; each object transitions once.
            hot = kept * 30 / min(w.raw_archive_days, 365)
            usd = (hot * p["s3_storage"] + (kept - hot) * p["s3_ia_storage"]) / GB
            usd += w.webhooks * p["s3_ia_transition"]
            what = "raw archive storage (gzip; Standard-IA after 30 days)"
        lines.append(Line("S3", what, kept / GB, "GB-month", usd))
    else:
        lines.append(Line("S3", "roster exports only (not on these paths)", 0, "GB-month", 0.0))
    return lines


def by_service(lines: Iterable[Line]) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in lines:
        out[line.service] = out.get(line.service, 0.0) + line.usd
    return out


def total(lines: Sequence[Line]) -> float:
    return sum(line.usd for line in lines)
