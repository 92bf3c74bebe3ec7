"""Letters without AWS: grouping notices into household and instructor letters, the send window
across time zones and DST, and the digests as rendered."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from onpace_core.delivery import letters
from onpace_core.delivery.letters import (
    FAMILY_DIGEST,
    INSTRUCTOR_DIGEST,
    MAX_MEMBERS,
    letter_id,
    plan_letters,
)
from onpace_core.notices.digest import render_digest
from onpace_core.notices.window import open_slot, send_slot, slot_of
from onpace_rules.program import SendWindow
from pydantic import ValidationError

from tests.unit.letter_cases import DAY, GUARDIAN, TEACHER, household_notices

TEMPLATES = Path(__file__).resolve().parents[2] / "functions" / "notify" / "templates"
NOW = datetime(2026, 10, 16, 12, 10, tzinfo=UTC)


def _by_address(plans: list[letters.Plan]) -> dict[str, letters.Plan]:
    return {letters.household(p.address): p for p in plans}


# -- grouping ---------------------------------------------------------------------------------


def test_two_children_one_guardian_two_courses_make_one_household_letter_actions_first() -> None:
    plans = _by_address(plan_letters(household_notices()))
    assert set(plans) == {GUARDIAN, "jamie@students.example", "sam@students.example", TEACHER}
    guardian = plans[GUARDIAN]
    assert guardian.audience == "family" and guardian.rule_id == FAMILY_DIGEST
    # Sam's drop (an action) first, then Jamie's warnings; "Ana@Family.example" is the same mailbox.
    assert [(m.notice.rule_id, m.notice.student_id) for m in guardian.members] == [
        ("cps.participation.drop_20d", "stu-2"),
        ("cps.pacing.ipr_warning_2w", "stu-1"),
        ("cps.participation.warning", "stu-1"),
    ]
    assert {m.notice.class_id for m in guardian.members} == {"alg", "bio"}


def test_a_student_alone_gets_the_notice_itself() -> None:
    plans = _by_address(plan_letters(household_notices()))
    jamie = plans["jamie@students.example"]
    assert [m.notice.rule_id for m in jamie.members] == ["cps.participation.warning"]
    assert jamie.rule_id == "cps.participation.warning"  # its own template, not a digest


def test_the_instructor_gets_one_digest_of_the_students_to_contact() -> None:
    teacher = _by_address(plan_letters(household_notices()))[TEACHER]
    assert teacher.audience == "staff" and teacher.rule_id == INSTRUCTOR_DIGEST
    assert [(m.notice.student_id, m.index) for m in teacher.members] == [("stu-2", 2), ("stu-1", 1)]


def test_recipients_already_lettered_are_left_out_and_approvals_go_alone() -> None:
    notices = household_notices()
    notices[0].deliveries = {"r1": {"status": "lettered", "letter": "x"}}
    approval = household_notices()[2]
    approval.notice_id += "/approval"
    approval.episode = "ep-1/approval"
    plans = plan_letters([*notices, approval])
    guardian_letters = [p for p in plans if letters.household(p.address) == GUARDIAN]
    assert [len(p.members) for p in guardian_letters] == [2, 1]
    assert guardian_letters[1].members[0].notice.episode.endswith("/approval")


def test_a_letter_holds_at_most_max_members_notices() -> None:
    many = []
    for n in range(MAX_MEMBERS + 2):
        (notice,) = [household_notices()[0]]
        notice.notice_id = f"d-1#c{n}#stu-1#r#ep"
        notice.recipients = notice.recipients[1:]  # the guardian only
        many.append(notice)
    plans = plan_letters(many)
    assert [len(p.members) for p in plans] == [MAX_MEMBERS, 2]


def test_letter_ids_are_deterministic_per_household_day_and_number() -> None:
    day = date(2026, 10, 16)
    first = letter_id("d-1", day, "Ana@Family.example")
    assert first == letter_id("d-1", day, "ana@family.example")
    assert first.startswith("letter#d-1#2026-10-16#") and len(first.rsplit("#", 1)[1]) == 16
    assert "ana" not in first  # the address is hashed
    assert letter_id("d-1", day, GUARDIAN, 2) == first + "#2"
    assert letter_id("d-2", day, GUARDIAN) != first


# -- the window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "opens_utc"),
    [
        ("America/Chicago", date(2026, 10, 16), datetime(2026, 10, 16, 12, 0, tzinfo=UTC)),  # CDT
        ("America/Chicago", date(2026, 11, 2), datetime(2026, 11, 2, 13, 0, tzinfo=UTC)),  # CST
        (
            "America/Chicago",
            date(2026, 3, 9),
            datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
        ),  # day after DST starts
        ("America/Chicago", date(2026, 3, 8), datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),  # DST starts 02:00
        ("America/Los_Angeles", date(2026, 11, 1), datetime(2026, 11, 1, 15, 0, tzinfo=UTC)),  # DST ends
        ("Pacific/Honolulu", date(2026, 7, 1), datetime(2026, 7, 1, 17, 0, tzinfo=UTC)),
        ("Europe/Madrid", date(2026, 3, 29), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),  # CEST that day
    ],
)
def test_the_window_opens_at_seven_local_whatever_the_offset(
    zone: str, day: date, opens_utc: datetime
) -> None:
    slot = slot_of(day, zone, SendWindow())
    assert slot.opens == opens_utc
    assert (slot.closes - slot.opens).total_seconds() == 2 * 3600


def test_overnight_notices_wait_for_the_morning_and_late_ones_for_the_next() -> None:
    window = SendWindow()
    midnight = datetime(2026, 10, 16, 5, 5, tzinfo=UTC)  # 00:05 in Chicago
    assert send_slot(midnight, "America/Chicago", window).day == date(2026, 10, 16)
    during = datetime(2026, 10, 16, 13, 30, tzinfo=UTC)  # 08:30
    assert send_slot(during, "America/Chicago", window).day == date(2026, 10, 16)
    after = datetime(2026, 10, 16, 14, 0, tzinfo=UTC)  # 09:00: closed
    assert send_slot(after, "America/Chicago", window).day == date(2026, 10, 17)
    assert open_slot(midnight, "America/Chicago", window) is None
    assert open_slot(during, "America/Chicago", window) is not None
    # The same instant is inside Chicago's window and outside Honolulu's (03:30 there).
    assert open_slot(during, "Pacific/Honolulu", window) is None


def test_the_window_is_a_validated_program_setting() -> None:
    assert SendWindow(start=time(8, 0), end=time(10, 0)).start == time(8, 0)
    with pytest.raises(ValidationError):
        SendWindow(start=time(2, 0), end=time(4, 0))  # at night
    with pytest.raises(ValidationError):
        SendWindow(start=time(8, 0), end=time(8, 30))  # shorter than the dispatcher's hour


# -- the digests ------------------------------------------------------------------------------


def _digest(address: str, language: str | None = None) -> tuple[letters.Plan, str, str, str]:
    plan = _by_address(plan_letters(household_notices(language=language)))[address]
    item = letters.letter_item(plan, "letter#d-1#x", NOW)
    email = render_digest(item, [(m.notice, m.contact) for m in plan.members], item.recipients[0], TEMPLATES)
    return plan, email.subject, email.text, email.html


def test_the_family_digest_puts_the_drop_before_the_warnings_each_with_its_deadline_box() -> None:
    _, subject, text, html = _digest(GUARDIAN)
    assert subject == "Action required: 3 notices about your courses"
    actions, warnings = text.index("ACTIONS TAKEN"), text.index("WARNINGS")
    assert actions < text.index("Sam Rivera has been dropped") < warnings
    assert warnings < text.index("Jamie Rivera has completed 10%") < text.index("Biology Online for 15")
    assert text.count("BY WHEN") == 3 and html.count("#fffbeb") >= 4  # each notice's own date boxes
    for rule in ("cps.participation.drop_20d", "cps.pacing.ipr_warning_2w", "cps.participation.warning"):
        assert f"Rule {rule}, policy version 2026.1" in text
    assert html.count("<html") == 1 and "<script" not in html


def test_the_instructor_digest_lists_each_student_with_the_reason() -> None:
    _, subject, text, _ = _digest(TEACHER)
    assert subject == "Students to contact today (2), October 16, 2026"
    assert "- Sam Rivera, Algebra I: Participation drop" in text
    assert "- Jamie Rivera, Algebra I: Action needed" in text
    assert "20 consecutive school days" in text  # the facts, from the notice's own block
    assert "WHOM TO CONTACT" not in text


def test_the_family_digest_in_spanish() -> None:
    _, subject, text, _ = _digest(GUARDIAN, language="es")
    assert subject.startswith("Acción requerida: 3 avisos")
    assert "ACCIONES TOMADAS" in text and "AVISOS" in text
    assert "Action" not in text and "WARNINGS" not in text


def test_a_digest_day_matches_the_window_day() -> None:
    plan, *_ = _digest(GUARDIAN)
    assert plan.day.isoformat() == DAY


def test_a_notice_without_any_address_does_not_wait_for_the_window() -> None:
    """It is settled failed (no recipient address) with its audit entry at once, as before."""
    from onpace_core.notices.outbox import outbox_item
    from onpace_core.store.models import EnrollmentModel
    from onpace_rules.decisions import Decision
    from onpace_rules.program import ProgramConfig

    program = ProgramConfig(
        district_id="d-1",
        program_id="prog",
        name="Test",
        time_zone="America/Chicago",
        policy_version="v1",
        source="test",
    )
    enrollment = EnrollmentModel(
        enrollment_key="d-1#cls-1#stu-1",
        district_id="d-1",
        program_id="prog",
        class_id="cls-1",
        student_id="stu-1",
        contacts=[],
    )
    decision = Decision(
        rule_id="cps.pacing.ipr_warning_2w",
        kind="notice",
        episode="ep",
        on=date(2026, 9, 25),
        due_on=date(2026, 9, 25),
        policy_version="v1",
        recipients=("student", "guardians"),
    )
    midnight = datetime(2026, 9, 25, 5, 5, tzinfo=UTC)
    nobody = outbox_item(enrollment, decision, program, midnight)
    assert nobody.status == "pending" and nobody.send_key is None
