"""`onpace load`: wrong arguments, files and deployments are refused before anything is written.

No test here reaches AWS or moto: every refusal happens before a connection is made (the
endpoint given is a closed port, so a test that did connect would fail with a different error).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from onpace_local.cli import main

CLOSED_PORT = "http://127.0.0.1:9"
TABLES = {"PROGRAMS_TABLE": "programs", "ENROLLMENTS_TABLE": "enrollments", "AUDIT_TABLE": "audit"}


@pytest.fixture
def deployment_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Table names and a region as the functions have them, so the target itself resolves."""
    for name, value in TABLES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


@pytest.fixture
def program_file(repo_root: Path) -> Path:
    return repo_root / "demo" / "programs" / "riverbend-online.yaml"


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Runs the command, expects exit status 2 (nothing written) and returns what it printed to stderr."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["load"], "the following arguments are required: WHAT"),
        (["load", "programs", "x.yaml"], "invalid choice: 'programs'"),
        (["load", "program"], "the following arguments are required: PROGRAM.yaml"),
        (["load", "roster", "demo/roster"], "the following arguments are required: --program"),
        (["load", "roster", "--program", "p.yaml"], "the following arguments are required: ROSTER_DIR"),
        (["load", "program", "p.yaml", "--endpoint-url", "127.0.0.1:5000"], "is not an endpoint URL"),
    ],
)
def test_usage_errors_exit_2_with_the_problem(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_help_explains_calendar_changes_and_where_it_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["load", "program", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "calendar.changed audit entry" in text
    assert "--stack NAME" in text and "--endpoint-url URL" in text


@pytest.mark.usefixtures("deployment_env")
def test_a_missing_program_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.yaml"
    err = _refused(["load", "program", str(missing), "--endpoint-url", CLOSED_PORT], capsys)
    assert err == f"onpace: error: {missing}: no such program file\n"


@pytest.mark.usefixtures("deployment_env")
def test_an_invalid_program_file_is_refused_with_its_line(
    tmp_path: Path, program_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        program_file.read_text(encoding="utf-8").replace("pacing_threshold: 0.15", "pacing_threshold: 15"),
        encoding="utf-8",
    )
    err = _refused(["load", "program", str(broken), "--endpoint-url", CLOSED_PORT], capsys)
    assert err.startswith(f"onpace: error: {broken}:")
    assert "pacing_threshold" in err


@pytest.mark.usefixtures("deployment_env")
def test_the_same_program_twice_is_refused(program_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        ["load", "program", str(program_file), str(program_file), "--endpoint-url", CLOSED_PORT], capsys
    )
    assert "program riverbend#riverbend-online is also in" in err


def test_without_a_stack_the_table_names_must_be_in_the_environment(
    program_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in TABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    err = _refused(["load", "program", str(program_file), "--endpoint-url", CLOSED_PORT], capsys)
    assert "pass --stack NAME" in err
    assert "PROGRAMS_TABLE, ENROLLMENTS_TABLE, AUDIT_TABLE" in err


def test_a_region_is_required(
    program_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # No profile may supply one either.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    err = _refused(["load", "program", str(program_file), "--endpoint-url", CLOSED_PORT], capsys)
    assert err == "onpace load: no AWS region: pass --region or set AWS_REGION\n"


@pytest.mark.usefixtures("deployment_env")
def test_a_missing_roster_directory_is_named(
    program_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "export"
    argv = ["load", "roster", str(missing), "--program", str(program_file), "--endpoint-url", CLOSED_PORT]
    assert _refused(argv, capsys) == (
        f"onpace: error: {missing}: no such roster directory (a roster is a folder of OneRoster CSV files)\n"
    )


@pytest.mark.usefixtures("deployment_env")
def test_a_broken_roster_is_refused_with_its_file(
    repo_root: Path, program_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    export.mkdir()
    for csv in (repo_root / "demo" / "roster").glob("*.csv"):
        (export / csv.name).write_bytes(csv.read_bytes())
    (export / "users.csv").unlink()
    argv = ["load", "roster", str(export), "--program", str(program_file), "--endpoint-url", CLOSED_PORT]
    err = _refused(argv, capsys)
    assert err == f"onpace: error: {export / 'users.csv'}: file is missing from the roster export\n"


@pytest.mark.usefixtures("deployment_env")
def test_a_roster_with_no_class_of_the_program_is_refused(
    repo_root: Path, program_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(
        program_file.read_text(encoding="utf-8").replace("[org-rb-online]", "[org-somewhere-else]"),
        encoding="utf-8",
    )
    roster = repo_root / "demo" / "roster"
    argv = ["load", "roster", str(roster), "--program", str(elsewhere), "--endpoint-url", CLOSED_PORT]
    err = _refused(argv, capsys)
    assert "no student enrollment belongs to the program(s) given (their org_ids: org-somewhere-else)" in err


@pytest.mark.usefixtures("deployment_env")
def test_programs_of_two_districts_are_refused_for_one_roster(
    repo_root: Path, program_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        program_file.read_text(encoding="utf-8").replace("district_id: riverbend", "district_id: lakeside"),
        encoding="utf-8",
    )
    roster = repo_root / "demo" / "roster"
    argv = ["load", "roster", str(roster), "--program", str(program_file), "--program", str(other)]
    err = _refused([*argv, "--endpoint-url", CLOSED_PORT], capsys)
    assert "programs of one district expected, found lakeside, riverbend" in err
