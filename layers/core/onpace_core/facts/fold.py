"""Fold one activity event into its enrollment's facts with conditional updates.

Each activity kind keeps the instant of its latest event. An update only moves that instant
forward (``attribute_not_exists OR older``), so events that arrive out of order, or twice,
never move a date backwards; an event for an enrollment that does not exist changes nothing.
Activity only ever moves due dates later, except for the kinds the program's rules list in
``activity_wake_days`` (an MSC submission starts a new lapse): those bring ``wake_on`` forward;
the kinds a rule counts (``activity_history``) are also logged by event id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum

from onpace_rules.facts import ActivityKind
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import UpdateError

from onpace_core.audit.log import iso_instant
from onpace_core.facts.program_rules import program_rules
from onpace_core.store.enrollments import bring_wake_forward
from onpace_core.store.models import EnrollmentModel


class FoldOutcome(Enum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # an older or equal event: nothing to move
    UNKNOWN_ENROLLMENT = "unknown_enrollment"


def enrollment_key(district_id: str, class_id: str, student_id: str) -> str:
    return f"{district_id}#{class_id}#{student_id}"


def last_attribute(kind: ActivityKind) -> UnicodeAttribute:
    attribute = getattr(EnrollmentModel, f"last_{kind}_at")
    assert isinstance(attribute, UnicodeAttribute)
    return attribute


@dataclass(frozen=True)
class Activity:
    district_id: str
    student_id: str
    class_id: str
    kind: ActivityKind
    occurred_at: datetime
    percent_complete: float | None = None  # 0–100 as the LMS reports it
    event_id: str | None = None  # the key of its entry in ``activity_log`` (a retry counts once)

    @property
    def enrollment_key(self) -> str:
        return enrollment_key(self.district_id, self.class_id, self.student_id)


def _conditional_set(
    key: str, attribute: UnicodeAttribute, instant: str, extra: list | None = None
) -> EnrollmentModel | None:
    """The item as updated, or None when the condition failed (older event or no such item)."""
    actions = [attribute.set(instant), *(extra or []), EnrollmentModel.facts_seq.add(1)]
    condition = EnrollmentModel.enrollment_key.exists() & (attribute.does_not_exist() | (attribute < instant))
    item = EnrollmentModel(enrollment_key=key)
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return item


def _read(key: str) -> EnrollmentModel | None:
    try:
        return EnrollmentModel.get(key, attributes_to_get=["enrollment_key", "district_id", "program_id"])
    except EnrollmentModel.DoesNotExist:
        return None


def _log(key: str, activity: Activity, instant: str) -> bool:
    """Add the activity to the enrollment's ``activity_log``; False if it was there already."""
    entry = activity.event_id or f"{activity.kind}@{instant}"
    try:
        EnrollmentModel(enrollment_key=key).update(
            actions=[
                EnrollmentModel.activity_log[entry].set(f"{activity.kind} {instant}"),
                EnrollmentModel.facts_seq.add(1),
            ],
            condition=EnrollmentModel.enrollment_key.exists()
            & EnrollmentModel.activity_log[entry].does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _activity_wake(activity: Activity, days: int) -> date:
    """The day this activity can make something due from, ``days`` after it.

    Ingest does not know the program's time zone; the local date is never before the UTC date
    minus one, so counting from that day is never late.
    """
    return activity.occurred_at.astimezone(UTC).date() - timedelta(days=1) + timedelta(days=days)


def fold(activity: Activity) -> FoldOutcome:
    """Move the enrollment's facts forward by this activity; one UpdateItem in the common case.

    For the kinds the program's rules name, also: bring the wake date forward (an MSC submission
    starts a lapse whose step 1 can come before anything else due) and log the activity by event
    id (the kinds a rule counts). Both are idempotent and done even for an older or repeated
    event, so a retry after a failure half-way, or an older event arriving late, still counts.
    """
    key = activity.enrollment_key
    instant = iso_instant(activity.occurred_at)
    item = _conditional_set(key, last_attribute(activity.kind), instant)
    moved = item is not None
    if item is None:
        item = _read(key)
        if item is None:
            return FoldOutcome.UNKNOWN_ENROLLMENT
    program = program_rules(item.district_id, item.program_id)
    if program is not None:
        days = program.activity_wake_days.get(activity.kind)
        if days is not None:
            bring_wake_forward(key, _activity_wake(activity, days))
        if activity.kind in program.activity_history:
            moved |= _log(key, activity, instant)
    if activity.percent_complete is not None:
        fraction = round(activity.percent_complete / 100.0, 6)
        moved |= (
            _conditional_set(
                key, EnrollmentModel.percent_at, instant, [EnrollmentModel.percent_complete.set(fraction)]
            )
            is not None
        )
    return FoldOutcome.UPDATED if moved else FoldOutcome.UNCHANGED
