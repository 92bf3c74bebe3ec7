"""Activity that ends a lapse moves the wake date to the next lapse's first possible day (``WakeReset``).

The decisions do not depend on it (the property tests compare whole replays with evaluating
every enrollment every day); these tests pin down what each evaluation says and what the
in-memory store does with it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from onpace_core.evaluation.day import evaluate_day
from onpace_core.store.memory import MemoryStore
from onpace_rules import EnrollmentState, evaluate_enrollment
from onpace_rules.decisions import WakeReset
from onpace_rules.engine import CompiledProgram
from onpace_rules.inputs import Accommodation
from onpace_rules.rules import ladder

from tests.unit.rules_helpers import make_input, program

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


def _store_at_day_1() -> tuple[MemoryStore, CompiledProgram]:
    compiled = program({ladder.STEP1: {"withdraw_period_days": 0}, ladder.STEP2: {}})
    store = MemoryStore(activity_wake_days=compiled.activity_wake_days)
    store.add(_msc())
    evaluate_day(store, compiled, D, datetime(2026, 9, 1, 12, tzinfo=UTC))
    return store, compiled


def _due(store: MemoryStore, compiled: CompiledProgram, day: date) -> list[str]:
    return [subject.ref for subject in store.due(compiled, day)]


def test_the_store_moves_the_wake_date_later_when_a_submission_ends_the_lapse() -> None:
    store, compiled = _store_at_day_1()
    assert store.subjects[KEY].wake == date(2026, 9, 4)
    store.fold_activity(KEY, "submission", date(2026, 9, 2))
    assert store.subjects[KEY].wake == date(2026, 9, 6)
    # Not looked at on the old date, and looked at on the new one.
    assert _due(store, compiled, date(2026, 9, 4)) == []
    assert _due(store, compiled, date(2026, 9, 6)) == [KEY]


def test_an_input_wakes_the_enrollment_and_later_activity_does_not_move_that_later() -> None:
    store, compiled = _store_at_day_1()
    medical = Accommodation(plan="medical", start=date(2026, 9, 2), end=date(2026, 9, 9))
    store.add_input("s1", KEY, make_input("accommodation", date(2026, 9, 2), medical, "c1"))
    assert store.subjects[KEY].wake == date(2026, 9, 3)
    store.fold_activity(KEY, "submission", date(2026, 9, 2))
    assert store.subjects[KEY].wake == date(2026, 9, 3)  # the input is seen on 09-03
    assert _due(store, compiled, date(2026, 9, 3)) == [KEY]


def test_activity_of_a_kind_that_does_not_end_the_lapse_leaves_the_wake_date() -> None:
    store, compiled = _store_at_day_1()
    store.fold_activity(KEY, "login", date(2026, 9, 2))
    assert store.subjects[KEY].wake == date(2026, 9, 4)
    assert _due(store, compiled, date(2026, 9, 4)) == [KEY]


def test_a_subject_is_added_once() -> None:
    store, _ = _store_at_day_1()
    with pytest.raises(ValueError, match="already in the store"):
        store.add(_msc())


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
