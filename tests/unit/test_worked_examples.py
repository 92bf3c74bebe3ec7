"""The worked examples of shared/design/policies.md, evaluated day by day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from onpace_rules import EnrollmentState

from tests.unit.rules_helpers import program, run, summary, with_activity

PACING_RULES = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
CPS_TERM = {"terms": [{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}]}


def _percent_timeline(points: dict[date, float]):
    """Progress reported on the given days (seen by the evaluation of the day after)."""

    def activity(state: EnrollmentState, day: date) -> EnrollmentState:
        if day in points:
            return replace(state, percent_complete=points[day])
        return state

    return activity


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_example_1_cps_pacing_warnings_then_drop(use_wake: bool) -> None:
    compiled = program(PACING_RULES, **CPS_TERM)
    state = EnrollmentState(key="e", start_date=date(2026, 8, 24), term_id="fall")
    activity = _percent_timeline({date(2026, 9, 24): 0.10, date(2026, 10, 1): 0.12})
    decisions = run(
        compiled, state, date(2026, 8, 24), date(2026, 10, 20), activity=activity, use_wake=use_wake
    )
    assert summary(decisions) == [
        ("2026-09-25", "cps.pacing.ipr_warning_2w", "notice", {"ipr": "2026-10-09", "drop": "2026-10-10"}),
        ("2026-10-02", "cps.pacing.ipr_warning_1w", "notice", {"ipr": "2026-10-09", "drop": "2026-10-10"}),
        ("2026-10-10", "cps.pacing.ipr_drop", "action", {"appeal": "2026-10-13"}),
    ]
    assert decisions[0].facts["percent_complete"] == 0.10
    assert decisions[1].facts["percent_complete"] == 0.12
    assert decisions[2].status_after == "dropped"
    assert set(decisions[2].recipients) == {"student", "guardians", "counselor", "instructor"}


def test_example_1_student_at_20_percent_gets_nothing() -> None:
    compiled = program(PACING_RULES, **CPS_TERM)
    state = EnrollmentState(key="e", start_date=date(2026, 8, 24), term_id="fall")
    activity = _percent_timeline({date(2026, 9, 24): 0.20})
    assert run(compiled, state, date(2026, 8, 24), date(2026, 10, 20), activity=activity) == []


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_example_2_csu_at_risk_then_engagement_ends_episode(use_wake: bool) -> None:
    compiled = program({"csu.engagement.at_risk_14d": {}, "csu.engagement.withdraw_21d": {}})
    state = EnrollmentState(
        key="e", start_date=date(2026, 2, 1), last_on={"discussion_reply": date(2026, 3, 2)}
    )

    def activity(s: EnrollmentState, day: date) -> EnrollmentState:
        s = with_activity(s, "login", day)  # log-ins every day: not engagement
        if day == date(2026, 3, 20):
            s = with_activity(s, "submission", day)
        return s

    decisions = run(
        compiled, state, date(2026, 3, 3), date(2026, 3, 30), activity=activity, use_wake=use_wake
    )
    # "the 14 whole days are 03-03 … 03-16, so the At-Risk email goes on 2026-03-17, giving
    # 2026-03-23 as the last day to engage and 2026-03-24 as the withdrawal date"
    assert summary(decisions) == [
        (
            "2026-03-17",
            "csu.engagement.at_risk_14d",
            "notice",
            {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        ),
    ]
    assert decisions[0].episode == "since-2026-03-02"
    assert decisions[0].facts["calendar_days_without_activity"] == 14


def test_example_2_without_engagement_the_withdrawal_follows() -> None:
    compiled = program({"csu.engagement.at_risk_14d": {}, "csu.engagement.withdraw_21d": {}})
    state = EnrollmentState(
        key="e", start_date=date(2026, 2, 1), last_on={"discussion_reply": date(2026, 3, 2)}
    )
    decisions = run(compiled, state, date(2026, 3, 3), date(2026, 4, 30))
    # "with no engagement at all, the withdrawal is taken on 2026-03-24"
    assert summary(decisions) == [
        (
            "2026-03-17",
            "csu.engagement.at_risk_14d",
            "notice",
            {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        ),
        ("2026-03-24", "csu.engagement.withdraw_21d", "action", {}),
    ]
    assert decisions[1].status_after == "withdrawn"
    assert decisions[1].facts["calendar_days_without_activity"] == 21


MSC_LADDER = {
    "msc.progress.step1_contact": {},
    "msc.progress.step2_reminder": {},
    "msc.progress.step3_removal_notice": {},
    "msc.progress.step4_removal": {},
}


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_example_3_msc_ladder(use_wake: bool) -> None:
    compiled = program(MSC_LADDER)
    state = EnrollmentState(key="e", start_date=date(2026, 1, 5))

    def activity(s: EnrollmentState, day: date) -> EnrollmentState:
        if day.day % 2 == 0 and day <= date(2026, 1, 20):
            s = with_activity(s, "submission", day)
        return s

    decisions = run(compiled, state, date(2026, 1, 5), date(2026, 3, 1), activity=activity, use_wake=use_wake)
    # "the 3 whole days are 01-21 … 01-23, so step 1 prompts the instructor on 2026-01-24, step
    # 2 follows on 2026-01-31, step 3 on 2026-02-07 announcing removal on 2026-02-10; ... step 4
    # removes the student on 2026-02-10 and states the re-enrollment deadline 2026-02-17."
    assert summary(decisions) == [
        ("2026-01-24", "msc.progress.step1_contact", "notice", {}),
        ("2026-01-31", "msc.progress.step2_reminder", "notice", {}),
        (
            "2026-02-07",
            "msc.progress.step3_removal_notice",
            "notice",
            {"last_day": "2026-02-09", "removal": "2026-02-10"},
        ),
        ("2026-02-10", "msc.progress.step4_removal", "action", {"reenroll": "2026-02-17"}),
    ]
    assert decisions[0].facts["days_without_submission"] == 3
    assert decisions[0].recipients == ("instructor",)
    assert decisions[0].facts["last_submission_date"] == "2026-01-20"
