"""Cold start: each handler's import against ``import boto3`` plus the clients it creates.

What a Lambda cold start pays before the first line of the handler runs is the import of the
handler module (and, on the first request, the AWS clients it uses). The figure here is the
ratio of two timings, each a fresh interpreter started by this process and timed from inside:

    A (baseline)  import boto3; boto3.client(s) for every service s the handler uses
    B (handler)   import <handler module>; boto3.client(s) for the same services

B does all of A's work (a client the handler already made at import is made again, which
costs little), so B / A is what the handler's own imports add. The interpreter's start-up is
outside both timings, and each is the CPU time of that process (``time.process_time``), so
other processes on a shared machine count as little as they can (the files read are in the
page cache after the first, uncounted, run of each). Runs alternate A, B then B, A so that a
slow stretch of the machine hits both; each handler's figure is the median of the paired
ratios of N rounds. The process sees the function's environment from ``template.yaml``
(table names and the like as placeholders) and ``LAMBDA_TASK_ROOT``, so Powertools Tracer is
on and patches botocore as it does when deployed (``--no-tracing``: off, to tell what it
costs); ``sys.path`` is the function's folder and the layers, as Lambda lays them out.

``--first-use`` adds to B the modules the handler's first request of its main kind imports
(``FIRST_USE``: what the handler loads lazily, on purpose, because not every container or not
every request needs it): the figure of a container's import plus its first request's imports,
which the lazy imports do not make smaller, only later.

``--instructions`` counts instructions instead of timing (valgrind's cachegrind, ``Ir``, one run
each, ``PYTHONHASHSEED=0``; the interpreter's start-up, ``python -c pass``, subtracted from both):
a count does not depend on what else the machine runs, so on a shared machine it tells two
versions apart where the times' noise (±0.1–0.3 between runs) does not. It is a proxy: it counts
the process's own instructions, not the kernel's file look-ups and reads (a tenth to a fifth of
an import's CPU time) nor the time spent waiting on memory.

    python -m bench.run coldstart [--rounds N] [--no-tracing] [--first-use] [--instructions]
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 1.25

# The AWS clients each handler's cold start makes, directly (at import: SQS, SES, S3) or through
# pynamodb (DynamoDB) and Powertools parameters (Secrets Manager) on the first request. A handler
# not listed here uses DynamoDB only. tests/unit/test_cold_imports.py checks that every client a
# handler makes at import is listed.
CLIENTS: dict[str, tuple[str, ...]] = {
    "ingest_handler": ("dynamodb", "secretsmanager"),
    "evaluate_handler": ("dynamodb", "sqs"),
    "evaluate_worker": ("dynamodb", "sqs"),
    "notify_handler": ("dynamodb", "sesv2", "sqs", "sns"),
    "roster_handler": ("dynamodb", "s3"),
}

# What each handler's first request of its main kind imports beyond the handler module (a
# plain webhook, a Canvas queue message, an hourly plan, a shard, a notice, a roster export, an
# audit page of the console's API). tests/unit/test_cold_imports.py checks that none is loaded
# at import and that each exists.
FIRST_USE: dict[str, tuple[str, ...]] = {
    "ingest_handler": ("onpace_core.ingest.formats.plain", "onpace_core.ingest.service"),
    "canvas_queue_handler": ("pydantic", "onpace_core.ingest.service"),
    "evaluate_handler": (
        "onpace_core.evaluation.request",
        "onpace_core.evaluation.fanout",
        "onpace_core.store.programs",
        "onpace_core.notices.evaluation",
    ),
    "evaluate_worker": (
        "onpace_core.evaluation.fanout",
        "onpace_core.store.programs",
        "onpace_core.notices.evaluation",
    ),
    "notify_handler": ("onpace_core.delivery.retry", "onpace_core.delivery.sender"),
    "roster_handler": ("onpace_core.roster.s3_import",),
    "console_handler": (),
}

_TIMED = """
import importlib, sys, time
started = time.process_time()
if sys.argv[1]:
    for name in sys.argv[1].split(","):
        importlib.import_module(name)
import boto3
for service in sys.argv[2].split(","):
    boto3.client(service)
print(time.process_time() - started)
"""


@dataclass(frozen=True)
class Target:
    """One handler module with the folders on its path and the environment Lambda gives it."""

    function: str
    module: str
    path: tuple[Path, ...]
    environment: dict[str, str]

    @property
    def clients(self) -> tuple[str, ...]:
        return CLIENTS.get(self.module, ("dynamodb",))

    @property
    def first_use(self) -> tuple[str, ...]:
        return FIRST_USE.get(self.module, ())


def _placeholder(value: Any, parameters: dict[str, Any]) -> str:
    """An environment value of the template as a plain string: a parameter's default, or a
    stand-in name for a resource (nothing is called at import time)."""
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        spec = parameters.get(name)
        if isinstance(spec, dict) and "Default" in spec:
            return str(spec["Default"])
        return f"bench-{name}".lower()
    if isinstance(value, dict):
        return "bench"
    return str(value)


def targets(template: Path = ROOT / "template.yaml", *, tracing: bool = True) -> list[Target]:
    """Every distinct handler module of the template (two functions may share one).

    ``tracing=False`` sets ``POWERTOOLS_TRACE_DISABLED``, to tell what Tracer itself costs."""
    from onpace_local.template import function_specs, layer_dirs, load_template

    parameters = load_template(template).get("Parameters", {})
    layers = tuple(layer_dirs(template))
    found: dict[str, Target] = {}
    for spec in function_specs(template):
        if spec.module in found:
            continue
        env = {name: _placeholder(value, parameters) for name, value in spec.environment.items()}
        env.update(
            {
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "_HANDLER": spec.handler,
            }
        )
        if not tracing:
            env["POWERTOOLS_TRACE_DISABLED"] = "true"
        found[spec.module] = Target(spec.logical_id, spec.module, (spec.code_dir, *layers), env)
    return list(found.values())


def _environment(target: Target) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(target.environment)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in target.path)
    return env


def time_import(target: Target, module: str | None, *, first_use: bool = False) -> float:
    """CPU seconds a fresh interpreter takes to import ``module`` (none: the baseline) and boto3
    and to make the target's clients; ``first_use``: also the modules of its first request."""
    modules = [module, *(target.first_use if first_use else ())] if module else []
    completed = subprocess.run(
        [sys.executable, "-c", _TIMED, ",".join(modules), ",".join(target.clients)],
        env=_environment(target),
        cwd=str(target.path[0]),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module or 'baseline'} failed to import:\n{completed.stderr[-2000:]}")
    return float(completed.stdout.strip().splitlines()[-1])


_VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def count_instructions(target: Target, module: str | None, *, first_use: bool = False) -> int:
    """Instructions a fresh interpreter runs for what ``time_import`` times, less its start-up."""

    def run(code: tuple[str, ...]) -> int:
        env = {**_environment(target), "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            [*_VALGRIND, sys.executable, "-c", *code],
            env=env,
            cwd=str(target.path[0]),
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"{module or 'baseline'} failed under valgrind:\n{done.stderr[-2000:]}")
        return int(found.group(1).replace(",", ""))

    modules = [module, *(target.first_use if first_use else ())] if module else []
    return run((_TIMED, ",".join(modules), ",".join(target.clients))) - run(("pass",))


@dataclass(frozen=True)
class Figure:
    target: Target
    baseline: float  # median seconds (instructions with --instructions)
    handler: float  # median seconds (instructions with --instructions)
    ratio: float  # median of the paired ratios

    @property
    def passed(self) -> bool:
        return self.ratio <= LIMIT


def measure(target: Target, rounds: int, *, first_use: bool = False) -> Figure:
    """Median of ``rounds`` paired runs, alternating which of the pair goes first."""
    time_import(target, target.module, first_use=first_use)  # writes the bytecode caches; not counted
    time_import(target, None)
    base: list[float] = []
    handler: list[float] = []
    for index in range(rounds):
        if index % 2 == 0:
            a = time_import(target, None)
            b = time_import(target, target.module, first_use=first_use)
        else:
            b = time_import(target, target.module, first_use=first_use)
            a = time_import(target, None)
        base.append(a)
        handler.append(b)
    ratios = [b / a for a, b in zip(base, handler, strict=True)]
    return Figure(target, statistics.median(base), statistics.median(handler), statistics.median(ratios))


def count(target: Target, *, first_use: bool = False) -> Figure:
    """The instruction counts of the baseline and the handler (one run each: they do not vary)."""
    base = count_instructions(target, None)
    handler = count_instructions(target, target.module, first_use=first_use)
    return Figure(target, base, handler, handler / base)


def run_coldstart(
    rounds: int = 11, tracing: bool = True, first_use: bool = False, instructions: bool = False
) -> bool:
    """Print each handler's figure; True when every one is within the limit."""
    what = "handler import + its first request's imports" if first_use else "handler import"
    if instructions and shutil.which("valgrind") is None:
        raise RuntimeError("--instructions needs valgrind (apt-get install valgrind)")
    how = (
        "instructions (valgrind), start-up subtracted" if instructions else f"median of {rounds} paired runs"
    )
    print(
        f"cold start: {what} vs import boto3 + its clients, fresh interpreter per run, "
        f"{how} (limit x{LIMIT}), Tracer {'on' if tracing else 'off'}"
    )
    figures = []
    for target in targets(tracing=tracing):
        if instructions:
            figure = count(target, first_use=first_use)
            amounts = f"{figure.baseline / 1e6:6.0f} M", f"{figure.handler / 1e6:6.0f} M"
        else:
            figure = measure(target, rounds, first_use=first_use)
            amounts = f"{figure.baseline * 1000:6.0f} ms", f"{figure.handler * 1000:6.0f} ms"
        figures.append(figure)
        print(
            f"  {target.module:22} baseline {amounts[0]} "
            f"(boto3 + {', '.join(target.clients)})  handler {amounts[1]}  "
            f"x{figure.ratio:.2f}  {'pass' if figure.passed else 'FAIL'}",
            flush=True,
        )
    return all(f.passed for f in figures)
