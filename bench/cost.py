"""The cost benchmark: what 100,000 enrollments cost on AWS a month, from measured work.

    python -m bench.run cost [--enrollments N] [--days D] [--notices K]

Everything is measured on moto server through the real handlers (``LocalStack.invoke``), with
every AWS call of any service seen by a hook on botocore's ``BaseClient._make_api_call``:

- ingest: signed plain webhooks of 100 events through the local gateway into the ingest
  handler, for school days in a row, in two arrival models (a batch of 100 distinct
  enrollments, the worst case; and an LMS that sends each student's day in one batch, 10
  enrollments x 10 events);
- evaluate: the evaluate handler for each day of a term of the engine benchmark's shipped
  programs (``bench.run.replay_inputs``), its events ingested between the days;
- notify: the notify handler on stream records of the outbox notices that evaluation made
  (batches of the template's ``BatchSize``), which delivers them through
  ``onpace_core.delivery.sender.deliver`` to moto's SES;
- roster: a reload of an unchanged roster (``upsert_enrollments``), as a daily export does;
- scale: DynamoDB requests per due enrollment of one evaluation day at rising sizes up to
  ``--enrollments`` (items cloned from a real upsert), to show the figure is flat.

For each DynamoDB request the hook reads the item before (and, for an update, after) with
requests of its own that are not counted, and charges request units and index writes by AWS's
rules (``bench/cost_model.py``). Handler CPU is ``time.thread_time`` of the thread the handler
runs in (moto serves from other threads), less the hook's own reads. The per-unit figures then
go into ``cost_model.monthly_lines`` with the issue's workload (10 events per enrollment per
school day, in webhooks of 100).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bench.cost_model import (
    PRICES_READ,
    Assumptions,
    Line,
    Measured,
    Rate,
    TableSpec,
    Workload,
    by_service,
    index_writes,
    item_size,
    monthly_lines,
    read_units,
    storage_bytes,
    table_specs,
    total,
    write_units,
)

TARGET_USD = 30.0
FUNCTIONS = (
    "IngestFunction",
    "EvaluateFunction",
    "EvaluateWorkerFunction",
    "NotifyFunction",
    "RosterImportFunction",
)
KINDS = (
    "login",
    "view",
    "view",
    "submission",
    "view",
    "progress",
    "discussion_post",
    "view",
    "login",
    "view",
)


# ---------------------------------------------------------------------------------------------
# What one phase of the run did


@dataclass
class TableWork:
    requests: int = 0
    rru: float = 0.0
    wru: int = 0
    index_wru: int = 0
    writes: int = 0  # items written (each at least 1 WRU)


@dataclass
class Phase:
    name: str
    tables: dict[str, TableWork] = field(default_factory=dict)  # logical table id -> work
    operations: Counter[str] = field(default_factory=Counter)  # "dynamodb.UpdateItem/EnrollmentsTable"
    calls: Counter[str] = field(default_factory=Counter)  # "service.Operation"
    cpu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # handler CPU s
    invocations: Counter[str] = field(default_factory=Counter)
    log_bytes: Counter[str] = field(default_factory=Counter)  # function -> bytes logged
    index_writes: Counter[str] = field(default_factory=Counter)  # "Table/index put|update|delete"
    # Index WRU had the due index been KEYS_ONLY (the proposal), same writes.
    keys_only_index_wru: int = 0
    changed: Counter[str] = field(default_factory=Counter)  # attributes whose change rewrote an index
    statuses: Counter[str] = field(default_factory=Counter)  # notify: the notices' final statuses

    def work(self, table: str) -> TableWork:
        return self.tables.setdefault(table, TableWork())

    def total(self, tables: tuple[str, ...] | None = None) -> TableWork:
        out = TableWork()
        for name, w in self.tables.items():
            if tables is None or name in tables:
                out.requests += w.requests
                out.rru += w.rru
                out.wru += w.wru
                out.index_wru += w.index_wru
                out.writes += w.writes
        return out

    def aws_calls(self, tables: tuple[str, ...] | None = None) -> int:
        """DynamoDB requests on ``tables`` (all when None) plus, when all, every other service's calls."""
        dynamo = self.total(tables).requests
        if tables is not None:
            return dynamo
        return dynamo + sum(n for k, n in self.calls.items() if not k.startswith("dynamodb."))

    def merged(self, other: Phase) -> Phase:
        out = Phase(f"{self.name}+{other.name}")
        for phase in (self, other):
            for name, w in phase.tables.items():
                t = out.work(name)
                t.requests += w.requests
                t.rru += w.rru
                t.wru += w.wru
                t.index_wru += w.index_wru
                t.writes += w.writes
            out.keys_only_index_wru += phase.keys_only_index_wru
            out.changed.update(phase.changed)
            out.operations.update(phase.operations)
            out.calls.update(phase.calls)
            for function, seconds in phase.cpu.items():
                out.cpu[function] += seconds
            out.invocations.update(phase.invocations)
            out.log_bytes.update(phase.log_bytes)
            out.index_writes.update(phase.index_writes)
        return out


def rate(phase: Phase, n: float, tables: tuple[str, ...] | None = None, cpu: float = 0.0) -> Rate:
    """Per-unit figures of a phase (DynamoDB work of ``tables``, all when None)."""
    w = phase.total(tables)
    return Rate(
        requests=w.requests / n,
        rru=w.rru / n,
        wru=(w.wru + w.index_wru) / n,
        index_wru=w.index_wru / n,
        aws_calls=phase.aws_calls(tables) / n,
        cpu_seconds=cpu / n,
    )


# ---------------------------------------------------------------------------------------------
# The meter: request units of every DynamoDB call, by AWS's rules


_CONDITION_FAILED = ("ConditionalCheckFailedException", "TransactionCanceledException")


class Meter:
    """Hooks ``BaseClient._make_api_call`` and the stack's ``invoke`` while a phase is open."""

    def __init__(self, stack: Any, specs: dict[str, TableSpec], units: bool = True) -> None:
        self.stack = stack
        self.units = units
        self.by_name: dict[str, TableSpec] = {stack.ref(lid): spec for lid, spec in specs.items()}
        self.keys_only: dict[str, TableSpec] = {
            name: replace(
                spec,
                indexes=tuple(
                    replace(i, projection="KEYS_ONLY") if i.name == "due" else i for i in spec.indexes
                ),
            )
            for name, spec in self.by_name.items()
        }
        self.phase: Phase | None = None
        self._local = threading.local()  # the hook's own CPU in this thread (not the handler's)
        self._original: Callable[..., Any] | None = None

    # -- installation ---------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        self._original = original
        meter = self

        def hooked(client: Any, operation: str, params: dict[str, Any]) -> Any:
            phase = meter.phase
            if phase is None:
                return original(client, operation, params)
            service = client.meta.service_model.service_name
            phase.calls[f"{service}.{operation}"] += 1
            if service != "dynamodb":
                return original(client, operation, params)
            return meter._dynamodb(phase, client, operation, params)

        invoke = self.stack.invoke

        def timed(logical_id: str, event: dict[str, Any], context: Any = None) -> Any:
            phase = meter.phase
            if phase is None:
                return invoke(logical_id, event, context)
            before = self._overhead()
            started = time.thread_time()
            try:
                return invoke(logical_id, event, context)
            finally:
                spent = time.thread_time() - started - (self._overhead() - before)
                phase.cpu[logical_id] += spent
                phase.invocations[logical_id] += 1

        BaseClient._make_api_call = hooked
        self.stack.invoke = timed
        try:
            yield self
        finally:
            BaseClient._make_api_call = original
            self.stack.invoke = invoke

    @contextmanager
    def measuring(self, name: str) -> Iterator[Phase]:
        phase = Phase(name)
        self.phase = phase
        try:
            yield phase
        finally:
            self.phase = None

    def _overhead(self) -> float:
        return float(getattr(self._local, "overhead", 0.0))

    def _add_overhead(self, seconds: float) -> None:
        self._local.overhead = self._overhead() + seconds

    # -- reads of our own (not counted) ---------------------------------------------------

    def _raw(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        assert self._original is not None
        return self._original(client, operation, params)

    def _key(self, spec: TableSpec, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in spec.keys}

    def _get(self, client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        answer = self._raw(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        found: dict[str, Any] | None = answer.get("Item")
        return found

    def _get_many(
        self, client: Any, spec: TableSpec, table: str, keys: list[dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), 100):
            request: dict[str, Any] = {table: {"Keys": keys[i : i + 100], "ConsistentRead": True}}
            while request:
                answer = self._raw(client, "BatchGetItem", {"RequestItems": request})
                for item in answer.get("Responses", {}).get(table, []):
                    found[json.dumps(self._key(spec, item), sort_keys=True)] = item
                request = answer.get("UnprocessedKeys") or {}
        return found

    # -- charging -------------------------------------------------------------------------

    def _charge_write(
        self,
        phase: Phase,
        table: str,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        factor: int = 1,
    ) -> None:
        spec = self.by_name[table]
        work = phase.work(spec.logical_id)
        work.wru += factor * write_units(max(item_size(old), item_size(new)))
        work.writes += 1
        for w in index_writes(spec, old, new):
            work.index_wru += w.units
            phase.index_writes[f"{spec.logical_id}/{w.index} {w.what}"] += 1
            if w.what == "update" and old and new:
                phase.changed.update(k for k in {*old, *new} if old.get(k) != new.get(k))
        phase.keys_only_index_wru += sum(w.units for w in index_writes(self.keys_only[table], old, new))

    def _charge_read(self, phase: Phase, table: str, size: int, consistent: bool) -> None:
        phase.work(self.by_name[table].logical_id).rru += read_units(size, consistent)

    def _dynamodb(self, phase: Phase, client: Any, operation: str, params: dict[str, Any]) -> Any:
        tables = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
        if operation == "TransactWriteItems":
            tables = [next(iter(a.values()))["TableName"] for a in params["TransactItems"]]
        for table in dict.fromkeys(tables):
            if table in self.by_name:
                phase.work(self.by_name[table].logical_id).requests += 1
                phase.operations[f"{operation}/{self.by_name[table].logical_id}"] += 1
        if not self.units or not all(t in self.by_name for t in tables):
            return self._raw(client, operation, params)
        started = time.thread_time()
        handler = getattr(self, f"_{operation}", None)
        if handler is None:
            return self._raw(client, operation, params)
        # Everything the hook does beyond the call itself is the hook's CPU, not the handler's.
        return handler(phase, client, params, started)

    def _timed_call(self, client: Any, operation: str, params: dict[str, Any], started: float) -> Any:
        """The real call; the hook's CPU so far is booked as overhead, the call's is the handler's."""
        self._add_overhead(time.thread_time() - started)
        try:
            return self._raw(client, operation, params)
        finally:
            self._local.resume = time.thread_time()

    def _done(self) -> None:
        self._add_overhead(time.thread_time() - getattr(self._local, "resume", time.thread_time()))

    def _GetItem(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        answer = self._timed_call(client, "GetItem", params, started)
        item = answer.get("Item")
        if item is not None and ("ProjectionExpression" in params or "AttributesToGet" in params):
            item = self._get(client, params["TableName"], params["Key"])
        self._charge_read(phase, params["TableName"], item_size(item), bool(params.get("ConsistentRead")))
        self._done()
        return answer

    def _BatchGetItem(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        answer = self._timed_call(client, "BatchGetItem", params, started)
        unprocessed = answer.get("UnprocessedKeys") or {}
        for table, request in params["RequestItems"].items():
            spec = self.by_name[table]
            found = {
                json.dumps(self._key(spec, i), sort_keys=True): i
                for i in answer.get("Responses", {}).get(table, [])
            }
            skipped = {json.dumps(k, sort_keys=True) for k in unprocessed.get(table, {}).get("Keys", [])}
            projected = "ProjectionExpression" in request or "AttributesToGet" in request
            for key in request["Keys"]:
                text = json.dumps(key, sort_keys=True)
                if text in skipped:
                    continue
                item = found.get(text)
                if item is not None and projected:
                    item = self._get(client, table, key)
                # A key with no item is charged the minimum, like GetItem (conservative).
                self._charge_read(phase, table, item_size(item), bool(request.get("ConsistentRead")))
        self._done()
        return answer

    def _Query(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        answer = self._timed_call(client, "Query", params, started)
        items = answer.get("Items", [])
        if any(
            k in params for k in ("ProjectionExpression", "AttributesToGet", "FilterExpression", "Select")
        ):
            # Read units are charged on the items the key condition reads, whole: ask again for those.
            again = {
                k: v
                for k, v in params.items()
                if k not in ("ProjectionExpression", "AttributesToGet", "FilterExpression", "Select")
            }
            used = set(re.findall(r"[#:]\w+", params.get("KeyConditionExpression", "")))
            for part in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
                if part in again:
                    again[part] = {k: v for k, v in again[part].items() if k in used}
                    if not again[part]:
                        del again[part]
            items = self._raw(client, "Query", again).get("Items", [])
        size = sum(item_size(i) for i in items)
        self._charge_read(phase, params["TableName"], size, bool(params.get("ConsistentRead")))
        self._done()
        return answer

    def _Scan(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        answer = self._timed_call(client, "Scan", params, started)
        # A Scan reads every item of the page; the filter does not lower the bill.
        size = sum(item_size(i) for i in answer.get("Items", []))
        if answer.get("ScannedCount", 0) > answer.get("Count", 0):
            size = int(size * answer["ScannedCount"] / max(1, answer.get("Count", 0)))
        self._charge_read(phase, params["TableName"], size, bool(params.get("ConsistentRead")))
        self._done()
        return answer

    def _write(
        self, phase: Phase, client: Any, operation: str, params: dict[str, Any], started: float
    ) -> Any:
        table = params["TableName"]
        spec = self.by_name[table]
        key = params["Key"] if "Key" in params else self._key(spec, params["Item"])
        old = self._get(client, table, key)
        try:
            answer = self._timed_call(client, operation, params, started)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code in _CONDITION_FAILED:
                self._local.resume = time.thread_time()
                phase.work(spec.logical_id).wru += write_units(item_size(old))
                self._done()
            raise
        if operation == "PutItem":
            new: dict[str, Any] | None = params["Item"]
        elif operation == "DeleteItem":
            new = None
        else:
            new = self._get(client, table, key)
        self._charge_write(phase, table, old, new)
        self._done()
        return answer

    def _PutItem(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        return self._write(phase, client, "PutItem", params, started)

    def _UpdateItem(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        return self._write(phase, client, "UpdateItem", params, started)

    def _DeleteItem(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        return self._write(phase, client, "DeleteItem", params, started)

    def _BatchWriteItem(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        plan: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
        for table, requests in params["RequestItems"].items():
            spec = self.by_name[table]
            keys = [
                self._key(spec, r["PutRequest"]["Item"]) if "PutRequest" in r else r["DeleteRequest"]["Key"]
                for r in requests
            ]
            stored = self._get_many(client, spec, table, keys)
            for request, key in zip(requests, keys, strict=True):
                new = request["PutRequest"]["Item"] if "PutRequest" in request else None
                plan.append((table, stored.get(json.dumps(key, sort_keys=True)), new))
        answer = self._timed_call(client, "BatchWriteItem", params, started)
        for table, old, new in plan:
            self._charge_write(phase, table, old, new)
        self._done()
        return answer

    def _TransactWriteItems(self, phase: Phase, client: Any, params: dict[str, Any], started: float) -> Any:
        plan: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = []
        for action in params["TransactItems"]:
            ((kind, body),) = action.items()
            table = body["TableName"]
            key = body["Key"] if "Key" in body else self._key(self.by_name[table], body["Item"])
            plan.append((kind, table, key, self._get(client, table, key)))
        try:
            answer = self._timed_call(client, "TransactWriteItems", params, started)
        except Exception:
            self._local.resume = time.thread_time()
            for _, table, _, old in plan:
                phase.work(self.by_name[table].logical_id).wru += 2 * write_units(item_size(old))
            self._done()
            raise
        for (kind, table, key, old), action in zip(plan, params["TransactItems"], strict=True):
            if kind == "ConditionCheck":
                phase.work(self.by_name[table].logical_id).wru += 2 * write_units(item_size(old))
                continue
            new = action[kind].get("Item") if kind == "Put" else None
            if kind == "Update":
                new = self._get(client, table, key)
            self._charge_write(phase, table, old, new, factor=2)
        self._done()
        return answer


# ---------------------------------------------------------------------------------------------
# Log lines: what the handlers write (Powertools loggers of the service "onpace")


@contextmanager
def counting_logs(meter: Meter) -> Iterator[None]:
    """Count the bytes each handler logs (as formatted by its Powertools handler), and keep them
    off the benchmark's output. Import the handlers first: Powertools takes the first handler
    of the "onpace" logger as its own."""
    import logging
    import os

    target = logging.getLogger("onpace")
    streams = [h for h in target.handlers if isinstance(h, logging.StreamHandler)]

    class Counting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            phase = meter.phase
            if phase is None:
                return
            formatter = next((h.formatter for h in streams if h.formatter), None)
            text = formatter.format(record) if formatter else record.getMessage()
            phase.log_bytes[_function_of(record)] += len(text.encode()) + 1

    handler = Counting(level=logging.NOTSET)
    target.addHandler(handler)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(_CountingMetrics(meter, sys.stdout)):
        saved = [h.setStream(sink) for h in streams]
        try:
            yield
        finally:
            target.removeHandler(handler)
            for h, stream in zip(streams, saved, strict=True):
                if stream is not None:
                    h.setStream(stream)


class _CountingMetrics(io.TextIOBase):
    """Standard output during the run: Powertools Metrics prints its EMF lines there, which
    CloudWatch Logs ingests (and bills) like any log line; they are counted as the invoked
    function's log bytes and kept off the benchmark's output. Everything else passes through."""

    def __init__(self, meter: Meter, out: TextIO) -> None:
        self._meter, self._out, self._line = meter, out, ""

    def write(self, text: str) -> int:
        # Progress lines are written in pieces and flushed; only a line that may be an EMF
        # record ("{...}") waits for its end.
        self._line += text
        *lines, self._line = self._line.split("\n")
        for line in lines:
            self._emit(line + "\n")
        if self._line and not self._line.startswith("{"):
            self._out.write(self._line)
            self._line = ""
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def _emit(self, line: str) -> None:
        function = _function_of(None)
        if line.startswith('{"_aws"') and function != "other":
            if self._meter.phase is not None:
                self._meter.phase.log_bytes[function] += len(line.encode())
            return
        self._out.write(line)


def _function_of(record: Any) -> str:
    from onpace_local.stack import _INVOKED

    return _INVOKED.get() or "other"


# ---------------------------------------------------------------------------------------------
# The run


def _school_days(first: date, n: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _day_events(prefix: str, students: list[str], day: date, order: str) -> list[dict[str, Any]]:
    """Ten events per student on ``day``; ``spread``: consecutive events of distinct students."""
    start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=14)
    per_student = [
        [
            {
                "event_id": f"{prefix}-{s}-{day.isoformat()}-{j}",
                "occurred_at": (start + timedelta(minutes=5 * j, seconds=i)).isoformat(),
                "student": s,
                "class": "c",
                "kind": KINDS[j],
                **({"percent_complete": float(min(100, j * 3 + day.day))} if KINDS[j] == "progress" else {}),
            }
            for j in range(len(KINDS))
        ]
        for i, s in enumerate(students)
    ]
    if order == "spread":
        return [events[j] for j in range(len(KINDS)) for events in per_student]
    return [e for events in per_student for e in events]


@dataclass
class IngestResult:
    phases: dict[str, list[Phase]]  # arrival model -> one phase per school day
    events_per_day: dict[str, int]  # arrival model -> events a school day
    body_bytes: float
    enrollment_bytes: float
    raw_event_bytes: float
    raw_event_size: float
    history_kinds: tuple[str, ...]
    archive_bytes: float  # a webhook's raw archive object in S3 (gzip JSON lines), measured
    body_gzip_bytes: float  # a webhook body, gzip (the one-item-per-webhook proposal)


def measure_ingest(
    stack: Any,
    gateway: Any,
    meter: Meter,
    specs: dict[str, TableSpec],
    students: int,
    days: int,
    clustered: int = 20,
    clustered_days: int = 8,
) -> IngestResult:
    from onpace_core.facts.fold import FoldRules
    from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
    from onpace_core.settings import Settings
    from onpace_core.store.enrollments import upsert_enrollments
    from onpace_core.store.models import EnrollmentModel
    from onpace_core.store.programs import save_program
    from onpace_local.webhook_client import new_secret, post_webhook
    from onpace_rules.engine import compile_program
    from onpace_rules.program_files import load_program_file

    from bench.run import ROOT

    config = load_program_file(ROOT / "programs" / "cps-online.yaml")
    district = f"cost-{uuid.uuid4().hex[:6]}"
    config = config.model_copy(update={"district_id": district})
    term = config.calendar.terms[0]
    save_program(config)
    history = tuple(sorted(FoldRules.of(compile_program(config)).history))
    # Worst case: every webhook holds 100 distinct enrollments (one event each); clustered: an LMS
    # that sends each student's day in one go, 10 enrollments x 10 events a webhook.
    groups = {"spread": [f"w{i}" for i in range(students)], "clustered": [f"c{i}" for i in range(clustered)]}
    records = [
        EnrollmentRecord(
            district_id=district,
            program_id=config.program_id,
            class_id="c",
            class_title="Bench",
            student_id=s,
            student_name=f"Student {s}",
            term_id=term.id,
            start_date=term.start,
            end_date=term.end,
            contacts=(ContactRecord("student", f"{s}@example.org", None, "en"),),
        )
        for group in groups.values()
        for s in group
    ]
    upsert_enrollments(records, config)
    secret = new_secret()
    stack.client("secretsmanager").create_secret(
        Name=f"{Settings.from_env().webhook_secret_prefix}{district}", SecretString=secret
    )
    post_webhook(gateway.url, district_id=district, secret=secret, events=[])  # warm: secret cached
    phases: dict[str, list[Phase]] = {model: [] for model in groups}
    bodies: list[int] = []
    archives: list[int] = []
    # The clustered group runs more school days (it is cheap: 2 webhooks a day) to show where the
    # item sizes level off (``fold.RECENT`` entries per kind); the spread group runs ``days``.
    for index, day in enumerate(_school_days(term.start + timedelta(days=7), clustered_days)):
        for model, group in groups.items():
            if model == "spread" and index >= days:
                continue
            events = _day_events(model, group, day, model)
            with meter.measuring(f"ingest {model} {day}") as phase:
                for i in range(0, len(events), 100):
                    chunk = events[i : i + 100]
                    body = json.dumps(chunk, separators=(",", ":")).encode()
                    bodies.append(len(body))
                    archives.append(len(gzip.compress(body)))
                    # The meter reads each written item before and after: slow on a busy machine.
                    answer = post_webhook(
                        gateway.url, district_id=district, secret=secret, events=chunk, timeout=600
                    )
                    assert answer.status == 202, answer.body
            phases[model].append(phase)
            print(f"  ingest {model} {day}: {len(events)} events", file=sys.stderr, flush=True)
    events_table = stack.ref("EventsTable")
    # The district's raw event items (identity rows have no event id).
    raw = [
        i
        for i in _scan(stack, events_table)
        if i.get("district_id", {}).get("S") == district and "event_id" in i
    ]
    s3, bucket = stack.client("s3"), stack.ref("RawArchiveBucket")
    objects = [
        o["Size"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{district}/")
        for o in page.get("Contents", [])
    ]
    # The clustered group's enrollments (not the students' own items), grown the most.
    by_district, by_class, by_student = (
        getattr(EnrollmentModel, name).attr_name for name in ("district_id", "class_id", "student_id")
    )
    enrollments = [
        i
        for i in _scan(stack, stack.ref("EnrollmentsTable"))
        if i.get(by_district, {}).get("S") == district
        and i.get(by_class, {}).get("S") == "c"
        and i.get(by_student, {}).get("S", "").startswith("c")
    ]
    return IngestResult(
        phases=phases,
        events_per_day={model: len(group) * len(KINDS) for model, group in groups.items()},
        body_bytes=sum(bodies) / len(bodies),
        enrollment_bytes=sum(storage_bytes(specs["EnrollmentsTable"], i) for i in enrollments)
        / len(enrollments),
        raw_event_bytes=sum(storage_bytes(specs["EventsTable"], i) for i in raw) / len(raw),
        raw_event_size=sum(item_size(i) for i in raw) / len(raw),
        history_kinds=history,
        archive_bytes=sum(objects) / len(objects),
        body_gzip_bytes=sum(archives) / len(archives),
    )


def _scan(stack: Any, table: str) -> Iterator[dict[str, Any]]:
    client = stack.client("dynamodb")
    params: dict[str, Any] = {"TableName": table}
    while True:
        answer = client.scan(**params)
        yield from answer.get("Items", [])
        if "LastEvaluatedKey" not in answer:
            return
        params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


@dataclass
class EvaluateResult:
    phase: Phase
    due: int
    decisions: int
    enrollment_days: int
    pending: list[str]  # notice ids to send
    districts: list[str]
    records: dict[str, tuple[Any, list[Any]]]  # family -> (config, records)


def _fold_worker(phase: Phase) -> None:
    """Book the evaluate worker's CPU and log lines with the planner's (both 512 MB; the model
    prices evaluation per due enrollment, whichever of the two runs it)."""
    worker = "EvaluateWorkerFunction"
    phase.cpu["EvaluateFunction"] += phase.cpu.pop(worker, 0.0)
    phase.log_bytes["EvaluateFunction"] += phase.log_bytes.pop(worker, 0)


def measure_evaluate(stack: Any, meter: Meter, per_family: int, days: int) -> EvaluateResult:
    from onpace_core.ingest.service import ingest_events
    from onpace_core.store.enrollments import upsert_enrollments
    from onpace_core.store.programs import save_program
    from onpace_local.evaluation import run_program_day

    from bench.run import REPLAY_PROGRAMS, replay_inputs

    phase = Phase("evaluate")
    due = decisions = 0
    districts: list[str] = []
    records_by_family: dict[str, tuple[Any, list[Any]]] = {}
    for family in REPLAY_PROGRAMS:
        config, records, events, first = replay_inputs(family, per_family, days)
        save_program(config)
        upsert_enrollments(records, config)
        districts.append(config.district_id)
        records_by_family[family] = (config, records)
        by_day: dict[date, list[Any]] = {}
        zone = config.build_calendar()
        for e in events:
            by_day.setdefault(zone.local_date(e.occurred_at), []).append(e)
        for offset in range(days):
            day = first + timedelta(days=offset)
            request = {
                "district_id": config.district_id,
                "program_id": config.program_id,
                "day": day.isoformat(),
            }
            with meter.measuring(f"evaluate {family} {day}") as one:
                # The planner, then its shard messages through the worker (SQS, as deployed).
                run = run_program_day(stack, request["district_id"], request["program_id"], day)
            _fold_worker(one)
            phase = phase.merged(one)
            print(f"  evaluate {family} {day}", end="\r", file=sys.stderr, flush=True)
            for summary in run.programs():
                due += summary["enrollments_evaluated"]
                decisions += sum(r["count"] for r in summary["recorded"])
            todays = by_day.get(day, [])
            if todays:
                at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23)
                ingest_events(
                    district_id=config.district_id,
                    source="bench",
                    events=todays,
                    now=at,
                    ttl_days=30,
                    long_ttl_days=400,
                )
    pending = [
        i["notice_id"]["S"]
        for i in _scan(stack, stack.ref("OutboxTable"))
        # Waiting for the morning window (issue 12, item 6); "pending" as recorded before it.
        if i.get("status", {}).get("S") in ("scheduled", "pending") and i["district_id"]["S"] in districts
    ]
    return EvaluateResult(
        phase, due, decisions, per_family * len(REPLAY_PROGRAMS) * days, pending, districts, records_by_family
    )


def _stream_record(stack: Any, item: dict[str, Any], sequence: int) -> dict[str, Any]:
    """An outbox INSERT as the DynamoDB stream hands it to Lambda."""
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stack.region,
        "eventSourceARN": stack.attr("OutboxTable", "StreamArn"),
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"notice_id": item["notice_id"]},
            "NewImage": item,
            "SequenceNumber": str(sequence),
            "SizeBytes": item_size(item),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def measure_notify(stack: Any, meter: Meter, notice_ids: list[str], batch: int) -> tuple[Phase, int, int]:
    """Deliver the notices through the dispatcher and the notify handler; returns (phase,
    notices, emails sent). The notices wait for their morning window (issue 12, item 6): the
    dispatcher letters each district-day's notices once its window has opened, and notify sends
    the letters from their stream records; both count as the cost of the emails."""
    client = stack.client("dynamodb")
    table = stack.ref("OutboxTable")
    waiting = [client.get_item(TableName=table, Key={"notice_id": {"S": n}})["Item"] for n in notice_ids]
    days: dict[tuple[str, str], str] = {}
    for item in waiting:
        if "send_key" in item:
            district, day = item["send_key"]["S"].rsplit("#", 1)
            days[(district, day)] = max(days.get((district, day), ""), item["send_after"]["S"])
    # Notices recorded before the window existed go out alone, as they did.
    letter_ids = [item["notice_id"]["S"] for item in waiting if "send_key" not in item]
    with meter.measuring("notify") as phase:
        for (district, day), opens in sorted(days.items()):
            answer = stack.invoke(
                "DispatchFunction", {"district_id": district, "day": day, "scheduled_time": opens}
            )
            letter_ids += [
                str(letter) for result in answer["days"] for letter in result.get("letter_ids", [])
            ]
        # Read with the meter's own (uncounted) requests: what the stream would carry.
        letters = [meter._get(client, table, {"notice_id": {"S": n}}) or {} for n in letter_ids]
        for i in range(0, len(letters), batch):
            event = {
                "Records": [
                    _stream_record(stack, item, i + j) for j, item in enumerate(letters[i : i + batch])
                ]
            }
            answer = stack.invoke("NotifyFunction", event)
            assert answer == {"batchItemFailures": []}, answer
    emails = phase.calls["sesv2.SendEmail"] + phase.calls["ses.SendRawEmail"] + phase.calls["ses.SendEmail"]
    after = [client.get_item(TableName=table, Key={"notice_id": {"S": n}})["Item"] for n in notice_ids]
    phase.statuses = Counter(
        f"{i['status']['S']} ({len(i.get('recipients', {}).get('L', []))} recipients"
        + (f": {i['status_reason']['S'][:60]}" if "status_reason" in i else "")
        + ")"
        for i in after
    )
    return phase, len(waiting), emails


def measure_roster(meter: Meter, config: Any, records: list[Any]) -> tuple[Phase, float]:
    """A reload of the same roster (what a daily export does when nothing changed)."""
    from onpace_core.store.enrollments import upsert_enrollments

    with meter.measuring("roster") as phase:
        before = meter._overhead()
        started = time.thread_time()
        upsert_enrollments(records, config)
        cpu = time.thread_time() - started - (meter._overhead() - before)
    return phase, cpu


def measure_scale(stack: Any, meter: Meter, sizes: list[int]) -> list[tuple[int, int, int, Counter[str]]]:
    """(enrollments, due, DynamoDB requests, by operation) of one evaluation day at each size,
    seeded as ``bench scale`` seeds it (``bench.scale.seed_enrollments``)."""
    from onpace_local.evaluation import run_program_day

    from bench.run import START
    from bench.scale import seed_enrollments

    out = []
    for n in sizes:
        district, program = seed_enrollments(stack, n)
        with meter.measuring(f"scale {n}") as phase:
            run = run_program_day(stack, district, program, START)
        evaluated = sum(s["enrollments_evaluated"] for s in run.programs())
        out.append((n, evaluated, phase.total().requests, phase.operations))
        print(f"  scale {n:>7,}: {evaluated:,} due, {phase.total().requests:,} DynamoDB requests", flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# Putting it together


def run_cost(
    enrollments: int = 1_000,
    days: int = 35,
    students: int = 100,
    ingest_days: int = 3,
    per_family: int = 20,
    notices: int = 40,
) -> float:
    """Measure, print the month's bill for 100,000 enrollments, return its total (USD)."""
    from onpace_local.gateway import serve_gateway
    from onpace_local.stack import LocalStack

    from bench.run import ROOT

    template_path = ROOT / "template.yaml"
    template = _load_template(template_path)
    specs = table_specs(template)
    memory = _memory(template)
    notify_batch = int(
        template["Resources"]["NotifyFunction"]["Properties"]["Events"]["OutboxStream"]["Properties"][
            "BatchSize"
        ]
    )
    ttl_days = int(template["Parameters"]["RawEventTtlDays"]["Default"])
    archive_days = int(template["Parameters"]["RawArchiveDays"]["Default"])
    print(f"cost: AWS cost per 100,000 enrollments a month, us-east-1, list prices read {PRICES_READ}")
    started = time.perf_counter()
    with LocalStack.start(template_path, root=ROOT) as stack, serve_gateway(stack) as gateway:
        meter = Meter(stack, specs)
        for function in FUNCTIONS:
            stack.handler(function)  # imported (cold start) before anything is measured
        with meter.installed(), counting_logs(meter):
            ingest = measure_ingest(stack, gateway, meter, specs, students, ingest_days)
            evaluation = measure_evaluate(stack, meter, per_family=per_family, days=days)
            sent = evaluation.pending[:notices]
            notify, delivered, emails = measure_notify(stack, meter, sent, notify_batch)
            config, records = evaluation.records["cps"]
            roster, roster_cpu = measure_roster(meter, config, records)
            outbox_items = [
                i
                for i in _scan(stack, stack.ref("OutboxTable"))
                if i["district_id"]["S"] in evaluation.districts
            ]
            audit_items = [
                i
                for i in _scan(stack, stack.ref("AuditTable"))
                if i["district_id"]["S"] in evaluation.districts
            ]
            meter.units = False  # the scale run counts requests only (moto's speed)
            sizes = [s for s in (100, 300, 1_000, 3_000, 10_000, 100_000) if s <= enrollments] or [
                enrollments
            ]
            print("scale: DynamoDB requests of one evaluation day, every enrollment due (bench program)")
            scale = measure_scale(stack, meter, sizes)
    measured_seconds = time.perf_counter() - started

    workload = Workload(raw_event_ttl_days=ttl_days, raw_archive_days=archive_days)
    assumptions = Assumptions()
    measured = _measured(
        ingest,
        evaluation,
        notify,
        delivered,
        emails,
        roster,
        roster_cpu,
        len(records),
        outbox_items,
        audit_items,
        specs,
        memory,
        notify_batch,
    )
    lines = monthly_lines(measured, workload, assumptions)
    _print_measured(ingest, evaluation, notify, delivered, emails, roster, len(records), scale, measured)
    bill = total(lines)
    _print_bill(lines, workload, assumptions, bill)
    last = ingest.phases["spread"][-1]
    options = proposals(
        measured,
        workload,
        (ingest.phases["clustered"][-1], ingest.events_per_day["clustered"]),
        body_gzip_bytes=ingest.body_gzip_bytes,
    )
    _print_drivers(lines, options, assumptions, bill)
    unsaturated = replace(measured, ingest_per_event=rate(last, ingest.events_per_day["spread"]))
    print(
        f"  the worst case with the items of its own last day (school day {len(ingest.phases['spread'])}, "
        f"smaller): ${total(monthly_lines(unsaturated, workload, assumptions)):,.2f}"
    )
    realistic = replace(
        measured, ingest_per_event=rate(ingest.phases["clustered"][-1], ingest.events_per_day["clustered"])
    )
    print(
        "  with the clustered arrival (10 enrollments x 10 events a batch) instead: "
        f"${total(monthly_lines(realistic, workload, assumptions)):,.2f}"
    )
    changed = ", ".join(f"{k} {v}" for k, v in last.changed.most_common(8))
    print(f"  attributes whose change rewrote an ALL-projected index entry (ingest, last day): {changed}")
    print(f"  (measured in {measured_seconds:,.0f} s on moto server)")
    return bill


def _load_template(path: Path) -> dict[str, Any]:
    from onpace_local.template import load_template

    return load_template(path)


def _memory(template: dict[str, Any]) -> dict[str, int]:
    default = int(template["Globals"]["Function"].get("MemorySize", 128))
    arch = template["Globals"]["Function"].get("Architectures", ["x86_64"])
    out = {}
    for lid, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            properties = resource.get("Properties", {})
            assert properties.get("Architectures", arch) == ["arm64"], f"{lid}: the model prices arm64"
            out[lid] = int(properties.get("MemorySize", default))
    return out


def _measured(
    ingest: IngestResult,
    evaluation: EvaluateResult,
    notify: Phase,
    delivered: int,
    emails: int,
    roster: Phase,
    roster_cpu: float,
    roster_n: int,
    outbox_items: list[dict[str, Any]],
    audit_items: list[dict[str, Any]],
    specs: dict[str, TableSpec],
    memory: dict[str, int],
    notify_batch: int,
) -> Measured:
    # Ingest: the worst-case arrival on the last school day measured (items have grown most).
    last = ingest.phases["spread"][-1]
    webhooks = last.invocations["IngestFunction"]
    evaluate = evaluation.phase
    per_due_tables = ("EnrollmentsTable", "ProgramsTable")
    per_decision_tables = ("OutboxTable", "AuditTable")
    decisions = max(1, evaluation.decisions)
    audit_puts = sum(n for k, n in evaluate.operations.items() if k.startswith("PutItem/AuditTable"))
    audit_puts += sum(n for k, n in notify.operations.items() if k.startswith("PutItem/AuditTable"))
    audit_bytes = sum(storage_bytes(specs["AuditTable"], i) for i in audit_items) / max(1, len(audit_items))
    outbox_bytes = sum(storage_bytes(specs["OutboxTable"], i) for i in outbox_items) / max(
        1, len(outbox_items)
    )
    notify_per_email = rate(notify, max(1, emails), cpu=notify.cpu["NotifyFunction"])
    log_bytes = {
        "IngestFunction": last.log_bytes["IngestFunction"] / max(1, webhooks),
        "EvaluateFunction": evaluate.log_bytes["EvaluateFunction"]
        / max(1, evaluate.invocations["EvaluateFunction"]),
        "NotifyFunction": notify.log_bytes["NotifyFunction"] / max(1, notify.invocations["NotifyFunction"]),
    }
    return Measured(
        ingest_per_event=saturated(last, ingest.phases["clustered"][-1], ingest.events_per_day["spread"]),
        ingest_cpu_per_webhook=last.cpu["IngestFunction"] / max(1, webhooks),
        ingest_calls_per_webhook=last.aws_calls() / max(1, webhooks),
        archive_bytes_per_webhook=ingest.archive_bytes,
        archive_puts_per_webhook=last.calls["s3.PutObject"] / max(1, webhooks),
        webhook_body_bytes=ingest.body_bytes,
        evaluate_per_due=rate(
            evaluate, max(1, evaluation.due), per_due_tables, cpu=evaluate.cpu["EvaluateFunction"]
        ),
        evaluate_per_decision=rate(evaluate, decisions, per_decision_tables),
        due_per_enrollment_day=evaluation.due / evaluation.enrollment_days,
        decisions_per_enrollment_day=evaluation.decisions / evaluation.enrollment_days,
        emails_per_decision=(emails / max(1, delivered)) * (len(evaluation.pending) / decisions),
        notify_per_email=notify_per_email,
        notify_batch=notify_batch,
        roster_per_enrollment=rate(roster, roster_n, cpu=roster_cpu),
        raw_event_bytes=ingest.raw_event_bytes,
        enrollment_bytes=ingest.enrollment_bytes,
        outbox_bytes_per_decision=outbox_bytes,
        audit_bytes_per_decision=audit_bytes * audit_puts / decisions,
        log_bytes=log_bytes,
        memory_mb=memory,
        decisions_source="the evaluation run (engine benchmark's shipped programs and activity)",
    )


def saturated(spread: Phase, grown: Phase, events: int) -> Rate:
    """The spread arrival's per-event figures with enrollment items and index entries as large as
    in ``grown`` (the clustered group after more school days): its writes, charged at ``grown``'s
    units per write."""
    s_enr = spread.tables.get("EnrollmentsTable", TableWork())
    g_enr = grown.tables.get("EnrollmentsTable", TableWork())
    per_write = g_enr.wru / max(1, g_enr.writes)
    per_index = grown.total().index_wru / max(1, sum(grown.index_writes.values()))
    t = spread.total()
    wru = t.wru - s_enr.wru + s_enr.writes * per_write
    index = sum(spread.index_writes.values()) * per_index
    w = rate(spread, events)
    return replace(w, wru=(wru + index) / events, index_wru=index / events)


def _fmt_ops(ops: Counter[str], n: float) -> str:
    return ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(ops.items()))


def _print_measured(
    ingest: IngestResult,
    evaluation: EvaluateResult,
    notify: Phase,
    delivered: int,
    emails: int,
    roster: Phase,
    roster_n: int,
    scale: list[tuple[int, int, int, Counter[str]]],
    m: Measured,
) -> None:
    counts = ", ".join(f"{model} {n:,}" for model, n in ingest.events_per_day.items())
    print(
        f"ingest: events a school day ({counts}), webhooks of 100, program cps-online "
        f"(kinds its rules keep a history of: {', '.join(ingest.history_kinds) or 'none'})"
    )
    for model, phases in ingest.phases.items():
        label = (
            "100 distinct enrollments a batch" if model == "spread" else "10 enrollments x 10 events a batch"
        )
        per = ingest.events_per_day[model] / 1000
        figures = []
        for phase in phases:
            w = phase.total()
            figures.append(f"{w.wru / per:.0f}+{w.index_wru / per:.0f}/{w.rru / per:.0f}")
        print(
            f"  {label:36} WRU table+index / RRU per 1,000 events, school day 1..{len(phases)}: "
            + "  ".join(figures)
        )
        last = phases[-1]
        print("    last day, requests per 1,000 events: " + _fmt_ops(last.operations, per))
        print("    last day, index writes per 1,000 events: " + _fmt_ops(last.index_writes, per))
    print(
        f"  stored raw event: {ingest.raw_event_size:,.0f} bytes (with index entries and overhead "
        f"{ingest.raw_event_bytes:,.0f}); enrollment item after "
        f"{len(ingest.phases['clustered'])} school days: "
        f"{ingest.enrollment_bytes:,.0f} bytes stored; webhook body {ingest.body_bytes:,.0f} bytes "
        f"(gzip {ingest.body_gzip_bytes:,.0f}); its raw archive object {ingest.archive_bytes:,.0f} bytes"
    )
    print(
        f"  handler CPU {m.ingest_cpu_per_webhook * 1000:.1f} ms per webhook, "
        f"{m.ingest_calls_per_webhook:.1f} AWS calls per webhook "
        f"({m.archive_puts_per_webhook:.2f} of them S3 PutObject)"
    )
    e = evaluation
    print(
        f"evaluate: {e.enrollment_days:,} enrollment-days of the shipped programs on moto server: "
        f"{e.due:,} due ({m.due_per_enrollment_day:.3f} per enrollment-day), {e.decisions:,} decisions "
        f"({m.decisions_per_enrollment_day * 30.4:.2f} per enrollment a month)"
    )
    d, c = m.evaluate_per_due, m.evaluate_per_decision
    print(
        f"  per due enrollment: {d.requests:.2f} requests, {d.rru:.2f} RRU, {d.wru:.2f} WRU "
        f"({d.index_wru:.2f} on indexes), {d.cpu_seconds * 1000:.2f} ms handler CPU"
    )
    print(
        f"  per decision: {c.requests:.2f} requests, {c.rru:.2f} RRU, {c.wru:.2f} WRU "
        f"({c.index_wru:.2f} on indexes)"
    )
    print(f"  requests by operation per due enrollment: {_fmt_ops(e.phase.operations, max(1, e.due))}")
    n = m.notify_per_email
    print(
        f"notify: {delivered} notices, {emails} emails through the notify handler: per email "
        f"{n.requests:.2f} DynamoDB requests, {n.aws_calls:.2f} AWS calls, {n.rru:.2f} RRU, {n.wru:.2f} WRU "
        f"({n.index_wru:.2f} on indexes), {n.cpu_seconds * 1000:.1f} ms handler CPU"
    )
    print(f"  by operation per email: {_fmt_ops(notify.operations, max(1, emails))}")
    print(
        f"  per notice: {notify.total().requests / max(1, delivered):.2f} DynamoDB requests; final statuses: "
        + "; ".join(f"{k} x{v}" for k, v in notify.statuses.most_common())
    )
    r = m.roster_per_enrollment
    print(
        f"roster reload (unchanged, {roster_n} enrollments): per enrollment {r.requests:.2f} requests, "
        f"{r.rru:.2f} RRU, {r.wru:.2f} WRU ({r.index_wru:.2f} on indexes); attributes whose change "
        f"rewrote the due index entry: {', '.join(f'{k} {v}' for k, v in roster.changed.most_common(6))}"
    )
    print("scale: requests per due enrollment, one evaluation day (flat = no per-size term):")
    for size, due, requests, ops in scale:
        print(
            f"  {size:>9,} enrollments: {requests / max(1, due):.4f} per due ({_fmt_ops(ops, max(1, due))})"
        )


def _print_bill(lines: list[Line], w: Workload, a: Assumptions, bill: float) -> None:
    print(
        f"month: {w.enrollments:,} enrollments, {w.events_per_school_day} events each a school day, "
        f"{w.school_days_per_month:.0f} school days, webhooks of {w.batch}; raw event items kept "
        f"{w.raw_event_ttl_days} days, the archive {w.raw_archive_days}; "
        f"{a.dynamodb_call_seconds * 1000:.0f} ms per DynamoDB call, "
        f"{a.other_call_seconds * 1000:.0f} ms per SES or S3 call"
    )
    for line in lines:
        print(f"  {line.service:22} {line.what:52} {line.quantity:>16,.1f} {line.unit:14} ${line.usd:>9,.2f}")
    print(
        "  by service: "
        + ", ".join(f"{s} ${v:,.2f}" for s, v in sorted(by_service(lines).items(), key=lambda kv: -kv[1]))
    )
    verdict = "PASS" if bill <= TARGET_USD else "FAIL"
    print(f"  total ${bill:,.2f} per 100,000 enrollments a month; target ${TARGET_USD:.0f}: {verdict}")


def _with_writes(r: Rate, n: float, wru: float, index_wru: float) -> Rate:
    return replace(r, wru=(wru + index_wru) / n, index_wru=index_wru / n)


def proposals(
    m: Measured,
    w: Workload,
    clustered: tuple[Phase, int] | None = None,
    body_gzip_bytes: float | None = None,
) -> list[tuple[str, Measured, Workload]]:
    """What is still between the bill and the target, each as the measured figures it changes
    (the due index KEYS_ONLY, the enrollment item under 1 KB, the roster reload that writes only
    what changed, and the raw archive with slim items in a 30-day window are measured already)."""

    def small_facts(r: Rate, phase: Phase, n: float) -> Rate:
        t = phase.total()
        enrollments = phase.tables.get("EnrollmentsTable", TableWork())
        wru = t.wru - enrollments.wru + enrollments.writes  # each facts write 1 WRU
        return _with_writes(r, n, wru, t.index_wru)  # index writes as measured (keys only)

    options: list[tuple[str, Measured, Workload]] = [
        (
            "raw event items kept as long as the archive (RawEventTtlDays 400: voids and conflicts "
            "of any age found, as before the archive)",
            m,
            replace(w, raw_event_ttl_days=w.raw_archive_days),
        ),
    ]
    if clustered:
        grouped = replace(m, ingest_per_event=small_facts(m.ingest_per_event, clustered[0], clustered[1]))
        options.append(
            (
                "each webhook's events from 10 enrollments (the clustered arrival, or ingest folding "
                "each enrollment's events of several webhooks in one write)",
                grouped,
                w,
            )
        )
        options.append(
            (
                "all that, and a webhook's raw events as one item (event ids and digests; duplicates "
                "found by webhook-id and by the event ids inside)",
                _one_item_per_webhook(grouped, clustered[0], clustered[1], body_gzip_bytes),
                w,
            )
        )
    return options


def _one_item_per_webhook(m: Measured, phase: Phase, n: int, compressed: float | None) -> Measured:
    """Raw event items as one item per webhook instead of one per event: the slim items'
    attributes of its 100 events, compressed 3 to 1 (an assumption: ids and digests compress
    poorly), the archive in S3 as now (read units of the lookup left as measured: conservative).
    ``compressed`` (the gzip body) is a floor."""
    raw = phase.tables.get("EventsTable", TableWork())
    size = max(compressed or 0.0, 100 * (m.raw_event_bytes - 100) / 3)
    per_event = write_units(int(size)) / 100
    r = m.ingest_per_event
    return replace(
        m,
        ingest_per_event=replace(r, wru=r.wru - raw.wru / n + per_event),
        raw_event_bytes=(size + 100) / 100,
    )


def _print_drivers(
    lines: list[Line], options: list[tuple[str, Measured, Workload]], a: Assumptions, bill: float
) -> list[tuple[str, float]]:
    ranked = sorted(lines, key=lambda line: -line.usd)[:3]
    print("  top cost drivers:")
    for line in ranked:
        print(f"    {line.service} / {line.what}: ${line.usd:,.2f}")
    print("  what would reduce them (the month's total with each change alone, then all together):")
    out = []
    for what, measured, workload in options:
        usd = total(monthly_lines(measured, workload, a))
        out.append((what, usd))
        print(f"    if {what}: ${usd:,.2f} (from ${bill:,.2f})")
    return out
