"""The DynamoDB evaluation store: a shard's due enrollments read by key, decisions to the outbox
and audit log together, the engine's bookkeeping back on the enrollment item.

The day loop itself is ``onpace_core.evaluation.day.evaluate_day``, shared with ``onpace replay``.
A program day is planned once (``plan_program_day``: the due keys from the keys-only ``due``
index, cut into shards, and the day's ``calendar.changed`` audit entry) and each shard is
evaluated on its own (``evaluate_shard``), by the SQS worker when deployed. Requests of a shard
of n due enrollments: ⌈n/100⌉ BatchGetItem, one head Query when it decides something, one
TransactWriteItems per 12 decisions (entry and outbox item together), one UpdateItem per
enrollment whose state changed, and one BatchGetItem per enrollment whose evaluation takes a
family action that warnings announced (did any warning reach the family?
``notices/family_reach.py``). A failure on one enrollment is collected, not raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from onpace_rules.decisions import Decision, Evaluation, decision_to_dict
from onpace_rules.engine import CompiledProgram, compile_program, evaluate_enrollment
from onpace_rules.facts import moved_end_date
from onpace_rules.family import is_family_action
from onpace_rules.program import CalendarChange, ProgramConfig
from onpace_rules.titles import rule_title
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from onpace_core.audit.chain import Accounted, ChainWriter
from onpace_core.audit.log import AuditEntry, append_claimed
from onpace_core.evaluation.day import CalendarChangeApplied, DaySummary, Subject, evaluate_day
from onpace_core.notices.family_reach import ACTION_WARNINGS, family_unwarned
from onpace_core.notices.outbox import outbox_item
from onpace_core.store.enrollments import due_key, to_state
from onpace_core.store.models import EnrollmentModel, OutboxModel
from onpace_core.store.programs import (
    applies_from,
    audited_change_ids,
    calendar_audit_claim,
    change_detail,
    change_id,
    describe_change,
)

ACTOR = "evaluate"
_AUDIT_TYPE = {"notice": "notice.decided", "action": "action.taken", "skipped": "notice.skipped"}


def _audit_entry(item: EnrollmentModel, decision: Decision, notice: str) -> AuditEntry:
    who = item.student_name or item.student_id
    where = item.class_title or "the program"
    what = rule_title(decision.rule_id)
    if decision.kind == "skipped":
        summary = f"{what} for {who} in {where}: skipped ({decision.reason})"
    elif decision.kind == "action":
        summary = f"{what}: {who} {decision.status_after} from {where}"
    else:
        summary = f"{what} for {who} in {where}"
    return AuditEntry(
        type=_AUDIT_TYPE[decision.kind],
        actor=ACTOR,
        summary=summary,
        on=decision.on,
        rule_id=decision.rule_id,
        policy_version=decision.policy_version,
        program_id=item.program_id,
        student_id=item.student_id,
        class_id=item.class_id,
        notice_id=notice,
        detail={
            "episode": decision.episode,
            "due_on": decision.due_on.isoformat(),
            "facts": dict(decision.facts),
            "deadlines": {k: v.isoformat() for k, v in decision.deadlines.items()},
            "recipients": list(decision.recipients),
            "status_after": decision.status_after,
            "reason": decision.reason,
        },
    )


BATCH_GET = 100  # keys per BatchGetItem (DynamoDB's limit)
DEFAULT_SHARD_SIZE = 500  # due enrollments per shard message (docs/scale.md)


@dataclass(frozen=True)
class EnrollmentFailure:
    """One enrollment whose evaluation or writes failed: retried alone, then dead-lettered."""

    enrollment_key: str
    error: str  # the exception's class (and a DynamoDB error code), never its message


def _failure(key: str, exc: BaseException) -> EnrollmentFailure:
    code = getattr(exc, "cause_response_code", None)
    return EnrollmentFailure(key, f"{type(exc).__name__}:{code}" if code else type(exc).__name__)


@dataclass
class _Pending:
    subject: Subject[EnrollmentModel]
    evaluation: Evaluation


class DynamoEvaluationStore:
    """``EvaluationStore`` over one shard: the given enrollment keys, read 100 at a time.

    ``record`` only keeps the evaluation; after each page of subjects ``due`` writes the page:
    its decisions (``ChainWriter``: audit entry and outbox item in one transaction), then one
    UpdateItem per enrollment whose state changed. A key no longer due (an overlapping run, a
    duplicate message evaluated it already) is skipped without a write.
    """

    def __init__(
        self, keys: Sequence[str], now: datetime, district_id: str, send_from: datetime | None = None
    ) -> None:
        self.keys = list(dict.fromkeys(keys))
        # The notices' morning window is the first after this instant (the day's planning).
        self._send_from = send_from or now
        self.writer = ChainWriter(district_id, now)
        self.failures: list[EnrollmentFailure] = []
        self.not_due = 0
        self._pending: list[_Pending] = []
        self._summary: DaySummary | None = None
        self._now = now
        # Family actions about to be taken whose warnings were read (one BatchGetItem each),
        # and those held because none of them reached the family (notices/family_reach.py).
        self.warning_reads = 0
        self.unwarned = 0

    def fail(self, subject: Subject[EnrollmentModel], exc: Exception) -> None:
        """``evaluate_day``'s ``on_error``: the engine raised on this subject."""
        self.failures.append(_failure(subject.ref.enrollment_key, exc))

    def due(self, program: CompiledProgram, day: date) -> Iterator[Subject[EnrollmentModel]]:
        wanted = day.isoformat()
        for start in range(0, len(self.keys), BATCH_GET):
            page = self.keys[start : start + BATCH_GET]
            # Consistent: the item as the last evaluation or fold left it (facts_seq, wake_on).
            items = EnrollmentModel.batch_get(page, consistent_read=True)
            for item in sorted(items, key=lambda i: i.enrollment_key):
                if item.wake_on is None or item.wake_on > wanted:
                    self.not_due += 1
                    continue
                try:
                    state = to_state(item, program.calendar)
                except Exception as exc:  # a stored item the engine cannot read
                    self.failures.append(_failure(item.enrollment_key, exc))
                    continue
                yield Subject(state=state, ref=item)
            self._flush(program, day)

    def record(
        self,
        program: CompiledProgram,
        subject: Subject[EnrollmentModel],
        evaluation: Evaluation,
        day: date,
        now: datetime,
        summary: DaySummary,
    ) -> None:
        self._summary = summary
        action = _family_action(subject, evaluation)
        if action is not None and family_unwarned(subject.ref.enrollment_key, action):
            # No warning reached the family: the engine, told so, holds the action instead.
            self.warning_reads += 1
            self.unwarned += 1
            evaluation = evaluate_enrollment(program, replace(subject.state, family_unwarned=True), day)
        elif action is not None:
            self.warning_reads += 1
        self._pending.append(_Pending(subject, evaluation))

    # -- writes, a page at a time --------------------------------------------------------------

    def _flush(self, program: CompiledProgram, day: date) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        summary = self._summary
        assert summary is not None
        written = self._write_decisions(program, pending)
        first_days = self._first_days(pending, written)
        for record in pending:
            item = record.subject.ref
            created = written.get(item.enrollment_key)
            if created is None:
                continue  # its decisions could not be written: it stays due, retried alone
            for decision, new in zip(record.evaluation.decisions, created, strict=True):
                if new:
                    summary.recorded[(decision.rule_id, decision.kind)] += 1
                else:
                    summary.already_recorded += 1
            try:
                _write_state(item, record.subject, record.evaluation, day, first_days)
            except Exception as exc:  # an oversized item, a throttle past retries
                self.failures.append(_failure(item.enrollment_key, exc))

    def _write_decisions(self, program: CompiledProgram, pending: list[_Pending]) -> dict[str, list[bool]]:
        """Per enrollment key, whether each decision was written now; absent: its write failed."""
        groups = {
            r.subject.ref.enrollment_key: [
                Accounted(
                    entry=_audit_entry(r.subject.ref, d, f"{r.subject.ref.enrollment_key}#{d.fired_key}"),
                    item=outbox_item(r.subject.ref, d, program.config, self._now, send_from=self._send_from),
                    condition=OutboxModel.notice_id.does_not_exist(),
                )
                for d in r.evaluation.decisions
            ]
            for r in pending
        }
        flat = [a for group in groups.values() for a in group]
        try:
            results = iter(self.writer.append_with(flat))
            return {key: [next(results) for _ in group] for key, group in groups.items()}
        except Exception:  # find the enrollment that makes the batch fail
            settled, count = self.writer.settled, self.writer.settled_count
        # Some transaction of the page failed for a reason of its own (an item too large, a
        # throttle past retries): the enrollments after the transactions that went through are
        # written one by one, so that only the one at fault fails.
        out: dict[str, list[bool]] = {}
        offset = 0
        for key, group in groups.items():
            if offset + len(group) <= count:
                out[key] = settled[offset : offset + len(group)]
            else:
                try:
                    out[key] = self.writer.append_with(group)
                except Exception as exc:
                    self.failures.append(_failure(key, exc))
            offset += len(group)
        return out

    def _first_days(self, pending: list[_Pending], written: dict[str, list[bool]]) -> dict[str, date]:
        """The day each decision was first recorded: today if written now, else the outbox says."""
        earlier = []
        for r in pending:
            key = r.subject.ref.enrollment_key
            for decision, new in zip(r.evaluation.decisions, written.get(key, ()), strict=False):
                if not new:
                    earlier.append(f"{key}#{decision.fired_key}")
        found: dict[str, date] = {}
        if earlier:
            for item in OutboxModel.batch_get(earlier, attributes_to_get=["notice_id", "decided_on"]):
                found[item.notice_id] = date.fromisoformat(item.decided_on)
        return found


def _family_action(subject: Subject[EnrollmentModel], evaluation: Evaluation) -> Decision | None:
    """The family action ``evaluation`` takes today that warnings announced, if any (not when
    it is already held, nor when it is a held action's approval being carried out)."""
    if subject.state.status == "held" or evaluation.held is not None:
        return None
    for decision in evaluation.decisions:
        if is_family_action(decision) and decision.rule_id in ACTION_WARNINGS:
            return decision
    return None


def _write_state(
    item: EnrollmentModel,
    subject: Subject[EnrollmentModel],
    evaluation: Evaluation,
    day: date,
    first_days: dict[str, date],
) -> None:
    """One UpdateItem with the evaluation's bookkeeping, or none when nothing changes."""
    stored_fired = item.fired.as_dict() if item.fired else {}
    fired: dict[str, str] = {}
    for decision in evaluation.decisions:
        notice = f"{item.enrollment_key}#{decision.fired_key}"
        fired[decision.fired_key] = first_days.get(notice, decision.on).isoformat()
    wake = evaluation.wake_on.isoformat() if evaluation.wake_on is not None else None
    held = json.dumps(decision_to_dict(evaluation.held)) if evaluation.held is not None else None
    end_date = moved_end_date(evaluation.decisions, subject.state.end_date)
    extended = end_date.isoformat() if end_date is not None and end_date != subject.state.end_date else None
    unchanged = (
        all(stored_fired.get(k) == v for k, v in fired.items())
        and item.checked_through == day.isoformat()
        and item.status == evaluation.status
        and item.held == held
        and (item.held_district is not None) == (held is not None)
        and item.wake_on == wake
        and extended is None
    )
    if unchanged:
        return
    recorded: list[Action] = [EnrollmentModel.fired[k].set(v) for k, v in fired.items()]
    if extended is not None:
        recorded.append(EnrollmentModel.extended_end_date.set(extended))
    recorded += [
        EnrollmentModel.checked_through.set(day.isoformat()),
        EnrollmentModel.status.set(evaluation.status),
        EnrollmentModel.held.set(held) if held is not None else EnrollmentModel.held.remove(),
        # The sparse ``held`` index (the console's approvals queue) holds exactly the held items.
        EnrollmentModel.held_district.set(item.district_id)
        if held is not None
        else EnrollmentModel.held_district.remove(),
    ]
    # Activity only brings the wake date forward (fold): moving it later as activity arrives
    # would cost a write per counted activity to save one evaluation per lapse threshold
    # (docs/architecture.md, "Wake dates").
    wake_action = EnrollmentModel.wake_on.set(wake) if wake is not None else EnrollmentModel.wake_on.remove()
    # Activity, an input or a program load may have changed the enrollment since it was read
    # (``facts_seq``); then this evaluation's wake date, worked out from older facts, must not
    # be written: the one in place stays, and the next run looks again.
    read = item.facts_seq
    same_facts = (
        EnrollmentModel.facts_seq == read if read is not None else EnrollmentModel.facts_seq.does_not_exist()
    )
    try:
        item.update(actions=[*recorded, wake_action], condition=same_facts)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        item.update(actions=recorded)  # setting the same values again is harmless


def _calendar_entry(
    program: CompiledProgram, changes: list[CalendarChange], day: date, evaluated: int
) -> AuditEntry:
    config = program.config
    changed = "; ".join(f"from {applies_from(c).isoformat()}: {describe_change(c)}" for c in changes)
    return AuditEntry(
        type="calendar.changed",
        actor=ACTOR,
        summary=f"Calendar of {config.name} changed {changed}; {evaluated} enrollment(s) re-evaluated",
        on=day,
        policy_version=program.version_on(day).config.policy_version,
        program_id=config.program_id,
        detail={"changes": [change_detail(c) for c in changes], "enrollments_reevaluated": evaluated},
    )


def _audit_calendar_changes(
    program: CompiledProgram, day: date, now: datetime, due: int
) -> tuple[CalendarChangeApplied, ...]:
    """Audit the calendar changes in force on ``day`` that are not audited yet, once.

    Normally that is the change announced the day before (the engine woke every live enrollment
    for it); a change loaded after the day it applied from is audited on the first day evaluated
    after the load. The claim on the program item makes a re-run of the day write nothing. The
    planner writes it, with the number of enrollments the day's shards re-evaluate.
    """
    config = program.config
    in_force = [c for c in config.calendar.changes if applies_from(c) <= day]
    if not in_force:
        return ()
    audited = audited_change_ids(config.district_id, config.program_id)
    pending = [c for c in in_force if change_id(c) not in audited]
    if not pending:
        return ()
    entry = _calendar_entry(program, pending, day, due)
    if append_claimed(config.district_id, entry, calendar_audit_claim(config, pending), now) is None:
        return ()  # another run of this day audited them first
    return tuple(
        CalendarChangeApplied(
            announced=c.announced,
            applies_from=applies_from(c),
            closed=tuple(sorted(c.closed)),
            opened=tuple(sorted(c.opened)),
            reason=c.reason,
        )
        for c in pending
    )


# -- planning and evaluating shards ----------------------------------------------------------------


@dataclass(frozen=True)
class ProgramPlan:
    """A program day cut into shards of due enrollment keys."""

    config: ProgramConfig
    day: date
    shards: tuple[tuple[str, ...], ...]
    calendar_changes: tuple[CalendarChangeApplied, ...] = ()

    @property
    def due(self) -> int:
        return sum(len(s) for s in self.shards)

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "program": self.config.key,
            "day": self.day.isoformat(),
            "due": self.due,
            "shards": len(self.shards),
        }
        if self.calendar_changes:
            found["calendar_changes"] = [c.as_dict() for c in self.calendar_changes]
        return found


def due_keys(config: ProgramConfig, day: date) -> list[str]:
    """Keys of the program's enrollments with something possibly due on or before ``day``.

    One Query per ``due`` partition (``evaluation_shards``) and 1 MB page of keys (some 10,000);
    the index is keys only. Sorted, so that the same day plans the same shards.
    """
    keys: list[str] = []
    for shard in range(config.evaluation_shards):
        keys.extend(
            item.enrollment_key
            for item in EnrollmentModel.due_index.query(
                due_key(config.district_id, config.program_id, shard),
                range_key_condition=EnrollmentModel.wake_on <= day.isoformat(),
            )
        )
    return sorted(set(keys))


def plan_program_day(
    config: ProgramConfig, day: date, now: datetime, shard_size: int = DEFAULT_SHARD_SIZE
) -> ProgramPlan:
    """The program day's shards, and its ``calendar.changed`` audit entry (once)."""
    keys = due_keys(config, day)
    shards = tuple(tuple(keys[i : i + shard_size]) for i in range(0, len(keys), shard_size))
    changes = _audit_calendar_changes(compile_program(config), day, now, len(keys))
    return ProgramPlan(config=config, day=day, shards=shards, calendar_changes=changes)


@dataclass
class ShardResult:
    """What evaluating one shard did (``summary``) and which enrollments failed in it."""

    summary: DaySummary
    failures: list[EnrollmentFailure] = field(default_factory=list)
    not_due: int = 0
    head_reads: int = 0
    transactions: int = 0

    def as_dict(self) -> dict[str, object]:
        return {**self.summary.as_dict(), "not_due": self.not_due, "failed_keys": len(self.failures)}


def evaluate_shard(
    config: ProgramConfig | CompiledProgram,
    day: date,
    keys: Sequence[str],
    now: datetime,
    *,
    send_from: datetime | None = None,
) -> ShardResult:
    """Evaluate the enrollments ``keys`` of one program on ``day``; failures are collected per key.

    ``send_from``: when the day was planned; its notices wait for the first send window after it
    (default ``now``)."""
    program = config if isinstance(config, CompiledProgram) else compile_program(config)
    store = DynamoEvaluationStore(keys, now, program.config.district_id, send_from)
    summary = evaluate_day(store, program, day, now, on_error=store.fail)
    summary.failed = len({f.enrollment_key for f in store.failures})
    return ShardResult(
        summary=summary,
        failures=store.failures,
        not_due=store.not_due,
        head_reads=store.writer.head_reads,
        transactions=store.writer.transactions,
    )


def evaluate_program_day(config: ProgramConfig, day: date, now: datetime) -> DaySummary:
    """Plan the program day and evaluate its shards here, one after the other (the benchmark, a
    local catch-up); raises if an enrollment failed. Deployed, the shards go to the SQS workers."""
    plan = plan_program_day(config, day, now)
    program = compile_program(config)
    total = DaySummary(program_key=config.key, day=day, calendar_changes=plan.calendar_changes)
    failures: list[EnrollmentFailure] = []
    for shard in plan.shards:
        result = evaluate_shard(program, day, shard, now)
        total.enrollments_evaluated += result.summary.enrollments_evaluated
        total.recorded.update(result.summary.recorded)
        total.already_recorded += result.summary.already_recorded
        total.failed += result.summary.failed
        failures.extend(result.failures)
    if failures:
        raise RuntimeError(f"{config.key} {day}: {len(failures)} enrollment(s) failed: {failures[0].error}")
    return total
