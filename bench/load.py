"""The load benchmark of the HTTP front: signed webhook batches at rising rates, over loopback.

Each step sends ``rate`` signed plain webhooks a second (``batch`` events each) for ``seconds``,
open loop: every request has its scheduled time and its latency is counted from then, so a
server that falls behind shows it in the latencies instead of slowing the sender down
(no coordinated omission). The requests go through the local API gateway (the template's
routes and throttling) into the real ingest handler on moto server. Steps stop at the first rate
whose p99 passes 1 s. Afterwards every event of every accepted (202) request is read back from
the Events table: nothing accepted may be missing, nothing of a refused request may be there.

    python -m bench.run load [--rates 0.5,1,2,4,8,16] [--seconds 10] [--batch 100] [--enrollments N]

The local gateway runs one invocation of a function at a time (one warm Lambda instance), so
the figures are those of one instance of the ingest function against moto server on this
machine; in AWS, Lambda runs as many instances as requests arrive at once, up to the route's
throttle (template.yaml ``ApiThrottlingRateLimit``) and the account's concurrency.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

P99_LIMIT = 1.0  # seconds
EVENTS_PER_ENROLLMENT = 10  # per request, as in the cost model (10 events per school day)
KINDS = ("submission", "view", "discussion_post", "progress", "login", "view")


@dataclass
class Step:
    """One rate: what was sent, what came back, how long it took."""

    rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted_ids: list[str] = field(default_factory=list)
    refused_ids: list[str] = field(default_factory=list)
    events_accepted: int = 0
    wall: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    @property
    def sent(self) -> int:
        return len(self.latencies)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


@dataclass
class LoadReport:
    batch: int
    unloaded: float  # median latency of requests sent one at a time, before the steps
    steps: list[Step]
    stored_accepted: int
    missing: list[str]
    stored_refused: int
    accepted_events: int
    refused_events: int
    limit: float = P99_LIMIT

    @property
    def knee(self) -> Step | None:
        """The first step whose p99 passed ``limit``."""
        return next((s for s in self.steps if s.p99 > self.limit), None)

    @property
    def last_within(self) -> Step | None:
        within = [s for s in self.steps if s.p99 <= self.limit]
        return within[-1] if within else None


def _events(prefix: str, batch: int, students: int, at: datetime, first: int = 0) -> list[dict[str, Any]]:
    """A batch as the cost model has them: 10 events per enrollment, so ``batch // 10``
    enrollments per request, from ``first`` on (round the roster)."""
    return [
        {
            "event_id": f"{prefix}-{i}",
            "occurred_at": (at - timedelta(minutes=i)).isoformat(),
            "student": f"s{(first + i // EVENTS_PER_ENROLLMENT) % students}",
            "class": "c",
            "kind": KINDS[i % len(KINDS)],
        }
        for i in range(batch)
    ]


def _post(url: str, district: str, secret: str, body: str) -> tuple[int, dict[str, Any]]:
    from onpace_local.webhook_client import signed_headers

    headers = signed_headers(secret, body, f"msg_{uuid.uuid4().hex[:16]}")
    request = urllib.request.Request(
        f"{url}/webhooks/plain?district={district}", data=body.encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def run_step(
    url: str, district: str, secret: str, rate: float, seconds: float, batch: int, students: int
) -> Step:
    """Send ``rate`` requests a second for ``seconds``, open loop; the step's measurements."""
    step = Step(rate, seconds)
    count = max(1, round(rate * seconds))
    lock = threading.Lock()
    now = datetime.now(UTC)
    run = uuid.uuid4().hex[:8]
    started = time.perf_counter() + 0.05

    def one(i: int) -> None:
        first = i * max(1, batch // EVENTS_PER_ENROLLMENT)
        events = _events(f"{run}-{rate:g}-{i}", batch, students, now, first)
        body = json.dumps(events, separators=(",", ":"))
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        status, answer = _post(url, district, secret, body)
        latency = time.perf_counter() - scheduled
        ids = [e["event_id"] for e in events]
        with lock:
            step.latencies.append(latency)
            step.statuses[status] = step.statuses.get(status, 0) + 1
            if status == 202:
                step.accepted_ids.extend(ids)
                step.events_accepted += int(answer.get("accepted", 0)) + int(answer.get("duplicates", 0))
            else:
                step.refused_ids.extend(ids)

    # Enough senders that none waits for another: the schedule, not the answers, sets the pace.
    workers = min(256, max(4, count))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(count)))
    step.wall = time.perf_counter() - started
    return step


def run_sequential(url: str, district: str, secret: str, count: int, batch: int, students: int) -> Step:
    """``count`` requests one after another: the latency with nothing queued (the floor)."""
    step = Step(0.0, 0.0)
    run = uuid.uuid4().hex[:8]
    for i in range(count):
        events = _events(f"{run}-alone-{i}", batch, students, datetime.now(UTC), i * 7)
        started = time.perf_counter()
        status, _ = _post(url, district, secret, json.dumps(events, separators=(",", ":")))
        step.latencies.append(time.perf_counter() - started)
        step.statuses[status] = step.statuses.get(status, 0) + 1
        ids = [e["event_id"] for e in events]
        (step.accepted_ids if status == 202 else step.refused_ids).extend(ids)
    return step


def stored(district: str, event_ids: list[str]) -> set[str]:
    """Which of ``event_ids`` the Events table holds (consistent BatchGetItem reads)."""
    from onpace_core.store.models import RawEventModel

    found: set[str] = set()
    keys = [f"{district}#{e}" for e in event_ids]
    for start in range(0, len(keys), 100):
        for item in RawEventModel.batch_get(keys[start : start + 100], consistent_read=True):
            found.add(str(item.event_id))
    return found


def measure(
    url: str,
    district: str,
    secret: str,
    rates: list[float],
    seconds: float,
    batch: int,
    students: int,
    progress: bool = False,
    limit: float = P99_LIMIT,
) -> LoadReport:
    """Rising rates until p99 passes ``limit`` seconds, then the read-back of every event sent."""
    alone = run_sequential(url, district, secret, 3, batch, students)
    if progress:
        print(f"  one request at a time: p50 {alone.p50 * 1000:.0f} ms", flush=True)
    steps: list[Step] = []
    for rate in rates:
        step = run_step(url, district, secret, rate, seconds, batch, students)
        steps.append(step)
        if progress:
            print(_line(step, batch), flush=True)
        if step.p99 > limit:
            break
    accepted = [e for s in [alone, *steps] for e in s.accepted_ids]
    refused = [e for s in [alone, *steps] for e in s.refused_ids]
    found = stored(district, accepted)
    return LoadReport(
        batch=batch,
        unloaded=alone.p50,
        steps=steps,
        stored_accepted=len(found),
        missing=sorted(set(accepted) - found),
        stored_refused=len(stored(district, refused)) if refused else 0,
        accepted_events=len(accepted),
        refused_events=len(refused),
        limit=limit,
    )


def _line(step: Step, batch: int) -> str:
    statuses = " ".join(f"{code}:{n}" for code, n in sorted(step.statuses.items()))
    achieved = step.statuses.get(202, 0) * batch / step.wall if step.wall else 0.0
    return (
        f"  {step.rate:>6g} req/s ({step.rate * batch:>7,.0f} events/s offered)  sent {step.sent:>4}  "
        f"[{statuses}]  p50 {step.p50 * 1000:>7.0f} ms  p99 {step.p99 * 1000:>7.0f} ms  "
        f"max {max(step.latencies) * 1000:>7.0f} ms  {achieved:>7,.0f} events/s stored"
    )


def run_load(
    rates: list[float], seconds: float, batch: int, students: int, limit: float = P99_LIMIT
) -> LoadReport:
    """The benchmark: a fresh local stack, a district, the rising rates, the summary printed."""
    import logging

    from onpace_local.gateway import serve_gateway
    from onpace_local.stack import LocalStack

    from bench.district import setup_district
    from bench.run import ROOT

    print(
        f"load: signed plain webhooks of {batch} events for {students} enrollments, rising rates, "
        f"{seconds:g} s each, open loop, through the local gateway (template throttling on)"
    )
    logging.getLogger("onpace_local.gateway").setLevel(logging.CRITICAL)
    with (
        LocalStack.start(
            ROOT / "template.yaml", root=ROOT, parameter_overrides={"LogLevel": "WARNING"}
        ) as stack,
        serve_gateway(stack) as gateway,
    ):
        district, secret = setup_district(stack, students, prefix="load")
        # One request first: the handler's cold start is not part of any step.
        _post(gateway.url, district, secret, json.dumps(_events("warm", 1, students, datetime.now(UTC))))
        report = measure(
            gateway.url, district, secret, rates, seconds, batch, students, progress=True, limit=limit
        )
    knee, within = report.knee, report.last_within
    if knee is None:
        print(f"  p99 stayed under {limit:g} s up to {rates[-1]:g} requests/s")
    else:
        print(
            f"  p99 passes {limit:g} s at {knee.rate:g} requests/s ({knee.rate * batch:,.0f} events/s); "
            + (
                f"last rate within: {within.rate:g} requests/s ({within.rate * batch:,.0f} events/s)"
                if within
                else "already at the first rate"
            )
        )
    print(
        f"  read back: {report.stored_accepted:,} of {report.accepted_events:,} accepted events stored "
        f"({len(report.missing)} lost); {report.stored_refused} of {report.refused_events:,} "
        "refused events stored"
    )
    return report
