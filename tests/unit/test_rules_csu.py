"""CSU Global SAP standing, the 12-month withdrawal and the late policy (rules/sap.py, rules/late.py).

Seed: shared/seeds/003_87de092a038aeaf4.txt; catalogue section 3.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from onpace_core.notices.render import render
from onpace_rules import EnrollmentState, ProgramConfig, compile_program, evaluate_enrollment
from onpace_rules.engine import CompiledProgram, apply_evaluation
from onpace_rules.facts import RosterFacts
from onpace_rules.inputs import FinalGrade, GradedWork, Input
from onpace_rules.program import PolicyVersion
from onpace_rules.rules.sap import (
    GOOD,
    PROBATION,
    PROBATION_II,
    SUSPENSION,
    WARNING,
    SapParams,
    next_standing,
)

from tests.unit.render_cases.csu import SAP_FACTS
from tests.unit.rules_helpers import program, run
from tests.unit.test_render import TEMPLATES, contact, make_notice

EVALUATE = "csu.sap.evaluate"
INACTIVE = "csu.sap.inactive_withdrawal"
SAP: dict[str, dict[str, Any]] = {EVALUATE: {}}
SAP_BOTH: dict[str, dict[str, Any]] = {EVALUATE: {}, INACTIVE: {}}

# Trimesters (the evaluation of end + 1 applies "at the end of each trimester").
T1 = {"id": "t1", "start": "2026-01-05", "end": "2026-04-25", "kind": "trimester"}
T2 = {"id": "t2", "start": "2026-05-04", "end": "2026-08-22", "kind": "trimester"}
T3 = {"id": "t3", "start": "2026-08-31", "end": "2026-12-19", "kind": "trimester"}
T4 = {"id": "t4", "start": "2027-01-04", "end": "2027-04-24", "kind": "trimester"}
T5 = {"id": "t5", "start": "2027-05-03", "end": "2027-08-21", "kind": "trimester"}
T6 = {"id": "t6", "start": "2027-08-30", "end": "2027-12-18", "kind": "trimester"}
TERMS = [T1, T2, T3, T4, T5, T6]
T1_EVAL = date(2026, 4, 26)
T2_EVAL = date(2026, 8, 23)

CHICAGO = ZoneInfo("America/Chicago")
DENVER = ZoneInfo("America/Denver")
POINTS = {"A": 4.0, "B": 3.0, "C": 2.0, "D": 1.0, "F": 0.0}
_ids = iter(range(1, 10_000))


def csu_program(
    rules: dict[str, dict[str, Any]],
    terms: list[dict[str, Any]] | None = None,
    versions: tuple[PolicyVersion, ...] = (),
    time_zone: str = "America/Denver",
) -> CompiledProgram:
    return compile_program(
        ProgramConfig(
            district_id="csu",
            program_id="csu-global",
            name="CSU Global",
            time_zone=time_zone,
            policy_version="base",
            source="003_87de092a038aeaf4.txt",
            calendar={"terms": TERMS if terms is None else terms},  # type: ignore[arg-type]
            rules=rules,
            # A university: a student without a birthDate is an adult (no guardian is added).
            notices={  # type: ignore[arg-type]
                "program_name": "CSU Global",
                "district_name": "Colorado State University Global Campus",
                "contact": {"name": "Taylor Brooks", "address": "advising@csuglobal.example"},
                "unknown_age": "adult",
            },
            versions=versions,
        )
    )


def student(*inputs: Input, level: str | None = None, start: date = date(2026, 1, 5)) -> EnrollmentState:
    state = EnrollmentState(
        key="csu#stu-1",
        start_date=start,
        student_id="stu-1",
        scope="student",
        roster=RosterFacts(course_level=level),
    )
    for item in inputs:
        state = state.with_input(item)
    return state


def grade(letter: str, on: date, *, credits: float = 3.0, points: float | None = -1.0, **data: Any) -> Input:
    """A final grade posted on ``on``; grade points from the letter unless given (None: not in GPA)."""
    gp = POINTS.get(letter) if points == -1.0 else points
    return Input(
        event_id=f"g{next(_ids)}",
        kind="final_grade",
        on=on,
        at=datetime(on.year, on.month, on.day, 18, tzinfo=UTC),
        data=FinalGrade(grade=letter, credits=credits, grade_points=gp, **data),
    )


def in_t1(*letters: str, **data: Any) -> list[Input]:
    return [grade(x, date(2026, 4, 20), **data) for x in letters]


def in_term(term: dict[str, Any], *letters: str, **data: Any) -> list[Input]:
    posted = date.fromisoformat(term["end"]) - timedelta(days=3)
    return [grade(x, posted, term=term["id"], **data) for x in letters]


def decide(compiled: CompiledProgram, state: EnrollmentState, day: date) -> list[Any]:
    return list(evaluate_enrollment(compiled, state, day).decisions)


# -- csu.sap.evaluate: when ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 4, 25), []), (T1_EVAL, [(EVALUATE, "notice")]), (date(2026, 4, 27), [(EVALUATE, "notice")])],
)
def test_standing_is_evaluated_the_day_after_the_trimester_ends(day: date, expected: list[Any]) -> None:
    state = student(*in_t1("D", "D"))  # GPA 1.00
    decisions = decide(csu_program(SAP), state, day)
    assert [(d.rule_id, d.kind) for d in decisions] == expected
    for d in decisions:
        assert d.episode == "t1" and d.due_on == T1_EVAL and d.on == day
        assert d.recipients == ("student", "advisor")
        assert (d.facts["standing_before"], d.facts["standing_after"]) == (GOOD, WARNING)


def test_good_student_gets_no_notice_and_wakes_at_the_next_term_end() -> None:
    compiled = csu_program(SAP)
    evaluation = evaluate_enrollment(compiled, student(*in_t1("A", "B")), T1_EVAL)
    assert evaluation.decisions == ()
    assert evaluation.wake_on == T2_EVAL
    assert evaluate_enrollment(compiled, student(), date(2026, 2, 1)).wake_on == T1_EVAL


def test_notice_facts_name_every_standard() -> None:
    (notice,) = decide(csu_program(SAP), student(*in_t1("A", "F", "F")), T1_EVAL)
    assert notice.facts == {
        "term_id": "t1",
        "term_end": "2026-04-25",
        "student_level": "undergraduate",
        "gpa": 1.33,  # 4/3 floored, never rounded up
        "min_gpa": 2.0,
        "completion_rate": 0.3333,
        "min_completion_rate": 0.6666,
        "attempted_credits": 9.0,
        "earned_credits": 3.0,
        "gpa_credits": 9.0,
        "max_attempted_credits": 180.0,
        "failed_standards": ["gpa", "completion_rate"],
        "standing_before": GOOD,
        "standing_after": WARNING,
        "probation_trimesters_failed": 0,
        "occasion": "term_end",
    }
    assert notice.policy_version == "base"


def test_notice_is_sent_once_per_term() -> None:
    compiled = csu_program(SAP)
    state = student(*in_t1("F"))
    first = evaluate_enrollment(compiled, state, T1_EVAL)
    assert len(first.decisions) == 1
    state = apply_evaluation(state, first, T1_EVAL)
    assert decide(compiled, state, T1_EVAL) == []
    assert decide(compiled, state, date(2026, 5, 1)) == []


# -- the standards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("letters_points", "fails"),
    [
        ([2.0, 2.0], False),  # exactly 2.00 meets
        ([2.3, 1.7], False),  # 2.00 exactly in decimal, 1.999… in binary floating point
        ([2.0, 1.97], True),  # 1.985
    ],
)
def test_gpa_threshold_is_at_least_two(letters_points: list[float], fails: bool) -> None:
    grades = [grade("C", date(2026, 4, 20), points=p) for p in letters_points]
    decisions = decide(csu_program(SAP), student(*grades), T1_EVAL)
    assert bool(decisions) is fails
    if fails:
        assert decisions[0].facts["gpa"] == 1.98
        assert decisions[0].facts["failed_standards"] == ["gpa"]


@pytest.mark.parametrize(("level", "fails"), [(None, False), ("undergraduate", False), ("graduate", True)])
def test_graduate_students_need_a_3_00_gpa(level: str | None, fails: bool) -> None:
    decisions = decide(csu_program(SAP), student(*in_t1("B", "C"), level=level), T1_EVAL)  # GPA 2.50
    assert bool(decisions) is fails
    if fails:
        assert decisions[0].facts["min_gpa"] == 3.0
        assert decisions[0].facts["student_level"] == "graduate"


@pytest.mark.parametrize(
    ("points", "level", "standing"),
    [
        # "a cumulative grade point average (GPA) of at least 2.00" (undergraduate)
        (2.0, None, None),  # 2.00 exactly: Good, no change
        (1.99, None, WARNING),
        # "a cumulative grade point average (GPA) of at least 3.00" (graduate)
        (2.99, "graduate", WARNING),
        (3.0, "graduate", None),
        (2.99, "undergraduate", None),
    ],
)
def test_gpa_boundaries_quote_the_source(points: float, level: str | None, standing: str | None) -> None:
    grades = [grade("B", date(2026, 4, 20), points=points)]
    decisions = decide(csu_program(SAP), student(*grades, level=level), T1_EVAL)
    assert [d.facts["standing_after"] for d in decisions] == ([standing] if standing else [])


@pytest.mark.parametrize(
    ("class_grades", "graduate_levels", "graduate"),
    [
        (("MA",), ["MA"], True),  # the program file names its graduate class levels
        (("ma",), ["MA"], True),
        (("13",), ["MA"], False),
        (("13", "MA"), ["MA"], False),  # a class also for undergraduates is not a graduate class
        (("MA",), [], False),
        (("014",), ["14"], True),  # OneRoster grades without their leading zeros
    ],
)
def test_the_program_file_says_which_class_levels_are_graduate(
    class_grades: tuple[str, ...], graduate_levels: list[str], graduate: bool
) -> None:
    compiled = csu_program({EVALUATE: {"graduate_class_grades": graduate_levels}})
    state = replace(
        student(grade("B", date(2026, 4, 20), points=2.5)), roster=RosterFacts(class_grades=class_grades)
    )
    decisions = decide(compiled, state, T1_EVAL)  # GPA 2.50: Good for undergraduates only
    assert bool(decisions) is graduate
    assert all(d.facts["student_level"] == "graduate" and d.facts["min_gpa"] == 3.0 for d in decisions)


@pytest.mark.parametrize(
    ("class_grades", "student_grade", "level"),
    [
        (("GR",), "13", "graduate"),  # the roster's course grade level says graduate
        (("graduate",), None, "graduate"),
        (("13",), "13", "undergraduate"),
        (("PS",), "PS", "undergraduate"),
        (("GR", "13"), "13", "undergraduate"),
        ((), "10", "high"),
    ],
)
def test_the_roster_loader_fills_the_course_level_from_the_class(
    class_grades: tuple[str, ...], student_grade: str | None, level: str
) -> None:
    from onpace_core.roster.enrollments import roster_facts

    from tests.unit.rules_helpers import roster_record

    record = replace(
        roster_record("s1", "c1", date(2026, 1, 5)), class_grades=class_grades, grade_level=student_grade
    )
    facts = roster_facts([record])[record.enrollment_key]
    assert (facts.course_level, facts.class_grades) == (level, class_grades)


def test_the_oneroster_export_gives_the_class_grades_and_school(tmp_path: Any) -> None:
    import shutil

    from onpace_core.roster.enrollments import build_enrollments, roster_facts
    from onpace_core.roster.oneroster import read_roster

    fixture = (
        Path(__file__).resolve().parents[1]
        / "fixtures"
        / "worked_examples"
        / "example2_csu_engagement"
        / "roster"
    )
    shutil.copytree(fixture, tmp_path / "roster")
    classes = tmp_path / "roster" / "classes.csv"
    classes.write_text(
        classes.read_text().replace(
            ",PSY101 Introduction to Psychology,13,", ",PSY101 Introduction to Psychology,GR,"
        )
    )
    config = csu_program(SAP).config
    records = build_enrollments(read_roster(tmp_path / "roster"), [config])
    facts = roster_facts(records)
    assert {(f.course_level, f.class_grades, f.school_name) for f in facts.values()} == {
        ("graduate", ("GR",), "Colorado State University Global")
    }


@pytest.mark.parametrize(("passed", "failed", "fails"), [(2, 1, False), (1, 1, True), (3, 0, False)])
def test_completion_rate_threshold(passed: int, failed: int, fails: bool) -> None:
    # Two of three courses earned: 66.67 % >= 66.66 %; one of two: 50 %.
    grades = in_t1(*(["A"] * passed)) + in_t1(*(["W"] * failed), points=None)
    decisions = decide(csu_program(SAP), student(*grades), T1_EVAL)
    assert bool(decisions) is fails
    if fails:
        assert decisions[0].facts["failed_standards"] == ["completion_rate"]


@pytest.mark.parametrize(("credits", "fails"), [(15.0, False), (15.5, True)])
def test_maximum_time_frame_is_150_percent_of_the_program_length(credits: float, fails: bool) -> None:
    compiled = csu_program({EVALUATE: {"program_length_credits": 10}})
    decisions = decide(compiled, student(grade("A", date(2026, 4, 20), credits=credits)), T1_EVAL)
    assert bool(decisions) is fails
    if fails:
        assert decisions[0].facts["failed_standards"] == ["max_time_frame"]
        assert decisions[0].facts["max_attempted_credits"] == 15.0


def test_graduate_program_length_is_its_own_parameter() -> None:
    rules = {EVALUATE: {"program_length_credits": 120, "graduate_program_length_credits": 10}}
    heavy = grade("A", date(2026, 4, 20), credits=16.0)
    assert decide(csu_program(rules), student(heavy), T1_EVAL) == []
    (notice,) = decide(csu_program(rules), student(heavy, level="graduate"), T1_EVAL)
    assert notice.facts["max_attempted_credits"] == 15.0


# -- counting credits ------------------------------------------------------------------------


def test_transfer_credits_count_toward_completion_but_not_gpa() -> None:
    # D and C: GPA 1.50. Twelve transfer credits with an A would lift the GPA if they were counted.
    transfer = grade("A", date(2026, 1, 2), credits=12.0, transfer=True)
    (notice,) = decide(csu_program(SAP), student(transfer, *in_t1("D", "C")), T1_EVAL)
    assert notice.facts["gpa"] == 1.5
    assert notice.facts["failed_standards"] == ["gpa"]
    assert (notice.facts["attempted_credits"], notice.facts["earned_credits"]) == (18.0, 18.0)


def test_transfer_credits_rescue_the_completion_rate() -> None:
    # A and W: 50 % alone; with 12 transfer credits 15 of 18 are earned.
    base = in_t1("A", "W", points=None)
    assert decide(csu_program(SAP), student(*base), T1_EVAL) != []
    transfer = grade("T", date(2026, 1, 2), credits=12.0, transfer=True, points=None)
    assert decide(csu_program(SAP), student(transfer, *base), T1_EVAL) == []


def test_a_term_with_only_transfer_credits_is_not_a_trimester_of_the_student() -> None:
    transfer = grade("F", date(2026, 3, 1), credits=12.0, transfer=True, passed=False)
    assert decide(csu_program(SAP), student(transfer), T1_EVAL) == []


def test_withdrawals_and_incompletes_are_attempted_not_earned_and_not_in_gpa() -> None:
    grades = [grade("A", date(2026, 4, 20)), grade("W", date(2026, 4, 20), points=0.0)]
    grades.append(grade("I", date(2026, 4, 20), points=0.0, course="MTH101"))
    (notice,) = decide(csu_program(SAP), student(*grades), T1_EVAL)
    assert notice.facts["gpa"] == 4.0  # W and I ignored even with grade points sent
    assert (notice.facts["attempted_credits"], notice.facts["earned_credits"]) == (9.0, 3.0)
    assert notice.facts["failed_standards"] == ["completion_rate"]


def test_final_grade_replaces_the_incomplete_and_sap_is_recalculated() -> None:
    compiled = csu_program(SAP)
    incomplete = grade("I", date(2026, 4, 20), course="MTH101", term="t1", points=None)
    state = student(grade("A", date(2026, 4, 20), term="t1"), incomplete)
    warning = evaluate_enrollment(compiled, state, T1_EVAL)
    assert [d.facts["standing_after"] for d in warning.decisions] == [WARNING]
    state = apply_evaluation(state, warning, T1_EVAL)
    # The final grade of the same course and term arrives after the trimester: "at which point SAP
    # will be re-calculated" — back in good standing, and the student is told.
    state = state.with_input(grade("B", date(2026, 5, 10), course="MTH101", term="t1"))
    state = state.with_input(grade("A", date(2026, 8, 1), term="t2"))
    regraded = evaluate_enrollment(compiled, state, date(2026, 5, 11))
    assert [
        (d.episode, d.facts["standing_before"], d.facts["standing_after"]) for d in regraded.decisions
    ] == [("regrade-2026-05-10", WARNING, GOOD)]
    state = apply_evaluation(state, regraded, date(2026, 5, 11))
    # At t2's end the student is recalculated in good standing: no change, no notice.
    assert decide(compiled, state, T2_EVAL) == []
    state = state.with_input(grade("F", date(2026, 8, 2), term="t2"))
    state = state.with_input(grade("F", date(2026, 8, 2), term="t2"))
    (notice,) = decide(compiled, state, T2_EVAL)
    assert notice.facts["standing_before"] == GOOD  # t1 recalculated with the final grade
    assert notice.facts["attempted_credits"] == 15.0  # the B replaced the I: 6 + 9, not 18


def test_an_incomplete_resolved_after_the_term_sends_one_notice_when_the_standing_changes() -> None:
    """ "Incomplete grades ... count as credits attempted but not earned until the final grade has been
    posted, at which point SAP will be re-calculated": one notice on the day the final grade is seen."""
    compiled = csu_program(SAP)
    incomplete = grade("I", date(2026, 4, 20), course="MTH101", term="t1", points=None)
    state = student(grade("A", date(2026, 4, 20), term="t1"), incomplete)  # 3 of 6 earned: Warning

    def resolve(on: date, letter: str) -> Any:
        def activity(s: EnrollmentState, day: date) -> EnrollmentState:
            return s.with_input(grade(letter, day, course="MTH101", term="t1")) if day == on else s

        return activity

    decisions = run(
        compiled, state, date(2026, 4, 1), date(2026, 8, 31), activity=resolve(date(2026, 6, 3), "B")
    )
    assert [
        (d.on.isoformat(), d.episode, d.facts["standing_before"], d.facts["standing_after"])
        for d in decisions
    ] == [
        ("2026-04-26", "t1", GOOD, WARNING),
        ("2026-06-04", "regrade-2026-06-03", WARNING, GOOD),
    ]
    regrade = decisions[1]
    assert (regrade.due_on, regrade.recipients) == (date(2026, 6, 4), ("student", "advisor"))
    assert regrade.facts["occasion"] == "grade_change"
    assert (regrade.facts["regraded_terms"], regrade.facts["regraded_courses"]) == (["t1"], ["MTH101"])
    assert (regrade.facts["attempted_credits"], regrade.facts["earned_credits"]) == (6.0, 6.0)
    # An F in its place changes nothing: still on Warning, no second notice.
    decisions = run(
        compiled, state, date(2026, 4, 1), date(2026, 8, 31), activity=resolve(date(2026, 6, 3), "F")
    )
    assert [d.episode for d in decisions] == ["t1"]


def test_a_late_grade_that_lowers_the_standing_is_told() -> None:
    compiled = csu_program(SAP)
    state = student(*in_term(T1, "A", "A"))
    assert decide(compiled, state, T1_EVAL) == []  # Good, no change
    state = replace(state, checked_through=T1_EVAL).with_input(grade("F", date(2026, 5, 2), term="t1"))
    state = state.with_input(grade("F", date(2026, 5, 2), term="t1"))
    (notice,) = decide(compiled, state, date(2026, 5, 3))
    assert (notice.episode, notice.facts["standing_before"], notice.facts["standing_after"]) == (
        "regrade-2026-05-02",
        GOOD,
        WARNING,
    )
    assert notice.facts["regraded_courses"] is None  # no course named: none stated
    email = render(
        make_notice(EVALUATE, facts={k: v for k, v in notice.facts.items() if v is not None}),
        contact("student"),
        TEMPLATES,
    )
    assert (
        "A final grade for the trimester that ended on Saturday, April 25, 2026 was posted on Saturday, "
        "May 2, 2026, and your Satisfactory Academic Progress (SAP) was re-calculated with it"
    ) in " ".join(email.text.split())


def test_only_the_last_repeat_counts_in_gpa_and_earned() -> None:
    compiled = csu_program(SAP)
    t1 = [grade("F", date(2026, 4, 20), course="MTH101", term="t1"), grade("A", date(2026, 4, 20), term="t1")]
    t2 = [
        grade("B", date(2026, 8, 15), course="MTH101", term="t2", repeat=True),
        grade("A", date(2026, 8, 15), term="t2"),
    ]
    state = student(*t1, *t2)
    (warning,) = decide(compiled, student(*t1), T1_EVAL)
    assert warning.facts["failed_standards"] == ["completion_rate"]  # GPA 2.00, 50 % earned
    state = replace(state, fired={f"{EVALUATE}#t1": T1_EVAL})
    (good,) = decide(compiled, state, T2_EVAL)
    assert (good.facts["standing_before"], good.facts["standing_after"]) == (WARNING, GOOD)
    assert good.facts["gpa"] == 3.66  # (4 + 3 + 4) / 3, the F no longer counts
    assert (good.facts["attempted_credits"], good.facts["earned_credits"]) == (12.0, 9.0)


def test_repeating_a_passed_course_earns_its_credits_once() -> None:
    grades = [
        grade("C", date(2026, 4, 20), course="ENG101", term="t1"),
        grade("A", date(2026, 8, 15), course="ENG101", term="t2", repeat=True),
    ]
    compiled = csu_program({EVALUATE: {"min_completion_rate": 0.6}})
    (notice,) = decide(compiled, student(*grades), T2_EVAL)  # 3 of 6 earned: 50 % < 60 %
    assert (notice.facts["attempted_credits"], notice.facts["earned_credits"]) == (6.0, 3.0)
    assert notice.facts["gpa"] == 4.0


def test_grade_without_term_belongs_to_the_trimester_it_was_posted_in_or_after() -> None:
    # Posted in the break after t1 (before t2 starts): counts for t1.
    assert decide(csu_program(SAP), student(grade("F", date(2026, 4, 28))), T1_EVAL) == []
    late = student(grade("F", date(2026, 4, 28)))
    (notice,) = decide(csu_program(SAP), late, date(2026, 4, 29))
    assert (notice.episode, notice.due_on) == ("t1", T1_EVAL)


def test_grade_naming_a_session_counts_for_the_trimester_around_it() -> None:
    session = {"id": "s1-8wk", "start": "2026-01-05", "end": "2026-03-01", "kind": "session"}
    compiled = csu_program({EVALUATE: {"term_kinds": ["trimester"]}}, terms=[session, T1, T2])
    state = student(grade("F", date(2026, 3, 3), term="s1-8wk"))
    assert decide(compiled, state, date(2026, 3, 2)) == []  # the session's end is no SAP date
    (notice,) = decide(compiled, state, T1_EVAL)
    assert notice.episode == "t1"


# -- the dated completion rate: 67 % before July 2016, 66.66 % from then on ---------------------


def _dated_program(term_end: str) -> CompiledProgram:
    term = {"id": "t-2016", "start": "2016-03-07", "end": term_end, "kind": "trimester"}
    later = {"id": "t-2016b", "start": "2016-08-01", "end": "2016-11-19", "kind": "trimester"}
    version = PolicyVersion(
        version="2016-07", effective=date(2016, 7, 1), rules={EVALUATE: {"min_completion_rate": 0.6666}}
    )
    return csu_program({EVALUATE: {"min_completion_rate": 0.67}}, terms=[term, later], versions=(version,))


@pytest.mark.parametrize(
    ("term_end", "fails", "version"),
    [("2016-06-30", True, "base"), ("2016-07-01", False, None)],
)
def test_completion_rate_in_force_on_the_terms_end_date(
    term_end: str, fails: bool, version: str | None
) -> None:
    compiled = _dated_program(term_end)
    grades = [grade(x, date(2016, 6, 28), term="t-2016") for x in ("A", "A", "F")]  # 2 of 3 = 66.67 %
    day = date.fromisoformat(term_end) + timedelta(days=1)  # both evaluated under the July 2016 version
    assert compiled.context_on(day).policy_version == "2016-07"
    decisions = decide(compiled, student(*grades, start=date(2016, 3, 7)), day)
    assert bool(decisions) is fails
    if fails:
        assert decisions[0].facts["min_completion_rate"] == 0.67
        assert decisions[0].policy_version == version
        assert decisions[0].facts["failed_standards"] == ["completion_rate"]


def test_a_catch_up_long_after_the_change_still_applies_the_old_rate() -> None:
    compiled = _dated_program("2016-06-30")
    grades = [grade(x, date(2016, 6, 28), term="t-2016") for x in ("A", "A", "F")]
    (notice,) = decide(compiled, student(*grades, start=date(2016, 3, 7)), date(2016, 9, 1))
    assert (notice.due_on, notice.facts["min_completion_rate"]) == (date(2016, 7, 1), 0.67)


# -- the standing table ------------------------------------------------------------------------


def test_standing_table_transitions() -> None:
    params = SapParams()
    assert next_standing(GOOD, 0, True, params) == (GOOD, 0)
    assert next_standing(GOOD, 0, False, params) == (WARNING, 0)
    assert next_standing(WARNING, 0, True, params) == (GOOD, 0)
    assert next_standing(WARNING, 0, False, params) == (PROBATION, 0)
    assert next_standing(PROBATION, 0, True, params) == (GOOD, 0)
    assert next_standing(PROBATION, 0, False, params) == (PROBATION, 1)  # academic plan needed
    assert next_standing(PROBATION, 1, False, params) == (SUSPENSION, 0)
    assert next_standing(PROBATION_II, 1, False, params) == (SUSPENSION, 0)
    assert next_standing(PROBATION_II, 0, True, params) == (GOOD, 0)


def test_full_progression_to_suspension_and_back_by_appeal() -> None:
    """D grades (GPA 1.00) four trimesters running; after the suspension the student returns in t6."""
    grades = [
        *in_term(T1, "D"),
        *in_term(T2, "D"),
        *in_term(T3, "D"),
        *in_term(T4, "D"),
        *in_term(T6, "A", "A"),
    ]
    compiled = csu_program(SAP)
    decisions = run(compiled, student(*grades), date(2026, 1, 5), date(2028, 1, 31))
    assert [
        (d.on.isoformat(), d.episode, d.facts["standing_before"], d.facts["standing_after"])
        for d in decisions
    ] == [
        ("2026-04-26", "t1", GOOD, WARNING),
        ("2026-08-23", "t2", WARNING, PROBATION),
        # t3 failed too: still on probation (first of two trimesters), no change, no notice
        ("2027-04-25", "t4", PROBATION, SUSPENSION),
        ("2027-12-19", "t6", PROBATION_II, GOOD),
    ]
    assert all(d.kind == "notice" and d.status_after is None for d in decisions)
    suspension = decisions[2]
    # "at least two (2) weeks prior to the start of the term": t5 (May 3) is too close, t6 is not.
    assert suspension.deadlines == {"appeal": date(2027, 8, 16)}
    assert suspension.facts["reentry_term_id"] == "t6"
    assert decisions[3].facts["gpa"] == 2.0


def test_probation_met_within_one_trimester_returns_to_good() -> None:
    grades = [*in_term(T1, "D"), *in_term(T2, "D"), *in_term(T3, "A", "A", "A")]
    decisions = run(csu_program(SAP), student(*grades), date(2026, 1, 5), date(2027, 1, 31))
    assert [d.facts["standing_after"] for d in decisions] == [WARNING, PROBATION, GOOD]


def test_a_trimester_without_coursework_does_not_move_the_standing() -> None:
    grades = [*in_term(T1, "D"), *in_term(T3, "D")]  # nothing in t2
    decisions = run(csu_program(SAP), student(*grades), date(2026, 1, 5), date(2027, 1, 31))
    assert [(d.episode, d.facts["standing_after"]) for d in decisions] == [("t1", WARNING), ("t3", PROBATION)]


def test_suspension_is_a_notice_and_the_student_stays_evaluated() -> None:
    grades = [*in_term(T1, "D"), *in_term(T2, "D"), *in_term(T3, "D"), *in_term(T4, "D")]
    state = student(*grades)
    state = replace(state, fired={f"{EVALUATE}#{t}": T1_EVAL for t in ("t1", "t2", "t3")})
    evaluation = evaluate_enrollment(csu_program(SAP), state, date(2027, 4, 25))
    (notice,) = evaluation.decisions
    assert (notice.kind, notice.facts["standing_after"], evaluation.status) == (
        "notice",
        SUSPENSION,
        "active",
    )


def test_suspension_without_a_later_term_states_no_appeal_date() -> None:
    grades = [*in_term(T1, "D"), *in_term(T2, "D"), *in_term(T3, "D"), *in_term(T4, "D")]
    decisions = run(
        csu_program(SAP, terms=[T1, T2, T3, T4]), student(*grades), date(2026, 1, 5), date(2027, 6, 1)
    )
    assert decisions[-1].facts["standing_after"] == SUSPENSION
    assert decisions[-1].deadlines == {}
    assert "reentry_term_id" not in decisions[-1].facts


def test_catch_up_sends_only_the_latest_change_and_skips_the_earlier() -> None:
    grades = [*in_term(T1, "D"), *in_term(T2, "D")]
    decisions = decide(csu_program(SAP), student(*grades), date(2026, 9, 1))  # down since April
    assert [(d.episode, d.kind, d.reason, d.due_on) for d in decisions] == [
        ("t1", "skipped", "superseded", T1_EVAL),
        ("t2", "notice", None, T2_EVAL),
    ]
    assert decisions[0].recipients == ()


def test_late_grades_are_evaluated_when_they_arrive() -> None:
    compiled = csu_program(SAP)
    state = student()
    assert decide(compiled, state, T1_EVAL) == []  # no grades yet
    state = state.with_input(grade("F", date(2026, 4, 30), term="t1"))
    assert decide(compiled, state, date(2026, 4, 30)) == []  # seen from the next day
    (notice,) = decide(compiled, state, date(2026, 5, 1))
    assert (notice.episode, notice.on, notice.due_on) == ("t1", date(2026, 5, 1), T1_EVAL)


def test_grade_posting_days_delays_the_evaluation() -> None:
    compiled = csu_program({EVALUATE: {"grade_posting_days": 5}})
    state = student(*in_t1("F"))
    assert decide(compiled, state, date(2026, 4, 30)) == []
    (notice,) = decide(compiled, state, date(2026, 5, 1))
    assert notice.due_on == date(2026, 5, 1)
    assert evaluate_enrollment(compiled, student(), date(2026, 4, 1)).wake_on == date(2026, 5, 1)


def test_sap_needs_terms_to_evaluate_at() -> None:
    with pytest.raises(ValueError, match="no terms"):
        csu_program(SAP, terms=[])
    with pytest.raises(ValueError, match="no terms"):
        csu_program({EVALUATE: {"term_kinds": ["quarter"]}})


def test_bad_sap_parameter_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="min_completion_rate"):
        csu_program({EVALUATE: {"min_completion_rate": 66.66}})


def test_a_warning_after_its_action_is_refused_at_load() -> None:
    rules = {
        "csu.engagement.at_risk_14d": {"warning_day": 14, "action_day": 10},
        "csu.engagement.withdraw_21d": {},
    }
    with pytest.raises(ValueError, match=r"the warning \(day 14\) must come before the action \(day 10\)"):
        csu_program(rules)
    # Without the action the warning's day stands alone.
    csu_program({"csu.engagement.at_risk_14d": {"warning_day": 25}})


def test_sap_rules_do_not_run_on_enrollments() -> None:
    enrollment = replace(student(*in_t1("F")), scope="enrollment", key="csu#cls#stu-1", class_id="cls")
    assert decide(csu_program(SAP_BOTH), enrollment, T1_EVAL) == []


# -- csu.sap.inactive_withdrawal ---------------------------------------------------------------

# t1 ends 2026-04-25 and puts the student on Warning: the 12 whole months are 2026-04-26 …
# 2027-04-25 ("Lapses count whole days"), the withdrawal is due the day after.
INACTIVE_DUE = date(2027, 4, 26)


@pytest.mark.parametrize(
    ("day", "fires"), [(date(2027, 4, 25), False), (INACTIVE_DUE, True), (date(2027, 4, 27), True)]
)
def test_withdrawal_12_months_after_being_placed_on_warning(day: date, fires: bool) -> None:
    state = student(*in_t1("A", "F", "F"))  # last passing grade 2026-04-20, Warning from 2026-04-25
    state = replace(state, fired={f"{EVALUATE}#t1": T1_EVAL})
    decisions = decide(csu_program(SAP_BOTH, terms=[T1]), state, day)
    assert [(d.rule_id, d.kind, d.status_after) for d in decisions] == (
        [(INACTIVE, "action", "withdrawn")] if fires else []
    )
    if fires:
        (action,) = decisions
        assert (action.due_on, action.recipients) == (INACTIVE_DUE, ("student",))
        assert action.facts["standing"] == WARNING
        assert action.facts["last_completed_coursework"] == "2026-04-25"
        assert action.facts["standing_since"] == "2026-04-25"


def test_withdrawal_counts_from_the_latest_passing_grade() -> None:
    # On Warning after t1; a passing course in t2's first session posted 2026-06-30, t2 not over yet.
    grades = [*in_t1("F", "F"), grade("A", date(2026, 6, 30), term="t2", course="X")]
    compiled = csu_program({INACTIVE: {}}, terms=[T1, T2])
    state = student(*grades)
    assert decide(compiled, state, date(2027, 4, 26)) == []  # t2 evaluated: A + F + F, GPA 1.33 → probation
    # With only t1 in the calendar the June grade still resets the clock.
    only_t1 = csu_program({INACTIVE: {}}, terms=[T1])
    assert decide(only_t1, state, date(2027, 6, 30)) == []
    (action,) = decide(only_t1, state, date(2027, 7, 1))
    assert action.facts["last_completed_coursework"] == "2026-06-30"


def test_withdrawal_counts_from_the_end_of_probation_placement() -> None:
    grades = [*in_term(T1, "D"), *in_term(T2, "D")]  # passing D grades, GPA 1.00
    compiled = csu_program({INACTIVE: {}}, terms=[T1, T2])
    state = student(*grades)
    assert decide(compiled, state, date(2027, 8, 22)) == []
    (action,) = decide(compiled, state, date(2027, 8, 23))
    assert action.facts["standing"] == PROBATION
    assert action.facts["standing_since"] == "2026-08-22"


def test_students_in_good_standing_or_suspended_are_not_withdrawn() -> None:
    good = student(*in_t1("A"))
    assert decide(csu_program({INACTIVE: {}}, terms=[T1]), good, date(2028, 1, 1)) == []
    suspended = student(*in_term(T1, "D"), *in_term(T2, "D"), *in_term(T3, "D"), *in_term(T4, "D"))
    assert decide(csu_program({INACTIVE: {}}, terms=[T1, T2, T3, T4]), suspended, date(2029, 1, 1)) == []


def test_months_are_calendar_months_at_a_month_end() -> None:
    term = {"id": "tj", "start": "2026-10-05", "end": "2027-01-31", "kind": "trimester"}
    compiled = csu_program({INACTIVE: {"inactive_months": 1}}, terms=[term])
    state = student(grade("F", date(2027, 1, 29), term="tj"), start=date(2026, 10, 5))
    assert decide(compiled, state, date(2027, 2, 28)) == []  # Jan 31 + 1 month: the last whole day
    (action,) = decide(compiled, state, date(2027, 3, 1))
    assert action.due_on == date(2027, 3, 1)


def test_withdrawal_wake_date_is_exact_when_run_on_wake_dates_only() -> None:
    compiled = csu_program(SAP_BOTH, terms=[T1, T2])
    decisions = run(compiled, student(*in_t1("F")), date(2026, 1, 5), date(2027, 6, 1))
    assert [(d.on, d.rule_id, d.kind) for d in decisions] == [
        (T1_EVAL, EVALUATE, "notice"),
        (INACTIVE_DUE, INACTIVE, "action"),
    ]
    evaluation = evaluate_enrollment(
        compiled, replace(student(*in_t1("F")), fired={f"{EVALUATE}#t1": T1_EVAL}), date(2026, 9, 1)
    )
    assert evaluation.wake_on == INACTIVE_DUE


def test_rejected_withdrawal_does_not_wake_every_day() -> None:
    compiled = csu_program({INACTIVE: {}}, terms=[T1])
    state = replace(student(*in_t1("F")), fired={f"{INACTIVE}#since-2026-04-25": INACTIVE_DUE})
    evaluation = evaluate_enrollment(compiled, state, date(2027, 5, 1))
    assert evaluation.decisions == () and evaluation.wake_on is None


# -- csu.late.assignment -----------------------------------------------------------------------

LATE: dict[str, dict[str, Any]] = {"csu.late.assignment": {}}
DUE = datetime(2026, 3, 2, 5, 59, tzinfo=UTC)  # Sunday 2026-03-01 23:59 in Chicago (CST)


def work(
    at: datetime,
    *,
    kind: str = "assignment",
    work_id: str = "ct-1",
    due_at: datetime | None = DUE,
    incomplete: bool = False,
    on: date | None = None,
    event_id: str | None = None,
) -> Input:
    return Input(
        event_id=event_id or f"w{next(_ids)}",
        kind="graded_work",
        on=on or at.date(),
        at=at,
        data=GradedWork(work=kind, work_id=work_id, due_at=due_at, incomplete_approved=incomplete),  # type: ignore[arg-type]
        class_id="cls",
    )


def enrollment(
    *inputs: Input, end: date | None = date(2026, 4, 26), start: date = date(2026, 3, 2)
) -> EnrollmentState:
    state = EnrollmentState(key="e", start_date=start, end_date=end, term_id="spring", class_id="cls")
    for item in inputs:
        state = state.with_input(item)
    return state


def late_decision(compiled: CompiledProgram, item: Input, **kw: Any) -> Any:
    decisions = decide(compiled, enrollment(item, **kw), item.on + timedelta(days=1))
    return decisions[0] if decisions else None


@pytest.mark.parametrize(
    ("at", "days", "accepted", "penalty"),
    [
        (DUE + timedelta(seconds=30), 1, True, 0),  # Sun 23:59:30: late on the due date itself
        (datetime(2026, 3, 2, 6, 0, tzinfo=UTC), 1, True, 0),  # Mon 00:00 CST
        (datetime(2026, 3, 2, 18, 0, tzinfo=UTC), 1, True, 0),
        (datetime(2026, 3, 8, 18, 0, tzinfo=UTC), 7, True, 0),  # last grace day (DST starts that day)
        (datetime(2026, 3, 9, 18, 0, tzinfo=UTC), 8, True, 10),
        (datetime(2026, 3, 16, 4, 30, tzinfo=UTC), 14, True, 10),  # Sun 23:30 CDT on day 14
        (datetime(2026, 3, 16, 5, 30, tzinfo=UTC), 15, False, None),  # Mon 00:30 CDT (23:30 in CST)
        (datetime(2026, 3, 20, 18, 0, tzinfo=UTC), 19, False, None),
    ],
)
def test_late_assignment_days_and_outcome(
    at: datetime, days: int, accepted: bool, penalty: int | None
) -> None:
    decision = late_decision(program(LATE), work(at, on=at.astimezone(CHICAGO).date()))
    assert decision is not None
    assert (decision.facts["days_late"], decision.facts["accepted"]) == (days, accepted)
    assert decision.facts["max_penalty_percent"] == penalty
    assert decision.recipients == ("instructor",) and decision.kind == "notice"
    assert decision.episode == "ct-1"
    assert decision.facts["due_date"] == "2026-03-01"
    assert decision.facts["not_accepted_because"] == ([] if accepted else ["more_than_14_days_late"])


@pytest.mark.parametrize("at", [DUE - timedelta(hours=3), DUE])
def test_work_on_time_gets_no_decision(at: datetime) -> None:
    assert late_decision(program(LATE), work(at)) is None


def test_days_late_are_calendar_days_over_a_weekend_and_a_holiday() -> None:
    friday_due = datetime(2026, 3, 7, 5, 59, tzinfo=UTC)  # Fri 2026-03-06 23:59 CST
    monday = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    compiled = program(LATE, holidays=["2026-03-09"])
    decision = late_decision(compiled, work(monday, due_at=friday_due))
    assert decision.facts["days_late"] == 3


def test_program_time_zone_decides_the_date() -> None:
    # 2026-03-09 03:00 UTC is still Sunday 2026-03-08 in Denver, Monday in UTC.
    due = datetime(2026, 3, 1, 23, 59, tzinfo=DENVER)
    at = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    denver = csu_program(LATE, time_zone="America/Denver")
    decision = decide(denver, enrollment(work(at, due_at=due, on=date(2026, 3, 8))), date(2026, 3, 9))[0]
    assert decision.facts["days_late"] == 7 and decision.facts["max_penalty_percent"] == 0
    assert decision.facts["due_time"] == "23:59 MST" and decision.facts["submitted_time"] == "21:00 MDT"


def test_nothing_is_accepted_after_the_last_day_of_class_without_an_incomplete() -> None:
    at = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)  # 5 days late, after class ended on the 5th
    refused = late_decision(program(LATE), work(at), end=date(2026, 3, 5))
    assert (refused.facts["accepted"], refused.facts["not_accepted_because"]) == (
        False,
        ["after_last_day_of_class"],
    )
    assert refused.facts["last_day_of_class"] == "2026-03-05"
    on_last_day = late_decision(program(LATE), work(at), end=date(2026, 3, 6))
    assert on_last_day.facts["accepted"] is True
    with_incomplete = late_decision(program(LATE), work(at, incomplete=True), end=date(2026, 3, 5))
    assert with_incomplete.facts["accepted"] is True and with_incomplete.facts["max_penalty_percent"] == 0


def test_an_incomplete_does_not_rescue_work_15_days_late() -> None:
    at = datetime(2026, 3, 20, 18, 0, tzinfo=UTC)
    decision = late_decision(program(LATE), work(at, incomplete=True), end=date(2026, 3, 5))
    assert decision.facts["accepted"] is False
    assert decision.facts["not_accepted_because"] == ["more_than_14_days_late"]


def test_late_assignment_answers_after_the_course_end_date() -> None:
    at = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    state = enrollment(work(at), end=date(2026, 3, 5))
    evaluation = evaluate_enrollment(program(LATE), state, date(2026, 3, 7))
    assert [d.facts["accepted"] for d in evaluation.decisions] == [False]
    assert evaluation.wake_on is None  # input-driven: no wake date


def test_late_assignment_once_per_work_and_seen_from_the_next_day() -> None:
    compiled = program(LATE)
    first = work(datetime(2026, 3, 4, 18, 0, tzinfo=UTC), work_id="ct-1")
    again = work(datetime(2026, 3, 5, 18, 0, tzinfo=UTC), work_id="ct-1")
    other = work(datetime(2026, 3, 5, 19, 0, tzinfo=UTC), work_id="ms-1", kind="milestone")
    state = enrollment(first, again, other)
    assert decide(compiled, state, date(2026, 3, 4)) == []
    evaluation = evaluate_enrollment(compiled, state, date(2026, 3, 6))
    assert [(d.episode, d.facts["days_late"], d.facts["work"]) for d in evaluation.decisions] == [
        ("ct-1", 3, "assignment"),
        ("ms-1", 4, "milestone"),
    ]
    state = apply_evaluation(state, evaluation, date(2026, 3, 6))
    assert decide(compiled, state, date(2026, 3, 7)) == []


def test_on_time_first_submission_is_not_made_late_by_a_resubmission() -> None:
    state = enrollment(
        work(DUE - timedelta(days=1), work_id="ct-1"), work(DUE + timedelta(days=2), work_id="ct-1")
    )
    assert decide(program(LATE), state, date(2026, 3, 6)) == []


def test_late_assignment_ignores_posts_and_work_without_a_due_date() -> None:
    at = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    state = enrollment(work(at, kind="discussion_post", work_id="db"), work(at, due_at=None, work_id="x"))
    assert decide(program(LATE), state, date(2026, 3, 10)) == []


def test_late_assignment_parameters() -> None:
    compiled = program(
        {"csu.late.assignment": {"grace_days": 3, "last_accepted_day": 5, "max_penalty_percent": 20}}
    )
    d4 = late_decision(compiled, work(datetime(2026, 3, 5, 18, 0, tzinfo=UTC)))
    assert (d4.facts["days_late"], d4.facts["max_penalty_percent"]) == (4, 20)
    with pytest.raises(ValueError, match="last_accepted_day"):
        program({"csu.late.assignment": {"grace_days": 7, "last_accepted_day": 5}})


# -- csu.late.discussion -----------------------------------------------------------------------

DISC: dict[str, dict[str, Any]] = {"csu.late.discussion": {}}
TERM_SPRING: dict[str, Any] = {"terms": [{"id": "spring", "start": "2026-03-02", "end": "2026-04-26"}]}


def post(at: datetime, *, reply: bool = False, due_at: datetime | None = None, work_id: str = "db") -> Input:
    return work(
        at,
        kind="discussion_reply" if reply else "discussion_post",
        work_id=work_id,
        due_at=due_at,
        on=at.astimezone(DENVER).date(),
    )


def disc_decision(item: Input, rules: dict[str, Any] | None = None) -> Any:
    compiled = program(rules or DISC, **TERM_SPRING)
    decisions = decide(compiled, enrollment(item), item.on + timedelta(days=1))
    return decisions[0] if decisions else None


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "late", "accepted"),
    [
        (utc(2026, 3, 13, 5, 59, 30), False, None),  # Thu 2026-03-12 23:59:30 MDT: on time
        (utc(2026, 3, 13, 6, 0), True, True),  # Fri 00:00 MDT (Thu 23:00 if it were MST)
        (utc(2026, 3, 16, 5, 59), True, True),  # Sun 23:59 MDT
    ],
)
def test_original_post_due_thursday_mountain_daylight_time(
    at: datetime, late: bool, accepted: bool | None
) -> None:
    decision = disc_decision(post(at))
    assert (decision is not None) is late
    if late:
        assert decision.facts["accepted"] is accepted
        assert decision.facts["due_date"] == "2026-03-12"
        assert decision.facts["deadline_zone"] == "MDT"
        assert decision.facts["course_week"] == 2
        assert decision.recipients == ("instructor",)


def test_original_post_due_thursday_in_standard_time_before_the_change() -> None:
    # Week of Mon 2026-03-02: Thursday the 5th is still MST (UTC-7); DST starts Sunday the 8th.
    assert disc_decision(post(utc(2026, 3, 6, 6, 30))) is None  # Thu 23:30 MST
    late = disc_decision(post(utc(2026, 3, 6, 7, 0)))  # Fri 00:00 MST
    assert late.facts["accepted"] is True and late.facts["deadline_zone"] == "MST"
    assert late.facts["course_week"] == 1


def test_reply_after_sunday_of_its_week_is_refused_across_the_spring_change() -> None:
    week = datetime(2026, 3, 5, 12, 0, tzinfo=DENVER)  # the LMS says: week of Mon 2026-03-02
    on_time = post(utc(2026, 3, 9, 5, 30), reply=True, due_at=week)  # Sun 23:30 MDT
    assert disc_decision(on_time) is None
    refused = disc_decision(post(utc(2026, 3, 9, 6, 30), reply=True, due_at=week))  # Mon 00:30 MDT
    assert refused.facts["accepted"] is False
    assert refused.facts["not_accepted_because"] == ["after_sunday_of_its_week"]
    assert (refused.facts["week_end"], refused.facts["week_end_zone"]) == ("2026-03-08", "MDT")


def test_post_on_the_sunday_the_clocks_go_back_is_still_accepted() -> None:
    week = datetime(2026, 10, 27, 12, 0, tzinfo=DENVER)  # week of Mon 2026-10-26 .. Sun 2026-11-01
    accepted = disc_decision(post(utc(2026, 11, 2, 6, 30), due_at=week))  # Sun 23:30 MST (00:30 in MDT)
    assert accepted.facts["accepted"] is True
    assert accepted.facts["posted_time"] == "23:30 MST"
    refused = disc_decision(post(utc(2026, 11, 2, 7, 0), due_at=week))  # Mon 00:00 MST
    assert refused.facts["accepted"] is False


def test_without_a_due_date_a_post_belongs_to_the_week_it_was_made_in() -> None:
    # Monday 00:30 belongs to the new week: a reply is on time, an original post too.
    assert disc_decision(post(utc(2026, 3, 9, 6, 30), reply=True)) is None
    assert disc_decision(post(utc(2026, 3, 9, 6, 30))) is None
    # A reply made in its week can never be after its Sunday.
    assert disc_decision(post(utc(2026, 3, 16, 5, 59), reply=True)) is None


def test_discussion_deadline_parameters() -> None:
    phoenix = {"csu.late.discussion": {"deadline_time_zone": "America/Phoenix"}}  # no DST: UTC-7 all year
    assert disc_decision(post(utc(2026, 3, 13, 6, 30)), phoenix) is None  # Thu 23:30 MST in Phoenix
    wednesday = {"csu.late.discussion": {"original_post_day": "Wed"}}
    decision = disc_decision(post(utc(2026, 3, 12, 18, 0)), wednesday)
    assert decision.facts["due_date"] == "2026-03-11" and decision.facts["accepted"] is True
    with pytest.raises(ValueError, match="time zone"):
        program({"csu.late.discussion": {"deadline_time_zone": "Mars/Olympus"}})
    with pytest.raises(ValueError, match="original_post_day"):
        program({"csu.late.discussion": {"original_post_day": "Thursday"}})


def test_late_post_once_per_work_id() -> None:
    compiled = program(DISC, **TERM_SPRING)
    state = enrollment(post(utc(2026, 3, 13, 18, 0)), post(utc(2026, 3, 14, 18, 0)))
    evaluation = evaluate_enrollment(compiled, state, date(2026, 3, 15))
    assert [d.episode for d in evaluation.decisions] == ["db"]
    state = apply_evaluation(state, evaluation, date(2026, 3, 15))
    assert decide(compiled, state, date(2026, 3, 16)) == []


def test_course_week_counts_from_the_enrollment_start_without_a_term() -> None:
    compiled = program(DISC)
    state = replace(enrollment(post(utc(2026, 3, 20, 18, 0)), start=date(2026, 3, 4)), term_id=None)
    (decision,) = decide(compiled, state, date(2026, 3, 21))
    assert decision.facts["course_week"] == 3  # weeks of Mar 2, Mar 9, Mar 16


# -- notices render with the facts the families record -------------------------------------------


def _render_facts(decision: Any) -> dict[str, Any]:
    return {k: v for k, v in decision.facts.items() if v is not None}  # as the outbox stores them


def test_suspension_notice_states_the_appeal_date() -> None:
    grades = [*in_term(T1, "D"), *in_term(T2, "D"), *in_term(T3, "D"), *in_term(T4, "D")]
    decisions = run(csu_program(SAP), student(*grades), date(2026, 1, 5), date(2027, 5, 1))
    suspension = decisions[-1]
    notice = make_notice(
        EVALUATE,
        facts=_render_facts(suspension),
        deadlines={k: v.isoformat() for k, v in suspension.deadlines.items()},
        decided_on=suspension.on.isoformat(),
    )
    for role in ("student", "advisor"):
        email = render(notice, contact(role), TEMPLATES)
        assert "Academic Suspension" in email.subject
        for needle in ("Monday, August 16, 2027", "Monday, August 30, 2027", "SAP Probation II", "1.00"):
            assert needle in email.text and needle in email.html


def test_good_standing_notice_without_gpa_credits_renders() -> None:
    facts = {k: v for k, v in SAP_FACTS.items() if k not in ("gpa",)}
    facts |= {"standing_before": WARNING, "standing_after": GOOD, "failed_standards": []}
    email = render(make_notice(EVALUATE, facts=facts), contact("student"), TEMPLATES)
    assert "no grades count in the GPA yet" in email.text
    assert "not met" not in email.text and "back in Good Academic Standing" in email.text


def test_recorded_late_decisions_render() -> None:
    at = datetime(2026, 3, 20, 18, 0, tzinfo=UTC)
    refused = late_decision(program(LATE), work(at), end=date(2026, 3, 5))
    email = render(
        make_notice("csu.late.assignment", facts=_render_facts(refused)), contact("instructor"), TEMPLATES
    )
    assert "not accepted" in email.subject
    assert (
        "more than 14 days after" in email.text
        and "last day of class (Thursday, March 5, 2026)" in email.text
    )
    accepted = disc_decision(post(utc(2026, 3, 13, 6, 0)))
    email = render(
        make_notice("csu.late.discussion", facts=_render_facts(accepted)), contact("instructor"), TEMPLATES
    )
    assert "original post" in email.subject and "Accepted as a late post" in email.text
    assert "Thursday, March 12, 2026 at 11:59 p.m. MDT" in email.text
