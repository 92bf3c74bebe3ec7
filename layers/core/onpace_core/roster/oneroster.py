"""Read a OneRoster 1.1 CSV bulk export (the files this product uses).

Only the columns OnPace needs are modelled; other columns are ignored. Every row is validated
and an error names the file, the line and the problem, so a district can fix its export.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

UserRole = Literal["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"]


class RosterError(ValueError):
    pass


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    sourced_id: str = Field(alias="sourcedId", min_length=1)
    status: str | None = None

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


class Enrollment(_Row):
    class_sourced_id: str = Field(alias="classSourcedId")
    school_sourced_id: str = Field(alias="schoolSourcedId")
    user_sourced_id: str = Field(alias="userSourcedId")
    role: Literal["administrator", "proctor", "student", "teacher"]
    begin_date: date | None = Field(default=None, alias="beginDate")
    end_date: date | None = Field(default=None, alias="endDate")


RowT = TypeVar("RowT", bound=_Row)


def _read(path: Path, model: type[RowT]) -> Iterator[RowT]:
    if not path.is_file():
        raise RosterError(f"{path}: file is missing from the roster export")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):
            try:
                yield model.model_validate(row)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
                )
                raise RosterError(f"{path.name} line {line}: {problems}") from exc


@dataclass(frozen=True)
class Roster:
    orgs: dict[str, Org]
    sessions: dict[str, AcademicSession]
    classes: dict[str, RosterClass]
    users: dict[str, User]
    enrollments: tuple[Enrollment, ...]


def read_roster(directory: Path) -> Roster:
    """Read orgs, academicSessions, classes, users and enrollments CSV files from ``directory``."""
    roster = Roster(
        orgs={o.sourced_id: o for o in _read(directory / "orgs.csv", Org)},
        sessions={s.sourced_id: s for s in _read(directory / "academicSessions.csv", AcademicSession)},
        classes={c.sourced_id: c for c in _read(directory / "classes.csv", RosterClass)},
        users={u.sourced_id: u for u in _read(directory / "users.csv", User)},
        enrollments=tuple(_read(directory / "enrollments.csv", Enrollment)),
    )
    for e in roster.enrollments:
        if e.class_sourced_id not in roster.classes:
            raise RosterError(
                f"enrollments.csv: enrollment {e.sourced_id} names unknown class {e.class_sourced_id}"
            )
        if e.user_sourced_id not in roster.users:
            raise RosterError(
                f"enrollments.csv: enrollment {e.sourced_id} names unknown user {e.user_sourced_id}"
            )
    return roster
