"""Turn a roster into OnPace enrollments: which program each class belongs to, and who to tell."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from onpace_rules.facts import RosterFacts
from onpace_rules.program import ProgramConfig

from onpace_core.roster.oneroster import Enrollment, Roster, RosterClass, RosterError, User
from onpace_core.roster.phones import text_choice
from onpace_core.roster.rows import RowProblem


@dataclass(frozen=True)
class ContactRecord:
    role: str
    address: str
    name: str | None
    language: str | None
    source_id: str | None = None
    phone: str | None = None  # E.164 (``roster.phones``), students and guardians only
    sms: bool | None = None  # chose text messages: yes, no, or not said (the program's default)


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
    grade_level: str | None = None
    birth_date: date | None = None
    class_grades: tuple[str, ...] = ()  # the class's OneRoster ``grades``
    school_id: str | None = None  # the class's school (OneRoster org sourcedId) and its name
    school_name: str | None = None

    @property
    def enrollment_key(self) -> str:
        return f"{self.district_id}#{self.class_id}#{self.student_id}"

    @property
    def student_address(self) -> str | None:
        return next((c.address for c in self.contacts if c.role == "student"), None)


class RosterMismatchError(RosterError):
    """The export does not fit the program (an enrollment with no start date to count from)."""


def _program_for(programs: Iterable[ProgramConfig], org_id: str) -> ProgramConfig | None:
    """The program whose ``org_ids`` name the class's school; a program naming none takes every
    class (a single-program replay of a district's whole export)."""
    programs = list(programs)
    for program in programs:
        if org_id in program.org_ids:
            return program
    open_programs = [p for p in programs if not p.org_ids]
    return open_programs[0] if len(open_programs) == 1 else None


def build_enrollments(roster: Roster, programs: Iterable[ProgramConfig]) -> list[EnrollmentRecord]:
    """Student enrollments of classes whose school org belongs to one of ``programs``.

    Contacts: the student (district address), the student's family (see :func:`family_of`), and
    the class's teachers. Program staff (counselor, advisor, …) come from the program
    configuration when a notice is addressed, so a staff change needs no roster load.
    An enrollment that cannot be placed (no start date) is a ``RosterMismatchError`` listing
    every such enrollment; :func:`collect_enrollments` reports them instead.
    """
    records, problems = collect_enrollments(roster, programs)
    _raise_first(roster, problems)
    return records


def collect_enrollments(
    roster: Roster, programs: Iterable[ProgramConfig]
) -> tuple[list[EnrollmentRecord], list[RowProblem]]:
    """As :func:`build_enrollments`, with the enrollments that could not be placed reported
    (file, line, column) and left out instead of refusing the export."""
    programs = list(programs)
    return _records(roster, lambda org_id: _program_for(programs, org_id))


def district_enrollments(roster: Roster, program: ProgramConfig) -> list[EnrollmentRecord]:
    """Every student enrollment of the roster, whatever its school, as ``program``'s.

    Not enrollments to evaluate: the spans and families of every student of the district, from
    which a program with a rule addressed to every family of the district (MOCAP's guidance
    document: "every District parent/guardian") makes its student records
    (``CompiledProgram.addresses_district``). Enrollments that cannot be placed are left out.
    """
    return _records(roster, lambda org_id: program)[0]


def _raise_first(roster: Roster, problems: list[RowProblem]) -> None:
    if not problems:
        return
    errors = [RosterMismatchError(roster.file(p.file), p.problem, p.line) for p in problems]
    raise RosterMismatchError(errors[0].path, errors[0].problem, errors[0].line, more=errors[1:])


def family_of(roster: Roster, student: User, roles: Iterable[str]) -> list[User]:
    """The student's family contacts: users with one of ``roles`` (the program's
    ``guardian_roles``) linked to the student from either side — in the student's
    ``agentSourcedIds``, or naming the student in their own (exports differ on which row
    carries the link). In the order the export gives them, each once."""
    wanted = set(roles)
    linked = [*student.agents, *roster.linked_from.get(student.sourced_id, ())]
    family: list[User] = []
    for user_id in dict.fromkeys(linked):
        user = roster.users.get(user_id)
        if user is not None and user_id != student.sourced_id and roster.user_roles(user_id) & wanted:
            family.append(user)
    return family


@dataclass(frozen=True)
class _Span:
    start: date | None
    end: date | None
    term_id: str | None


def _span(roster: Roster, klass: RosterClass, e: Enrollment, program: ProgramConfig) -> _Span:
    """The enrollment's dates: its own, else its class's term's in the roster, else the
    program's term of that id."""
    term_ids = klass.term_ids
    session = next((roster.sessions[t] for t in term_ids if t in roster.sessions), None)
    term = next((t for t in (program.term(i) for i in term_ids) if t is not None), None)
    start = e.begin_date or (session.start_date if session else None) or (term.start if term else None)
    end = e.end_date or (session.end_date if session else None) or (term.end if term else None)
    term_id = term_ids[0] if term_ids else None
    if term_id is not None and program.term(term_id) is None and start is not None:
        # The roster's session ids are the district's; the program's calendar may name its
        # terms differently. The term that contains the start date is the enrollment's.
        found = program.term_on(start)
        term_id = found.id if found is not None else term_id
    return _Span(start, end, term_id)


def _records(
    roster: Roster, program_of: Callable[[str], ProgramConfig | None]
) -> tuple[list[EnrollmentRecord], list[RowProblem]]:
    teachers: dict[str, list[str]] = {}
    for e in roster.enrollments:
        if e.role == "teacher":
            teachers.setdefault(e.class_sourced_id, []).append(e.user_sourced_id)
    records: list[EnrollmentRecord] = []
    problems: list[RowProblem] = []
    for e in roster.enrollments:
        if e.role != "student":
            continue
        klass = roster.classes[e.class_sourced_id]
        program = program_of(klass.school_sourced_id)
        if program is None:
            continue
        span = _span(roster, klass, e, program)
        if span.start is None:
            problem = (
                f"enrollment {e.sourced_id}: no beginDate, and class {klass.sourced_id} "
                "has no term with a start date (in academicSessions.csv or the program's calendar)"
            )
            problems.append(RowProblem("enrollments.csv", e.line, "beginDate", problem))
            continue
        student = roster.users[e.user_sourced_id]
        school = roster.orgs.get(klass.school_sourced_id)
        # Each person's own roster language, else the program's default (docs/i18n.md).
        default = program.default_language
        contacts: list[ContactRecord] = []
        region = program.sms.region
        if student.email:
            texts = text_choice(student.phone, student.sms, student.sms_choice, region)
            contacts.append(
                ContactRecord(
                    "student",
                    student.email,
                    student.name,
                    student.language or default,
                    student.sourced_id,
                    texts.phone,
                    texts.chose,
                )
            )
        for agent in family_of(roster, student, program.guardian_roles):
            if agent.email:
                texts = text_choice(agent.phone, agent.sms, agent.sms_choice, region)
                contacts.append(
                    ContactRecord(
                        "guardian",
                        agent.email,
                        agent.name,
                        agent.language or default,
                        agent.sourced_id,
                        texts.phone,
                        texts.chose,
                    )
                )
        for teacher_id in teachers.get(klass.sourced_id, []):
            teacher = roster.users[teacher_id]
            if teacher.email:
                contacts.append(
                    ContactRecord(
                        "instructor", teacher.email, teacher.name, teacher.language or default, teacher_id
                    )
                )
        records.append(
            EnrollmentRecord(
                district_id=program.district_id,
                program_id=program.program_id,
                class_id=klass.sourced_id,
                class_title=klass.title,
                student_id=student.sourced_id,
                student_name=student.name,
                term_id=span.term_id,
                start_date=span.start,
                end_date=span.end,
                contacts=tuple(contacts),
                grade_level=student.grade_level,
                birth_date=roster.birth_dates.get(student.sourced_id),
                class_grades=klass.grade_levels,
                school_id=klass.school_sourced_id,
                school_name=school.name if school is not None else None,
            )
        )
    return records, problems


# OneRoster's grades vocabulary (CEDS entry grade levels, plus PS for post-secondary) has no
# graduate level; a class for graduate students says so with one of these extension values.
GRADUATE_GRADES = frozenset({"GR", "GRAD", "GRADUATE"})


def _course_level(grade_level: str | None) -> str | None:
    if grade_level is None:
        return None
    if grade_level.upper() in GRADUATE_GRADES:
        return "graduate"
    if grade_level.upper() == "PS":
        return "undergraduate"
    if not grade_level.isdigit():
        return None
    grade = int(grade_level)
    if 6 <= grade <= 8:
        return "middle"
    if 9 <= grade <= 12:
        return "high"
    if grade >= 13:  # OneRoster 13 = grade 13 / post-secondary
        return "undergraduate"
    return None


def course_level(record: EnrollmentRecord) -> str | None:
    """The level of the course: graduate when the class's grades are graduate ones, else the
    level of the student's grade (middle, high, undergraduate).

    Only the graduate level is read from the class: the CPS "Middle school=2 core classes; High
    school=2 credit-bearing classes" is the student's school level, whatever class they take.
    """
    if record.class_grades and all(_course_level(g) == "graduate" for g in record.class_grades):
        return "graduate"
    return _course_level(record.grade_level)


def roster_facts(records: Iterable[EnrollmentRecord]) -> dict[str, RosterFacts]:
    """What the engine needs to know about each enrollment's class and the student's schedule.

    ``class_position``: rank in the class by start date (then student id), for class-size caps;
    ``online_courses_in_term``: the student's enrollments in the program's classes of that term.
    """
    records = list(records)
    by_class: dict[str, list[EnrollmentRecord]] = {}
    per_term: Counter[tuple[str, str | None]] = Counter()
    titles: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
    for r in records:
        by_class.setdefault(r.class_id, []).append(r)
        per_term[(r.student_id, r.term_id)] += 1
        titles.setdefault((r.student_id, r.term_id), []).append((r.class_id, r.class_title))
    position: dict[str, int] = {}
    for members in by_class.values():
        for rank, r in enumerate(sorted(members, key=lambda m: (m.start_date, m.student_id)), start=1):
            position[r.enrollment_key] = rank
    return {
        r.enrollment_key: RosterFacts(
            grade_level=r.grade_level,
            student_address=r.student_address,
            class_position=position[r.enrollment_key],
            online_courses_in_term=per_term[(r.student_id, r.term_id)],
            course_level=course_level(r),
            class_title=r.class_title,
            birth_date=r.birth_date,
            guardians=sum(1 for c in r.contacts if c.role == "guardian" and c.address),
            other_classes_in_term=tuple(
                sorted(t for c, t in titles[(r.student_id, r.term_id)] if c != r.class_id)
            ),
            class_grades=r.class_grades,
            school_id=r.school_id,
            school_name=r.school_name,
        )
        for r in records
    }


def subject_facts(
    subjects: Iterable[EnrollmentRecord],
    records: Iterable[EnrollmentRecord],
    facts: Mapping[str, RosterFacts],
) -> dict[str, RosterFacts]:
    """Roster facts of each student record (by its ``enrollment_key``): those of the student's
    first enrollment in the program (by start date), or — for a student of the district with
    none, who has a record only for a rule addressed to every family — the student's own only."""
    first: dict[str, str] = {}
    for r in sorted(records, key=lambda r: (r.start_date, r.class_id)):
        first.setdefault(r.student_id, r.enrollment_key)
    found: dict[str, RosterFacts] = {}
    for subject in subjects:
        key = first.get(subject.student_id)
        found[subject.enrollment_key] = (
            facts[key]
            if key is not None
            else RosterFacts(
                grade_level=subject.grade_level,
                student_address=subject.student_address,
                # Who in the family is told (an eligible student's guardians only by the program's
                # setting) needs the age and the guardians here too.
                birth_date=subject.birth_date,
                guardians=sum(1 for c in subject.contacts if c.role == "guardian" and c.address),
            )
        )
    return found
