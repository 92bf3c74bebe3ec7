"""MSC "expected work" above one submission: the ladder counts submissions in the 3-day window.

004: "If the student does not submit the expected number of assignment(s) within a period of
three (3) consecutive days, the student will be contacted by the instructor." Catalogue:
"``min_submissions_per_week``, default 1, pro-rated to 3 days as at least 1".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from onpace_core.ingest.formats.plain import PlainActivityEvent
from onpace_local.replay import replay
from onpace_rules.rules.ladder import last_day_expectation_met

from tests.unit.rules_helpers import program, roster_record

STEPS = (
    "msc.progress.step1_contact",
    "msc.progress.step2_reminder",
    "msc.progress.step3_removal_notice",
    "msc.progress.step4_removal",
)
START = date(2026, 1, 5)  # withdraw period 01-05 .. 01-14; the ladder from 01-15


def _ladder(per_week: int) -> dict[str, dict[str, int]]:
    return {STEPS[0]: {"min_submissions_per_week": per_week}, **{step: {} for step in STEPS[1:]}}


def _submissions(*days: date) -> list[PlainActivityEvent]:
    return [
        PlainActivityEvent.model_validate(
            {
                "event_id": f"sub-{index}",
                "occurred_at": datetime.combine(day, time(18), UTC).isoformat(),  # noon in Chicago
                "student": "s1",
                "class": "c1",
                "kind": "submission",
            }
        )
        for index, day in enumerate(days)
    ]


def _steps(per_week: int, *days: date, last: date = date(2026, 2, 20)) -> list[tuple[str, str, str]]:
    compiled = program(_ladder(per_week))
    record = roster_record("s1", "c1", START, date(2026, 5, 29))
    result = replay(compiled.config, [record], _submissions(*days), START, last)
    return [
        (line["date"], line["rule"].split(".")[-1], line["facts"].get("expectation_last_met", "-"))
        for line in result.lines
    ]


@pytest.mark.parametrize(
    ("dates", "expected", "met"),
    [
        ((), 2, None),
        ((date(2026, 1, 13),), 2, None),
        ((date(2026, 1, 13), date(2026, 1, 15)), 2, date(2026, 1, 15)),  # 3 days: 13, 14, 15
        ((date(2026, 1, 13), date(2026, 1, 16)), 2, None),  # 4 days apart: never 2 within 3
        ((date(2026, 1, 13), date(2026, 1, 13), date(2026, 1, 20)), 2, date(2026, 1, 13)),  # same day
        ((date(2026, 1, 13), date(2026, 1, 14), date(2026, 1, 20), date(2026, 1, 21)), 2, date(2026, 1, 21)),
        ((date(2026, 1, 13), date(2026, 1, 14), date(2026, 1, 15)), 3, date(2026, 1, 15)),
    ],
)
def test_the_last_day_the_expected_number_was_met(
    dates: tuple[date, ...], expected: int, met: date | None
) -> None:
    assert last_day_expectation_met(dates, expected, 3) == met


def test_the_weekly_minimum_is_pro_rated_to_the_window_at_least_one() -> None:
    from onpace_rules.rules.ladder import ProgressLadder

    def expected(per_week: int) -> int:
        (ladder,) = [f for f in program(_ladder(per_week)).families if isinstance(f, ProgressLadder)]
        return ladder._expected

    assert [expected(n) for n in (1, 2, 4, 5, 7, 14)] == [1, 1, 1, 2, 3, 6]


def test_one_submission_every_three_days_is_short_when_two_are_expected() -> None:
    """5 a week (2 per 3 days): 01-12 and 01-13 meet it; 01-16 and 01-19 come alone, so the lapse
    that began after 01-13 goes on: its three whole days are 01-14 … 01-16, step 1 on 01-17,
    step 2 a week later. With the default (1 a week) each submission ends a lapse: step 1 comes
    only once three whole days pass without one (01-20 … 01-22)."""
    work = (date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 16), date(2026, 1, 19))
    assert _steps(5, *work, last=date(2026, 1, 24)) == [
        ("2026-01-17", "step1_contact", "2026-01-13"),
        ("2026-01-24", "step2_reminder", "2026-01-13"),
    ]
    assert _steps(1, *work, last=date(2026, 1, 24)) == [
        ("2026-01-23", "step1_contact", "-"),
    ]


@pytest.mark.parametrize(
    ("day", "steps"),
    [
        (date(2026, 1, 16), []),  # met on 01-13: 01-16 is the third whole day, not over yet
        (date(2026, 1, 17), ["step1_contact"]),
        (date(2026, 1, 18), ["step1_contact"]),
    ],
)
def test_step_one_boundaries(day: date, steps: list[str]) -> None:
    work = (date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 16), date(2026, 1, 19))
    assert [s for _, s, _ in _steps(5, *work, last=day)] == steps


def test_a_single_submission_does_not_end_the_lapse_but_meeting_the_expectation_does() -> None:
    """After step 1 (01-18) one submission on 01-20 leaves the student short: step 2 follows a
    week after step 1. Two submissions within three days (01-27, 01-28) end the lapse; the next
    one counts from 01-28."""
    work = (date(2026, 1, 13), date(2026, 1, 14), date(2026, 1, 20), date(2026, 1, 27), date(2026, 1, 28))
    assert _steps(5, *work, last=date(2026, 2, 2)) == [
        ("2026-01-18", "step1_contact", "2026-01-14"),
        ("2026-01-25", "step2_reminder", "2026-01-14"),
        ("2026-02-01", "step1_contact", "2026-01-28"),
    ]


def test_a_student_short_of_the_expectation_who_still_submits_is_not_removed() -> None:
    """One submission every four days never meets 2 in 3 days, so steps 1 and 2 come; but steps 3
    and 4 need "no submissions ... since step 2" (catalogue), so a student who keeps submitting
    is reminded, not removed."""
    work = tuple(date(2026, 1, d) for d in (3, 4, 8, 12, 16, 20, 24, 28))
    assert [(d, s) for d, s, _ in _steps(5, *work)] == [
        ("2026-01-15", "step1_contact"),  # last met 01-04, before the start: after the withdraw period
        ("2026-01-22", "step2_reminder"),
    ]


def test_a_student_who_stops_after_step_two_is_removed() -> None:
    work = tuple(date(2026, 1, d) for d in (3, 4, 8, 12, 16, 20))
    assert [(d, s) for d, s, _ in _steps(5, *work)] == [
        ("2026-01-15", "step1_contact"),
        ("2026-01-22", "step2_reminder"),
        ("2026-01-29", "step3_removal_notice"),  # nothing since 01-20
        ("2026-02-01", "step4_removal"),
    ]


def test_a_submission_after_the_removal_notice_stops_the_removal() -> None:
    work = (*(date(2026, 1, d) for d in (3, 4, 8, 12, 16, 20)), date(2026, 1, 30))
    assert [s for _, s, _ in _steps(5, *work)] == ["step1_contact", "step2_reminder", "step3_removal_notice"]


def test_history_kept_only_since_counting_began_falls_back_to_the_latest_submission() -> None:
    """A state whose history misses its latest submission (the program began counting later)
    counts the lapse from that submission, as with one expected."""
    from onpace_rules import EnrollmentState, evaluate_enrollment

    compiled = program(_ladder(5))
    state = EnrollmentState(
        key="d#c1#s1",
        start_date=START,
        class_id="c1",
        last_on={"submission": date(2026, 1, 20)},
        history_on={"submission": ()},
    )
    assert evaluate_enrollment(compiled, state, date(2026, 1, 23)).decisions == ()
    (step1,) = evaluate_enrollment(compiled, state, date(2026, 1, 24)).decisions
    assert step1.episode == "since-2026-01-20"


def test_late_evening_submissions_count_on_their_local_day_across_the_daylight_saving_change() -> None:
    """Chicago leaves daylight saving on Sunday 2026-11-01. Submissions at 23:30 local time are
    already the next day in UTC; they count on their local days. On 10-30 only 10-29 is seen
    (short: step 1). 10-30 and 11-01 fall within three consecutive days, so the expectation is
    met on 11-01 and the next step 1 comes on 11-05, after the three whole days 11-02 … 11-04
    (with UTC dates it would be 11-06)."""
    compiled = program(_ladder(5))
    record = roster_record("s1", "c1", date(2026, 10, 20), date(2026, 12, 18))  # ladder from 10-30
    times = ["2026-10-29T23:30:00-05:00", "2026-10-30T23:30:00-05:00", "2026-11-01T23:30:00-06:00"]
    events = [
        PlainActivityEvent.model_validate(
            {"event_id": f"e{i}", "occurred_at": at, "student": "s1", "class": "c1", "kind": "submission"}
        )
        for i, at in enumerate(times)
    ]
    result = replay(compiled.config, [record], events, date(2026, 10, 20), date(2026, 11, 5))
    steps = [(line["date"], line["rule"], line["facts"].get("expectation_last_met")) for line in result.lines]
    assert steps == [
        ("2026-10-30", "msc.progress.step1_contact", None),
        ("2026-11-05", "msc.progress.step1_contact", "2026-11-01"),
    ]
