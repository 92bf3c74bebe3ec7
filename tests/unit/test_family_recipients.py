"""Who in a family a decision reaches (catalogue "Recipients and contact data").

"Parents/guardians: every guardian on the roster who has a contact address; a student of 18 or
more (OneRoster ``demographics.csv`` ``birthDate``) is an eligible student and guardians get
notices only where the program says so. A minor's action notice (drop, withdrawal, removal)
always reaches a guardian, or is held for a person when none can be reached."
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from onpace_core.roster.enrollments import ContactRecord, build_enrollments, roster_facts
from onpace_core.roster.oneroster import RosterError, read_roster
from onpace_core.store.enrollments import roster_facts_from_json, roster_facts_json
from onpace_local.replay import replay
from onpace_rules import EnrollmentState, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.facts import RosterFacts
from onpace_rules.family import age_on
from onpace_rules.inputs import Approval

from tests.unit.rules_helpers import make_input, program, roster_record

LADDER: dict[str, dict[str, Any]] = {
    "msc.progress.step1_contact": {},
    "msc.progress.step2_reminder": {},
    "msc.progress.step3_removal_notice": {},
    "msc.progress.step4_removal": {},
}
PACING: dict[str, dict[str, Any]] = {
    "cps.pacing.ipr_warning_2w": {},
    "cps.pacing.ipr_warning_1w": {},
    "cps.pacing.ipr_drop": {},
}
CPS_TERM = {"terms": [{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}]}
DROP_DAY = date(2026, 10, 10)  # the evaluation after IPR #1 (Fri 2026-10-09)


def _notices(**settings: Any) -> dict[str, Any]:
    return {
        "notices": {
            "program_name": "Test Online",
            "district_name": "Springfield Public Schools",
            "contact": {"name": "Alex Rivera", "address": "alex.rivera@district.example"},
            **settings,
        }
    }


def _pacing_state(**roster: Any) -> EnrollmentState:
    return EnrollmentState(
        key="d1#c1#s1",
        start_date=date(2026, 8, 24),
        term_id="fall",
        percent_complete=0.1,
        checked_through=date(2026, 10, 9),
        roster=RosterFacts(**roster),
    )


# -- age ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2008, 10, 10), date(2026, 10, 10), 18),  # the 18th birthday itself
        (date(2008, 10, 11), date(2026, 10, 10), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # born on 29 February: 18 on 1 March
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_in_whole_years(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


# -- a minor's action reaches a guardian, or is held ------------------------------------------


def _ladder_removal(guardians: bool) -> list[dict[str, Any]]:
    """The MSC ladder replayed for a K-12 student who never submits, through the removal."""
    record = roster_record("s1", "c1", date(2026, 1, 5), date(2026, 5, 29))
    if not guardians:
        record = replace(record, contacts=tuple(c for c in record.contacts if c.role != "guardian"))
    compiled = program(LADDER, settings=_notices())
    return replay(compiled.config, [record], [], date(2026, 1, 5), date(2026, 3, 1)).lines


def test_a_minors_removal_reaches_the_guardian() -> None:
    """Seed 004: "A student administratively removed may re-enroll once, per course, per
    semester, for a $400 fee" — the catalogue's "who" is the student and the enrolling district,
    and a minor's removal must reach a guardian too."""
    (removal,) = [line for line in _ladder_removal(True) if line["rule"] == "msc.progress.step4_removal"]
    assert removal["kind"] == "action"
    assert "guardian" in " ".join(removal["recipients"])
    assert "student" in removal["recipients"]


def test_a_minors_removal_without_a_reachable_guardian_is_held_for_a_person() -> None:
    lines = _ladder_removal(False)
    (request,) = [line for line in lines if line["rule"] == "msc.progress.step4_removal"]
    assert request["kind"] == "notice"  # the approval request, not the removal
    assert request["recipients"] == ["program_admin"]
    assert request["facts"]["approval"] == "requested"
    assert request["facts"]["approval_reason"] == "no guardian can be reached"
    # Nothing else happens to the held enrollment: no removal without a person's decision.
    assert not [line for line in lines if line["kind"] == "action"]


def test_a_held_drop_is_taken_once_a_person_approves_it() -> None:
    compiled = program(PACING, settings=_notices(), **CPS_TERM)
    state = _pacing_state(guardians=0)
    held = evaluate_enrollment(compiled, state, DROP_DAY)
    (request,) = [d for d in held.decisions if d.kind == "notice"]
    assert (held.status, request.facts["approval_reason"]) == ("held", "no guardian can be reached")
    state = apply_evaluation(state, held, DROP_DAY)
    approval = make_input(
        "approval",
        date(2026, 10, 12),
        Approval(rule="cps.pacing.ipr_drop", decision="approved", by="p.b"),
        "c1",
    )
    taken = evaluate_enrollment(compiled, state.with_input(approval), date(2026, 10, 13))
    (drop,) = taken.decisions
    assert (drop.kind, drop.status_after, taken.status) == ("action", "dropped", "dropped")
    assert drop.facts["approved_by"] == "p.b"


def test_guardians_not_counted_yet_are_not_read_as_none() -> None:
    """Facts stored before guardians were counted (``None``) take the action as before."""
    compiled = program(PACING, settings=_notices(), **CPS_TERM)
    evaluation = evaluate_enrollment(compiled, _pacing_state(), DROP_DAY)
    assert evaluation.status == "dropped"


# -- eligible students ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keep", "recipients"),
    [
        (False, ("student", "counselor", "instructor")),
        (True, ("student", "guardians", "counselor", "instructor")),
    ],
)
def test_an_eligible_students_notices_follow_the_program_setting(
    keep: bool, recipients: tuple[str, ...]
) -> None:
    settings = _notices(guardians_of_eligible_students=keep)
    compiled = program(PACING, settings=settings, **CPS_TERM)
    adult = _pacing_state(birth_date=date(2008, 10, 10), guardians=0)  # 18 on the drop day
    evaluation = evaluate_enrollment(compiled, adult, DROP_DAY)
    (drop,) = evaluation.decisions
    assert drop.recipients == recipients
    assert evaluation.status == "dropped"  # an eligible student's drop needs no guardian


def test_an_eligible_students_warning_goes_to_the_student_only_by_default() -> None:
    compiled = program(PACING, settings=_notices(), **CPS_TERM)
    adult = replace(_pacing_state(birth_date=date(2007, 1, 1)), checked_through=date(2026, 9, 24))
    (warning,) = evaluate_enrollment(compiled, adult, date(2026, 9, 25)).decisions
    assert (warning.rule_id, warning.recipients) == ("cps.pacing.ipr_warning_2w", ("student",))


def test_a_minor_a_day_before_the_18th_birthday_is_still_a_minor() -> None:
    compiled = program(PACING, settings=_notices(), **CPS_TERM)
    minor = _pacing_state(birth_date=date(2008, 10, 11), guardians=0)
    assert evaluate_enrollment(compiled, minor, DROP_DAY).status == "held"


def test_a_guardian_only_letter_goes_to_an_eligible_student_in_their_place() -> None:
    compiled = program(
        {"mocap.notice.guidance": {"guidance_document_url": "https://dese.mo.gov/guidance.pdf"}},
        settings=_notices(),
        school_year_start=["2026-08-24"],
        terms=[{"id": "fall", "start": "2026-08-24", "end": "2026-12-18"}],
    )
    adult = EnrollmentState(
        key="d1#student#s1",
        start_date=date(2026, 8, 24),
        scope="student",
        student_id="s1",
        roster=RosterFacts(birth_date=date(2007, 1, 1)),
    )
    decisions = evaluate_enrollment(compiled, adult, date(2026, 8, 24)).decisions
    assert [d.recipients for d in decisions if d.kind == "notice"] == [("student",)]


def test_unknown_age_follows_the_program() -> None:
    adults = program(PACING, settings=_notices(unknown_age="adult"), **CPS_TERM)
    (drop,) = evaluate_enrollment(adults, _pacing_state(guardians=0), DROP_DAY).decisions
    assert "guardians" not in drop.recipients and drop.status_after == "dropped"
    minors = program(PACING, settings=_notices(), **CPS_TERM)
    assert evaluate_enrollment(minors, _pacing_state(guardians=0), DROP_DAY).status == "held"


# -- the roster: demographics.csv -------------------------------------------------------------------


def _roster(tmp_path: Path, demographics: str | None) -> Path:
    demo = Path(__file__).resolve().parents[2] / "demo" / "roster"
    for name in ("orgs.csv", "academicSessions.csv", "classes.csv", "users.csv", "enrollments.csv"):
        (tmp_path / name).write_text((demo / name).read_text(encoding="utf-8"), encoding="utf-8")
    if demographics is not None:
        (tmp_path / "demographics.csv").write_text(demographics, encoding="utf-8")
    return tmp_path


def test_birth_dates_come_from_demographics_csv_when_present(tmp_path: Path) -> None:
    from onpace_rules.program_files import load_program_file

    online = load_program_file(
        Path(__file__).resolve().parents[2] / "demo" / "programs" / "riverbend-online.yaml"
    )
    text = (
        "sourcedId,status,dateLastModified,birthDate,sex\n"
        "stu-ben,active,,2008-03-14,male\n"
        "stu-ava,active,,,female\n"
    )
    roster = read_roster(_roster(tmp_path, text))
    assert roster.birth_dates == {"stu-ben": date(2008, 3, 14)}
    records = build_enrollments(roster, [online])
    facts = roster_facts(records)
    ben = next(f for r, f in zip(records, facts.values(), strict=True) if r.student_id == "stu-ben")
    assert (ben.birth_date, ben.guardians) == (date(2008, 3, 14), 2)  # Maria Ortiz and Luis Ortiz
    assert roster_facts_from_json(roster_facts_json(ben)) == ben  # stored and read back as is


def test_a_roster_without_demographics_has_no_birth_dates(tmp_path: Path) -> None:
    assert read_roster(_roster(tmp_path, None)).birth_dates == {}


def test_a_bad_birth_date_names_the_file_and_line(tmp_path: Path) -> None:
    text = "sourcedId,birthDate\nstu-ben,2008-13-01\n"
    with pytest.raises(RosterError, match=r"demographics\.csv:2: birthDate"):
        read_roster(_roster(tmp_path, text))


def test_guardians_without_an_address_are_not_counted() -> None:
    record = roster_record("s1", "c1", date(2026, 1, 5))
    record = replace(record, contacts=(*record.contacts, ContactRecord("guardian", "", "No Mail", "en")))
    (facts,) = roster_facts([record]).values()
    assert facts.guardians == 1


def test_a_district_student_without_a_program_enrollment_keeps_age_and_guardians() -> None:
    """A student record made only for a rule addressed to every family (MOCAP guidance) carries
    the student's birth date and guardians too, so an eligible student's guardians are told only
    by the program's setting there as well."""
    from onpace_core.roster.enrollments import EnrollmentRecord, subject_facts

    subject = EnrollmentRecord(
        district_id="d1",
        program_id="p1",
        class_id="*",
        class_title="",
        student_id="s9",
        student_name="Sam Ortiz",
        term_id=None,
        start_date=date(2026, 8, 24),
        end_date=None,
        contacts=(
            ContactRecord("student", "sam@students.example", "Sam Ortiz", "en", "s9"),
            ContactRecord("guardian", "pat@family.example", "Pat Ortiz", "en"),
            ContactRecord("guardian", None, "Lee Ortiz", "en"),
        ),
        birth_date=date(2007, 5, 1),
    )
    (facts,) = subject_facts([subject], [], {}).values()
    assert facts.birth_date == date(2007, 5, 1)
    assert facts.guardians == 1  # only a guardian with an address can be told
    assert facts.student_address == "sam@students.example"
