"""Read a OneRoster 1.1 CSV bulk export (the files this product uses).

Only the columns OnPace needs are modelled; other columns are ignored. Every row is validated
and an error (:class:`RosterError`, an ``InputFileError``) names the file, the line and the
problem, so a district can fix its export::

    exports/2026-08-20/users.csv:4: not UTF-8 (byte 0xe9); export the roster as UTF-8

The files must be UTF-8 (OneRoster 1.1 says so); another encoding is refused, not guessed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, TypeVar

from onpace_rules.input_files import InputFileError, read_text
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

UserRole = Literal["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"]


class RosterError(InputFileError):
    """A roster export is wrong; names the file, the line and the problem."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    sourced_id: str = Field(alias="sourcedId", min_length=1)
    status: str | None = None
    # Where the row is in its CSV file, for errors found after reading (1-based; None if not read).
    _line: int | None = PrivateAttr(default=None)

    @property
    def line(self) -> int | None:
        return self._line

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _grade(value: str) -> str:
    """A OneRoster grade without leading zeros ("09" → "9", "00" → "0"); codes ("KG", "GR") as sent."""
    return value.lstrip("0") or "0" if value.isdigit() else value


class Org(_Row):
    name: str
    type: str


class AcademicSession(_Row):
    title: str
    type: str
    start_date: date = Field(alias="startDate")
    end_date: date = Field(alias="endDate")


class RosterClass(_Row):
    title: str
    course_sourced_id: str | None = Field(default=None, alias="courseSourcedId")
    school_sourced_id: str = Field(alias="schoolSourcedId")
    term_sourced_ids: str = Field(alias="termSourcedIds")
    grades: str | None = None

    @property
    def term_ids(self) -> tuple[str, ...]:
        return _split(self.term_sourced_ids)

    @property
    def grade_levels(self) -> tuple[str, ...]:
        """The grades the class is for ("09,10" → ("9", "10"); ``GR``, a graduate class, as sent)."""
        return tuple(_grade(g) for g in _split(self.grades))


class User(_Row):
    role: UserRole
    given_name: str = Field(alias="givenName")
    family_name: str = Field(alias="familyName")
    email: str | None = None
    org_sourced_ids: str | None = Field(default=None, alias="orgSourcedIds")
    agent_sourced_ids: str | None = Field(default=None, alias="agentSourcedIds")
    grades: str | None = None

    @property
    def grade_level(self) -> str | None:
        """The student's grade ("09", "12", "KG" in OneRoster; leading zeros dropped)."""
        first = _split(self.grades)[:1]
        return _grade(first[0]) if first else None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def agents(self) -> tuple[str, ...]:
        return _split(self.agent_sourced_ids)


class Demographics(_Row):
    """A row of ``demographics.csv``: its ``sourcedId`` is the user's; only the birth date is used."""

    birth_date: date | None = Field(default=None, alias="birthDate")


class Enrollment(_Row):
    class_sourced_id: str = Field(alias="classSourcedId")
    school_sourced_id: str = Field(alias="schoolSourcedId")
    user_sourced_id: str = Field(alias="userSourcedId")
    role: Literal["administrator", "proctor", "student", "teacher"]
    begin_date: date | None = Field(default=None, alias="beginDate")
    end_date: date | None = Field(default=None, alias="endDate")


RowT = TypeVar("RowT", bound=_Row)


def _read(path: Path, model: type[RowT]) -> Iterator[RowT]:
    if not path.exists():
        raise RosterError(path, "file is missing from the roster export")
    try:
        text = read_text(path, what="roster file", fix="export the roster as UTF-8")
    except InputFileError as exc:
        raise RosterError(exc.path, exc.problem, exc.line) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            try:
                item = model.model_validate(row)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
                )
                raise RosterError(path, problems, reader.line_num) from exc
            item._line = reader.line_num
            yield item
    except csv.Error as exc:
        raise RosterError(path, f"not valid CSV: {exc}", reader.line_num) from exc


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

    def file(self, name: str) -> Path | str:
        """The export's file ``name`` (e.g. "enrollments.csv"), for an error about one of its rows."""
        return self.directory / name if self.directory else name


def _birth_dates(directory: Path) -> dict[str, date]:
    """Birth dates from ``demographics.csv``, an optional file of OneRoster 1.1 exports."""
    path = directory / "demographics.csv"
    if not path.is_file():
        return {}
    return {d.sourced_id: d.birth_date for d in _read(path, Demographics) if d.birth_date is not None}


def read_roster(directory: Path) -> Roster:
    """Read orgs, academicSessions, classes, users and enrollments CSV files from ``directory``,
    and demographics.csv when present (students' birth dates: who is 18 or older)."""
    if not directory.is_dir():
        problem = "not a directory" if directory.exists() else "no such roster directory"
        raise RosterError(directory, f"{problem} (a roster is a folder of OneRoster 1.1 CSV files)")
    roster = Roster(
        orgs={o.sourced_id: o for o in _read(directory / "orgs.csv", Org)},
        sessions={s.sourced_id: s for s in _read(directory / "academicSessions.csv", AcademicSession)},
        classes={c.sourced_id: c for c in _read(directory / "classes.csv", RosterClass)},
        users={u.sourced_id: u for u in _read(directory / "users.csv", User)},
        enrollments=tuple(_read(directory / "enrollments.csv", Enrollment)),
        birth_dates=_birth_dates(directory),
        directory=directory,
    )
    for e in roster.enrollments:
        if e.class_sourced_id not in roster.classes:
            raise RosterError(
                roster.file("enrollments.csv"),
                f"enrollment {e.sourced_id} names unknown class {e.class_sourced_id}",
                e.line,
            )
        if e.user_sourced_id not in roster.users:
            raise RosterError(
                roster.file("enrollments.csv"),
                f"enrollment {e.sourced_id} names unknown user {e.user_sourced_id}",
                e.line,
            )
    return roster
