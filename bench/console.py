"""The console benchmark: a page of 50 audit rows against the raw DynamoDB Query of 50 items.

Issue 13's acceptance: with 10,000 entries in a district on moto server, a page of 50 audit rows
costs one DynamoDB Query and serving it takes at most 1.5x that raw Query. The district's log
(hash-chained entries of 300 students in 20 classes, as ``audit.log`` builds them) and its
student directory are written with BatchWriteItem; then, paired and alternating which goes
first, each round times

- **raw**: the low-level ``Query`` (``district_id``, newest first, ``Limit`` 50) through the same
  botocore client pynamodb uses, items left as DynamoDB returns them;
- **page**: what serves a page (``--source``): ``handler`` (the default) is the audit view
  ``GET /console/views/audit`` served by the console function's handler from the event API
  Gateway passes it (verified claims): routing, the caller, the Query, names from the
  per-container name book, the cursor and the Jinja page; ``http`` is the same through the
  local gateway over a socket with a real ID token (adds HTTP and the JWT check, which API
  Gateway does in AWS); ``function`` is ``console.audit_query.audit_query`` alone.

Both walk the same pages (the first and ``--pages - 1`` more by cursor). Prints the medians, the
median of the paired ratios, and DynamoDB requests per page, warm (names known) and cold (a
fresh name book: one BatchGetItem for the page's names).

    python -m bench.run console [--entries 10000] [--rounds 21] [--pages 3] [--source handler]
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode

DISTRICT = "bench-console"
STUDENTS = 300
CLASSES = 20
PAGE = 50
TYPES = ("notice.decided", "notice.sent", "delivery.delivered", "action.taken", "ingest.rejected")

# A page source takes a cursor (None: the first page) and returns the next cursor.
PageSource = Callable[[str | None], str | None]


def _seed(entries: int) -> None:
    """The district's log as a real chain, and its directory, written in batches of 25."""
    from onpace_core.audit.log import GENESIS, AuditEntry, _item
    from onpace_core.console.directory import CLASS, STUDENT, partition, student_tokens
    from onpace_core.store.models import AuditModel, DirectoryModel

    start = datetime(2026, 8, 24, 12, tzinfo=UTC)
    prev = GENESIS
    with AuditModel.batch_write() as batch:
        for seq in range(1, entries + 1):
            student, klass = seq % STUDENTS, seq % CLASSES
            entry = AuditEntry(
                type=TYPES[seq % len(TYPES)],
                actor="evaluate",
                summary=f"Entry {seq}: a notice decided for the student under the pacing rule.",
                rule_id="cps.pacing.ipr_warning_2w",
                policy_version="bench-1",
                program_id="p",
                student_id=f"s{student}",
                class_id=f"c{klass}",
                notice_id=f"{DISTRICT}#c{klass}#s{student}#cps.pacing.ipr_warning_2w#e{seq}",
                detail={"facts": {"percent_complete": 0.1}, "deadlines": {"ipr": "2026-10-09"}},
            )
            at = (start + timedelta(minutes=7 * seq)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            item = _item(DISTRICT, seq, prev, entry, at)
            prev = item.hash
            batch.save(item)
    pk = partition(DISTRICT)
    with DirectoryModel.batch_write() as batch:
        for s in range(STUDENTS):
            name = f"Student{s} Family{s % 37}"
            tokens = student_tokens(f"s{s}", name, None)
            batch.save(DirectoryModel(pk, f"{STUDENT}s{s}", student_id=f"s{s}", name=name, tokens=tokens))
        for c in range(CLASSES):
            batch.save(DirectoryModel(pk, f"{CLASS}c{c}", class_id=f"c{c}", name=f"Class {c}"))


def _raw_source() -> PageSource:
    from onpace_core.store.models import AuditModel

    client = AuditModel._get_connection().connection.client
    table = AuditModel.Meta.table_name

    def page(cursor: str | None) -> str | None:
        params: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "district_id = :d",
            "ExpressionAttributeValues": {":d": {"S": DISTRICT}},
            "ScanIndexForward": False,
            "Limit": PAGE,
        }
        if cursor:
            params["ExclusiveStartKey"] = json.loads(cursor)
        answer = client.query(**params)
        assert len(answer["Items"]) == PAGE
        key = answer.get("LastEvaluatedKey")
        return json.dumps(key) if key else None

    return page


def _function_source() -> PageSource:
    from onpace_core.console.audit_query import audit_query

    def page(cursor: str | None) -> str | None:
        result = audit_query(DISTRICT, None, cursor, limit=PAGE)
        assert len(result.rows) == PAGE
        assert result.rows[0].student_name
        return result.cursor

    return page


_OLDER = re.compile(r'data-testid="load-older" href="#/audit\?([^"]*)"')


def _served_page(html: str) -> str | None:
    """Check a served page holds a full page of named rows; its Older link's cursor."""
    assert html.count('data-testid="audit-row"') == PAGE, "a served page of 50 rows"
    assert "Family" in html, "rows carry readable names"
    found = _OLDER.search(html)
    if found is None:
        return None
    return parse_qs(unescape(found.group(1)))["cursor"][0]


def _handler_source(stack: Any) -> PageSource:
    """The audit view served by the console function's handler: the event API Gateway passes
    after its JWT authorizer (verified claims), routing, the Query, names, the Jinja page."""
    from onpace_local.gateway import build_event, build_routes, find_route

    routes = build_routes(stack.functions, stack.stack.template)
    found = find_route(routes, "GET", "/console/views/audit")
    assert found is not None
    route, params = found
    claims = {"sub": "bench", "email": "bench@example.org", "custom:district_id": DISTRICT, "token_use": "id"}

    def page(cursor: str | None) -> str | None:
        query = urlencode({"cursor": cursor} if cursor else {})
        event = build_event(
            route,
            params,
            method="GET",
            raw_path="/console/views/audit",
            raw_query=query,
            headers=[("authorization", "Bearer bench")],
            body=b"",
            source_ip="127.0.0.1",
            claims=claims,
            domain="localhost",
        )
        result = stack.invoke("ConsoleFunction", event)
        assert result["statusCode"] == 200, result
        return _served_page(result["body"])

    return page


def _http_source(stack: Any) -> PageSource:
    """The audit view over HTTP through the local gateway: a real ID token checked as API
    Gateway's authorizer does, then the handler as above (adds the socket and the JWT check)."""
    import http.client

    from onpace_local.gateway import serve_gateway

    handle = serve_gateway(stack, throttle=False)
    provider = handle.identity_provider
    assert provider is not None
    token = provider.id_token(provider.add_user("bench@example.org", [DISTRICT]))
    host = handle.url.split("//", 1)[1]
    connection = http.client.HTTPConnection(host, timeout=60)

    def page(cursor: str | None) -> str | None:
        query = urlencode({"cursor": cursor} if cursor else {})
        connection.request(
            "GET", f"/console/views/audit?{query}", headers={"Authorization": f"Bearer {token}"}
        )
        response = connection.getresponse()
        body = response.read().decode("utf-8")
        assert response.status == 200, body[:300]
        return _served_page(body)

    return page


SOURCES: dict[str, Callable[[Any], PageSource]] = {
    "function": lambda stack: _function_source(),
    "handler": _handler_source,
    "http": _http_source,
}


def _walk(source: PageSource, pages: int) -> float:
    started = time.perf_counter()
    cursor: str | None = None
    for _ in range(pages):
        cursor = source(cursor)
    return time.perf_counter() - started


def run_console(entries: int = 10_000, rounds: int = 21, pages: int = 3, source: str = "handler") -> float:
    """Run the benchmark; returns the median paired ratio (page / raw)."""
    from onpace_core.console import directory
    from onpace_local.request_count import counting_requests
    from onpace_local.stack import LocalStack

    from bench.run import ROOT

    print(f"console: {entries:,} audit entries in one district, pages of {PAGE}, moto server")
    with LocalStack.start(
        ROOT / "template.yaml", root=ROOT, parameter_overrides={"LogLevel": "WARNING"}
    ) as stack:
        started = time.perf_counter()
        _seed(entries)
        print(f"  seeded in {time.perf_counter() - started:.1f} s")
        raw, served = _raw_source(), SOURCES[source](stack)
        # Warm both paths (clients, imports, the name book, the class list), as a warm Lambda is.
        _walk(raw, pages)
        _walk(served, pages)
        # What one served page costs in requests, warm and with a cold name book.
        with counting_requests() as warm:
            served(None)
        directory.NAMES.clear()
        with counting_requests() as cold:
            served(None)
        raw_times: list[float] = []
        page_times: list[float] = []
        ratios: list[float] = []
        for round_ in range(rounds):
            if round_ % 2:
                p, r = _walk(served, pages), _walk(raw, pages)
            else:
                r, p = _walk(raw, pages), _walk(served, pages)
            raw_times.append(r / pages)
            page_times.append(p / pages)
            ratios.append(p / r)
    raw_ms, page_ms = statistics.median(raw_times) * 1000, statistics.median(page_times) * 1000
    ratio = statistics.median(ratios)
    print(f"  raw DynamoDB Query of {PAGE} items      {raw_ms:7.2f} ms")
    print(f"  (medians of {rounds} rounds of {pages} pages each)")
    print(f"  served page of {PAGE} rows ({source:>8})   {page_ms:7.2f} ms")
    print(f"  ratio page / raw Query, paired, median: {ratio:.2f} (target <= 1.5)")
    print(
        f"  DynamoDB requests per page: warm {warm.dynamodb()} ({dict(sorted(warm.items()))}); "
        f"cold name book {cold.dynamodb()} ({dict(sorted(cold.items()))})"
    )
    return ratio
