"""The demo's three feeds (onpace_local.demo_feeds): who sends what, and that each format's
events say the same thing as the plain line they come from, naming students and courses the
way that LMS would (the xAPI share only through the roster's identity map)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from onpace_core.ingest.event import Ref
from onpace_core.ingest.formats.caliper import parse_caliper
from onpace_core.ingest.formats.plain import parse_plain_events
from onpace_core.ingest.formats.xapi import parse_statements
from onpace_local.demo_feeds import (
    CALIPER,
    CALIPER_APP,
    PLAIN,
    XAPI,
    LmsDirectory,
    format_of,
    moodle_statement,
)
from onpace_local.district import DistrictFiles, read_district
from onpace_local.lms import caliper_client

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def files(repo_root: Path) -> DistrictFiles:
    return read_district(repo_root / "demo" / "programs", repo_root / "demo" / "roster")


@pytest.fixture(scope="module")
def directory(files: DistrictFiles) -> LmsDirectory:
    return LmsDirectory.from_roster(files.records, files.identities)


@pytest.fixture(scope="module")
def demo_events(repo_root: Path) -> list[dict[str, object]]:
    text = (repo_root / "demo" / "events.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _resolve(files: DistrictFiles, kind: str, refs: tuple[Ref, ...]) -> str | None:
    """The identity map's rule: the first ref a roster row names (docs/ingest.md)."""
    rows = {(row.kind, row.ref): row.sourced_id for row in files.identities}
    return next((rows[(kind, ref)] for ref in refs if (kind, ref) in rows), None)


def test_each_school_sends_in_its_format_and_an_enrollment_one_way(
    demo_events: list[dict[str, object]], directory: LmsDirectory
) -> None:
    by_class = {
        "cls-eng10": PLAIN,
        "cls-alg1": PLAIN,
        "cls-psy101": XAPI,  # the dual-credit school's Moodle
        "cls-bio": CALIPER,  # the cooperative's Caliper Sensor
    }
    sent = Counter(format_of(e, directory) for e in demo_events)
    assert all(sent[f] > 0 for f in (PLAIN, XAPI, CALIPER)), sent
    for event in demo_events:
        assert format_of(event, directory) == by_class[str(event["class"])], event


def test_inputs_and_what_a_format_cannot_say_go_plain(directory: LmsDirectory) -> None:
    grade = {
        "event_id": "g1",
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": "stu-dan",
        "class": "cls-psy101",
        "kind": "final_grade",
        "data": {"grade": "B"},
    }
    assert format_of(grade, directory) == PLAIN
    message = {
        "event_id": "m1",
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": "stu-gia",
        "class": "cls-bio",
        "kind": "instructor_message",
    }
    assert format_of(message, directory) == PLAIN  # no Caliper event says it
    assert format_of({**message, "student": "stu-dan", "class": "cls-psy101"}, directory) == XAPI
    assert format_of({**message, "kind": "login", "percent_complete": 40}, directory) == PLAIN


@pytest.mark.parametrize("kind", ["login", "submission", "discussion_reply", "progress"])
def test_a_moodle_statement_names_student_and_course_as_moodle_does(
    kind: str, files: DistrictFiles, directory: LmsDirectory
) -> None:
    plain = {
        "event_id": f"stu-dan-cls-psy101-{kind}",
        "occurred_at": "2026-09-03T14:30:00-05:00",
        "student": "stu-dan",
        "class": "cls-psy101",
        "kind": kind,
        **({"percent_complete": 35.0} if kind == "progress" else {}),
    }
    statement = moodle_statement(plain, directory)
    assert statement["actor"]["account"]["name"] == "dan.price"
    (event,) = parse_statements(json.dumps([statement]), now=NOW)
    (expected,) = parse_plain_events(json.dumps(plain), now=NOW)
    # Who and which course carry no roster sourcedId: only the identity map can resolve them.
    said = json.dumps([statement["actor"], statement["context"]])
    assert "stu-dan" not in said and "cls-psy101" not in said
    assert _resolve(files, "user", event.student) == "stu-dan"
    assert _resolve(files, "class", event.course) == "cls-psy101"
    assert Ref("classCode", "PSY101") in event.course
    lms = expected.to_lms_event()
    assert (event.kind, event.occurred_at, event.percent_complete) == (
        lms.kind,
        lms.occurred_at,
        lms.percent_complete,
    )


def test_a_student_without_username_is_named_by_email(files: DistrictFiles, directory: LmsDirectory) -> None:
    no_username = LmsDirectory(
        directory.school_of_class, directory.title_of_class, directory.code_of_class, {}, directory.email
    )
    plain = {
        "event_id": "e1",
        "occurred_at": "2026-09-03T14:30:00-05:00",
        "student": "stu-eve",
        "class": "cls-psy101",
        "kind": "login",
    }
    statement = moodle_statement(plain, no_username)
    assert statement["actor"]["mbox"] == "mailto:eve.stone@students.riverbend.k12.example"
    (event,) = parse_statements(json.dumps(statement), now=NOW)
    assert _resolve(files, "user", event.student) == "stu-eve"


def test_the_caliper_share_reads_back_as_the_plain_line(demo_events: list[dict[str, object]]) -> None:
    bio = [e for e in demo_events if e["class"] == "cls-bio"]
    envelope = caliper_client.envelope([caliper_client.event_from_plain(dict(e), CALIPER_APP) for e in bio])
    batch = parse_caliper(json.dumps(envelope), now=NOW)
    plain = [p.to_lms_event() for p in parse_plain_events(json.dumps(bio), now=NOW)]
    # The Sensor names both by LisSourcedId first (then its own IRI, which no roster row names).
    assert [
        (e.kind, e.occurred_at, e.percent_complete, e.student[:1], e.course[:1]) for e in batch.events
    ] == [(p.kind, p.occurred_at, p.percent_complete, p.student[:1], p.course[:1]) for p in plain]
