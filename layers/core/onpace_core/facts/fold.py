"""The fold rules, once: how events move an enrollment's facts (pure: no storage, no clock).

Both ingest adapters (DynamoDB and in memory, ``ingest.ports``) fold through ``fold_enrollment``;
the replay's in-memory evaluation store folds one event at a time on local dates for speed and
takes its tie-break (``percent_wins``) from here.

The rules:
- Each activity kind keeps the instant of its latest event (``last``): an event only moves it
  forward, so events that arrive out of order, or twice, never move a date backwards.
- Progress (``percent_complete``) keeps the value of the latest instant; two values with the
  same instant are resolved by the higher percent, then the larger event id — the same answer
  whatever the arrival order.
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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from onpace_rules.facts import ACTIVITY_KINDS, ActivityKind

RECENT = 8  # entries kept per kind for voids to fall back on
LIVE_STATUSES = ("active", "held")


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


PercentKey = tuple[str, float, str]  # (instant, fraction, event id)


def percent_wins(new: PercentKey, old: PercentKey | None) -> bool:
    """True when a progress value replaces the one kept: a later instant, or at the same instant
    a higher percent, then a larger event id (arrival order never matters)."""
    return old is None or new > old


@dataclass(frozen=True)
class FoldRules:
    """What a program's rules ask of the fold (``CompiledProgram``)."""

    wake_days: Mapping[str, int] = field(default_factory=dict)
    history: frozenset[str] = frozenset()


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
    recent: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # kind -> (instant, id)
    percent: float | None = None
    percent_at: str | None = None
    percent_event: str | None = None
    percent_recent: tuple[PercentKey, ...] = ()
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


def _apply_activity(facts: EnrollmentFacts, op: ActivityOp, rules: FoldRules) -> EnrollmentFacts:
    instant = utc_instant(op.occurred_at)
    last = dict(facts.last)
    if op.kind not in last or last[op.kind] < instant:
        last[op.kind] = instant
    recent = dict(facts.recent)
    recent[op.kind] = _with_recent(recent.get(op.kind, ()), instant, op.event_id)
    changes: dict[str, object] = {"last": last, "recent": recent}
    if op.kind in rules.history and op.event_id not in facts.activity_log:
        changes["activity_log"] = {**facts.activity_log, op.event_id: f"{op.kind} {instant}"}
    days = rules.wake_days.get(op.kind)
    if days is not None and facts.live:
        changes["wake_on"] = _wake_earlier(facts.wake_on, activity_wake(op.occurred_at, days))
    if op.fraction is not None:
        key: PercentKey = (instant, op.fraction, op.event_id)
        if all(k[2] != op.event_id for k in facts.percent_recent):
            changes["percent_recent"] = tuple(sorted((*facts.percent_recent, key), reverse=True)[:RECENT])
        if percent_wins(key, facts.percent_key()):
            changes.update(percent=op.fraction, percent_at=instant, percent_event=op.event_id)
    return replace(facts, **changes)  # type: ignore[arg-type]


def _apply_input(facts: EnrollmentFacts, op: InputOp) -> EnrollmentFacts:
    changes: dict[str, object] = {}
    if facts.inputs.get(op.event_id) != op.stored:
        changes["inputs"] = {**facts.inputs, op.event_id: op.stored}
    if facts.live:
        changes["wake_on"] = _wake_earlier(facts.wake_on, input_wake(op.occurred_at))
    return replace(facts, **changes) if changes else facts  # type: ignore[arg-type]


def _retract(facts: EnrollmentFacts, op: RetractOp) -> EnrollmentFacts:
    gone = op.event_id
    changes: dict[str, object] = {}
    recent = dict(facts.recent)
    last = dict(facts.last)
    for kind, entries in facts.recent.items():
        kept = tuple(e for e in entries if e[1] != gone)
        if kept == entries:
            continue
        recent[kind] = kept
        removed = next(e for e in entries if e[1] == gone)
        # Only the latest instant moves back; an older voided entry set nothing still shown.
        if last.get(kind) == removed[0] and not any(e[0] == removed[0] for e in kept):
            if kept:
                last[kind] = kept[0][0]
            else:
                last.pop(kind, None)
        changes.update(recent=recent, last=last)
    if gone in facts.activity_log:
        changes["activity_log"] = {k: v for k, v in facts.activity_log.items() if k != gone}
    if gone in facts.inputs:
        changes["inputs"] = {k: v for k, v in facts.inputs.items() if k != gone}
    if any(k[2] == gone for k in facts.percent_recent):
        kept_percent = tuple(k for k in facts.percent_recent if k[2] != gone)
        changes["percent_recent"] = kept_percent
        if facts.percent_event == gone:
            if kept_percent:
                at, fraction, event = kept_percent[0]
                changes.update(percent=fraction, percent_at=at, percent_event=event)
            else:
                changes.update(percent=None, percent_at=None, percent_event=None)
    return replace(facts, **changes) if changes else facts  # type: ignore[arg-type]


def fold_enrollment(facts: EnrollmentFacts, ops: Iterable[FoldOp], rules: FoldRules) -> EnrollmentFacts:
    """The enrollment's facts after ``ops`` (in any order: the result does not depend on it,
    except that a retraction takes back only what was folded before it)."""
    for op in ops:
        if isinstance(op, ActivityOp):
            facts = _apply_activity(facts, op, rules)
        elif isinstance(op, InputOp):
            facts = _apply_input(facts, op)
        else:
            facts = _retract(facts, op)
    return facts


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
