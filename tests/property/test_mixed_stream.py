"""A stream of 10,000 events in four formats, shuffled and with retries, folds to the facts of the
ordered stream sent once (issue 10).

The events: plain activity for a small roster (8 students in 2 classes each of 3), generated
once, each sent as a plain event, an xAPI statement, a Caliper envelope or a Canvas live event
(the local LMS clients' converters: ``statement_from_plain``, ``event_from_plain``,
``live_event_from_plain``), a few naming a student who is not on the roster. Each document is
detected and parsed as replay and the routes parse it (``formats.detect.parse_document``) and
the events go through the ingest service over its in-memory port, in requests.

Hypothesis draws the order (a shuffle seed), which documents are resent (up to a third, some
twice; a retry is the same document, parsed to the same events) and the request sizes. The
facts of every enrollment, and the outcome stored for every event, must be those of the same
documents sent once each, in time order, in requests of 100.

Why it holds:

* every format derives its event id from the document alone (plain ``event_id``, the xAPI
  statement ``id``, the Caliper event ``id``, the Canvas ``event_key`` digest), so a retry has
  the id of its first delivery: the service stores it once and counts it a duplicate, in the
  same request (``_unique``) or a later one (``lookup``);
* a duplicate whose first delivery was folded is folded again, which changes nothing, because the
  fold (``facts.fold``) is idempotent and does not depend on order: each kind's latest instant
  only moves forward, ``recent`` keeps the newest few (instant, id) pairs, the progress value
  kept is the greatest (instant, percent, event id), the activity log and inputs are keyed by
  event id, and the wake date only moves earlier;
* resolution depends on the event and the identity map only, never on what arrived before, so an
  unmatched event is unmatched in any order (and a log-in with no course, Canvas's, reaches the
  same live enrollments: no event here ends an enrollment).

Few examples (each ingests ~23,000 documents), so it stays well under 20 seconds.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onpace_core.facts.fold import EnrollmentFacts, FoldRules
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.formats.detect import detect_format, parse_document
from onpace_core.ingest.ports import MemoryIngestStore
from onpace_core.ingest.service import ingest_events
from onpace_core.roster.identities import IdentityRow
from onpace_local.lms.caliper_client import envelope, event_from_plain
from onpace_local.lms.canvas_client import live_event_from_plain
from onpace_local.lms.xapi_client import statement_from_plain

DISTRICT = "mix"
PROGRAM = "p"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SITE = "https://lms.mix.example"
STUDENTS = [f"s{n}" for n in range(8)]
CLASSES = ["c0", "c1", "c2"]
ENROLLED = {s: (CLASSES[n % 3], CLASSES[(n + 1) % 3]) for n, s in enumerate(STUDENTS)}
KINDS = ("login", "view", "submission", "discussion_post", "discussion_reply", "progress", "mastery_exercise")
DOCUMENTS = 10_000
RULES = FoldRules(wake_days={"submission": 3, "discussion_post": 7}, history=frozenset({"submission"}))


def _plain(n: int, rng: random.Random) -> dict[str, Any]:
    student = rng.choice(STUDENTS) if rng.random() > 0.01 else "stranger"
    klass = rng.choice(ENROLLED.get(student, CLASSES))
    kind = rng.choice(KINDS)
    # Minutes apart at most: many events share an instant, so ties are broken by the fold's rules.
    at = datetime(2026, 9, 1, 13, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 60 * 24 * 40, 7))
    event: dict[str, Any] = {
        "event_id": f"e{n:05d}",
        "occurred_at": at.isoformat(),
        "student": student,
        "class": klass,
        "kind": kind,
    }
    if kind == "progress":
        event["percent_complete"] = float(rng.randrange(0, 101))
    return event


def _document(plain: dict[str, Any], n: int) -> dict[str, Any]:
    """The plain event as one of the formats that carries its kind."""
    kind = plain["kind"]
    formats = ["plain", "xapi"]
    if kind != "mastery_exercise":
        formats += ["caliper", "canvas"]
    fmt = formats[n % len(formats)]
    if fmt == "xapi":
        return statement_from_plain(plain, SITE)
    if fmt == "caliper":
        return envelope([event_from_plain(plain, SITE)], at=NOW)
    if fmt == "canvas":
        return live_event_from_plain(plain)
    return plain


@cache
def texts() -> tuple[str, ...]:
    rng = random.Random(20261203)
    return tuple(json.dumps(_document(_plain(n, rng), n)) for n in range(DOCUMENTS))


def _parse(text: str) -> tuple[str, tuple[LmsEvent, ...]]:
    document = json.loads(text)
    return detect_format(document), tuple(parse_document(document, now=NOW))


@cache
def documents() -> tuple[tuple[str, tuple[LmsEvent, ...]], ...]:
    """(format, events) of each document, parsed once: a retry is the same document, and every
    parser is a pure function of it (its ids and digests above all: checked in the first test)."""
    return tuple(_parse(text) for text in texts())


def _port() -> MemoryIngestStore:
    port = MemoryIngestStore()
    for student, classes in ENROLLED.items():
        for klass in classes:
            port.add_enrollment(DISTRICT, klass, student, program_id=PROGRAM)
    port.programs[(DISTRICT, PROGRAM)] = RULES
    rows = [IdentityRow("user", Ref("sourcedId", s), s) for s in STUDENTS]
    rows += [IdentityRow("class", Ref("sourcedId", c), c) for c in CLASSES]
    port.save_identities(DISTRICT, rows, origin="roster")
    return port


def _ingest(order: Sequence[int], sizes: Sequence[int]) -> MemoryIngestStore:
    port = _port()
    docs = documents()
    start, turn, accepted, duplicates = 0, 0, 0, 0
    sent: set[int] = set()
    while start < len(order):
        size = sizes[turn % len(sizes)]
        events: list[LmsEvent] = []
        for i in order[start : start + size]:
            # A resend parses to equal events (checked below), as new objects, as a request's would.
            events += [replace(e) for e in docs[i][1]] if i in sent else docs[i][1]
            sent.add(i)
        report = ingest_events(
            district_id=DISTRICT, source="mixed", events=events, now=NOW, ttl_days=1, store=port
        )
        accepted, duplicates = accepted + report.accepted, duplicates + report.duplicates
        start, turn = start + size, turn + 1
    # Each document's event is stored once; every resend is counted a duplicate.
    assert (accepted, duplicates) == (DOCUMENTS, len(order) - DOCUMENTS)
    return port


def _facts(port: MemoryIngestStore) -> dict[str, EnrollmentFacts]:
    return {key: replace(facts, seq=None) for key, facts in port.enrollments.items()}


def _outcomes(port: MemoryIngestStore) -> dict[str, tuple[str, str | None, tuple[str, ...]]]:
    return {r.event_id: (r.status, r.reason, r.enrollments) for r in port.raw.values()}


@cache
def ordered() -> MemoryIngestStore:
    """The documents sent once each, in time order, in requests of 100."""
    docs = documents()
    order = sorted(range(len(docs)), key=lambda i: min(e.occurred_at for e in docs[i][1]))
    return _ingest(order, [100])


def test_the_stream_has_every_format_and_what_the_property_needs() -> None:
    docs = documents()
    formats = {fmt for fmt, _ in docs}
    assert formats == {"plain", "xapi", "caliper", "canvas"}
    events = [e for _, evs in docs for e in evs]
    assert len({e.event_id for e in events}) == len(events) == DOCUMENTS
    # A resend of a document parses to equal events (same ids, digests, refs, times).
    for i in random.Random(1).sample(range(DOCUMENTS), 300):
        assert _parse(texts()[i]) == docs[i]
    port = ordered()
    statuses = [r.status for r in port.raw.values()]
    assert statuses.count("folded") > 9_000 and 0 < statuses.count("unmatched") < 300
    # Canvas log-ins name no course: each reaches both enrollments of its student.
    assert any(len(r.enrollments) == 2 for r in port.raw.values())
    facts = _facts(port)
    assert all(f.last and f.activity_log and f.percent is not None for f in facts.values())


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    resent=st.floats(0.0, 0.34),
    sizes=st.lists(st.integers(1, 250), min_size=1, max_size=8),
)
def test_shuffled_and_resent_in_any_format_gives_the_same_facts(
    seed: int, resent: float, sizes: list[int]
) -> None:
    rng = random.Random(seed)
    order = list(range(DOCUMENTS))
    retries = rng.sample(order, int(DOCUMENTS * resent))
    order += retries + retries[: len(retries) // 4]  # some sent three times
    rng.shuffle(order)
    port = _ingest(order, sizes)
    reference = ordered()
    assert _facts(port) == _facts(reference)
    assert _outcomes(port) == _outcomes(reference)
