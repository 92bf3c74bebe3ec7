"""MSC Online: drops inside/after the withdraw period, extension requests, the grade verification window."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from onpace_rules import EnrollmentState, ProgramConfig, compile_program, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.inputs import DropRequest, ExtensionRequest, FinalGrade, Input
from onpace_rules.registry import EMAILED_RULE_IDS, SILENT_RULE_IDS

from tests.unit.rules_helpers import make_input, program, run

WITHDRAW = "msc.enrollment.withdraw_window"
EXTENSION = "msc.extension.eligibility"
VERIFY = "msc.grades.verification_window"


def _input(kind: str, on: date, data: Any, class_id: str | None = "c1") -> Input:
    return make_input(kind, on, data, class_id, hour=16)


def _state(start: date = date(2026, 1, 5), *inputs: Input, **kw: Any) -> EnrollmentState:
    state = EnrollmentState(key="d#c1#s1", start_date=start, class_id="c1", **kw)
    for item in inputs:
        state = state.with_input(item)
    return state


def _drop(on: date, class_id: str = "c1") -> Input:
    return _input("drop_request", on, DropRequest(requested_by="counselor"), class_id)


# -- msc.enrollment.withdraw_window -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("drop_on", "within"),
    [(date(2026, 1, 13), True), (date(2026, 1, 14), True), (date(2026, 1, 15), False)],
)
def test_drop_inside_and_after_the_ten_day_withdraw_period(drop_on: date, within: bool) -> None:
    compiled = program({WITHDRAW: {}})
    day = date(2026, 1, 16)
    evaluation = evaluate_enrollment(compiled, _state(date(2026, 1, 5), _drop(drop_on)), day)
    (decision,) = evaluation.decisions
    assert (decision.kind, decision.status_after, evaluation.status) == ("action", "dropped", "dropped")
    assert decision.recipients == ()
    assert decision.facts["within_withdraw_period"] is within
    assert decision.facts["withdraw_period_end"] == "2026-01-14"
    assert decision.facts["grade"] == (None if within else "F")
    assert decision.facts["fee_usd"] == (110.0 if within else 425.0)
    assert decision.facts["fee_kind"] == ("drop_fee" if within else "full_course_fee")
    assert decision.due_on == drop_on.replace(day=drop_on.day + 1)


@pytest.mark.parametrize(
    ("drop_on", "fee_kind", "fee"),
    [
        (date(2026, 1, 4), "registration_fee", 25.0),  # the day before the course starts
        (date(2026, 1, 5), "drop_fee", 110.0),  # the start day: the notification has gone out
        (date(2026, 1, 6), "drop_fee", 110.0),
    ],
)
def test_an_enrollment_withdrawn_before_the_course_starts_pays_the_registration_fee(
    drop_on: date, fee_kind: str, fee: float
) -> None:
    """004: "a $25.00 registration fee charged for any student enrollment received which is
    withdrawn before the course notification email is sent"."""
    compiled = program({WITHDRAW: {}})
    evaluation = evaluate_enrollment(compiled, _state(date(2026, 1, 5), _drop(drop_on)), date(2026, 1, 7))
    (decision,) = evaluation.decisions
    assert (decision.facts["fee_kind"], decision.facts["fee_usd"], evaluation.status) == (
        fee_kind,
        fee,
        "dropped",
    )
    assert decision.facts["grade"] is None


def test_the_removal_states_the_re_enrollment_fee() -> None:
    """004 step 4: "may re-enroll once, per course, per semester, for a $400 fee within seven days"."""
    steps = ("msc.progress.step1_contact", "msc.progress.step2_reminder", "msc.progress.step3_removal_notice")
    rules: dict[str, dict[str, Any]] = {rule: {} for rule in steps}
    compiled = program({**rules, "msc.progress.step4_removal": {"reenroll_fee_usd": 450}})
    decisions = run(compiled, _state(date(2026, 1, 5)), date(2026, 1, 5), date(2026, 3, 1))
    removal = decisions[-1]
    assert removal.rule_id == "msc.progress.step4_removal" and removal.facts["reenroll_fee_usd"] == 450.0
    assert all("reenroll_fee_usd" not in d.facts for d in decisions[:-1])


def test_withdraw_period_across_the_daylight_saving_change() -> None:
    # Enrolled Mon 2026-03-02: the period runs to 03-11, over the 03-08 DST change.
    compiled = program({WITHDRAW: {}})
    inside = evaluate_enrollment(
        compiled, _state(date(2026, 3, 2), _drop(date(2026, 3, 11))), date(2026, 3, 12)
    )
    after = evaluate_enrollment(
        compiled, _state(date(2026, 3, 2), _drop(date(2026, 3, 12))), date(2026, 3, 13)
    )
    assert inside.decisions[0].facts["grade"] is None
    assert after.decisions[0].facts["grade"] == "F"


def test_the_fee_is_the_one_in_force_on_the_drop_date() -> None:
    # The 2014 guidelines' $100.00 until the pricing schedule's $110.00 takes effect.
    config = ProgramConfig(
        district_id="d",
        program_id="p",
        name="MSC",
        time_zone="America/Chicago",
        policy_version="guidelines-2014",
        source="004_50d77f9850a1db80.txt",
        rules={WITHDRAW: {"drop_fee_usd": 100.0, "course_fee_usd": 515}},
        versions=[
            {"version": "pricing-2015", "effective": "2015-07-01", "rules": {WITHDRAW: {"drop_fee_usd": 110}}}
        ],
    )
    compiled = compile_program(config)
    before = evaluate_enrollment(
        compiled, _state(date(2015, 6, 25), _drop(date(2015, 6, 30))), date(2015, 7, 2)
    )
    on_the_day = evaluate_enrollment(
        compiled, _state(date(2015, 6, 25), _drop(date(2015, 7, 1))), date(2015, 7, 2)
    )
    assert (before.decisions[0].facts["fee_usd"], before.decisions[0].policy_version) == (
        100.0,
        "guidelines-2014",
    )
    assert (on_the_day.decisions[0].facts["fee_usd"], on_the_day.decisions[0].policy_version) == (
        110.0,
        "pricing-2015",
    )
    late = evaluate_enrollment(compiled, _state(date(2015, 6, 1), _drop(date(2015, 7, 1))), date(2015, 7, 2))
    assert late.decisions[0].facts["fee_usd"] == 515.0  # the course fee of the program's tier


def test_a_drop_request_for_another_class_is_ignored() -> None:
    compiled = program({WITHDRAW: {}})
    state = _state(date(2026, 1, 5), _drop(date(2026, 1, 8), class_id="c2"))
    assert evaluate_enrollment(compiled, state, date(2026, 1, 9)).decisions == ()


def test_a_drop_request_after_the_course_end_is_recorded_as_skipped() -> None:
    compiled = program({WITHDRAW: {}})
    state = _state(date(2026, 1, 5), _drop(date(2026, 5, 30)), end_date=date(2026, 5, 29))
    evaluation = evaluate_enrollment(compiled, state, date(2026, 5, 31))
    (decision,) = evaluation.decisions
    assert (decision.kind, decision.reason, evaluation.status) == (
        "skipped",
        "requested after the course end date",
        "active",
    )


def test_a_drop_requested_on_the_last_day_is_taken_the_day_after() -> None:
    compiled = program({WITHDRAW: {}})
    state = _state(date(2026, 1, 5), _drop(date(2026, 5, 29)), end_date=date(2026, 5, 29))
    assert evaluate_enrollment(compiled, state, date(2026, 5, 30)).status == "dropped"


def test_the_drop_ends_the_progress_ladder() -> None:
    compiled = program({WITHDRAW: {}, "msc.progress.step1_contact": {}})
    state = _state(date(2026, 1, 5), _drop(date(2026, 1, 20)))
    decisions = run(compiled, state, date(2026, 1, 5), date(2026, 3, 1))
    assert [(d.on, d.rule_id) for d in decisions] == [
        (date(2026, 1, 15), "msc.progress.step1_contact"),
        (date(2026, 1, 21), WITHDRAW),
    ]


def test_the_withdraw_record_is_silent() -> None:
    assert WITHDRAW in SILENT_RULE_IDS and WITHDRAW not in EMAILED_RULE_IDS


# -- msc.extension.eligibility ------------------------------------------------------------------------

END = date(2026, 5, 29)  # a Friday; the last 14 days are 05-16 .. 05-29


def _request(on: date, days: int = 14) -> Input:
    return _input("extension_request", on, ExtensionRequest(days=days, requested_by="Counselor Diaz"))


def _ext(request: Input, percent: float | None = 0.5, end: date | None = END, **kw: Any) -> EnrollmentState:
    return _state(date(2026, 1, 12), request, percent_complete=percent, end_date=end, **kw)


@pytest.mark.parametrize(
    ("request_on", "granted"),
    [(date(2026, 5, 14), True), (date(2026, 5, 15), True), (date(2026, 5, 16), False)],
)
def test_extension_not_in_the_last_14_days(request_on: date, granted: bool) -> None:
    compiled = program({EXTENSION: {}})
    (notice,) = evaluate_enrollment(compiled, _ext(_request(request_on)), date(2026, 5, 17)).decisions
    assert notice.kind == "notice" and notice.recipients == ("counselor",)
    assert notice.facts["decision"] == ("granted" if granted else "refused")
    assert notice.facts["no_extension_from"] == "2026-05-16"
    if granted:
        assert notice.deadlines == {"extension_end": date(2026, 6, 12)}
        assert notice.facts["refused_for"] == []
    else:
        assert notice.deadlines == {}
        assert notice.facts["refused_for"] == ["within_last_days_of_course"]


@pytest.mark.parametrize(("percent", "granted"), [(0.4999, False), (0.5, True), (0.8, True), (None, False)])
def test_extension_needs_half_the_course_completed(percent: float | None, granted: bool) -> None:
    compiled = program({EXTENSION: {}})
    (notice,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1)), percent), date(2026, 4, 2)
    ).decisions
    assert (notice.facts["decision"] == "granted") is granted


@pytest.mark.parametrize(("days", "granted"), [(13, True), (14, True), (15, False)])
def test_extension_at_most_two_weeks(days: int, granted: bool) -> None:
    compiled = program({EXTENSION: {}})
    (notice,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1), days)), date(2026, 4, 2)
    ).decisions
    assert (notice.facts["decision"] == "granted") is granted
    if granted:
        assert (notice.deadlines["extension_end"] - END).days == days


def test_a_refusal_states_every_reason() -> None:
    compiled = program({EXTENSION: {}})
    state = _ext(_request(date(2026, 5, 20), 21), 0.3)
    (notice,) = evaluate_enrollment(compiled, state, date(2026, 5, 21)).decisions
    assert notice.facts["refused_for"] == [
        "less_than_required_percent_complete",
        "within_last_days_of_course",
        "more_days_than_allowed",
    ]


def test_extension_uses_the_term_end_without_an_enrollment_end_date() -> None:
    compiled = program({EXTENSION: {}}, terms=[{"id": "s", "start": "2026-01-12", "end": "2026-05-29"}])
    (granted,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1)), end=None, term_id="s"), date(2026, 4, 2)
    ).decisions
    assert granted.deadlines == {"extension_end": date(2026, 6, 12)}
    (unknown,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1)), end=None), date(2026, 4, 2)
    ).decisions
    assert unknown.facts["refused_for"] == ["course_end_unknown"]


def test_a_request_made_on_the_last_day_is_answered_after_the_end() -> None:
    compiled = program({EXTENSION: {}})
    (notice,) = evaluate_enrollment(compiled, _ext(_request(END)), date(2026, 5, 30)).decisions
    assert notice.facts["refused_for"] == ["within_last_days_of_course"]
    (late,) = evaluate_enrollment(compiled, _ext(_request(date(2026, 6, 1))), date(2026, 6, 2)).decisions
    assert late.facts["refused_for"] == ["course_already_ended"]


def test_each_request_is_answered_once() -> None:
    compiled = program({EXTENSION: {}})
    state = _ext(_request(date(2026, 4, 1)))
    first = evaluate_enrollment(compiled, state, date(2026, 4, 2))
    state = apply_evaluation(state, first, date(2026, 4, 2))
    assert len(first.decisions) == 1
    assert evaluate_enrollment(compiled, state, date(2026, 4, 3)).decisions == ()
    second = state.with_input(_request(date(2026, 4, 3), 7))
    assert [
        d.facts["requested_days"] for d in evaluate_enrollment(compiled, second, date(2026, 4, 4)).decisions
    ] == [7]


def test_extension_limits_can_be_configured() -> None:
    compiled = program({EXTENSION: {"max_extension_days": 21, "min_percent_complete": 0.6}})
    (notice,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1), 21), 0.55), date(2026, 4, 2)
    ).decisions
    assert notice.facts["refused_for"] == ["less_than_required_percent_complete"]


# -- msc.grades.verification_window ----------------------------------------------------------------


def _grade(on: date, class_id: str = "c1", grade: str = "B+") -> Input:
    return _input("final_grade", on, FinalGrade(grade=grade, course="Biology"), class_id)


def test_grade_report_gives_fifteen_calendar_days() -> None:
    compiled = program({VERIFY: {}})
    state = _state(date(2026, 1, 12), _grade(date(2026, 5, 29)), end_date=date(2026, 5, 29))
    assert evaluate_enrollment(compiled, state, date(2026, 5, 29)).decisions == ()  # not seen yet
    (notice,) = evaluate_enrollment(compiled, state, date(2026, 5, 30)).decisions  # after the end date
    assert (notice.rule_id, notice.kind) == (VERIFY, "notice")
    assert notice.recipients == ("student", "district_staff")
    assert notice.deadlines == {"grade_final": date(2026, 6, 14)}
    assert notice.facts["grade"] == "B+"


def test_a_late_report_counts_the_window_from_the_day_it_is_sent() -> None:
    compiled = program({VERIFY: {}})
    state = _state(date(2026, 1, 12), _grade(date(2026, 5, 29)))
    decisions = run(
        compiled,
        state,
        date(2026, 5, 29),
        date(2026, 6, 30),
        skip=frozenset({date(2026, 5, 30)}),
        use_wake=False,  # the input already in the state would wake it; here every day is looked at
    )
    assert [(d.on, d.due_on, d.deadlines["grade_final"]) for d in decisions] == [
        (date(2026, 5, 31), date(2026, 5, 30), date(2026, 6, 15))
    ]


def test_grade_window_across_the_fall_daylight_saving_change() -> None:
    compiled = program({VERIFY: {}})
    state = _state(date(2026, 8, 24), _grade(date(2026, 10, 25)))
    (notice,) = evaluate_enrollment(compiled, state, date(2026, 10, 26)).decisions
    assert notice.deadlines["grade_final"] == date(2026, 11, 10)


def test_only_this_class_grades_and_each_posting_once() -> None:
    compiled = program({VERIFY: {}})
    other = _grade(date(2026, 5, 29), class_id="c2")  # student-wide input of another class
    state = _state(date(2026, 1, 12), other)
    assert evaluate_enrollment(compiled, state, date(2026, 5, 30)).decisions == ()
    state = state.with_input(_grade(date(2026, 5, 29)))
    first = evaluate_enrollment(compiled, state, date(2026, 5, 30))
    state = apply_evaluation(state, first, date(2026, 5, 30))
    assert evaluate_enrollment(compiled, state, date(2026, 5, 31)).decisions == ()
    corrected = state.with_input(_grade(date(2026, 6, 3), grade="A-"))
    (again,) = evaluate_enrollment(compiled, corrected, date(2026, 6, 4)).decisions
    assert (again.facts["grade"], again.deadlines["grade_final"]) == ("A-", date(2026, 6, 19))


# -- a granted extension moves the end date ---------------------------------------------------------

LADDER = "msc.progress.step1_contact"


def test_a_granted_extension_moves_the_end_date_and_the_rules_that_stop_there() -> None:
    """Without the extension the ladder stops at the end date (05-29); with it, a lapse that
    begins near the old end still reaches step 1 before the new end (06-12)."""
    compiled = program({EXTENSION: {}, LADDER: {}})
    lapse = {"submission": date(2026, 5, 28)}  # step 1 due 06-01, after the old end
    plain = _state(date(2026, 1, 12), percent_complete=0.6, end_date=END, last_on=lapse)
    assert [d.rule_id for d in run(compiled, plain, date(2026, 5, 29), date(2026, 6, 20))] == []

    extended = plain.with_input(_request(date(2026, 5, 1)))
    decisions = run(compiled, extended, date(2026, 5, 2), date(2026, 6, 20))
    assert [(d.on, d.rule_id) for d in decisions] == [
        (date(2026, 5, 2), EXTENSION),
        (date(2026, 6, 1), LADDER),
    ]
    assert decisions[0].end_date_after == date(2026, 6, 12)
    after = apply_evaluation(
        extended, evaluate_enrollment(compiled, extended, date(2026, 5, 2)), date(2026, 5, 2)
    )
    assert after.end_date == date(2026, 6, 12)


def test_a_refused_extension_leaves_the_end_date() -> None:
    compiled = program({EXTENSION: {}})
    state = _ext(_request(date(2026, 5, 20)))
    evaluation = evaluate_enrollment(compiled, state, date(2026, 5, 21))
    (refused,) = evaluation.decisions
    assert refused.facts["decision"] == "refused" and refused.end_date_after is None
    assert apply_evaluation(state, evaluation, date(2026, 5, 21)).end_date == END


def test_the_replay_store_keeps_the_extended_end_date() -> None:
    from onpace_core.evaluation.day import evaluate_day
    from onpace_core.store.memory import MemoryStore

    compiled = program({EXTENSION: {}, LADDER: {}})
    store = MemoryStore()
    store.add(_ext(_request(date(2026, 5, 1)), 0.6), first_look=date(2026, 5, 2))
    evaluate_day(store, compiled, date(2026, 5, 2), datetime(2026, 5, 2, 12, tzinfo=UTC))
    assert store.subjects["d#c1#s1"].state.end_date == date(2026, 6, 12)
    assert [r.decision.end_date_after for r in store.recorded if r.decision.rule_id == EXTENSION] == [
        date(2026, 6, 12)
    ]


@pytest.mark.parametrize(
    ("roster_end", "extended", "seen"),
    [
        ("2026-05-29", "2026-06-12", date(2026, 6, 12)),
        ("2026-06-30", "2026-06-12", date(2026, 6, 30)),  # the roster moved the end later still
        (None, "2026-06-12", date(2026, 6, 12)),
        ("2026-05-29", None, date(2026, 5, 29)),
    ],
)
def test_the_stored_enrollment_reads_the_later_of_roster_end_and_extension(
    roster_end: str | None, extended: str | None, seen: date
) -> None:
    from onpace_core.store.enrollments import to_state
    from onpace_core.store.models import EnrollmentModel

    item = EnrollmentModel(
        enrollment_key="d#c1#s1",
        district_id="d",
        program_id="p",
        class_id="c1",
        student_id="s1",
        start_date="2026-01-12",
        status="active",
        end_date=roster_end,
        extended_end_date=extended,
    )
    assert to_state(item, compile_program(_program_config()).calendar).end_date == seen


def _program_config() -> ProgramConfig:
    return program({EXTENSION: {}}).config


def test_a_decision_keeps_its_end_date_change_through_storage() -> None:
    from onpace_rules.decisions import decision_from_dict, decision_to_dict

    compiled = program({EXTENSION: {}})
    (granted,) = evaluate_enrollment(compiled, _ext(_request(date(2026, 4, 1))), date(2026, 4, 2)).decisions
    assert decision_from_dict(decision_to_dict(granted)) == granted
    assert decision_to_dict(granted)["end_date_after"] == "2026-06-12"


def _request_id(event_id: str, on: date, days: int) -> Input:
    return make_input(
        "extension_request",
        on,
        ExtensionRequest(days=days, requested_by="Counselor Diaz"),
        "c1",
        hour=16,
        event_id=event_id,
    )


def test_extensions_add_up_to_two_weeks_at_most() -> None:
    """004: "an extension ... not to exceed two (2) weeks": a second request counts the days
    granted before (10 + 4 = 14 is granted, 10 + 7 is not)."""
    compiled = program({EXTENSION: {}})
    state = _ext(_request_id("r1", date(2026, 4, 1), 10), 0.6)
    state = state.with_input(_request_id("r2", date(2026, 4, 20), 7)).with_input(
        _request_id("r3", date(2026, 4, 21), 4)
    )
    decisions = run(compiled, state, date(2026, 4, 2), date(2026, 4, 30))
    assert [(d.on, d.episode, d.facts["decision"], d.facts["already_extended_days"]) for d in decisions] == [
        (date(2026, 4, 2), "r1/granted-10", "granted", 0),
        (date(2026, 4, 21), "r2", "refused", 10),
        (date(2026, 4, 22), "r3/granted-4", "granted", 10),
    ]
    assert decisions[1].facts["refused_for"] == ["more_days_than_allowed"]
    assert [d.deadlines.get("extension_end") for d in decisions] == [
        date(2026, 6, 8),
        None,
        date(2026, 6, 12),
    ]


def test_two_requests_answered_the_same_day_extend_one_after_the_other() -> None:
    compiled = program({EXTENSION: {}})
    state = _ext(_request_id("r1", date(2026, 4, 1), 5), 0.6).with_input(
        _request_id("r2", date(2026, 4, 1), 5)
    )
    evaluation = evaluate_enrollment(compiled, state, date(2026, 4, 2))
    assert [d.deadlines["extension_end"] for d in evaluation.decisions] == [
        date(2026, 6, 3),
        date(2026, 6, 8),
    ]
    assert apply_evaluation(state, evaluation, date(2026, 4, 2)).end_date == date(2026, 6, 8)
    assert (
        evaluate_enrollment(
            compiled, apply_evaluation(state, evaluation, date(2026, 4, 2)), date(2026, 4, 3)
        ).decisions
        == ()
    )
