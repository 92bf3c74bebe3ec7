"""Read a OneRoster 1.1 or 1.2 CSV export (bulk or delta) into a :class:`Roster`.

What is read: ``manifest.csv`` (version; each file bulk, delta or absent), orgs,
academicSessions, courses, classes, users, 1.2 ``roles.csv``, enrollments and demographics.
Rows whose ``status`` is ``tobedeleted`` are not roster rows but deletions (``Roster.deleted``):
a deleted user, class or enrollment ends the enrollments it names.

Every row is checked. A bad row (a value that is not UTF-8, a bad date or role, a reference to
a user or class the export does not have) is left out and reported with its file, line and
column (``Roster.problems``, all of them); the good rows are the roster. ``strict=True`` (the
replay, the demo) turns any problem into a ``RosterError`` listing them all instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from onpace_core.roster.export import DirectoryExport, ExportFiles, RosterError
from onpace_core.roster.manifest import MANIFEST, Manifest, Mode, read_manifest
from onpace_core.roster.models import (
    FAMILY_ROLES,
    AcademicSession,
    Course,
    Demographics,
    Enrollment,
    Org,
    Role,
    RosterClass,
    Row,
    User,
    parse_status,
)
from onpace_core.roster.rows import RawRow, RowProblem, clean, read_rows

__all__ = [
    "FAMILY_ROLES",
    "MANIFEST",
    "AcademicSession",
    "Course",
    "DeletedEnrollment",
    "Deletions",
    "Enrollment",
    "Org",
    "Role",
    "Roster",
    "RosterClass",
    "RosterError",
    "RowProblem",
    "User",
    "read_export",
    "read_roster",
]

RowT = TypeVar("RowT", bound=Row)

# Without a manifest the export is taken as the bulk 1.1 export OnPace always read: these files
# must be there. With one, a file is needed only when the manifest lists it as bulk or delta.
LEGACY_REQUIRED = ("users.csv", "classes.csv", "enrollments.csv")
# A wrong value in one of these is reported, and the row read without it: other ids than the
# sourcedId only help to match LMS events, and a birth date only decides who is 18.
OPTIONAL_COLUMNS = frozenset({"userIds", "birthDate"})


@dataclass(frozen=True)
class DeletedEnrollment:
    sourced_id: str
    class_sourced_id: str
    user_sourced_id: str
    line: int


@dataclass(frozen=True)
class Deletions:
    """The export's ``tobedeleted`` rows: what they name ends (and wakes nothing)."""

    users: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    enrollments: tuple[DeletedEnrollment, ...] = ()


@dataclass(frozen=True)
class Roster:
    orgs: dict[str, Org]
    sessions: dict[str, AcademicSession]
    classes: dict[str, RosterClass]
    users: dict[str, User]
    enrollments: tuple[Enrollment, ...]
    # user sourcedId -> birth date, from demographics.csv when the export has it
    birth_dates: dict[str, date] = field(default_factory=dict)
    # The export's directory, when it was read from one: errors found later name its files.
    directory: Path | None = field(default=None, compare=False)
    courses: dict[str, Course] = field(default_factory=dict)
    roles: dict[str, tuple[Role, ...]] = field(default_factory=dict)  # 1.2 roles.csv, by user
    manifest: Manifest = field(default_factory=lambda: Manifest("1.1", present=False))
    deleted: Deletions = field(default_factory=Deletions)
    problems: tuple[RowProblem, ...] = field(default=(), compare=False)
    # Enrollments the export lists but could not be imported (a bad row, or its user or class
    # bad or missing): (class, user). A bulk re-load leaves them as stored instead of ending them.
    unreadable: frozenset[tuple[str, str]] = field(default=frozenset(), compare=False)
    # False when an enrollments.csv row could not even be matched to a class and user: a bulk
    # re-load then ends nothing, since it cannot tell what disappeared.
    enrollments_complete: bool = field(default=True, compare=False)
    rows_read: dict[str, int] = field(default_factory=dict, compare=False)  # file -> rows
    label: str = field(default="", compare=False)
    where: ExportFiles | None = field(default=None, compare=False, repr=False)

    @property
    def version(self) -> str:
        return self.manifest.version

    def mode(self, name: str) -> Mode:
        return self.manifest.mode(name)

    def file(self, name: str) -> Path | str:
        """The export's file ``name`` (e.g. "enrollments.csv"), for an error about one of its rows."""
        if self.where is not None:
            return self.where.where(name)
        return self.directory / name if self.directory else name

    @cached_property
    def linked_from(self) -> dict[str, tuple[str, ...]]:
        """user sourcedId -> the users that name it in their ``agentSourcedIds``."""
        found: dict[str, list[str]] = {}
        for user in self.users.values():
            for agent in user.agents:
                found.setdefault(agent, []).append(user.sourced_id)
        return {k: tuple(v) for k, v in found.items()}

    def user_roles(self, user_id: str) -> frozenset[str]:
        """Every role of the user: 1.1's ``role`` column, and 1.2's ``roles.csv`` rows."""
        user = self.users.get(user_id)
        found = {r.role for r in self.roles.get(user_id, ())}
        if user is not None and user.role:
            found.add(user.role)
        return frozenset(found)


@dataclass
class _File:
    name: str
    rows: list[RawRow]
    problems: list[RowProblem]
    rejected: list[RawRow]  # rows left out for bytes that are not UTF-8


class _Reader:
    def __init__(self, export: ExportFiles, manifest: Manifest) -> None:
        self.export = export
        self.manifest = manifest
        self.problems: list[RowProblem] = []
        self.counts: dict[str, int] = {}
        self.bad_lines: dict[str, dict[str, int]] = {}  # file -> sourcedId of a bad row -> its line

    def raw(self, name: str) -> _File | None:
        mode = self.manifest.mode(name)
        data = self.export.read(name)
        if self.manifest.present and mode == "absent":
            return None  # the manifest says the export leaves it out (a copy there is ignored)
        if data is None:
            if self.manifest.present:
                raise RosterError(
                    self.export.where(name), f"file is missing from the roster export (manifest.csv: {mode})"
                )
            if name in LEGACY_REQUIRED:
                raise RosterError(self.export.where(name), "file is missing from the roster export")
            return None
        rows, problems, rejected = read_rows(data, name, self.export.where(name))
        self.problems.extend(problems)
        self.counts[name] = len(rows) + len(rejected)
        for row in rejected:
            sourced_id = clean(row.values.get("sourcedId", ""))
            if sourced_id:
                self.bad_lines.setdefault(name, {})[sourced_id] = row.line
        return _File(name, rows, problems, rejected)

    def _validate(self, file: _File, model: type[RowT], row: RawRow) -> RowT | None:
        try:
            return model.model_validate(row.values).at(row.line)  # type: ignore[return-value]
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        columns = {str(e["loc"][0]) for e in errors if e["loc"]}
        if columns and columns <= OPTIONAL_COLUMNS:
            # Only a value OnPace can do without is wrong: keep the row, without that value.
            kept = model.model_validate({**row.values, **dict.fromkeys(columns, "")}).at(row.line)
            for error in errors:
                message = str(error["msg"]).removeprefix("Value error, ")
                self.problems.append(
                    RowProblem(
                        file.name, row.line, str(error["loc"][0]), f"{message} (ignored; the row was read)"
                    )
                )
            return kept  # type: ignore[return-value]
        for error in errors:
            column = ".".join(str(p) for p in error["loc"][:1]) or None
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "required" + ("" if column in row.values else " (no such column)")
            self.problems.append(RowProblem(file.name, row.line, column, message))
        return None

    def rows(self, file: _File | None, model: type[RowT]) -> tuple[dict[str, RowT], set[str], list[RawRow]]:
        """(active rows by sourcedId, sourcedIds of deleted rows, the deleted raw rows)."""
        found: dict[str, RowT] = {}
        deleted: set[str] = set()
        deleted_rows: list[RawRow] = []
        if file is None:
            return found, deleted, deleted_rows
        lines: dict[str, int] = {}
        for row in file.rows:
            sourced_id = row.values.get("sourcedId", "").strip()
            try:
                status = parse_status(row.values.get("status"))
            except ValueError as exc:
                self.problems.append(RowProblem(file.name, row.line, "status", str(exc)))
                if sourced_id:
                    self.bad_lines.setdefault(file.name, {})[sourced_id] = row.line
                continue
            if sourced_id and sourced_id in lines:
                self.problems.append(
                    RowProblem(
                        file.name,
                        row.line,
                        "sourcedId",
                        f"{sourced_id!r} is also on line {lines[sourced_id]}",
                    )
                )
                continue
            if sourced_id:
                lines[sourced_id] = row.line
            if status == "tobedeleted" and sourced_id:
                deleted.add(sourced_id)
                deleted_rows.append(row)
                continue
            item = self._validate(file, model, row)
            if item is not None:
                found[item.sourced_id] = item
            elif sourced_id:
                self.bad_lines.setdefault(file.name, {})[sourced_id] = row.line
        return found, deleted, deleted_rows


def _require_role_column(reader: _Reader, users: dict[str, User], version: str) -> None:
    """1.1 users carry their role; a 1.1 user without one is a bad row."""
    if version != "1.1":
        return
    for user_id, user in list(users.items()):
        if not user.role:
            reader.problems.append(RowProblem("users.csv", user.line, "role", "required (OneRoster 1.1)"))
            reader.bad_lines.setdefault("users.csv", {})[user_id] = user.line or 0
            del users[user_id]


def _check_enrollments(
    reader: _Reader,
    enrollments: dict[str, Enrollment],
    classes: dict[str, RosterClass],
    users: dict[str, User],
    deleted: Deletions,
    manifest: Manifest,
) -> tuple[list[Enrollment], set[tuple[str, str]], list[DeletedEnrollment]]:
    """The enrollments whose class and user the export holds; the others reported and kept
    aside; those whose class or user the export deletes, as deletions."""
    kept: list[Enrollment] = []
    aside: set[tuple[str, str]] = set()
    ended: list[DeletedEnrollment] = []
    for e in enrollments.values():
        problem = None
        if e.class_sourced_id in deleted.classes or e.user_sourced_id in deleted.users:
            ended.append(DeletedEnrollment(e.sourced_id, e.class_sourced_id, e.user_sourced_id, e.line or 0))
            continue
        for what, ident, found, file in (
            ("class", e.class_sourced_id, classes, "classes.csv"),
            ("user", e.user_sourced_id, users, "users.csv"),
        ):
            if ident in found or problem:
                continue
            mode = manifest.mode(file)
            bad_line = reader.bad_lines.get(file, {}).get(ident)
            if bad_line is not None:
                problem = (
                    f"{what}SourcedId",
                    f"names {what} {ident!r}, whose row ({file}:{bad_line}) is bad",
                )
            elif mode == "bulk" or not manifest.present:
                problem = (f"{what}SourcedId", f"names {what} {ident!r}, which {file} does not hold")
            else:
                why = "a delta" if mode == "delta" else "not in the export"
                problem = (
                    f"{what}SourcedId",
                    f"names {what} {ident!r}, which is not in this export ({file} is {why}); "
                    "an enrollment of a delta needs its class and user rows in the same export",
                )
        if problem is not None:
            reader.problems.append(RowProblem("enrollments.csv", e.line, problem[0], problem[1]))
            aside.add((e.class_sourced_id, e.user_sourced_id))
            continue
        kept.append(e)
    return kept, aside, ended


def read_export(export: ExportFiles, *, strict: bool = False) -> Roster:
    """The roster an export holds (see the module's docstring); a ``RosterError`` when the export
    as a whole cannot be read (no manifest version, a file the manifest lists is missing, a
    header that is not UTF-8), or with ``strict`` when any row is bad."""
    manifest = read_manifest(export)
    reader = _Reader(export, manifest)
    orgs, _, _ = reader.rows(reader.raw("orgs.csv"), Org)
    sessions, _, _ = reader.rows(reader.raw("academicSessions.csv"), AcademicSession)
    courses, _, _ = reader.rows(reader.raw("courses.csv"), Course)
    classes, deleted_classes, _ = reader.rows(reader.raw("classes.csv"), RosterClass)
    users, deleted_users, _ = reader.rows(reader.raw("users.csv"), User)
    _require_role_column(reader, users, manifest.version)
    role_rows, _, _ = (
        reader.rows(reader.raw("roles.csv"), Role) if manifest.version == "1.2" else ({}, set(), [])
    )
    roles: dict[str, list[Role]] = {}
    for role in role_rows.values():
        roles.setdefault(role.user_sourced_id, []).append(role)
    enrollments_file = reader.raw("enrollments.csv")
    enrollment_rows, _, deleted_enrollment_rows = reader.rows(enrollments_file, Enrollment)
    complete = True
    unreadable: set[tuple[str, str]] = set()
    deleted_enrollments: list[DeletedEnrollment] = []
    for row in deleted_enrollment_rows:
        klass, user = (
            row.values.get("classSourcedId", "").strip(),
            row.values.get("userSourcedId", "").strip(),
        )
        if not klass or not user:
            reader.problems.append(
                RowProblem(
                    "enrollments.csv",
                    row.line,
                    "classSourcedId" if not klass else "userSourcedId",
                    "a tobedeleted enrollment needs its classSourcedId and userSourcedId to be matched",
                )
            )
            complete = False
            continue
        deleted_enrollments.append(DeletedEnrollment(row.values["sourcedId"].strip(), klass, user, row.line))
    # Every row of enrollments.csv that was not read names an enrollment a bulk re-load must keep.
    if enrollments_file is not None:
        good = {e.line for e in enrollment_rows.values()} | {d.line for d in deleted_enrollments}
        for row in enrollments_file.rows:
            if row.line in good:
                continue
            klass, user = (
                row.values.get("classSourcedId", "").strip(),
                row.values.get("userSourcedId", "").strip(),
            )
            if klass and user:
                unreadable.add((klass, user))
            else:
                complete = False
        if enrollments_file.problems:
            complete = False  # rows not UTF-8: their class and user cannot be trusted
    deletions = Deletions(frozenset(deleted_users), frozenset(deleted_classes), tuple(deleted_enrollments))
    kept, aside, ended = _check_enrollments(reader, enrollment_rows, classes, users, deletions, manifest)
    deletions = Deletions(deletions.users, deletions.classes, (*deletions.enrollments, *ended))
    demographics, _, _ = reader.rows(reader.raw("demographics.csv"), Demographics)
    directory = export.directory if isinstance(export, DirectoryExport) else None
    # In the order the files are read (a cause before its effects), each file's by line.
    order = {name: n for n, name in enumerate(dict.fromkeys(p.file for p in reader.problems))}
    problems = tuple(sorted(reader.problems, key=lambda p: (order[p.file], p.line or 0)))
    roster = Roster(
        orgs=orgs,
        sessions=sessions,
        classes=classes,
        users=users,
        enrollments=tuple(sorted(kept, key=lambda e: e.line or 0)),
        birth_dates={k: d.birth_date for k, d in demographics.items() if d.birth_date is not None},
        directory=directory,
        courses=courses,
        roles={user: tuple(found) for user, found in roles.items()},
        manifest=manifest,
        deleted=deletions,
        problems=problems,
        unreadable=frozenset(unreadable | aside),
        enrollments_complete=complete,
        rows_read=reader.counts,
        label=export.label,
        where=export,
    )
    if strict and problems:
        raise _as_error(roster, problems)
    return roster


def _as_error(roster: Roster, problems: Iterable[RowProblem]) -> RosterError:
    errors = [
        RosterError(roster.file(p.file), f"{p.column}: {p.problem}" if p.column else p.problem, p.line)
        for p in problems
    ]
    return RosterError(errors[0].path, errors[0].problem, errors[0].line, more=errors[1:])


def read_roster(directory: Path, *, strict: bool = True) -> Roster:
    """Read the export in ``directory`` (see :func:`read_export`); strict by default, as the
    replay and the demo want: any bad row is a ``RosterError`` listing every one."""
    if not directory.is_dir():
        problem = "not a directory" if directory.exists() else "no such roster directory"
        raise RosterError(directory, f"{problem} (a roster is a folder of OneRoster CSV files)")
    return read_export(DirectoryExport(directory), strict=strict)
