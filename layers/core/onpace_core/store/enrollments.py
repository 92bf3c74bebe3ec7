"""Enrollments in DynamoDB: roster upserts, the evaluator's due query, and its bookkeeping."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from datetime import date
from typing import TYPE_CHECKING

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import decision_from_dict
from onpace_rules.facts import ACTIVITY_KINDS, EnrollmentState, RosterFacts
from onpace_rules.inputs import STUDENT_WIDE_KINDS
from onpace_rules.program import ProgramConfig
from pynamodb.exceptions import UpdateError

from onpace_core.facts.local import local_history, local_inputs, local_last_on
from onpace_core.roster.enrollments import EnrollmentRecord, roster_facts, subject_facts
from onpace_core.store.models import STUDENT_SUBJECT_CLASS, Contact, EnrollmentModel, sms_flag
from onpace_core.store.packed import stored_names

if TYPE_CHECKING:
    from onpace_rules.engine import CompiledProgram


def due_key(district_id: str, program_id: str, shard: int) -> str:
    return f"{district_id}#{program_id}#{shard:02d}"


def shard_of(enrollment_key: str, shards: int) -> int:
    return zlib.crc32(enrollment_key.encode()) % shards


def student_subjects(records: Sequence[EnrollmentRecord]) -> list[EnrollmentRecord]:
    """One record per student: the earliest enrollment's start and family contacts, and the end
    of the student's last enrollment (none while any enrollment is open-ended).

    One pass over ``records``: a district-wide pool holds every enrollment of the district.
    """
    first: dict[str, EnrollmentRecord] = {}
    ends: dict[str, list[date | None]] = {}
    for r in sorted(records, key=lambda r: (r.start_date, r.class_id)):
        first.setdefault(r.student_id, r)
        ends.setdefault(r.student_id, []).append(r.end_date)
    return [
        replace(
            r,
            class_id=STUDENT_SUBJECT_CLASS,
            class_title="",
            term_id=None,
            end_date=_last_day(ends[r.student_id]),
            contacts=tuple(c for c in r.contacts if c.role in ("student", "guardian")),
            class_grades=(),
            school_id=None,
            school_name=None,
        )
        for r in first.values()
    ]


def _last_day(ends: Sequence[date | None]) -> date | None:
    """The last of the student's end dates; None when one of them has no end."""
    if not ends or any(end is None for end in ends):
        return None
    return max(end for end in ends if end is not None)


def _has_student_rules(compiled: CompiledProgram) -> bool:
    return any(f.scope == "student" for v in compiled.versions for f in v.families)


_ROSTER_DEFAULTS = asdict(RosterFacts())


def _implied(student_address: str | None, class_title: str | None) -> dict[str, object]:
    """What a reader takes for a field the stored ``roster_facts`` leaves out: its default, or
    for the student's address and the class title what the item holds anyway (its contacts,
    its ``class_title``)."""
    # An empty title may be read back missing: both are "none" here.
    return {
        **_ROSTER_DEFAULTS,
        "student_address": student_address or None,
        "class_title": class_title or None,
    }


def roster_facts_json(
    facts: RosterFacts, student_address: str | None = None, class_title: str | None = None
) -> str:
    """``RosterFacts`` as stored on the enrollment item (dates as ISO strings), compact: fields
    a reader can tell without them are left out (``_implied``: those at their default, the
    student's address and the class title that the item holds anyway), so that the item every
    fact update rewrites stays under one write unit (docs/scale.md, "Item sizes")."""
    implied = _implied(student_address, class_title)
    data = {k: v for k, v in asdict(facts).items() if v != implied[k]}
    return json.dumps(data, separators=(",", ":"), default=lambda value: value.isoformat())


def roster_facts_from_json(
    text: str, student_address: str | None = None, class_title: str | None = None
) -> RosterFacts:
    """The stored ``RosterFacts`` (given the item's student address and class title, as
    ``roster_facts_json`` was); fields added since the item was written take their defaults."""
    implied = _implied(student_address, class_title)
    stored = json.loads(text)
    return RosterFacts.from_dict(
        {**{k: implied[k] for k in ("student_address", "class_title") if k not in stored}, **stored}
    )


def _student_address(contacts: Iterable[Contact]) -> str | None:
    """The first student contact's address: ``EnrollmentRecord.student_address`` as stored."""
    return next((c.address for c in contacts if c.role == "student"), None)


def roster_facts_of(item: EnrollmentModel) -> RosterFacts:
    """The roster facts of a stored enrollment item."""
    if not item.roster_facts:
        return RosterFacts()
    return roster_facts_from_json(item.roster_facts, _student_address(item.contacts or ()), item.class_title)


def _student_wide_inputs(district_id: str, student_id: str) -> dict[str, str]:
    """The student-wide inputs the student's items already hold (``inputs.STUDENT_WIDE_KINDS``).

    They reach every item of the student that exists when they arrive; an enrollment added later
    starts with them, so a check made on its first look sees them (a disenrollment's block on
    re-enrolling in the same virtual school, last year's failed courses).
    """
    keys = [item.enrollment_key for item in EnrollmentModel.by_student.query(f"{district_id}#{student_id}")]
    found: dict[str, str] = {}
    if not keys:
        return found
    projection = stored_names(EnrollmentModel.get_attributes(), ["enrollment_key", "inputs"])
    for item in EnrollmentModel.batch_get(keys, attributes_to_get=projection):
        for event_id, raw in (item.inputs.as_dict() if item.inputs else {}).items():
            if json.loads(str(raw)).get("kind") in STUDENT_WIDE_KINDS:
                found[str(event_id)] = str(raw)
    return found


# What a roster load sets on an enrollment item and compares on a reload (``_roster_view``).
_ROSTER_VIEW = (
    "district_id",
    "program_id",
    "class_id",
    "class_title",
    "student_id",
    "student_name",
    "student_key",
    "term_id",
    "start_date",
    "end_date",
    "contacts",
    "roster_facts",
    "scope",
)
# What a reload reads back: those, and ``status`` and ``due_key`` (an item without them, or an
# ended one, is written again). Engine state and facts are not read: a load leaves them alone.
_ROSTER_ATTRIBUTES = stored_names(
    EnrollmentModel.get_attributes(), ["enrollment_key", *_ROSTER_VIEW, "status", "due_key"]
)

_Contacts = tuple[tuple[str | None, ...], ...]


def _contacts(r: EnrollmentRecord) -> list[Contact]:
    return [
        Contact(
            role=c.role,
            address=c.address,
            name=c.name,
            language=c.language,
            source_id=c.source_id,
            phone=c.phone,
            sms=sms_flag(c.sms),
        )
        for c in r.contacts
    ]


def _contact_rows(contacts: Iterable[Contact]) -> _Contacts:
    # Empty and missing fields alike: the stored form keeps no empty field (``store.packed``).
    return tuple(
        (
            c.role,
            c.address,
            c.name or None,
            c.language or None,
            c.source_id or None,
            c.title or None,
            c.phone or None,
            c.sms or None,
        )
        for c in contacts
    )


def _scope(r: EnrollmentRecord) -> str | None:
    """``scope`` as stored: "student" on a student item, nothing (read as "enrollment") else."""
    return "student" if r.class_id == STUDENT_SUBJECT_CLASS else None


def _roster_view(r: EnrollmentRecord, facts_json: str) -> dict[str, object]:
    """The roster attributes of ``r`` as a stored item holds them."""
    return {
        "district_id": r.district_id,
        "program_id": r.program_id,
        "class_id": r.class_id,
        "class_title": r.class_title,
        "student_id": r.student_id,
        "student_name": r.student_name,
        "student_key": f"{r.district_id}#{r.student_id}",
        "term_id": r.term_id or None,
        "start_date": r.start_date.isoformat(),
        "end_date": r.end_date.isoformat() if r.end_date else None,
        "contacts": _contact_rows(_contacts(r)),
        "roster_facts": facts_json,
        "scope": _scope(r),
    }


def _stored_view(item: EnrollmentModel) -> dict[str, object]:
    """The same attributes of a stored item (those ``_roster_view`` names)."""
    view: dict[str, object] = {name: getattr(item, name) for name in _ROSTER_VIEW}
    view["contacts"] = _contact_rows(item.contacts or ())
    return view


def _stored_roster(keys: list[str]) -> dict[str, EnrollmentModel]:
    """The stored items of ``keys`` (those there are), roster attributes only: one consistent
    BatchGetItem per 100 keys."""
    if not keys:
        return {}
    items = EnrollmentModel.batch_get(keys, consistent_read=True, attributes_to_get=_ROSTER_ATTRIBUTES)
    return {item.enrollment_key: item for item in items}


def _unchanged(stored: EnrollmentModel | None, wanted: dict[str, object]) -> bool:
    """True when a reload would write nothing: the item is there, live or held, set up by a
    roster load, and every roster attribute is as the roster says."""
    if stored is None or stored.status == UNENROLLED or stored.due_key is None:
        return False
    return _stored_view(stored) == wanted


def upsert_enrollments(
    records: Iterable[EnrollmentRecord],
    program: ProgramConfig,
    district_records: Sequence[EnrollmentRecord] | None = None,
) -> int:
    """Write roster data; facts, engine state and status already stored are left alone.

    A new enrollment is due for its first look on its start date, and starts with the
    student-wide inputs the student's other items hold. When the program has student-wide rules,
    each student gets a subject item of its own as well: each student of the program, or — for a
    program with a rule addressed to every family of the district — each student of
    ``district_records`` (``roster.enrollments.district_enrollments``).

    What is stored is read first (one BatchGetItem per 100 items, roster attributes only), and
    only the items that are new or whose roster attributes changed are written: a daily reload
    of an unchanged roster writes nothing (docs/scale.md, "Cost"). Returns the roster records
    given.
    """
    records = list(records)
    facts = roster_facts(records)
    # The engine (every rule) is imported by the first load, not at a cold start.
    from onpace_rules.engine import compile_program

    compiled = compile_program(program)
    subjects: list[EnrollmentRecord] = []
    if _has_student_rules(compiled):
        pool = list(district_records) if compiled.addresses_district and district_records else records
        subjects = student_subjects(pool)
        facts.update(subject_facts(subjects, records, facts))
    everything = [*records, *subjects]
    keys = [f"{r.district_id}#{r.class_id}#{r.student_id}" for r in everything]
    stored = _stored_roster(list(dict.fromkeys(keys)))
    inherited: dict[str, dict[str, str]] = {}
    for r, key in zip(everything, keys, strict=True):
        facts_json = roster_facts_json(facts[key], r.student_address, r.class_title)
        if _unchanged(stored.get(key), _roster_view(r, facts_json)):
            continue
        # Only a new item takes the student's student-wide inputs (``if_not_exists`` below).
        if key not in stored and r.student_id not in inherited:
            inherited[r.student_id] = _student_wide_inputs(r.district_id, r.student_id)
        item = EnrollmentModel(enrollment_key=key)
        item.update(
            actions=[
                EnrollmentModel.district_id.set(r.district_id),
                EnrollmentModel.program_id.set(r.program_id),
                EnrollmentModel.class_id.set(r.class_id),
                EnrollmentModel.class_title.set(r.class_title),
                EnrollmentModel.student_id.set(r.student_id),
                EnrollmentModel.student_name.set(r.student_name),
                EnrollmentModel.student_key.set(f"{r.district_id}#{r.student_id}"),
                EnrollmentModel.term_id.set(r.term_id) if r.term_id else EnrollmentModel.term_id.remove(),
                EnrollmentModel.start_date.set(r.start_date.isoformat()),
                EnrollmentModel.end_date.set(r.end_date.isoformat())
                if r.end_date
                else EnrollmentModel.end_date.remove(),
                EnrollmentModel.contacts.set(_contacts(r)),
                EnrollmentModel.roster_facts.set(facts_json),
                EnrollmentModel.scope.set("student") if _scope(r) else EnrollmentModel.scope.remove(),
                EnrollmentModel.inputs.set(EnrollmentModel.inputs | inherited.get(r.student_id, {})),
                EnrollmentModel.status.set(EnrollmentModel.status | "active"),
                EnrollmentModel.fired.set(EnrollmentModel.fired | {}),
                EnrollmentModel.due_key.set(
                    EnrollmentModel.due_key
                    | due_key(r.district_id, r.program_id, shard_of(key, program.evaluation_shards))
                ),
                EnrollmentModel.wake_on.set(EnrollmentModel.wake_on | r.start_date.isoformat()),
                EnrollmentModel.activity_log.set(EnrollmentModel.activity_log | {}),
            ]
        )
        if item.status == UNENROLLED:
            _reenroll(key, r.start_date)
    return len(records)


# The status of an enrollment the roster no longer has (onpace_rules.kinds.EnrollmentStatus).
UNENROLLED = "unenrolled"


def _reenroll(key: str, start: date) -> None:
    """An enrollment the roster had ended is back: live again, looked at from its start date
    (the evaluator goes on from the day it last checked)."""
    try:
        EnrollmentModel(enrollment_key=key).update(
            actions=[
                EnrollmentModel.status.set("active"),
                EnrollmentModel.wake_on.set(start.isoformat()),
                EnrollmentModel.facts_seq.add(1),
            ],
            condition=EnrollmentModel.status == UNENROLLED,
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def end_enrollments(keys: Iterable[str]) -> list[str]:
    """End each live enrollment (or student item) of ``keys``: status ``unenrolled`` and no wake
    date, so the evaluator never looks at it again and nothing wakes it (activity and inputs
    wake live enrollments only). One already ended, or not stored, is left alone. Returns the
    keys ended."""
    live = EnrollmentModel.status.is_in("active", "held") | EnrollmentModel.status.does_not_exist()
    ended: list[str] = []
    for key in dict.fromkeys(keys):
        try:
            EnrollmentModel(enrollment_key=key).update(
                actions=[
                    EnrollmentModel.status.set(UNENROLLED),
                    EnrollmentModel.wake_on.remove(),
                    EnrollmentModel.facts_seq.add(1),
                ],
                condition=EnrollmentModel.enrollment_key.exists() & live,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue
            raise
        ended.append(key)
    return ended


def student_item_keys(district_id: str, student_id: str) -> list[str]:
    """The keys of every item of the student (enrollments and the student item), by index."""
    return [item.enrollment_key for item in EnrollmentModel.by_student.query(f"{district_id}#{student_id}")]


def live_program_keys(district_id: str, program_ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """Key -> (class id, student id, program id) of every live item of the programs.

    A Scan with a filter: the table has no index by program that holds every live item (the due
    index drops those with nothing scheduled, which activity could still wake). A bulk roster
    load runs it once a day at most; an index by program is the way out if tables grow large.
    """
    wanted = list(program_ids)
    if not wanted:
        return {}
    live = EnrollmentModel.status.is_in("active", "held") | EnrollmentModel.status.does_not_exist()
    condition = (
        (EnrollmentModel.district_id == district_id) & EnrollmentModel.program_id.is_in(*wanted) & live
    )
    return {
        item.enrollment_key: (item.class_id, item.student_id, item.program_id)
        for item in EnrollmentModel.scan(
            filter_condition=condition,
            attributes_to_get=stored_names(
                EnrollmentModel.get_attributes(), ["enrollment_key", "class_id", "student_id", "program_id"]
            ),
        )
    }


def bring_wake_forward(key: str, day: date) -> bool:
    """Move a live enrollment's wake date to ``day`` when it is later or unset; False otherwise."""
    live = EnrollmentModel.status.is_in("active", "held") | EnrollmentModel.status.does_not_exist()
    earlier = EnrollmentModel.wake_on.does_not_exist() | (EnrollmentModel.wake_on > day.isoformat())
    try:
        EnrollmentModel(enrollment_key=key).update(
            actions=[EnrollmentModel.wake_on.set(day.isoformat()), EnrollmentModel.facts_seq.add(1)],
            condition=EnrollmentModel.enrollment_key.exists() & live & earlier,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _end_date(item: EnrollmentModel) -> date | None:
    """The roster's end date, or a granted extension's when that is later."""
    end = date.fromisoformat(item.end_date) if item.end_date else None
    extended = date.fromisoformat(item.extended_end_date) if item.extended_end_date else None
    if extended is not None and (end is None or extended > end):
        return extended
    return end


def to_state(item: EnrollmentModel, calendar: ProgramCalendar) -> EnrollmentState:
    """The engine's view of a stored enrollment: instants become program-local dates (``facts.local``)."""
    last: dict[str, str | None] = {kind: getattr(item, f"last_{kind}_at") for kind in ACTIVITY_KINDS}
    fired = {k: date.fromisoformat(v) for k, v in (item.fired.as_dict() if item.fired else {}).items()}
    inputs = local_inputs((item.inputs.as_dict() if item.inputs else {}).values(), calendar)
    history = local_history((item.activity_log.as_dict() if item.activity_log else {}).values(), calendar)
    return EnrollmentState(
        key=item.enrollment_key,
        start_date=date.fromisoformat(item.start_date),
        status=item.status,  # type: ignore[arg-type]
        term_id=item.term_id,
        last_on=local_last_on(last, calendar),
        percent_complete=float(item.percent_complete) if item.percent_complete is not None else None,
        fired=fired,
        checked_through=date.fromisoformat(item.checked_through) if item.checked_through else None,
        end_date=_end_date(item),
        student_id=item.student_id,
        class_id=None if item.scope == "student" else item.class_id,
        scope="student" if item.scope == "student" else "enrollment",
        inputs=inputs,
        roster=roster_facts_of(item),
        held=decision_from_dict(json.loads(item.held)) if item.held else None,
        history_on=history,
    )
