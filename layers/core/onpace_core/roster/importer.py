"""Import a read roster into the enrollments table: the one function behind ``onpace load
roster`` and the S3 import.

- Enrollments of the programs' classes are upserted (roster fields replaced; facts, engine
  state and status kept; one the roster had ended comes back to life).
- Deletions end enrollments (status ``unenrolled``, no wake date): a ``tobedeleted`` enrollment;
  every item of a ``tobedeleted`` user; every enrollment of a ``tobedeleted`` class.
- When ``enrollments.csv`` is a bulk file, a live enrollment of the programs that the export no
  longer lists is ended too — except one whose row the export has but could not read (it is
  kept as stored and reported). A delta ends only what it deletes.
- Bad rows are left out and listed; the good rows are imported; one ``roster.loaded`` audit
  entry carries the summary and the bad rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from onpace_rules.program import ProgramConfig

from onpace_core.audit.log import AuditEntry, append
from onpace_core.console.directory import sync_directory
from onpace_core.ingest.service import load_identities
from onpace_core.roster.enrollments import EnrollmentRecord, collect_enrollments, district_enrollments
from onpace_core.roster.identities import identity_rows
from onpace_core.roster.oneroster import Roster
from onpace_core.roster.rows import RowProblem
from onpace_core.store.enrollments import (
    end_enrollments,
    live_program_keys,
    student_item_keys,
    upsert_enrollments,
)
from onpace_core.store.models import STUDENT_SUBJECT_CLASS, EnrollmentModel
from onpace_core.store.packed import stored_names
from onpace_core.store.programs import config_sha256

Progress = Callable[[str], None]
# An audit item must stay under DynamoDB's 400 KB: the lists in it stop at this size, and the
# entry says how many were left out (the command prints them all).
AUDIT_DETAIL_BUDGET = 300_000


LIVE_STATUSES = frozenset({"active", "held", None})
# A bulk load that would end more than this share of the live enrollments (and more than the
# floor) ends none of them, and says so: the export is more likely cut short than the district
# emptied. ``import_roster(max_end_fraction=None)`` allows it.
MAX_END_FRACTION = 0.25
MASS_ENDING_FLOOR = 10


class NothingToImportError(ValueError):
    """No student enrollment of the export belongs to the programs given: nothing was written."""


@dataclass(frozen=True)
class NoContact:
    """A student enrollment with no address to write to (neither the student's nor a guardian's)."""

    enrollment_key: str
    class_id: str
    student_id: str


@dataclass(frozen=True)
class RosterImport:
    source: str
    version: str
    modes: dict[str, str]
    rows_read: dict[str, int]
    upserted: dict[str, int]  # program key -> enrollments upserted
    ended: dict[str, str]  # enrollment key -> why it ended
    problems: tuple[RowProblem, ...]
    no_contact: tuple[NoContact, ...]
    other_schools: int  # student enrollments of the export that belong to no program given
    bulk_ending: str  # what a bulk load did about enrollments it no longer lists
    audit_seq: int | None = None
    kept_unread: int = 0  # stored enrollments a bulk load kept because their row was unreadable
    unplaced: int = 0  # the last ``problems``: enrollments with no start date (found after reading)
    files_sha256: dict[str, str] = field(default_factory=dict)
    identities_saved: int = 0  # identity map rows the roster gave (docs/ingest.md, "Identity mapping")
    reapplied: int = 0  # quarantined events that match now and were folded

    def summary(self) -> str:
        upserted = ", ".join(f"{n} for {key}" for key, n in self.upserted.items()) or "none"
        return (
            f"Roster loaded from {self.source} (OneRoster {self.version}): {upserted} upserted, "
            f"{len(self.ended)} ended, {len(self.problems)} bad row(s), "
            f"{len(self.no_contact)} enrollment(s) with no contact address, "
            f"{self.reapplied} quarantined event(s) re-applied"
        )


def _key(district_id: str, class_id: str, student_id: str) -> str:
    return f"{district_id}#{class_id}#{student_id}"


class _LiveItems:
    """The programs' live items, read (one Scan) only if a load needs them, and once."""

    def __init__(self, district_id: str, program_ids: Sequence[str]) -> None:
        self.district_id, self.program_ids = district_id, list(program_ids)
        self._found: dict[str, tuple[str, str, str]] | None = None

    def get(self) -> dict[str, tuple[str, str, str]]:
        if self._found is None:
            self._found = live_program_keys(self.district_id, self.program_ids)
        return self._found


# Enrollment key -> (why it ends, whose it is).
Ending = dict[str, tuple[str, str]]


def _deletions(roster: Roster, district_id: str, live: _LiveItems) -> Ending:
    """Everything the export's ``tobedeleted`` rows end."""
    ended: Ending = {}
    for d in roster.deleted.enrollments:
        if d.class_sourced_id in roster.deleted.classes:
            why = f"class {d.class_sourced_id} is tobedeleted"
        elif d.user_sourced_id in roster.deleted.users:
            why = f"user {d.user_sourced_id} is tobedeleted"
        else:
            why = f"enrollments.csv:{d.line}: enrollment {d.sourced_id} is tobedeleted"
        ended[_key(district_id, d.class_sourced_id, d.user_sourced_id)] = (why, d.user_sourced_id)
    for user_id in sorted(roster.deleted.users):
        for key in student_item_keys(district_id, user_id):
            ended.setdefault(key, (f"user {user_id} is tobedeleted", user_id))
    if roster.deleted.classes:
        for key, (class_id, student_id, _) in live.get().items():
            if class_id in roster.deleted.classes:
                ended.setdefault(key, (f"class {class_id} is tobedeleted", student_id))
    return ended


def _present_keys(
    district_id: str, records: Sequence[EnrollmentRecord], district: Sequence[EnrollmentRecord]
) -> set[str]:
    """Keys a load writes: its enrollments, and (generously) the student item of every student."""
    keys = {r.enrollment_key for r in records}
    keys |= {_key(district_id, STUDENT_SUBJECT_CLASS, r.student_id) for r in (*records, *district)}
    return keys


def _bulk_ends(
    roster: Roster,
    live: _LiveItems,
    present: set[str],
    unplaced: set[tuple[str, str]],
    max_end_fraction: float | None,
) -> tuple[Ending, int, str]:
    """Stored live items the bulk export no longer lists: (key -> reason, kept unread, what happened)."""
    if roster.mode("enrollments.csv") != "bulk":
        return {}, 0, "none: enrollments.csv is not a bulk file, so only deletions end enrollments"
    if not roster.enrollments_complete:
        return (
            {},
            0,
            (
                "none: some enrollments.csv rows could not be matched to a class and user, so "
                "what disappeared cannot be told; fix the bad rows and load again"
            ),
        )
    kept_back = roster.unreadable | unplaced
    kept_students = {student for _, student in kept_back}
    ended: Ending = {}
    kept = 0
    stored = live.get()
    for key, (class_id, student_id, _) in stored.items():
        if key in present:
            continue
        if (class_id, student_id) in kept_back or (
            class_id == STUDENT_SUBJECT_CLASS and student_id in kept_students
        ):
            kept += 1
            continue
        ended[key] = ("not in the bulk export", student_id)
    if max_end_fraction is None:
        return ended, kept, "enrollments no longer listed are ended"
    # A truncated export (an SIS job that stopped halfway) looks like a bulk file too: a program
    # that would lose too many of its enrollments at once loses none.
    held_back: list[str] = []
    for program_id in sorted({program for _, _, program in stored.values()}):
        mine = [k for k, (c, _, p) in stored.items() if p == program_id and c != STUDENT_SUBJECT_CLASS]
        gone = [k for k in mine if k in ended]
        if len(gone) > MASS_ENDING_FLOOR and len(gone) > max_end_fraction * len(mine):
            held_back.append(f"{program_id} would lose {len(gone)} of its {len(mine)} live enrollments")
            ended = {k: v for k, v in ended.items() if stored[k][2] != program_id}
    if held_back:
        return (
            ended,
            kept,
            (
                f"nothing ended for a program that would lose more than {max_end_fraction:.0%} at once "
                f"({'; '.join(held_back)}); if that is right, load it again allowing mass ending"
            ),
        )
    return ended, kept, "enrollments no longer listed are ended"


def _end_orphaned_student_items(
    district_id: str, students: set[str], ended: Mapping[str, str]
) -> dict[str, str]:
    """A student whose last live enrollment just ended has a student item (student-wide rules)
    with nothing left to follow: it ends too."""
    orphaned: list[str] = []
    for student_id in sorted(students):
        keys = student_item_keys(district_id, student_id)
        subject = _key(district_id, STUDENT_SUBJECT_CLASS, student_id)
        if subject not in keys or subject in ended:
            continue
        others = [k for k in keys if k != subject]
        projection = stored_names(EnrollmentModel.get_attributes(), ["enrollment_key", "status"])
        items = EnrollmentModel.batch_get(others, attributes_to_get=projection)
        statuses = {item.enrollment_key: item.status for item in items}
        if all(statuses.get(k) not in LIVE_STATUSES for k in others):
            orphaned.append(subject)
    return dict.fromkeys(end_enrollments(orphaned), "the student has no live enrollment left")


def _no_contact(records: Sequence[EnrollmentRecord]) -> tuple[NoContact, ...]:
    return tuple(
        NoContact(r.enrollment_key, r.class_id, r.student_id)
        for r in records
        if not any(c.address for c in r.contacts if c.role in ("student", "guardian"))
    )


def _budgeted(items: Sequence[Mapping[str, object]], budget: int) -> tuple[list[Mapping[str, object]], int]:
    kept: list[Mapping[str, object]] = []
    used = 0
    for item in items:
        used += len(json.dumps(item, default=str)) + 2
        if used > budget:
            return kept, len(items) - len(kept)
        kept.append(item)
    return kept, 0


def _check_importable(
    roster: Roster, configs: Sequence[ProgramConfig], records: Sequence[EnrollmentRecord]
) -> None:
    deletes = roster.deleted.enrollments or roster.deleted.users or roster.deleted.classes
    # A delta may change nothing of the programs' (a new teacher's row); a bulk export that
    # gives them nothing is the wrong export, or the wrong programs.
    if not records and not deletes and roster.mode("enrollments.csv") == "bulk":
        orgs = ", ".join(sorted({o for c in configs for o in c.org_ids})) or "(none: every class)"
        raise NothingToImportError(
            f"{roster.label}: no student enrollment belongs to the program(s) given (their org_ids: {orgs})"
        )


def check_importable(roster: Roster, configs: Sequence[ProgramConfig]) -> None:
    """Raise ``NothingToImportError`` when a bulk export neither has an enrollment of the
    programs nor deletes anything (checked before a deployment is reached)."""
    _check_importable(roster, configs, collect_enrollments(roster, configs)[0])


def import_roster(
    roster: Roster,
    configs: Sequence[ProgramConfig],
    *,
    now: datetime,
    files_sha256: Mapping[str, str] | None = None,
    actor: str = "load",
    progress: Progress | None = None,
    max_end_fraction: float | None = MAX_END_FRACTION,
) -> RosterImport:
    """Import ``roster`` for ``configs`` (programs of one district, stored already); see the
    module's docstring. The tables must be bound (``bind_tables``). A bulk load that would end
    more than ``max_end_fraction`` of the live enrollments ends none (None: no limit)."""
    say = progress or (lambda line: None)
    districts = {c.district_id for c in configs}
    if len(districts) != 1:
        raise ValueError(f"programs of one district expected, found {', '.join(sorted(districts)) or 'none'}")
    (district_id,) = districts
    records, unplaced_problems = collect_enrollments(roster, configs)
    problems = (*roster.problems, *unplaced_problems)
    unplaced_lines = {p.line for p in unplaced_problems}
    unplaced = {
        (e.class_sourced_id, e.user_sourced_id) for e in roster.enrollments if e.line in unplaced_lines
    }
    students = sum(1 for e in roster.enrollments if e.role == "student")
    _check_importable(roster, configs, records)
    program_ids = [c.program_id for c in configs]
    upserted: dict[str, int] = {}
    pool: list[EnrollmentRecord] = []
    for config in configs:
        # One call per program: class positions and student subjects are computed over all of it.
        mine = [r for r in records if r.program_id == config.program_id]
        district = district_enrollments(roster, config)  # for a rule addressed to every family
        pool.extend(district)
        upserted[config.key] = upsert_enrollments(mine, config, district) if mine else 0
        say(f"{config.key}: {upserted[config.key]} enrollment(s) upserted")
    live = _LiveItems(district_id, program_ids)
    ending = _deletions(roster, district_id, live)
    present = _present_keys(district_id, records, pool)
    bulk, kept, bulk_ending = _bulk_ends(roster, live, present, unplaced, max_end_fraction)
    for key, why in bulk.items():
        ending.setdefault(key, why)
    done = set(end_enrollments(ending))
    ended = {key: why for key, (why, _) in ending.items() if key in done}
    ended |= _end_orphaned_student_items(district_id, {ending[key][1] for key in done}, ended)
    say(f"{len(ended)} enrollment(s) ended")
    # The console's student directory: the students upserted and those whose enrollments ended.
    directory = sync_directory(district_id, records, ended, now)
    say(f"student directory: {directory.students_written} student(s) written")
    # After the enrollments: a quarantined event re-applied now finds the enrollment it names.
    saved, reapplied = load_identities(district_id, identity_rows(roster), origin="roster", now=now)
    say(f"identity map: {saved} row(s) saved; {reapplied} quarantined event(s) re-applied")
    result = RosterImport(
        source=roster.label,
        version=roster.version,
        modes=dict(sorted(roster.manifest.modes.items())),
        rows_read=dict(roster.rows_read),
        upserted=upserted,
        ended=ended,
        problems=tuple(problems),
        no_contact=_no_contact(records),
        other_schools=students - len(records) - len(unplaced_problems),
        bulk_ending=bulk_ending,
        kept_unread=kept,
        unplaced=len(unplaced_problems),
        files_sha256=dict(files_sha256 or {}),
        identities_saved=saved,
        reapplied=reapplied,
    )
    return replace(result, audit_seq=_audit(result, configs, district_id, now, actor))


def _audit(
    result: RosterImport, configs: Sequence[ProgramConfig], district_id: str, now: datetime, actor: str
) -> int:
    bad, bad_left = _budgeted([p.as_dict() for p in result.problems], AUDIT_DETAIL_BUDGET // 2)
    ended_items = [{"enrollment": k, "why": v} for k, v in result.ended.items()]
    ended, ended_left = _budgeted(ended_items, AUDIT_DETAIL_BUDGET // 4)
    no_contact, no_contact_left = _budgeted(
        [{"enrollment": n.enrollment_key} for n in result.no_contact], AUDIT_DETAIL_BUDGET // 8
    )
    entry = AuditEntry(
        type="roster.loaded",
        actor=actor,
        summary=result.summary(),
        on=configs[0].build_calendar().local_date(now),
        detail={
            "source": result.source,
            "oneroster_version": result.version,
            "files": result.modes,
            "files_sha256": result.files_sha256,
            "rows_read": result.rows_read,
            "enrollments": result.upserted,
            "ended": ended,
            "ended_not_listed": ended_left,
            "bulk_ending": result.bulk_ending,
            "kept_unreadable": result.kept_unread,
            "bad_rows": bad,
            "bad_rows_not_listed": bad_left,
            "no_contact_address": no_contact,
            "no_contact_not_listed": no_contact_left,
            "programs": {c.key: config_sha256(c) for c in configs},
            "other_schools": result.other_schools,
            "identity_rows": result.identities_saved,
            "reapplied": result.reapplied,
        },
    )
    (stored,) = append(district_id, [entry], now=now)
    return int(stored.seq)
