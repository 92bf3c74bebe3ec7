"""Errors, not tracebacks: a wrong file ends every `onpace` command with its file, line and problem.

Three mistakes a district makes — an impossible date in a program file, an events file that is
not there, a roster exported in Windows-1252 — are tried on every command that reads such a
file. Each must print exactly ``onpace: error: <file>:<line>: <problem>`` on standard error,
exit with status 2 and start nothing: ``demo`` and ``invoke`` must refuse before moto server
starts (``LocalStack.start`` fails the test if called), ``load`` before it connects (the
endpoint is a closed port).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from onpace_local.cli import main
from onpace_local.stack import LocalStack

CLOSED_PORT = "http://127.0.0.1:9"
TABLES = {"PROGRAMS_TABLE": "programs", "ENROLLMENTS_TABLE": "enrollments", "AUDIT_TABLE": "audit"}
DATES = ["--from", "2026-08-24", "--to", "2026-08-28"]


@dataclass(frozen=True)
class Bad:
    """A copy of the demo district with one mistake of each kind, and the message each must give."""

    good_program: Path
    good_roster: Path
    good_events: Path
    programs_dir: Path  # riverbend-online.yaml's IPR date is 2026-09-31
    program: Path
    roster: Path  # users.csv in Windows-1252, an accented name on line 4
    missing_events: Path
    date_error: str
    roster_error: str
    events_error: str


@pytest.fixture
def bad(repo_root: Path, tmp_path: Path) -> Bad:
    demo = repo_root / "demo"
    programs = tmp_path / "programs"
    shutil.copytree(demo / "programs", programs)
    program = programs / "riverbend-online.yaml"
    text = program.read_text(encoding="utf-8")
    assert "ipr: 2026-10-09" in text
    program.write_text(text.replace("ipr: 2026-10-09", "ipr: 2026-09-31"), encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if "ipr: 2026-10-09" in t)

    roster = tmp_path / "roster"
    shutil.copytree(demo / "roster", roster)
    users = (roster / "users.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    assert users[3].startswith("stu-cara,") and ",Cara," in users[3]
    users[3] = users[3].replace(",Cara,", ",Clémence,")
    (roster / "users.csv").write_bytes("".join(users).encode("cp1252"))

    missing = tmp_path / "activity.jsonl"
    return Bad(
        good_program=demo / "programs" / "riverbend-online.yaml",
        good_roster=demo / "roster",
        good_events=demo / "events.jsonl",
        programs_dir=programs,
        program=program,
        roster=roster,
        missing_events=missing,
        date_error=f"{program}:{line}: 2026-09-31 is not a date (day is out of range for month)",
        roster_error=(
            f"{roster / 'users.csv'}:4: givenName: not UTF-8 (byte 0xe9 at character 3, 'é' in "
            "Windows-1252); export the roster as UTF-8\nonpace: error: "
            f"{roster / 'enrollments.csv'}:8: userSourcedId: names user 'stu-cara', whose row "
            "(users.csv:4) is bad"
        ),
        events_error=f"{missing}: no such events file",
    )


@pytest.fixture(autouse=True)
def _no_server_and_a_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any command here that started moto server would be too late; `load` gets table names and a region."""

    def refuse(*args: object, **kwargs: object) -> LocalStack:
        raise AssertionError("moto server was started before the files were checked")

    monkeypatch.setattr(LocalStack, "start", refuse)
    for name, value in TABLES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Runs ``onpace argv``: exit status 2, nothing on stdout, no traceback; returns stderr."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    return captured.err


def _replay(program: Path, roster: Path, events: Path) -> list[str]:
    return ["replay", "--program", str(program), "--roster", str(roster), "--events", str(events), *DATES]


def _demo(programs: Path, roster: Path, events: Path) -> list[str]:
    return [
        "demo",
        "--no-serve",
        "--programs",
        str(programs),
        "--roster",
        str(roster),
        "--events",
        str(events),
        *DATES,
    ]


# -- an impossible date in a program file ----------------------------------------------------------


def test_replay_names_the_impossible_date(bad: Bad, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(_replay(bad.program, bad.good_roster, bad.good_events), capsys)
    assert err == f"onpace: error: {bad.date_error}\n"


def test_load_program_names_the_impossible_date(bad: Bad, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["load", "program", str(bad.program), "--endpoint-url", CLOSED_PORT], capsys)
    assert err == f"onpace: error: {bad.date_error}\n"


def test_load_roster_names_the_impossible_date_of_its_program(
    bad: Bad, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "load",
        "roster",
        str(bad.good_roster),
        "--program",
        str(bad.program),
        "--endpoint-url",
        CLOSED_PORT,
    ]
    assert _error(argv, capsys) == f"onpace: error: {bad.date_error}\n"


def test_demo_names_the_impossible_date_before_starting_moto(
    bad: Bad, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(_demo(bad.programs_dir, bad.good_roster, bad.good_events), capsys)
    assert err == f"onpace: error: {bad.date_error}\n"


# -- an events file that does not exist ------------------------------------------------------------


def test_replay_names_the_missing_events_file(bad: Bad, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(_replay(bad.good_program, bad.good_roster, bad.missing_events), capsys)
    assert err == f"onpace: error: {bad.events_error}\n"


def test_demo_names_the_missing_events_file_before_starting_moto(
    bad: Bad, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(_demo(bad.good_program.parent, bad.good_roster, bad.missing_events), capsys)
    assert err == f"onpace: error: {bad.events_error}\n"


def test_invoke_names_the_missing_event_file_before_starting_moto(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "event.json"
    err = _error(["invoke", "IngestFunction", "--event", str(missing)], capsys)
    assert err == f"onpace: error: {missing}: no such event file\n"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"version": "2.0",\n  "body": }\n', ":2: not valid JSON: Expecting value (column 11)"),
        (
            '{"version": "2.0",\n "note": "café"}\n'.encode("cp1252"),
            ":2: not UTF-8 (byte 0xe9); save the file as UTF-8",
        ),
        (b"[1, 2]\n", ":1: expected one JSON object (a Lambda event, see events/)"),
    ],
)
def test_invoke_names_a_broken_event_file_and_its_line(
    tmp_path: Path, content: bytes, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(content)
    err = _error(["invoke", "IngestFunction", "--event", str(event)], capsys)
    assert err == f"onpace: error: {event}{problem}\n"


# -- a roster that is not UTF-8 --------------------------------------------------------------------


def test_replay_refuses_a_roster_that_is_not_utf8(bad: Bad, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(_replay(bad.good_program, bad.roster, bad.good_events), capsys)
    assert err == f"onpace: error: {bad.roster_error}\n"


def test_load_roster_lists_the_rows_that_are_not_utf8_before_connecting(
    bad: Bad, capsys: pytest.CaptureFixture[str]
) -> None:
    """`load roster` imports the good rows: the bad ones are listed first, then it connects
    (here to a closed port, so it stops there with nothing written)."""
    argv = [
        "load",
        "roster",
        str(bad.roster),
        "--program",
        str(bad.good_program),
        "--endpoint-url",
        CLOSED_PORT,
    ]
    assert main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "2 bad row(s), left out (the other rows are imported):" in lines
    assert (
        "  users.csv:4: givenName: not UTF-8 (byte 0xe9 at character 3, 'é' in Windows-1252); "
        "export the roster as UTF-8"
    ) in lines
    assert "cannot reach DynamoDB" in captured.err


def test_demo_refuses_a_roster_that_is_not_utf8_before_starting_moto(
    bad: Bad, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(_demo(bad.good_program.parent, bad.roster, bad.good_events), capsys)
    assert err == f"onpace: error: {bad.roster_error}\n"


# -- every problem of a file, one line each --------------------------------------------------------


def test_several_problems_of_one_file_are_each_on_their_own_line(
    tmp_path: Path, bad: Bad, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "partial.yaml"
    program.write_text("district_id: riverbend\nrules: {}\n", encoding="utf-8")
    err = _error(_replay(program, bad.good_roster, bad.good_events), capsys)
    lines = err.splitlines()
    assert len(lines) > 1
    assert all(line.startswith(f"onpace: error: {program}:1: ") for line in lines)
    assert f"onpace: error: {program}:1: program_id: Field required" in lines


def test_the_help_says_how_file_errors_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "'onpace: error: FILE:LINE: PROBLEM' on standard error and exit status 2" in text
