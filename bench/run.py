"""OnPace benchmarks: machine-independent figures, each against a baseline measured in the same run.

1. engine   — ``onpace replay`` in memory: 90 days of a fall term for N enrollments (a third
              each in the shipped CPS Online, CSU Global and MSC Online programs, whole),
              evaluated the way the scheduled evaluator does (only on wake dates, moved as the
              deployed store moves them). Prints enrollment-days covered per second, enrollment
              evaluations run per second, evaluations per enrollment-day, and the speed-up
              over the same replay made to evaluate every enrollment every day (measured in
              the same run on a sample).
2. storage  — on moto server: DynamoDB requests per enrollment-day of the real evaluation code
              (due-index Query + writes) vs. the same code made to look at every enrollment
              every day. Request counts do not depend on the machine; moto's own speed does.
3. ingest   — on moto server: plain webhooks through the real ingest handler; DynamoDB requests
              per 1,000 events and events per second, as ratios to BatchWriteItem of the same
              raw events alone (``bench/ingest.py``).
4. coldstart — each handler's import time as a ratio to ``import boto3`` plus the clients it
              makes, paired fresh interpreters, median of N rounds (``bench/coldstart.py``).
5. load     — signed webhook batches at rising rates through the local gateway, open loop: the
              rate at which p99 passes 1 s, and every accepted event read back (``bench/load.py``;
              not part of ``all``).
6. cost     — the AWS bill of 100,000 enrollments a month from measured request units, CPU
              and sizes on moto server, at list prices written down with their date
              (``bench/cost.py``, ``bench/cost_model.py``; not part of ``all``); also DynamoDB
              requests per due enrollment of one evaluation day at rising sizes.
8. notify   — on moto server: outbox notices (3 recipients, 2 languages, deadline.ics each)
              through the real notify handler, emails per second as a ratio to bare SES
              ``send_email`` calls in the same run, and DynamoDB requests per email
              (``bench/notify.py``).
9. console  — on moto server: a page of 50 audit rows (the audit view served by the console
              function's handler; ``--source http`` through the local gateway) against the raw
              DynamoDB Query of 50 items, 10,000 entries in the district, paired, median ratio
              and DynamoDB requests per page (``bench/console.py``).
7. scale    — that last figure alone, at 1,000, 10,000 and 100,000 enrollments (up to N), moto
              server in a process of its own (``bench/scale.py``; not part of ``all``).

    python -m bench.run [engine|storage|ingest|coldstart|all] [--enrollments N] [--days D]
                        [--events N] [--rounds N] [--no-tracing] [--first-use] [--instructions]
    python -m bench.run cost [--enrollments N] [--days D]
    python -m bench.run scale [--enrollments 100000]
    python -m bench.run notify [--notices N]
    python -m bench.run console [--entries 10000] [--rounds 21] [--pages 3] [--source handler]
    python -m bench.run load [--rates 0.5,1,2,4,8,16] [--seconds 10] [--batch 100]
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
from datetime import time as dtime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "layers" / "rules", ROOT / "layers" / "core", ROOT / "local"):
    sys.path.insert(0, str(entry))

from onpace_rules import EnrollmentState, Evaluation, ProgramConfig  # noqa: E402

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


# The shipped program files, whole (every rule they enable, their calendars), each with the fall
# term of 2026-27 the benchmark's roster is in.
REPLAY_PROGRAMS: dict[str, tuple[str, str]] = {
    "cps": ("cps-online.yaml", "cps-fall-2026"),
    "csu": ("csu-global.yaml", "csu-2026-fall"),
    "msc": ("msc-online.yaml", "msc-2026-27-fall"),
}
ENGAGEMENT_KINDS = {"cps": "submission", "csu": "discussion_post", "msc": "submission"}


class ReplayInputs(NamedTuple):
    config: ProgramConfig
    records: list[Any]
    events: list[Any]
    first: date  # the term's first day


def replay_inputs(family: str, n: int, days: int, seed: int = 11) -> ReplayInputs:
    """A shipped program, a roster of its fall term and a term of events: students who work
    every 2–10 days, some who stop part-way, log-ins between, progress reports with the work."""
    from onpace_core.ingest.event import LmsEvent, Ref
    from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
    from onpace_rules.program_files import load_program_file

    file_name, term_id = REPLAY_PROGRAMS[family]
    config = load_program_file(ROOT / "programs" / file_name)
    term = next(t for t in config.calendar.terms if t.id == term_id)
    records = [
        EnrollmentRecord(
            district_id=config.district_id,
            program_id=config.program_id,
            class_id=f"c{i % 400}",
            class_title="Bench",
            student_id=f"s{i}",
            student_name=f"S {i}",
            term_id=term.id,
            start_date=term.start,
            end_date=term.end,
            contacts=(ContactRecord("student", f"s{i}@example.org", None, "en"),),
            grade_level="10",
        )
        for i in range(n)
    ]
    rng = random.Random(seed)
    zone = ZoneInfo(config.time_zone)
    events = []
    for i in range(n):
        every = rng.choice([2, 3, 4, 5, 7, 10])
        stop = rng.choice([days, days, days, rng.randrange(5, days)])
        percent = 0.0
        for offset in range(0, stop, every):
            day = term.start + timedelta(days=offset)
            percent = min(100.0, percent + rng.uniform(0, 4))
            at = datetime.combine(day, dtime(15), zone)
            # The internal event every parser gives: the benchmark measures ingest and
            # evaluation, not JSON parsing.
            for event_id, kind, when, value in (
                (f"e{i}-{offset}", ENGAGEMENT_KINDS[family], at, percent if family == "cps" else None),
                (f"l{i}-{offset}", "login", at - timedelta(hours=1), None),
            ):
                events.append(
                    LmsEvent(
                        event_id=event_id,
                        source="bench",
                        occurred_at=when,
                        student=(Ref("sourcedId", f"s{i}"),),
                        course=(Ref("sourcedId", f"c{i % 400}"),),
                        kind=kind,
                        percent_complete=value,
                        digest=event_id,
                    )
                )
    events.sort(key=lambda e: e.occurred_at)
    return ReplayInputs(config, records, events, term.start)


def run_engine(n: int, days: int, repeat: int = 5) -> None:
    """``onpace replay`` itself (in-memory store, shared day loop, the engine) over one term.

    Times are CPU seconds of this process (``time.process_time``). Each program is replayed
    ``repeat`` times whole; the figures are those of the median run (by its total time), never
    the best part of different runs. "evaluated" is the evaluator's day loop alone (what the
    deployed evaluator does), given two ways: enrollment-days covered per second (every
    enrollment of every day of the range, whether it was due or not) and enrollment evaluations
    actually run per second. "replayed" adds ingesting the events through the ingest service
    (what the webhooks do when deployed). Wake dates move as the deployed store moves them.
    """
    from onpace_local.replay import replay

    per_family = max(1, n // len(REPLAY_PROGRAMS))
    print(
        f"replay: {per_family * len(REPLAY_PROGRAMS):,} enrollments x {days} days of a fall term "
        f"({per_family:,} each in programs/cps-online, csu-global and msc-online), in memory, one core, "
        f"median of {repeat} whole runs"
    )
    total_days = 0
    total_evaluations = 0
    total_seconds = 0.0
    total_evaluating = 0.0
    baseline_rates = []
    for family in REPLAY_PROGRAMS:
        config, records, events, first = replay_inputs(family, per_family, days)
        last = first + timedelta(days=days - 1)
        runs = []
        for _ in range(repeat):
            started = time.process_time()
            result = replay(config, records, events, first, last)
            runs.append((time.process_time() - started, result.evaluation_seconds, result))
        runs.sort(key=lambda r: r[0])
        seconds, evaluating, result = runs[len(runs) // 2]
        enrollment_days = per_family * days
        total_days += enrollment_days
        total_evaluations += result.evaluations
        total_seconds += seconds
        total_evaluating += evaluating
        # Baseline in the same run: the same replay made to look at every enrollment every day,
        # on a tenth of the enrollments (it is an order of magnitude slower).
        sample = max(1, per_family // 10)
        small = [r for r in records if int(r.student_id[1:]) < sample]
        wanted = {r.student_id for r in small}
        theirs = [e for e in events if e.student[0].value in wanted]
        base = _every_day_replay(config, small, theirs, first, last)
        baseline_rates.append((sample * days / base.evaluation_seconds, enrollment_days / evaluating))
        print(
            f"  {family}: {enrollment_days / evaluating:>10,.0f} enrollment-days/s covered  "
            f"{result.evaluations / evaluating:>8,.0f} evaluations/s run  "
            f"{enrollment_days / seconds:>8,.0f} enrollment-days/s replayed   "
            f"{result.evaluations / enrollment_days:.3f} evaluations per enrollment-day   "
            f"{len(events) / per_family:.0f} events per enrollment   {len(result.lines):,} decisions"
        )
    print(
        f"  all: {total_days / total_evaluating:,.0f} enrollment-days/s covered, "
        f"{total_evaluations / total_evaluating:,.0f} evaluations/s run, "
        f"{total_days / total_seconds:,.0f} enrollment-days/s replayed with the events"
    )
    ratios = [wake / every for every, wake in baseline_rates]
    print(
        "  speed-up of the evaluation over evaluating every enrollment every day, same run: "
        + ", ".join(f"{family} x{r:.1f}" for family, r in zip(REPLAY_PROGRAMS, ratios, strict=True))
    )


def _every_day_replay(
    config: ProgramConfig, records: list[Any], events: list[Any], first: date, last: date
) -> Any:
    """The baseline: replay with every live enrollment due every day (no wake dates)."""
    from onpace_core.store.memory import MemoryStore
    from onpace_local import replay as replay_module

    class EveryDayStore(MemoryStore):
        def due(self, program: Any, day: date) -> Any:
            self.wake_all(day)
            return super().due(program, day)

    original = replay_module.MemoryStore
    replay_module.MemoryStore = EveryDayStore  # type: ignore[misc]
    try:
        return replay_module.replay(config, records, events, first, last)
    finally:
        replay_module.MemoryStore = original  # type: ignore[misc]


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
    from onpace_core.evaluation import day as day_module
    from onpace_core.ingest.event import LmsEvent, Ref
    from onpace_core.ingest.service import ingest_events
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
            # The day loop the scheduled function runs calls the engine through this name.
            patched = every_day(day_module.evaluate_enrollment) if mode == "baseline" else None
            original = day_module.evaluate_enrollment
            if patched:
                day_module.evaluate_enrollment = patched
            total = 0
            try:
                for offset in range(days):
                    day = START + timedelta(days=offset)
                    with counting_requests() as counts:
                        evaluation_module.evaluate_program_day(program, day, datetime.now(UTC))
                    total += sum(counts.values())
                    at = datetime(day.year, day.month, day.day, 17, tzinfo=UTC)
                    events = [
                        LmsEvent(
                            f"{mode}-{offset}-{i}",
                            "plain",
                            at,
                            (Ref("sourcedId", f"s{i}"),),
                            (Ref("sourcedId", "c"),),
                            "submission",
                        )
                        for i, plan in enumerate(plans)
                        if day in plan
                    ]
                    if events:
                        ingest_events(
                            district_id=program.district_id,
                            source="plain",
                            events=events,
                            now=at,
                            ttl_days=30,
                        )
                    print(f"  {mode:8} day {offset + 1:>3}/{days}", end="\r", file=sys.stderr, flush=True)
            finally:
                day_module.evaluate_enrollment = original
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
    parser.add_argument(
        "which",
        nargs="?",
        choices=(
            "engine",
            "storage",
            "ingest",
            "coldstart",
            "notify",
            "console",
            "load",
            "cost",
            "scale",
            "all",
        ),
        default="all",
    )
    parser.add_argument(
        "--enrollments",
        type=int,
        default=None,
        help=(
            "engine: 10000, storage: 150, ingest: 100, cost: 1000 (largest size of the due-request "
            "run), scale: 100000 (largest size)"
        ),
    )
    parser.add_argument("--days", type=int, default=None, help="engine: 90, storage: 45")
    parser.add_argument(
        "--repeat", type=int, default=5, help="engine: whole runs per program, the median counts"
    )
    parser.add_argument(
        "--events", type=int, default=2000, help="ingest: events posted, 500 per webhook (enrollments: 100)"
    )
    parser.add_argument(
        "--notices", type=int, default=200, help="notify: outbox notices sent, 3 emails each"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="coldstart: paired runs per handler (11); console: 21"
    )
    parser.add_argument("--entries", type=int, default=10_000, help="console: audit entries in the district")
    parser.add_argument("--pages", type=int, default=3, help="console: pages walked per timing")
    parser.add_argument(
        "--source",
        choices=("handler", "http", "function"),
        default="handler",
        help="console: what serves the page (the view's handler, through the gateway, the query alone)",
    )
    parser.add_argument(
        "--no-tracing", action="store_true", help="coldstart: with Tracer off, to tell what it costs"
    )
    parser.add_argument(
        "--first-use",
        action="store_true",
        help="coldstart: also import what each handler's first request imports (bench/coldstart.py)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="coldstart: count instructions with valgrind instead of timing (steady on a shared machine)",
    )
    parser.add_argument("--rates", default="0.5,1,2,4,8,16", help="load: requests per second, rising")
    parser.add_argument("--seconds", type=float, default=10.0, help="load: seconds per rate")
    parser.add_argument("--batch", type=int, default=100, help="load: events per request")
    parser.add_argument("--p99-limit", type=float, default=1.0, help="load: seconds; stop past it")
    args = parser.parse_args(argv)
    if args.which == "load":
        from bench.load import run_load

        rates = [float(r) for r in args.rates.split(",") if r.strip()]
        report = run_load(rates, args.seconds, args.batch, args.enrollments or 100, args.p99_limit)
        return 1 if report.missing or report.stored_refused else 0
    if args.which == "scale":  # not in "all": 100,000 enrollments take most of an hour
        from bench.scale import run_scale, sizes_up_to

        run_scale(sizes_up_to(args.enrollments or 100_000))
        return 0
    if args.which in ("engine", "all"):
        run_engine(args.enrollments or 10_000, args.days or 90, max(1, args.repeat))
    if args.which in ("storage", "all"):
        run_storage(args.enrollments or 150, args.days or 45)
    if args.which in ("ingest", "all"):
        from bench.ingest import run_ingest

        run_ingest(args.events, args.enrollments or 100)
    if args.which in ("notify", "all"):
        from bench.notify import run_notify

        run_notify(args.notices)
    if args.which in ("console", "all"):
        from bench.console import run_console

        run_console(args.entries, max(1, args.rounds or 21), max(1, args.pages), args.source)
    if args.which in ("coldstart", "all"):
        from bench.coldstart import run_coldstart

        if not run_coldstart(
            max(1, args.rounds or 11),
            tracing=not args.no_tracing,
            first_use=args.first_use,
            instructions=args.instructions,
        ):
            return 1
    if args.which == "cost":  # not in "all": it takes minutes of moto server
        from bench.cost import run_cost

        run_cost(enrollments=args.enrollments or 1_000, days=args.days or 35)
    return 0


if __name__ == "__main__":
    sys.exit(main())
