"""Test districts: a program, a few enrollments and a webhook secret, unique per test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
from onpace_core.settings import Settings
from onpace_core.store.enrollments import due_key, shard_of, upsert_enrollments
from onpace_core.store.models import EnrollmentModel
from onpace_core.store.programs import save_program
from onpace_local.evaluation import run_program_day
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import new_secret
from onpace_rules.program import ProgramConfig


@dataclass(frozen=True)
class SampleDistrict:
    district_id: str
    program: ProgramConfig
    secret: str
    students: tuple[str, ...]
    class_id: str = "cls-1"


def make_district(
    stack: LocalStack,
    rules: dict[str, dict[str, Any]],
    *,
    students: tuple[str, ...] = ("stu-1", "stu-2"),
    start: date = date(2026, 8, 24),
    end: date = date(2026, 12, 18),
    time_zone: str = "America/Chicago",
    terms: list[dict[str, str]] | None = None,
    settings: dict[str, Any] | None = None,
    reported_percent: float | None = 0.05,
) -> SampleDistrict:
    """A fresh district with one program and ``students`` in one class.

    ``reported_percent``: the percent complete the LMS has reported for every student before the
    term's checkpoints (None: never reported, which pacing rules answer with ``data.missing``).
    """
    district_id = f"d-{uuid.uuid4().hex[:10]}"
    fields: dict[str, Any] = {
        "district_id": district_id,
        "program_id": "prog",
        "name": "Test Online",
        "time_zone": time_zone,
        "policy_version": "test-2026.1",
        "source": "test",
        "calendar": {
            "terms": terms
            or [{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}]
        },
        "rules": rules,
        "contacts": {
            "counselor": [{"name": "Dana Counselor", "address": "counselor@school.example"}],
            "program_admin": [{"name": "Avery Admin", "address": "admin@school.example"}],
        },
        "notices": {
            "program_name": "Test Online",
            "district_name": "Test School District",
            "contact": {
                "name": "Avery Admin",
                "title": "Program coordinator",
                "address": "admin@school.example",
            },
        },
    }
    program = ProgramConfig(**{**fields, **(settings or {})})
    save_program(program)
    records = [
        EnrollmentRecord(
            district_id=district_id,
            program_id="prog",
            class_id="cls-1",
            class_title="Biology Online",
            student_id=s,
            student_name=f"Student {s}",
            term_id="fall",
            start_date=start,
            end_date=end,
            contacts=(
                ContactRecord("student", f"{s}@students.school.example", f"Student {s}", "en", s),
                ContactRecord("guardian", f"parent-of-{s}@family.example", f"Parent of {s}", "en"),
                ContactRecord("instructor", "teacher@school.example", "Pat Teacher", "en"),
            ),
        )
        for s in students
    ]
    upsert_enrollments(records, program)
    if reported_percent is not None:
        for s in students:
            EnrollmentModel(enrollment_key=f"{district_id}#cls-1#{s}").update(
                actions=[
                    EnrollmentModel.percent_complete.set(reported_percent),
                    EnrollmentModel.percent_at.set("2026-08-25T00:00:00.000000Z"),
                ]
            )
    secret = new_secret()
    stack.client("secretsmanager").create_secret(
        Name=f"{Settings.from_env().webhook_secret_prefix}{district_id}", SecretString=secret
    )
    return SampleDistrict(district_id, program, secret, students)


def term_due_next_week(today: date | None = None) -> dict[str, str]:
    """A term (id ``fall``) whose IPR is 17 days after ``today`` (Chicago's date, now, by
    default): the pacing rules' two-week warning falls due within the coming week, what the
    console's preview (``days=7``) shows. With ``make_district(start=, end=)`` of its dates."""
    today = today or datetime.now(ZoneInfo("America/Chicago")).date()
    return {
        "id": "fall",
        "start": (today - timedelta(days=30)).isoformat(),
        "end": (today + timedelta(days=90)).isoformat(),
        "ipr": (today + timedelta(days=17)).isoformat(),
    }


def with_cloned_students(district: SampleDistrict, students: tuple[str, ...]) -> SampleDistrict:
    """``district`` with more students, each enrolled by a copy of its first student's item (as
    the roster load and the LMS's report wrote it) under the student's own keys.

    For the tests that need a thousand enrollments: the copies go 25 to a BatchWriteItem, where
    the roster load spends three requests per student, each UpdateItem some 20 ms of moto's time.
    """
    first = district.students[0]
    d, class_id = district.district_id, district.class_id
    template = EnrollmentModel.get(f"{d}#{class_id}#{first}", consistent_read=True).serialize()
    shards = district.program.evaluation_shards
    with EnrollmentModel.batch_write() as batch:
        for s in students:
            key = f"{d}#{class_id}#{s}"
            clone = EnrollmentModel.from_raw_data(dict(template))
            clone.enrollment_key = key
            clone.student_id = s
            clone.student_key = f"{d}#{s}"
            clone.student_name = f"Student {s}"
            clone.due_key = due_key(d, district.program.program_id, shard_of(key, shards))
            for contact in clone.contacts:  # the student's and the family's own
                contact.address = contact.address.replace(first, s)
                contact.name = contact.name.replace(first, s) if contact.name else None
                contact.source_id = s if contact.source_id == first else contact.source_id
            batch.save(clone)
    return replace(district, students=(*district.students, *students))


def evaluate(stack: LocalStack, district_id: str, day: date, program_id: str = "prog") -> dict[str, Any]:
    """Plan one program day as a re-run invocation does, drain the shard queue into the worker,
    and return the program day's summary (the shards' counts added up)."""
    run = run_program_day(stack, district_id, program_id, day)
    (program,) = [p for p in run.programs() if p["program"] == f"{district_id}#{program_id}"]
    return dict(program)


def archived(stack: LocalStack, district_id: str) -> dict[str, dict[str, Any]]:
    """The district's raw archive (the S3 bucket), line by event id (the first one of each)."""
    from onpace_core.ingest.archive import read_district

    rows = read_district(stack.client("s3"), stack.ref("RawArchiveBucket"), district_id)
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out.setdefault(row["event_id"], row)
    return out
