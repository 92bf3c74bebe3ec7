"""The ingest benchmark: webhooks through the real ingest handler on moto server.

Posts N plain events for E enrollments (500 per signed webhook, the format's limit) through the
local API gateway into the real handler, counting DynamoDB requests with botocore hooks, and
times it against the floor of any ingest: BatchWriteItem of the same raw items alone, in the same
run on the same moto server. Request counts do not depend on the machine; the speed ratio is
what to compare (moto's speed, and this machine's, vary).

    python -m bench.run ingest [--events N] [--enrollments E]
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

PER_REQUEST = 500
KINDS = ("submission", "view", "discussion_post", "progress", "login", "view")


def _events(
    n: int, students: int, prefix: str, start: datetime = datetime(2026, 9, 1, 14, tzinfo=UTC)
) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{prefix}-{i}",
            "occurred_at": (start + timedelta(seconds=37 * i)).isoformat(),
            "student": f"s{i % students}",
            "class": "c",
            "kind": KINDS[i % len(KINDS)],
            **({"percent_complete": float(i % 100)} if i % 5 == 0 else {}),
        }
        for i in range(n)
    ]


def run_ingest(n: int, enrollments: int) -> None:
    from onpace_core.ingest.formats.plain import parse_plain_events
    from onpace_core.ingest.service import ingest_events
    from onpace_core.store.models import RawEventModel
    from onpace_local.gateway import serve_gateway
    from onpace_local.request_count import counting_requests
    from onpace_local.stack import LocalStack
    from onpace_local.webhook_client import post_webhook

    from bench.district import setup_district
    from bench.run import ROOT

    print(
        f"ingest: {n:,} plain events for {enrollments:,} enrollments, {PER_REQUEST} per webhook, moto server"
    )
    # The functions' INFO lines and EMF metrics would bury the figures (as in the demo).
    with (
        LocalStack.start(
            ROOT / "template.yaml", root=ROOT, parameter_overrides={"LogLevel": "WARNING"}
        ) as stack,
        stack.environment(POWERTOOLS_METRICS_DISABLED="true"),
        serve_gateway(stack) as gateway,
    ):
        district, secret = setup_district(stack, enrollments)
        post_webhook(gateway.url, district_id=district, secret=secret, events=_events(1, 1, "warm"))

        events = _events(n, enrollments, "e")
        started = time.perf_counter()
        with counting_requests() as counts:
            for i in range(0, n, PER_REQUEST):
                answer = post_webhook(
                    gateway.url, district_id=district, secret=secret, events=events[i : i + PER_REQUEST]
                )
                assert answer.status == 202, answer.body
        ingest_seconds = time.perf_counter() - started

        # The floor: the same raw items, BatchWriteItem only (what storing them costs, nothing else).
        lms = [
            e.to_lms_event()
            for i in range(0, n, PER_REQUEST)
            for e in parse_plain_events(json.dumps(events[i : i + PER_REQUEST]), now=None)
        ]
        floor_items = [
            RawEventModel(
                pk=f"{district}-floor#{e.event_id}",
                district_id=district,
                event_id=e.event_id,
                source="plain",
                received_at="2026-09-01T00:00:00.000000Z",
                occurred_at="2026-09-01T00:00:00.000000Z",
                student_id="s",
                class_id="c",
                kind=e.kind or "",
                payload=e.payload,
                status="folded",
            )
            for e in lms
        ]
        started = time.perf_counter()
        with counting_requests() as floor_counts, RawEventModel.batch_write() as batch:
            for item in floor_items:
                batch.save(item)
        floor_seconds = time.perf_counter() - started

        # The same events through the service directly, for the per-request figure without HTTP.
        # A day later than the webhooks' events, so that every enrollment's facts move (events
        # no newer than what is folded change nothing and cost no write).
        later = _events(100, 10, "d", start=datetime(2026, 9, 2, 14, tzinfo=UTC))
        direct = [e.to_lms_event() for e in parse_plain_events(json.dumps(later), now=None)]
        with counting_requests() as hundred:
            ingest_events(
                district_id=district, source="plain", events=direct, now=datetime.now(UTC), ttl_days=30
            )

    per_thousand = counts.dynamodb() * 1000 / n
    floor_per_thousand = floor_counts.dynamodb() * 1000 / n
    rate, floor_rate = n / ingest_seconds, n / floor_seconds
    print(
        f"  ingest (real handler)      {counts.dynamodb():>6,} requests  "
        f"{per_thousand:>7.1f} per 1,000 events  {rate:>8,.0f} events/s"
    )
    print(
        f"  raw BatchWriteItem only    {floor_counts.dynamodb():>6,} requests  "
        f"{floor_per_thousand:>7.1f} per 1,000 events  {floor_rate:>8,.0f} events/s"
    )
    print(
        f"  ratio ingest / raw writes, same run: requests x{per_thousand / floor_per_thousand:.2f}, "
        f"speed {rate / floor_rate:.2f}"
    )
    print(f"  by operation: {dict(sorted(counts.items()))}")
    print(
        f"  100 events for 10 enrollments, one request: {hundred.dynamodb()} DynamoDB requests "
        "(330 before issue 10) "
        f"and {hundred.of('PutObject')} S3 PutObject (the raw archive)"
    )
