"""Work queues: approvals waiting, open appeal windows, quarantined events, ``data.missing`` alerts.

Every action here writes exactly one audit entry naming the admin (``actor``), in one
transaction with the write it records (``audit.log.append_claimed``), on a condition that makes a
second submit of the same form write nothing (``Outcome.already``).

- ``approve`` / ``reject`` store an ``approval`` input on the held enrollment, exactly as an LMS
  or SIS ``approval`` input would (``onpace_rules.inputs.Approval``), and bring its wake date
  forward: the evaluation of the next local day sees it and takes (or drops) the held action,
  deadlines counted from that day (``engine._resolve_held``).
- ``record_appeal_outcome`` stores an ``appeal`` input naming the rule appealed (the engine
  counts appeals made against a program's yearly allowance, ``pacing.py``) and audits the outcome
  with the admin's note. The engine has no input that reverses an action: a granted appeal is
  carried out by re-enrolling the student on the roster.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from onpace_rules.decisions import Decision, decision_from_dict
from onpace_rules.engine import APPROVAL_SUFFIX
from onpace_rules.inputs import Appeal, Approval, Input, input_to_dict
from onpace_rules.titles import rule_title

from onpace_core.audit.log import AuditEntry, AuditModel, Claim, append_claimed, utc_now
from onpace_core.console.common import (
    BATCH_GET,
    NotInDistrict,
    batch_items,
    detail_of,
    district_programs,
    local_today,
    own_key,
)
from onpace_core.delivery.evidence import plain
from onpace_core.facts.inputs import store_input
from onpace_core.store.models import EnrollmentModel, OutboxModel, ProgramModel, RawEventModel
from onpace_core.store.programs import get_program

DATA_MISSING = "data.missing"
# An appeal window is a few school or business days (catalogue); entries of a rule older than this
# cannot have one still open, so the newest-first read of each rule stops there.
APPEAL_LOOKBACK_DAYS = 60
LIVE = ("active", "held")


class ReasonRequired(ValueError):
    """A rejection (or an appeal outcome) without the admin's reason."""


@dataclass(frozen=True)
class Outcome:
    """What an action did: ``recorded`` (one audit entry written, its ``seq``) or ``already``
    (the same decision was submitted before, or the item is no longer waiting: nothing written)."""

    status: Literal["recorded", "already"]
    seq: int | None = None
    input_id: str | None = None


@dataclass(frozen=True)
class ApprovalWaiting:
    ref: str  # the enrollment key: what approve/reject take
    student_id: str
    student_name: str | None
    class_id: str
    class_title: str | None
    program_id: str
    rule_id: str
    title: str
    requested_on: date
    due_on: date
    policy_version: str
    status_after: str | None
    reason: str | None  # why it is held (``approval_reason``)


def _input_id(prefix: str, *parts: str) -> str:
    # Deterministic: the same decision on the same held action is the same input (double submit).
    return f"console-{prefix}-" + hashlib.sha256("#".join(parts).encode()).hexdigest()[:20]


def _approval_input_id(key: str, held: Decision) -> str:
    return _input_id("approval", key, held.fired_key, held.on.isoformat())


def _request_id(key: str, held: Decision) -> str:
    return f"{key}#{held.rule_id}#{held.episode}{APPROVAL_SUFFIX}"


def approvals_waiting(district_id: str) -> list[ApprovalWaiting]:
    """Held enrollments of the district not decided here yet, oldest request first (one decided
    in the console stays held until the next evaluation takes it; it is not waiting any more):
    one Query of the sparse ``held`` index (keys only), ⌈n/100⌉ BatchGetItem of the items and as
    many of their approval requests (the outbox items that say why each is held)."""
    keys = [i.enrollment_key for i in EnrollmentModel.held_index.query(district_id)]
    held: list[tuple[EnrollmentModel, Decision]] = []
    for item in batch_items(keys).values():
        if item.district_id != district_id or item.status != "held" or not item.held:
            continue  # the index is eventually consistent: the item says what is true
        action = decision_from_dict(json.loads(item.held))
        inputs = item.inputs.as_dict() if item.inputs else {}
        if _approval_input_id(item.enrollment_key, action) in inputs:
            continue  # decided here already: it stays held until the next evaluation takes it
        held.append((item, action))
    requests = [_request_id(item.enrollment_key, action) for item, action in held]
    why: dict[str, str] = {}
    for start in range(0, len(requests), BATCH_GET):
        for notice in OutboxModel.batch_get(
            requests[start : start + BATCH_GET], attributes_to_get=["notice_id", "facts"]
        ):
            reason = (notice.facts.as_dict() if notice.facts else {}).get("approval_reason")
            if reason:
                why[notice.notice_id] = str(reason)
    out = [
        ApprovalWaiting(
            ref=item.enrollment_key,
            student_id=item.student_id,
            student_name=item.student_name,
            class_id=item.class_id,
            class_title=item.class_title,
            program_id=item.program_id,
            rule_id=action.rule_id,
            title=rule_title(action.rule_id),
            requested_on=action.on,
            due_on=action.due_on,
            policy_version=action.policy_version,
            status_after=action.status_after,
            reason=why.get(_request_id(item.enrollment_key, action)),
        )
        for item, action in held
    ]
    return sorted(out, key=lambda a: (a.requested_on, a.ref))


def approve(
    district_id: str, ref: str, actor: str, reason: str | None = None, *, now: datetime | None = None
) -> Outcome:
    """Approve the held action of enrollment ``ref``: an ``approval`` input, audited."""
    return _decide(district_id, ref, actor, "approved", reason, now or utc_now())


def reject(district_id: str, ref: str, actor: str, reason: str, *, now: datetime | None = None) -> Outcome:
    """Reject the held action of enrollment ``ref`` (a reason is required), audited."""
    if not (reason or "").strip():
        raise ReasonRequired("a rejection needs a reason")
    return _decide(district_id, ref, actor, "rejected", reason, now or utc_now())


def _held_item(district_id: str, ref: str) -> tuple[EnrollmentModel, Decision] | None:
    try:
        item = EnrollmentModel.get(own_key(district_id, ref), consistent_read=True)
    except EnrollmentModel.DoesNotExist:
        return None
    if item.district_id != district_id or item.status != "held" or not item.held:
        return None
    return item, decision_from_dict(json.loads(item.held))


def _program_day(district_id: str, program_id: str, now: datetime) -> date:
    """The program's calendar date at ``now`` (one GetItem of the program)."""
    try:
        return local_today(get_program(district_id, program_id), now)
    except ProgramModel.DoesNotExist:
        return now.astimezone(UTC).date()


def _decide(
    district_id: str,
    ref: str,
    actor: str,
    decision: Literal["approved", "rejected"],
    reason: str | None,
    now: datetime,
) -> Outcome:
    found = _held_item(district_id, ref)
    if found is None:
        return Outcome("already")
    item, held = found
    note = (reason or "").strip() or None
    input_id = _approval_input_id(ref, held)
    data = Approval(rule=held.rule_id, decision=decision, by=actor, note=note)
    on = _program_day(district_id, item.program_id, now)
    stored = Input(event_id=input_id, kind="approval", on=on, at=now, data=data, class_id=item.class_id)
    # Condition: still held for this very action and not decided yet; so a second submit (or a
    # decision that arrived by webhook meanwhile and was taken) writes nothing.
    claim = Claim(
        item=EnrollmentModel(enrollment_key=item.enrollment_key),
        actions=[
            EnrollmentModel.inputs[input_id].set(json.dumps(input_to_dict(stored))),
            EnrollmentModel.facts_seq.add(1),
            # The evaluation of the input's UTC date sees nothing yet and sets the next wake date
            # (its first day after the input); a held item has none to compare with.
            EnrollmentModel.wake_on.set(now.astimezone(UTC).date().isoformat()),
        ],
        condition=(EnrollmentModel.status == "held")
        & (EnrollmentModel.held == item.held)
        & EnrollmentModel.inputs[input_id].does_not_exist(),
    )
    who = item.student_name or item.student_id
    where = item.class_title or item.class_id
    entry = AuditEntry(
        type=f"approval.{decision}",
        actor=actor,
        summary=f"{rule_title(held.rule_id)} for {who} in {where}: {decision} by the admin"
        + (f" ({note})" if note else ""),
        on=on,
        rule_id=held.rule_id,
        policy_version=held.policy_version,
        program_id=item.program_id,
        student_id=item.student_id,
        class_id=item.class_id,
        notice_id=_request_id(item.enrollment_key, held),
        detail={"decision": decision, "reason": note, "input": input_id, "requested_on": held.on.isoformat()},
    )
    written = append_claimed(district_id, entry, claim, now)
    if written is None:
        return Outcome("already")
    return Outcome("recorded", int(written.seq), input_id)


# -- appeal windows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealWindow:
    ref: str  # the notice id of the action appealed: what record_appeal_outcome takes
    enrollment_key: str
    student_id: str
    student_name: str | None
    class_id: str | None
    rule_id: str
    title: str
    decided_on: str | None
    appeal_by: date
    policy_version: str | None


def _enrollment_of(notice_id: str) -> str:
    """The enrollment key a notice id (``{district}#{class}#{student}#{rule}#{episode}``) starts with."""
    return "#".join(notice_id.split("#")[:3])


def _appeal_outcome_id(notice_id: str) -> str:
    return _input_id("appeal", notice_id)


def open_appeal_windows(district_id: str, *, now: datetime | None = None) -> list[AppealWindow]:
    """Actions whose appeal deadline has not passed and whose outcome is not recorded, soonest
    deadline first.

    Per rule id of the district's programs, one Query of ``by_rule`` newest first, stopped at
    entries older than ``APPEAL_LOOKBACK_DAYS`` (so it costs the rule's entries of that period),
    then ⌈n/100⌉ BatchGetItem of the enrollments to see whether an outcome is recorded."""
    now = now or utc_now()
    found: list[tuple[AppealWindow, str]] = []
    for config in district_programs(district_id):
        today = local_today(config, now)
        oldest = (today - timedelta(days=APPEAL_LOOKBACK_DAYS)).isoformat()
        for rule_id in sorted(config.rules):
            for entry in AuditModel.by_rule.query(f"{district_id}#{rule_id}", scan_index_forward=False):
                if entry.on is not None and entry.on < oldest:
                    break
                if (
                    entry.type != "action.taken"
                    or entry.program_id != config.program_id
                    or not entry.notice_id
                ):
                    continue
                appeal = (detail_of(entry).get("deadlines") or {}).get("appeal")
                if not appeal or date.fromisoformat(appeal) < today:
                    continue
                enrollment = _enrollment_of(entry.notice_id)
                window = AppealWindow(
                    ref=entry.notice_id,
                    enrollment_key=enrollment,
                    student_id=entry.student_id or "",
                    student_name=None,
                    class_id=entry.class_id,
                    rule_id=rule_id,
                    title=rule_title(rule_id),
                    decided_on=entry.on,
                    appeal_by=date.fromisoformat(appeal),
                    policy_version=entry.policy_version,
                )
                found.append((window, enrollment))
    items = batch_items({e for _, e in found})
    out: list[AppealWindow] = []
    for window, enrollment in found:
        item = items.get(enrollment)
        inputs = item.inputs.as_dict() if item is not None and item.inputs else {}
        if _appeal_outcome_id(window.ref) in inputs:
            continue
        name = item.student_name if item is not None else None
        out.append(AppealWindow(**{**window.__dict__, "student_name": name}))
    return sorted(out, key=lambda w: (w.appeal_by, w.ref))


def record_appeal_outcome(
    district_id: str,
    ref: str,
    outcome: Literal["granted", "denied", "withdrawn"],
    actor: str,
    note: str,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Record the outcome of an appeal of the action ``ref`` (its notice id): an ``appeal`` input
    on the enrollment (the appeal counts against the yearly allowance), and the outcome audited
    with the admin's note. The note is required: it is the record of why."""
    now = now or utc_now()
    if not (note or "").strip():
        raise ReasonRequired("an appeal outcome needs a note")
    parts = ref.split("#")
    if len(parts) < 5:
        raise ValueError(f"not an action's notice id: {ref!r}")
    key = own_key(district_id, "#".join(parts[:3]))
    rule_id = parts[3]
    # Only an action of this district that stated an appeal deadline can be appealed.
    try:
        action = OutboxModel.get(ref, attributes_to_get=["notice_id", "district_id", "kind", "deadlines"])
    except OutboxModel.DoesNotExist as exc:
        raise NotInDistrict(ref) from exc
    if (
        action.district_id != district_id
        or action.kind != "action"
        or "appeal" not in plain(action.deadlines)
    ):
        raise NotInDistrict(ref)
    try:
        item = EnrollmentModel.get(key, consistent_read=True)
    except EnrollmentModel.DoesNotExist:
        return Outcome("already")
    if item.district_id != district_id:
        return Outcome("already")
    input_id = _appeal_outcome_id(ref)
    on = _program_day(district_id, item.program_id, now)
    stored = Input(
        event_id=input_id, kind="appeal", on=on, at=now, data=Appeal(rule=rule_id), class_id=item.class_id
    )
    claim = Claim(
        item=EnrollmentModel(enrollment_key=key),
        actions=[
            EnrollmentModel.inputs[input_id].set(json.dumps(input_to_dict(stored))),
            EnrollmentModel.facts_seq.add(1),
        ],
        condition=EnrollmentModel.enrollment_key.exists() & EnrollmentModel.inputs[input_id].does_not_exist(),
    )
    who = item.student_name or item.student_id
    where = item.class_title or item.class_id
    entry = AuditEntry(
        type="appeal.outcome",
        actor=actor,
        summary=f"Appeal of {rule_title(rule_id)} for {who} in {where}: {outcome}",
        on=on,
        rule_id=rule_id,
        program_id=item.program_id,
        student_id=item.student_id,
        class_id=item.class_id,
        notice_id=ref,
        detail={"outcome": outcome, "note": note.strip(), "input": input_id},
    )
    written = append_claimed(district_id, entry, claim, now)
    if written is None:
        return Outcome("already")
    # An appeal is student-wide (STUDENT_WIDE_KINDS): the student's other enrollments take it as
    # ingest would give it to them (idempotent: keyed by the input's id).
    store_input(district_id, item.student_id, stored)
    return Outcome("recorded", int(written.seq), input_id)


# -- quarantine and data alerts -----------------------------------------------------------------


@dataclass(frozen=True)
class QuarantinedEvent:
    event_id: str
    source: str
    kind: str
    received_at: str
    occurred_at: str
    student_ref: str  # the LMS's reference as received (not on the roster: that is the point)
    class_ref: str
    reason: str | None


def quarantined_events(district_id: str, *, limit: int = 100) -> list[QuarantinedEvent]:
    """Events that map to nobody yet, newest first: one Query of the sparse ``unmatched`` index."""
    out: list[QuarantinedEvent] = []
    for item in RawEventModel.unmatched_index.query(district_id, scan_index_forward=False, limit=limit):
        out.append(
            QuarantinedEvent(
                event_id=item.event_id,
                source=item.source,
                kind=item.kind,
                received_at=item.received_at,
                occurred_at=item.occurred_at,
                student_ref=item.student_id,
                class_ref=item.class_id,
                reason=item.reason,
            )
        )
    return out


@dataclass(frozen=True)
class DataAlert:
    seq: int
    on: str | None
    enrollment_key: str | None
    student_id: str | None
    student_name: str | None
    class_id: str | None
    value: str | None  # the value the LMS never reported
    needed_by: list[str] = field(default_factory=list)
    open: bool = True


def data_alerts(district_id: str, *, limit: int = 200) -> list[DataAlert]:
    """``data.missing`` alerts, open ones first (newest first within each): one Query of
    ``by_rule`` (``{district}#data.missing``, newest first, ``limit`` decisions) and ⌈n/100⌉
    BatchGetItem of their enrollments. Open: the enrollment is live and the value is still
    missing on it (for ``percent_complete``, checked on the item; other values stay open while
    the enrollment is live)."""
    entries: list[AuditModel] = []
    for entry in AuditModel.by_rule.query(f"{district_id}#{DATA_MISSING}", scan_index_forward=False):
        if entry.type != "notice.decided":
            continue
        entries.append(entry)
        if len(entries) >= limit:
            break
    keys = {_enrollment_of(e.notice_id) for e in entries if e.notice_id}
    items = batch_items(keys)
    out: list[DataAlert] = []
    for entry in entries:
        detail = detail_of(entry)
        facts: dict[str, Any] = detail.get("facts") or {}
        key = _enrollment_of(entry.notice_id) if entry.notice_id else None
        item = items.get(key) if key else None
        value = facts.get("missing_value")
        is_open = item is not None and item.status in LIVE
        if is_open and value == "percent_complete" and item is not None and item.percent_complete is not None:
            is_open = False
        needed = facts.get("needed_by") or []
        out.append(
            DataAlert(
                seq=int(entry.seq),
                on=entry.on,
                enrollment_key=key,
                student_id=entry.student_id,
                student_name=item.student_name if item is not None else None,
                class_id=entry.class_id,
                value=str(value) if value else None,
                needed_by=[str(n) for n in needed] if isinstance(needed, list) else [str(needed)],
                open=is_open,
            )
        )
    return sorted(out, key=lambda a: (not a.open, -a.seq))
