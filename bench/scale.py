"""DynamoDB requests per due enrollment of one evaluation day, at rising sizes, on moto server.

    python -m bench.run scale [--enrollments N]   # sizes 1,000, 10,000, ... up to N

One program day on which every enrollment of the bench program is due, planned and evaluated
the way the deployed stack does it: the planner (``EvaluateFunction``) cuts the due keys into
shards on ``EvaluateQueue``, and the queue is drained into ``EvaluateWorkerFunction``
(``onpace_local.evaluation.run_program_day``). Every DynamoDB request of both is counted with
botocore's ``before-call`` hook (``onpace_local.request_count``); nothing else is.

moto server runs in a process of its own (``start_moto_process``): in a thread of this process
it shares the GIL with the handlers that call it, and one UpdateItem took 60-150 ms on the
shared 2-core machine. The enrollments are seeded as copies of one real roster item (the roster
upsert's), 25 to a BatchWriteItem, as ``tests/integration/districts.py`` does: the roster load
itself would spend three requests per enrollment, and the measurement is of the evaluation.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from onpace_local.request_count import RequestCounts

READS = ("GetItem", "BatchGetItem", "Query", "Scan")
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
DEFAULT_SIZES = (1_000, 10_000, 100_000)


@dataclass(frozen=True)
class ScaleRun:
    """One evaluation day of ``enrollments``, every one due."""

    enrollments: int
    due: int  # enrollments the workers evaluated
    shards: int
    counts: RequestCounts
    seed_seconds: float  # seeding the enrollments (not measured work)
    seconds: float  # planner + workers, wall clock

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    def of(self, operations: Iterable[str]) -> int:
        return sum(self.counts.of(op) for op in operations)

    @property
    def reads(self) -> int:
        return self.of(READS)

    @property
    def writes(self) -> int:
        return self.of(WRITES)

    def per_due(self) -> float:
        return self.requests / max(1, self.due)

    def reads_per_100_due(self) -> float:
        return 100 * self.reads / max(1, self.due)

    def line(self) -> str:
        ops = ", ".join(f"{op} {self.counts.of(op):,}" for op in (*READS, *WRITES) if self.counts.of(op))
        return (
            f"  {self.enrollments:>9,} enrollments: {self.due:,} due in {self.shards} shards, "
            f"{self.requests:,} requests = {self.per_due():.4f} per due, "
            f"{self.reads_per_100_due():.2f} reads per 100 due ({ops}); "
            f"{self.seconds:,.0f} s evaluating ({self.due / max(self.seconds, 1e-9):,.0f} due/s), "
            f"{self.seed_seconds:,.0f} s seeding"
        )


def seed_enrollments(stack: Any, n: int) -> tuple[str, str]:
    """A fresh bench program with ``n`` enrollments, all due on ``START``; (district, program)."""
    from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
    from onpace_core.store.enrollments import due_key, shard_of, upsert_enrollments
    from onpace_core.store.models import Contact, EnrollmentModel
    from onpace_core.store.programs import save_program

    from bench.run import START, bench_program

    client = stack.client("dynamodb")
    table = stack.ref("EnrollmentsTable")
    program = bench_program(district=f"scale-{n}-{uuid.uuid4().hex[:4]}")
    save_program(program)
    record = EnrollmentRecord(
        district_id=program.district_id,
        program_id=program.program_id,
        class_id="c",
        class_title="Bench",
        student_id="s0",
        student_name="S 0",
        term_id="fall",
        start_date=START,
        end_date=None,
        contacts=(ContactRecord("student", "s0@example.org", None, "en"),),
    )
    upsert_enrollments([record], program)
    d = program.district_id
    template = client.get_item(TableName=table, Key={"enrollment_key": {"S": f"{d}#c#s0"}})["Item"]
    batch: list[dict[str, Any]] = []
    for i in range(1, n):
        key = f"{d}#c#s{i}"
        # Through the model: the item's stored names and packed forms are the model's business.
        clone = EnrollmentModel.from_raw_data(dict(template))
        clone.enrollment_key = key
        clone.student_id = f"s{i}"
        clone.student_name = f"S {i}"
        clone.student_key = f"{d}#s{i}"
        clone.due_key = due_key(d, program.program_id, shard_of(key, program.evaluation_shards))
        clone.contacts = [Contact(role="student", address=f"s{i}@example.org", language="en")]
        item = clone.serialize()
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25 or i == n - 1:
            request: dict[str, Any] = {table: batch}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            batch = []
    return d, program.program_id


def measure_day(stack: Any, n: int) -> ScaleRun:
    """Seed ``n`` enrollments, then count one program day of planner and workers."""
    from onpace_local.evaluation import run_program_day
    from onpace_local.request_count import counting_requests

    from bench.run import START

    started = time.perf_counter()
    district, program = seed_enrollments(stack, n)
    seeded = time.perf_counter()
    with counting_requests() as counts:
        run = run_program_day(stack, district, program, START)
    done = time.perf_counter()
    due = sum(int(s["enrollments_evaluated"]) for s in run.shards)
    return ScaleRun(n, due, len(run.shards), counts, seeded - started, done - seeded)


def run_scale(sizes: Iterable[int], *, own_process: bool = True) -> list[ScaleRun]:
    """Measure each size on one stack (moto in a process of its own unless ``own_process`` is
    false), printing each line as it is done."""
    from onpace_local.moto_server import start_moto_process
    from onpace_local.stack import LocalStack

    from bench.run import ROOT

    moto = start_moto_process() if own_process else None
    out: list[ScaleRun] = []
    try:
        with LocalStack.start(
            ROOT / "template.yaml", root=ROOT, moto=moto, parameter_overrides={"LogLevel": "WARNING"}
        ) as stack:
            for function in ("EvaluateFunction", "EvaluateWorkerFunction"):
                stack.handler(function)  # imported before counting: the models bind their clients
            where = "in a process of its own" if own_process else "in a thread of this process"
            print(f"scale: one evaluation day, every enrollment due (bench program), moto server {where}")
            for n in sizes:
                result = measure_day(stack, n)
                out.append(result)
                print(result.line(), flush=True)
    finally:
        if moto is not None:
            moto.stop()
    return out


def sizes_up_to(largest: int) -> list[int]:
    """The default sizes not above ``largest`` (``largest`` itself when it is below them all)."""
    return [s for s in DEFAULT_SIZES if s <= largest] or [largest]
