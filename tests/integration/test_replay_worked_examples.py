"""The catalogue's worked examples, replayed with the ready-made program files.

shared/design/policies.md, "Worked examples": each one is a folder under
tests/fixtures/worked_examples/ (roster, events, the replay range, the expected replay lines).
The CLI runs as a subprocess (``python -m onpace_local.cli replay``), as a district would run it;
``replay_files`` runs the same replay in-process to check what the CLI does not print (unmatched
events). No moto server is involved: replay is in memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from onpace_local.replay import DayRange, ReplayResult, replay_files

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "worked_examples"
EXAMPLES = ("example1_cps_pacing", "example2_csu_engagement", "example3_msc_ladder")
COMPARED = ("date", "rule", "student", "class", "kind", "deadlines")

# What the catalogue's text says, independently of the expected files: (date, rule, student, kind,
# deadlines). The expected files must state exactly these, so a wrong fixture cannot hide a bug.
CATALOGUE: dict[str, list[tuple[str, str, str, str, dict[str, str]]]] = {
    "example1_cps_pacing": [
        (
            "2026-09-25",
            "cps.pacing.ipr_warning_2w",
            "stu-ava",
            "notice",
            {"ipr": "2026-10-09", "drop": "2026-10-10"},
        ),
        # "a student with no report at all gets nothing either, and the program administrator
        # gets data.missing on 2026-09-25"
        ("2026-09-25", "data.missing", "stu-cy", "notice", {"ipr": "2026-10-09"}),
        (
            "2026-10-02",
            "cps.pacing.ipr_warning_1w",
            "stu-ava",
            "notice",
            {"ipr": "2026-10-09", "drop": "2026-10-10"},
        ),
        ("2026-10-10", "cps.pacing.ipr_drop", "stu-ava", "action", {"appeal": "2026-10-13"}),
    ],
    "example2_csu_engagement": [
        (
            "2026-03-17",
            "csu.engagement.at_risk_14d",
            "stu-kim",
            "notice",
            {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        ),
    ],
    "example3_msc_ladder": [
        ("2026-01-24", "msc.progress.step1_contact", "stu-max", "notice", {}),
        ("2026-01-31", "msc.progress.step2_reminder", "stu-max", "notice", {}),
        (
            "2026-02-07",
            "msc.progress.step3_removal_notice",
            "stu-max",
            "notice",
            {"last_day": "2026-02-09", "removal": "2026-02-10"},
        ),
        ("2026-02-10", "msc.progress.step4_removal", "stu-max", "action", {"reenroll": "2026-02-17"}),
    ],
}


def _settings(example: str) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads((FIXTURES / example / "replay.json").read_text(encoding="utf-8"))
    return settings


def _read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _cli_args(example: str, *extra: str) -> list[str]:
    settings = _settings(example)
    folder = FIXTURES / example
    return [
        "replay",
        "--program",
        str(REPO_ROOT / settings["program"]),
        "--roster",
        str(folder / "roster"),
        "--events",
        str(folder / "events.jsonl"),
        "--from",
        settings["from"],
        "--to",
        settings["to"],
        *extra,
    ]


def _run_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``onpace ...`` as a separate process, with this interpreter (the project's virtualenv)."""
    completed = subprocess.run(
        [sys.executable, "-m", "onpace_local.cli", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, f"onpace replay failed:\n{completed.stderr}"
    return completed


def _assert_same_decisions(
    got: list[dict[str, Any]], expected: list[dict[str, Any]], key_facts: list[str]
) -> None:
    """Line by line: date, rule, student, class, kind, deadlines, recipients, and the key facts."""
    assert [tuple(line[k] for k in ("date", "rule", "student")) for line in got] == [
        tuple(line[k] for k in ("date", "rule", "student")) for line in expected
    ]
    for number, (mine, theirs) in enumerate(zip(got, expected, strict=True), start=1):
        where = f"line {number} ({theirs['date']} {theirs['rule']})"
        for field in COMPARED:
            assert mine[field] == theirs[field], f"{where}: {field}"
        # The order recipients are listed in is presentation; who is told is the policy.
        assert sorted(mine["recipients"]) == sorted(theirs["recipients"]), f"{where}: recipients"
        for fact in key_facts:
            if fact in theirs["facts"]:
                assert mine["facts"].get(fact) == theirs["facts"][fact], f"{where}: fact {fact}"


@pytest.mark.parametrize("example", EXAMPLES)
def test_expected_files_state_the_catalogue_examples(example: str) -> None:
    expected = _read_lines(FIXTURES / example / "expected.jsonl")
    assert [
        (line["date"], line["rule"], line["student"], line["kind"], line["deadlines"]) for line in expected
    ] == CATALOGUE[example]
    # Every key fact the test compares is stated by at least one expected line.
    for fact in _settings(example)["key_facts"]:
        assert any(fact in line["facts"] for line in expected), fact


@pytest.mark.parametrize("example", EXAMPLES)
def test_cli_replay_prints_the_worked_example(example: str) -> None:
    completed = _run_cli(_cli_args(example))
    got = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    expected = _read_lines(FIXTURES / example / "expected.jsonl")
    _assert_same_decisions(got, expected, _settings(example)["key_facts"])
    # Every event names a student and class of the roster: nothing was left out of the evaluation.
    assert "not on the roster" not in completed.stderr


def _replay_in_process(example: str) -> ReplayResult:
    settings = _settings(example)
    folder = FIXTURES / example
    return replay_files(
        REPO_ROOT / settings["program"],
        folder / "roster",
        [folder / "events.jsonl"],
        date.fromisoformat(settings["from"]),
        date.fromisoformat(settings["to"]),
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_in_process_replay_matches_and_every_event_is_matched(example: str) -> None:
    result = _replay_in_process(example)
    assert result.unmatched == []
    expected = _read_lines(FIXTURES / example / "expected.jsonl")
    _assert_same_decisions(result.lines, expected, _settings(example)["key_facts"])


def test_example_1_student_at_20_percent_gets_nothing() -> None:
    result = _replay_in_process("example1_cps_pacing")
    # Never stu-ben (20 % on 09-25); stu-cy, whose progress was never reported, only reaches the
    # program administrator ("No data is not zero").
    assert {line["student"] for line in result.lines if line["rule"] != "data.missing"} == {"stu-ava"}
    alerts = [line for line in result.lines if line["rule"] == "data.missing"]
    assert [(a["date"], a["student"], a["recipients"]) for a in alerts] == [
        ("2026-09-25", "stu-cy", ["program_admin"])
    ]
    assert alerts[0]["facts"]["missing_value"] == "percent_complete"
    assert alerts[0]["facts"]["needed_by"] == ["cps.pacing.ipr_warning_2w"]
    assert result.evaluations > 0


def test_example_1_facts_state_percent_complete_and_the_ipr() -> None:
    lines = [
        line
        for line in _read_lines(FIXTURES / "example1_cps_pacing" / "expected.jsonl")
        if line["rule"] != "data.missing"
    ]
    assert [line["facts"]["percent_complete"] for line in lines] == [0.10, 0.12, 0.12]
    assert {line["facts"]["ipr_date"] for line in lines} == {"2026-10-09"}
    assert sorted(lines[2]["recipients"]) == ["counselor", "guardian", "instructor", "student"]


def test_example_2_nothing_else_in_the_episode_after_the_submission() -> None:
    result = _replay_in_process("example2_csu_engagement")
    # No withdrawal on 2026-03-23, and nothing for stu-lou, who engages every week.
    assert [(line["rule"], line["student"]) for line in result.lines] == [
        ("csu.engagement.at_risk_14d", "stu-kim")
    ]
    (line,) = _read_lines(FIXTURES / "example2_csu_engagement" / "expected.jsonl")
    # Log-ins and page views after 2026-03-02 are not engagement: the lapse counts from the reply.
    assert line["facts"]["last_activity_date"] == "2026-03-02"
    assert line["facts"]["calendar_days_without_activity"] == 14


def test_example_1_outage_catch_up_sends_only_the_one_week_warning() -> None:
    """Conventions: "only the latest one whose date has come is sent, late, and the earlier ones are
    recorded as `skipped (superseded)`" — evaluator idle 2026-09-25..2026-10-03, back on 10-04."""
    settings = _settings("example1_cps_pacing")["skip"]
    completed = _run_cli(_cli_args("example1_cps_pacing", "--skip", settings["range"]))
    got = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    expected = _read_lines(FIXTURES / "example1_cps_pacing" / settings["expected"])
    _assert_same_decisions(got, expected, settings["key_facts"])

    outage = DayRange.parse(settings["range"])
    assert not any(date.fromisoformat(line["date"]) in outage for line in got)
    two_weeks, one_week, alert, drop = got
    # The alert for the missing value, dated the catch-up day, due the first day a rule needed it.
    assert (alert["rule"], alert["date"], alert["facts"]["due_on"]) == (
        "data.missing",
        "2026-10-04",
        "2026-09-25",
    )
    assert (two_weeks["date"], two_weeks["rule"], two_weeks["kind"]) == (
        "2026-10-04",
        "cps.pacing.ipr_warning_2w",
        "skipped",
    )
    assert two_weeks["recipients"] == []
    assert two_weeks["facts"]["reason"] == "superseded"
    assert two_weeks["facts"]["due_on"] == "2026-09-25"
    assert (one_week["date"], one_week["rule"], one_week["kind"]) == (
        "2026-10-04",
        "cps.pacing.ipr_warning_1w",
        "notice",
    )
    assert one_week["facts"]["due_on"] == "2026-10-02"
    assert one_week["deadlines"] == {"ipr": "2026-10-09", "drop": "2026-10-10"}
    # The drop is not affected by the outage: Sat 2026-10-10, appeal within 2 school days.
    assert (drop["date"], drop["deadlines"]) == ("2026-10-10", {"appeal": "2026-10-13"})


def test_table_format_prints_a_header_and_one_row_per_decision() -> None:
    completed = _run_cli(_cli_args("example1_cps_pacing", "--format", "table"))
    rows = completed.stdout.splitlines()
    header, rule, *body = rows
    assert header.split() == ["date", "rule", "student", "class", "kind", "recipients", "deadlines", "facts"]
    assert set(rule.replace(" ", "")) == {"-"}
    expected = _read_lines(FIXTURES / "example1_cps_pacing" / "expected.jsonl")
    assert len(body) == len(expected)
    for row, line in zip(body, expected, strict=True):
        cells = row.split()
        assert cells[:5] == [line["date"], line["rule"], line["student"], line["class"], line["kind"]]
        for name, when in line["deadlines"].items():
            assert f"{name} {when}" in row
    assert "appeal 2026-10-13" in body[-1]
