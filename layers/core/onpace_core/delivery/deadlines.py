"""The ``deadline.ics`` attachment of a notice that states a deadline (``notices/deadline_calendar.py``).

Built once per notice from the outbox item alone, and attached to every email of it: the same
bytes for every recipient and every retry (DTSTAMP is the decision's time, not the send's). No
DynamoDB read, so notify keeps its ``n + 3`` requests for ``n`` emails; only a deadline with a
time of day (no rule has one today) needs the program's time zone, read then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from onpace_rules.titles import rule_title

from onpace_core.delivery.mime import Attachment, calendar_attachment
from onpace_core.notices.deadline_calendar import (
    FILENAME,
    METHOD,
    NoticeDeadlines,
    calendar_deadlines,
    deadline_calendar,
    deadlines_calendar,
    has_time,
)
from onpace_core.store.models import OutboxModel, ProgramModel
from onpace_core.store.programs import get_program


def program_time_zone(notice: OutboxModel) -> str | None:
    """The program's IANA zone, or None when the program is not stored (timed deadlines only)."""
    try:
        return get_program(notice.district_id, notice.program_id).time_zone
    except ProgramModel.DoesNotExist:
        return None


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    return dict(value.as_dict())


def _source(notice: OutboxModel) -> NoticeDeadlines:
    return NoticeDeadlines(
        notice_id=notice.notice_id,
        rule_title=rule_title(notice.rule_id),
        decided_at=datetime.fromisoformat(notice.created_at),
        deadlines=calendar_deadlines(_plain(notice.deadlines)),
        class_title=notice.class_title,
        program_name=notice.program_name,
    )


def deadline_attachment(
    notice: OutboxModel, time_zone: Callable[[OutboxModel], str | None] = program_time_zone
) -> Attachment | None:
    """The calendar of ``notice``'s deadlines, or None when it states none."""
    source = _source(notice)
    if not source.deadlines:
        return None
    ical = deadline_calendar(source, time_zone(notice) if has_time(source.deadlines) else None)
    return calendar_attachment(FILENAME, ical, METHOD)


def combined_attachment(
    notices: Sequence[OutboxModel], time_zone: Callable[[OutboxModel], str | None] = program_time_zone
) -> Attachment | None:
    """One ``deadline.ics`` with every deadline of every one of ``notices`` (a digest's), each
    entry the same as in the notice's own calendar; None when none states a deadline."""
    sources = [(notice, _source(notice)) for notice in notices]
    dated = [(notice, source) for notice, source in sources if source.deadlines]
    if not dated:
        return None
    timed = next((notice for notice, source in dated if has_time(source.deadlines)), None)
    ical = deadlines_calendar([source for _, source in dated], time_zone(timed) if timed else None)
    return calendar_attachment(FILENAME, ical, METHOD)
