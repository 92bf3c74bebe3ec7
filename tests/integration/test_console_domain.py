"""The console's domain on moto server: student search (directory written by the real roster
import), the audit log's filters, cursor paging and CSV export, and the student timeline.

Domain calls run as ``ConsoleFunction`` (``LocalStack.acting_as``), so the autouse IAM check
holds them to the console's role in template.yaml; the roster is loaded through the real
``RosterImportFunction``."""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from onpace_core.audit.log import AuditEntry, append
from onpace_core.console.audit_query import (
    AuditFilters,
    CursorError,
    audit_csv,
    audit_query,
    safe_cell,
)
from onpace_core.console.directory import NameBook, search_students
from onpace_core.console.timeline import student_timeline
from onpace_core.store.programs import save_program
from onpace_local.request_count import counting_requests
from onpace_local.stack import LocalStack
from onpace_rules.program import ProgramConfig
from onpace_rules.program_files import load_program_file

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

ROSTER = Path(__file__).resolve().parents[2] / "demo" / "roster"
CONSOLE = "ConsoleFunction"


def _zip(**replace: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(ROSTER.glob("*.csv")):
            data = replace[path.name].encode() if path.name in replace else path.read_bytes()
            archive.writestr(f"export/{path.name}", data)
    return buffer.getvalue()


def _import(stack: LocalStack, repo_root: Path, district_id: str, data: bytes) -> None:
    bucket = stack.ref("RosterBucket")
    key = f"{district_id}/export-{uuid.uuid4().hex[:6]}.zip"
    put = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    event = json.loads((repo_root / "events" / "rosterimport_export_uploaded.json").read_text("utf-8"))
    record = copy.deepcopy(event["Records"][0])
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"].update(key=key, size=len(data), versionId=put["VersionId"])
    stack.invoke("RosterImportFunction", {"Records": [record]})


def _program(repo_root: Path, district_id: str) -> ProgramConfig:
    config = load_program_file(repo_root / "demo" / "programs" / "riverbend-online.yaml")
    config = config.model_copy(update={"district_id": district_id})
    save_program(config)
    return config


USERS = (ROSTER / "users.csv").read_text("utf-8")


@pytest.fixture(scope="module")
def districts(local_stack: LocalStack, repo_root: Path) -> dict[str, str]:
    """Two districts with the demo roster: in A Ava is "José Peña"; in B she is "Xylo Quartz"."""
    a, b = f"dA-{uuid.uuid4().hex[:6]}", f"dB-{uuid.uuid4().hex[:6]}"
    for district, name in ((a, "José,Peña"), (b, "Xylo,Quartz")):
        _program(repo_root, district)
        _import(local_stack, repo_root, district, _zip(**{"users.csv": USERS.replace("Ava,Lee", name)}))
    return {"a": a, "b": b}


@pytest.fixture
def console(local_stack: LocalStack) -> Iterator[None]:
    with local_stack.acting_as(CONSOLE):
        yield


def _ids(district: str, text: str) -> list[str]:
    return [s.student_id for s in search_students(district, text).students]


# ---------------------------------------------------------------------------------------------
# Search


def test_search_by_name_words_accents_partial_email_and_id(districts: dict[str, str], console: None) -> None:
    a = districts["a"]
    assert _ids(a, "Ben Ortiz")[0] == "stu-ben"
    assert "stu-ben" in _ids(a, "ortiz")
    assert "stu-ben" in _ids(a, "ORT")  # a prefix
    assert _ids(a, "ben.ortiz@students.riverbend.k12.example") == ["stu-ben"]
    assert "stu-ben" in _ids(a, "ben.ortiz@stu")
    assert _ids(a, "stu-ben") == ["stu-ben"]
    # Accents and case folded both ways.
    assert _ids(a, "jose pena") == ["stu-ava"]
    assert _ids(a, "PEÑA") == ["stu-ava"]
    assert _ids(a, "Ben Nguyen") == []  # every word must match the same student
    hit = search_students(a, "Ben Ortiz").students[0]
    assert hit.name == "Ben Ortiz" and not hit.removed
    assert any(c.title == "English 10 Online" for c in hit.classes)


def test_another_districts_student_is_never_found(districts: dict[str, str], console: None) -> None:
    assert _ids(districts["b"], "xylo") == ["stu-ava"]
    assert _ids(districts["a"], "xylo") == []
    assert _ids(districts["b"], "pena") == []


def test_search_is_one_query_and_no_scan(districts: dict[str, str], console: None) -> None:
    with counting_requests() as counts:
        search_students(districts["a"], "ben ortiz")
    assert counts.of("Query") == 1 and counts.dynamodb() == 1
    assert counts.of("Scan") == 0


def test_an_unchanged_reload_writes_no_directory_item(
    local_stack: LocalStack, repo_root: Path, districts: dict[str, str]
) -> None:
    table = local_stack.ref("ProgramsTable")
    data = _zip(**{"users.csv": USERS.replace("Ava,Lee", "José,Peña")})
    with counting_requests() as counts:
        _import(local_stack, repo_root, districts["a"], data)
    assert counts.of("BatchWriteItem", table) == 0
    assert counts.of("BatchGetItem", table) >= 1


def test_a_removed_student_stays_findable_and_marked(local_stack: LocalStack, repo_root: Path) -> None:
    district = f"dR-{uuid.uuid4().hex[:6]}"
    _program(repo_root, district)
    _import(local_stack, repo_root, district, _zip())
    enrollments = (ROSTER / "enrollments.csv").read_text("utf-8").splitlines()
    without_ben = "\n".join(line for line in enrollments if ",stu-ben," not in line) + "\n"
    _import(local_stack, repo_root, district, _zip(**{"enrollments.csv": without_ben}))
    with local_stack.acting_as(CONSOLE):
        (hit,) = search_students(district, "ben ortiz").students
        assert hit.removed and all(c.ended_on for c in hit.classes)
        cara = search_students(district, "cara").students[0]
    assert not cara.removed


# ---------------------------------------------------------------------------------------------
# Audit query

DAY0 = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
TYPES = ("notice.decided", "notice.sent", "delivery.delivered", "delivery.bounced", "action.taken")


@pytest.fixture(scope="module")
def log(local_stack: LocalStack, districts: dict[str, str]) -> dict[str, Any]:
    """60 entries in A over three days: students ben/cara, classes eng10/alg1, rules r1/r2."""
    a = districts["a"]
    written = []
    for i in range(60):
        student = ("stu-ben", "stu-cara")[i % 2]
        klass = ("cls-eng10", "cls-alg1")[(i // 2) % 2]
        rule = ("r1", "r2")[(i // 3) % 2]
        entry = AuditEntry(
            type=TYPES[i % len(TYPES)],
            actor="test",
            summary=f"=HYPERLINK(\"x\") entry {i}" if i == 7 else f"entry {i}, with a comma",
            rule_id=rule,
            policy_version="v1",
            student_id=student,
            class_id=klass,
            notice_id=f"n{i}",
        )
        (item,) = append(a, [entry], now=DAY0 + timedelta(days=i // 20, minutes=i))
        written.append(item)
    return {"district": a, "items": written}


def _all(district: str, filters: AuditFilters, limit: int = 7) -> list[int]:
    seqs: list[int] = []
    cursor = None
    while True:
        page = audit_query(district, filters, cursor, limit=limit)
        seqs.extend(r.seq for r in page.rows)
        if page.cursor is None:
            return seqs
        cursor = page.cursor


def _expected(log: dict[str, Any], keep: Any) -> list[int]:
    return sorted((int(i.seq) for i in log["items"] if keep(i)), reverse=True)


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        (AuditFilters(student_id="stu-ben"), lambda i: i.student_id == "stu-ben"),
        (AuditFilters(class_id="cls-alg1"), lambda i: i.class_id == "cls-alg1"),
        (AuditFilters(rule_id="r2"), lambda i: i.rule_id == "r2"),
        (AuditFilters(event_type="notice.sent"), lambda i: i.type == "notice.sent"),
        (AuditFilters(delivery_status="bounced"), lambda i: i.type == "delivery.bounced"),
        (AuditFilters(delivery_status="sent"), lambda i: i.type == "notice.sent"),
        (
            AuditFilters(date_from=date(2026, 9, 2), date_to=date(2026, 9, 2)),
            lambda i: i.at.startswith("2026-09-02"),
        ),
        (
            AuditFilters(student_id="stu-cara", class_id="cls-eng10", rule_id="r1"),
            lambda i: (i.student_id, i.class_id, i.rule_id) == ("stu-cara", "cls-eng10", "r1"),
        ),
        (
            AuditFilters(class_id="cls-eng10", delivery_status="delivered", date_from=date(2026, 9, 2)),
            lambda i: i.class_id == "cls-eng10" and i.type == "delivery.delivered" and i.at >= "2026-09-02",
        ),
    ],
)
def test_each_filter_and_combinations_page_through_every_row_exactly_once(
    log: dict[str, Any], console: None, filters: AuditFilters, keep: Any
) -> None:
    expected = _expected(log, keep)
    assert expected
    with counting_requests() as counts:
        got = _all(log["district"], filters)
    assert got == expected  # newest first, each once
    assert counts.of("Scan") == 0


def test_unfiltered_paging_newest_first_includes_every_entry(log: dict[str, Any], console: None) -> None:
    got = _all(log["district"], AuditFilters(), limit=13)
    assert got == sorted(got, reverse=True) and len(got) == len(set(got))
    assert set(_expected(log, lambda i: True)) <= set(got)


def test_a_date_range_in_another_zone(log: dict[str, Any], console: None) -> None:
    # 2026-09-01 15:00 UTC is 11:00 in New York: the first day's entries are that day there too.
    filters = AuditFilters(date_from=date(2026, 9, 1), date_to=date(2026, 9, 1), tz="America/New_York")
    got = _all(log["district"], filters)
    assert got == _expected(log, lambda i: i.at.startswith("2026-09-01"))
    assert audit_query(log["district"], filters).date_label == "dates are days in America/New_York"


def test_a_page_is_one_query_and_names_are_cached(log: dict[str, Any], console: None) -> None:
    names = NameBook()
    with counting_requests() as cold:
        page = audit_query(log["district"], limit=50, names=names)
    assert cold.of("Query") == 1 and cold.of("BatchGetItem") == 1 and cold.dynamodb() == 2
    with counting_requests() as warm:
        audit_query(log["district"], limit=50, names=names)
    assert warm.dynamodb() == 1
    ben = next(r for r in page.rows if r.student_id == "stu-ben")
    assert ben.student_name == "Ben Ortiz"
    assert next(r for r in page.rows if r.class_id == "cls-eng10").class_title == "English 10 Online"


def test_cursors_of_another_district_or_filters_are_refused(
    log: dict[str, Any], districts: dict[str, str], console: None
) -> None:
    page = audit_query(log["district"], AuditFilters(student_id="stu-ben"), limit=5)
    assert page.cursor
    with pytest.raises(CursorError):
        audit_query(districts["b"], AuditFilters(student_id="stu-ben"), page.cursor)
    with pytest.raises(CursorError):
        audit_query(log["district"], AuditFilters(student_id="stu-cara"), page.cursor)
    with pytest.raises(CursorError):
        audit_query(log["district"], AuditFilters(student_id="stu-ben"), "not-a-cursor")
    # A forged cursor with the right binding but a key in another partition is refused too.
    payload = json.loads(_unb64(page.cursor))
    payload["k"]["district_id"] = {"S": districts["b"]}
    with pytest.raises(CursorError):
        audit_query(log["district"], AuditFilters(student_id="stu-ben"), _b64(payload))


def _unb64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(payload: Any) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_csv_has_names_labelled_dates_escaping_and_no_formulas(log: dict[str, Any], console: None) -> None:
    export = audit_csv(log["district"], AuditFilters(student_id="stu-cara"))
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][1] == "written (UTC)" and rows[0][2] == "concerns day (program-local)"
    body = rows[1:]
    assert len(body) == export.rows == len(_expected(log, lambda i: i.student_id == "stu-cara"))
    assert {r[4] for r in body} == {"Cara Nguyen"}
    assert any(r[10].endswith(", with a comma") for r in body)  # quoted, not split
    assert not export.capped
    formula = next(r for r in body if "HYPERLINK" in r[10])  # entry 7 is Cara's
    assert formula[10].startswith("'=")
    assert safe_cell("+1") == "'+1" and safe_cell("-2") == "'-2" and safe_cell("@x") == "'@x"


def test_csv_cap_says_so(log: dict[str, Any], console: None) -> None:
    export = audit_csv(log["district"], AuditFilters(rule_id="r1"), cap=5)
    rows = list(csv.reader(io.StringIO(export.text)))
    assert export.capped and export.rows == 5 and len(rows) == 7
    assert "Only the newest 5 rows" in rows[-1][0]


# ---------------------------------------------------------------------------------------------
# Timeline


def test_timeline_per_enrollment_in_time_order(log: dict[str, Any], console: None) -> None:
    timeline = student_timeline(log["district"], "stu-ben")
    assert timeline.student is not None and timeline.student.name == "Ben Ortiz"
    classes = {e.class_id: e for e in timeline.enrollments}
    assert {"cls-eng10"} <= set(classes)
    events = classes["cls-eng10"].events
    assert [e.when for e in events] == sorted(e.when for e in events)
    audited = [e for e in events if e.seq is not None]
    assert audited and all(e.rule_id in ("r1", "r2") and e.policy_version == "v1" for e in audited)
    # Nothing of another student's.
    assert all(e.notice_id is None or int(e.notice_id[1:]) % 2 == 0 for e in events)
    assert student_timeline(log["district"], "nobody").enrollments == ()


def test_timeline_shows_a_sent_notice_its_deadlines_and_the_other_language(
    local_stack: LocalStack, repo_root: Path, districts: dict[str, str]
) -> None:
    from onpace_core.console.timeline import OTHER_LANGUAGE_LABEL, render_other_language
    from onpace_core.store.models import Contact, OutboxModel

    district = districts["a"]
    enrollment = f"{district}#cls-eng10#stu-cara"
    notice_id = f"{enrollment}#cps.pacing.ipr_warning_2w#ipr-2026-10-09"
    OutboxModel(
        notice_id=notice_id,
        district_id=district,
        program_id="riverbend-online",
        enrollment_key=enrollment,
        student_id="stu-cara",
        class_id="cls-eng10",
        class_title="English 10 Online",
        student_name="Cara Nguyen",
        rule_id="cps.pacing.ipr_warning_2w",
        episode="ipr-2026-10-09",
        kind="notice",
        policy_version="2026-27",
        decided_on="2026-09-25",
        due_on="2026-09-25",
        deadlines={"ipr": "2026-10-09", "drop": "2026-10-10"},
        facts={"percent_complete": 0.1, "required_percent": 0.15, "ipr_date": "2026-10-09"},
        recipients=[Contact(role="guardian", address="g@family.example", name="Maria", language="en")],
        reply_to=Contact(role="counselor", address="c@school.example", name="Dana Ruiz"),
        status="sent",
        deliveries={"r0": {"status": "sent", "mail": f"{district}/x/r0.eml"}},
        created_at="2026-09-25T05:00:00.000000Z",
    ).save()
    append(
        district,
        [
            AuditEntry(
                type="notice.decided",
                actor="evaluate",
                summary="Two-week IPR warning decided",
                on=date(2026, 9, 25),
                rule_id="cps.pacing.ipr_warning_2w",
                policy_version="2026-27",
                student_id="stu-cara",
                class_id="cls-eng10",
                notice_id=notice_id,
            )
        ],
    )
    templates = repo_root / "functions" / "notify" / "templates"
    with local_stack.acting_as(CONSOLE):
        timeline = student_timeline(district, "stu-cara")
        rendered = render_other_language(district, notice_id, "r0", templates)
        assert render_other_language(districts["b"], notice_id, "r0", templates) is None
    events = next(e for e in timeline.enrollments if e.class_id == "cls-eng10").events
    (decided,) = [e for e in events if e.notice_id == notice_id and e.kind == "notice"]
    assert decided.status == "sent" and decided.policy_version == "2026-27"
    assert decided.when == "2026-09-25"
    (ref,) = decided.emails
    assert (ref.item_id, ref.recipient_key, ref.language, ref.other_language) == (notice_id, "r0", "en", "es")
    deadlines = {e.title: e.when for e in events if e.kind == "deadline" and e.notice_id == notice_id}
    assert deadlines == {"ipr": "2026-10-09", "drop": "2026-10-10"}
    assert rendered is not None and rendered.language == "es" and rendered.label == OTHER_LANGUAGE_LABEL
    assert "Cara Nguyen" in rendered.text
