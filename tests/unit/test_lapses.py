"""Catalogue conventions of issue 9: lapses count whole days, an action never comes before the
date the family was told, and no data is not zero.

Each lapse rule is shown at its boundary: activity dated on the N-th whole day still prevents
it, activity dated the day it fires does not (the evaluation of D sees activity dated before D).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest
from onpace_rules import Decision, EnrollmentState
from onpace_rules.engine import CompiledProgram

from tests.unit.rules_helpers import program, run, with_activity

CSU = {"csu.engagement.at_risk_14d": {}, "csu.engagement.withdraw_21d": {}}
CPS = {"cps.participation.warning": {}, "cps.participation.drop_20d": {}}
MSC = {
    "msc.progress.step1_contact": {},
    "msc.progress.step2_reminder": {},
    "msc.progress.step3_removal_notice": {},
    "msc.progress.step4_removal": {},
}
PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
TERM = {"terms": [{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}]}
ONE_DAY = timedelta(days=1)
# What each family's warning announces: the action's rule id and the name of its date.
ANNOUNCES = {
    "csu.engagement.at_risk_14d": ("csu.engagement.withdraw_21d", "withdrawal"),
    "cps.participation.warning": ("cps.participation.drop_20d", "drop"),
    "msc.progress.step3_removal_notice": ("msc.progress.step4_removal", "removal"),
    "cps.pacing.ipr_warning_2w": ("cps.pacing.ipr_drop", "drop"),
    "cps.pacing.ipr_warning_1w": ("cps.pacing.ipr_drop", "drop"),
}


def _once(kind: str, on: date) -> Callable[[EnrollmentState, date], EnrollmentState]:
    return lambda s, d: with_activity(s, kind, d) if d == on else s  # type: ignore[arg-type]


def _rules(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.on.isoformat(), d.rule_id) for d in decisions if d.kind != "skipped"]


# -- lapses count whole days -------------------------------------------------------------------


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_csu_engagement_on_the_14th_day_prevents_the_at_risk_email(use_wake: bool) -> None:
    """ "students who have not actively engaged for 14 days will receive an At-Risk email"
    (003_87de092a038aeaf4.txt). Last engagement Mon 03-02: the 14 whole days are 03-03 … 03-16."""
    start = EnrollmentState(
        key="e", start_date=date(2026, 2, 1), last_on={"discussion_post": date(2026, 3, 2)}
    )
    csu = program(CSU)
    on_day_14 = run(
        csu,
        start,
        date(2026, 3, 3),
        date(2026, 3, 18),
        activity=_once("submission", date(2026, 3, 16)),
        use_wake=use_wake,
    )
    assert _rules(on_day_14) == []
    on_the_fire_day = run(
        csu,
        start,
        date(2026, 3, 3),
        date(2026, 3, 18),
        activity=_once("submission", date(2026, 3, 17)),
        use_wake=use_wake,
    )
    assert _rules(on_the_fire_day) == [("2026-03-17", "csu.engagement.at_risk_14d")]


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_csu_engagement_on_the_last_day_prevents_the_withdrawal(use_wake: bool) -> None:
    """ "students who do not engage within 21 days will be administratively withdrawn": the At-Risk
    email of 03-17 names 03-23 as the last day to engage; engagement that day keeps the student,
    engagement on the withdrawal date itself comes too late."""
    start = EnrollmentState(
        key="e", start_date=date(2026, 2, 1), last_on={"discussion_post": date(2026, 3, 2)}
    )
    csu = program(CSU)
    kept = run(
        csu,
        start,
        date(2026, 3, 3),
        date(2026, 3, 31),
        activity=_once("submission", date(2026, 3, 23)),
        use_wake=use_wake,
    )
    assert _rules(kept) == [("2026-03-17", "csu.engagement.at_risk_14d")]
    assert kept[0].deadlines == {"last_day": date(2026, 3, 23), "withdrawal": date(2026, 3, 24)}
    late = run(
        csu,
        start,
        date(2026, 3, 3),
        date(2026, 3, 31),
        activity=_once("submission", date(2026, 3, 24)),
        use_wake=use_wake,
    )
    assert _rules(late) == [
        ("2026-03-17", "csu.engagement.at_risk_14d"),
        ("2026-03-24", "csu.engagement.withdraw_21d"),
    ]


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_cps_submission_on_the_20th_school_day_prevents_the_drop(use_wake: bool) -> None:
    """ "Students will be dropped from a CPS Online course after 20 consecutive days of
    non-attendance ... must log and submit at least one assignment" (000_bc3aac7a290565fd.txt).
    Last submission Fri 09-04 (no holidays here): school day 15 is Fri 09-25, school day 20 Fri
    10-02; the warning goes on Sat 09-26 naming Fri 10-02 as the last day to submit, the drop on
    Sat 10-03."""
    start = EnrollmentState(key="e", start_date=date(2026, 8, 24), last_on={"submission": date(2026, 9, 4)})
    cps = program(CPS)
    kept = run(
        cps,
        start,
        date(2026, 9, 5),
        date(2026, 10, 9),
        activity=_once("submission", date(2026, 10, 2)),
        use_wake=use_wake,
    )
    assert _rules(kept) == [("2026-09-26", "cps.participation.warning")]
    assert kept[0].deadlines == {"last_day": date(2026, 10, 2), "drop": date(2026, 10, 3)}
    assert kept[0].facts["school_days_without_activity"] == 15
    late = run(
        cps,
        start,
        date(2026, 9, 5),
        date(2026, 10, 9),
        activity=_once("submission", date(2026, 10, 3)),
        use_wake=use_wake,
    )
    assert _rules(late) == [
        ("2026-09-26", "cps.participation.warning"),
        ("2026-10-03", "cps.participation.drop_20d"),
    ]
    assert late[1].facts["school_days_without_activity"] == 20


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_msc_submission_on_the_day_before_the_removal_prevents_it(use_wake: bool) -> None:
    """Step 3: "the student will be removed in 3 days" (004_50d77f9850a1db80.txt). Worked example 3:
    step 3 on 02-07 announces the removal on 02-10, the last day to submit being 02-09."""
    start = EnrollmentState(key="e", start_date=date(2026, 1, 5), last_on={"submission": date(2026, 1, 20)})
    msc = program(MSC)
    kept = run(
        msc,
        start,
        date(2026, 1, 21),
        date(2026, 2, 20),
        activity=_once("submission", date(2026, 2, 9)),
        use_wake=use_wake,
    )
    # The submission ends the lapse: no removal (a new lapse starts from 02-09).
    assert ("2026-02-07", "msc.progress.step3_removal_notice") in _rules(kept)
    assert "msc.progress.step4_removal" not in {r for _, r in _rules(kept)}
    late = run(
        msc,
        start,
        date(2026, 1, 21),
        date(2026, 2, 20),
        activity=_once("submission", date(2026, 2, 10)),
        use_wake=use_wake,
    )
    assert _rules(late)[-1] == ("2026-02-10", "msc.progress.step4_removal")


# -- an action never comes before the date the family was told --------------------------------


def _outages(first: date, last: date, longest: int) -> list[frozenset[date]]:
    """Every outage of 1..``longest`` days starting between ``first`` and ``last``."""
    found = []
    day = first
    while day <= last:
        for length in range(1, longest + 1):
            found.append(frozenset(day + timedelta(days=i) for i in range(length)))
        day += ONE_DAY
    return found


def _check_told_dates(decisions: list[Decision]) -> int:
    """Every action is taken on or after the date each warning of its episode announced, and on
    that date exactly when nothing stopped the lapse in between. Returns the actions checked."""
    checked = 0
    for action in (d for d in decisions if d.kind == "action"):
        for warning in decisions:
            announced = ANNOUNCES.get(warning.rule_id)
            if warning.kind != "notice" or announced is None or announced[0] != action.rule_id:
                continue
            if warning.episode != action.episode:
                continue
            told = warning.deadlines[announced[1]]
            assert action.on >= told, (warning, action)
            assert warning.deadlines.get("last_day", told - ONE_DAY) == told - ONE_DAY
            checked += 1
    return checked


@pytest.mark.parametrize(
    ("rules", "state", "first", "last", "outages"),
    [
        pytest.param(
            CSU,
            EnrollmentState(
                key="e", start_date=date(2026, 2, 1), last_on={"discussion_post": date(2026, 3, 2)}
            ),
            date(2026, 3, 3),
            date(2026, 4, 20),
            _outages(date(2026, 3, 14), date(2026, 3, 26), 6),
            id="csu",
        ),
        pytest.param(
            CPS,
            EnrollmentState(key="e", start_date=date(2026, 8, 24), last_on={"submission": date(2026, 9, 4)}),
            date(2026, 9, 5),
            date(2026, 11, 10),
            _outages(date(2026, 9, 22), date(2026, 10, 6), 6),
            id="cps-participation",
        ),
        pytest.param(
            MSC,
            EnrollmentState(key="e", start_date=date(2026, 1, 5), last_on={"submission": date(2026, 1, 20)}),
            date(2026, 1, 21),
            date(2026, 3, 20),
            _outages(date(2026, 2, 4), date(2026, 2, 12), 5),
            id="msc-ladder",
        ),
    ],
)
def test_an_action_never_comes_before_the_date_the_warning_announced(
    rules: dict[str, dict[str, object]],
    state: EnrollmentState,
    first: date,
    last: date,
    outages: list[frozenset[date]],
) -> None:
    """Catalogue: "When a warning that announces an action went out late (outage, a late roster),
    the action is taken on the date that warning announced, not earlier." Every outage of up to a
    few days around the warning and the action, with no activity: the action comes exactly on the
    announced date, or on the catch-up day when the warning itself was superseded."""
    compiled: CompiledProgram = program(rules)
    checked = 0
    for skip in outages:
        decisions = run(compiled, state, first, last, skip=skip, use_wake=False)
        (action,) = [d for d in decisions if d.kind == "action"]
        told = [d for d in decisions if d.kind == "notice" and d.rule_id in ANNOUNCES]
        checked += _check_told_dates(decisions)
        if told:
            # The latest warning sent states the action's date; the action is taken that day, or
            # on the catch-up day when the evaluator was down on it.
            announced = told[-1].deadlines[ANNOUNCES[told[-1].rule_id][1]]
            expected = max(skip) + ONE_DAY if announced in skip else announced
            assert action.on == expected, (sorted(skip), told[-1], action)
    assert checked > len(outages) // 2  # most outages leave a warning that announced the action


def test_pacing_warnings_announce_the_drop_the_day_after_the_checkpoint() -> None:
    """CPS pacing: "Pacing warnings name ``ipr`` (the last day to reach the threshold) and ``drop``
    (the day after it)"; the drop is taken on that date whatever day a late warning went out."""
    compiled = program(PACING, **TERM)
    state = EnrollmentState(key="e", start_date=date(2026, 8, 24), term_id="fall", percent_complete=0.05)
    for skip in _outages(date(2026, 9, 24), date(2026, 10, 9), 4):
        decisions = run(compiled, state, date(2026, 8, 24), date(2026, 10, 20), skip=skip, use_wake=False)
        assert _check_told_dates(decisions) == len([d for d in decisions if d.kind == "notice"])
        (drop,) = [d for d in decisions if d.kind == "action"]
        expected = date(2026, 10, 10) if date(2026, 10, 10) not in skip else max(skip) + ONE_DAY
        assert drop.on == expected
        for warning in (d for d in decisions if d.kind == "notice"):
            assert warning.deadlines == {"ipr": date(2026, 10, 9), "drop": date(2026, 10, 10)}


# -- no data is not zero -----------------------------------------------------------------------


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_missing_progress_never_warns_or_drops_and_alerts_the_administrator_once(use_wake: bool) -> None:
    """ "a student whose LMS never sent progress is dropped at IPR and the family is told '0 %
    completed'" was the bug; catalogue: "no report yet: data.missing, no warning" and "none
    reported: data.missing, no drop" — one alert per enrollment and checkpoint, dated the first
    day a pacing rule needed the value."""
    compiled = program(PACING, **TERM)
    state = EnrollmentState(key="e", start_date=date(2026, 8, 24), term_id="fall")
    decisions = run(compiled, state, date(2026, 8, 24), date(2026, 10, 31), use_wake=use_wake)
    assert [(d.on, d.rule_id, d.kind, d.recipients) for d in decisions] == [
        (date(2026, 9, 25), "data.missing", "notice", ("program_admin",))
    ]
    (alert,) = decisions
    assert alert.episode == "ipr-2026-10-09"
    assert alert.facts["missing_value"] == "percent_complete"
    assert alert.facts["needed_by"] == ["cps.pacing.ipr_warning_2w"]
    assert alert.deadlines == {"ipr": date(2026, 10, 9)}


def test_a_zero_that_was_reported_is_a_value() -> None:
    """0 % reported is a measurement: the student is warned and dropped as any other."""
    compiled = program(PACING, **TERM)
    state = EnrollmentState(key="e", start_date=date(2026, 8, 24), term_id="fall", percent_complete=0.0)
    decisions = run(compiled, state, date(2026, 8, 24), date(2026, 10, 31))
    assert [d.rule_id for d in decisions] == [
        "cps.pacing.ipr_warning_2w",
        "cps.pacing.ipr_warning_1w",
        "cps.pacing.ipr_drop",
    ]
    assert decisions[0].facts["percent_complete"] == 0.0


def test_progress_reported_after_the_alert_lets_the_later_rules_apply() -> None:
    """The alert goes on 09-25; progress of 10 % reported on 09-28 is seen from 09-29, so the
    one-week warning and the drop follow as usual — and the alert is not sent again."""
    compiled = program(PACING, **TERM)
    state = EnrollmentState(key="e", start_date=date(2026, 8, 24), term_id="fall")

    def report(s: EnrollmentState, day: date) -> EnrollmentState:
        return replace(s, percent_complete=0.10) if day == date(2026, 9, 28) else s

    decisions = run(compiled, state, date(2026, 8, 24), date(2026, 10, 31), activity=report)
    assert [(d.on.isoformat(), d.rule_id) for d in decisions] == [
        ("2026-09-25", "data.missing"),
        ("2026-10-02", "cps.pacing.ipr_warning_1w"),
        ("2026-10-10", "cps.pacing.ipr_drop"),
    ]


def test_a_program_cannot_switch_the_data_alert() -> None:
    with pytest.raises(ValueError, match="always on"):
        program({**PACING, "data.missing": {}}, **TERM)
