"""Re-check at send (issue 12, scope 3): a warning whose condition ended since the evaluation is
resolved; one whose condition still holds stands; an action, an approval request and a data alert
always stand (onpace_rules.recheck)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from onpace_rules import Decision, EnrollmentState, evaluate_enrollment
from onpace_rules.engine import CompiledProgram, apply_evaluation
from onpace_rules.recheck import WARNING_RULE_IDS, is_warning, recheck_warning

from tests.unit.rules_helpers import make_input, program, with_activity

PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
TERM = {"terms": [{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}]}
PARTICIPATION = {"cps.participation.warning": {}, "cps.participation.drop_20d": {}}
CSU = {"csu.engagement.at_risk_14d": {}, "csu.engagement.withdraw_21d": {}}
STEP1, STEP2, STEP3, STEP4 = (
    "msc.progress.step1_contact",
    "msc.progress.step2_reminder",
    "msc.progress.step3_removal_notice",
    "msc.progress.step4_removal",
)
LADDER: dict[str, dict[str, Any]] = {STEP1: {}, STEP2: {}, STEP3: {}, STEP4: {}}


def _until(
    compiled: CompiledProgram, state: EnrollmentState, first: date, rule_id: str, kind: str = "notice"
) -> tuple[Decision, EnrollmentState]:
    """Evaluate day by day from ``first`` until ``rule_id`` is decided; the decision and the state
    as stored after that evaluation (the decision recorded)."""
    day = first
    for _ in range(200):
        evaluation = evaluate_enrollment(compiled, state, day)
        state = apply_evaluation(state, evaluation, day)
        for decision in evaluation.decisions:
            if decision.rule_id == rule_id and decision.kind == kind:
                return decision, state
        day += timedelta(days=1)
    raise AssertionError(f"{rule_id} never decided")


def _recheck(compiled: CompiledProgram, state: EnrollmentState, decision: Decision, today: date) -> Any:
    return recheck_warning(compiled, state, decision.rule_id, decision.episode, decision.on, today)


# -- which notices are warnings ------------------------------------------------------------------


def test_only_warnings_are_rechecked() -> None:
    assert {
        "cps.pacing.ipr_warning_2w",
        "cps.pacing.ipr_warning_1w",
        "cps.participation.warning",
        "csu.engagement.at_risk_14d",
        STEP1,
        STEP2,
        STEP3,
    } == WARNING_RULE_IDS
    assert is_warning("cps.participation.warning", "notice", "since-2026-09-01")
    assert not is_warning("cps.participation.drop_20d", "action", "since-2026-09-01")
    assert not is_warning("cps.participation.warning", "skipped", "since-2026-09-01")
    assert not is_warning("cps.pacing.ipr_warning_2w", "notice", "ipr-2026-10-09/approval")
    assert not is_warning("data.missing", "notice", "ipr-2026-10-09")


# -- CPS participation (school days) -----------------------------------------------------------


def _cps_state() -> EnrollmentState:
    return EnrollmentState(
        key="d1#c1#s1", start_date=date(2026, 8, 24), last_on={"submission": date(2026, 9, 1)}
    )


def test_participation_warning_is_resolved_by_a_submission_after_the_evaluation() -> None:
    compiled = program(PARTICIPATION)
    warning, state = _until(compiled, _cps_state(), date(2026, 9, 2), "cps.participation.warning")
    assert _recheck(compiled, state, warning, warning.on) is None  # nothing new: it stands
    # A view (not a submission) does not end a participation lapse.
    viewed = with_activity(state, "view", warning.on)
    assert _recheck(compiled, viewed, warning, warning.on) is None
    submitted = with_activity(state, "submission", warning.on)
    found = _recheck(compiled, submitted, warning, warning.on)
    assert found is not None
    assert (found.fact, found.on) == ("submission", warning.on)
    assert found.detail["lapse_since"] == "2026-09-01"


def test_participation_drop_is_never_cancelled() -> None:
    compiled = program(PARTICIPATION)
    drop, state = _until(compiled, _cps_state(), date(2026, 9, 2), "cps.participation.drop_20d", "action")
    submitted = with_activity(state, "submission", drop.on)
    assert _recheck(compiled, submitted, drop, drop.on) is None


# -- CPS pacing warnings 2w / 1w ---------------------------------------------------------------


@pytest.mark.parametrize("rule_id", ["cps.pacing.ipr_warning_2w", "cps.pacing.ipr_warning_1w"])
def test_pacing_warning_is_resolved_when_the_percent_meets_the_threshold(rule_id: str) -> None:
    compiled = program(PACING, **TERM)
    first = date(2026, 9, 25) if rule_id.endswith("2w") else date(2026, 10, 2)
    state = EnrollmentState(
        key="d1#c1#s1",
        start_date=date(2026, 8, 24),
        term_id="fall",
        percent_complete=0.10,
        checked_through=first - timedelta(days=1),
    )
    warning, state = _until(compiled, state, first, rule_id)
    assert _recheck(compiled, state, warning, warning.on) is None
    still_short = replace(state, percent_complete=0.1499)
    assert _recheck(compiled, still_short, warning, warning.on) is None
    caught_up = with_activity(replace(state, percent_complete=0.15), "progress", warning.on)
    found = _recheck(compiled, caught_up, warning, warning.on)
    assert found is not None
    assert found.fact == "percent_complete" and found.on == warning.on
    assert found.detail == {"percent_complete": 0.15, "required_percent": 0.15}


def test_pacing_drop_and_data_alert_are_never_cancelled() -> None:
    compiled = program(PACING, **TERM)
    state = EnrollmentState(
        key="d1#c1#s1", start_date=date(2026, 8, 24), term_id="fall", percent_complete=0.1
    )
    drop, after = _until(compiled, state, date(2026, 10, 10), "cps.pacing.ipr_drop", "action")
    assert _recheck(compiled, replace(after, percent_complete=0.9), drop, drop.on) is None
    unknown = replace(state, percent_complete=None)
    alert, after = _until(compiled, unknown, date(2026, 9, 25), "data.missing")
    assert _recheck(compiled, replace(after, percent_complete=0.9), alert, alert.on) is None


# -- CSU at-risk (calendar days) ---------------------------------------------------------------


def _csu_state() -> EnrollmentState:
    return EnrollmentState(
        key="d1#c1#s1", start_date=date(2026, 3, 1), last_on={"submission": date(2026, 3, 2)}
    )


@pytest.mark.parametrize("kind", ["submission", "discussion_post", "mastery_exercise", "forum_question"])
def test_at_risk_email_is_resolved_by_engagement(kind: str) -> None:
    compiled = program(CSU)
    state = _csu_state()
    warning, state = _until(compiled, state, date(2026, 3, 3), "csu.engagement.at_risk_14d")
    assert warning.on == date(2026, 3, 17)
    # Logging in is not engagement (catalogue section 3).
    assert _recheck(compiled, with_activity(state, "login", date(2026, 3, 17)), warning, warning.on) is None
    engaged = with_activity(state, kind, date(2026, 3, 17))
    found = _recheck(compiled, engaged, warning, warning.on)
    assert found is not None and (found.fact, found.on) == (kind, date(2026, 3, 17))


def test_at_risk_email_stands_when_activity_is_after_the_day_of_sending() -> None:
    """The check sees what the evaluation after the day of sending would see: nothing later."""
    compiled = program(CSU)
    state = _csu_state()
    warning, state = _until(compiled, state, date(2026, 3, 3), "csu.engagement.at_risk_14d")
    # Engagement dated before the lapse's anchor changes nothing (activity only moves it later).
    earlier = with_activity(state, "discussion_post", date(2026, 3, 1))
    assert _recheck(compiled, earlier, warning, warning.on) is None


def test_withdrawal_is_never_cancelled() -> None:
    compiled = program(CSU)
    state = _csu_state()
    action, after = _until(compiled, state, date(2026, 3, 3), "csu.engagement.withdraw_21d", "action")
    assert _recheck(compiled, with_activity(after, "submission", action.on), action, action.on) is None


# -- MSC progress ladder, steps 1-3 ------------------------------------------------------------


def _msc_state() -> EnrollmentState:
    return EnrollmentState(
        key="d1#c1#s1",
        start_date=date(2026, 1, 5),
        class_id="c1",
        end_date=date(2026, 5, 29),
        last_on={"submission": date(2026, 1, 20)},
    )


@pytest.mark.parametrize("rule_id", [STEP1, STEP2, STEP3])
def test_ladder_notice_is_resolved_by_a_submission(rule_id: str) -> None:
    compiled = program(LADDER)
    step, state = _until(compiled, _msc_state(), date(2026, 1, 5), rule_id)
    assert _recheck(compiled, state, step, step.on) is None
    found = _recheck(compiled, with_activity(state, "submission", step.on), step, step.on)
    assert found is not None and (found.fact, found.on) == ("submission", step.on)


def test_removal_notice_is_resolved_by_correspondence_since_step_2() -> None:
    compiled = program(LADDER)
    step, state = _until(compiled, _msc_state(), date(2026, 1, 5), STEP3)
    assert step.on == date(2026, 2, 7)
    wrote = with_activity(state, "instructor_message", step.on)
    found = _recheck(compiled, wrote, step, step.on)
    assert found is not None and (found.fact, found.on) == ("instructor_message", step.on)
    assert found.detail["reminder_date"] == "2026-01-31"
    from onpace_rules.inputs import InstructorContact

    contact = make_input("instructor_contact", step.on, InstructorContact(by="Ms. O", method="phone"), "c1")
    found = _recheck(compiled, state.with_input(contact), step, step.on)
    assert found is not None and found.fact == "instructor_contact"
    # Correspondence does not resolve step 2 (its condition is about submissions only).
    reminder, after = _until(compiled, _msc_state(), date(2026, 1, 5), STEP2)
    wrote = with_activity(after, "instructor_message", reminder.on)
    assert _recheck(compiled, wrote, reminder, reminder.on) is None


def test_removal_is_never_cancelled() -> None:
    compiled = program(LADDER)
    removal, state = _until(compiled, _msc_state(), date(2026, 1, 5), STEP4, "action")
    assert _recheck(compiled, with_activity(state, "submission", removal.on), removal, removal.on) is None
