"""Engine conventions shared by every rule: policy versions, approvals, accommodations, calendar changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from onpace_rules import EnrollmentState, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.inputs import Accommodation, Approval, Input

from tests.unit.rules_helpers import make_input, program, roster_record, run, summary

CSU = {"csu.engagement.at_risk_14d": {}, "csu.engagement.withdraw_21d": {}}
CPS_PARTICIPATION = {"cps.participation.warning": {}, "cps.participation.drop_20d": {}}


def _input(kind: str, on: date, data: object, event_id: str | None = None) -> Input:
    return make_input(kind, on, data, "c1", event_id=event_id or f"{kind}-{on.isoformat()}")


def _csu_state(**changes: object) -> EnrollmentState:
    base = EnrollmentState(key="e", start_date=date(2026, 2, 1), last_on={"submission": date(2026, 3, 2)})
    return replace(base, **changes)  # type: ignore[arg-type]


# -- policy versions --------------------------------------------------------------------------


def test_the_version_in_force_on_the_day_decides_and_is_recorded() -> None:
    versions = [
        {
            "version": "v2",
            "effective": "2026-03-10",
            "rules": {"csu.engagement.at_risk_14d": {"warning_day": 7}},
        }
    ]
    compiled = program(CSU, settings={"versions": versions})
    # Last engagement 03-01: the 7 whole days end on 03-08 (due 03-09), but version v2 (7 days)
    # starts only on 03-10; its 14-day grace counts from the email actually sent.
    state = _csu_state(last_on={"submission": date(2026, 3, 1)})
    decisions = run(compiled, state, date(2026, 3, 1), date(2026, 3, 12))
    assert summary(decisions) == [
        (
            "2026-03-10",
            "csu.engagement.at_risk_14d",
            "notice",
            {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        )
    ]
    assert decisions[0].policy_version == "v2"
    before = evaluate_enrollment(compiled, state, date(2026, 3, 9))
    assert before.decisions == ()
    assert before.wake_on == date(2026, 3, 10)  # the version change is a wake date


def test_versions_must_be_ordered_and_labelled_once() -> None:
    import pytest
    from pydantic import ValidationError

    bad = [
        {"version": "v3", "effective": "2026-05-01", "rules": {}},
        {"version": "v2", "effective": "2026-04-01", "rules": {}},
    ]
    with pytest.raises(ValidationError, match="order"):
        program(CSU, settings={"versions": bad})
    with pytest.raises(ValidationError, match="label"):
        program(CSU, settings={"versions": [{"version": "test-1", "effective": "2026-04-01"}]})


def test_a_version_can_switch_a_rule_off() -> None:
    versions = [{"version": "v2", "effective": "2026-03-01", "rules": {"csu.engagement.withdraw_21d": None}}]
    compiled = program(CSU, settings={"versions": versions})
    decisions = run(compiled, _csu_state(), date(2026, 3, 2), date(2026, 4, 30))
    assert [d.rule_id for d in decisions] == ["csu.engagement.at_risk_14d"]
    assert decisions[0].deadlines == {}  # no withdrawal to announce in v2


# -- approvals ----------------------------------------------------------------------------------


def test_an_action_needing_approval_holds_until_approved_and_counts_from_the_approval() -> None:
    compiled = program(
        CPS_PARTICIPATION, settings={"approvals": {"cps.participation.drop_20d": "needs_approval"}}
    )
    state = EnrollmentState(key="e", start_date=date(2026, 9, 1), last_on={"submission": date(2026, 9, 4)})
    # Last submission Fri 09-04; Labor Day is not a holiday here: school day 20 is Fri 10-02,
    # the drop comes once it is over, on Sat 10-03.
    held = evaluate_enrollment(
        compiled,
        replace(state, fired={"cps.participation.warning#since-2026-09-04": date(2026, 9, 26)}),
        date(2026, 10, 3),
    )
    assert held.status == "held"
    assert held.held is not None and held.held.rule_id == "cps.participation.drop_20d"
    (request,) = [d for d in held.decisions if d.rule_id == "cps.participation.drop_20d"]
    assert request.kind == "notice" and request.recipients == ("program_admin",)
    assert request.facts["approval"] == "requested"
    waiting = apply_evaluation(state, held, date(2026, 10, 3))
    # Nothing happens while it waits, and nothing is scheduled: the approval input wakes it.
    idle = evaluate_enrollment(compiled, waiting, date(2026, 10, 5))
    assert idle.decisions == () and idle.status == "held" and idle.wake_on is None
    approved = waiting.with_input(
        _input(
            "approval",
            date(2026, 10, 7),
            Approval(rule="cps.participation.drop_20d", decision="approved", by="principal.b"),
        )
    )
    taken = evaluate_enrollment(compiled, approved, date(2026, 10, 8))
    (action,) = taken.decisions
    assert action.kind == "action" and action.status_after == "dropped" and taken.status == "dropped"
    assert action.on == date(2026, 10, 8) and action.due_on == date(2026, 10, 3)
    assert action.deadlines == {"appeal": date(2026, 10, 12)}  # two school days after Thu 10-08
    assert action.facts["approved_by"] == "principal.b" and action.facts["approved_on"] == "2026-10-07"


def test_a_rejected_action_is_recorded_and_the_enrollment_carries_on() -> None:
    compiled = program(CSU, settings={"approvals": {"csu.engagement.withdraw_21d": "needs_approval"}})
    state = _csu_state()
    decisions = run(
        compiled,
        state,
        date(2026, 3, 2),
        date(2026, 3, 30),
        activity=lambda s, d: (
            s.with_input(
                _input(
                    "approval",
                    d,
                    Approval(rule="csu.engagement.withdraw_21d", decision="rejected", by="dean.k"),
                )
            )
            if d == date(2026, 3, 24)
            else s
        ),
    )
    kinds = [(d.on.isoformat(), d.rule_id, d.kind) for d in decisions]
    assert kinds == [
        ("2026-03-17", "csu.engagement.at_risk_14d", "notice"),
        ("2026-03-24", "csu.engagement.withdraw_21d", "notice"),  # the approval request
        ("2026-03-25", "csu.engagement.withdraw_21d", "skipped"),
    ]
    assert decisions[-1].reason == "rejected by dean.k"
    assert decisions[-1].facts["rejected_by"] == "dean.k"


def test_after_a_rejection_the_enrollment_is_looked_at_the_next_day() -> None:
    """What came due while the action was held is due once it is rejected: the wake date is the
    next day, not the families' next date ahead (a warning due during the hold would be lost)."""
    compiled = program(CSU, settings={"approvals": {"csu.engagement.withdraw_21d": "needs_approval"}})
    held = evaluate_enrollment(compiled, _csu_state(), date(2026, 3, 24))
    assert held.status == "held" and held.held is not None
    state = apply_evaluation(_csu_state(), held, date(2026, 3, 24)).with_input(
        _input(
            "approval", date(2026, 3, 25), Approval(rule=held.held.rule_id, decision="rejected", by="dean.k")
        )
    )
    rejected = evaluate_enrollment(compiled, state, date(2026, 3, 26))
    assert [d.kind for d in rejected.decisions] == ["skipped"]
    assert (rejected.status, rejected.wake_on) == ("active", date(2026, 3, 27))


# -- accommodations ----------------------------------------------------------------------------


def test_a_medical_absence_pauses_the_inactivity_clock() -> None:
    compiled = program(CSU)
    medical = Accommodation(plan="medical", start=date(2026, 3, 5), end=date(2026, 3, 9))
    state = _csu_state().with_input(_input("accommodation", date(2026, 3, 4), medical))
    decisions = run(compiled, state, date(2026, 3, 2), date(2026, 3, 25))
    # 14 counted days after 03-02 skipping the five paused days end on 03-21, so the email goes
    # on 03-22; the withdrawal after 7 more whole days.
    assert summary(decisions)[0] == (
        "2026-03-22",
        "csu.engagement.at_risk_14d",
        "notice",
        {"last_day": "2026-03-28", "withdrawal": "2026-03-29"},
    )
    assert decisions[0].facts["accommodations"] == ["medical 2026-03-05..2026-03-09 paused"]
    assert decisions[0].facts["calendar_days_without_activity"] == 14


def test_an_iep_extends_the_thresholds() -> None:
    compiled = program(CSU)
    iep = Accommodation(plan="iep", start=date(2026, 1, 1), end=date(2026, 6, 30), pause=False, extend_days=3)
    state = _csu_state().with_input(_input("accommodation", date(2026, 2, 20), iep))
    decisions = run(compiled, state, date(2026, 3, 2), date(2026, 3, 30))
    # 14 + 3 and 21 + 3 whole days after 03-02.
    assert summary(decisions) == [
        (
            "2026-03-20",
            "csu.engagement.at_risk_14d",
            "notice",
            {"last_day": "2026-03-26", "withdrawal": "2026-03-27"},
        ),
        ("2026-03-27", "csu.engagement.withdraw_21d", "action", {}),
    ]


def test_an_accommodation_documented_late_still_pauses_from_when_it_is_seen() -> None:
    compiled = program(CSU)
    medical = Accommodation(plan="medical", start=date(2026, 3, 10), end=date(2026, 3, 20))
    late = _input("accommodation", date(2026, 3, 17), medical)
    decisions = run(
        compiled,
        _csu_state(),
        date(2026, 3, 2),
        date(2026, 4, 30),
        activity=lambda s, d: s.with_input(late) if d == date(2026, 3, 17) else s,
    )
    # The evaluation of 03-17 does not see it yet (documented that day), so the At-Risk email
    # goes as usual; from 03-18 on the eleven paused days push the 21st whole day to 04-03.
    assert summary(decisions) == [
        (
            "2026-03-17",
            "csu.engagement.at_risk_14d",
            "notice",
            {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        ),
        ("2026-04-04", "csu.engagement.withdraw_21d", "action", {}),
    ]


# -- calendar changes --------------------------------------------------------------------------


def test_a_snow_day_moves_school_day_dates_from_the_day_after_it_is_announced() -> None:
    changes = [{"announced": "2026-10-06", "closed": ["2026-10-07"], "reason": "snow day"}]
    compiled = program(CPS_PARTICIPATION, changes=changes)
    state = EnrollmentState(key="e", start_date=date(2026, 9, 1), last_on={"submission": date(2026, 9, 4)})
    decisions = run(compiled, state, date(2026, 9, 1), date(2026, 10, 30))
    # Last submission Fri 09-04: school day 20 is Fri 10-02, the drop on Sat 10-03 comes before
    # the change and stands.
    assert summary(decisions) == [
        (
            "2026-09-26",
            "cps.participation.warning",
            "notice",
            {"last_day": "2026-10-02", "drop": "2026-10-03"},
        ),
        ("2026-10-03", "cps.participation.drop_20d", "action", {"appeal": "2026-10-06"}),
    ]
    later = EnrollmentState(key="e", start_date=date(2026, 9, 1), last_on={"submission": date(2026, 9, 14)})
    moved = run(compiled, later, date(2026, 9, 1), date(2026, 10, 30))
    # Last submission Mon 09-14: the warning (10-06) announced the drop for Tue 10-13; the snow
    # day on Wed 10-07, announced 10-06, pushes school day 20 to Tue 10-13 and the drop to Wed
    # 10-14: later, never earlier.
    assert summary(moved) == [
        (
            "2026-10-06",
            "cps.participation.warning",
            "notice",
            {"last_day": "2026-10-12", "drop": "2026-10-13"},
        ),
        ("2026-10-14", "cps.participation.drop_20d", "action", {"appeal": "2026-10-16"}),
    ]
    assert compiled.calendar.as_of(date(2026, 10, 6)).is_school_day(date(2026, 10, 7))
    assert not compiled.calendar.as_of(date(2026, 10, 7)).is_school_day(date(2026, 10, 7))


def _replay_with_change(skip: tuple[date, date] | None = None) -> list[dict[str, object]]:
    from onpace_core.ingest.formats.plain import PlainActivityEvent
    from onpace_local.replay import DayRange, replay

    changes = [{"announced": "2026-10-06", "closed": ["2026-10-07"], "reason": "snow day"}]
    compiled = program(CPS_PARTICIPATION, changes=changes)
    records = [
        roster_record(student, "c1", date(2026, 9, 1), date(2026, 12, 18)) for student in ("s1", "s2", "s3")
    ]
    # Each student works every Monday, so all three are still enrolled when the change applies.
    events = [
        PlainActivityEvent.model_validate(
            {
                "event_id": f"{student}-{week}",
                "occurred_at": f"{date(2026, 9, 7) + timedelta(weeks=week)}T15:00:00+00:00",
                "student": student,
                "class": "c1",
                "kind": "submission",
            }
        )
        for student in ("s1", "s2", "s3")
        for week in range(8)
    ]
    skipped = [DayRange(*skip)] if skip else []
    return replay(
        compiled.config, records, events, date(2026, 9, 1), date(2026, 10, 31), skipped
    ).calendar_changes


def test_replay_reports_a_calendar_change_on_the_day_it_applies() -> None:
    """As the deployed evaluator audits it: the day it applies, what changed, how many were
    looked at again (every live enrollment wakes that day)."""
    (change,) = _replay_with_change()
    assert (change["date"], change["closed"], change["reason"]) == ("2026-10-07", ["2026-10-07"], "snow day")
    assert change["enrollments_reevaluated"] == 3
    assert change["summary"] == "closes 2026-10-07 (snow day; announced 2026-10-06)"


def test_replay_reports_a_change_that_applied_during_an_outage_on_the_next_day_evaluated() -> None:
    (change,) = _replay_with_change(skip=(date(2026, 10, 7), date(2026, 10, 8)))
    assert change["date"] == "2026-10-09" and change["applies_from"] == "2026-10-07"


def test_public_holidays_from_the_holidays_package_close_business_days_only() -> None:
    compiled = program({}, public_holidays={"country": "US", "subdiv": "MO"})
    calendar = compiled.calendar
    assert not calendar.is_business_day(date(2026, 10, 12))  # Columbus Day
    assert calendar.is_school_day(date(2026, 10, 12))  # the district calendar decides school days
    assert calendar.business_days_after(date(2026, 10, 9), 1) == date(2026, 10, 13)
    both = program({}, public_holidays={"country": "US", "subdiv": "MO", "apply_to": "business_and_school"})
    assert not both.calendar.is_school_day(date(2026, 10, 12))
    assert date(2026, 10, 12) - timedelta(days=3) == date(2026, 10, 9)
