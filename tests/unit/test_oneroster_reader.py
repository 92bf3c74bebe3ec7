"""Reading OneRoster 1.1 and 1.2 CSV exports: manifest, bulk and delta, status, roles, families,
encodings, and every bad row named by file, line and column (tests/fixtures/oneroster)."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from onpace_core.roster.enrollments import (
    RosterMismatchError,
    build_enrollments,
    collect_enrollments,
    family_of,
)
from onpace_core.roster.export import ZipExport
from onpace_core.roster.oneroster import Roster, RosterError, read_export, read_roster
from onpace_rules.program import ProgramConfig
from onpace_rules.program_files import load_program_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oneroster"


@pytest.fixture(scope="module")
def program(repo_root: Path) -> ProgramConfig:
    return load_program_file(repo_root / "demo" / "programs" / "riverbend-online.yaml")


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def _set_manifest(export: Path, **modes: str) -> None:
    path = export / "manifest.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    for name, mode in modes.items():
        lines = [f"file.{name},{mode}" if line.startswith(f"file.{name},") else line for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _problems(roster: Roster) -> list[str]:
    return [str(p) for p in roster.problems]


# -- OneRoster 1.2 ------------------------------------------------------------------------------


def test_a_12_bulk_export_reads_roles_from_roles_csv() -> None:
    roster = read_roster(FIXTURES / "riverbend-v1p2-bulk")
    assert roster.version == "1.2" and roster.mode("users.csv") == "bulk"
    assert roster.problems == ()
    # users.csv of 1.2 has no role column: roles.csv gives them, primary and secondary alike,
    # in the spec's spelling whatever the case in the file ("Parent").
    assert roster.users["stu-ava"].role is None
    assert roster.user_roles("stu-ava") == {"student"}
    assert roster.user_roles("par-ortiz") == {"parent"}
    assert roster.user_roles("tch-moss") == {"teacher", "counselor"}
    assert [r.role_type for r in roster.roles["tch-moss"]] == ["primary", "secondary"]


def test_12_user_columns_are_read() -> None:
    roster = read_roster(FIXTURES / "riverbend-v1p2-bulk")
    ava = roster.users["stu-ava"]
    assert ava.name == "Avi Lee"  # preferredGivenName, the name to write to
    assert ava.master_identifier == "SIS-1001"
    assert ava.user_ids == (("LDAP", "ava.lee"), ("Canvas", "1001"))
    assert ava.primary_org_sourced_id == "org-rb-online"
    assert roster.birth_dates == {"stu-ava": date(2010, 11, 2), "stu-dan": date(2008, 2, 11)}
    assert roster.courses["crs-eng10"].course_code == "ENG10"
    assert roster.classes["cls-alg1"].grade_levels == ("9",)


def test_guardians_are_linked_from_either_row_and_relatives_only_by_choice(program: ProgramConfig) -> None:
    roster = read_roster(FIXTURES / "riverbend-v1p2-bulk")

    def family(student: str, roles: tuple[str, ...]) -> list[str]:
        return [u.sourced_id for u in family_of(roster, roster.users[student], roles)]

    assert family("stu-ava", ("parent", "guardian")) == ["par-lee"]  # on the student's row
    assert family("stu-ben", ("parent", "guardian")) == ["par-ortiz"]  # on the parent's row only
    assert family("stu-cara", ("parent", "guardian")) == []  # a relative, not counted by default
    assert family("stu-cara", ("parent", "guardian", "relative")) == ["rel-nguyen"]

    records = {r.student_id: r for r in build_enrollments(roster, [program]) if r.class_id == "cls-eng10"}
    assert [(c.role, c.address) for c in records["stu-ben"].contacts] == [
        ("student", "ben.ortiz@students.riverbend.example"),
        ("guardian", "luis.ortiz@family.example"),
        ("instructor", "rita.moss@riverbend.example"),
    ]
    assert [c.role for c in records["stu-cara"].contacts] == ["instructor"]

    with_relatives = program.model_copy(update={"guardian_roles": ("parent", "guardian", "relative")})
    cara = next(r for r in build_enrollments(roster, [with_relatives]) if r.student_id == "stu-cara")
    assert ("guardian", "hoa.nguyen@family.example") in [(c.role, c.address) for c in cara.contacts]


def test_guardian_roles_is_a_program_setting_with_a_default(program: ProgramConfig) -> None:
    assert program.guardian_roles == ("parent", "guardian")
    with pytest.raises(ValueError, match="guardian_roles"):
        ProgramConfig.model_validate({**program.model_dump(), "guardian_roles": ["aunt"]})


def test_an_enrollment_without_begin_date_starts_with_its_term(program: ProgramConfig) -> None:
    records = build_enrollments(read_roster(FIXTURES / "riverbend-v1p2-bulk"), [program])
    starts = {(r.class_id, r.student_id): r.start_date for r in records}
    assert starts[("cls-eng10", "stu-ava")] == date(2026, 8, 24)  # academicSessions.csv
    assert starts[("cls-alg1", "stu-ava")] == date(2026, 9, 1)  # its own beginDate
    assert {r.end_date for r in records} == {date(2026, 12, 18)}


# -- OneRoster 1.1: BOM, CRLF, an empty academicSessions.csv -------------------------------------


def test_a_11_export_with_bom_crlf_and_empty_sessions_takes_the_programs_term(program: ProgramConfig) -> None:
    export = FIXTURES / "riverbend-v1p1-bom-crlf"
    assert (export / "users.csv").read_bytes().startswith(b"\xef\xbb\xbfsourcedId,")
    assert b"\r\n" in (export / "users.csv").read_bytes()
    assert (export / "academicSessions.csv").read_bytes() == b""
    roster = read_roster(export)
    assert roster.version == "1.1" and roster.sessions == {} and roster.problems == ()
    (record,) = build_enrollments(roster, [program])
    assert record.student_id == "stu-zoé" and record.student_name == "Zoé Martín"
    assert (record.start_date, record.end_date, record.term_id) == (
        date(2026, 8, 24),
        date(2026, 12, 18),
        "term-fall-2026",
    )
    assert [c.role for c in record.contacts] == ["student", "guardian", "instructor"]


def test_a_missing_academic_sessions_file_is_not_needed(program: ProgramConfig, tmp_path: Path) -> None:
    export = _copy("riverbend-v1p1-bom-crlf", tmp_path)
    (export / "academicSessions.csv").unlink()
    _set_manifest(export, academicSessions="absent")
    (record,) = build_enrollments(read_roster(export), [program])
    assert record.start_date == date(2026, 8, 24)


def test_no_begin_date_and_no_term_anywhere_is_reported_by_column(
    program: ProgramConfig, tmp_path: Path
) -> None:
    export = _copy("riverbend-v1p1-bom-crlf", tmp_path)
    classes = export / "classes.csv"
    classes.write_bytes(classes.read_bytes().replace(b",term-fall-2026,", b",term-spring-2031,"))
    roster = read_roster(export)
    records, problems = collect_enrollments(roster, [program])
    assert records == []
    assert [(p.file, p.line, p.column) for p in problems] == [("enrollments.csv", 3, "beginDate")]
    with pytest.raises(RosterMismatchError, match="enrollment enr-zoe: no beginDate"):
        build_enrollments(roster, [program])


# -- bad rows: every one, with file, line and column; the good rows kept --------------------------


def test_every_bad_row_of_a_windows_1252_export_is_listed_and_the_good_ones_read() -> None:
    roster = read_roster(FIXTURES / "riverbend-v1p1-cp1252", strict=False)
    assert _problems(roster) == [
        "users.csv:3: givenName: not UTF-8 (byte 0xe9 at character 3, 'é' in Windows-1252); "
        "export the roster as UTF-8",
        "users.csv:4: role: 'pupil' is not a OneRoster user role (administrator, aide, counselor, "
        "districtAdministrator, guardian, parent, principal, proctor, relative, siteAdministrator, "
        "student, systemAdministrator, teacher, or ext:…)",
        "enrollments.csv:4: userSourcedId: names user 'stu-cle', whose row (users.csv:3) is bad",
        "enrollments.csv:5: userSourcedId: names user 'stu-jo', whose row (users.csv:4) is bad",
        "enrollments.csv:6: beginDate: '24/08/2026' is not a date written YYYY-MM-DD",
    ]
    assert sorted(roster.users) == ["stu-ana", "tch-moss"]
    assert [e.sourced_id for e in roster.enrollments] == ["enr-t1", "enr-ana"]
    # The rows left out name enrollments a bulk re-load must not end.
    assert roster.unreadable == {("cls-eng10", "stu-cle"), ("cls-eng10", "stu-jo"), ("cls-eng10", "stu-ana")}
    assert roster.enrollments_complete


def test_strict_reading_refuses_with_every_problem_on_its_own_line() -> None:
    export = FIXTURES / "riverbend-v1p1-cp1252"
    with pytest.raises(RosterError) as raised:
        read_roster(export)
    lines = str(raised.value).splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(f"{export / 'users.csv'}:3: givenName: not UTF-8")
    assert (
        lines[-1]
        == f"{export / 'enrollments.csv'}:6: beginDate: '24/08/2026' is not a date written YYYY-MM-DD"
    )


def test_a_header_that_is_not_utf8_refuses_the_file(tmp_path: Path) -> None:
    export = _copy("riverbend-v1p1-bom-crlf", tmp_path)
    users = export / "users.csv"
    users.write_bytes(users.read_bytes().replace(b"givenName", "givénName".encode("cp1252")))
    with pytest.raises(RosterError) as raised:
        read_roster(export, strict=False)
    assert raised.value.path == users and raised.value.line == 1
    assert "header: not UTF-8 (byte 0xe9" in raised.value.problem


def test_bad_status_dates_roles_and_duplicates_are_each_reported(tmp_path: Path) -> None:
    export = _copy("riverbend-v1p2-bulk", tmp_path)
    enrollments = export / "enrollments.csv"
    text = enrollments.read_text(encoding="utf-8")
    text = text.replace("enr-ava-alg,active", "enr-ava-alg,archived").replace(",2026-09-01,", ",2026-9-1,")
    text = text.replace("stu-cara,student", "stu-cara,learner")
    text += "enr-ben-eng,active,2026-08-01T00:00:00Z,cls-eng10,org-rb-online,stu-ben,student,false,,\n"
    enrollments.write_text(text, encoding="utf-8")
    roster = read_roster(export, strict=False)
    assert [(p.file, p.line, p.column) for p in roster.problems] == [
        ("enrollments.csv", 5, "status"),
        ("enrollments.csv", 7, "role"),
        ("enrollments.csv", 9, "sourcedId"),
    ]
    assert "'archived' is not active or tobedeleted" in roster.problems[0].problem
    assert "is also on line 6" in roster.problems[2].problem
    # The bad rows' enrollments are known, so a bulk re-load keeps them as stored.
    assert {("cls-alg1", "stu-ava"), ("cls-eng10", "stu-cara")} <= roster.unreadable


# -- manifest, status, delta ----------------------------------------------------------------------


def test_a_file_the_manifest_lists_must_be_there_and_an_absent_one_is_ignored(tmp_path: Path) -> None:
    export = _copy("riverbend-v1p2-bulk", tmp_path)
    (export / "demographics.csv").unlink()
    with pytest.raises(RosterError) as raised:
        read_roster(export)
    assert (
        str(raised.value)
        == f"{export / 'demographics.csv'}: file is missing from the roster export (manifest.csv: bulk)"
    )
    _set_manifest(export, demographics="absent", courses="absent")
    roster = read_roster(export)
    assert roster.birth_dates == {} and roster.courses == {}  # courses.csv is there, but absent


def test_a_manifest_without_a_known_version_is_refused_with_its_line(tmp_path: Path) -> None:
    export = _copy("riverbend-v1p2-bulk", tmp_path)
    manifest = export / "manifest.csv"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("oneroster.version,1.2", "oneroster.version,2.0")
    )
    with pytest.raises(RosterError) as raised:
        read_roster(export)
    assert (raised.value.path, raised.value.line) == (manifest, 3)
    assert "oneroster.version '2.0' is not 1.0, 1.1 or 1.2" in raised.value.problem


def test_tobedeleted_rows_are_deletions_not_roster_rows(tmp_path: Path, program: ProgramConfig) -> None:
    export = _copy("riverbend-v1p2-bulk", tmp_path)
    users = export / "users.csv"
    users.write_text(users.read_text(encoding="utf-8").replace("stu-dan,active", "stu-dan,tobedeleted"))
    roster = read_roster(export)
    assert "stu-dan" not in roster.users and roster.deleted.users == {"stu-dan"}
    # Dan's enrollment is not imported as active: it is one to end.
    assert [(d.class_sourced_id, d.user_sourced_id) for d in roster.deleted.enrollments] == [
        ("cls-alg1", "stu-dan")
    ]
    assert "stu-dan" not in {r.student_id for r in build_enrollments(roster, [program])}


def test_a_delta_lists_only_what_changed(program: ProgramConfig) -> None:
    roster = read_roster(FIXTURES / "riverbend-v1p2-delta")
    assert roster.mode("enrollments.csv") == "delta" and roster.mode("orgs.csv") == "absent"
    assert roster.deleted.users == {"stu-dan"}
    assert [(d.sourced_id, d.line) for d in roster.deleted.enrollments] == [("enr-ben-eng", 2)]
    (record,) = build_enrollments(roster, [program])
    # No academicSessions.csv in the delta: the program's term of the class gives the end.
    assert (record.student_id, record.class_id, record.start_date, record.end_date) == (
        "stu-eli",
        "cls-alg1",
        date(2026, 9, 2),
        date(2026, 12, 18),
    )


def test_a_delta_enrollment_whose_class_is_not_in_the_delta_is_reported(tmp_path: Path) -> None:
    export = _copy("riverbend-v1p2-delta", tmp_path)
    (export / "classes.csv").unlink()
    _set_manifest(export, classes="absent")
    roster = read_roster(export, strict=False)
    assert _problems(roster) == [
        "enrollments.csv:3: classSourcedId: names class 'cls-alg1', which is not in this export (classes.csv "
        "is not in the export); an enrollment of a delta needs its class and user rows in the same export"
    ]
    assert roster.unreadable == {("cls-alg1", "stu-eli")}


# -- real exports (the Moodle OneRoster plugin's fixtures; see SOURCE.md) -------------------------


def test_the_moodle_12_export_names_the_roles_file_its_manifest_promises() -> None:
    export = FIXTURES / "moodle-v1p2"
    with pytest.raises(RosterError) as raised:
        read_roster(export)
    assert (
        str(raised.value)
        == f"{export / 'roles.csv'}: file is missing from the roster export (manifest.csv: bulk)"
    )


def test_the_moodle_12_export_reads_once_roles_are_absent(tmp_path: Path) -> None:
    export = _copy("moodle-v1p2", tmp_path)
    _set_manifest(export, roles="absent")
    roster = read_roster(export)
    assert roster.version == "1.2" and roster.problems == ()
    assert len(roster.users) == 6  # a blank status is active
    assert roster.users["usr-222-1234561"].user_ids == (("LDAP", "12"), ("LTI", "15"), ("Fed", "23"))
    # The class marked tobedeleted ends its three enrollments; OneRoster 1.0's "inactive" deletes.
    assert roster.deleted.classes == {"cls-222-123478"}
    assert {d.user_sourced_id for d in roster.deleted.enrollments} == {
        "usr-222-123456",
        "usr-222-987654",
        "usr-222-1234561232",
    }
    assert set(roster.sessions) == {"as-trm-222-1234", "as-grp-222-3456", "as-trm-222-1235"}
    assert [e.sourced_id for e in roster.enrollments] == [
        "enr-t-222-12345-123456",
        "enr-s-222-12345-987654",
        "enr-s-222-12345-987655",
    ]


def test_the_moodle_11_export_links_a_parent_from_the_parents_row(tmp_path: Path) -> None:
    export = _copy("moodle-v1p1", tmp_path)
    with pytest.raises(
        RosterError, match=r"orgs.csv: file is missing from the roster export \(manifest.csv: bulk\)"
    ):
        read_roster(export)
    _set_manifest(export, academicSessions="absent", classes="absent", enrollments="absent", orgs="absent")
    roster = read_roster(export)
    mary = roster.users["usr-222-66778899"]
    assert mary.agents == ("usr-222-123456",)  # a teacher: not family
    assert [u.sourced_id for u in family_of(roster, mary, ("parent", "guardian"))] == ["usr-222-1234561"]


# -- zipped exports (the S3 import) --------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_reads_as_its_folder_would() -> None:
    folder = FIXTURES / "riverbend-v1p2-bulk"
    data = _zip({f"export-2026-08-20/{p.name}": p.read_bytes() for p in folder.glob("*.csv")})
    roster = read_export(ZipExport.from_bytes("riverbend/2026-08-20.zip", data))
    assert roster == read_roster(folder)
    assert roster.file("users.csv") == "riverbend/2026-08-20.zip:users.csv"


def test_a_zip_of_several_folders_or_no_zip_is_refused() -> None:
    with pytest.raises(RosterError, match="CSV files in several folders"):
        ZipExport.from_bytes("x.zip", _zip({"a/users.csv": b"", "b/users.csv": b""}))
    with pytest.raises(RosterError, match="not a zip file"):
        ZipExport.from_bytes("x.zip", b"sourcedId,status\n")


def test_a_bad_value_of_an_optional_column_is_reported_and_the_row_kept(tmp_path: Path) -> None:
    export = _copy("riverbend-v1p2-bulk", tmp_path)
    users = export / "users.csv"
    users.write_text(users.read_text(encoding="utf-8").replace('"{LDAP:ava.lee},{Canvas:1001}"', "LDAP=ava"))
    demographics = export / "demographics.csv"
    demographics.write_text(demographics.read_text(encoding="utf-8").replace("2008-02-11", "11/02/2008"))
    roster = read_roster(export, strict=False)
    assert _problems(roster) == [
        "users.csv:2: userIds: 'LDAP=ava' is not a list of {type:identifier} items "
        "(ignored; the row was read)",
        "demographics.csv:3: birthDate: '11/02/2008' is not a date written YYYY-MM-DD "
        "(ignored; the row was read)",
    ]
    assert roster.users["stu-ava"].user_ids == () and "stu-dan" not in roster.birth_dates


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    export = _copy("riverbend-v1p1-bom-crlf", tmp_path)
    users = export / "users.csv"
    users.write_bytes(users.read_bytes().decode("utf-8-sig").encode("utf-16"))
    with pytest.raises(RosterError) as raised:
        read_roster(export, strict=False)
    assert str(raised.value) == (
        f"{users}:1: is UTF-16 (it starts with a UTF-16 byte-order mark); export the roster as UTF-8"
    )
