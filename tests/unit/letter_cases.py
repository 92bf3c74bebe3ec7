"""A household's morning: notices for two siblings in three courses, as the evaluator records them.

Shared by the unit tests of letters, the golden digest emails and the integration tests.
Jamie (a participation warning in Biology, a pacing warning in Algebra I) and Sam (dropped from
Algebra I) share a guardian, Ana, whose address is written in two cases; the Algebra I teacher
is copied on the drop and on the pacing warning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from onpace_core.store.models import Contact, OutboxModel

from tests.unit.test_render import make_notice

DAY = "2026-10-16"
GUARDIAN = "ana@family.example"
TEACHER = "teacher@school.example"
CREATED = datetime(2026, 10, 16, 12, 10, tzinfo=UTC)


def _contact(role: str, address: str, name: str | None = None, language: str | None = None) -> Contact:
    return Contact(role=role, address=address, name=name, language=language)


def household_notices(
    district_id: str = "d-1", language: str | None = None, **common: Any
) -> list[OutboxModel]:
    """Three notices of ``DAY`` (window day) for one household and one teacher."""
    window = {
        "send_key": f"{district_id}#{DAY}",
        "send_after": "2026-10-16T12:00:00.000000Z",
        "send_before": "2026-10-16T14:00:00.000000Z",
        "status": "scheduled",
        "decided_on": DAY,
        "due_on": DAY,
        "created_at": "2026-10-16T05:05:00.000000Z",
    }

    def notice(
        rule_id: str, student: str, student_name: str, class_id: str, title: str, recipients: list[Contact]
    ) -> OutboxModel:
        enrollment = f"{district_id}#{class_id}#{student}"
        made = make_notice(
            rule_id,
            notice_id=f"{enrollment}#{rule_id}#ep-1",
            district_id=district_id,
            enrollment_key=enrollment,
            student_id=student,
            class_id=class_id,
            class_title=title,
            student_name=student_name,
            recipients=recipients,
            language=language or "en",
            **window,
        )
        for name, value in common.items():
            setattr(made, name, value)
        return made

    return [
        notice(
            "cps.participation.warning",
            "stu-1",
            "Jamie Rivera",
            "bio",
            "Biology Online",
            [
                _contact("student", "jamie@students.example", "Jamie Rivera"),
                _contact("guardian", GUARDIAN, "Ana Rivera", language),
            ],
        ),
        notice(
            "cps.pacing.ipr_warning_2w",
            "stu-1",
            "Jamie Rivera",
            "alg",
            "Algebra I",
            [
                _contact("guardian", "Ana@Family.example", "Ana Rivera", language),
                _contact("instructor", TEACHER, "Pat Kim"),
            ],
        ),
        notice(
            "cps.participation.drop_20d",
            "stu-2",
            "Sam Rivera",
            "alg",
            "Algebra I",
            [
                _contact("student", "sam@students.example", "Sam Rivera"),
                _contact("guardian", GUARDIAN, "Ana Rivera", language),
                _contact("instructor", TEACHER, "Pat Kim"),
            ],
        ),
    ]
