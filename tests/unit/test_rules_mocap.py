"""Carthage R-9 / Missouri MOCAP (catalogue section 4): each rule the day before, of and after;
business days across weekends, holidays and DST; catch-up after an outage."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from onpace_core.notices.render import render
from onpace_core.roster.enrollments import EnrollmentRecord
from onpace_local.replay import replay
from onpace_rules import EnrollmentState, ProgramConfig, compile_program, evaluate_enrollment
from onpace_rules.engine import CompiledProgram, apply_evaluation
from onpace_rules.facts import RosterFacts
from onpace_rules.inputs import Application, ApplicationDecision, Disenrollment, FinalGrade, Input
from onpace_rules.program_files import ProgramFileError, load_program_file
from onpace_rules.registry import EMAILED_RULE_IDS, IMPLEMENTED_RULE_IDS, RULE_TITLES
from onpace_rules.rules import mocap
from onpace_rules.rules.helpers import SUPERSEDED
from onpace_rules.rules.mocap_application import REFUSED_DENIAL
from onpace_rules.rules.mocap_notices import guidance_occasions

from tests.unit.rules_helpers import make_input, program, roster_record, run
from tests.unit.test_render import CASES, TEMPLATES, contact, make_notice

DUE = "mocap.application.decision_due"
DENIAL = "mocap.application.denial_reason"
GUIDANCE = "mocap.notice.guidance"
DISENROLL = "mocap.disenrollment.options"
PAYMENT = "mocap.payment.schedule"
A_PLUS = "mocap.attendance.a_plus"
ADA = "mocap.attendance.ada"

FALL = {"id": "fall", "start": "2026-08-24", "end": "2026-12-18"}
SPRING = {"id": "spring", "start": "2027-01-11", "end": "2027-05-21"}
YEARS = ["2026-08-24", "2027-08-23"]
MONEY = {"market_cost_usd": 500, "adequacy_target_usd": 6375}  # 7 % of 6375 = 446.25 < 500
GUIDE = {"guidance_document_url": "https://example.org/guidance.pdf"}
REPO = Path(__file__).resolve().parents[2]


def _input(event_id: str, kind: str, on: date, data: Any, class_id: str | None = "c1") -> Input:
    return make_input(kind, on, data, class_id, event_id=event_id, hour=17)


def _state(start: date = date(2026, 8, 24), *inputs: Input, **kw: Any) -> EnrollmentState:
    kw.setdefault("term_id", "fall")
    state = EnrollmentState(key="d1#c1#s1", start_date=start, class_id="c1", student_id="s1", **kw)
    for item in inputs:
        state = state.with_input(item)
    return state


def _paid(start: date = date(2026, 8, 24), *inputs: Input, **kw: Any) -> EnrollmentState:
    """An enrollment whose application the District approved before it started."""
    approved = _decision(date(2026, 8, 10), "approved", event_id="approval")
    return _state(start, approved, *inputs, **kw)


def _application(on: date, event_id: str = "app-1") -> Input:
    return _input(event_id, "application", on, Application(course="Biology I"))


def _decision(on: date, decision: str, reason: str | None = None, event_id: str = "dec-1") -> Input:
    return _input(
        event_id,
        "application_decision",
        on,
        ApplicationDecision(decision=decision, reason=reason, by="principal"),  # type: ignore[arg-type]
    )


def _ids(decisions: Any) -> list[tuple[str, str, str]]:
    return [(d.on.isoformat(), d.episode, d.kind) for d in decisions]


def test_module_contract() -> None:
    assert set(mocap.RULE_IDS) == {DUE, DENIAL, GUIDANCE, DISENROLL, PAYMENT, A_PLUS, ADA}
    assert set(mocap.TITLES) == set(mocap.RULE_IDS)
    assert set(mocap.RULE_IDS) <= IMPLEMENTED_RULE_IDS and set(mocap.RULE_IDS) <= EMAILED_RULE_IDS
    assert RULE_TITLES[PAYMENT] == "Monthly prorated course payment"
    assert program({}).families == ()
    assert [type(f).__name__ for f in program({A_PLUS: {}, DUE: {}}).families] == [
        "DecisionDue",
        "APlusAttendance",
    ]


# -- mocap.application.decision_due ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 10, 6), []),  # business day 4 (Thu 1, Fri 2, Mon 5, Tue 6)
        (date(2026, 10, 7), ["app-1/reminder-5"]),  # Wed: business day 5 across the weekend
        (date(2026, 10, 8), ["app-1/reminder-5"]),  # first evaluation on or after the day
    ],
)
def test_day5_reminder_across_a_weekend(day: date, expected: list[str]) -> None:
    compiled = program({DUE: {}})
    evaluation = evaluate_enrollment(
        compiled, _state(date(2026, 8, 24), _application(date(2026, 9, 30))), day
    )
    assert [d.episode for d in evaluation.decisions] == expected
    for d in evaluation.decisions:
        assert (d.kind, d.recipients, d.due_on) == ("notice", ("program_admin",), date(2026, 10, 7))
        assert d.deadlines == {"decision_due": date(2026, 10, 14)}
        assert d.facts["application_date"] == "2026-09-30" and d.facts["business_day"] == 5


@pytest.mark.parametrize(
    ("holidays", "day5"),
    [((), date(2026, 10, 13)), (("2026-10-12",), date(2026, 10, 14))],
    ids=["no-holiday", "columbus-day-closed"],
)
def test_day5_reminder_across_a_weekend_and_a_holiday(holidays: tuple[str, ...], day5: date) -> None:
    compiled = program({DUE: {}}, holidays=list(holidays))
    state = _state(date(2026, 8, 24), _application(date(2026, 10, 6)))  # Tue
    assert evaluate_enrollment(compiled, state, day5 - timedelta(days=1)).decisions == ()
    (reminder,) = evaluate_enrollment(compiled, state, day5).decisions
    assert reminder.episode == "app-1/reminder-5" and reminder.due_on == day5


def test_missouri_public_holiday_truman_day_is_not_a_business_day() -> None:
    compiled = program({DUE: {}}, public_holidays={"country": "US", "subdiv": "MO"})
    state = _state(date(2026, 4, 1), _application(date(2026, 5, 4)))  # Mon; Fri 05-08 is Truman Day
    assert evaluate_enrollment(compiled, state, date(2026, 5, 11)).decisions == ()
    (reminder,) = evaluate_enrollment(compiled, state, date(2026, 5, 12)).decisions
    assert reminder.deadlines["decision_due"] == date(2026, 5, 19)  # day 10 also one day later


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_reminders_at_day_5_and_8_then_overdue_the_day_after_day_10_across_dst(use_wake: bool) -> None:
    compiled = program({DUE: {}})
    state = _state(date(2026, 8, 24), _application(date(2026, 10, 23)))  # Fri; DST ends Sun 11-01
    decisions = run(compiled, state, date(2026, 10, 20), date(2026, 11, 30), use_wake=use_wake)
    assert _ids(decisions) == [
        ("2026-10-30", "app-1/reminder-5", "notice"),
        ("2026-11-04", "app-1/reminder-8", "notice"),
        ("2026-11-07", "app-1/overdue", "notice"),  # Sat: the evaluation after business day 10 (Fri)
    ]
    assert [d.facts["step"] for d in decisions] == ["reminder", "reminder", "overdue"]
    assert {d.deadlines["decision_due"] for d in decisions} == {date(2026, 11, 6)}
    assert decisions[2].facts["business_days_elapsed"] == 10


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 11, 6), []), (date(2026, 11, 7), ["app-1/overdue"]), (date(2026, 11, 9), ["app-1/overdue"])],
)
def test_overdue_alert_boundaries(day: date, expected: list[str]) -> None:
    compiled = program({DUE: {}})
    fired = {f"{DUE}#app-1/reminder-5": date(2026, 10, 30), f"{DUE}#app-1/reminder-8": date(2026, 11, 4)}
    state = _state(date(2026, 8, 24), _application(date(2026, 10, 23)), fired=fired)
    assert [d.episode for d in evaluate_enrollment(compiled, state, day).decisions] == expected


def test_an_application_submitted_on_a_saturday_counts_from_monday() -> None:
    """ "ten (10) business days from the date the application was submitted": the application date is
    day 0 even on a weekend, and business day 1 is the Monday after it."""
    compiled = program({DUE: {}})
    state = _state(date(2026, 8, 24), _application(date(2026, 10, 24)))  # Sat
    decisions = run(compiled, state, date(2026, 10, 24), date(2026, 11, 30))
    assert [(d.on.isoformat(), d.facts["business_day"]) for d in decisions] == [
        ("2026-10-30", 5),  # Mon 26 is day 1, Fri 30 day 5
        ("2026-11-04", 8),
        ("2026-11-07", 10),  # day 10 is Fri 11-06: the alert goes the day after
    ]
    assert {d.deadlines["decision_due"] for d in decisions} == {date(2026, 11, 6)}


def test_a_decision_on_day_10_is_in_time_and_stops_the_series() -> None:
    compiled = program({DUE: {}})
    state = _state(
        date(2026, 8, 24), _application(date(2026, 10, 23)), _decision(date(2026, 11, 6), "approved")
    )
    decisions = run(compiled, state, date(2026, 10, 20), date(2026, 11, 30))
    assert [d.episode for d in decisions] == ["app-1/reminder-5", "app-1/reminder-8"]


def test_a_decision_before_day_5_means_no_reminder_at_all() -> None:
    compiled = program({DUE: {}})
    state = _state(
        date(2026, 8, 24),
        _application(date(2026, 10, 23)),
        _decision(date(2026, 10, 26), "denied", "not suitable"),
    )
    assert run(compiled, state, date(2026, 10, 20), date(2026, 11, 30)) == []


def test_a_decision_on_the_day_of_the_application_answers_it() -> None:
    compiled = program({DUE: {}})
    state = _state(
        date(2026, 8, 24), _application(date(2026, 10, 23)), _decision(date(2026, 10, 23), "approved")
    )
    assert run(compiled, state, date(2026, 10, 20), date(2026, 11, 30)) == []


def test_a_decision_made_before_the_application_does_not_answer_it() -> None:
    compiled = program({DUE: {}})
    state = _state(
        date(2026, 8, 24), _decision(date(2026, 10, 1), "approved"), _application(date(2026, 10, 23))
    )
    assert [d.episode for d in run(compiled, state, date(2026, 10, 20), date(2026, 11, 30))] == [
        "app-1/reminder-5",
        "app-1/reminder-8",
        "app-1/overdue",
    ]


def test_a_denial_without_a_written_reason_leaves_the_application_pending() -> None:
    compiled = program({DUE: {}, DENIAL: {}})
    state = _state(
        date(2026, 8, 24), _application(date(2026, 10, 23)), _decision(date(2026, 10, 26), "denied", "  ")
    )
    decisions = run(compiled, state, date(2026, 10, 20), date(2026, 11, 30))
    assert [(d.on.isoformat(), d.rule_id, d.kind, d.reason) for d in decisions] == [
        ("2026-10-27", DENIAL, "skipped", REFUSED_DENIAL),
        ("2026-10-30", DUE, "notice", None),
        ("2026-11-04", DUE, "notice", None),
        ("2026-11-07", DUE, "notice", None),
    ]
    assert decisions[1].facts["refused_denial_dates"] == ["2026-10-26"]


@pytest.mark.parametrize(
    ("outage_until", "expected"),
    [
        (
            date(2026, 11, 5),  # day 5 and day 8 missed: only day 8 is sent, late
            [
                ("2026-11-05", "app-1/reminder-5", "skipped"),
                ("2026-11-05", "app-1/reminder-8", "notice"),
                ("2026-11-07", "app-1/overdue", "notice"),
            ],
        ),
        (
            date(2026, 11, 10),  # everything missed: the overdue alert supersedes both reminders
            [
                ("2026-11-10", "app-1/reminder-5", "skipped"),
                ("2026-11-10", "app-1/reminder-8", "skipped"),
                ("2026-11-10", "app-1/overdue", "notice"),
            ],
        ),
    ],
)
def test_catch_up_sends_only_the_latest_reminder(
    outage_until: date, expected: list[tuple[str, str, str]]
) -> None:
    compiled = program({DUE: {}})
    state = _state(date(2026, 8, 24), _application(date(2026, 10, 23)))
    down = frozenset(
        date(2026, 10, 26) + timedelta(days=i) for i in range((outage_until - date(2026, 10, 26)).days)
    )
    decisions = run(compiled, state, date(2026, 10, 20), date(2026, 11, 30), skip=down)
    assert _ids(decisions) == expected
    assert all(d.reason == SUPERSEDED for d in decisions if d.kind == "skipped")
    assert decisions[0].due_on == date(2026, 10, 30)


def test_each_application_has_its_own_series() -> None:
    compiled = program({DUE: {}})
    state = _state(
        date(2026, 8, 24),
        _application(date(2026, 10, 23)),
        _decision(date(2026, 10, 27), "approved"),
        _application(date(2026, 11, 2), "app-2"),
    )
    decisions = run(compiled, state, date(2026, 10, 20), date(2026, 11, 30))
    assert [d.episode for d in decisions] == ["app-2/reminder-5", "app-2/reminder-8", "app-2/overdue"]


def test_decision_due_parameters_are_checked_at_load_time() -> None:
    with pytest.raises(ValueError, match="reminder_business_days"):
        program({DUE: {"reminder_business_days": [5, 10]}})
    with pytest.raises(ValueError, match="unknown_thing"):
        program({DUE: {"unknown_thing": 1}})
    compiled = program({DUE: {"decision_business_days": 15, "reminder_business_days": [10]}})
    (reminder,) = evaluate_enrollment(
        compiled, _state(date(2026, 8, 24), _application(date(2026, 10, 23))), date(2026, 11, 6)
    ).decisions
    assert reminder.deadlines["decision_due"] == date(2026, 11, 13)


# -- mocap.application.denial_reason ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "count"), [(date(2026, 10, 26), 0), (date(2026, 10, 27), 1), (date(2026, 10, 28), 1)]
)
def test_denial_letter_the_day_after_the_denial(day: date, count: int) -> None:
    compiled = program({DENIAL: {}})
    state = _state(
        date(2026, 8, 24),
        _application(date(2026, 10, 23)),
        _decision(date(2026, 10, 26), "denied", "Not in the student's best educational interest"),
    )
    decisions = evaluate_enrollment(compiled, state, day).decisions
    assert len(decisions) == count
    for letter in decisions:
        assert (letter.kind, letter.recipients, letter.due_on) == (
            "notice",
            ("guardians",),
            date(2026, 10, 27),
        )
        assert letter.facts["reason"] == "Not in the student's best educational interest"
        assert letter.facts["application_date"] == "2026-10-23"
        assert "in-class course" in str(letter.facts["review_procedure"])
        assert letter.deadlines == {}  # the seed sets no review deadline


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_denial_without_a_reason_is_refused(reason: str | None) -> None:
    compiled = program({DENIAL: {}})
    state = _state(date(2026, 8, 24), _decision(date(2026, 10, 26), "denied", reason))
    (refused,) = evaluate_enrollment(compiled, state, date(2026, 10, 27)).decisions
    assert (refused.kind, refused.reason, refused.recipients) == ("skipped", REFUSED_DENIAL, ())


def test_an_approval_sends_no_denial_letter() -> None:
    compiled = program({DENIAL: {}})
    state = _state(date(2026, 8, 24), _decision(date(2026, 10, 26), "approved"))
    assert evaluate_enrollment(compiled, state, date(2026, 10, 27)).decisions == ()


def test_denial_letter_is_sent_once_and_a_later_written_denial_gets_its_own() -> None:
    compiled = program({DENIAL: {}})
    state = _state(
        date(2026, 8, 24),
        _decision(date(2026, 10, 26), "denied", None),
        _decision(date(2026, 10, 29), "denied", "Prior virtual courses were not completed", "dec-2"),
    )
    decisions = run(compiled, state, date(2026, 10, 20), date(2026, 11, 30))
    assert _ids(decisions) == [("2026-10-27", "dec-1", "skipped"), ("2026-10-30", "dec-2", "notice")]


def test_review_window_when_the_district_sets_one_counts_business_days_from_the_letter() -> None:
    compiled = program({DENIAL: {"review_window_business_days": 5}}, holidays=["2026-11-11"])
    state = _state(date(2026, 8, 24), _decision(date(2026, 11, 5), "denied", "Schedule conflict"))
    (letter,) = evaluate_enrollment(compiled, state, date(2026, 11, 6)).decisions  # Fri
    assert letter.deadlines == {"appeal": date(2026, 11, 16)}  # Mon 9, Tue 10, (Wed 11 closed), 12, 13, 16


# -- mocap.notice.guidance -------------------------------------------------------------------
# A student-scope family: the engine evaluates it on the student's own subject (key
# district#student#id, earliest enrollment start, no class), never on an enrollment.


def _student(start: date = date(2026, 10, 5), **kw: Any) -> EnrollmentState:
    return EnrollmentState(
        key="d1#student#s1", start_date=start, student_id="s1", class_id=None, scope="student", **kw
    )


def _record(class_id: str, start: date, end: date | None = None, student: str = "s1") -> EnrollmentRecord:
    return roster_record(student, class_id, start, end)


def _guidance_lines(records: list[EnrollmentRecord], first: date, last: date) -> list[tuple[str, str, str]]:
    """Every guidance decision of a replay over ``records``: (date, student, class)."""
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    result = replay(compiled.config, records, [], first, last)
    return [
        (line["date"], line["student"], line["class"] or "")
        for line in result.lines
        if line["rule"] == GUIDANCE
    ]


def test_guidance_is_a_student_notice_not_a_course_notice() -> None:
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    assert [f.scope for f in compiled.families] == ["student"]
    assert evaluate_enrollment(compiled, _state(date(2026, 10, 5)), date(2026, 10, 5)).decisions == ()


@pytest.mark.parametrize(
    ("second", "second_end"),
    [
        (date(2026, 10, 5), date(2026, 12, 18)),  # two courses starting the same day
        (date(2027, 1, 11), date(2027, 5, 21)),  # a second course later in the same school year
        (date(2027, 8, 23), None),  # a second course from the first day of the next school year
    ],
    ids=["same-day", "later-same-year", "next-year-start"],
)
def test_a_student_with_two_courses_gets_the_guidance_once_per_school_year(
    second: date, second_end: date | None
) -> None:
    records = [_record("c1", date(2026, 10, 5), None), _record("c2", second, second_end)]
    assert _guidance_lines(records, date(2026, 10, 1), date(2027, 9, 30)) == [
        ("2026-10-05", "s1", ""),
        ("2027-08-23", "s1", ""),  # "at the beginning of each school year"
    ]


@pytest.mark.parametrize(
    ("ends", "next_year"),
    [
        ((date(2027, 5, 21), date(2027, 5, 28)), False),  # every course over before 2027-28
        ((date(2027, 5, 21), None), True),  # one course still open
        ((date(2027, 5, 21), date(2027, 8, 23)), True),  # the last course ends on the first day
    ],
    ids=["all-ended", "one-open", "ends-on-year-start"],
)
def test_a_student_who_has_left_gets_no_guidance_the_next_school_year(
    ends: tuple[date, date | None], next_year: bool
) -> None:
    """The student's record ends with the last enrollment: a family that has left the program is
    not sent next year's document."""
    records = [_record("c1", date(2026, 10, 5), ends[0]), _record("c2", date(2026, 10, 5), ends[1])]
    expected = [("2026-10-05", "s1", "")] + ([("2027-08-23", "s1", "")] if next_year else [])
    assert _guidance_lines(records, date(2026, 10, 1), date(2027, 9, 30)) == expected


def test_a_student_with_one_course_still_gets_the_guidance_and_each_student_gets_their_own() -> None:
    records = [
        _record("c1", date(2026, 10, 5), None),
        _record("c1", date(2026, 11, 2), None, student="s2"),
        _record("c2", date(2026, 11, 2), None, student="s2"),
    ]
    assert _guidance_lines(records, date(2026, 10, 1), date(2027, 9, 30)) == [
        ("2026-10-05", "s1", ""),
        ("2026-11-02", "s2", ""),
        ("2027-08-23", "s1", ""),
        ("2027-08-23", "s2", ""),
    ]


@pytest.mark.parametrize(
    ("day", "count"), [(date(2026, 10, 4), 0), (date(2026, 10, 5), 1), (date(2026, 10, 6), 1)]
)
def test_guidance_on_enrollment_after_the_school_year_began(day: date, count: int) -> None:
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    decisions = evaluate_enrollment(compiled, _student(date(2026, 10, 5)), day).decisions
    assert len(decisions) == count
    for notice in decisions:
        assert (notice.episode, notice.recipients, notice.facts["occasion"]) == (
            "2026-27",
            ("guardians",),
            "enrollment",
        )
        assert notice.due_on == date(2026, 10, 5)
        assert notice.facts["enrollment_start"] == "2026-10-05"


def test_the_enrollment_notice_names_no_course() -> None:
    """The guidance is about enrolling in the District, not a MOCAP course: no course facts."""
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    roster = RosterFacts(class_title="Biology I", online_courses_in_term=2)
    (notice,) = evaluate_enrollment(compiled, _student(roster=roster), date(2026, 10, 5)).decisions
    assert notice.facts == {
        "school_year": "2026-27",
        "occasion": "enrollment",
        "enrollment_start": "2026-10-05",
        "guidance_document_url": "https://example.org/guidance.pdf",
    }


@pytest.mark.parametrize(
    ("day", "episodes"),
    [(date(2027, 8, 22), []), (date(2027, 8, 23), ["2027-28"]), (date(2027, 8, 24), ["2027-28"])],
)
def test_guidance_at_the_next_school_year_start_boundaries(day: date, episodes: list[str]) -> None:
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    state = replace(_student(), fired={f"{GUIDANCE}#2026-27": date(2026, 10, 5)}, checked_through=day)
    decisions = evaluate_enrollment(compiled, state, day).decisions
    assert [d.episode for d in decisions] == episodes
    assert all(
        d.due_on == date(2027, 8, 23) and d.facts["occasion"] == "school_year_start" for d in decisions
    )


def test_guidance_again_at_the_start_of_each_school_year() -> None:
    compiled = program(
        {GUIDANCE: {"guidance_document_url": "https://example.org/guidance.pdf"}}, school_year_start=YEARS
    )
    decisions = run(compiled, _student(date(2026, 10, 5)), date(2026, 10, 1), date(2027, 9, 30))
    assert _ids(decisions) == [("2026-10-05", "2026-27", "notice"), ("2027-08-23", "2027-28", "notice")]
    assert decisions[1].facts["occasion"] == "school_year_start"
    assert decisions[1].facts["guidance_document_url"] == "https://example.org/guidance.pdf"


def test_enrolling_on_the_first_day_of_school_gives_one_notice_that_year() -> None:
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    decisions = run(compiled, _student(date(2026, 8, 24)), date(2026, 8, 20), date(2027, 6, 30))
    assert _ids(decisions) == [("2026-08-24", "2026-27", "notice")]
    assert decisions[0].facts["occasion"] == "school_year_start"


def test_no_guidance_after_the_students_known_end_date() -> None:
    """Student subjects carry no end date today; one that is given an end is honoured."""
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    state = _student(date(2026, 10, 5), end_date=date(2027, 5, 21), checked_through=date(2026, 10, 5))
    state = replace(state, fired={f"{GUIDANCE}#2026-27": date(2026, 10, 5)})
    assert run(compiled, state, date(2026, 10, 6), date(2027, 9, 30)) == []
    ended = replace(_student(date(2026, 10, 5)), status="withdrawn")
    assert evaluate_enrollment(compiled, ended, date(2026, 10, 5)).decisions == ()


def test_occasions_of_several_known_spans_one_per_school_year() -> None:
    """The occasion list already takes each enrollment's span, for when the student subject knows them."""
    config = program({GUIDANCE: GUIDE}, school_year_start=[*YEARS, "2028-08-21"]).config
    spans = [
        (date(2026, 10, 5), date(2026, 12, 18)),
        (date(2027, 1, 11), date(2027, 5, 21)),  # same school year: no second occasion
        (date(2028, 9, 11), None),  # after a year out: "upon enrollment" in 2028-29
    ]
    found = [(o.school_year, o.due.isoformat(), o.occasion) for o in guidance_occasions(spans, config)]
    assert found == [("2026-27", "2026-10-05", "enrollment"), ("2028-29", "2028-09-11", "enrollment")]


def test_guidance_catch_up_over_two_occasions_sends_the_latest() -> None:
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    decisions = evaluate_enrollment(compiled, _student(date(2027, 6, 1)), date(2027, 8, 25)).decisions
    assert _ids(decisions) == [("2027-08-25", "2026-27", "skipped"), ("2027-08-25", "2027-28", "notice")]
    assert decisions[0].reason == SUPERSEDED and decisions[1].due_on == date(2027, 8, 23)


def test_school_year_label_falls_back_to_july_1_without_a_calendar() -> None:
    compiled = program({GUIDANCE: GUIDE})
    (spring,) = evaluate_enrollment(compiled, _student(date(2027, 3, 1)), date(2027, 3, 1)).decisions
    (july,) = evaluate_enrollment(compiled, _student(date(2027, 7, 1)), date(2027, 7, 1)).decisions
    assert (spring.episode, july.episode) == ("2026-27", "2027-28")


@pytest.mark.parametrize(
    ("start", "episode"),
    [
        (date(2027, 8, 23), "2026-27"),  # the day before a year has passed since the only listed start
        (date(2027, 8, 24), "2027-28"),  # a year after it: July 1, 2027 started the next school year
        (date(2027, 8, 25), "2027-28"),
    ],
)
def test_past_the_calendars_last_listed_year_the_label_follows_july_1(start: date, episode: str) -> None:
    compiled = program({GUIDANCE: GUIDE}, school_year_start=["2026-08-24"])
    state = replace(_student(start), fired={f"{GUIDANCE}#2026-27": date(2026, 10, 5)})
    decisions = evaluate_enrollment(compiled, state, start).decisions
    assert [d.episode for d in decisions] == ([] if episode == "2026-27" else [episode])


def test_the_guidance_email_of_a_student_subject_names_no_class() -> None:
    """The student subject's class is "*" with no title: the email must not print it."""
    url = {"guidance_document_url": "https://example.org/guidance.pdf"}
    year_start = {"school_year": "2027-28", "occasion": "school_year_start", "enrollment_start": "2026-10-05"}
    enrolled = {"school_year": "2026-27", "occasion": "enrollment", "enrollment_start": "2026-10-05"}
    for facts, says in (
        (year_start, "to every district family, including the family of jamie rivera."),
        (enrolled, "with jamie rivera's enrollment in the district on monday, october 5, 2026"),
    ):
        notice = make_notice(GUIDANCE, facts={**facts, **url}, class_id="*", class_title="")
        email = render(notice, contact("guardian"), TEMPLATES)
        for part in (email.subject, email.text, email.html):
            assert "*" not in part and "Algebra I" not in part
            assert "https://example.org/guidance.pdf" in part or part is email.subject
        assert says in email.text.lower()
        assert "mocap course" not in email.text.lower()


def test_guidance_without_its_address_is_refused_at_load(tmp_path: Path) -> None:
    """ "a copy of DESE's Virtual School Guidance document": a letter promising it says where it is."""
    shipped = (Path(__file__).resolve().parents[2] / "programs" / "carthage-mocap.yaml").read_text()
    line = "    guidance_document_url: https://mocap.mo.gov/\n"
    assert line in shipped
    for replacement, problem in (
        ("", "guidance_document_url: Field required"),
        ("    guidance_document_url: null\n", "guidance_document_url: Input should be a valid string"),
        ("    guidance_document_url: mocap.mo.gov\n", "guidance_document_url: String should match pattern"),
    ):
        path = tmp_path / "carthage-mocap.yaml"
        text = shipped.replace(line, replacement)
        if not replacement:
            text = text.replace("  mocap.notice.guidance:\n", "  mocap.notice.guidance: {}\n")
        path.write_text(text)
        with pytest.raises(ProgramFileError) as raised:
            load_program_file(path)
        where = text.splitlines().index(next(t for t in text.splitlines() if "mocap.notice.guidance" in t))
        message = str(raised.value)
        assert problem in message and "parameters of mocap.notice.guidance" in message
        wanted_line = where + 2 if replacement else where + 1  # the parameter's line, else the rule's
        assert message.startswith(f"{path}:{wanted_line}:"), message


def test_guidance_goes_to_every_family_of_the_district_roster() -> None:
    """Seed: "to every District parent/guardian" — a student with no MOCAP course gets it too,
    from the enrollment of the district's roster, when the roster load passes the district's."""
    mocap_course = _record("c1", date(2026, 10, 5))
    other_school = [_record("eng9", date(2026, 8, 24), student="s2"), _record("c1", date(2026, 10, 5))]
    compiled = program({GUIDANCE: GUIDE}, school_year_start=YEARS)
    assert compiled.addresses_district
    result = replay(
        compiled.config,
        [mocap_course],
        [],
        date(2026, 8, 20),
        date(2026, 12, 31),
        district_records=other_school,
    )
    lines = [(line["date"], line["student"], line["facts"]["occasion"]) for line in result.lines]
    assert lines == [("2026-08-24", "s2", "school_year_start"), ("2026-10-05", "s1", "enrollment")]
    # Without the district's enrollments (a replay of the program's classes only), its students only.
    alone = replay(compiled.config, [mocap_course], [], date(2026, 8, 20), date(2026, 12, 31))
    assert [line["student"] for line in alone.lines] == ["s1"]


def test_the_district_roster_gives_every_student_a_record() -> None:
    """``district_enrollments``: every student enrollment of the export, whatever its school."""
    from onpace_core.roster.enrollments import build_enrollments, district_enrollments
    from onpace_core.roster.oneroster import read_roster

    roster = read_roster(REPO / "demo" / "roster")
    config = program({GUIDANCE: GUIDE}, school_year_start=YEARS).config
    online = config.model_copy(update={"org_ids": ("org-rb-online",)})
    mine = build_enrollments(roster, [online])
    everyone = district_enrollments(roster, online)
    assert {r.school_id for r in mine} == {"org-rb-online"}
    assert {r.school_id for r in everyone} > {"org-rb-online"}
    assert {r.student_id for r in everyone} > {r.student_id for r in mine}
    assert all(r.program_id == "p1" for r in everyone)


# -- mocap.disenrollment.options -------------------------------------------------------------


def _disenrolled(on: date) -> Input:
    return _input("dis-1", "disenrollment", on, Disenrollment(school="Show-Me Virtual Academy"))


@pytest.mark.parametrize(
    ("day", "count"), [(date(2027, 2, 9), 0), (date(2027, 2, 10), 1), (date(2027, 2, 12), 1)]
)
def test_disenrollment_withdraws_and_sends_the_options(day: date, count: int) -> None:
    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    evaluation = evaluate_enrollment(compiled, _state(date(2026, 8, 24), _disenrolled(date(2027, 2, 9))), day)
    assert len(evaluation.decisions) == count
    for action in evaluation.decisions:
        # The course ends; the letter to the family comes from the student record, once.
        assert (action.kind, action.status_after, action.recipients) == ("action", "withdrawn", ())
        assert action.deadlines == {"reenroll": date(2027, 8, 23)}
        assert evaluation.status == "withdrawn"
    letter = evaluate_enrollment(
        compiled, _student(date(2026, 8, 24)).with_input(_disenrolled(date(2027, 2, 9))), day
    )
    assert len(letter.decisions) == count
    for notice in letter.decisions:
        assert (notice.kind, notice.status_after, notice.recipients) == ("notice", None, ("guardians",))
        assert notice.episode == "Show-Me Virtual Academy#2026-27"
        assert notice.deadlines == {"reenroll": date(2027, 8, 23)}
        assert notice.facts["reenroll_blocked_through"] == "2027-08-22"
        assert notice.facts["virtual_school"] == "Show-Me Virtual Academy"
        assert notice.facts["reenroll_date_source"] == "calendar"
        assert len(notice.facts["educational_options"]) == 3  # type: ignore[arg-type]
        assert letter.status == "active"


def test_a_disenrollment_reported_per_course_sends_the_family_one_letter() -> None:
    """Two MOCAP courses, the virtual school reports the disenrollment for each: both courses end,
    the family gets one list of options; another school's report is another letter."""
    records = [_record("c1", date(2026, 8, 24)), _record("c2", date(2026, 8, 24))]
    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    events = [
        _plain("dis-c1", "c1", "2027-02-09T15:00:00+00:00", "Show-Me Virtual Academy"),
        _plain("dis-c2", "c2", "2027-02-09T16:00:00+00:00", "Show-Me Virtual Academy"),
        _plain("dis-x", None, "2027-03-01T16:00:00+00:00", "Missouri Virtual Academy"),
    ]
    result = replay(compiled.config, records, events, date(2026, 8, 24), date(2027, 3, 31))
    lines = [
        (line["date"], line["class"] or "", line["kind"], tuple(line["recipients"])) for line in result.lines
    ]
    assert lines == [
        ("2027-02-10", "", "notice", ("guardian",)),
        ("2027-02-10", "c1", "action", ()),
        ("2027-02-10", "c2", "action", ()),
        ("2027-03-02", "", "notice", ("guardian",)),
    ]


def _plain(event_id: str, class_id: str | None, at: str, school: str) -> Any:
    from onpace_core.ingest.formats.plain import PlainActivityEvent

    return PlainActivityEvent.model_validate(
        {
            "event_id": event_id,
            "occurred_at": at,
            "student": "s1",
            "class": class_id,
            "kind": "disenrollment",
            "data": {"school": school},
        }
    )


SHOW_ME = {"school_id": "org-showme", "school_name": "Show-Me Virtual Academy"}
LAUNCH = {"school_id": "org-launch", "school_name": "Launch Virtual Learning"}


def _in(school: dict[str, str], class_id: str, start: date, end: date | None = None) -> EnrollmentRecord:
    return replace(_record(class_id, start, end), **school)


def test_disenrollment_leaves_other_courses_and_blocks_that_school_only() -> None:
    """Seed: "prohibited from re-enrolling in the same virtual school for the remainder of the school
    year". The course in that school ends; the student's other MOCAP courses go on; a later course
    of that school this school year is refused with the reason, one of another school is not, and
    one of that school in the next school year is not either."""
    records = [
        _in(SHOW_ME, "sm-math", date(2026, 8, 24), date(2027, 5, 21)),
        _in(LAUNCH, "ln-bio", date(2026, 8, 24), date(2027, 5, 21)),
        _in(SHOW_ME, "sm-eng", date(2027, 3, 1), date(2027, 5, 21)),  # later, same school and year
        _in(LAUNCH, "ln-art", date(2027, 3, 1), date(2027, 5, 21)),  # later, another school
        _in(SHOW_ME, "sm-sci", date(2027, 8, 23), None),  # the next school year
    ]
    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    events = [_plain("dis-1", None, "2027-02-09T15:00:00+00:00", "Show-Me Virtual Academy")]
    result = replay(compiled.config, records, events, date(2026, 8, 24), date(2027, 9, 30))
    lines = [
        (line["date"], line["class"] or "", line["kind"], line["facts"].get("outcome"))
        for line in result.lines
    ]
    assert lines == [
        ("2027-02-10", "", "notice", None),  # the options letter to the family, once
        # Already on the roster, starting March 1: refused as soon as the report is seen.
        ("2027-02-10", "sm-eng", "action", "rejected"),
        ("2027-02-10", "sm-math", "action", "withdrawn"),
    ]
    refusal = result.lines[1]
    assert refusal["recipients"] == ["counselor", "program_admin"]
    assert refusal["deadlines"] == {"reenroll": "2027-08-23"}
    assert refusal["facts"]["reason"] == (
        "disenrolled from Show-Me Virtual Academy on 2027-02-09: no re-enrollment in the same virtual "
        "school before 2027-08-23"
    )


@pytest.mark.parametrize(
    ("start", "outcome"),
    [
        (date(2027, 2, 9), "withdrawn"),  # running on the report's date: disenrolled
        (date(2027, 2, 10), "rejected"),  # the day after: a re-enrollment
        (date(2027, 8, 22), "rejected"),  # the last day of the school year
        (date(2027, 8, 23), None),  # the first day of the next one
    ],
)
def test_the_block_lasts_for_the_rest_of_the_school_year(start: date, outcome: str | None) -> None:
    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    state = _state(
        start, _input("dis-1", "disenrollment", date(2027, 2, 9), Disenrollment(school="Show-Me"), None)
    )
    state = replace(state, roster=RosterFacts(school_id="org-showme", school_name="show-me "))
    decisions = evaluate_enrollment(compiled, state, max(start, date(2027, 2, 10))).decisions
    assert [d.facts["outcome"] for d in decisions] == ([outcome] if outcome else [])


def test_a_report_with_the_schools_roster_id_matches_by_id_only() -> None:
    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    report = Disenrollment(school="Show-Me Virtual Academy", school_id="org-showme")
    for school, ends in (
        (SHOW_ME, True),
        ({"school_id": "org-x", "school_name": "Show-Me Virtual Academy"}, False),
    ):
        state = _state(date(2026, 8, 24), _input("dis-1", "disenrollment", date(2027, 2, 9), report, None))
        state = replace(state, roster=RosterFacts(**school))  # type: ignore[arg-type]
        assert bool(evaluate_enrollment(compiled, state, date(2027, 2, 10)).decisions) is ends


def test_an_enrollment_added_after_the_report_starts_with_it_and_is_refused() -> None:
    """The deployed roster load gives a new enrollment the student's student-wide inputs (the memory
    store does the same), so a course of the blocked school added later is refused on its first look."""
    from onpace_core.ingest.event import LmsEvent, Ref
    from onpace_core.ingest.service import ingest_events
    from onpace_core.store.memory import MemoryStore
    from onpace_core.store.memory_ingest import EvaluationIngestStore

    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    store = MemoryStore()
    store.add(replace(_state(date(2026, 8, 24)), roster=RosterFacts(**LAUNCH)))  # type: ignore[arg-type]
    report = _input(
        "dis-1", "disenrollment", date(2027, 2, 9), Disenrollment(school="Show-Me Virtual Academy"), None
    )
    event = LmsEvent(
        event_id=report.event_id,
        source="test",
        occurred_at=report.at,
        student=(Ref("sourcedId", "s1"),),
        course=(),
        kind=report.kind,
        data=report.data,
    )
    port = EvaluationIngestStore.over(store, compiled)
    ingested = ingest_events(
        district_id="d1", source="test", events=[event], now=report.at, ttl_days=1, store=port
    )
    assert ingested.unmatched == []
    later = EnrollmentState(
        key="d1#sm-eng#s1",
        start_date=date(2027, 3, 1),
        class_id="sm-eng",
        student_id="s1",
        roster=RosterFacts(**SHOW_ME),  # type: ignore[arg-type]
    )
    store.add(later)
    added = store.subjects["d1#sm-eng#s1"].state
    assert [i.event_id for i in added.inputs] == ["dis-1"]
    (refusal,) = evaluate_enrollment(compiled, added, date(2027, 3, 1)).decisions
    assert (refusal.status_after, refusal.due_on, refusal.recipients) == (
        "rejected",
        date(2027, 3, 1),
        ("counselor", "program_admin"),
    )
    # The Launch course the student already had is not touched by the report.
    assert evaluate_enrollment(compiled, store.subjects["d1#c1#s1"].state, date(2027, 2, 10)).decisions == ()


@pytest.mark.parametrize(
    ("on", "reenroll"),
    [
        (date(2027, 6, 30), date(2027, 7, 1)),  # last day of the Missouri school year
        (date(2027, 7, 1), date(2028, 7, 1)),  # first day of the next one
        (date(2027, 3, 10), date(2027, 7, 1)),
    ],
)
def test_reenroll_date_falls_back_to_july_1(on: date, reenroll: date) -> None:
    compiled = program({DISENROLL: {"educational_options": ["Return to Carthage High School"]}})
    (action,) = evaluate_enrollment(
        compiled, _state(date(2026, 8, 24), _disenrolled(on)), on + timedelta(days=1)
    ).decisions
    assert action.deadlines["reenroll"] == reenroll
    assert action.facts["reenroll_date_source"] == "july_1"
    assert action.facts["educational_options"] == ["Return to Carthage High School"]


def test_disenrolled_on_the_first_day_of_school_is_blocked_until_the_next_year() -> None:
    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    state = _state(date(2026, 8, 24), _disenrolled(date(2026, 8, 24)))
    (action,) = evaluate_enrollment(compiled, state, date(2026, 8, 25)).decisions
    assert action.deadlines["reenroll"] == date(2027, 8, 23)


def test_disenrollment_ends_payments_and_replaces_the_days_other_notices() -> None:
    compiled = program({DISENROLL: {}, PAYMENT: MONEY}, school_year_start=YEARS, terms=[FALL])
    state = _paid(date(2026, 8, 24), _disenrolled(date(2026, 9, 30)))
    decisions = run(compiled, state, date(2026, 8, 24), date(2026, 12, 31))
    assert [(d.on.isoformat(), d.rule_id) for d in decisions] == [
        ("2026-08-24", PAYMENT),
        ("2026-09-01", PAYMENT),
        ("2026-10-01", DISENROLL),  # the October payment due the same day is not made
    ]


def test_disenrollment_is_still_answered_after_the_end_date() -> None:
    """A course running on the report's date is withdrawn even when the evaluation comes after its
    end (an outage); a course that was over before the disenrollment is left as it ended."""
    compiled = program({DISENROLL: {}}, school_year_start=YEARS)
    running = _state(date(2026, 8, 24), _disenrolled(date(2026, 12, 17)), end_date=date(2026, 12, 18))
    (action,) = evaluate_enrollment(compiled, running, date(2027, 1, 5)).decisions
    assert (action.status_after, action.due_on) == ("withdrawn", date(2026, 12, 18))
    over = _state(date(2026, 8, 24), _disenrolled(date(2027, 1, 4)), end_date=date(2026, 12, 18))
    assert evaluate_enrollment(compiled, over, date(2027, 1, 5)).decisions == ()


# -- mocap.payment.schedule ------------------------------------------------------------------


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_monthly_payments_prorated_by_days_add_up_to_the_cap(use_wake: bool) -> None:
    compiled = program({PAYMENT: {**MONEY, "provider": "Launch"}}, terms=[FALL])
    decisions = run(
        compiled, _paid(end_date=date(2026, 12, 18)), date(2026, 8, 20), date(2027, 1, 31), use_wake=use_wake
    )
    assert [(d.on.isoformat(), d.episode, d.facts["amount_usd"]) for d in decisions] == [
        ("2026-08-24", "2026-08", 30.51),  # 8 of 117 days
        ("2026-09-01", "2026-09", 114.43),  # 30 days
        ("2026-10-01", "2026-10", 118.23),  # 31 days
        ("2026-11-01", "2026-11", 114.43),  # DST ends that day: still one payment on the 1st
        ("2026-12-01", "2026-12", 68.65),  # 18 days
    ]
    assert decisions[-1].facts["paid_to_date_usd"] == 446.25
    assert sum(d.facts["amount_usd"] for d in decisions) == pytest.approx(446.25)  # type: ignore[misc]
    first = decisions[0]
    assert (first.recipients, first.kind, first.facts["cap_basis"]) == (
        ("program_admin",),
        "notice",
        "adequacy_target",
    )
    assert first.facts["semester_cap_usd"] == 446.25 and first.facts["provider"] == "Launch"
    assert (first.facts["covered_from"], first.facts["covered_to"], first.facts["term_days"]) == (
        "2026-08-24",
        "2026-08-31",
        117,
    )


def test_market_cost_caps_the_semester_when_it_is_lower() -> None:
    compiled = program({PAYMENT: {"market_cost_usd": 300, "adequacy_target_usd": 6375}}, terms=[FALL])
    decisions = run(compiled, _paid(), date(2026, 8, 20), date(2026, 12, 31))
    assert decisions[-1].facts["paid_to_date_usd"] == 300.0
    assert decisions[0].facts["cap_basis"] == "market_cost"


@pytest.mark.parametrize(
    ("day", "episodes"),
    [(date(2026, 9, 30), []), (date(2026, 10, 1), ["2026-10"]), (date(2026, 10, 2), ["2026-10"])],
)
def test_payment_day_boundaries(day: date, episodes: list[str]) -> None:
    compiled = program({PAYMENT: MONEY}, terms=[FALL])
    fired = {f"{PAYMENT}#2026-08": date(2026, 8, 24), f"{PAYMENT}#2026-09": date(2026, 9, 1)}
    decisions = evaluate_enrollment(compiled, _paid(fired=fired), day).decisions
    assert [d.episode for d in decisions] == episodes
    assert all(d.due_on == date(2026, 10, 1) for d in decisions)


def test_catch_up_pays_every_missed_month_none_superseded() -> None:
    compiled = program({PAYMENT: MONEY}, terms=[FALL])
    decisions = evaluate_enrollment(compiled, _paid(), date(2026, 10, 3)).decisions
    assert [(d.episode, d.kind, d.due_on.isoformat()) for d in decisions] == [
        ("2026-08", "notice", "2026-08-24"),
        ("2026-09", "notice", "2026-09-01"),
        ("2026-10", "notice", "2026-10-01"),
    ]


def test_late_enrollment_pays_from_its_start_and_a_known_end_date_prorates_the_last_month() -> None:
    compiled = program({PAYMENT: {**MONEY, "payment_day_of_month": 15}}, terms=[FALL])
    state = _paid(date(2026, 10, 20), end_date=date(2026, 12, 10))
    decisions = run(compiled, state, date(2026, 10, 1), date(2026, 12, 31))
    assert [(d.on.isoformat(), d.episode, d.facts["covered_days"]) for d in decisions] == [
        ("2026-10-20", "2026-10", 12),  # joins after the 15th: paid on its first day
        ("2026-11-15", "2026-11", 30),
        ("2026-12-10", "2026-12", 10),  # the 15th is after the end date: paid on the last day
    ]
    assert decisions[-1].facts["paid_to_date_usd"] == round(446.25 * 52 / 117, 2)


def test_no_payment_after_a_drop() -> None:
    compiled = program({PAYMENT: MONEY}, terms=[FALL])

    def drop_on_oct_14(state: EnrollmentState, day: date) -> EnrollmentState:
        return replace(state, status="dropped") if day == date(2026, 10, 14) else state

    decisions = run(compiled, _paid(), date(2026, 8, 20), date(2026, 12, 31), activity=drop_on_oct_14)
    assert [d.episode for d in decisions] == ["2026-08", "2026-09", "2026-10"]


def test_months_due_before_the_end_date_are_still_paid_after_an_outage() -> None:
    compiled = program({PAYMENT: MONEY}, terms=[FALL])
    fired = {f"{PAYMENT}#{m}": date(2026, 8, 24) for m in ("2026-08", "2026-09", "2026-10", "2026-11")}
    state = _paid(end_date=date(2026, 12, 18), fired=fired)
    (december,) = evaluate_enrollment(compiled, state, date(2026, 12, 21)).decisions
    assert (december.episode, december.due_on) == ("2026-12", date(2026, 12, 1))
    assert (
        evaluate_enrollment(
            compiled,
            replace(state, fired={**fired, f"{PAYMENT}#2026-12": date(2026, 12, 21)}),
            date(2027, 1, 1),
        ).decisions
        == ()
    )


def _applied(schooling: Any = "public") -> Input:
    return _input(
        "app-1", "application", date(2026, 8, 3), Application(course="Biology", schooling=schooling)
    )


@pytest.mark.parametrize(
    ("inputs", "params", "paid"),
    [
        ((_applied(), _decision(date(2026, 8, 10), "approved")), {}, True),
        # "provided that the student ... has received District approval"
        ((_applied(), _decision(date(2026, 8, 10), "denied", "Not suitable")), {}, False),
        ((_applied(),), {}, False),  # no decision yet
        # A refused denial (no written reason) decides nothing.
        ((_applied(), _decision(date(2026, 8, 10), "denied", None)), {}, False),
        # "Home school and private students ... under an agreement, including the student's payment of
        # tuition or course fees"
        ((_applied("home_school"), _decision(date(2026, 8, 10), "approved")), {}, False),
        ((_applied("private"), _decision(date(2026, 8, 10), "approved")), {}, False),
        (
            (_applied("home_school"), _decision(date(2026, 8, 10), "approved")),
            {"pay_home_school_and_private": True},
            True,
        ),
        # An enrollment that predates application tracking is paid without a recorded decision.
        ((), {"approval_required_from": "2026-08-25"}, True),
        ((), {"approval_required_from": "2026-08-24"}, False),  # started on the day tracking began
        (
            (_decision(date(2026, 8, 10), "denied", "Not suitable"),),
            {"approval_required_from": "2026-09-01"},
            False,
        ),
    ],
    ids=[
        "approved",
        "denied",
        "pending",
        "denial-without-reason",
        "home-school",
        "private",
        "home-school-paid-by-program",
        "predates-tracking",
        "starts-when-tracking-starts",
        "predates-but-denied",
    ],
)
def test_only_approved_courses_of_eligible_students_are_paid(
    inputs: tuple[Input, ...], params: dict[str, Any], paid: bool
) -> None:
    compiled = program({PAYMENT: {**MONEY, **params}}, terms=[FALL])
    evaluation = evaluate_enrollment(compiled, _state(date(2026, 8, 24), *inputs), date(2026, 9, 1))
    assert [d.episode for d in evaluation.decisions] == (["2026-08", "2026-09"] if paid else [])
    if not paid:
        assert evaluation.wake_on is None  # nothing to pay until an input (a decision) arrives
    for d in evaluation.decisions:
        assert d.facts["approval"] in ("approved", "predates_application_tracking")


def test_months_due_while_the_approval_was_pending_are_paid_once_it_comes() -> None:
    compiled = program({PAYMENT: MONEY}, terms=[FALL])

    def approve_on_sep_15(state: EnrollmentState, day: date) -> EnrollmentState:
        if day == date(2026, 9, 15):
            return state.with_input(_decision(day, "approved"))
        return state

    decisions = run(
        compiled,
        _state(date(2026, 8, 24), _applied()),
        date(2026, 8, 20),
        date(2026, 10, 31),
        activity=approve_on_sep_15,
    )
    assert [
        (d.on.isoformat(), d.episode, d.due_on.isoformat(), d.facts["approved_on"]) for d in decisions
    ] == [
        ("2026-09-16", "2026-08", "2026-08-24", "2026-09-15"),
        ("2026-09-16", "2026-09", "2026-09-01", "2026-09-15"),
        ("2026-10-01", "2026-10", "2026-10-01", "2026-09-15"),
    ]


def test_the_cap_is_rounded_down_to_cents() -> None:
    """ "in no case more than 7% of the state adequacy target per semester": 7 % of $6,375.50 is
    $446.285, so the semester amount is $446.28, never $446.29."""
    compiled = program({PAYMENT: {"market_cost_usd": 500, "adequacy_target_usd": "6375.50"}}, terms=[FALL])
    decisions = run(compiled, _paid(end_date=date(2026, 12, 18)), date(2026, 8, 20), date(2026, 12, 31))
    assert decisions[-1].facts["semester_cap_usd"] == 446.28
    assert decisions[-1].facts["paid_to_date_usd"] == 446.28
    assert sum(d.facts["amount_usd"] for d in decisions) == pytest.approx(446.28)  # type: ignore[misc]


def test_payment_needs_its_money_parameters() -> None:
    with pytest.raises(ValueError, match="adequacy_target_usd"):
        program({PAYMENT: {"market_cost_usd": 500}})
    with pytest.raises(ValueError, match="cap_share"):
        program({PAYMENT: {**MONEY, "cap_share": 1.5}})


def _versioned(effective: str, target: int) -> CompiledProgram:
    return compile_program(
        ProgramConfig(
            district_id="carthage",
            program_id="mocap",
            name="Carthage MOCAP",
            time_zone="America/Chicago",
            policy_version="2026.1",
            source="001_8e57e2cb68840ac6.txt",
            calendar={"terms": [FALL, SPRING]},  # type: ignore[arg-type]
            rules={PAYMENT: dict(MONEY)},
            versions=[
                {
                    "version": "2026.2",
                    "effective": effective,
                    "rules": {PAYMENT: {"adequacy_target_usd": target}},
                }
            ],  # type: ignore[list-item]
        )
    )


def test_the_adequacy_target_in_force_on_the_terms_first_day_caps_that_semester() -> None:
    compiled = _versioned("2026-10-15", 7000)  # 7 % of 7000 = 490
    fall = run(compiled, _paid(), date(2026, 8, 20), date(2026, 12, 31))
    assert fall[-1].facts["paid_to_date_usd"] == 446.25
    assert {d.policy_version for d in fall} == {"2026.1"}  # even the payments made after 10-15
    spring = run(compiled, _paid(date(2027, 1, 11), term_id="spring"), date(2027, 1, 1), date(2027, 6, 30))
    assert spring[-1].facts["paid_to_date_usd"] == 490.0
    assert [d.on.isoformat() for d in spring] == [
        "2027-01-11",
        "2027-02-01",
        "2027-03-01",
        "2027-04-01",
        "2027-05-01",
    ]
    assert {d.policy_version for d in spring} == {"2026.2"}


# -- mocap.attendance.a_plus -----------------------------------------------------------------


def _grade(
    on: date, grade: str = "B", candidate: bool = True, class_id: str = "c1", event_id: str = "g-1"
) -> Input:
    return _input(event_id, "final_grade", on, FinalGrade(grade=grade, a_plus_candidate=candidate), class_id)


@pytest.mark.parametrize(
    ("day", "count"), [(date(2026, 12, 21), 0), (date(2026, 12, 22), 1), (date(2027, 1, 4), 1)]
)
def test_a_plus_attendance_after_a_passing_grade_even_after_the_end_date(day: date, count: int) -> None:
    compiled = program({A_PLUS: {}})
    state = _state(date(2026, 8, 24), _grade(date(2026, 12, 21)), end_date=date(2026, 12, 18))
    decisions = evaluate_enrollment(compiled, state, day).decisions
    assert len(decisions) == count
    for notice in decisions:
        assert (notice.recipients, notice.episode, notice.due_on) == (
            ("program_admin",),
            "c1",
            date(2026, 12, 22),
        )
        assert (notice.facts["grade"], notice.facts["minimum_attendance"]) == ("B", 0.95)


@pytest.mark.parametrize(
    "grade",
    [
        _grade(date(2026, 12, 21), grade="F"),
        _grade(date(2026, 12, 21), candidate=False),
        _grade(date(2026, 12, 21), class_id="c2"),  # another class's grade reaches this enrollment too
    ],
    ids=["failed", "not-a-candidate", "other-class"],
)
def test_no_a_plus_attendance_without_a_passed_course_of_a_candidate(grade: Input) -> None:
    compiled = program({A_PLUS: {}})
    assert evaluate_enrollment(compiled, _state(date(2026, 8, 24), grade), date(2026, 12, 22)).decisions == ()


def test_a_corrected_grade_does_not_attribute_attendance_twice() -> None:
    compiled = program({A_PLUS: {}})
    state = _state(
        date(2026, 8, 24),
        _grade(date(2026, 12, 21), "F"),
        _grade(date(2026, 12, 28), "C", event_id="g-2"),
        _grade(date(2027, 1, 5), "B", event_id="g-3"),
    )
    decisions = run(compiled, state, date(2026, 12, 20), date(2027, 1, 31))
    assert [(d.on.isoformat(), d.facts["grade"]) for d in decisions] == [("2026-12-29", "C")]


# -- mocap.attendance.ada --------------------------------------------------------------------


def _ada_state(full_time: bool | None, courses: int, **kw: Any) -> EnrollmentState:
    roster = RosterFacts(full_time=full_time, online_courses_in_term=courses)
    return _state(date(2026, 8, 24), roster=roster, end_date=date(2026, 12, 18), **kw)


@pytest.mark.parametrize(
    ("day", "count"), [(date(2026, 12, 18), 0), (date(2026, 12, 19), 1), (date(2026, 12, 21), 1)]
)
def test_ada_share_at_the_end_of_the_term(day: date, count: int) -> None:
    compiled = program({ADA: {}}, terms=[FALL])
    decisions = evaluate_enrollment(compiled, _ada_state(False, 2), day).decisions
    assert len(decisions) == count
    for notice in decisions:
        assert (notice.episode, notice.recipients, notice.due_on) == (
            "fall",
            ("program_admin",),
            date(2026, 12, 19),
        )
        assert notice.facts["student_ada_share"] == 0.3333 and notice.facts["course_ada_share"] == 0.1667
        assert (notice.facts["program_courses_in_term"], notice.facts["full_time_course_load"]) == (2, 6)


@pytest.mark.parametrize(
    ("full_time", "courses", "reports"),
    [(True, 2, False), (False, 7, True), (None, 5, True), (None, 6, False), (None, 7, False)],
)
def test_ada_only_for_part_time_students(full_time: bool | None, courses: int, reports: bool) -> None:
    compiled = program({ADA: {}}, terms=[FALL])
    decisions = evaluate_enrollment(compiled, _ada_state(full_time, courses), date(2026, 12, 19)).decisions
    assert bool(decisions) is reports
    for notice in decisions:
        assert notice.facts["student_ada_share"] <= 1.0  # type: ignore[operator]


def test_ada_course_load_is_a_program_parameter_and_reports_once_per_term() -> None:
    compiled = program({ADA: {"full_time_course_load": 7}}, terms=[FALL, SPRING])
    decisions = run(compiled, _ada_state(None, 2), date(2026, 12, 1), date(2027, 3, 1))
    assert [(d.on.isoformat(), d.episode, d.facts["student_ada_share"]) for d in decisions] == [
        ("2026-12-19", "fall", 0.2857)
    ]


def test_no_ada_for_an_enrollment_that_ended_early() -> None:
    compiled = program({ADA: {}}, terms=[FALL])
    assert (
        evaluate_enrollment(
            compiled, replace(_ada_state(False, 2), status="withdrawn"), date(2026, 12, 19)
        ).decisions
        == ()
    )
    later = evaluate_enrollment(compiled, _ada_state(False, 2), date(2026, 12, 19))
    after = apply_evaluation(_ada_state(False, 2), later, date(2026, 12, 19))
    assert evaluate_enrollment(compiled, after, date(2026, 12, 20)).decisions == ()


# -- template branches the render cases do not reach ----------------------------------------


@pytest.mark.parametrize(
    ("rule_id", "changes", "says", "absent"),
    [
        (
            DUE,
            {"step": "overdue", "business_days_elapsed": 11},
            "the decision is overdue",
            "was not accepted",
        ),
        (GUIDANCE, {"occasion": "school_year_start"}, "As the 2026-27 school year begins", "enrollment in"),
        (PAYMENT, {"cap_basis": "market_cost"}, "the lower of the two: the market cost", "Launch"),
        (A_PLUS, {}, "in Algebra I.", "(fall)"),
    ],
    ids=["overdue", "school-year-start", "market-cost", "no-term"],
)
def test_mocap_template_branches(rule_id: str, changes: dict[str, Any], says: str, absent: str) -> None:
    drop = {"refused_denial_dates", "provider", "term", "course"}
    facts = {k: v for k, v in CASES[rule_id]["facts"].items() if k not in drop} | changes
    role = "guardian" if rule_id == GUIDANCE else "admin"
    email = render(make_notice(rule_id, facts=facts), contact(role), TEMPLATES)
    for body in (email.text, email.html):
        assert says.lower() in body.lower()
        assert absent not in body


def test_denial_letter_without_a_review_deadline_states_none() -> None:
    facts = {k: v for k, v in CASES[DENIAL]["facts"].items() if k != "application_date"}
    email = render(make_notice(DENIAL, facts=facts, deadlines={}), contact("guardian"), TEMPLATES)
    assert "no later than" not in email.text and "BY WHEN" not in email.text
    assert "denied Jamie Rivera's application to enroll in Algebra I" in email.text
    assert (
        "Overdue"
        in render(
            make_notice(DUE, facts={**CASES[DUE]["facts"], "step": "overdue"}), contact("admin"), TEMPLATES
        ).subject
    )


def test_the_deployed_student_record_has_the_same_dates_as_the_replay_one() -> None:
    """``store.enrollments.student_subjects`` (roster load) gives a student the earliest start and
    the last end, like the replay's student record, so the evaluator sees the same spans."""
    from onpace_core.store.enrollments import STUDENT_SUBJECT_CLASS, student_subjects

    records = [
        _record("c2", date(2026, 11, 2), date(2027, 5, 28)),
        _record("c1", date(2026, 10, 5), date(2027, 5, 21)),
        _record("c1", date(2026, 10, 5), None, student="s2"),
    ]
    subjects = {r.student_id: r for r in student_subjects(records)}
    assert (subjects["s1"].class_id, subjects["s1"].start_date, subjects["s1"].end_date) == (
        STUDENT_SUBJECT_CLASS,
        date(2026, 10, 5),
        date(2027, 5, 28),
    )
    assert subjects["s2"].end_date is None
