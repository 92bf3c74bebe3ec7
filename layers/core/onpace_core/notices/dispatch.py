"""The morning dispatcher: put each district-day's waiting notices into letters when its window opens.

Invoked hourly (EventBridge Scheduler, ``DispatchFunction``). For every program whose send window
is open at the scheduled time (``notices/window.py``), the district's window day is dispatched:
its ``scheduled`` notices are read by key from the outbox's sparse ``scheduled`` index
(``{district}#{day}``, only those whose window has opened: ``send_after <= now``; no Scan), grouped
by recipient address into letters (``delivery/letters.py``), and each letter is written with its
members claimed in one transaction. The letters are inserted ``pending``: the outbox stream hands
them to notify, which sends them. The day before is looked at too, so a window the dispatcher
missed (an outage) is caught up the next morning rather than never.

Running twice, concurrently or after a crash between letters sends nothing twice: a member is
claimed on condition it has no delivery entry, a letter is put on condition its id is free; a
letter whose member was claimed meanwhile is dropped and the day is planned again from the index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from onpace_rules.program import ProgramConfig

from onpace_core.audit.log import iso_instant
from onpace_core.delivery.evidence import plain
from onpace_core.delivery.letters import MembersTaken, plan_letters, retire, write_letter
from onpace_core.notices.window import open_slot, send_key
from onpace_core.store.models import OutboxModel

#: Plans of one district-day tried again after another dispatcher claimed a member first.
MAX_REPLANS = 3


@dataclass
class DispatchResult:
    """What one district-day's dispatch did (counts only: logs carry no student data)."""

    district_id: str
    day: date
    notices: int = 0
    letters: list[str] = field(default_factory=list)
    digests: int = 0  # letters of more than one notice
    replans: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "district_id": self.district_id,
            "day": self.day.isoformat(),
            "notices": self.notices,
            "letters": len(self.letters),
            "digests": self.digests,
            "replans": self.replans,
            "letter_ids": list(self.letters),
        }


def open_days(programs: Iterable[ProgramConfig], now: datetime) -> list[tuple[str, date]]:
    """The (district, window day) pairs whose window is open at ``now`` for some program."""
    found: set[tuple[str, date]] = set()
    for program in programs:
        slot = open_slot(now, program.time_zone, program.send_window)
        if slot is not None:
            found.add((program.district_id, slot.day))
    return sorted(found)


def waiting(district_id: str, day: date, now: datetime) -> list[OutboxModel]:
    """The district-day's notices still waiting whose window has opened (one Query, by key)."""
    query = OutboxModel.scheduled.query(
        send_key(district_id, day), OutboxModel.send_after <= iso_instant(now)
    )
    return [n for n in query if n.status == "scheduled"]


def dispatch_day(district_id: str, day: date, now: datetime) -> DispatchResult:
    """Letter every waiting notice of ``district_id``'s window ``day``; see the module doc."""
    result = DispatchResult(district_id, day)
    for _ in range(MAX_REPLANS + 1):
        notices = waiting(district_id, day, now)
        result.notices = max(result.notices, len(notices))
        taken = False
        for notice in notices:
            if len(plain(notice.deliveries)) >= len(notice.recipients or []):
                retire(notice)  # every recipient lettered, by two dispatchers
        for plan in plan_letters(notices):
            try:
                result.letters.append(write_letter(plan, now))
            except MembersTaken:
                taken = True  # another dispatcher got there first: plan again from the index
                continue
            if len(plan.notices) > 1:
                result.digests += 1
        if not taken:
            break
        result.replans += 1
    return result


def dispatch(programs: Iterable[ProgramConfig], now: datetime) -> list[DispatchResult]:
    """Dispatch every district-day whose window is open at ``now``, and the day before it."""
    results = []
    for district_id, day in open_days(programs, now):
        for missed_or_today in (day - timedelta(days=1), day):
            results.append(dispatch_day(district_id, missed_or_today, now))
    return results
