"""Turn a roster into OnPace enrollments: which program each class belongs to, and who to tell."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from onpace_rules.program import ProgramConfig

from onpace_core.roster.oneroster import Roster


@dataclass(frozen=True)
class ContactRecord:
    role: str
    address: str
    name: str | None
    language: str | None
    source_id: str | None = None


@dataclass(frozen=True)
class EnrollmentRecord:
    district_id: str
    program_id: str
    class_id: str
    class_title: str
    student_id: str
    student_name: str
    term_id: str | None
    start_date: date
    end_date: date | None
    contacts: tuple[ContactRecord, ...]


class RosterMismatchError(ValueError):
    pass


def _program_for(programs: Iterable[ProgramConfig], org_id: str) -> ProgramConfig | None:
    for program in programs:
        if org_id in program.org_ids:
            return program
    return None


def build_enrollments(roster: Roster, programs: Iterable[ProgramConfig]) -> list[EnrollmentRecord]:
    """Student enrollments of classes whose school org belongs to one of ``programs``.

    Contacts: the student (district address), every parent/guardian listed as the student's
    agent with an address, and the class's teachers. Program staff (counselor, advisor, …) come
    from the program configuration when a notice is addressed, so a staff change needs no roster load.
    """
    programs = list(programs)
    teachers: dict[str, list[str]] = {}
    for e in roster.enrollments:
        if e.role == "teacher":
            teachers.setdefault(e.class_sourced_id, []).append(e.user_sourced_id)
    records = []
    for e in roster.enrollments:
        if e.role != "student" or (e.status or "active") == "tobedeleted":
            continue
        klass = roster.classes[e.class_sourced_id]
        program = _program_for(programs, klass.school_sourced_id)
        if program is None:
            continue
        term_id = klass.term_ids[0] if klass.term_ids else None
        session = roster.sessions.get(term_id) if term_id else None
        start = e.begin_date or (session.start_date if session else None)
        if start is None:
            raise RosterMismatchError(
                f"enrollment {e.sourced_id}: no beginDate, and class {klass.sourced_id} "
                "has no term with a start date"
            )
        student = roster.users[e.user_sourced_id]
        language = program.default_language
        contacts: list[ContactRecord] = []
        if student.email:
            contacts.append(
                ContactRecord("student", student.email, student.name, language, student.sourced_id)
            )
        for agent_id in student.agents:
            agent = roster.users.get(agent_id)
            if agent and agent.role in ("parent", "guardian") and agent.email:
                contacts.append(
                    ContactRecord("guardian", agent.email, agent.name, language, agent.sourced_id)
                )
        for teacher_id in teachers.get(klass.sourced_id, []):
            teacher = roster.users[teacher_id]
            if teacher.email:
                contacts.append(
                    ContactRecord("instructor", teacher.email, teacher.name, language, teacher_id)
                )
        records.append(
            EnrollmentRecord(
                district_id=program.district_id,
                program_id=program.program_id,
                class_id=klass.sourced_id,
                class_title=klass.title,
                student_id=student.sourced_id,
                student_name=student.name,
                term_id=term_id,
                start_date=start,
                end_date=e.end_date or (session.end_date if session else None),
                contacts=tuple(contacts),
            )
        )
    return records
