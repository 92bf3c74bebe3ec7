"""Every family notice names a person to contact, replies go to them, and it is signed by the program.

Catalogue "Recipients and contact data": "Every notice to a family names a person to contact, with
name and address (the counselor, advisor, instructor or program contact that the rule's "who"
column and the program name), and replies go to that person (Reply-To)."
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from onpace_core.delivery import suppression
from onpace_core.delivery.sender import _prepare
from onpace_core.notices.outbox import contact_person, record_decision
from onpace_core.notices.render import render
from onpace_core.settings import Settings
from onpace_core.store.models import Contact, EnrollmentModel, OutboxModel
from onpace_rules.decisions import Decision
from onpace_rules.program import ProgramConfig
from onpace_rules.registry import FAMILY_NOTICE_RULE_IDS, STAFF_ONLY_RULE_IDS

from tests.unit.test_render import CASES, TEMPLATES, make_notice

NOTICES = {
    "program_name": "CPS Online",
    "district_name": "Columbia Public Schools",
    "contact": {
        "name": "Alex Rivera",
        "title": "CPS Online coordinator",
        "address": "coordinator@cps.example",
    },
}


def _program(**changes: Any) -> ProgramConfig:
    fields: dict[str, Any] = {
        "district_id": "d-1",
        "program_id": "prog",
        "name": "CPS Online (pacing and participation)",
        "time_zone": "America/Chicago",
        "policy_version": "2026.1",
        "source": "000_bc3aac7a290565fd.txt",
        "contacts": {
            "counselor": [
                {"name": "Morgan Lee", "title": "School counselor", "address": "morgan.lee@cps.example"}
            ],
            "advisor": [{"name": "Sam Holt", "address": "sam.holt@cps.example"}],
        },
        "notices": NOTICES,
    }
    fields.update(changes)
    return ProgramConfig.model_validate(fields)


def _enrollment(*contacts: Contact) -> EnrollmentModel:
    return EnrollmentModel(
        enrollment_key="d-1#cls-1#stu-1",
        district_id="d-1",
        program_id="prog",
        class_id="cls-1",
        class_title="Algebra I",
        student_id="stu-1",
        student_name="Jamie Rivera",
        start_date="2026-08-24",
        contacts=list(contacts)
        or [
            Contact(role="student", address="jamie@students.cps.example", name="Jamie Rivera"),
            Contact(role="guardian", address="ana@family.example", name="Ana Rivera"),
            Contact(role="instructor", address="pat.moss@cps.example", name="Pat Moss"),
        ],
    )


@pytest.mark.parametrize(
    ("roles", "who"),
    [
        # cps.pacing.ipr_drop: the counselor takes appeals, before the instructor.
        (
            ("student", "guardians", "counselor", "instructor"),
            ("counselor", "Morgan Lee", "School counselor"),
        ),
        # csu.engagement.withdraw_21d: the advisor (no title on file: the role's).
        (("student", "advisor"), ("advisor", "Sam Holt", "Advisor")),
        # msc.progress.step3_removal_notice: the instructor, of this class.
        (("district_staff", "student", "instructor"), ("instructor", "Pat Moss", "Teacher, Algebra I")),
        # cps.pacing.ipr_warning_2w: the "who" names no staff, so the program contact.
        (("student", "guardians"), ("program_contact", "Alex Rivera", "CPS Online coordinator")),
    ],
)
def test_the_person_named_follows_the_rules_who_then_the_program(
    roles: tuple[str, ...], who: tuple[str, str, str]
) -> None:
    person = contact_person(_enrollment(), roles, _program())
    assert person is not None
    assert (person.role, person.name, person.title) == who


def test_a_named_staff_role_without_anyone_on_file_falls_back_to_the_next_then_the_program() -> None:
    program = _program(contacts={})
    no_teacher = _enrollment(Contact(role="student", address="jamie@students.cps.example"))
    person = contact_person(no_teacher, ("student", "guardians", "counselor", "instructor"), program)
    assert person is not None and (person.role, person.address) == (
        "program_contact",
        "coordinator@cps.example",
    )


def test_a_staff_only_notice_names_no_family_contact() -> None:
    assert contact_person(_enrollment(), ("counselor", "program_admin"), _program()) is None


def test_an_approval_request_reaches_the_program_contact_when_no_administrator_is_listed() -> None:
    from onpace_core.notices.outbox import recipients_for

    (admin,) = recipients_for(_enrollment(), ("program_admin",), _program())
    assert (admin.role, admin.address) == ("program_admin", "coordinator@cps.example")


def test_the_recorded_notice_carries_its_contact_and_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    saved: list[OutboxModel] = []

    def save(item: OutboxModel, condition: Any = None) -> None:
        saved.append(item)

    monkeypatch.setattr(OutboxModel, "save", save)
    decision = Decision(
        rule_id="cps.pacing.ipr_drop",
        kind="action",
        episode="ipr-2026-10-09",
        on=date(2026, 10, 10),
        due_on=date(2026, 10, 10),
        policy_version="2026.1",
        recipients=("student", "guardians", "counselor", "instructor"),
        status_after="dropped",
    )
    created, _ = record_decision(_enrollment(), decision, _program(), datetime(2026, 10, 10, 5, tzinfo=UTC))
    (item,) = saved
    assert created and item.reply_to is not None
    assert (item.reply_to.name, item.reply_to.address) == ("Morgan Lee", "morgan.lee@cps.example")
    assert (item.program_name, item.district_name) == ("CPS Online", "Columbia Public Schools")


# -- every family notice, rendered and built as the sender does ------------------------------------


FAMILY_CASES = sorted(set(CASES) & FAMILY_NOTICE_RULE_IDS)


def test_every_emailed_rule_is_either_a_family_rule_or_staff_only() -> None:
    assert set(CASES) == FAMILY_NOTICE_RULE_IDS | STAFF_ONLY_RULE_IDS
    assert not FAMILY_NOTICE_RULE_IDS & STAFF_ONLY_RULE_IDS


@pytest.mark.parametrize("rule_id", FAMILY_CASES)
@pytest.mark.parametrize("role", ["student", "guardian"])
def test_every_family_notice_names_the_contact_and_is_signed_by_the_program(rule_id: str, role: str) -> None:
    email_ = render(make_notice(rule_id), Contact(role=role, address=f"{role}@family.example"), TEMPLATES)
    for body in (email_.text, email_.html):
        assert "Morgan Lee" in body and "morgan.lee@district.example" in body
        assert "Springfield Online" in body and "Springfield Public Schools" in body
        assert "Online Learning Office" not in body
    assert "WHOM TO CONTACT\nMorgan Lee, Program contact\nmorgan.lee@district.example" in email_.text


def test_a_family_notice_without_a_contact_fails_loudly_instead_of_naming_no_one() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        render(
            make_notice("cps.pacing.ipr_warning_2w", reply_to=None),
            Contact(role="guardian", address="a@b.org"),
            TEMPLATES,
        )


@pytest.fixture(autouse=True)
def _nobody_suppressed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS in unit tests: the suppression list (a BatchGetItem when deployed) is empty."""
    monkeypatch.setattr(suppression, "listed", lambda district_id, keys: set())


def _built(notice: OutboxModel) -> dict[str, EmailMessage]:
    settings = Settings(sender_address="notices@onpace.example.org")
    now = datetime(2026, 10, 10, 5, 5, tzinfo=UTC)
    out = {}
    for item in _prepare(notice, settings, TEMPLATES, "2026-10-10T05:05:00.000000Z", now):
        parsed = email.message_from_bytes(item.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        out[item.address] = parsed
    return out


@pytest.mark.parametrize("rule_id", FAMILY_CASES)
def test_family_messages_reply_to_the_contact_and_staff_messages_do_not(rule_id: str) -> None:
    recipients = [
        Contact(role="student", address="jamie@students.cps.example", name="Jamie Rivera"),
        Contact(role="guardian", address="ana@family.example", name="Ana Rivera"),
        Contact(role="counselor", address="morgan.lee@cps.example", name="Morgan Lee"),
    ]
    built = _built(make_notice(rule_id, recipients=recipients))
    for address in ("jamie@students.cps.example", "ana@family.example"):
        assert built[address]["Reply-To"] == "Morgan Lee <morgan.lee@district.example>"
        assert built[address]["From"] == "Springfield Online <notices@onpace.example.org>"
    assert built["morgan.lee@cps.example"]["Reply-To"] is None
