"""Store a non-activity input (grade, appeal, approval, accommodation…) on its enrollments.

Inputs are kept on the enrollment item by event id, so a retried event overwrites itself and is
never counted twice. Unlike most activity — which only moves due dates later — an input can make
something due (an approval, a drop request), so storing it also brings the enrollment's wake
date forward to the first evaluation that sees it: the day after the input's local date.
"""

from __future__ import annotations

import json
from datetime import UTC, date

from onpace_rules.inputs import STUDENT_WIDE_KINDS, Input, input_to_dict
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from onpace_core.store.enrollments import bring_wake_forward
from onpace_core.store.models import EnrollmentModel


def _targets(district_id: str, student_id: str, class_id: str | None, kind: str) -> list[str]:
    own = [f"{district_id}#{class_id}#{student_id}"] if class_id else []
    if kind not in STUDENT_WIDE_KINDS and class_id is not None:
        return own
    others = [
        item.enrollment_key
        for item in EnrollmentModel.by_student.query(f"{district_id}#{student_id}")
        if item.enrollment_key not in own
    ]
    return own + others


def _conditional(key: str, actions: list[Action], condition: Condition) -> bool:
    try:
        EnrollmentModel(enrollment_key=key).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def store_input(district_id: str, student_id: str, item: Input) -> int:
    """Put ``item`` on its enrollment(s) and wake them; returns how many enrollments took it (0: unknown)."""
    stored = 0
    # The first evaluation that sees the input is the day after its program-local date; the
    # local date is never before the UTC date minus one, so the UTC date is a safe wake date.
    wake: date = item.at.astimezone(UTC).date()
    for key in _targets(district_id, student_id, item.class_id, item.kind):
        if not _conditional(
            key,
            [
                EnrollmentModel.inputs[item.event_id].set(json.dumps(input_to_dict(item))),
                EnrollmentModel.facts_seq.add(1),
            ],
            EnrollmentModel.enrollment_key.exists(),
        ):
            continue
        stored += 1
        bring_wake_forward(key, wake)
    return stored
