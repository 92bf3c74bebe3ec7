"""One outbox notice as the evaluator records it, for tests that render emails."""

from __future__ import annotations

from typing import Any

from onpace_core.store.models import Contact, OutboxModel


def outbox_notice(rule_id: str, **fields: Any) -> OutboxModel:
    """A notice of ``rule_id`` for Jamie Rivera in Algebra I; ``fields`` replace the defaults
    (``due_on`` defaults to ``decided_on``)."""
    values: dict[str, Any] = {
        "notice_id": f"d-1#cls-1#stu-1#{rule_id}#ep-1",
        "district_id": "d-1",
        "program_id": "prog",
        "enrollment_key": "d-1#cls-1#stu-1",
        "student_id": "stu-1",
        "class_id": "cls-1",
        "class_title": "Algebra I",
        "student_name": "Jamie Rivera",
        "rule_id": rule_id,
        "episode": "ep-1",
        "kind": "notice",
        "policy_version": "2026.1",
        "decided_on": "2026-01-01",
        "deadlines": {},
        "facts": {},
        "recipients": [],
        # Recorded with every notice (outbox.record_decision): whom the family can contact, and
        # the names the notice is signed with.
        "reply_to": Contact(
            role="program_contact",
            name="Morgan Lee",
            title="Program contact",
            address="morgan.lee@district.example",
        ),
        "program_name": "Springfield Online",
        "district_name": "Springfield Public Schools",
        "status": "pending",
        "created_at": "2026-01-01T00:00:00.000000Z",
    }
    values.update(fields)
    values.setdefault("due_on", values["decided_on"])
    return OutboxModel(**values)
