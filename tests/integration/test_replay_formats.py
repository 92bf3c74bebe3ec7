"""``onpace replay`` reads every format OnPace ingests, detected per document (docs/ingest.md, "Replay").

The demo district's term is replayed twice: from its plain events file, and from the same
activity sent as an LMS would send it — each event as an xAPI statement, a Caliper envelope or
a Canvas live event (the local LMS clients' converters), formats mixed in one file, some as
JSON Lines and some as one whole-file array. The decisions must be the same, line for line:
the formats' students and classes resolve to the roster's through the same identity rows the
deployed ingest service uses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from onpace_core.ingest.formats.detect import detect_format, parse_document
from onpace_local.lms.caliper_client import envelope, event_from_plain
from onpace_local.lms.canvas_client import live_event_from_plain
from onpace_local.lms.xapi_client import statement_from_plain
from onpace_local.replay import ReplayResult, read_events, replay_files
from onpace_rules.input_files import InputFileError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = REPO_ROOT / "demo"
FIRST, LAST = date(2026, 8, 24), date(2026, 10, 16)
SITE = "https://lms.riverbend.example"


def _as_lms(plain: dict[str, Any], fmt: str) -> dict[str, Any]:
    if fmt == "xapi":
        return statement_from_plain(plain, SITE)
    if fmt == "caliper":
        return envelope([event_from_plain(plain, SITE)])
    return live_event_from_plain(plain)


def _formats_for(plain: dict[str, Any]) -> list[str]:
    """The formats that carry this event to the same facts: a Canvas log-in names no course (it
    counts for every enrollment of the student), Canvas rounds progress to whole requirements,
    and Caliper carries a percentage only on progress."""
    kind, percent = plain["kind"], plain.get("percent_complete")
    formats = ["xapi"]
    if (kind != "progress" and percent is None) or kind == "progress":
        formats.append("caliper")
    if kind != "login" and (percent is None or float(percent).is_integer()):
        formats.append("canvas")
    return formats


def _mixed_files(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    lines = [json.loads(line) for line in (DEMO / "events.jsonl").read_text().splitlines() if line.strip()]
    turn = cycle(range(3))
    jsonl: list[str] = []
    array: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    for n, plain in enumerate(lines):
        formats = _formats_for(plain)
        fmt = formats[next(turn) % len(formats)]
        document = _as_lms(plain, fmt)
        assert detect_format(document) == fmt
        used[fmt] = used.get(fmt, 0) + 1
        if n % 4 == 0:
            array.append(document)
        else:
            jsonl.append(json.dumps(document))
    (tmp_path / "mixed.jsonl").write_text("\n".join(jsonl) + "\n", encoding="utf-8")
    (tmp_path / "array.json").write_text(json.dumps(array, indent=2), encoding="utf-8")
    return [tmp_path / "mixed.jsonl", tmp_path / "array.json"], used


def _replay(program: str, events: list[Path]) -> ReplayResult:
    return replay_files(DEMO / "programs" / program, DEMO / "roster", events, FIRST, LAST)


@pytest.mark.parametrize(
    "program", ["riverbend-online.yaml", "riverbend-dual-credit.yaml", "riverbend-coop.yaml"]
)
def test_the_demo_term_sent_in_lms_formats_decides_as_the_plain_file(tmp_path: Path, program: str) -> None:
    files, used = _mixed_files(tmp_path)
    assert set(used) == {"xapi", "caliper", "canvas"} and min(used.values()) > 30, used
    plain = _replay(program, [DEMO / "events.jsonl"])
    mixed = _replay(program, files)
    assert plain.lines, "the demo decides something for each program"
    assert mixed.lines == plain.lines
    # The same events not on the roster are reported (under their own formats' ids).
    assert [(e["student"], e["class"]) for e in mixed.unmatched] == [
        (e["student"], e["class"]) for e in plain.unmatched
    ]
    # The events of the other schools' classes are set aside the same way (resolved to roster ids).
    assert sorted(e["event_id"] for e in mixed.other_programs) != []
    assert len(mixed.other_programs) == len(plain.other_programs)


def test_the_cli_replays_mixed_formats(tmp_path: Path) -> None:
    files, _ = _mixed_files(tmp_path)
    args = ["--program", str(DEMO / "programs" / "riverbend-online.yaml"), "--roster", str(DEMO / "roster")]
    args += ["--from", FIRST.isoformat(), "--to", LAST.isoformat()]
    run = [sys.executable, "-m", "onpace_local.cli", "replay", *args]
    plain = subprocess.run([*run, "--events", str(DEMO / "events.jsonl")], capture_output=True, text=True)
    events = [a for f in files for a in ("--events", str(f))]
    mixed = subprocess.run([*run, *events], capture_output=True, text=True)
    assert plain.returncode == mixed.returncode == 0, mixed.stderr
    assert mixed.stdout == plain.stdout and mixed.stdout.strip()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


PLAIN = {
    "event_id": "e1",
    "occurred_at": "2026-09-01T10:00:00-05:00",
    "student": "stu-ava",
    "class": "cls-eng10",
    "kind": "submission",
}


def test_a_document_of_no_known_format_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps(PLAIN) + "\n" + json.dumps({"who": "x", "what": "y"}) + "\n")
    with pytest.raises(InputFileError, match="not an event of a known format") as caught:
        read_events([path])
    assert caught.value.line == 2 and caught.value.path == path
    assert "xAPI statement (actor, verb, object)" in str(caught.value)


def test_a_refused_document_names_its_line_and_the_problem(tmp_path: Path) -> None:
    statement = statement_from_plain(PLAIN, SITE)
    statement["verb"]["id"] = "not an IRI"
    path = _write(tmp_path, json.dumps(PLAIN) + "\n\n" + json.dumps(statement) + "\n")
    with pytest.raises(InputFileError, match="verb") as caught:
        read_events([path])
    assert caught.value.line == 3


def test_an_xapi_statement_without_timestamp_is_refused(tmp_path: Path) -> None:
    statement = statement_from_plain(PLAIN, SITE)
    del statement["timestamp"]
    with pytest.raises(InputFileError, match="no timestamp") as caught:
        read_events([_write(tmp_path, json.dumps(statement) + "\n")])
    assert caught.value.line == 1


def test_broken_json_names_both_readings(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps(PLAIN) + "}\n" + json.dumps(PLAIN) + "\n")
    with pytest.raises(
        InputFileError, match=r"not one JSON document per line .* nor one JSON document"
    ) as caught:
        read_events([path])
    assert caught.value.line == 1


def test_a_void_takes_back_the_statement_when_it_arrives(tmp_path: Path) -> None:
    """A void dated after its statement: the replay folds the statement, evaluates the days
    between with it, and takes it back on the void's day, as the deployed service does."""
    submitted = statement_from_plain(PLAIN, SITE)  # 09-01
    void = {
        "actor": submitted["actor"],
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en": "voided"}},
        "object": {"objectType": "StatementRef", "id": submitted["id"]},
        "timestamp": "2026-09-03T10:00:00-05:00",
    }
    logout = {**statement_from_plain({**PLAIN, "event_id": "e2"}, SITE)}
    logout["verb"] = {"id": "https://w3id.org/xapi/adl/verbs/logged-out", "display": {"en": "logged out"}}
    earlier = PLAIN | {"event_id": "p", "occurred_at": "2026-08-31T10:00:00-05:00"}
    path = _write(tmp_path, "\n".join(json.dumps(d) for d in (submitted, void, logout, earlier)))
    states: dict[date, dict[str, date]] = {}
    result = _watching(
        "#cls-eng10#stu-ava",
        states,
        lambda: replay_files(
            DEMO / "programs" / "riverbend-online.yaml", DEMO / "roster", [path], FIRST, LAST
        ),
    )
    assert (result.voided, result.ignored, result.unmatched) == (1, 1, [])
    assert states[date(2026, 9, 3)]["submission"] == date(2026, 9, 1)  # seen until the void
    assert states[date(2026, 9, 4)]["submission"] == date(2026, 8, 31)  # taken back


def _watching(
    suffix: str, states: dict[date, dict[str, date]], run: Callable[[], ReplayResult]
) -> ReplayResult:
    """Run a replay, noting each day the ``last_on`` of the subject whose key ends with ``suffix``."""
    from onpace_local import replay as replay_module

    real = replay_module.evaluate_day

    def evaluate_day(store: Any, program: Any, day: date, now: datetime) -> Any:
        (key,) = [k for k in store.subjects if k.endswith(suffix)]
        states[day] = dict(store.subjects[key].state.last_on)
        return real(store, program, day, now)

    with patch.object(replay_module, "evaluate_day", evaluate_day):
        return run()


def test_a_whole_file_array_names_the_document(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps([PLAIN, {"nope": 1}], indent=2))
    with pytest.raises(InputFileError, match="document 2: not an event of a known format"):
        read_events([path])


def test_a_pretty_printed_envelope_and_a_future_term_are_read(tmp_path: Path) -> None:
    """No event time is in the future for a replay, whichever parser reads it."""
    later = {**PLAIN, "occurred_at": "2031-09-01T10:00:00-05:00"}
    path = _write(tmp_path, json.dumps(envelope([event_from_plain(later, SITE)]), indent=2))
    (event,) = read_events([path])
    assert event.occurred_at.year == 2031


def test_a_canvas_log_in_counts_for_every_live_enrollment() -> None:
    """A Canvas log-in names no course: the service folds it into every live enrollment."""
    from onpace_core.roster.enrollments import build_enrollments
    from onpace_core.roster.oneroster import read_roster
    from onpace_rules.program_files import load_program_file

    from tests.unit.rules_helpers import replay_keeping_store

    config = load_program_file(DEMO / "programs" / "riverbend-online.yaml")
    roster = read_roster(DEMO / "roster")
    records = build_enrollments(roster, [config])
    # A second class for Ava (each demo student has one), so "every enrollment" means two.
    (ava,) = [r for r in records if r.student_id == "stu-ava"]
    records.append(replace(ava, class_id="cls-extra"))
    mine = [r.enrollment_key for r in records if r.student_id == "stu-ava"]
    assert len(mine) == 2
    login = live_event_from_plain({**PLAIN, "kind": "login", "event_id": "l1"})
    (event,) = parse_document(login, now=None)
    assert event.course == ()
    result, store = replay_keeping_store(config, records, [event], FIRST, date(2026, 9, 2))
    assert result.unmatched == []
    assert all(store.subjects[k].state.last_on["login"] == date(2026, 9, 1) for k in mine)
    others = [
        k for k in store.subjects if "stu-ava" not in k and store.subjects[k].added.scope == "enrollment"
    ]
    assert others and all("login" not in store.subjects[k].state.last_on for k in others)


def test_plain_files_read_unchanged() -> None:
    events = read_events([DEMO / "events.jsonl"])
    assert len(events) == 290 and all(type(e).__name__ == "PlainActivityEvent" for e in events)


def test_replay_ingests_every_format_as_the_deployed_service_does() -> None:
    """Replay hands each day's events to the ingest service over its in-memory evaluation store;
    one batch of all of them through the same service over the plain in-memory port must end
    the same way, event by event: status, student and enrollments (Canvas log-ins included)."""
    from onpace_core.ingest.ports import MemoryIngestStore
    from onpace_core.ingest.service import ingest_events
    from onpace_core.roster.enrollments import district_enrollments
    from onpace_core.roster.identities import identity_rows
    from onpace_core.roster.oneroster import read_roster
    from onpace_core.store.memory_ingest import EvaluationIngestStore
    from onpace_local import replay as replay_module
    from onpace_rules.program_files import load_program_file

    config = load_program_file(DEMO / "programs" / "riverbend-online.yaml")
    roster = read_roster(DEMO / "roster")
    records = district_enrollments(roster, config)
    district = config.district_id
    plain = [json.loads(line) for line in (DEMO / "events.jsonl").read_text().splitlines() if line.strip()]
    documents = [_as_lms(p, ["xapi", "caliper", "canvas"][n % 3]) for n, p in enumerate(plain)]
    events = [e for d in documents for e in parse_document(d, now=None)]
    assert any(not e.course for e in events), "Canvas log-ins name no course"

    ports: list[EvaluationIngestStore] = []

    class Watched(EvaluationIngestStore):
        @classmethod
        def over(cls, *args: Any, **kwargs: Any) -> EvaluationIngestStore:
            ports.append(super().over(*args, **kwargs))
            return ports[-1]

    rows = identity_rows(roster)
    last = max(e.occurred_at for e in events).date() + timedelta(days=2)
    with patch.object(replay_module, "EvaluationIngestStore", Watched):
        # The evaluator idle throughout: no enrollment ends, as none does in the one batch below.
        idle = [replay_module.DayRange(FIRST, last)]
        replay_module.replay(config, records, events, FIRST, last, idle, identities=[(rows, "roster")])
    (replayed,) = ports

    port = MemoryIngestStore()
    port.save_identities(district, rows, origin="roster")
    for r in records:
        port.add_enrollment(district, r.class_id, r.student_id, program_id=config.program_id)
    ingest_events(
        district_id=district,
        source="mixed",
        events=events,
        now=datetime(2026, 12, 1, tzinfo=UTC),
        ttl_days=1,
        store=port,
    )

    def outcomes(store: MemoryIngestStore) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        return {
            r.event_id: (r.status, r.student_id, tuple(sorted(r.enrollments))) for r in store.raw.values()
        }

    deployed = outcomes(port)
    assert len(deployed) == len(events)
    assert outcomes(replayed) == deployed
    assert sum(1 for status, _, _ in deployed.values() if status == "folded") > 250


def test_an_admins_mappings_resolve_what_the_roster_does_not(tmp_path: Path) -> None:
    """``--mappings``: an address the roster does not know, mapped by an admin as
    ``onpace load mappings`` would load it, resolves in replay as in the deployed service."""
    actor = {"objectType": "Agent", "mbox": "mailto:ava.private@home.example"}
    events = _write(tmp_path, json.dumps(statement_from_plain(PLAIN, SITE, actor=actor)) + "\n")
    mappings = tmp_path / "mappings.csv"
    mappings.write_text("kind,namespace,value,sourcedId\nuser,email,Ava.Private@home.example,stu-ava\n")
    program = DEMO / "programs" / "riverbend-online.yaml"
    without = replay_files(program, DEMO / "roster", [events], FIRST, LAST)
    assert [e["reason"] for e in without.unmatched] == ["unknown student"]
    states: dict[date, dict[str, date]] = {}
    mapped = _watching(
        "#cls-eng10#stu-ava",
        states,
        lambda: replay_files(program, DEMO / "roster", [events], FIRST, LAST, mappings=[mappings]),
    )
    assert mapped.unmatched == []
    assert states[date(2026, 9, 2)]["submission"] == date(2026, 9, 1)


def test_the_cli_reads_mappings_and_names_why_an_event_was_kept_out(tmp_path: Path) -> None:
    actor = {"objectType": "Agent", "mbox": "mailto:ava.private@home.example"}
    events = _write(tmp_path, json.dumps(statement_from_plain(PLAIN, SITE, actor=actor)) + "\n")
    mappings = tmp_path / "mappings.csv"
    mappings.write_text("kind,namespace,value,sourcedId\nuser,email,ava.private@home.example,stu-ava\n")
    args = ["--program", str(DEMO / "programs" / "riverbend-online.yaml"), "--roster", str(DEMO / "roster")]
    args += ["--from", FIRST.isoformat(), "--to", LAST.isoformat(), "--events", str(events)]
    run = [sys.executable, "-m", "onpace_local.cli", "replay", *args]
    unmapped = subprocess.run(run, capture_output=True, text=True)
    assert unmapped.returncode == 0 and "(unknown student)" in unmapped.stderr, unmapped.stderr
    mapped = subprocess.run([*run, "--mappings", str(mappings)], capture_output=True, text=True)
    assert mapped.returncode == 0 and "kept out" not in mapped.stderr, mapped.stderr
