"""Evidence packet: for one student and course, the program and policy in force, the facts, every
notice with its delivery status, actions, appeals, approvals and deadlines — the structure the
HTML view renders — and the same as a PDF (``packet_pdf``).

Reads: one GetItem of the enrollment, one Query of the district's Programs partition, one Query
of the audit log's ``by_student`` index (1 MB pages), ⌈n/100⌉ BatchGetItem of the notices'
outbox items for their current delivery status.

Policy text: the program file's settings of each rule in force (its thresholds and windows, by
version), each rule's catalogue title, the program's source document (``source``, a file of
``shared/seeds``); the source sentences themselves are in ``docs/policies.md``, which the
deployed functions do not carry, so the packet names the document rather than quoting it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from onpace_rules.inputs import input_from_dict
from onpace_rules.program import ProgramConfig
from onpace_rules.titles import rule_title

from onpace_core.audit.log import AuditModel, iso_instant, utc_now
from onpace_core.console.common import (
    BATCH_GET,
    NotInDistrict,
    detail_of,
    student_entries,
)
from onpace_core.console.timeline import percent_label
from onpace_core.delivery.evidence import plain
from onpace_core.facts.fold import enrollment_key
from onpace_core.store.models import EnrollmentModel, OutboxModel, ProgramModel
from onpace_core.store.programs import get_program

DECISION_TYPES = ("notice.decided", "action.taken", "notice.skipped")
FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"


@dataclass(frozen=True)
class RuleText:
    rule_id: str
    title: str
    settings: dict[str, Any]
    approval: str  # automatic | needs_approval


@dataclass(frozen=True)
class PolicyInForce:
    version: str
    effective: str | None  # None: the base version
    note: str | None
    rules: list[RuleText]


@dataclass(frozen=True)
class RecipientStatus:
    role: str
    address: str
    sent: str  # sent | failed | suppressed | lettered | sending | not sent
    tracking: str | None  # delivered | bounced | complained | rejected | delayed (SES events)
    at: str | None


@dataclass(frozen=True)
class NoticeRecord:
    notice_id: str
    rule_id: str
    title: str
    kind: str  # notice | action | skipped
    decided_on: str | None
    due_on: str | None
    policy_version: str | None
    status: str  # the outbox item's status (or "unknown" when it is gone)
    deadlines: dict[str, str]
    facts: dict[str, Any]
    recipients: list[RecipientStatus]
    reason: str | None


@dataclass(frozen=True)
class Event:
    seq: int
    at: str
    on: str | None
    type: str
    actor: str
    summary: str


@dataclass
class Packet:
    district_id: str
    student_id: str
    student_name: str | None
    class_id: str
    class_title: str | None
    program_id: str
    program_name: str
    source: str
    time_zone: str
    generated_at: str
    status: str
    facts: dict[str, Any]
    policies: list[PolicyInForce]
    notices: list[NoticeRecord] = field(default_factory=list)
    actions: list[NoticeRecord] = field(default_factory=list)
    appeals: list[Event] = field(default_factory=list)
    approvals: list[Event] = field(default_factory=list)
    deadlines: list[tuple[str, str, str]] = field(default_factory=list)  # (date, name, rule id)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _policies(config: ProgramConfig) -> list[PolicyInForce]:
    notes = {v.version: v.note for v in config.versions}
    out = []
    for effective, versioned in config.versioned():
        rules = [
            RuleText(r, rule_title(r), dict(settings), config.approvals.get(r, "automatic"))
            for r, settings in sorted(versioned.rules.items())
        ]
        label = versioned.policy_version
        out.append(
            PolicyInForce(label, effective.isoformat() if effective else None, notes.get(label), rules)
        )
    return out


def _facts(item: EnrollmentModel) -> dict[str, Any]:
    found: dict[str, Any] = {
        "start_date": item.start_date,
        "end_date": item.extended_end_date or item.end_date,
        "term": item.term_id,
        "percent_complete": (
            percent_label(float(item.percent_complete)) if item.percent_complete is not None else None
        ),
        "percent_reported_at": item.percent_at,
        "checked_through": item.checked_through,
    }
    for name in sorted(EnrollmentModel.get_attributes()):
        if name.startswith("last_") and name.endswith("_at"):
            found[name] = getattr(item, name)
    return found


def _recipients(notice: OutboxModel) -> list[RecipientStatus]:
    deliveries = plain(notice.deliveries)
    out = []
    for index, contact in enumerate(notice.recipients or []):
        entry = deliveries.get(f"r{index}") or {}
        tracking = entry.get("tracking") or {}
        out.append(
            RecipientStatus(
                role=contact.role,
                address=contact.address or "",
                sent=str(entry.get("status") or "not sent"),
                tracking=str(tracking["status"]) if tracking.get("status") else None,
                at=tracking.get("at") or entry.get("at"),
            )
        )
    return out


def _event(entry: AuditModel) -> Event:
    return Event(int(entry.seq), entry.at, entry.on, entry.type, entry.actor, entry.summary)


def evidence_packet(
    district_id: str, student_id: str, class_id: str, *, now: datetime | None = None
) -> Packet:
    """The packet of ``student_id`` in ``class_id``; ``NotInDistrict`` when the district has no
    such enrollment."""
    if "#" in student_id or "#" in class_id:
        raise NotInDistrict(student_id)
    try:
        item = EnrollmentModel.get(enrollment_key(district_id, class_id, student_id))
    except EnrollmentModel.DoesNotExist as exc:
        raise NotInDistrict(student_id) from exc
    if item.district_id != district_id:
        raise NotInDistrict(student_id)
    try:
        config = get_program(district_id, item.program_id)
    except ProgramModel.DoesNotExist as exc:
        raise NotInDistrict(item.program_id) from exc
    inputs = sorted(
        (input_from_dict(json.loads(raw)) for raw in (item.inputs.as_dict() if item.inputs else {}).values()),
        key=lambda i: (i.at, i.event_id),
    )
    packet = Packet(
        district_id=district_id,
        student_id=student_id,
        student_name=item.student_name,
        class_id=class_id,
        class_title=item.class_title,
        program_id=config.program_id,
        program_name=config.name,
        source=config.source,
        time_zone=config.time_zone,
        generated_at=iso_instant(now or utc_now()),
        status=item.status,
        facts=_facts(item),
        policies=_policies(config),
        inputs=[
            {
                "kind": i.kind,
                "at": i.at.isoformat(),
                "data": i.data.model_dump(mode="json"),
                "event_id": i.event_id,
            }
            for i in inputs
        ],
    )
    decisions: list[AuditModel] = []
    for entry in student_entries(district_id, student_id):
        # Student-wide entries (class "*" or none) belong in every course's packet.
        if entry.class_id not in (class_id, None, "*"):
            continue
        packet.events.append(_event(entry))
        if entry.type in DECISION_TYPES and entry.notice_id:
            decisions.append(entry)
        elif entry.type.startswith("appeal."):
            packet.appeals.append(_event(entry))
        elif entry.type.startswith("approval."):
            packet.approvals.append(_event(entry))
    outbox: dict[str, OutboxModel] = {}
    ids = list(dict.fromkeys(e.notice_id for e in decisions if e.notice_id))
    for start in range(0, len(ids), BATCH_GET):
        for found in OutboxModel.batch_get(ids[start : start + BATCH_GET]):
            outbox[found.notice_id] = found
    for entry in decisions:
        assert entry.notice_id is not None
        detail = detail_of(entry)
        notice = outbox.get(entry.notice_id)
        record = NoticeRecord(
            notice_id=entry.notice_id,
            rule_id=entry.rule_id or "",
            title=rule_title(entry.rule_id or ""),
            kind={"action.taken": "action", "notice.skipped": "skipped"}.get(entry.type, "notice"),
            decided_on=entry.on,
            due_on=detail.get("due_on"),
            policy_version=entry.policy_version,
            status=notice.status if notice is not None else "unknown",
            deadlines={k: str(v) for k, v in (detail.get("deadlines") or {}).items()},
            facts=dict(detail.get("facts") or {}),
            recipients=_recipients(notice) if notice is not None else [],
            reason=detail.get("reason"),
        )
        (packet.actions if record.kind == "action" else packet.notices).append(record)
        packet.deadlines.extend((d, name, record.rule_id) for name, d in record.deadlines.items())
    packet.deadlines.sort()
    return packet


# -- PDF ------------------------------------------------------------------------------------------


@cache
def _covered() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(FONT)).getBestCmap())


def printable(text: str) -> str:
    """``text`` with every character the font has no glyph for written as ``[U+XXXX]``: a name
    in a script DejaVu Sans lacks (CJK, say) stays legible as code points instead of vanishing."""
    covered = _covered()
    return "".join(c if ord(c) in covered or c in "\n\t" else f"[U+{ord(c):04X}]" for c in text)


def packet_pdf(packet: Packet) -> bytes:
    """The packet as a PDF (fpdf2, DejaVu Sans shipped beside this module: docs/operations.md,
    "Evidence packet")."""
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    pdf.set_title(printable(f"Evidence packet: {packet.student_name or packet.student_id}"))
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.set_font("DejaVu", size=13)
        pdf.ln(2)
        pdf.multi_cell(0, 7, printable(text), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font("DejaVu", size=9)

    def line(text: str) -> None:
        pdf.multi_cell(0, 4.5, printable(text), new_x="LMARGIN", new_y="NEXT", align="L")

    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(
        0,
        8,
        printable(f"Evidence packet — {packet.student_name or packet.student_id}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("DejaVu", size=9)
    line(f"Student id: {packet.student_id}   Course: {packet.class_title or ''} ({packet.class_id})")
    line(f"Program: {packet.program_name} ({packet.program_id}), time zone {packet.time_zone}")
    line(f"Enrollment status: {packet.status}   Generated: {packet.generated_at}")

    heading("Policy in force")
    line(f"Source document: {packet.source}")
    for policy in packet.policies:
        since = f"effective {policy.effective}" if policy.effective else "base version"
        line(f"Version {policy.version} ({since})" + (f": {policy.note}" if policy.note else ""))
        for rule in policy.rules:
            settings = ", ".join(f"{k}={v}" for k, v in sorted(rule.settings.items())) or "defaults"
            line(f"  • {rule.rule_id} — {rule.title} [{rule.approval}]: {settings}")

    heading("Facts")
    for name, value in packet.facts.items():
        if value is not None:
            line(f"{name}: {value}")
    for given in packet.inputs:
        line(f"input {given['kind']} at {given['at']}: {json.dumps(given['data'], ensure_ascii=False)}")

    for title, records in (("Notices", packet.notices), ("Actions", packet.actions)):
        heading(title)
        if not records:
            line("none")
        for record in records:
            line(
                f"{record.decided_on}  {record.rule_id} — {record.title} ({record.kind}, policy "
                f"{record.policy_version}): {record.status}" + (f"; {record.reason}" if record.reason else "")
            )
            for name, day in record.deadlines.items():
                line(f"    deadline {name}: {day}")
            for r in record.recipients:
                tracked = f", {r.tracking}" if r.tracking else ""
                line(f"    to {r.role} {r.address}: {r.sent}{tracked}" + (f" ({r.at})" if r.at else ""))

    for title, events in (("Appeals", packet.appeals), ("Approvals", packet.approvals)):
        heading(title)
        if not events:
            line("none")
        for event in events:
            line(f"{event.at}  {event.summary} (by {event.actor})")

    heading("Deadlines")
    if not packet.deadlines:
        line("none")
    for day, name, rule_id in packet.deadlines:
        line(f"{day}  {name} ({rule_id})")

    heading("Audit entries")
    for event in packet.events:
        line(f"#{event.seq} {event.at} {event.type}: {event.summary}")
    return bytes(pdf.output())
