"""Activity that ends a lapse moves the wake date to the next lapse's first possible day (``WakeReset``).

The decisions do not depend on it (the property tests compare whole replays with evaluating
every enrollment every day); these tests pin down what each evaluation says. Neither store moves
wake dates later on activity (the deployed one cannot without reading the item on every event;
the in-memory one behaves as deployed: ``tests/unit/test_memory_ingest.py``).
"""

from __future__ import annotations

from datetime import date

import pytest
from onpace_rules import EnrollmentState, evaluate_enrollment
from onpace_rules.decisions import WakeReset
from onpace_rules.rules import ladder

from tests.unit.rules_helpers import program

D = date(2026, 9, 1)  # a Tuesday
KEY = "d1#c1#s1"


@pytest.mark.parametrize(
    ("kept", "until", "activity_on", "wake"),
    [
        (None, None, date(2026, 9, 10), date(2026, 9, 13)),  # the next lapse's first day
        (date(2026, 9, 11), None, date(2026, 9, 10), date(2026, 9, 11)),  # another rule's date is first
        (date(2026, 9, 14), None, date(2026, 9, 10), date(2026, 9, 13)),
        (None, date(2026, 9, 12), date(2026, 9, 10), None),  # the next lapse would start after the end
        (date(2026, 9, 20), date(2026, 9, 12), date(2026, 9, 10), date(2026, 9, 20)),
        (None, date(2026, 9, 13), date(2026, 9, 10), date(2026, 9, 13)),  # due on the end date itself
    ],
)
def test_the_wake_date_after_activity_is_the_earlier_of_the_kept_date_and_the_next_lapse(
    kept: date | None, until: date | None, activity_on: date, wake: date | None
) -> None:
    assert WakeReset({"submission": 3}, kept, until).wake_after("submission", activity_on) == wake


def _msc() -> EnrollmentState:
    return EnrollmentState(key=KEY, start_date=D, student_id="s1", class_id="c1", end_date=date(2026, 12, 18))


def test_an_msc_lapse_is_reset_by_a_submission() -> None:
    compiled = program({ladder.STEP1: {"withdraw_period_days": 0}, ladder.STEP2: {}})
    evaluation = evaluate_enrollment(compiled, _msc(), D)
    # The lapse since the day before the start: its three whole days are 09-01 … 09-03, step 1
    # is due the day after; a submission dated D starts a lapse whose step 1 is due D + 4.
    assert evaluation.wake_on == date(2026, 9, 4)
    assert evaluation.reset == WakeReset({"submission": 4}, None, date(2026, 12, 18))


def test_with_more_submissions_expected_one_submission_resets_nothing() -> None:
    # Seven a week: three expected in the 3-day window, so one submission may leave the lapse on.
    compiled = program({ladder.STEP1: {"withdraw_period_days": 0, "min_submissions_per_week": 7}})
    evaluation = evaluate_enrollment(compiled, _msc(), D)
    assert evaluation.wake_on == date(2026, 9, 4)
    assert evaluation.reset is None


def test_cps_pacing_dates_are_kept_and_participation_is_reset_by_a_submission() -> None:
    compiled = program(
        {
            "cps.pacing.ipr_warning_2w": {},
            "cps.participation.warning": {},
            "cps.participation.drop_20d": {},
        },
        terms=[{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}],
    )
    state = EnrollmentState(
        key=KEY,
        start_date=date(2026, 8, 24),
        term_id="fall",
        student_id="s1",
        class_id="c1",
        end_date=date(2026, 12, 18),
        last_on={"submission": date(2026, 9, 8)},
    )
    evaluation = evaluate_enrollment(compiled, state, date(2026, 9, 9))
    assert evaluation.reset is not None
    # The pacing warning's date (two weeks before IPR #1) stays whatever the student submits.
    assert evaluation.reset.kept == date(2026, 9, 25)
    # Participation counts school days from the submission; a new one resets from its date on:
    # its warning comes the day after 15 whole school days, 16 calendar days later at the least.
    assert evaluation.reset.days == {"submission": 16}
    assert evaluation.wake_on == date(2026, 9, 25)


def test_a_date_brought_forward_is_kept_by_the_reset() -> None:
    reset = WakeReset({"discussion_post": 14}, date(2026, 9, 30), None, {"submission": 3})
    kept = reset.keeping(date(2026, 9, 11))
    assert kept.kept == date(2026, 9, 11) and kept.forward_days == {"submission": 3}
    assert kept.keeping(date(2026, 9, 20)) is kept  # a later date changes nothing
    # A post after that: the next CSU lapse is later, the date kept stands.
    assert kept.wake_after("discussion_post", date(2026, 9, 9)) == date(2026, 9, 11)


def test_a_ladder_expecting_several_submissions_is_brought_forward_beside_a_resetting_series() -> None:
    compiled = program(
        {
            ladder.STEP1: {"withdraw_period_days": 0, "min_submissions_per_week": 5},
            "csu.engagement.at_risk_14d": {},
        }
    )
    evaluation = evaluate_enrollment(compiled, _msc(), D)
    assert evaluation.reset is not None
    assert evaluation.reset.forward_days == {"submission": 4}  # the ladder's, outside the reset
    assert evaluation.reset.days["submission"] == 15  # CSU's next lapse: after 14 whole days
