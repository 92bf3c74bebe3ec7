"""MSC Online: drops inside/after the withdraw period, extension requests, the grade verification window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from onpace_rules import Decision, EnrollmentState, ProgramConfig, compile_program, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.inputs import Approval, DropRequest, ExtensionRequest, FinalGrade, Input
from onpace_rules.registry import EMAILED_RULE_IDS, SILENT_RULE_IDS
from pydantic import ValidationError

from tests.unit.rules_helpers import make_input, program, run

WITHDRAW = "msc.enrollment.withdraw_window"
EXTENSION = "msc.extension.eligibility"
VERIFY = "msc.grades.verification_window"
LADDER = "msc.progress.step1_contact"


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
# 004: "counselors may request an extension for a student not to exceed two (2) weeks. In order for
# an extension to be granted, 50% of the course must be completed. Extensions will not be granted
# during the last fourteen (14) days of a course." ... "Counselors must request a course extension
# through the Program Director". Catalogue: "an eligible request goes to the Program Director for a
# decision (an approval, as for actions); an ineligible one is refused with the reason; only an
# approved extension moves the end date".

END = date(2026, 5, 29)  # a Friday; the last 14 days are 05-16 .. 05-29
DIRECTOR = "Dr. Lund, Program Director"
DIRECTED = {"contacts": {"program_director": [{"name": DIRECTOR, "address": "director@msc.example"}]}}


def _request(on: date, days: int = 14, event_id: str | None = None) -> Input:
    return make_input(
        "extension_request",
        on,
        ExtensionRequest(days=days, requested_by="Counselor Diaz"),
        "c1",
        hour=16,
        event_id=event_id,
    )


def _decision(request: Input, on: date, decision: str = "approved", note: str | None = None) -> Input:
    data = Approval(rule=EXTENSION, decision=decision, by=DIRECTOR, note=note, request=request.event_id)
    return _input("approval", on, data)


def _ext(request: Input, percent: float | None = 0.5, end: date | None = END, **kw: Any) -> EnrollmentState:
    return _state(date(2026, 1, 12), request, percent_complete=percent, end_date=end, **kw)


def _judged(state: EnrollmentState, day: date) -> Decision:
    (notice,) = evaluate_enrollment(program({EXTENSION: {}}, settings=DIRECTED), state, day).decisions
    return notice


@pytest.mark.parametrize(
    ("request_on", "eligible"),
    [(date(2026, 5, 14), True), (date(2026, 5, 15), True), (date(2026, 5, 16), False)],
)
def test_extension_not_in_the_last_14_days(request_on: date, eligible: bool) -> None:
    """ "Extensions will not be granted during the last fourteen (14) days of a course": an eligible
    request goes to the Program Director, an ineligible one is refused to the counselor."""
    notice = _judged(_ext(_request(request_on)), date(2026, 5, 17))
    assert notice.kind == "notice" and notice.facts["no_extension_from"] == "2026-05-16"
    assert notice.deadlines == {} and notice.end_date_after is None  # nothing moves yet
    if eligible:
        assert notice.recipients == ("program_director",)
        assert notice.facts["decision"] == "awaiting_approval" and notice.facts["refused_for"] == []
        assert notice.facts["extension_end_if_approved"] == "2026-06-12"
        assert notice.episode.endswith("/approval") and notice.reason is not None
    else:
        assert notice.recipients == ("counselor",)
        assert notice.facts["decision"] == "refused"
        assert notice.facts["refused_for"] == ["within_last_days_of_course"]


@pytest.mark.parametrize(("percent", "eligible"), [(0.4999, False), (0.5, True), (0.8, True)])
def test_extension_needs_half_the_course_completed(percent: float | None, eligible: bool) -> None:
    """ "In order for an extension to be granted, 50% of the course must be completed"."""
    notice = _judged(_ext(_request(date(2026, 4, 1)), percent), date(2026, 4, 2))
    assert (notice.facts["decision"] == "awaiting_approval") is eligible


def test_a_request_without_a_reported_percent_waits_and_alerts_the_administrator() -> None:
    """Catalogue "No data is not zero": with no percent complete reported, the request is neither
    refused nor sent on; the program administrator gets one data.missing alert, the enrollment is
    looked at again the next day, and once progress is reported the request is judged on it."""
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    state = _ext(_request(date(2026, 4, 1), event_id="ext-1"), None)
    first = evaluate_enrollment(compiled, state, date(2026, 4, 2))
    (alert,) = first.decisions
    assert (alert.rule_id, alert.recipients, alert.episode) == (
        "data.missing",
        ("program_admin",),
        "ext-1/data",
    )
    assert alert.facts["missing_value"] == "percent_complete" and alert.facts["needed_by"] == [EXTENSION]
    assert first.wake_on == date(2026, 4, 3)
    state = apply_evaluation(state, first, date(2026, 4, 2))
    again = evaluate_enrollment(compiled, state, date(2026, 4, 3))
    assert again.decisions == () and again.wake_on == date(2026, 4, 4)  # alerted once
    reported = replace(apply_evaluation(state, again, date(2026, 4, 3)), percent_complete=0.6)
    (sent_on,) = evaluate_enrollment(compiled, reported, date(2026, 4, 4)).decisions
    assert (sent_on.rule_id, sent_on.facts["decision"]) == (EXTENSION, "awaiting_approval")


@pytest.mark.parametrize(("days", "eligible"), [(13, True), (14, True), (15, False)])
def test_extension_at_most_two_weeks(days: int, eligible: bool) -> None:
    """ "an extension for a student not to exceed two (2) weeks"."""
    notice = _judged(_ext(_request(date(2026, 4, 1), days)), date(2026, 4, 2))
    assert (notice.facts["decision"] == "awaiting_approval") is eligible
    if eligible:
        proposed = date.fromisoformat(str(notice.facts["extension_end_if_approved"]))
        assert proposed - END == timedelta(days=days)


def test_a_refusal_states_every_reason() -> None:
    state = _ext(_request(date(2026, 5, 20), 21), 0.3)
    notice = _judged(state, date(2026, 5, 21))
    assert notice.facts["refused_for"] == [
        "less_than_required_percent_complete",
        "within_last_days_of_course",
        "more_days_than_allowed",
    ]


def test_extension_uses_the_term_end_without_an_enrollment_end_date() -> None:
    compiled = program(
        {EXTENSION: {}}, settings=DIRECTED, terms=[{"id": "s", "start": "2026-01-12", "end": "2026-05-29"}]
    )
    (eligible,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1)), end=None, term_id="s"), date(2026, 4, 2)
    ).decisions
    assert eligible.facts["extension_end_if_approved"] == "2026-06-12"
    (unknown,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1)), end=None), date(2026, 4, 2)
    ).decisions
    assert unknown.facts["refused_for"] == ["course_end_unknown"]


def test_a_request_made_on_the_last_day_is_answered_after_the_end() -> None:
    notice = _judged(_ext(_request(END)), date(2026, 5, 30))
    assert notice.facts["refused_for"] == ["within_last_days_of_course"]
    late = _judged(_ext(_request(date(2026, 6, 1))), date(2026, 6, 2))
    assert late.facts["refused_for"] == ["course_already_ended"]


def test_extension_limits_can_be_configured() -> None:
    compiled = program(
        {EXTENSION: {"max_extension_days": 21, "min_percent_complete": 0.6}}, settings=DIRECTED
    )
    (notice,) = evaluate_enrollment(
        compiled, _ext(_request(date(2026, 4, 1), 21), 0.55), date(2026, 4, 2)
    ).decisions
    assert notice.facts["refused_for"] == ["less_than_required_percent_complete"]


def test_an_eligible_request_waits_for_the_director_and_only_an_approval_moves_the_end_date() -> None:
    """Catalogue: "only an approved extension moves the end date"; "the counselor is told the
    outcome". The request (04-01) goes to the Director on 04-02; nothing happens while the
    Director has not decided, however long; the approval of 04-10 is taken on 04-11 and the
    course then ends 14 days later."""
    request = _request(date(2026, 4, 1), event_id="ext-1")
    state = _ext(request, 0.6)
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    decisions = run(compiled, state, date(2026, 4, 2), date(2026, 4, 30))
    assert [(d.on, d.episode, d.recipients) for d in decisions] == [
        (date(2026, 4, 2), "ext-1/approval", ("program_director",))
    ]

    def approve(state: EnrollmentState, day: date) -> EnrollmentState:
        return state.with_input(_decision(request, day)) if day == date(2026, 4, 10) else state

    decisions = run(compiled, state, date(2026, 4, 2), date(2026, 4, 30), activity=approve)
    assert [(d.on, d.episode, d.recipients, d.facts["decision"]) for d in decisions] == [
        (date(2026, 4, 2), "ext-1/approval", ("program_director",), "awaiting_approval"),
        (date(2026, 4, 11), "ext-1/granted-14", ("counselor",), "granted"),
    ]
    granted = decisions[1]
    assert granted.end_date_after == date(2026, 6, 12)
    assert granted.deadlines == {"extension_end": date(2026, 6, 12)}
    assert (granted.facts["decided_by"], granted.facts["decided_on"]) == (DIRECTOR, "2026-04-10")
    assert granted.facts["course_end"] == "2026-05-29"


def test_a_rejected_extension_is_recorded_with_the_directors_reason_and_moves_nothing() -> None:
    request = _request(date(2026, 4, 1), event_id="ext-1")
    reason = "The documentation of the medical treatment was not provided."
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    state = _ext(request, 0.6)
    state = apply_evaluation(state, evaluate_enrollment(compiled, state, date(2026, 4, 2)), date(2026, 4, 2))
    state = state.with_input(_decision(request, date(2026, 4, 3), "rejected", reason))
    evaluation = evaluate_enrollment(compiled, state, date(2026, 4, 4))
    (rejected,) = evaluation.decisions
    assert (rejected.episode, rejected.recipients) == ("ext-1/rejected", ("counselor",))
    assert rejected.facts["decision"] == "rejected" and rejected.facts["director_note"] == reason
    assert rejected.deadlines == {} and rejected.end_date_after is None
    after = apply_evaluation(state, evaluation, date(2026, 4, 4))
    assert after.end_date == END
    assert evaluate_enrollment(compiled, after, date(2026, 4, 5)).decisions == ()  # answered once


def test_a_pending_extension_does_not_hold_the_enrollment_or_stop_the_ladder() -> None:
    """Unlike an action awaiting approval, a request awaiting the Director holds nothing: the
    progress ladder goes on, and its steps stop at the course end as long as none is approved."""
    compiled = program({EXTENSION: {}, LADDER: {"withdraw_period_days": 0}}, settings=DIRECTED)
    state = _ext(_request(date(2026, 4, 1), event_id="ext-1"), 0.6, last_on={"submission": date(2026, 4, 1)})
    decisions = run(compiled, state, date(2026, 4, 2), date(2026, 4, 10))
    assert [(d.on, d.rule_id, d.kind) for d in decisions] == [
        (date(2026, 4, 2), EXTENSION, "notice"),
        (date(2026, 4, 5), LADDER, "notice"),  # after 3 whole days without a submission
    ]
    evaluation = evaluate_enrollment(compiled, state, date(2026, 4, 2))
    assert evaluation.status == "active" and evaluation.held is None


def test_a_decision_made_before_the_request_was_sent_on_is_taken_at_once() -> None:
    """The Director may decide the day the counselor asks (both dated 04-01): the evaluation of
    04-02 records the outcome and asks the Director nothing."""
    request = _request(date(2026, 4, 1), event_id="ext-1")
    state = _ext(request, 0.6).with_input(_decision(request, date(2026, 4, 1)))
    notice = _judged(state, date(2026, 4, 2))
    assert (notice.episode, notice.recipients) == ("ext-1/granted-14", ("counselor",))
    assert notice.end_date_after == date(2026, 6, 12)


def test_without_a_program_director_the_program_administrator_decides() -> None:
    """As for actions awaiting approval: a program that lists no Program Director sends eligible
    requests to its administrator rather than to nobody."""
    (notice,) = evaluate_enrollment(
        program({EXTENSION: {}}), _ext(_request(date(2026, 4, 1))), date(2026, 4, 2)
    ).decisions
    assert (notice.facts["decision"], notice.recipients) == ("awaiting_approval", ("program_admin",))


def test_decisions_on_other_requests_or_rules_are_not_this_requests() -> None:
    request = _request(date(2026, 4, 1), event_id="ext-1")
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    state = _ext(request, 0.6)
    state = apply_evaluation(state, evaluate_enrollment(compiled, state, date(2026, 4, 2)), date(2026, 4, 2))
    other = _request(date(2026, 3, 1), event_id="ext-0")
    state = state.with_input(_decision(other, date(2026, 4, 3))).with_input(
        _input("approval", date(2026, 4, 3), Approval(rule=LADDER, decision="approved", by=DIRECTOR))
    )
    assert evaluate_enrollment(compiled, state, date(2026, 4, 4)).decisions == ()
    # A decision dated before the request cannot be about it.
    early = _decision(request, date(2026, 3, 31))
    assert evaluate_enrollment(compiled, state.with_input(early), date(2026, 4, 4)).decisions == ()


def test_the_latest_decision_the_evaluation_sees_stands() -> None:
    request = _request(date(2026, 4, 1), event_id="ext-1")
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    state = _ext(request, 0.6)
    state = apply_evaluation(state, evaluate_enrollment(compiled, state, date(2026, 4, 2)), date(2026, 4, 2))
    state = state.with_input(_decision(request, date(2026, 4, 3))).with_input(
        _decision(request, date(2026, 4, 4), "rejected", "Asked the counselor for documentation first.")
    )
    (notice,) = evaluate_enrollment(compiled, state, date(2026, 4, 5)).decisions
    assert notice.facts["decision"] == "rejected"


def test_an_extension_decision_names_its_request_and_a_rejection_its_reason() -> None:
    """Refused at the door (the webhook answers 400 with the field), not left waiting."""
    with pytest.raises(ValidationError, match="names its request"):
        Approval(rule=EXTENSION, decision="approved", by=DIRECTOR)
    with pytest.raises(ValidationError, match="reason"):
        Approval(rule=EXTENSION, decision="rejected", by=DIRECTOR, request="ext-1", note=" ")
    # Actions awaiting approval need neither.
    assert Approval(rule=LADDER, decision="rejected", by=DIRECTOR).request is None


def test_the_two_weeks_count_requests_awaiting_the_director() -> None:
    """004: "not to exceed two (2) weeks", in all: 10 days awaiting the Director leave 4 for a
    second request (7 is refused); once the first is rejected, 7 fits."""
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    first = _request(date(2026, 4, 1), 10, event_id="r1")
    state = _ext(first, 0.6)
    state = apply_evaluation(state, evaluate_enrollment(compiled, state, date(2026, 4, 2)), date(2026, 4, 2))
    (refused,) = evaluate_enrollment(
        compiled, state.with_input(_request(date(2026, 4, 5), 7, event_id="r2")), date(2026, 4, 6)
    ).decisions
    assert refused.facts["refused_for"] == ["more_days_than_allowed"]
    assert (refused.facts["already_extended_days"], refused.facts["awaiting_approval_days"]) == (0, 10)
    rejected = state.with_input(_decision(first, date(2026, 4, 5), "rejected", "Not needed.")).with_input(
        _request(date(2026, 4, 5), 7, event_id="r2")
    )
    decisions = evaluate_enrollment(compiled, rejected, date(2026, 4, 6)).decisions
    assert [(d.episode, d.facts["decision"]) for d in decisions] == [
        ("r1/rejected", "rejected"),
        ("r2/approval", "awaiting_approval"),
    ]


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


# -- an approved extension moves the end date --------------------------------------------------------


def _approved(*requests: Input, **kw: Any) -> EnrollmentState:
    """An enrollment with ``requests`` the Director approved on the request dates."""
    state = _state(date(2026, 1, 12), percent_complete=0.6, end_date=END, **kw)
    for request in requests:
        state = state.with_input(request).with_input(_decision(request, request.on))
    return state


def test_an_approved_extension_moves_the_end_date_and_the_rules_that_stop_there() -> None:
    """Without the extension the ladder stops at the end date (05-29); with it, a lapse that
    begins near the old end still reaches step 1 before the new end (06-12)."""
    compiled = program({EXTENSION: {}, LADDER: {}}, settings=DIRECTED)
    lapse = {"submission": date(2026, 5, 28)}  # step 1 due 06-01, after the old end
    plain = _state(date(2026, 1, 12), percent_complete=0.6, end_date=END, last_on=lapse)
    assert [d.rule_id for d in run(compiled, plain, date(2026, 5, 29), date(2026, 6, 20))] == []

    waiting = plain.with_input(_request(date(2026, 5, 1)))
    decisions = run(compiled, waiting, date(2026, 5, 2), date(2026, 6, 20))
    assert [(d.on, d.rule_id, d.facts["decision"]) for d in decisions] == [
        (date(2026, 5, 2), EXTENSION, "awaiting_approval")  # never approved: the end stays
    ]

    extended = _approved(_request(date(2026, 5, 1)), last_on=lapse)
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
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    state = _ext(_request(date(2026, 5, 20)))
    evaluation = evaluate_enrollment(compiled, state, date(2026, 5, 21))
    (refused,) = evaluation.decisions
    assert refused.facts["decision"] == "refused" and refused.end_date_after is None
    assert apply_evaluation(state, evaluation, date(2026, 5, 21)).end_date == END


def test_the_replay_store_keeps_the_extended_end_date() -> None:
    from onpace_core.evaluation.day import evaluate_day
    from onpace_core.store.memory import MemoryStore

    compiled = program({EXTENSION: {}, LADDER: {}}, settings=DIRECTED)
    store = MemoryStore()
    store.add(_approved(_request(date(2026, 5, 1))), first_look=date(2026, 5, 2))
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
    return program({EXTENSION: {}}, settings=DIRECTED).config


def test_a_decision_keeps_its_end_date_change_through_storage() -> None:
    from onpace_rules.decisions import decision_from_dict, decision_to_dict

    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    state = _approved(_request(date(2026, 4, 1)))
    (granted,) = evaluate_enrollment(compiled, state, date(2026, 4, 2)).decisions
    assert decision_from_dict(decision_to_dict(granted)) == granted
    assert decision_to_dict(granted)["end_date_after"] == "2026-06-12"


def test_extensions_add_up_to_two_weeks_at_most() -> None:
    """004: "an extension ... not to exceed two (2) weeks": a second request counts the days
    approved before (10 + 4 = 14 is sent on and approved, 10 + 7 is refused)."""
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    r1 = _request(date(2026, 4, 1), 10, event_id="r1")
    r2 = _request(date(2026, 4, 20), 7, event_id="r2")
    r3 = _request(date(2026, 4, 21), 4, event_id="r3")
    state = _approved(r1).with_input(r2).with_input(r3).with_input(_decision(r3, date(2026, 4, 21)))
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


def test_two_requests_approved_the_same_day_extend_one_after_the_other() -> None:
    compiled = program({EXTENSION: {}}, settings=DIRECTED)
    state = _approved(
        _request(date(2026, 4, 1), 5, event_id="r1"),
        _request(date(2026, 4, 1), 5, event_id="r2"),
    )
    evaluation = evaluate_enrollment(compiled, state, date(2026, 4, 2))
    assert [d.deadlines["extension_end"] for d in evaluation.decisions] == [
        date(2026, 6, 3),
        date(2026, 6, 8),
    ]
    after = apply_evaluation(state, evaluation, date(2026, 4, 2))
    assert after.end_date == date(2026, 6, 8)
    assert evaluate_enrollment(compiled, after, date(2026, 4, 3)).decisions == ()
