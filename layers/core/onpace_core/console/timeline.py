"""A student's timeline: per enrollment, what happened, in time order, with the rule behind it.

Reads (all keyed by the caller's district): the student's enrollment keys (``by_student``, keys
only) and items (BatchGetItem); the student's audit entries (``by_student`` Query, newest
first, paged); the notices those entries name (BatchGetItem of the outbox, 100 a request) for
their current status, deadlines and kept emails; the letters that carried them (one more
BatchGetItem, only when some were lettered). No Scan.

An email as sent is referenced, not loaded: ``SentEmailRef`` names the outbox item and recipient
key that ``delivery.sent_mail.kept_email`` opens. :func:`render_other_language` renders a notice
for one recipient in the other language, for display only ("rendered now, not sent").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onpace_core.console.directory import StudentHit, check_district, get_student
from onpace_core.store.models import STUDENT_SUBJECT_CLASS, AuditModel, Contact, EnrollmentModel, OutboxModel

# The enrollment facts the timeline shows, with their labels.
ACTIVITY_FACTS: tuple[tuple[str, str], ...] = (
    ("last_login_at", "last log-in"),
    ("last_view_at", "last view"),
    ("last_submission_at", "last submission"),
    ("last_discussion_post_at", "last discussion post"),
    ("last_discussion_reply_at", "last discussion reply"),
    ("last_mastery_exercise_at", "last mastery exercise"),
    ("last_forum_question_at", "last forum question"),
    ("last_instructor_message_at", "last instructor message"),
    ("last_progress_at", "last progress report"),
)
AUDIT_READ_CAP = 2_000  # a student's entries read at most (newest first)
OTHER_LANGUAGE_LABEL = "rendered now, not sent"
MAIL_FIELD = "mail"  # delivery.sent_mail.FIELD (not imported: it pulls boto3's S3 client)


@dataclass(frozen=True)
class SentEmailRef:
    """Where the email one recipient got is kept: ``kept_email(store, district, item_id, recipient_key)``."""

    item_id: str  # the notice, or the letter (a household digest) that carried it
    recipient_key: str
    role: str
    language: str
    via_letter: bool
    other_language: str | None  # a language the notice can be rendered in for display


@dataclass(frozen=True)
class TimelineEvent:
    when: str  # ISO date or UTC instant: the sort key
    kind: str  # activity | notice | action | skipped | deadline | input | audit
    title: str
    rule_id: str | None = None
    policy_version: str | None = None
    notice_id: str | None = None
    status: str | None = None
    seq: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    emails: tuple[SentEmailRef, ...] = ()


@dataclass(frozen=True)
class EnrollmentTimeline:
    enrollment_key: str
    class_id: str
    class_title: str | None
    program_id: str | None
    status: str | None
    start_date: str | None
    end_date: str | None
    percent_complete: float | None
    events: tuple[TimelineEvent, ...]


@dataclass(frozen=True)
class StudentTimeline:
    district_id: str
    student_id: str
    student: StudentHit | None
    enrollments: tuple[EnrollmentTimeline, ...]  # student-wide rules' subject is class "*"


def percent_label(fraction: float) -> str:
    """A percent complete as people read it: stored as a fraction (ingest divides the LMS's
    percent by 100), shown as ``"5 %"``."""
    return f"{fraction * 100:g} %"


def _plain(value: Any) -> dict[str, Any]:
    found = value.as_dict() if hasattr(value, "as_dict") else value
    return dict(found) if isinstance(found, Mapping) else {}


def _enrollments(district_id: str, student_id: str) -> list[EnrollmentModel]:
    keys = [item.enrollment_key for item in EnrollmentModel.by_student.query(f"{district_id}#{student_id}")]
    items = list(EnrollmentModel.batch_get(keys)) if keys else []
    # The index is keyed by district already; the items are checked too, never trusted by key alone.
    return sorted((i for i in items if i.district_id == district_id), key=lambda i: i.enrollment_key)


def _entries(district_id: str, student_id: str) -> list[AuditModel]:
    found = AuditModel.by_student.query(f"{district_id}#{student_id}", scan_index_forward=False)
    out: list[AuditModel] = []
    for item in found:
        out.append(item)
        if len(out) >= AUDIT_READ_CAP:
            break
    return out


def _batch(model: type[Any], keys: Iterable[str]) -> dict[str, Any]:
    wanted = sorted(set(keys))
    return {item.notice_id: item for item in model.batch_get(wanted)} if wanted else {}


def _other_language(language: str) -> str:
    return "es" if language == "en" else "en"


def _email_refs(notice: OutboxModel, letters: Mapping[str, OutboxModel]) -> tuple[SentEmailRef, ...]:
    deliveries = _plain(notice.deliveries)
    refs: list[SentEmailRef] = []
    for index, recipient in enumerate(notice.recipients or []):
        entry = deliveries.get(f"r{index}")
        if not isinstance(entry, Mapping):
            continue
        language = recipient.language or notice.language or "en"
        if isinstance(entry.get(MAIL_FIELD), str):
            refs.append(
                SentEmailRef(
                    notice.notice_id, f"r{index}", recipient.role, language, False, _other_language(language)
                )
            )
            continue
        letter = letters.get(str(entry.get("letter") or ""))
        if letter is not None:
            letter_entry = _plain(letter.deliveries).get("r0")
            if isinstance(letter_entry, Mapping) and isinstance(letter_entry.get(MAIL_FIELD), str):
                # A digest carries several notices: it is shown as sent, not re-rendered.
                refs.append(SentEmailRef(letter.notice_id, "r0", recipient.role, language, True, None))
    return tuple(refs)


def _notice_events(
    entry: AuditModel, notice: OutboxModel | None, letters: Mapping[str, OutboxModel]
) -> list[TimelineEvent]:
    kind = notice.kind if notice is not None else entry.type.split(".")[0]
    events = [
        TimelineEvent(
            when=entry.on or entry.at,
            kind=kind if kind in ("notice", "action", "skipped") else "notice",
            title=entry.summary,
            rule_id=entry.rule_id,
            policy_version=entry.policy_version,
            notice_id=entry.notice_id,
            status=notice.status if notice is not None else None,
            seq=int(entry.seq),
            detail={
                "facts": _plain(notice.facts) if notice is not None else {},
                "language": notice.language if notice is not None else None,
                "due_on": notice.due_on if notice is not None else None,
            },
            emails=_email_refs(notice, letters) if notice is not None else (),
        )
    ]
    if notice is not None:
        for name, day in sorted(_plain(notice.deadlines).items()):
            events.append(
                TimelineEvent(
                    when=str(day),
                    kind="deadline",
                    title=name,
                    rule_id=notice.rule_id,
                    policy_version=notice.policy_version,
                    notice_id=notice.notice_id,
                    seq=int(entry.seq),
                )
            )
    return events


_DECISION_TYPES = frozenset({"notice.decided", "action.taken", "notice.skipped"})


def student_timeline(district_id: str, student_id: str) -> StudentTimeline:
    """Everything the console shows of one student of ``district_id``, per enrollment, oldest
    first (see the module's docstring for what it reads)."""
    check_district(district_id)
    items = _enrollments(district_id, student_id)
    entries = _entries(district_id, student_id)
    notices = _batch(OutboxModel, (e.notice_id for e in entries if e.notice_id))
    notices = {k: v for k, v in notices.items() if v.district_id == district_id}
    letter_ids = {
        str(entry["letter"])
        for n in notices.values()
        for entry in _plain(n.deliveries).values()
        if isinstance(entry, Mapping) and entry.get("letter")
    }
    letters = {k: v for k, v in _batch(OutboxModel, letter_ids).items() if v.district_id == district_id}
    by_class: dict[str, list[TimelineEvent]] = {i.class_id: [] for i in items}
    for item in items:
        events = by_class[item.class_id]
        for attribute, label in ACTIVITY_FACTS:
            value = getattr(item, attribute)
            if value:
                events.append(TimelineEvent(when=str(value), kind="activity", title=label))
        if item.percent_complete is not None:
            events.append(
                TimelineEvent(
                    when=str(item.percent_at or item.start_date),
                    kind="activity",
                    title=f"{percent_label(float(item.percent_complete))} complete",
                    detail={"percent": float(item.percent_complete)},
                )
            )
        for raw in _plain(item.inputs).values():
            data = json.loads(raw) if isinstance(raw, str) else _plain(raw)
            events.append(
                TimelineEvent(
                    when=str(data.get("on") or data.get("at") or ""),
                    kind="input",
                    title=str(data.get("kind") or "input"),
                    detail=data.get("data") or {},
                )
            )
    for entry in entries:
        class_id = entry.class_id or STUDENT_SUBJECT_CLASS
        events = by_class.setdefault(class_id, [])
        if entry.type in _DECISION_TYPES and entry.notice_id:
            events.extend(_notice_events(entry, notices.get(entry.notice_id), letters))
        else:
            # Deliveries, escalations, appeals and approvals recorded, roster changes: as audited.
            events.append(
                TimelineEvent(
                    when=entry.at,
                    kind="audit",
                    title=entry.summary,
                    rule_id=entry.rule_id,
                    policy_version=entry.policy_version,
                    notice_id=entry.notice_id,
                    status=entry.type,
                    seq=int(entry.seq),
                )
            )
    stored = {i.class_id: i for i in items}
    timelines = []
    for class_id in sorted(by_class, key=lambda c: (c == STUDENT_SUBJECT_CLASS, c)):
        found = stored.get(class_id)
        timelines.append(
            EnrollmentTimeline(
                enrollment_key=f"{district_id}#{class_id}#{student_id}",
                class_id=class_id,
                class_title=found.class_title if found else None,
                program_id=found.program_id if found else None,
                status=found.status if found else None,
                start_date=found.start_date if found else None,
                end_date=found.end_date if found else None,
                percent_complete=float(found.percent_complete)
                if found and found.percent_complete is not None
                else None,
                # Time order; a day sorts before the instants of that day, then by audit order.
                events=tuple(sorted(by_class[class_id], key=lambda e: (e.when, e.seq or 0))),
            )
        )
    return StudentTimeline(district_id, student_id, get_student(district_id, student_id), tuple(timelines))


@dataclass(frozen=True)
class OtherLanguageEmail:
    subject: str
    text: str
    html: str
    language: str
    label: str = OTHER_LANGUAGE_LABEL


def render_other_language(
    district_id: str,
    notice_id: str,
    recipient_key: str,
    templates_dir: Path,
    locales_dir: Path | None = None,
) -> OtherLanguageEmail | None:
    """The notice as ``recipient_key`` would read it in the other language (English <-> Spanish),
    rendered now from the stored notice with the notify function's templates: for display next to
    the email as sent, never sent. None for a notice of another district, a letter or a missing
    recipient. One GetItem of the notice."""
    from onpace_core.notices.render import render  # the renderer loads Jinja and the catalogues

    try:
        notice = OutboxModel.get(notice_id)
    except OutboxModel.DoesNotExist:
        return None
    if notice.district_id != district_id or notice.kind == "letter":
        return None
    index = int(recipient_key[1:]) if recipient_key[:1] == "r" and recipient_key[1:].isdigit() else -1
    recipients = list(notice.recipients or [])
    if not 0 <= index < len(recipients):
        return None
    recipient = recipients[index]
    other = _other_language(recipient.language or notice.language or "en")
    copy = Contact(**{**recipient.attribute_values, "language": other})
    email = render(replace_language(notice, other), copy, templates_dir, locales_dir=locales_dir)
    return OtherLanguageEmail(email.subject, email.text, email.html, email.language)


def replace_language(notice: OutboxModel, language: str) -> OutboxModel:
    """The notice with another default language (rendering reads the recipient's first)."""
    copy = OutboxModel(**notice.attribute_values)
    copy.language = language
    return copy


__all__ = [
    "EnrollmentTimeline",
    "OtherLanguageEmail",
    "SentEmailRef",
    "StudentTimeline",
    "TimelineEvent",
    "render_other_language",
    "student_timeline",
]
