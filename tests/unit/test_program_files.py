"""Program policy files: schema errors name the file and the line; shared policies can be included."""

from __future__ import annotations

from pathlib import Path

import pytest
from onpace_rules.program_files import ProgramFileError, load_program_file

BASE = """\
district_id: d1
program_id: p1
name: Test
time_zone: America/Chicago
policy_version: v1
source: 000_bc3aac7a290565fd.txt
calendar:
  terms:
    - {id: fall, start: 2026-08-24, end: 2026-12-18, ipr: 2026-10-09}
rules:
  cps.pacing.ipr_warning_2w: {}
  cps.pacing.ipr_drop:
    pacing_threshold: 0.15
notices:
  program_name: Online Courses
  district_name: Springfield Public Schools
  contact: {name: Alex Rivera, address: alex.rivera@district.example}
"""
NOTICES = BASE[BASE.index("notices:") :]


def _write(tmp_path: Path, text: str, name: str = "program.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads(tmp_path: Path) -> None:
    config = load_program_file(_write(tmp_path, BASE))
    assert config.rules["cps.pacing.ipr_drop"] == {"pacing_threshold": 0.15}


@pytest.mark.parametrize(
    ("change", "line", "says"),
    [
        (("pacing_threshold: 0.15", "pacing_threshold: 1.5"), 13, "pacing_threshold"),
        (("ipr_warning_2w: {}", "ipr_warning_3w: {}"), 11, "did you mean cps.pacing.ipr_warning_2w"),
        (("time_zone: America/Chicago", "time_zone: Mars/Olympus"), 4, "Mars/Olympus"),
        (("end: 2026-12-18", "end: 2026-06-18"), 9, "ends (2026-06-18) before it starts"),
        (("ipr: 2026-10-09", "ipr: 2027-10-09"), 9, "outside the term"),
        (("name: Test", "name: Test\ncolour: blue"), 4, "colour"),
        # The tables' key separator (and the sign-in claim's list separator) in a district id.
        (("district_id: d1", "district_id: 'd1#x'"), 1, "district_id"),
        (("district_id: d1", "district_id: d1,d2"), 1, "district_id"),
    ],
)
def test_errors_name_file_line_and_problem(
    tmp_path: Path, change: tuple[str, str], line: int | None, says: str
) -> None:
    path = _write(tmp_path, BASE.replace(*change))
    with pytest.raises(ProgramFileError) as raised:
        load_program_file(path)
    message = str(raised.value)
    assert str(path) in message
    assert says in message
    if line is not None:
        assert f"{path}:{line}: " in message


def test_a_program_writing_to_families_needs_its_notice_settings(tmp_path: Path) -> None:
    """Catalogue "Recipients and contact data": "Every notice to a family names a person to
    contact, with name and address ..., and replies go to that person (Reply-To)"."""
    path = _write(tmp_path, BASE.replace(NOTICES, ""))
    with pytest.raises(ProgramFileError) as raised:
        load_program_file(path)
    message = str(raised.value)
    assert f"{path}:12:" in message  # the first rule named as writing to families
    assert "notices is required because cps.pacing.ipr_drop, cps.pacing.ipr_warning_2w" in message
    assert "contact: {name, address}" in message


def test_a_staff_only_program_needs_no_notice_settings(tmp_path: Path) -> None:
    staff_only = BASE.replace(NOTICES, "").replace(
        "  cps.pacing.ipr_warning_2w: {}\n  cps.pacing.ipr_drop:\n    pacing_threshold: 0.15\n",
        "  cps.enrollment.add_window: {}\n",
    )
    assert load_program_file(_write(tmp_path, staff_only)).notices is None


@pytest.mark.parametrize(
    ("contact", "says"),
    [
        ("{name: Alex Rivera, address: alex.rivera}", "is not an email address"),
        ("{name: Alex Rivera, address: alex@localhost}", "is not an email address"),
        ("{name: Alex Rivera}", "notices.contact.address: Field required"),
    ],
)
def test_the_program_contact_needs_a_usable_address(tmp_path: Path, contact: str, says: str) -> None:
    text = BASE.replace("{name: Alex Rivera, address: alex.rivera@district.example}", contact)
    with pytest.raises(ProgramFileError, match=says):
        load_program_file(_write(tmp_path, text))


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("rules:\n", "rules:\n  - [unclosed\n"))
    with pytest.raises(ProgramFileError, match=r"program.yaml:\d+: not valid YAML"):
        load_program_file(path)


def test_an_included_policy_is_merged_and_the_program_wins(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "policy_version: shared-1\nsource: 003_87de092a038aeaf4.txt\nrules:\n"
        "  csu.engagement.at_risk_14d: {warning_day: 10}\n  cps.pacing.ipr_drop: {pacing_threshold: 0.2}\n",
        "shared.yaml",
    )
    path = _write(tmp_path, BASE.replace("rules:\n", "include: [shared.yaml]\nrules:\n"))
    config = load_program_file(path)
    assert config.rules["csu.engagement.at_risk_14d"] == {"warning_day": 10}
    assert config.rules["cps.pacing.ipr_drop"] == {"pacing_threshold": 0.15}  # the program's own value


def test_an_include_that_is_missing_or_holds_program_settings_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("rules:\n", "include: [nope.yaml]\nrules:\n"))
    with pytest.raises(ProgramFileError, match=r"program.yaml:10: include: no file 'nope.yaml'"):
        load_program_file(path)
    _write(tmp_path, "policy_version: s\nsource: s\ntime_zone: UTC\nrules: {}\n", "shared.yaml")
    path = _write(tmp_path, BASE.replace("rules:\n", "include: [shared.yaml]\nrules:\n"))
    with pytest.raises(ProgramFileError, match=r"shared.yaml:3: .*not time_zone"):
        load_program_file(path)


def test_dated_versions_load_and_a_bad_override_names_its_rule(tmp_path: Path) -> None:
    versions = (
        "versions:\n  - version: v2\n    effective: 2027-01-01\n"
        "    rules:\n      cps.pacing.ipr_drop: {pacing_threshold: 0.2}\n"
    )
    config = load_program_file(_write(tmp_path, BASE + versions))
    assert [label for _, label in [(e, c.policy_version) for e, c in config.versioned()]] == ["v1", "v2"]
    bad = _write(tmp_path, BASE + versions.replace("0.2}", "2.0}"))
    with pytest.raises(ProgramFileError, match="pacing_threshold"):
        load_program_file(bad)
