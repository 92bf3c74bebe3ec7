"""Checks on enrollment: the CPS add window (and the failure-to-thrive block), the MSC caps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from onpace_rules import EnrollmentState, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.facts import RosterFacts
from onpace_rules.inputs import FinalGrade, Input, Waiver

from tests.unit.rules_helpers import make_input, program, run

ADD = "cps.enrollment.add_window"
FTT = "cps.eligibility.failure_to_thrive"
CAPS = "msc.enrollment.caps"
CPS_CALENDAR: dict[str, Any] = {
    "school_year_start": ["2026-08-17", "2027-08-16"],
    "terms": [
        {"id": "fall-2026", "start": "2026-08-24", "end": "2026-12-18", "season": "fall"},
        {"id": "spring-2027", "start": "2027-01-11", "end": "2027-05-20", "season": "spring"},
        {"id": "fall-2027", "start": "2027-08-23", "end": "2027-12-17", "season": "fall"},
    ],
}
# 2026-08-24 .. 2026-12-18 is 117 days: the midpoint is day 59, 2026-10-21.
MSC_CALENDAR: dict[str, Any] = {"terms": [{"id": "t1", "start": "2026-08-24", "end": "2026-12-18"}]}


def _input(kind: str, on: date, data: Any, class_id: str | None = None) -> Input:
    return make_input(kind, on, data, class_id)


def _enrollment(start: date, term: str | None = "fall-2026", **kw: Any) -> EnrollmentState:
    return EnrollmentState(key="d#c1#s1", start_date=start, term_id=term, class_id="c1", **kw)


def _fail(on: date, course: str, **kw: Any) -> Input:
    return _input("final_grade", on, FinalGrade(grade="F", course=course, **kw), class_id=course)


# -- cps.enrollment.add_window -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "rejected"),
    [
        (date(2026, 9, 12), False),
        (date(2026, 9, 13), False),  # Sun, day 21 of a semester starting Mon 2026-08-24 (day 1)
        (date(2026, 9, 14), True),  # day 22
        (date(2026, 9, 15), True),
        (date(2026, 8, 20), False),  # added before the semester starts
    ],
)
def test_add_window_boundaries(start: date, rejected: bool) -> None:
    """Seed 000: "Students have up to three weeks at the beginning of each semester to add an
    online course." Catalogue: "its first 21 calendar days, the start being day 1: a semester
    starting Mon 2026-08-24 takes adds through Sun 2026-09-13"."""
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    evaluation = evaluate_enrollment(compiled, _enrollment(start), start)
    if not rejected:
        assert evaluation.decisions == ()
        assert evaluation.status == "active"
        return
    (decision,) = evaluation.decisions
    assert (decision.rule_id, decision.kind, decision.status_after) == (ADD, "action", "rejected")
    assert evaluation.status == "rejected"
    assert set(decision.recipients) == {"counselor", "program_admin"}
    assert decision.facts["last_add_date"] == "2026-09-13"
    assert decision.facts["semester_day"] == (start - date(2026, 8, 24)).days + 1
    assert decision.facts["semester_id"] == "fall-2026"
    assert f"on day {decision.facts['semester_day']} of the semester" in str(decision.facts["reason"])
    assert "through day 21 (2026-09-13)" in str(decision.facts["reason"])


def test_add_window_counts_calendar_days_through_a_holiday_and_weekends() -> None:
    # Labor Day (2026-09-07) closes school but not the calendar: the window still ends 09-13.
    compiled = program({ADD: {}}, holidays=["2026-09-07"], **CPS_CALENDAR)
    assert evaluate_enrollment(compiled, _enrollment(date(2026, 9, 13)), date(2026, 9, 13)).decisions == ()
    (late,) = evaluate_enrollment(compiled, _enrollment(date(2026, 9, 14)), date(2026, 9, 14)).decisions
    assert late.status_after == "rejected"


def test_add_window_across_the_spring_daylight_saving_change() -> None:
    # US DST starts 2026-03-08; day 21 of a semester starting Mon 2026-02-23 is Sun 2026-03-15.
    compiled = program({ADD: {}}, terms=[{"id": "sp", "start": "2026-02-23", "end": "2026-06-05"}])
    ok = _enrollment(date(2026, 3, 15), term="sp")
    late = _enrollment(date(2026, 3, 16), term="sp")
    assert evaluate_enrollment(compiled, ok, date(2026, 3, 15)).decisions == ()
    assert [d.status_after for d in evaluate_enrollment(compiled, late, date(2026, 3, 16)).decisions] == [
        "rejected"
    ]


def test_add_window_is_checked_once_on_catch_up_dated_from_the_add() -> None:
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    state = _enrollment(date(2026, 9, 15))
    decisions = run(
        compiled, state, date(2026, 9, 15), date(2026, 9, 30), skip=frozenset({date(2026, 9, 15)})
    )
    assert [(d.on, d.due_on, d.rule_id) for d in decisions] == [(date(2026, 9, 16), date(2026, 9, 15), ADD)]


def test_add_window_is_not_checked_again_after_the_first_look() -> None:
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    state = _enrollment(date(2026, 9, 15), checked_through=date(2026, 9, 15))
    assert evaluate_enrollment(compiled, state, date(2026, 9, 16)).decisions == ()


def test_add_window_waits_for_the_start_date() -> None:
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    state = _enrollment(date(2026, 9, 15))
    early = evaluate_enrollment(compiled, state, date(2026, 9, 10))  # woken early by an input
    assert early.decisions == ()
    assert early.wake_on == date(2026, 9, 15)
    later = apply_evaluation(state, early, date(2026, 9, 10))
    assert [d.rule_id for d in evaluate_enrollment(compiled, later, date(2026, 9, 15)).decisions] == [ADD]


def test_add_window_waiver_is_recorded_and_the_enrollment_stays_active() -> None:
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    waiver = _input("waiver", date(2026, 9, 14), Waiver(check="add_window", by="Principal Ortiz"), "c1")
    evaluation = evaluate_enrollment(
        compiled, _enrollment(date(2026, 9, 15)).with_input(waiver), date(2026, 9, 15)
    )
    (decision,) = evaluation.decisions
    assert (decision.kind, decision.status_after, evaluation.status) == ("action", None, "active")
    assert decision.facts["outcome"] == "accepted_with_waiver"
    assert decision.facts["waived_by"] == "Principal Ortiz"


@pytest.mark.parametrize(
    "waiver",
    [
        _input("waiver", date(2026, 9, 15), Waiver(check="add_window", by="x"), "c1"),  # same day: unseen
        _input("waiver", date(2026, 9, 14), Waiver(check="add_window", by="x"), "other-class"),
        _input("waiver", date(2026, 9, 14), Waiver(check="term_midpoint", by="x"), "c1"),
    ],
    ids=["dated-the-add-day", "other-class", "other-check"],
)
def test_add_window_waiver_must_fit_and_be_seen(waiver: Input) -> None:
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    state = _enrollment(date(2026, 9, 15)).with_input(waiver)
    assert evaluate_enrollment(compiled, state, date(2026, 9, 15)).status == "rejected"


def test_a_waiver_after_the_rejection_does_not_revive_the_enrollment() -> None:
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    state = _enrollment(date(2026, 9, 15))
    evaluation = evaluate_enrollment(compiled, state, date(2026, 9, 15))
    state = apply_evaluation(state, evaluation, date(2026, 9, 15))
    waiver = _input("waiver", date(2026, 9, 16), Waiver(check="add_window", by="x"), "c1")
    again = evaluate_enrollment(compiled, state.with_input(waiver), date(2026, 9, 17))
    assert (again.decisions, again.status) == ((), "rejected")


def test_add_window_uses_the_term_of_the_start_date_when_the_roster_names_none() -> None:
    compiled = program({ADD: {}}, **CPS_CALENDAR)
    assert evaluate_enrollment(
        compiled, _enrollment(date(2027, 2, 2), term=None), date(2027, 2, 2)
    ).status == ("rejected")
    outside = _enrollment(date(2027, 6, 10), term=None)  # summer: no term, nothing to measure
    assert evaluate_enrollment(compiled, outside, date(2027, 6, 10)).decisions == ()


def test_add_window_days_can_be_configured() -> None:
    compiled = program({ADD: {"add_window_days": 14}}, **CPS_CALENDAR)
    # Day 14 is Sun 2026-09-06; day 15 is rejected.
    assert evaluate_enrollment(compiled, _enrollment(date(2026, 9, 6)), date(2026, 9, 6)).status == "active"
    assert evaluate_enrollment(compiled, _enrollment(date(2026, 9, 7)), date(2026, 9, 7)).status == "rejected"
    with pytest.raises(ValueError, match="add_window_days"):
        program({ADD: {"add_window_days": 0}}, **CPS_CALENDAR)


def test_a_rejected_add_stops_every_other_rule() -> None:
    rules = {ADD: {}, "cps.participation.warning": {}, "cps.participation.drop_20d": {}}
    compiled = program(rules, **CPS_CALENDAR)
    decisions = run(compiled, _enrollment(date(2026, 9, 15)), date(2026, 9, 15), date(2026, 12, 18))
    assert [d.rule_id for d in decisions] == [ADD]


# -- failure to thrive: the block applied to a new enrollment -----------------------------------


def _spring_add(*grades: Input, roster: RosterFacts | None = None) -> EnrollmentState:
    state = _enrollment(date(2027, 1, 11), term="spring-2027", roster=roster or RosterFacts())
    for grade in grades:
        state = state.with_input(grade)
    return state


def test_two_failed_courses_block_the_next_semester_enrollment() -> None:
    compiled = program({ADD: {}, FTT: {}}, **CPS_CALENDAR)
    state = _spring_add(_fail(date(2026, 12, 18), "alg1"), _fail(date(2026, 12, 18), "bio"))
    evaluation = evaluate_enrollment(compiled, state, date(2027, 1, 11))
    (decision,) = evaluation.decisions
    assert (decision.rule_id, decision.kind, decision.status_after) == (FTT, "action", "rejected")
    assert decision.recipients == ("counselor", "program_admin")
    assert decision.facts["blocked_term_id"] == "spring-2027"
    assert decision.facts["failed_courses"] == ["alg1", "bio"]
    assert decision.facts["school_year"] == "2026-27"
    assert decision.facts["outcome"] == "rejected"


def test_one_failed_course_does_not_block() -> None:
    compiled = program({ADD: {}, FTT: {}}, **CPS_CALENDAR)
    state = _spring_add(
        _fail(date(2026, 12, 18), "alg1"), _input("final_grade", date(2026, 12, 18), FinalGrade(grade="B"))
    )
    assert evaluate_enrollment(compiled, state, date(2027, 1, 11)).decisions == ()


def test_the_block_covers_only_the_following_semester() -> None:
    compiled = program({FTT: {}}, **CPS_CALENDAR)  # the block applies without the add-window rule too
    grades = [_fail(date(2026, 12, 18), "alg1"), _fail(date(2026, 12, 18), "bio")]
    fall = _enrollment(date(2027, 8, 23), term="fall-2027")
    for grade in grades:
        fall = fall.with_input(grade)
    assert evaluate_enrollment(compiled, fall, date(2027, 8, 23)).decisions == ()
    assert evaluate_enrollment(compiled, _spring_add(*grades), date(2027, 1, 11)).status == "rejected"


def test_grades_posted_on_the_start_day_are_not_yet_seen() -> None:
    compiled = program({FTT: {}}, **CPS_CALENDAR)
    state = _spring_add(_fail(date(2026, 12, 18), "alg1"), _fail(date(2027, 1, 11), "bio"))
    assert evaluate_enrollment(compiled, state, date(2027, 1, 11)).decisions == ()


@pytest.mark.parametrize(
    ("level", "grades", "blocked"),
    [
        ("middle", [{"core": False}, {"core": False}], False),  # credit-bearing, not core
        ("middle", [{"core": True}, {"core": True}], True),
        ("high", [{"credit_bearing": False}, {"credit_bearing": True}], False),
        (None, [{"credit_bearing": True}, {"credit_bearing": True}], True),  # default: high school
    ],
)
def test_which_courses_count_depends_on_the_school_level(
    level: str | None, grades: list[dict[str, bool]], blocked: bool
) -> None:
    compiled = program({FTT: {}}, **CPS_CALENDAR)
    posted = [_fail(date(2026, 12, 18), f"c{i}", **g) for i, g in enumerate(grades)]
    state = _spring_add(*posted, roster=RosterFacts(course_level=level))
    assert (evaluate_enrollment(compiled, state, date(2027, 1, 11)).status == "rejected") is blocked


def test_withdrawals_incompletes_and_corrected_grades_are_not_failures() -> None:
    compiled = program({FTT: {}}, **CPS_CALENDAR)
    w = _input("final_grade", date(2026, 12, 18), FinalGrade(grade="W", course="art"), "art")
    i = _input("final_grade", date(2026, 12, 18), FinalGrade(grade="I", course="pe"), "pe")
    corrected = _input("final_grade", date(2026, 12, 20), FinalGrade(grade="D", course="bio"), "bio")
    state = _spring_add(_fail(date(2026, 12, 18), "alg1"), w, i, _fail(date(2026, 12, 18), "bio"), corrected)
    assert evaluate_enrollment(compiled, state, date(2027, 1, 11)).decisions == ()


def test_the_block_wins_over_a_waived_add_window() -> None:
    compiled = program({ADD: {}, FTT: {}}, **CPS_CALENDAR)
    waiver = _input("waiver", date(2027, 2, 1), Waiver(check="add_window", by="x"), "c1")
    state = replace(
        _spring_add(_fail(date(2026, 12, 18), "a"), _fail(date(2026, 12, 18), "b")),
        start_date=date(2027, 2, 5),
    )
    (decision,) = evaluate_enrollment(compiled, state.with_input(waiver), date(2027, 2, 5)).decisions
    assert (decision.rule_id, decision.status_after) == (FTT, "rejected")


# -- msc.enrollment.caps ---------------------------------------------------------------------------


def _msc(start: date = date(2026, 9, 1), **roster: Any) -> EnrollmentState:
    return EnrollmentState(
        key="d#c1#s1", start_date=start, term_id="t1", class_id="c1", roster=RosterFacts(**roster)
    )


@pytest.mark.parametrize(("position", "rejected"), [(19, False), (20, False), (21, True)])
def test_class_size_boundary(position: int, rejected: bool) -> None:
    compiled = program({CAPS: {}}, **MSC_CALENDAR)
    evaluation = evaluate_enrollment(compiled, _msc(class_position=position), date(2026, 9, 1))
    assert (evaluation.status == "rejected") is rejected
    if rejected:
        assert evaluation.decisions[0].facts["rejected_for"] == ["class_size"]
        assert set(evaluation.decisions[0].recipients) == {"counselor", "program_admin"}


@pytest.mark.parametrize(
    ("online", "total", "rejected"),
    [(2, 4, False), (3, 5, True), (1, 1, True), (5, None, False)],  # None: the district sent no schedule
)
def test_online_share_of_the_schedule(online: int, total: int | None, rejected: bool) -> None:
    compiled = program({CAPS: {}}, **MSC_CALENDAR)
    state = _msc(online_courses_in_term=online, courses_in_term=total)
    evaluation = evaluate_enrollment(compiled, state, date(2026, 9, 1))
    assert (evaluation.status == "rejected") is rejected
    if rejected:
        assert evaluation.decisions[0].facts["online_share"] == round(online / (total or 1), 4)


@pytest.mark.parametrize(
    ("start", "rejected"),
    [(date(2026, 10, 20), False), (date(2026, 10, 21), False), (date(2026, 10, 22), True)],
)
def test_term_midpoint_boundary(start: date, rejected: bool) -> None:
    compiled = program({CAPS: {}}, **MSC_CALENDAR)
    evaluation = evaluate_enrollment(compiled, _msc(start), start)
    assert (evaluation.status == "rejected") is rejected
    if rejected:
        assert evaluation.decisions[0].facts["term_midpoint"] == "2026-10-21"


def test_every_failed_check_is_a_reason() -> None:
    compiled = program({CAPS: {}}, **MSC_CALENDAR)
    state = _msc(date(2026, 11, 2), class_position=25, online_courses_in_term=4, courses_in_term=6)
    (decision,) = evaluate_enrollment(compiled, state, date(2026, 11, 2)).decisions
    assert decision.facts["rejected_for"] == ["class_size", "schedule_share", "term_midpoint"]
    assert str(decision.facts["reason"]).count(";") == 2


def test_waivers_of_every_failed_check_are_recorded_without_rejecting() -> None:
    compiled = program({CAPS: {}}, **MSC_CALENDAR)
    state = _msc(date(2026, 11, 2), online_courses_in_term=4, courses_in_term=6)
    for check in ("schedule_share", "term_midpoint"):
        state = state.with_input(
            _input("waiver", date(2026, 10, 30), Waiver(check=check, by="Supt. Lund"), "c1")
        )
    evaluation = evaluate_enrollment(compiled, state, date(2026, 11, 2))
    (decision,) = evaluation.decisions
    assert (decision.kind, decision.status_after, evaluation.status) == ("action", None, "active")
    assert decision.facts["waived_checks"] == ["schedule_share", "term_midpoint"]
    assert decision.facts["waived_by"] == ["Supt. Lund"]
    assert decision.facts["outcome"] == "accepted_with_waiver"


def test_a_partial_waiver_still_rejects_for_the_rest() -> None:
    compiled = program({CAPS: {}}, **MSC_CALENDAR)
    state = _msc(date(2026, 11, 2), class_position=21).with_input(
        _input("waiver", date(2026, 10, 30), Waiver(check="term_midpoint", by="x"), "c1")
    )
    (decision,) = evaluate_enrollment(compiled, state, date(2026, 11, 2)).decisions
    assert decision.status_after == "rejected"
    assert (decision.facts["rejected_for"], decision.facts["waived_checks"]) == (
        ["class_size"],
        ["term_midpoint"],
    )


def test_caps_are_checked_only_on_enrollment() -> None:
    compiled = program({CAPS: {}}, **MSC_CALENDAR)
    decisions = run(compiled, _msc(class_position=5), date(2026, 9, 1), date(2026, 12, 18), use_wake=False)
    assert decisions == []
    grown = replace(_msc(class_position=30), checked_through=date(2026, 9, 1))  # the class grew later
    assert evaluate_enrollment(compiled, grown, date(2026, 9, 20)).decisions == ()


def test_caps_parameters_can_be_configured_and_are_validated() -> None:
    compiled = program({CAPS: {"max_class_size": 25, "max_online_share": 0.75}}, **MSC_CALENDAR)
    state = _msc(class_position=25, online_courses_in_term=3, courses_in_term=4)
    assert evaluate_enrollment(compiled, state, date(2026, 9, 1)).decisions == ()
    with pytest.raises(ValueError, match="max_online_share"):
        program({CAPS: {"max_online_share": 1.5}})
