"""Reading the files a district gives OnPace: UTF-8 only, and every mistake named by file and line."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest
from onpace_core.roster.enrollments import RosterMismatchError, build_enrollments
from onpace_core.roster.oneroster import RosterError, read_roster
from onpace_rules.input_files import InputFileError, read_text
from onpace_rules.program_files import load_program_file


@pytest.fixture
def roster(repo_root: Path, tmp_path: Path) -> Path:
    """A copy of the demo roster to break."""
    copy = tmp_path / "roster"
    shutil.copytree(repo_root / "demo" / "roster", copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


# -- read_text -----------------------------------------------------------------------------------


def test_read_text_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(codecs.BOM_UTF8 + "a,b\nNguyễn,é\n".encode())
    assert read_text(path) == "a,b\nNguyễn,é\n"


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_read_text_names_the_line_and_byte_that_are_not_utf8(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(bom + b"id,name\nu1,Ava\n" + "u2,Éloïse\n".encode("cp1252"))
    with pytest.raises(InputFileError) as raised:
        read_text(path, fix="export the roster as UTF-8")
    assert (raised.value.path, raised.value.line) == (path, 3)
    assert str(raised.value) == f"{path}:3: not UTF-8 (byte 0xc9); export the roster as UTF-8"


def test_read_text_names_a_missing_file_and_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope.jsonl: no such events file$"):
        read_text(tmp_path / "nope.jsonl", what="events file")
    with pytest.raises(InputFileError, match=r": is a directory, not a file$"):
        read_text(tmp_path)


# -- program files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("ipr: 2026-10-09", "ipr: 2026-09-31", "2026-09-31 is not a date (day is out of range for month)"),
        (
            "holidays: [2026-09-07",
            "holidays: [2026-02-30",
            "2026-02-30 is not a date (day is out of range for month)",
        ),
        ("end: 2026-12-18", "end: 2026-13-18", "2026-13-18 is not a date (month must be in 1..12)"),
    ],
)
def test_an_impossible_date_in_a_program_file_names_its_line(
    repo_root: Path, tmp_path: Path, old: str, new: str, problem: str
) -> None:
    program = tmp_path / "online.yaml"
    shutil.copy(repo_root / "demo" / "programs" / "riverbend-online.yaml", program)
    _edit(program, old, new)
    with pytest.raises(InputFileError) as raised:
        load_program_file(program)
    assert str(raised.value) == f"{program}:{_line_of(program, new)}: {problem}"


def test_a_program_file_that_is_not_utf8_is_refused_with_its_line(repo_root: Path, tmp_path: Path) -> None:
    program = tmp_path / "online.yaml"
    text = (repo_root / "demo" / "programs" / "riverbend-online.yaml").read_text(encoding="utf-8")
    program.write_bytes(text.replace("Dana Ruiz", "Dana Ruíz").encode("cp1252"))
    with pytest.raises(InputFileError) as raised:
        load_program_file(program)
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if "Dana Ruiz" in t)
    assert str(raised.value) == f"{program}:{line}: not UTF-8 (byte 0xed); save the file as UTF-8"


def test_an_included_policy_that_is_not_a_mapping_of_rules_is_named(tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text("rules:\n  cps.pacing.ipr_drop: 0.15\n", encoding="utf-8")
    program = tmp_path / "p.yaml"
    program.write_text("include: [shared.yaml]\nrules: {}\n", encoding="utf-8")
    with pytest.raises(InputFileError) as raised:
        load_program_file(program)
    assert str(raised.value) == f"{tmp_path / 'shared.yaml'}:2: rules.cps.pacing.ipr_drop: expected a mapping"


# -- rosters -------------------------------------------------------------------------------------


def test_a_roster_with_a_byte_order_mark_reads_as_without(repo_root: Path, roster: Path) -> None:
    users = roster / "users.csv"
    users.write_bytes(codecs.BOM_UTF8 + users.read_bytes())
    assert read_roster(roster) == read_roster(repo_root / "demo" / "roster")


def test_a_windows_1252_roster_is_refused_with_file_line_and_byte(roster: Path) -> None:
    users = roster / "users.csv"
    line = _line_of(users, "stu-cara,")
    users.write_bytes(users.read_text(encoding="utf-8").replace(",Cara,", ",Clémence,").encode("cp1252"))
    with pytest.raises(RosterError) as raised:
        read_roster(roster)
    assert str(raised.value).splitlines() == [
        f"{users}:{line}: givenName: not UTF-8 (byte 0xe9 at character 3, 'é' in Windows-1252); "
        "export the roster as UTF-8",
        # The row left out leaves its enrollments without a student: each one is listed too.
        f"{roster / 'enrollments.csv'}:8: userSourcedId: names user 'stu-cara', "
        f"whose row (users.csv:{line}) is bad",
    ]


def test_a_bad_row_names_its_line(roster: Path) -> None:
    sessions = roster / "academicSessions.csv"
    _edit(sessions, "2026-08-24", "2026-08-32")
    with pytest.raises(RosterError) as raised:
        read_roster(roster)
    assert raised.value.path == sessions
    assert raised.value.line == _line_of(sessions, "2026-08-32")
    assert "startDate" in raised.value.problem


def test_an_enrollment_of_an_unknown_class_names_its_line(roster: Path) -> None:
    enrollments = roster / "enrollments.csv"
    text = enrollments.read_text(encoding="utf-8").splitlines()
    number, row = next((n, r) for n, r in enumerate(text, start=1) if ",cls-bio," in r and ",student," in r)
    _edit(enrollments, row, row.replace(",cls-bio,", ",cls-chem,"))
    with pytest.raises(RosterError) as raised:
        read_roster(roster)
    assert str(raised.value) == (
        f"{enrollments}:{number}: classSourcedId: names class 'cls-chem', which classes.csv does not hold"
    )


def test_a_roster_that_does_not_fit_the_program_names_the_enrollment(repo_root: Path, roster: Path) -> None:
    # No beginDate (none in the demo) and a term the export does not define: no day to count from.
    _edit(roster / "classes.csv", "org-rb-online,term-fall-2026", "org-rb-online,term-unknown")
    enrollments = roster / "enrollments.csv"
    program = load_program_file(repo_root / "demo" / "programs" / "riverbend-online.yaml")
    with pytest.raises(RosterMismatchError) as raised:
        build_enrollments(read_roster(roster), [program])
    assert isinstance(raised.value, InputFileError)
    assert raised.value.path == enrollments
    assert raised.value.line == _line_of(enrollments, ",cls-eng10,org-rb-online,stu-")
    assert "no beginDate, and class cls-eng10 has no term with a start date" in raised.value.problem


def test_a_missing_roster_directory_or_file_is_named(roster: Path, tmp_path: Path) -> None:
    with pytest.raises(RosterError, match=r"nowhere: no such roster directory"):
        read_roster(tmp_path / "nowhere")
    # Without a manifest, users, classes and enrollments are needed (orgs and sessions are not).
    (roster / "users.csv").unlink()
    with pytest.raises(RosterError) as raised:
        read_roster(roster)
    assert str(raised.value) == f"{roster / 'users.csv'}: file is missing from the roster export"
