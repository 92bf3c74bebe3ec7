"""Each rule of the foundation: the day before, the day of, the day after; weekends, holidays, DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from onpace_rules import EnrollmentState, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.registry import UnknownRuleError

from tests.unit.rules_helpers import program, run, summary

PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
TERM = {"terms": [{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}]}
CSU = {"csu.engagement.at_risk_14d": {}, "csu.engagement.withdraw_21d": {}}
MSC1 = {"msc.progress.step1_contact": {}}


def _pacing_state(percent: float | None, **kw: object) -> EnrollmentState:
    return EnrollmentState(
        key="e", start_date=date(2026, 8, 24), term_id="fall", percent_complete=percent, **kw
    )  # type: ignore[arg-type]


# -- cps.pacing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 24), []),
        (date(2026, 9, 25), ["cps.pacing.ipr_warning_2w"]),
        (date(2026, 9, 26), ["cps.pacing.ipr_warning_2w"]),  # first evaluation on or after the date
    ],
)
def test_two_week_warning_boundaries(day: date, expected: list[str]) -> None:
    compiled = program(PACING, **TERM)
    evaluation = evaluate_enrollment(compiled, _pacing_state(0.10, checked_through=date(2026, 9, 23)), day)
    assert [d.rule_id for d in evaluation.decisions] == expected


@pytest.mark.parametrize(("percent", "fires"), [(0.1499, True), (0.15, False), (None, True)])
def test_threshold_is_strictly_below_15_percent(percent: float | None, fires: bool) -> None:
    compiled = program(PACING, **TERM)
    evaluation = evaluate_enrollment(compiled, _pacing_state(percent), date(2026, 9, 25))
    assert bool(evaluation.decisions) is fires


def test_drop_is_taken_the_day_after_ipr_and_appeal_skips_the_weekend() -> None:
    compiled = program(PACING, **TERM)
    state = _pacing_state(0.12, checked_through=date(2026, 10, 8))
    assert evaluate_enrollment(compiled, state, date(2026, 10, 9)).decisions == ()
    (drop,) = evaluate_enrollment(compiled, state, date(2026, 10, 10)).decisions
    assert (drop.rule_id, drop.kind, drop.deadlines["appeal"]) == (
        "cps.pacing.ipr_drop",
        "action",
        date(2026, 10, 13),
    )


def test_appeal_deadline_skips_a_holiday() -> None:
    compiled = program(PACING, holidays=["2026-10-12"], **TERM)  # Columbus Day closed
    (drop,) = evaluate_enrollment(
        compiled, _pacing_state(0.1, checked_through=date(2026, 10, 9)), date(2026, 10, 10)
    ).decisions
    assert drop.deadlines["appeal"] == date(2026, 10, 14)


def test_catch_up_sends_only_the_latest_pacing_warning() -> None:
    compiled = program(PACING, **TERM)
    decisions = run(
        compiled,
        _pacing_state(0.05),
        date(2026, 9, 20),
        date(2026, 10, 20),
        skip=frozenset(date(2026, 9, 21) + timedelta(days=i) for i in range(13)),
    )  # evaluator down 09-21 .. 10-03
    assert [(d.on.isoformat(), d.rule_id, d.kind, d.reason) for d in decisions] == [
        ("2026-10-04", "cps.pacing.ipr_warning_2w", "skipped", "superseded"),
        ("2026-10-04", "cps.pacing.ipr_warning_1w", "notice", None),
        ("2026-10-10", "cps.pacing.ipr_drop", "action", None),
    ]


def test_catch_up_past_the_drop_date_takes_the_drop_and_skips_the_warnings() -> None:
    compiled = program(PACING, **TERM)
    evaluation = evaluate_enrollment(
        compiled, _pacing_state(0.05, checked_through=date(2026, 9, 20)), date(2026, 10, 12)
    )
    assert [(d.rule_id, d.kind) for d in evaluation.decisions] == [
        ("cps.pacing.ipr_warning_2w", "skipped"),
        ("cps.pacing.ipr_warning_1w", "skipped"),
        ("cps.pacing.ipr_drop", "action"),
    ]
    assert evaluation.decisions[-1].deadlines["appeal"] == date(
        2026, 10, 14
    )  # counted from the real notice day


def test_enrollment_starting_after_the_two_week_date_gets_only_later_notices() -> None:
    compiled = program(PACING, **TERM)
    late = EnrollmentState(key="e", start_date=date(2026, 9, 28), term_id="fall", percent_complete=0.0)
    decisions = run(compiled, late, date(2026, 9, 28), date(2026, 10, 12))
    assert [d.rule_id for d in decisions] == ["cps.pacing.ipr_warning_1w", "cps.pacing.ipr_drop"]


def test_a_warning_evaluated_above_threshold_does_not_return_as_missed() -> None:
    compiled = program(PACING, **TERM)
    state = _pacing_state(0.30)
    evaluation = evaluate_enrollment(compiled, state, date(2026, 9, 25))
    assert evaluation.decisions == ()
    state = apply_evaluation(state, evaluation, date(2026, 9, 25))
    dipped = replace(state, percent_complete=0.10)
    (only,) = evaluate_enrollment(compiled, dipped, date(2026, 10, 2)).decisions
    assert (only.rule_id, only.kind) == ("cps.pacing.ipr_warning_1w", "notice")


def test_pacing_rules_ignore_enrollments_without_a_checkpoint() -> None:
    compiled = program(PACING, terms=[{"id": "spring", "start": "2027-01-11", "end": "2027-05-20"}])
    state = EnrollmentState(key="e", start_date=date(2027, 1, 11), term_id="spring", percent_complete=0.0)
    assert run(compiled, state, date(2027, 1, 11), date(2027, 5, 20)) == []


# -- csu.engagement --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 15), []),
        (date(2026, 3, 16), []),  # the 14th whole day is 03-16 itself: not over yet
        (date(2026, 3, 17), ["csu.engagement.at_risk_14d"]),
        (date(2026, 3, 18), ["csu.engagement.at_risk_14d"]),
    ],
)
def test_at_risk_boundaries(day: date, expected: list[str]) -> None:
    """ "students who have not actively engaged for 14 days will receive an At-Risk email"
    (003_87de092a038aeaf4.txt); catalogue: last engagement Mon 2026-03-02 → the 14 whole days
    are 03-03 … 03-16 → the At-Risk email goes on Tue 2026-03-17."""
    compiled = program(CSU)
    state = EnrollmentState(key="e", start_date=date(2026, 1, 12), last_on={"submission": date(2026, 3, 2)})
    assert [d.rule_id for d in evaluate_enrollment(compiled, state, day).decisions] == expected


def test_logins_and_views_are_not_engagement() -> None:
    compiled = program(CSU)
    state = EnrollmentState(
        key="e",
        start_date=date(2026, 1, 12),
        last_on={"forum_question": date(2026, 3, 2), "login": date(2026, 3, 15), "view": date(2026, 3, 15)},
    )
    assert [d.rule_id for d in evaluate_enrollment(compiled, state, date(2026, 3, 17)).decisions] == [
        "csu.engagement.at_risk_14d"
    ]


def test_no_engagement_ever_counts_from_the_start_date() -> None:
    compiled = program(CSU)
    state = EnrollmentState(key="e", start_date=date(2026, 1, 5))
    # The start is the first day counted: the 14 whole days are 01-05 … 01-18.
    assert evaluate_enrollment(compiled, state, date(2026, 1, 18)).decisions == ()
    (notice,) = evaluate_enrollment(compiled, state, date(2026, 1, 19)).decisions
    assert notice.facts["last_activity_date"] is None
    assert notice.facts["calendar_days_without_activity"] == 14
    assert notice.deadlines == {"last_day": date(2026, 1, 25), "withdrawal": date(2026, 1, 26)}


def test_late_at_risk_email_gives_the_full_seven_days() -> None:
    compiled = program(CSU)
    state = EnrollmentState(key="e", start_date=date(2026, 1, 12), last_on={"submission": date(2026, 3, 2)})
    decisions = run(
        compiled,
        state,
        date(2026, 3, 10),
        date(2026, 4, 30),
        skip=frozenset({date(2026, 3, 17), date(2026, 3, 18)}),
    )
    # Sent two days late on 03-19, the email still gives seven whole days (03-19 … 03-25), and
    # the withdrawal comes on the date it announced, never earlier than 21 whole days.
    assert summary(decisions) == [
        (
            "2026-03-19",
            "csu.engagement.at_risk_14d",
            "notice",
            {"last_day": "2026-03-25", "withdrawal": "2026-03-26"},
        ),
        ("2026-03-26", "csu.engagement.withdraw_21d", "action", {}),
    ]


def test_activity_on_the_evaluation_day_counts_only_from_the_next_day() -> None:
    compiled = program(CSU)
    state = EnrollmentState(key="e", start_date=date(2026, 1, 12), last_on={"submission": date(2026, 3, 16)})
    # The evaluation of 03-16 must not see the submission of 03-16 as the last engagement date
    # (it cannot know the earlier one), so it decides nothing rather than something wrong.
    assert evaluate_enrollment(compiled, state, date(2026, 3, 16)).decisions == ()


# -- msc.progress.step1_contact ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_submission", "day", "fires"),
    [
        (date(2026, 1, 20), date(2026, 1, 23), False),  # 01-23 is the third whole day: not over
        (date(2026, 1, 20), date(2026, 1, 24), True),
        (date(2026, 1, 20), date(2026, 1, 25), True),
        (date(2026, 1, 23), date(2026, 1, 24), False),  # a submission on the third day prevents it
        (date(2026, 1, 6), date(2026, 1, 10), False),  # inside the withdraw period 01-05..01-14
        (date(2026, 1, 6), date(2026, 1, 14), False),
        (date(2026, 1, 6), date(2026, 1, 15), True),  # first day after the period
    ],
)
def test_step1_boundaries_and_withdraw_period(last_submission: date, day: date, fires: bool) -> None:
    """ "If a student has not submitted the expected work for 3 days the instructor will contact
    the student" (004_50d77f9850a1db80.txt): 3 whole days after the last submission."""
    compiled = program(MSC1)
    state = EnrollmentState(key="e", start_date=date(2026, 1, 5), last_on={"submission": last_submission})
    decisions = evaluate_enrollment(compiled, state, day).decisions
    assert [d.rule_id for d in decisions] == (["msc.progress.step1_contact"] if fires else [])


def test_step1_counts_calendar_days_over_a_weekend() -> None:
    compiled = program(MSC1)
    state = EnrollmentState(
        key="e", start_date=date(2026, 1, 5), last_on={"submission": date(2026, 1, 23)}
    )  # Friday
    decisions = run(compiled, state, date(2026, 1, 24), date(2026, 1, 31))
    # Sat, Sun and Mon are the three whole days: the prompt goes on Tuesday.
    assert [(d.on.isoformat(), d.rule_id) for d in decisions] == [
        ("2026-01-27", "msc.progress.step1_contact")
    ]


def test_step1_only_once_per_lapse_and_again_after_a_new_lapse() -> None:
    compiled = program(MSC1)
    state = EnrollmentState(key="e", start_date=date(2026, 1, 5), last_on={"submission": date(2026, 1, 20)})

    def activity(s: EnrollmentState, day: date) -> EnrollmentState:
        if day == date(2026, 2, 2):
            return EnrollmentState(
                **{**{f: getattr(s, f) for f in s.__slots__}, "last_on": {"submission": day}}
            )
        return s

    decisions = run(compiled, state, date(2026, 1, 21), date(2026, 2, 10), activity=activity)
    assert [(d.on.isoformat(), d.episode) for d in decisions] == [
        ("2026-01-24", "since-2026-01-20"),
        ("2026-02-06", "since-2026-02-02"),
    ]


def test_daylight_saving_change_does_not_shift_the_count() -> None:
    # America/Chicago falls back on 2026-11-01; calendar-day counts are in local dates.
    compiled = program(CSU)
    state = EnrollmentState(key="e", start_date=date(2026, 9, 1), last_on={"submission": date(2026, 10, 25)})
    (notice,) = evaluate_enrollment(compiled, state, date(2026, 11, 9)).decisions
    assert notice.rule_id == "csu.engagement.at_risk_14d"
    assert notice.deadlines["withdrawal"] == date(2026, 11, 16)


# -- the engine --------------------------------------------------------------------------------


def test_an_action_stops_the_other_rules_of_the_enrollment() -> None:
    compiled = program({**PACING, **CSU}, **TERM)
    state = EnrollmentState(key="e", start_date=date(2026, 8, 24), term_id="fall", percent_complete=0.0)
    decisions = run(compiled, state, date(2026, 8, 24), date(2026, 12, 18))
    assert [d.rule_id for d in decisions] == ["csu.engagement.at_risk_14d", "csu.engagement.withdraw_21d"]


def test_unknown_rule_ids_are_refused_at_load() -> None:
    with pytest.raises(UnknownRuleError, match=r"cps\.pacing\.ipr_warning_3w"):
        program({"cps.pacing.ipr_warning_3w": {}})


def test_bad_parameter_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="pacing_threshold"):
        program({"cps.pacing.ipr_drop": {"pacing_threshold": 1.5}})
