"""A district for the console's Students, Timeline and Audit log views, built the real way.

The demo roster through the real roster import (so the student directory is what production
writes), with Cara renamed "Cara Ortiz" so that "Ortiz" finds two students; a notice to Ben
Ortiz's student address (English) and guardian (Spanish) sent by the real notify function (so
the email as sent is kept), with the evaluator's ``notice.decided`` entry; and audit entries of
several students, classes, rules and types over three days for the filters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from onpace_core.audit.log import AuditEntry, append
from onpace_core.store.models import Contact, EnrollmentModel
from onpace_local.stack import LocalStack

from tests.integration.test_console_domain import USERS, _import, _program, _zip
from tests.integration.test_notify import _event_for, _insert, _notice

DAY0 = datetime(2026, 9, 21, 15, 0, tzinfo=UTC)
RULE = "cps.pacing.ipr_warning_2w"
# (student, class, rule, type, day offset): the filter entries, oldest first.
ENTRIES = [
    ("stu-ava", "cls-eng10", "cps.participation.warning", "notice.decided", 0),
    ("stu-cara", "cls-alg1", RULE, "notice.decided", 0),
    ("stu-ava", "cls-eng10", "cps.participation.warning", "notice.sent", 1),
    ("stu-cara", "cls-alg1", RULE, "delivery.bounced", 1),
    ("stu-dan", "cls-psy101", RULE, "action.taken", 2),
    ("stu-ava", "cls-eng10", "cps.participation.warning", "delivery.delivered", 2),
]


@dataclass(frozen=True)
class ViewsDistrict:
    district: str
    notice_id: str  # Ben's notice, sent by the notify function
    entries: int  # audit entries written by the seed (the notify function adds its own)


def seed_views_district(stack: LocalStack, repo_root: Path) -> ViewsDistrict:
    """The district described in the module's docstring."""
    district = f"views-{uuid.uuid4().hex[:8]}"
    _program(repo_root, district)
    _import(stack, repo_root, district, _zip(**{"users.csv": USERS.replace("Cara,Nguyen", "Cara,Ortiz")}))
    enrollment = f"{district}#cls-eng10#stu-ben"
    # Activity facts as ingest folds them: the timeline shows each (an activity's detail has no facts).
    EnrollmentModel(enrollment_key=enrollment).update(
        actions=[
            EnrollmentModel.percent_complete.set(0.1),  # a fraction: 10 %, under the rule's 15 %
            EnrollmentModel.percent_at.set("2026-09-24T14:00:00.000000Z"),
            EnrollmentModel.last_login_at.set("2026-09-24T13:00:00.000000Z"),
        ]
    )
    item = _insert(
        _notice(
            RULE,
            notice_id=f"{enrollment}#{RULE}#ipr-2026-10-09",
            district_id=district,
            program_id="riverbend-online",
            enrollment_key=enrollment,
            student_id="stu-ben",
            class_id="cls-eng10",
            class_title="English 10 Online",
            student_name="Ben Ortiz",
            recipients=[
                Contact(
                    role="student", address="ben.ortiz@students.example", name="Ben Ortiz", language="en"
                ),
                Contact(role="guardian", address="rosa@family.example", name="Rosa Ortiz", language="es"),
            ],
        )
    )
    append(
        district,
        [
            AuditEntry(
                type="notice.decided",
                actor="evaluate",
                summary="Two-week IPR warning decided for Ben",
                on=date(2026, 9, 25),
                rule_id=RULE,
                policy_version="test-2026.1",
                program_id="riverbend-online",
                student_id="stu-ben",
                class_id="cls-eng10",
                notice_id=item.notice_id,
            )
        ],
        now=DAY0 - timedelta(days=1),
    )
    assert stack.invoke("NotifyFunction", _event_for(stack, item)) == {"batchItemFailures": []}
    for i, (student, klass, rule, kind, day) in enumerate(ENTRIES):
        append(
            district,
            [
                AuditEntry(
                    type=kind,
                    actor="evaluate",
                    summary=f"{kind} for {student} ({i})",
                    on=(DAY0 + timedelta(days=day)).date(),
                    rule_id=rule,
                    policy_version="test-2026.1",
                    program_id="riverbend-online",
                    student_id=student,
                    class_id=klass,
                    notice_id=f"{district}#{klass}#{student}#{rule}#e{i}",
                )
            ],
            now=DAY0 + timedelta(days=day, minutes=i),
        )
    return ViewsDistrict(district, item.notice_id, len(ENTRIES) + 1)
