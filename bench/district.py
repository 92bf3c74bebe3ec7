"""The district every HTTP benchmark posts to: one bench program, its enrollments, a secret."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any


def setup_district(stack: Any, students: int, prefix: str = "bench") -> tuple[str, str]:
    """A district with one program (``bench.run.bench_program``), ``students`` enrollments in
    class ``c`` (students ``s0``, ``s1``…) and a webhook secret; returns its id and the secret."""
    from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
    from onpace_core.settings import Settings
    from onpace_core.store.enrollments import upsert_enrollments
    from onpace_core.store.programs import save_program
    from onpace_local.webhook_client import new_secret

    from bench.run import bench_program

    district = f"{prefix}-{uuid.uuid4().hex[:6]}"
    program = bench_program(district)
    save_program(program)
    upsert_enrollments(
        [
            EnrollmentRecord(
                district_id=district,
                program_id="p",
                class_id="c",
                class_title="Bench",
                student_id=f"s{i}",
                student_name=f"S {i}",
                term_id="fall",
                start_date=date(2026, 8, 24),
                end_date=None,
                contacts=(ContactRecord("student", f"s{i}@example.org", None, "en"),),
            )
            for i in range(students)
        ],
        program,
    )
    secret = new_secret()
    stack.client("secretsmanager").create_secret(
        Name=f"{Settings.from_env().webhook_secret_prefix}{district}", SecretString=secret
    )
    return district, secret
