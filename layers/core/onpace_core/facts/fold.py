"""The fold rules, once: how events move an enrollment's facts (pure: no storage, no clock).

Every ingest adapter (``ingest.ports``: DynamoDB, in memory, and replay's over its evaluation
store, ``store.memory_ingest``) folds through ``fold_enrollment``, called by the one ingest
service; nothing else moves an enrollment's facts.

The rules:
- Each activity kind keeps the instant of its latest event (``last``): an event only moves it
  forward, so events that arrive out of order, or twice, never move a date backwards.
- Progress (``percent_complete``) keeps the value of the latest instant; two values with the
  same instant are resolved by the higher percent, then the larger ``short_id`` of the event —
  the same answer whatever the arrival order.
- The kinds a program's rules count (``activity_history``) are logged by event id
  (``activity_log``: a retried event counts once).
- The kinds a program's rules wake on (``activity_wake_days``) bring the wake date of a live
  enrollment forward (an MSC submission starts a lapse whose step 1 can come before anything
  else due); an input wakes its enrollment the day after it. Activity never moves it later here.
- A void (an xAPI ``voided`` statement) takes back what the voided event set: its log entry,
  its input, and — when it was the latest of its kind, or the progress value kept — the
  instant or value falls back on the next one in ``recent`` (the last ``RECENT`` per kind).
  Limits: past ``RECENT`` voids in a row of one kind the fallback is unknown and the instant is
  cleared; a wake date brought forward is not taken back (an early look decides nothing).
- ``recent`` and ``percent_recent`` name their events by ``short_id`` (36 bits of a hash of the
  event id), not by the id: they are rewritten with every activity and were most of the item's
  size (docs/scale.md, "Item sizes"); a void finds its entries by the same hash. A void taking
  back another of the enrollment's few dozen kept entries by a shared hash is a 1-in-10^9 chance.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from onpace_rules.facts import ACTIVITY_KINDS, ActivityKind

if TYPE_CHECKING:
    from onpace_rules.engine import CompiledProgram

# Entries kept per kind for voids to fall back on: three voids in a row of a kind's latest
# events fall back right, a fourth clears the instant (docs/scale.md, "Item sizes").
RECENT = 4
LIVE_STATUSES = ("active", "held")


def short_id(event_id: str) -> str:
    """What ``recent`` and ``percent_recent`` name an event by: 6 characters (36 bits of BLAKE2b)."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode()[:6]


def enrollment_key(district_id: str, class_id: str, student_id: str) -> str:
    return f"{district_id}#{class_id}#{student_id}"


def utc_instant(moment: datetime) -> str:
    """Fixed-width UTC ISO instant: string order is time order (as stored)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def activity_wake(occurred_at: datetime, days: int) -> date:
    """The day activity can make something due from, ``days`` after it.

    Ingest does not know the program's time zone; the local date is never before the UTC date
    minus one, so counting from that day is never late.
    """
    return occurred_at.astimezone(UTC).date() - timedelta(days=1) + timedelta(days=days)


def input_wake(occurred_at: datetime) -> date:
    """The first evaluation that sees an input is the day after its local date: the UTC date is safe."""
    return occurred_at.astimezone(UTC).date()


PercentKey = tuple[str, float, str]  # (instant, fraction, short id)


def percent_wins(new: PercentKey, old: PercentKey | None) -> bool:
    """True when a progress value replaces the one kept: a later instant, or at the same instant
    a higher percent, then a larger short id (arrival order never matters)."""
    return old is None or new > old


@dataclass(frozen=True)
class FoldRules:
    """What a program's rules ask of the fold (``CompiledProgram``)."""

    wake_days: Mapping[str, int] = field(default_factory=dict)
    history: frozenset[str] = frozenset()

    @classmethod
    def of(cls, program: CompiledProgram) -> FoldRules:
        return cls(
            wake_days={str(k): v for k, v in program.activity_wake_days.items()},
            history=frozenset(program.activity_history),
        )


@dataclass(frozen=True)
class ActivityOp:
    event_id: str
    kind: ActivityKind
    occurred_at: datetime
    fraction: float | None = None  # percent_complete / 100


@dataclass(frozen=True)
class InputOp:
    event_id: str
    stored: str  # JSON of onpace_rules.inputs.input_to_dict
    occurred_at: datetime


@dataclass(frozen=True)
class RetractOp:
    event_id: str  # the voided event


FoldOp = ActivityOp | InputOp | RetractOp


@dataclass(frozen=True)
class EnrollmentFacts:
    """The part of an enrollment item the fold reads and writes."""

    key: str
    program_id: str = ""
    status: str = "active"
    scope: str = "enrollment"
    last: Mapping[str, str] = field(default_factory=dict)  # kind -> instant
    # kind -> (instant, short_id), newest first
    recent: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    percent: float | None = None
    percent_at: str | None = None
    percent_event: str | None = None
    percent_recent: tuple[PercentKey, ...] = ()  # (instant, fraction, short_id), newest first
    activity_log: Mapping[str, str] = field(default_factory=dict)  # event id -> "kind instant"
    inputs: Mapping[str, str] = field(default_factory=dict)  # event id -> JSON
    wake_on: str | None = None
    seq: int | None = None  # facts_seq as read: the condition of the write

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    def percent_key(self) -> PercentKey | None:
        if self.percent is None or self.percent_at is None:
            return None
        return (self.percent_at, self.percent, self.percent_event or "")


def _wake_earlier(current: str | None, day: date) -> str | None:
    text = day.isoformat()
    return text if current is None or text < current else current


def _with_recent(
    entries: tuple[tuple[str, str], ...], instant: str, event_id: str
) -> tuple[tuple[str, str], ...]:
    if any(e[1] == event_id for e in entries):
        return entries
    return tuple(sorted((*entries, (instant, event_id)), reverse=True)[:RECENT])


@dataclass(slots=True)
class _Working:
    """An enrollment's facts while one batch of ops is folded: copied once, frozen once."""

    live: bool
    last: dict[str, str]
    recent: dict[str, tuple[tuple[str, str], ...]]
    percent: float | None
    percent_at: str | None
    percent_event: str | None
    percent_recent: tuple[PercentKey, ...]
    activity_log: dict[str, str]
    inputs: dict[str, str]
    wake_on: str | None

    @classmethod
    def of(cls, facts: EnrollmentFacts) -> _Working:
        return cls(
            live=facts.live,
            last=dict(facts.last),
            recent=dict(facts.recent),
            percent=facts.percent,
            percent_at=facts.percent_at,
            percent_event=facts.percent_event,
            percent_recent=facts.percent_recent,
            activity_log=dict(facts.activity_log),
            inputs=dict(facts.inputs),
            wake_on=facts.wake_on,
        )

    def percent_key(self) -> PercentKey | None:
        if self.percent is None or self.percent_at is None:
            return None
        return (self.percent_at, self.percent, self.percent_event or "")

    def frozen(self, facts: EnrollmentFacts) -> EnrollmentFacts:
        return replace(
            facts,
            last=self.last,
            recent=self.recent,
            percent=self.percent,
            percent_at=self.percent_at,
            percent_event=self.percent_event,
            percent_recent=self.percent_recent,
            activity_log=self.activity_log,
            inputs=self.inputs,
            wake_on=self.wake_on,
        )


def _apply_activity(facts: _Working, op: ActivityOp, rules: FoldRules) -> None:
    instant = utc_instant(op.occurred_at)
    last = facts.last
    if op.kind not in last or last[op.kind] < instant:
        last[op.kind] = instant
    sid = short_id(op.event_id)
    facts.recent[op.kind] = _with_recent(facts.recent.get(op.kind, ()), instant, sid)
    if op.kind in rules.history and op.event_id not in facts.activity_log:
        facts.activity_log[op.event_id] = f"{op.kind} {instant}"
    days = rules.wake_days.get(op.kind)
    if days is not None and facts.live:
        facts.wake_on = _wake_earlier(facts.wake_on, activity_wake(op.occurred_at, days))
    if op.fraction is not None:
        key: PercentKey = (instant, op.fraction, sid)
        if all(k[2] != sid for k in facts.percent_recent):
            facts.percent_recent = tuple(sorted((*facts.percent_recent, key), reverse=True)[:RECENT])
        if percent_wins(key, facts.percent_key()):
            facts.percent, facts.percent_at, facts.percent_event = op.fraction, instant, sid


def _apply_input(facts: _Working, op: InputOp) -> None:
    facts.inputs[op.event_id] = op.stored
    if facts.live:
        facts.wake_on = _wake_earlier(facts.wake_on, input_wake(op.occurred_at))


def _retract(facts: _Working, op: RetractOp) -> None:
    gone = short_id(op.event_id)
    last = facts.last
    for kind, entries in list(facts.recent.items()):
        kept = tuple(e for e in entries if e[1] != gone)
        if kept == entries:
            continue
        facts.recent[kind] = kept
        removed = next(e for e in entries if e[1] == gone)
        # Only the latest instant moves back; an older voided entry set nothing still shown.
        if last.get(kind) == removed[0] and not any(e[0] == removed[0] for e in kept):
            if kept:
                last[kind] = kept[0][0]
            else:
                last.pop(kind, None)
    facts.activity_log.pop(op.event_id, None)
    facts.inputs.pop(op.event_id, None)
    if any(k[2] == gone for k in facts.percent_recent):
        kept_percent = tuple(k for k in facts.percent_recent if k[2] != gone)
        facts.percent_recent = kept_percent
        # The value kept names its event by short id (by id on items written before).
        if facts.percent_event in (op.event_id, gone):
            if kept_percent:
                facts.percent_at, facts.percent, facts.percent_event = kept_percent[0]
            else:
                facts.percent, facts.percent_at, facts.percent_event = None, None, None


def fold_enrollment(facts: EnrollmentFacts, ops: Iterable[FoldOp], rules: FoldRules) -> EnrollmentFacts:
    """The enrollment's facts after ``ops`` (in any order: the result does not depend on it,
    except that a retraction takes back only what was folded before it)."""
    working = _Working.of(facts)
    for op in ops:
        if isinstance(op, ActivityOp):
            _apply_activity(working, op, rules)
        elif isinstance(op, InputOp):
            _apply_input(working, op)
        else:
            _retract(working, op)
    return working.frozen(facts)


FACT_FIELDS = (
    "last",
    "recent",
    "percent",
    "percent_at",
    "percent_event",
    "percent_recent",
    "activity_log",
    "inputs",
    "wake_on",
)


def changed_fields(old: EnrollmentFacts, new: EnrollmentFacts) -> list[str]:
    """The fact fields a write must set (empty: nothing to write)."""
    return [name for name in FACT_FIELDS if getattr(old, name) != getattr(new, name)]


def is_activity(kind: str | None) -> bool:
    return kind in ACTIVITY_KINDS
