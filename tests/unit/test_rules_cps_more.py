"""CPS Online: failure-to-thrive notices, seniors' spring deadline, one pacing appeal per school year."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from onpace_core.notices.render import render
from onpace_rules import EnrollmentState, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.facts import RosterFacts
from onpace_rules.inputs import Appeal, FinalGrade, Input
from onpace_rules.registry import SILENT_RULE_IDS
from onpace_rules.rules.pacing import PacingCheckpoint

from tests.unit.rules_helpers import make_input, program, run, with_activity
from tests.unit.test_render import TEMPLATES, contact, make_notice

FTT = "cps.eligibility.failure_to_thrive"
SENIORS = "cps.seniors.spring_deadline"
DROP = "cps.pacing.ipr_drop"
PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, DROP: {}}
CALENDAR: dict[str, Any] = {
    "school_year_start": ["2025-08-18", "2026-08-17", "2027-08-16"],
    "terms": [
        {
            "id": "fall-2026",
            "start": "2026-08-24",
            "end": "2026-12-18",
            "season": "fall",
            "ipr": "2026-10-09",
        },
        {
            "id": "spring-2027",
            "start": "2027-01-11",
            "end": "2027-05-20",
            "season": "spring",
            "seniors_last_day": "2027-05-07",
        },
        {"id": "fall-2027", "start": "2027-08-23", "end": "2027-12-17", "season": "fall"},
    ],
}


def _input(kind: str, on: date, data: Any, class_id: str | None = None) -> Input:
    return make_input(kind, on, data, class_id, hour=17)


def _fail(on: date, course: str) -> Input:
    return _input("final_grade", on, FinalGrade(grade="F", course=course), class_id=course)


def _student(*inputs: Input, **kw: Any) -> EnrollmentState:
    state = EnrollmentState(
        key="d#student#s1", start_date=date(2026, 8, 24), student_id="s1", scope="student", **kw
    )
    for item in inputs:
        state = state.with_input(item)
    return state


# -- cps.eligibility.failure_to_thrive: the notice --------------------------------------------------


@pytest.mark.parametrize(("day", "fires"), [(date(2026, 12, 18), False), (date(2026, 12, 19), True)])
def test_failure_to_thrive_notice_the_day_after_the_second_failure(day: date, fires: bool) -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    state = _student(_fail(date(2026, 12, 18), "alg1"), _fail(date(2026, 12, 18), "bio"))
    decisions = evaluate_enrollment(compiled, state, day).decisions
    assert bool(decisions) is fires
    if fires:
        (notice,) = decisions
        assert (notice.rule_id, notice.kind, notice.episode) == (FTT, "notice", "2026-27")
        assert notice.recipients == ("student", "guardians", "counselor")
        assert notice.deadlines == {"block_start": date(2027, 1, 11), "block_end": date(2027, 5, 20)}
        assert notice.facts["blocked_term_id"] == "spring-2027"
        assert notice.facts["failed_courses"] == ["alg1", "bio"]
        assert notice.due_on == date(2026, 12, 19)


def test_failure_to_thrive_needs_two_failures_in_the_same_school_year() -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    # One failure in 2025-26 (spring) and one in 2026-27 (fall): two years, one failure each.
    state = _student(_fail(date(2026, 5, 29), "alg1"), _fail(date(2026, 12, 18), "bio"))
    assert evaluate_enrollment(compiled, state, date(2026, 12, 19)).decisions == ()


def test_failures_in_fall_and_spring_block_the_next_fall() -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    state = _student(_fail(date(2026, 12, 18), "alg1"), _fail(date(2027, 5, 24), "bio"))
    (notice,) = evaluate_enrollment(compiled, state, date(2027, 5, 25)).decisions
    assert notice.facts["blocked_term_id"] == "fall-2027"
    assert notice.deadlines["block_start"] == date(2027, 8, 23)


def test_one_notice_per_school_year_and_a_new_one_the_next_year() -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    state = _student(_fail(date(2026, 12, 18), "alg1"), _fail(date(2026, 12, 18), "bio"))
    first = evaluate_enrollment(compiled, state, date(2026, 12, 19))
    state = apply_evaluation(state, first, date(2026, 12, 19)).with_input(_fail(date(2027, 5, 24), "chem"))
    assert evaluate_enrollment(compiled, state, date(2027, 5, 25)).decisions == ()
    state = state.with_input(_fail(date(2027, 12, 17), "geo")).with_input(_fail(date(2027, 12, 17), "eng"))
    (again,) = evaluate_enrollment(compiled, state, date(2027, 12, 18)).decisions
    assert again.episode == "2027-28"
    assert again.deadlines == {}  # the calendar does not list the next semester yet
    assert again.facts["blocked_term_id"] is None


def test_a_block_whose_semester_is_over_is_recorded_as_skipped() -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    state = _student(_fail(date(2026, 12, 18), "alg1"), _fail(date(2026, 12, 18), "bio"))
    (late,) = evaluate_enrollment(compiled, state, date(2027, 6, 1)).decisions  # outage until June
    assert (late.kind, late.reason, late.recipients) == ("skipped", "blocked semester already over", ())


def test_grades_before_the_first_listed_school_year_are_not_counted() -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    state = _student(_fail(date(2025, 6, 1), "alg1"), _fail(date(2025, 6, 1), "bio"))
    assert evaluate_enrollment(compiled, state, date(2025, 6, 2)).decisions == ()


def test_the_notice_is_for_the_student_not_for_each_enrollment() -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    enrollment = EnrollmentState(key="d#c1#s1", start_date=date(2026, 8, 24), term_id="fall-2026")
    for grade in (_fail(date(2026, 12, 17), "alg1"), _fail(date(2026, 12, 17), "bio")):
        enrollment = enrollment.with_input(grade)
    assert evaluate_enrollment(compiled, enrollment, date(2026, 12, 18)).decisions == ()


def test_middle_school_counts_core_courses_only() -> None:
    compiled = program({FTT: {}}, **CALENDAR)
    grades = [
        _input("final_grade", date(2026, 12, 18), FinalGrade(grade="F", course=c, core=core), class_id=c)
        for c, core in (("art", False), ("math", True), ("sci", True))
    ]
    (notice,) = evaluate_enrollment(
        compiled, _student(*grades, roster=RosterFacts(course_level="middle")), date(2026, 12, 19)
    ).decisions
    assert notice.facts["failed_courses"] == ["math", "sci"]
    assert notice.facts["counted_courses"] == "core"


def test_failure_to_thrive_needs_school_years_in_the_calendar() -> None:
    with pytest.raises(ValueError, match="school_year_start"):
        program({FTT: {}}, terms=CALENDAR["terms"])


def test_failure_to_thrive_rejection_renders_for_staff() -> None:
    facts = {
        **make_notice(FTT).facts.as_dict(),  # type: ignore[union-attr]
        "outcome": "rejected",
        "add_date": "2027-01-11",
    }
    notice = make_notice(FTT, kind="action", facts=facts, deadlines={})
    email = render(notice, contact("counselor"), TEMPLATES)
    assert email.subject.startswith("Online add rejected: Jamie Rivera, Algebra I")
    assert "Monday, January 11, 2027 to Thursday, May 20, 2027" in email.text
    assert "has been rejected" in email.text and "has been rejected" in email.html.replace("<strong>", "")


# -- cps.seniors.spring_deadline -------------------------------------------------------------------

PARTICIPATION = {"cps.participation.warning": {}, "cps.participation.drop_20d": {}}


def _spring(grade_level: str | None, **kw: Any) -> EnrollmentState:
    # Last submission Thu 2027-04-15: school day 15 is Thu 05-06, so the warning goes on Fri 05-07
    # (the seniors' last day); school day 20 is Thu 05-13, the drop due Fri 05-14.
    return EnrollmentState(
        key="d#c1#s1",
        start_date=date(2027, 1, 11),
        term_id="spring-2027",
        end_date=date(2027, 5, 20),
        roster=RosterFacts(grade_level=grade_level),
        last_on={"submission": date(2027, 4, 15)},
        **kw,
    )


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_a_senior_gets_no_participation_drop_after_the_seniors_last_day(use_wake: bool) -> None:
    compiled = program({SENIORS: {}, **PARTICIPATION}, **CALENDAR)
    decisions = run(compiled, _spring("12"), date(2027, 4, 17), date(2027, 5, 31), use_wake=use_wake)
    assert [(d.on, d.rule_id) for d in decisions] == [(date(2027, 5, 7), "cps.participation.warning")]


def test_a_junior_is_dropped_as_usual() -> None:
    compiled = program({SENIORS: {}, **PARTICIPATION}, **CALENDAR)
    decisions = run(compiled, _spring("11"), date(2027, 4, 17), date(2027, 5, 31))
    assert [(d.on, d.rule_id) for d in decisions] == [
        (date(2027, 5, 7), "cps.participation.warning"),
        (date(2027, 5, 14), "cps.participation.drop_20d"),
    ]


def test_without_the_rule_a_senior_is_dropped_too() -> None:
    compiled = program(PARTICIPATION, **CALENDAR)
    decisions = run(compiled, _spring("12"), date(2027, 4, 17), date(2027, 5, 31))
    assert [d.rule_id for d in decisions][-1] == "cps.participation.drop_20d"


@pytest.mark.parametrize(
    ("grade", "term", "end", "expected"),
    [
        ("12", "spring-2027", date(2027, 5, 20), date(2027, 5, 7)),
        ("012", "spring-2027", None, date(2027, 5, 7)),  # open-ended enrollment gets the last day
        ("12", "spring-2027", date(2027, 5, 1), date(2027, 5, 1)),  # already earlier: kept
        ("11", "spring-2027", date(2027, 5, 20), date(2027, 5, 20)),
        (None, "spring-2027", date(2027, 5, 20), date(2027, 5, 20)),
        ("12", "fall-2026", date(2026, 12, 18), date(2026, 12, 18)),  # fall: no seniors' last day
    ],
)
def test_the_adjusted_end_date(grade: str | None, term: str, end: date | None, expected: date) -> None:
    compiled = program({SENIORS: {}}, **CALENDAR)
    (adjuster,) = compiled.versions[-1].adjusters
    state = EnrollmentState(
        key="e",
        start_date=date(2026, 8, 24),
        term_id=term,
        end_date=end,
        roster=RosterFacts(grade_level=grade),
    )
    assert adjuster.adjust(state, compiled.context_on(date(2027, 1, 11))).end_date == expected


def test_spring_term_without_a_seniors_last_day_is_unchanged() -> None:
    calendar = {"terms": [{"id": "sp", "start": "2027-01-11", "end": "2027-05-20", "season": "spring"}]}
    compiled = program({SENIORS: {}}, **calendar)
    state = EnrollmentState(
        key="e", start_date=date(2027, 1, 11), term_id="sp", roster=RosterFacts(grade_level="12")
    )
    (adjuster,) = compiled.versions[-1].adjusters
    assert adjuster.adjust(state, compiled.context_on(date(2027, 2, 1))).end_date is None


def test_seniors_rule_is_silent_and_takes_no_parameters() -> None:
    assert SENIORS in SILENT_RULE_IDS
    assert SENIORS in program({SENIORS: {}}, **CALENDAR).rule_ids
    with pytest.raises(ValueError, match="last_day"):
        program({SENIORS: {"last_day": "2027-05-07"}}, **CALENDAR)


# -- cps.pacing.ipr_drop: one pacing appeal per school year ----------------------------------------


def _pacing(*inputs: Input, **kw: Any) -> EnrollmentState:
    state = EnrollmentState(
        key="d#c1#s1",
        start_date=date(2026, 8, 24),
        term_id="fall-2026",
        percent_complete=0.1,
        checked_through=date(2026, 10, 9),
        **kw,
    )
    for item in inputs:
        state = state.with_input(item)
    return state


def _appeal(on: date, rule: str = DROP, class_id: str | None = "other-class") -> Input:
    return _input("appeal", on, Appeal(rule=rule), class_id=class_id)


def _drop(state: EnrollmentState, rules: dict[str, Any] | None = None) -> Any:
    compiled = program(rules or PACING, **CALENDAR)
    (drop,) = evaluate_enrollment(compiled, state, date(2026, 10, 10)).decisions
    assert (drop.rule_id, drop.status_after) == (DROP, "dropped")
    return drop


def test_first_pacing_drop_of_the_year_offers_the_appeal() -> None:
    drop = _drop(_pacing())
    assert drop.deadlines == {"appeal": date(2026, 10, 13)}
    assert (drop.facts["appeal_available"], drop.facts["pacing_appeals_used"]) == (True, 0)


@pytest.mark.parametrize(
    ("appeal", "available"),
    [
        (_appeal(date(2026, 9, 1)), False),  # this school year, another class: appeals are per student
        (_appeal(date(2026, 10, 9)), False),  # the day before the drop: seen
        (_appeal(date(2026, 10, 10)), True),  # the drop day: not seen by its evaluation
        (_appeal(date(2026, 8, 14)), True),  # the school year before (2026-27 starts 08-17)
        (_appeal(date(2026, 9, 1), rule="cps.participation.drop_20d"), True),  # not a pacing appeal
    ],
    ids=["this-year", "day-before", "drop-day", "last-year", "participation"],
)
def test_the_appeal_is_offered_only_while_unused_this_school_year(appeal: Input, available: bool) -> None:
    drop = _drop(_pacing(appeal))
    assert drop.facts["appeal_available"] is available
    assert ("appeal" in drop.deadlines) is available
    assert drop.facts["pacing_appeals_used"] == (0 if available else 1)


def test_the_appeals_per_year_can_be_configured() -> None:
    rules = {**PACING, DROP: {"pacing_appeals_per_year": 2}}
    assert _drop(_pacing(_appeal(date(2026, 9, 1))), rules).deadlines == {"appeal": date(2026, 10, 13)}
    used_up = _drop(_pacing(_appeal(date(2026, 9, 1)), _appeal(date(2026, 9, 20))), rules)
    assert used_up.deadlines == {}
    assert used_up.facts["pacing_appeals_used"] == 2


def test_an_approved_drop_without_an_appeal_left_gets_no_appeal_deadline() -> None:
    compiled = program(PACING, **CALENDAR)
    family = next(f for f in compiled.families if isinstance(f, PacingCheckpoint))
    ctx = compiled.context_on(date(2026, 10, 14))
    used_up = _drop(_pacing(_appeal(date(2026, 9, 1))))
    assert family.redate(used_up, date(2026, 10, 14), ctx).deadlines == {}
    offered = _drop(_pacing())
    assert family.redate(offered, date(2026, 10, 14), ctx).deadlines == {"appeal": date(2026, 10, 16)}


def test_the_worked_example_drop_still_offers_its_appeal() -> None:
    compiled = program(PACING, **CALENDAR)
    state = replace(_pacing(), checked_through=None, percent_complete=None)

    def progress(s: EnrollmentState, day: date) -> EnrollmentState:
        return replace(with_activity(s, "login", day), percent_complete=0.12)

    decisions = run(compiled, state, date(2026, 8, 24), date(2026, 10, 20), activity=progress)
    assert [(d.on, d.rule_id, dict(d.deadlines)) for d in decisions][-1] == (
        date(2026, 10, 10),
        DROP,
        {"appeal": date(2026, 10, 13)},
    )


@pytest.mark.parametrize("role", ["student", "guardian", "counselor"])
def test_a_drop_without_an_appeal_left_says_so(role: str) -> None:
    facts = {
        "percent_complete": 0.12,
        "required_percent": 0.15,
        "ipr_date": "2026-10-09",
        "appeal_available": False,
        "pacing_appeals_used": 1,
        "pacing_appeals_per_year": 1,
    }
    email = render(make_notice(DROP, facts=facts, deadlines={}), contact(role), TEMPLATES)
    for body in (email.text, email.html):
        assert "already used" in body
        assert "Last day to appeal" not in body
        assert "may appeal" not in body
    assert "appeal until" not in email.subject


def test_a_drop_with_its_appeal_still_renders_the_deadline() -> None:
    facts = {
        "percent_complete": 0.12,
        "required_percent": 0.15,
        "ipr_date": "2026-10-09",
        "appeal_available": True,
        "pacing_appeals_used": 0,
        "pacing_appeals_per_year": 1,
    }
    email = render(make_notice(DROP, facts=facts), contact("guardian"), TEMPLATES)
    assert "The last day to appeal is Tuesday, October 13, 2026." in email.text
