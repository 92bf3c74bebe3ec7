"""The roster import against moto server: a zip uploaded to the roster bucket, the real handler
invoked with the S3 event, enrollments upserted, ended on a bulk re-load and by a delta's
deletions, and the audit entry carrying the summary and every bad row."""

from __future__ import annotations

import copy
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from onpace_core.audit.log import read
from onpace_core.store.models import EnrollmentModel
from onpace_core.store.programs import save_program
from onpace_local.cli import main
from onpace_local.request_count import counting_requests
from onpace_local.stack import LocalStack
from onpace_rules.program import ProgramConfig
from onpace_rules.program_files import load_program_file

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

FUNCTION = "RosterImportFunction"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oneroster"


@pytest.fixture
def program(local_stack: LocalStack, repo_root: Path) -> ProgramConfig:
    """The demo program under a district of its own (the moto server is shared by the session)."""
    config = load_program_file(repo_root / "demo" / "programs" / "riverbend-online.yaml")
    config = config.model_copy(update={"district_id": f"rb-{uuid.uuid4().hex[:8]}"})
    save_program(config)
    return config


def _zip(folder: Path, **replace: str) -> bytes:
    """The export in ``folder`` zipped; ``replace`` maps a file name to new text."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.glob("*.csv")):
            data = replace[path.name].encode() if path.name in replace else path.read_bytes()
            archive.writestr(f"export/{path.name}", data)
    return buffer.getvalue()


def _upload(stack: LocalStack, repo_root: Path, key: str, data: bytes) -> dict[str, Any]:
    """Put the zip in the roster bucket and return the S3 event that upload fires."""
    bucket = stack.ref("RosterBucket")
    put = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    event = json.loads(
        (repo_root / "events" / "rosterimport_export_uploaded.json").read_text(encoding="utf-8")
    )
    record = copy.deepcopy(event["Records"][0])
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"].update(key=key.replace(" ", "+"), size=len(data), versionId=put["VersionId"])
    return {"Records": [record]}


def _item(program: ProgramConfig, klass: str, student: str) -> EnrollmentModel:
    return EnrollmentModel.get(f"{program.district_id}#{klass}#{student}", consistent_read=True)


def _import(stack: LocalStack, repo_root: Path, key: str, data: bytes) -> dict[str, Any]:
    result = stack.invoke(FUNCTION, _upload(stack, repo_root, key, data))
    (summary,) = result["imports"]
    return dict(summary)


def test_the_bucket_is_private_encrypted_and_versioned(local_stack: LocalStack) -> None:
    s3 = local_stack.client("s3")
    bucket = local_stack.ref("RosterBucket")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    # TLS only: in the template (moto speaks plain HTTP, so the local stack leaves it out).
    policy = local_stack.stack.template["Resources"]["RosterBucketPolicy"]["Properties"]["PolicyDocument"]
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_an_uploaded_export_is_imported_and_a_bulk_reload_ends_what_it_no_longer_lists(
    local_stack: LocalStack, repo_root: Path, program: ProgramConfig
) -> None:
    folder = FIXTURES / "riverbend-v1p2-bulk"
    district = program.district_id
    first = _import(local_stack, repo_root, f"{district}/2026-08-20 export.zip", _zip(folder))
    assert first["outcome"] == "imported", first
    assert first["upserted"] == {program.key: 5} and first["ended"] == 0 and first["bad_rows"] == 0
    assert first["no_contact_address"] == 1  # Cara: no email of her own, only a relative
    ben = _item(program, "cls-eng10", "stu-ben")
    assert ben.status == "active" and ben.wake_on == "2026-08-24"
    assert [(c.role, c.address) for c in ben.contacts][:2] == [
        ("student", "ben.ortiz@students.riverbend.example"),
        ("guardian", "luis.ortiz@family.example"),  # linked on the parent's row only
    ]

    # The next bulk export no longer lists Ben in English 10, and Cara's row has a bad date:
    # Ben's enrollment ends, Cara's (which the export lists but cannot read) is kept as it was.
    enrollments = (folder / "enrollments.csv").read_text(encoding="utf-8").splitlines()
    enrollments = [line for line in enrollments if not line.startswith("enr-ben-eng,")]
    enrollments = [
        line.replace("stu-cara,student,false,,", "stu-cara,student,false,2026/08/24,") for line in enrollments
    ]
    second = _import(
        local_stack,
        repo_root,
        f"{district}/2026-08-21.zip",
        _zip(folder, **{"enrollments.csv": "\n".join(enrollments)}),
    )
    assert second["outcome"] == "imported" and second["ended"] == 1 and second["bad_rows"] == 1
    ben = _item(program, "cls-eng10", "stu-ben")
    assert ben.status == "unenrolled" and ben.wake_on is None
    assert _item(program, "cls-eng10", "stu-cara").status == "active"
    assert _item(program, "cls-eng10", "stu-ava").status == "active"

    (entry,) = [e for e in read(district, limit=10) if e.seq == second["audit_seq"]]
    detail = json.loads(entry.detail)
    assert entry.type == "roster.loaded" and entry.actor == "roster-import"
    assert detail["ended"] == [
        {"enrollment": f"{district}#cls-eng10#stu-ben", "why": "not in the bulk export"}
    ]
    assert detail["bad_rows"] == [
        {
            "file": "enrollments.csv",
            "line": 6,
            "column": "beginDate",
            "problem": "'2026/08/24' is not a date written YYYY-MM-DD",
        }
    ]
    assert detail["kept_unreadable"] == 1 and detail["oneroster_version"] == "1.2"

    # Ben is back in the next export: his enrollment lives again, with its facts.
    third = _import(local_stack, repo_root, f"{district}/2026-08-22.zip", _zip(folder))
    assert third["ended"] == 0
    ben = _item(program, "cls-eng10", "stu-ben")
    assert ben.status == "active" and ben.wake_on == "2026-08-24"


def test_a_reload_writes_only_the_enrollments_that_changed(
    local_stack: LocalStack, repo_root: Path, program: ProgramConfig
) -> None:
    """A daily bulk export read again: the stored items are read (one BatchGetItem per 100, roster
    attributes only) and only what changed is written — none for an unchanged export, one for
    one changed enrollment (docs/scale.md, "Cost")."""
    folder = FIXTURES / "riverbend-v1p2-bulk"
    district = program.district_id
    assert _import(local_stack, repo_root, f"{district}/day-1.zip", _zip(folder))["outcome"] == "imported"
    local_stack.handler(FUNCTION)  # imported (its models bound) before counting
    with counting_requests() as unchanged:
        again = _import(local_stack, repo_root, f"{district}/day-2.zip", _zip(folder))
    assert again["outcome"] == "imported" and again["ended"] == 0
    # Nothing written but the load's own audit entry (identity rows unchanged too).
    assert unchanged.of("UpdateItem") == 0 and unchanged.of("BatchWriteItem") == 0
    assert unchanged.of("PutItem") == unchanged.of("PutItem", local_stack.ref("AuditTable")) == 1
    assert unchanged.of("BatchGetItem", local_stack.ref("EnrollmentsTable")) == 1

    enrollments = (folder / "enrollments.csv").read_text(encoding="utf-8")
    moved = enrollments.replace("stu-dan,student,false,,", "stu-dan,student,false,2026-08-31,")
    assert moved != enrollments
    with counting_requests() as one:
        _import(local_stack, repo_root, f"{district}/day-3.zip", _zip(folder, **{"enrollments.csv": moved}))
    assert one.of("UpdateItem") == 1
    dan = _item(program, "cls-alg1", "stu-dan")
    assert dan.start_date == "2026-08-31" and dan.status == "active"
    assert _item(program, "cls-eng10", "stu-ava").start_date == "2026-08-24"  # left as it was


def test_a_delta_ends_what_it_deletes_and_nothing_else(
    local_stack: LocalStack, repo_root: Path, program: ProgramConfig
) -> None:
    district = program.district_id
    assert (
        _import(local_stack, repo_root, f"{district}/bulk.zip", _zip(FIXTURES / "riverbend-v1p2-bulk"))[
            "outcome"
        ]
        == "imported"
    )
    delta = _import(local_stack, repo_root, f"{district}/delta.zip", _zip(FIXTURES / "riverbend-v1p2-delta"))
    assert delta["outcome"] == "imported" and delta["upserted"] == {program.key: 1}
    assert delta["ended"] == 2  # Ben's English 10 (tobedeleted) and Dan's only enrollment (user deleted)
    assert _item(program, "cls-eng10", "stu-ben").status == "unenrolled"
    assert _item(program, "cls-alg1", "stu-dan").status == "unenrolled"
    assert _item(program, "cls-alg1", "stu-eli").status == "active"
    # A delta lists what changed: everyone it does not mention stays as they were.
    assert _item(program, "cls-eng10", "stu-cara").status == "active"
    assert _item(program, "cls-alg1", "stu-ava").status == "active"


def test_an_unreadable_upload_is_refused_and_audited(
    local_stack: LocalStack, repo_root: Path, program: ProgramConfig
) -> None:
    summary = _import(local_stack, repo_root, f"{program.district_id}/broken.zip", b"not a zip at all")
    assert summary["outcome"] == "refused" and "not a zip file" in summary["detail"]
    (entry,) = read(program.district_id, limit=1)
    assert entry.type == "roster.refused" and "not a zip file" in entry.summary


def test_an_upload_for_no_known_district_is_ignored(local_stack: LocalStack, repo_root: Path) -> None:
    summary = _import(
        local_stack, repo_root, "nobody-here/export.zip", _zip(FIXTURES / "riverbend-v1p2-bulk")
    )
    assert summary["outcome"] == "ignored" and summary["district_id"] == "nobody-here"
    assert read("nobody-here", limit=1) == []


@pytest.mark.dynamodb(needs="transactions")  # `onpace load program` audits in a transaction
def test_onpace_load_roster_imports_a_12_export_and_prints_the_summary(
    local_stack: LocalStack, repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    district = f"rb-{uuid.uuid4().hex[:8]}"
    program_file = tmp_path / "program.yaml"
    text = (repo_root / "demo" / "programs" / "riverbend-online.yaml").read_text(encoding="utf-8")
    program_file.write_text(
        text.replace("district_id: riverbend", f"district_id: {district}"), encoding="utf-8"
    )
    endpoint = ["--endpoint-url", local_stack.dynamodb_endpoint_url]
    assert main(["load", "program", str(program_file), *endpoint]) == 0
    capsys.readouterr()

    export = FIXTURES / "riverbend-v1p2-bulk"
    assert main(["load", "roster", str(export), "--program", str(program_file), *endpoint]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{export}: OneRoster 1.2 export: orgs.csv 2 row(s) (bulk), academicSessions.csv 1 row(s) (bulk), "
        "courses.csv 2 row(s) (bulk), classes.csv 2 row(s) (bulk), users.csv 8 row(s) (bulk), "
        "roles.csv 9 row(s) (bulk), enrollments.csv 7 row(s) (bulk), demographics.csv 2 row(s) (bulk)"
    )
    assert f"{district}#riverbend-online: 5 enrollment(s) upserted" in out
    assert "0 enrollment(s) ended" in out
    assert "1 enrollment(s) with no contact address (no student or guardian email):" in out
    assert f"  {district}#cls-eng10#stu-cara" in out

    # The next export: Ava's Algebra I is gone, and two rows are bad (exit status 3).
    changed = tmp_path / "next"
    changed.mkdir()
    for path in export.glob("*.csv"):
        (changed / path.name).write_bytes(path.read_bytes())
    enrollments = (changed / "enrollments.csv").read_text(encoding="utf-8").splitlines()
    enrollments = [line for line in enrollments if not line.startswith("enr-ava-alg,")]
    enrollments = [line.replace("stu-ben,student", "stu-ben,pupil") for line in enrollments]
    (changed / "enrollments.csv").write_text("\n".join(enrollments) + "\n", encoding="utf-8")
    users = (changed / "users.csv").read_text(encoding="utf-8")
    (changed / "users.csv").write_bytes(users.replace(",Dan,", ",Dän,").encode("cp1252"))
    assert main(["load", "roster", str(changed), "--program", str(program_file), *endpoint]) == 3
    out = capsys.readouterr().out.splitlines()
    assert "3 bad row(s), left out (the other rows are imported):" in out
    assert any(line.startswith("  users.csv:5: givenName: not UTF-8 (byte 0xe4") for line in out)
    assert any(
        line.startswith("  enrollments.csv:5: role: 'pupil' is not a OneRoster enrollment role")
        for line in out
    )
    assert "  enrollments.csv:7: userSourcedId: names user 'stu-dan', whose row (users.csv:5) is bad" in out
    assert f"  ended {district}#cls-alg1#stu-ava: not in the bulk export" in out
    assert "  2 stored enrollment(s) kept as they were: their rows are bad" in out
    assert _item_key(f"{district}#cls-alg1#stu-ava").status == "unenrolled"
    assert _item_key(f"{district}#cls-alg1#stu-dan").status == "active"  # its row is bad: kept


def _item_key(key: str) -> EnrollmentModel:
    return EnrollmentModel.get(key, consistent_read=True)


def test_a_student_whose_last_enrollment_ends_loses_the_student_item_too(
    local_stack: LocalStack, repo_root: Path, program: ProgramConfig
) -> None:
    # A program with a student-wide rule keeps a student item ("*") beside the enrollments.
    config = program.model_copy(update={"rules": {**program.rules, "csu.sap.inactive_withdrawal": {}}})
    save_program(config)
    district = config.district_id
    assert (
        _import(local_stack, repo_root, f"{district}/bulk.zip", _zip(FIXTURES / "riverbend-v1p2-bulk"))[
            "outcome"
        ]
        == "imported"
    )
    assert _item(config, "*", "stu-ben").status == "active"
    assert _item(config, "*", "stu-ava").status == "active"
    delta = _import(local_stack, repo_root, f"{district}/delta.zip", _zip(FIXTURES / "riverbend-v1p2-delta"))
    # Ben's only enrollment ended: his student item follows; Dan's ends with his user row.
    assert _item(config, "cls-eng10", "stu-ben").status == "unenrolled"
    assert _item(config, "*", "stu-ben").status == "unenrolled"
    assert _item(config, "*", "stu-dan").status == "unenrolled"
    assert _item(config, "*", "stu-ava").status == "active"  # Ava is still enrolled
    assert delta["ended"] == 4


def _export_with_students(tmp_path: Path, name: str, students: range) -> Path:
    """The 1.2 bulk fixture with ``students`` more students in English 10 (``stu-x<n>``)."""
    export = tmp_path / name
    export.mkdir()
    for path in (FIXTURES / "riverbend-v1p2-bulk").glob("*.csv"):
        (export / path.name).write_bytes(path.read_bytes())
    t = "2026-08-01T00:00:00Z"
    with (export / "users.csv").open("a", encoding="utf-8") as users:
        for n in students:
            users.write(
                f"stu-x{n},active,{t},true,x{n},,X,Student{n},,,x{n}@students.example,,,,10,,,,,,,,\n"
            )
    with (export / "roles.csv").open("a", encoding="utf-8") as roles:
        for n in students:
            roles.write(f"rol-x{n},active,{t},stu-x{n},primary,student,,,org-rb-online,\n")
    with (export / "enrollments.csv").open("a", encoding="utf-8") as enrollments:
        for n in students:
            enrollments.write(f"enr-x{n},active,{t},cls-eng10,org-rb-online,stu-x{n},student,false,,\n")
    return export


@pytest.mark.dynamodb(needs="transactions")  # `onpace load program` audits in a transaction
def test_a_bulk_export_that_would_end_most_enrollments_ends_none_unless_allowed(
    local_stack: LocalStack, repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    district = f"rb-{uuid.uuid4().hex[:8]}"
    program_file = tmp_path / "program.yaml"
    text = (repo_root / "demo" / "programs" / "riverbend-online.yaml").read_text(encoding="utf-8")
    program_file.write_text(
        text.replace("district_id: riverbend", f"district_id: {district}"), encoding="utf-8"
    )
    endpoint = ["--endpoint-url", local_stack.dynamodb_endpoint_url]
    assert main(["load", "program", str(program_file), *endpoint]) == 0
    full = _export_with_students(tmp_path, "full", range(1, 13))
    assert main(["load", "roster", str(full), "--program", str(program_file), *endpoint]) == 0
    # The next export was cut short: only the first of the twelve extra students is there.
    short = _export_with_students(tmp_path, "short", range(1, 2))
    capsys.readouterr()
    assert main(["load", "roster", str(short), "--program", str(program_file), *endpoint]) == 0
    out = capsys.readouterr().out
    assert (
        "bulk re-load: nothing ended for a program that would lose more than 25% at once "
        "(riverbend-online would lose 11 of its 17 live enrollments); if that is right, load it "
        "again allowing mass ending"
    ) in out
    assert _item_key(f"{district}#cls-eng10#stu-x12").status == "active"
    allowed = ["load", "roster", str(short), "--program", str(program_file), "--allow-mass-ending"]
    assert main([*allowed, *endpoint]) == 0
    assert "11 enrollment(s) ended" in capsys.readouterr().out
    assert _item_key(f"{district}#cls-eng10#stu-x12").status == "unenrolled"
    assert _item_key(f"{district}#cls-eng10#stu-x1").status == "active"
