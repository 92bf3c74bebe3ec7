"""MSC steps 3 and 4: what stops the removal, the fee it states, and re-enrollment once a semester.

004, step 3: "If the student does not respond by submitting assignments or correspond with the
instructor, MSC Online will assume that the student does not intend to remain in the course. The
enrolling district will then be notified by MSC Online that the student will be administratively
removed from the course within three (3) calendar days, and all appropriate fees and tuition will
apply." Step 4: "A student administratively removed may re-enroll once, per course, per semester,
for a $400 fee within seven (7) calendar days of being removed." Catalogue: "no submissions and no
correspondence with the instructor since step 2 (a message or forum question from the student to
the instructor, or a contact the instructor records, stops the ladder)"; "a second removal in the
same course and semester offers no re-enrollment".

The catalogue's worked example 3: enrolled Mon 2026-01-05, last submission 01-20; step 1 on
01-24, step 2 on 01-31, step 3 on 02-07 (removal 02-10), the removal on 02-10 (re-enroll by 02-17).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from onpace_rules import Decision, EnrollmentState, evaluate_enrollment
from onpace_rules.engine import apply_evaluation
from onpace_rules.inputs import Approval, InstructorContact, Reenrollment

from tests.unit.rules_helpers import make_input, program, run, summary, with_activity

STEP1, STEP2, STEP3, STEP4 = (
    "msc.progress.step1_contact",
    "msc.progress.step2_reminder",
    "msc.progress.step3_removal_notice",
    "msc.progress.step4_removal",
)
WITHDRAW = "msc.enrollment.withdraw_window"
LADDER: dict[str, dict[str, Any]] = {STEP1: {}, STEP2: {}, STEP3: {}, STEP4: {}}
PRICED = {**LADDER, WITHDRAW: {"course_fee_usd": 425.0}}
START = date(2026, 1, 5)
LAST_SUBMISSION = date(2026, 1, 20)
REMINDER = date(2026, 1, 31)  # step 2
NOTICE = date(2026, 2, 7)  # step 3
REMOVAL = date(2026, 2, 10)  # step 4


def _state(**kw: Any) -> EnrollmentState:
    return EnrollmentState(
        key="d1#c1#s1",
        start_date=START,
        class_id="c1",
        end_date=date(2026, 5, 29),
        last_on={"submission": LAST_SUBMISSION},
        **kw,
    )


def _on(day: date, change: Callable[[EnrollmentState], EnrollmentState]) -> Any:
    """An ``activity`` callback for ``run``: ``change`` happens on ``day`` (seen from the next)."""

    def activity(state: EnrollmentState, today: date) -> EnrollmentState:
        return change(state) if today == day else state

    return activity


def _contact(on: date, class_id: str = "c1") -> Any:
    data = InstructorContact(by="Ms. Okafor", method="phone", contact_with="student")
    return make_input("instructor_contact", on, data, class_id)


def _steps(
    rules: dict[str, dict[str, Any]] = LADDER, state: EnrollmentState | None = None, **kw: Any
) -> list:
    return run(program(rules), state or _state(), START, date(2026, 3, 15), **kw)


def _rules(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.on.isoformat(), d.rule_id) for d in decisions]


# -- what stops steps 3 and 4 --------------------------------------------------------------------


def test_nothing_after_the_reminder_ends_in_removal() -> None:
    """No submission and no correspondence: the notice on 02-06 and the removal on 02-09, each
    stating the reminder's date and that no correspondence is on record."""
    decisions = _steps(PRICED)
    assert _rules(decisions) == [
        ("2026-01-24", STEP1),
        ("2026-01-31", STEP2),
        ("2026-02-07", STEP3),
        ("2026-02-10", STEP4),
    ]
    notice, removal = decisions[2], decisions[3]
    for decision in (notice, removal):
        assert decision.facts["reminder_date"] == "2026-01-31"
        assert decision.facts["last_correspondence_date"] is None
        assert decision.facts["last_correspondence"] is None
        assert decision.facts["last_submission_date"] == "2026-01-20"
    assert "reminder_date" not in decisions[1].facts  # steps 1 and 2 stand on submissions only


@pytest.mark.parametrize("kind", ["instructor_message", "forum_question"])
@pytest.mark.parametrize(
    ("on", "stops"),
    [
        (date(2026, 1, 30), False),  # before the reminder: not "since step 2"
        (REMINDER, True),  # the reminder's day, after it went out
        (date(2026, 2, 6), True),  # the last day before the notice
    ],
)
def test_a_message_or_forum_question_to_the_instructor_after_step_2_stops_step_3(
    kind: str, on: date, stops: bool
) -> None:
    """ "If the student does not respond by submitting assignments or correspond with the
    instructor ...": a message or forum question from the student to the instructor since step 2
    stops the removal notice (and so the removal)."""
    decisions = _steps(activity=_on(on, lambda s: with_activity(s, kind, on)))
    expected = [("2026-01-24", STEP1), ("2026-01-31", STEP2)]
    if not stops:
        expected += [("2026-02-07", STEP3), ("2026-02-10", STEP4)]
        assert decisions[2].facts["last_correspondence_date"] == on.isoformat()
        assert decisions[2].facts["last_correspondence"] == kind
    assert _rules(decisions) == expected


def test_a_contact_the_instructor_records_after_step_2_stops_step_3() -> None:
    contact = date(2026, 2, 2)
    decisions = _steps(activity=_on(contact, lambda s: s.with_input(_contact(contact))))
    assert _rules(decisions) == [("2026-01-24", STEP1), ("2026-01-31", STEP2)]


def test_a_contact_recorded_in_another_class_does_not_stop_this_one() -> None:
    contact = date(2026, 2, 2)
    decisions = _steps(activity=_on(contact, lambda s: s.with_input(_contact(contact, "c2"))))
    assert [rule for _, rule in _rules(decisions)] == [STEP1, STEP2, STEP3, STEP4]


@pytest.mark.parametrize("kind", ["instructor_message", "instructor_contact"])
def test_correspondence_after_the_notice_stops_the_removal(kind: str) -> None:
    """Step 4 needs the same: nothing since step 2 (a reply to the removal notice comes in time)."""
    on = date(2026, 2, 8)

    def answer(state: EnrollmentState) -> EnrollmentState:
        if kind == "instructor_contact":
            return state.with_input(_contact(on))
        return with_activity(state, "instructor_message", on)

    decisions = _steps(activity=_on(on, answer))
    assert [rule for _, rule in _rules(decisions)] == [STEP1, STEP2, STEP3]


def test_a_submission_after_step_2_stops_step_3() -> None:
    """ "... respond by submitting assignments": the submission ends the lapse; the next lapse's
    ladder starts from it (step 1 the day after its three whole days)."""
    on = date(2026, 2, 3)
    decisions = _steps(activity=_on(on, lambda s: with_activity(s, "submission", on)))
    assert _rules(decisions)[:3] == [("2026-01-24", STEP1), ("2026-01-31", STEP2), ("2026-02-07", STEP1)]
    assert decisions[2].episode == "since-2026-02-03"


def test_correspondence_gives_the_same_decisions_day_by_day_and_on_wake_dates() -> None:
    """Correspondence only moves due dates later (it never starts a lapse): no wake date for it,
    and evaluating only on wake dates decides what evaluating every day decides."""
    on = date(2026, 2, 2)
    for change in (
        lambda s: with_activity(s, "instructor_message", on),
        lambda s: s.with_input(_contact(on)),
    ):
        woken = _steps(activity=_on(on, change))
        every_day = _steps(activity=_on(on, change), use_wake=False)
        assert summary(woken) == summary(every_day)
    compiled = program(LADDER)
    assert "instructor_message" not in compiled.activity_wake_days
    assert "forum_question" not in compiled.activity_wake_days


def test_an_answer_after_the_reminder_was_due_counts_when_the_evaluator_sent_it_late() -> None:
    """With the evaluator down 01-22..01-25, step 1 goes out on 01-26 and the reminder on 02-02
    instead of 01-31. A message of 01-31 came after the day the reminder was due: it stops the
    removal as it does day by day (catch-up never removes a student day-by-day evaluation keeps)."""
    on = date(2026, 1, 31)
    outage = frozenset(date(2026, 1, d) for d in range(22, 26))
    decisions = _steps(activity=_on(on, lambda s: with_activity(s, "instructor_message", on)), skip=outage)
    assert _rules(decisions) == [("2026-01-26", STEP1), ("2026-02-02", STEP2)]
    assert _rules(_steps(skip=outage))[2:] == [("2026-02-09", STEP3), ("2026-02-12", STEP4)]


# -- the fee the removal states ------------------------------------------------------------------


def test_the_removal_states_the_full_course_fee_in_force_on_its_day() -> None:
    """ "all appropriate fees and tuition will apply" (step 3); "Students who complete a course,
    drop, fail, or are administratively removed after ten (10) calendar days do count as a
    'student enrollment' for the course, and the school district will be assessed the full fee".
    The price is a dated value: the version in force on the removal day sets it."""
    versions = [
        {"version": "prices-2026", "effective": "2026-02-08", "rules": {WITHDRAW: {"course_fee_usd": 485.0}}}
    ]
    compiled = program(PRICED, settings={"versions": versions})
    decisions = run(compiled, _state(), START, date(2026, 3, 1))
    notice, removal = decisions[2], decisions[3]
    assert notice.facts["course_fee_usd"] == 485.0  # looked up on the removal date, 02-10
    assert notice.policy_version == "test-1"
    assert removal.facts["fee_kind"] == "full_course_fee"
    assert removal.facts["course_fee_usd"] == 485.0
    assert removal.policy_version == "prices-2026"


def test_without_prices_the_fee_is_not_stated() -> None:
    removal = _steps()[-1]
    assert removal.rule_id == STEP4 and removal.facts["course_fee_usd"] is None
    assert removal.facts["fee_kind"] == "full_course_fee"


# -- re-enrollment once per course and semester --------------------------------------------------


def _reenrolled(on: date = START) -> EnrollmentState:
    """This enrollment is the student's re-enrollment in the course (after a removal elsewhere)."""
    data = Reenrollment(by="District registrar", removed_from="c0")
    return _state().with_input(make_input("reenrollment", on, data, "c1"))


def test_a_first_removal_offers_re_enrollment_once_with_the_fee() -> None:
    """ "A student administratively removed may re-enroll once, per course, per semester, for a
    $400 fee within seven (7) calendar days of being removed"."""
    removal = _steps(PRICED)[-1]
    assert removal.deadlines == {"reenroll": date(2026, 2, 17)}
    assert removal.facts["reenroll_available"] is True
    assert removal.facts["reenroll_fee_usd"] == 400.0
    assert removal.facts["course_fee_usd"] == 425.0
    assert "reenrolled_on" not in removal.facts


def test_a_second_removal_in_the_same_course_and_semester_offers_no_re_enrollment() -> None:
    """ "... may re-enroll once, per course, per semester": removing the re-enrollment itself
    offers none (no ``reenroll`` deadline), and still states the full course fee."""
    removal = _steps(PRICED, _reenrolled(date(2026, 1, 4)))[-1]
    assert (removal.rule_id, removal.on) == (STEP4, REMOVAL)
    assert removal.deadlines == {}
    assert removal.facts["reenroll_available"] is False
    assert removal.facts["reenrolled_on"] == "2026-01-04"
    assert "reenroll_fee_usd" not in removal.facts
    assert removal.facts["course_fee_usd"] == 425.0


def test_a_re_enrollment_of_another_class_does_not_count_for_this_one() -> None:
    data = Reenrollment(by="District registrar")
    state = _state().with_input(make_input("reenrollment", date(2026, 1, 4), data, "c2"))
    assert _steps(PRICED, state)[-1].deadlines == {"reenroll": date(2026, 2, 17)}


@pytest.mark.parametrize("reenrolled", [False, True])
def test_an_approved_removal_counts_the_window_from_the_approval_and_offers_it_only_once(
    reenrolled: bool,
) -> None:
    compiled = program(PRICED, settings={"approvals": {STEP4: "needs_approval"}})
    state = _reenrolled() if reenrolled else _state()
    for day in (date(2026, 1, 24), REMINDER, NOTICE, REMOVAL):
        state = apply_evaluation(state, evaluate_enrollment(compiled, state, day), day)
    assert state.status == "held"
    approval = Approval(rule=STEP4, decision="approved", by="MSC Online Administrator")
    state = state.with_input(make_input("approval", date(2026, 2, 11), approval, "c1"))
    (taken,) = evaluate_enrollment(compiled, state, date(2026, 2, 12)).decisions
    assert (taken.rule_id, taken.kind, taken.on) == (STEP4, "action", date(2026, 2, 12))
    assert taken.facts["course_fee_usd"] == 425.0
    if reenrolled:
        assert taken.deadlines == {}
    else:
        assert taken.deadlines == {"reenroll": date(2026, 2, 19)}
