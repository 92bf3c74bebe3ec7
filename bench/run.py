"""OnPace benchmarks: machine-independent figures, each against a baseline measured in the same run.

1. engine   — in memory: one term (90 days) of N enrollments evaluated the way the deployed
              evaluator does (only on each enrollment's wake dates) vs. evaluating every
              enrollment every day. Prints enrollment-days per second for both and the ratio.
2. storage  — on moto server: DynamoDB requests per enrollment-day of the real evaluation code
              (due-index Query + writes) vs. the same code made to look at every enrollment
              every day. Request counts do not depend on the machine; moto's own speed does.

    python -m bench.run [engine|storage|all] [--enrollments N] [--days D]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "layers" / "rules", ROOT / "layers" / "core", ROOT / "local"):
    sys.path.insert(0, str(entry))

from onpace_rules import EnrollmentState, Evaluation, ProgramConfig, compile_program, evaluate_enrollment  # noqa: E402
from onpace_rules.engine import apply_evaluation  # noqa: E402

START = date(2026, 8, 24)
RULES: dict[str, dict[str, Any]] = {
    "cps.pacing.ipr_warning_2w": {},
    "cps.pacing.ipr_warning_1w": {},
    "cps.pacing.ipr_drop": {},
    "csu.engagement.at_risk_14d": {},
    "csu.engagement.withdraw_21d": {},
    "msc.progress.step1_contact": {},
}


def bench_program(district: str = "bench") -> ProgramConfig:
    return ProgramConfig(
        district_id=district,
        program_id="p",
        name="Bench",
        time_zone="America/Chicago",
        policy_version="bench-1",
        source="bench",
        calendar={
            "holidays": ["2026-09-07"],
            "terms": [{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}],
        },
        rules=RULES,
    )


def activity_plan(n: int, days: int, seed: int = 7) -> list[dict[date, str]]:
    """Per enrollment: which day it submits; most students every 1–4 days, some stop early."""
    rng = random.Random(seed)
    plans = []
    for _ in range(n):
        every = rng.choice([1, 2, 3, 4, 6])
        stop = rng.choice([days, days, days, rng.randrange(5, days)])
        plans.append({START + timedelta(days=d): "submission" for d in range(0, stop, every)})
    return plans


def run_engine(n: int, days: int) -> None:
    compiled = compile_program(bench_program())
    plans = activity_plan(n, days)

    def replay(use_wake: bool) -> tuple[float, int]:
        evaluations = 0
        started = time.perf_counter()
        for i, plan in enumerate(plans):
            state = EnrollmentState(
                key=f"e{i}", start_date=START, term_id="fall", percent_complete=(i % 30) / 100
            )
            wake: date | None = START
            for offset in range(days):
                day = START + timedelta(days=offset)
                if state.status == "active" and (not use_wake or (wake is not None and wake <= day)):
                    evaluation = evaluate_enrollment(compiled, state, day)
                    state = apply_evaluation(state, evaluation, day)
                    wake = evaluation.wake_on
                    evaluations += 1
                kind = plan.get(day)
                if kind:
                    state = replace(state, last_on={**state.last_on, kind: day})  # type: ignore[dict-item]
        return time.perf_counter() - started, evaluations

    every_s, every_n = replay(use_wake=False)
    wake_s, wake_n = replay(use_wake=True)
    enrollment_days = n * days
    print(
        f"engine: {n} enrollments x {days} days = {enrollment_days:,} enrollment-days (in memory, one core)"
    )
    rows = (("every day (baseline)", every_n, every_s), ("wake dates (deployed)", wake_n, wake_s))
    for label, count, seconds in rows:
        rate = enrollment_days / seconds
        print(f"  {label:22} {count:>9,} evaluations  {rate:>12,.0f} enrollment-days/s")
    print(f"  evaluations per enrollment-day: {wake_n / enrollment_days:.3f} (baseline 1.000)")
    print(f"  speed-up over baseline, same run: x{every_s / wake_s:.1f}")


@contextmanager
def counting_requests() -> Iterator[dict[str, int]]:
    from pynamodb.connection.base import Connection

    counts: dict[str, int] = {}
    original = Connection._make_api_call

    def counted(
        self: Connection, operation_name: str, operation_kwargs: dict[str, Any], *a: Any, **k: Any
    ) -> Any:
        counts[operation_name] = counts.get(operation_name, 0) + 1
        return original(self, operation_name, operation_kwargs, *a, **k)

    Connection._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        Connection._make_api_call = original  # type: ignore[method-assign]


def run_storage(n: int, days: int) -> None:
    from onpace_core.facts.fold import Activity, fold
    from onpace_core.notices import evaluation as evaluation_module
    from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
    from onpace_core.store.enrollments import upsert_enrollments
    from onpace_core.store.programs import save_program
    from onpace_local.stack import LocalStack

    def every_day(real: Callable[..., Evaluation]) -> Callable[..., Evaluation]:
        def wrapped(program: Any, state: EnrollmentState, day: date) -> Evaluation:
            result = real(program, state, day)
            wake = day + timedelta(days=1) if result.status == "active" else None
            return replace(result, wake_on=wake)

        return wrapped

    plans = activity_plan(n, days)
    print(f"storage: {n} enrollments x {days} days on moto server (DynamoDB requests of the evaluation only)")
    with LocalStack.start(ROOT / "template.yaml", parameter_overrides={"LogLevel": "WARNING"}):
        results = {}
        for mode in ("baseline", "deployed"):
            program = bench_program(district=f"bench-{mode}")
            save_program(program)
            records = [
                EnrollmentRecord(
                    district_id=program.district_id,
                    program_id="p",
                    class_id="c",
                    class_title="Bench",
                    student_id=f"s{i}",
                    student_name=f"S {i}",
                    term_id="fall",
                    start_date=START,
                    end_date=None,
                    contacts=(ContactRecord("student", f"s{i}@example.org", None, "en"),),
                )
                for i in range(n)
            ]
            upsert_enrollments(records, program)
            patched = every_day(evaluation_module.evaluate_enrollment) if mode == "baseline" else None
            original = evaluation_module.evaluate_enrollment
            if patched:
                evaluation_module.evaluate_enrollment = patched  # type: ignore[assignment]
            total = 0
            try:
                for offset in range(days):
                    day = START + timedelta(days=offset)
                    with counting_requests() as counts:
                        evaluation_module.evaluate_program_day(program, day, datetime.now(UTC))
                    total += sum(counts.values())
                    for i, plan in enumerate(plans):
                        if day in plan:
                            fold(
                                Activity(
                                    program.district_id,
                                    f"s{i}",
                                    "c",
                                    "submission",
                                    datetime(day.year, day.month, day.day, 17, tzinfo=UTC),
                                )
                            )
                    print(f"  {mode:8} day {offset + 1:>3}/{days}", end="\r", file=sys.stderr, flush=True)
            finally:
                evaluation_module.evaluate_enrollment = original  # type: ignore[assignment]
            results[mode] = total
        print(" " * 40, end="\r", file=sys.stderr)
    enrollment_days = n * days
    for mode in ("baseline", "deployed"):
        label = "every enrollment daily (baseline)" if mode == "baseline" else "due-index query (deployed)"
        print(
            f"  {label:34} {results[mode]:>7,} requests  "
            f"{results[mode] / enrollment_days:.3f} per enrollment-day"
        )
    print(f"  ratio deployed / baseline, same run: {results['deployed'] / results['baseline']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("which", nargs="?", choices=("engine", "storage", "all"), default="all")
    parser.add_argument("--enrollments", type=int, default=None, help="engine: 10000, storage: 150")
    parser.add_argument("--days", type=int, default=None, help="engine: 90, storage: 45")
    args = parser.parse_args(argv)
    if args.which in ("engine", "all"):
        run_engine(args.enrollments or 10_000, args.days or 90)
    if args.which in ("storage", "all"):
        run_storage(args.enrollments or 150, args.days or 45)
    return 0


if __name__ == "__main__":
    sys.exit(main())
