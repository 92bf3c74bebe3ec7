"""The README's practice replay tells the demo's stories, and replay says which classes a program took.

The example command is read from README.md ("Practice a policy with `onpace replay`") and run
as written, so the documentation and this test cannot drift apart. Its decisions must be the
demo's own for that program's classes (tests/integration/test_demo.py's EXPECTED, the stories
of README "What the demo shows"); replayed with each of the demo's three programs in turn, the
same command gives every decision of the demo and nothing for Ava, Finn and Gia.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from onpace_local.cli import main
from onpace_rules.program_files import load_program_file

from tests.integration.test_demo import EXPECTED

KEEP_PACE = ("stu-ava", "stu-finn", "stu-gia")
Decision = tuple[str, str, str, str, str]  # (evaluation day, rule id, kind, student, deadlines)


def readme_example(repo_root: Path) -> list[str]:
    """The command of the README's replay example, as argv (without the program name)."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Practice a policy with `onpace replay`", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README: no ```sh block under 'Practice a policy with `onpace replay`'"
    argv = shlex.split(block.group(1).replace("\\\n", " "))
    assert argv[0] == ".venv/bin/onpace" and argv[1] == "replay", argv
    return argv[1:]


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def _with_program(argv: list[str], program: str) -> list[str]:
    at = argv.index("--program") + 1
    return [*argv[:at], program, *argv[at + 1 :]]


def _table_decisions(out: str) -> list[Decision]:
    """(date, rule, kind, student, deadlines) of each row of ``--format table``."""
    rows = out.splitlines()
    assert rows[0].split()[:5] == ["date", "rule", "student", "class", "kind"]
    decisions = []
    for row in rows[2:]:
        day, rule, student, _class, kind, _recipients, deadlines = re.split(r"\s{2,}", row)[:7]
        decisions.append((day, rule, kind, student, deadlines))
    return decisions


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[list[Decision], str]:
    assert main(argv) == 0
    captured = capsys.readouterr()
    return _table_decisions(captured.out), captured.err


def _demo_decisions(program: Path) -> list[Decision]:
    """The demo's decisions under ``program``'s rules (rule ids are unique to a demo program)."""
    rules = set(load_program_file(program).rules)
    return sorted(d for d in EXPECTED if d[1] in rules)


@pytest.fixture
def in_repo(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The README's paths are relative to the repository."""
    monkeypatch.chdir(repo_root)
    return repo_root


def test_the_readme_example_replays_a_demo_program_over_the_demo_roster(in_repo: Path) -> None:
    argv = readme_example(in_repo)
    assert _option(argv, "--roster") == "demo/roster"
    program = Path(_option(argv, "--program"))
    assert program.parent == Path("demo/programs")
    assert load_program_file(program).org_ids, "the example's program must select its classes by org_ids"
    assert _option(argv, "--format") == "table"


def test_the_readme_example_decides_what_the_demo_decides(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = readme_example(in_repo)
    decisions, err = _run(argv, capsys)
    assert sorted(decisions) == _demo_decisions(Path(_option(argv, "--program")))
    assert decisions, "the example should show some decisions"
    assert not {student for *_, student, _ in decisions} & set(KEEP_PACE)
    assert "onpace replay: warning:" not in err
    assert "left out" in err  # the other schools' activity, counted, not reported as unknown


def test_the_readme_command_over_each_demo_program_gives_every_decision_of_the_demo(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = readme_example(in_repo)
    everything: list[Decision] = []
    for program in sorted((in_repo / "demo" / "programs").glob("*.yaml")):
        decisions, err = _run(_with_program(argv, str(program.relative_to(in_repo))), capsys)
        assert sorted(decisions) == _demo_decisions(program), program.name
        assert "onpace replay: warning:" not in err, err
        everything += decisions
    assert sorted(everything) == sorted(EXPECTED)
    assert not {d[3] for d in everything} & set(KEEP_PACE)


# -- which classes a program applies to ------------------------------------------------------------


def test_a_program_without_org_ids_over_several_schools_is_applied_to_all_with_a_warning(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _with_program(readme_example(in_repo), "programs/cps-online.yaml")
    decisions, err = _run(argv, capsys)
    # Every class is held to CPS's rules, so students who keep pace in the demo get CPS decisions
    # (drops, or data alerts for a percent complete their LMS never reports).
    decided = {student for _, rule, kind, student, _ in decisions if rule.startswith(("cps.", "data."))}
    assert set(KEEP_PACE) <= decided
    assert "stu-ava" in {student for _, _, kind, student, _ in decisions if kind == "action"}
    assert (
        "onpace replay: warning: programs/cps-online.yaml lists no org_ids, so it was applied to every "
        "class of demo/roster: 4 classes of 3 schools (org-rb-coop, org-rb-dualcredit, org-rb-online)"
    ) in err


def test_org_ids_that_select_no_class_evaluate_nothing_with_a_warning(
    in_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "elsewhere.yaml"
    text = (in_repo / "demo" / "programs" / "riverbend-online.yaml").read_text(encoding="utf-8")
    program.write_text(text.replace("[org-rb-online]", "[org-rb-typo]"), encoding="utf-8")
    decisions, err = _run(_with_program(readme_example(in_repo), str(program)), capsys)
    assert decisions == []
    assert (
        f"onpace replay: warning: no student enrollment of demo/roster belongs to {program} "
        "(its org_ids: org-rb-typo; the roster's schools: org-rb-coop, org-rb-dualcredit, org-rb-online): "
        "nothing was evaluated"
    ) in err


def test_a_program_without_org_ids_over_one_school_needs_no_warning(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path("tests/fixtures/worked_examples/example1_cps_pacing")
    argv = [
        "replay",
        "--program",
        "programs/cps-online.yaml",
        "--roster",
        str(example / "roster"),
        "--events",
        str(example / "events.jsonl"),
        "--from",
        "2026-08-24",
        "--to",
        "2026-10-16",
        "--format",
        "table",
    ]
    decisions, err = _run(argv, capsys)
    assert decisions
    assert "onpace replay: warning:" not in err
    assert "left out" not in err and "not on the roster" not in err


def test_replay_help_shows_an_example_whose_program_selects_its_classes(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    example = text.split("example: onpace ", 1)[1].split()
    program = Path(_option(example, "--program"))
    assert load_program_file(program).org_ids
    assert "or to every class when it lists none" in text
