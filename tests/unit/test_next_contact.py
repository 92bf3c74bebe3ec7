"""The next contact an escalation goes to, and whether a warning reached the family (pure parts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from onpace_core.delivery.escalation import escalation_id, next_contact
from onpace_core.delivery.suppression import address_hash
from onpace_core.notices.family_reach import ACTION_WARNINGS, reached, warning_keys
from onpace_core.store.models import Contact, OutboxModel
from onpace_rules.decisions import Decision
from onpace_rules.program import StaffContact

STUDENT = Contact(role="student", address="kid@students.example", name="Kid")
ANA = Contact(role="guardian", address="ana@family.example", name="Ana", language="es")
LUIS = Contact(role="parent", address="Luis@Family.example", name="Luis")
NO_ADDRESS = Contact(role="guardian", address="", name="Nobody")
INSTRUCTOR = Contact(role="instructor", address="teacher@school.example", name="Pat")
STAFF = {
    "counselor": (StaffContact(name="Dana", address="counselor@school.example", title="School counselor"),),
    "advisor": (StaffContact(name="Sam", address="advisor@school.example"),),
    "program_admin": (StaffContact(name="Avery", address="admin@school.example"),),
}
ROSTER = [STUDENT, NO_ADDRESS, ANA, LUIS, INSTRUCTOR]


def _tried(*contacts: Contact) -> set[str]:
    return {address_hash(c.address) for c in contacts}


def test_another_guardian_comes_first_then_the_counselor_then_the_advisor() -> None:
    first = next_contact(_tried(STUDENT, ANA), ROSTER, STAFF, guardians_allowed=True)
    assert first is not None and (first.role, first.address) == ("parent", LUIS.address)
    # Luis tried with his address in another case: hashes are case-insensitive.
    upper = Contact(role="parent", address="luis@family.example")
    second = next_contact(_tried(STUDENT, ANA, upper), ROSTER, STAFF, guardians_allowed=True)
    assert second is not None and (second.role, second.address) == ("counselor", "counselor@school.example")
    assert second.title == "School counselor"
    third = next_contact(
        _tried(STUDENT, ANA, LUIS) | {address_hash("counselor@school.example")},
        ROSTER,
        STAFF,
        guardians_allowed=True,
        default_language="es",
    )
    assert third is not None and (third.role, third.language) == ("advisor", "es")
    done = _tried(STUDENT, ANA, LUIS) | {address_hash(s[0].address) for s in STAFF.values()}
    assert next_contact(done, ROSTER, STAFF, guardians_allowed=True) is None


def test_guardians_only_when_the_notice_went_to_guardians_and_never_the_instructor_or_admin() -> None:
    found = next_contact(_tried(STUDENT), ROSTER, STAFF, guardians_allowed=False)
    assert found is not None and found.role == "counselor"  # an eligible student's guardians stay out
    assert next_contact(_tried(STUDENT), ROSTER, {}, guardians_allowed=False) is None  # not the instructor
    only_admin = {"program_admin": STAFF["program_admin"]}
    assert next_contact(_tried(STUDENT), ROSTER, only_admin, guardians_allowed=False) is None


def test_a_guardian_without_a_usable_address_is_passed_over() -> None:
    bad = Contact(role="guardian", address="not an address", name="X")
    found = next_contact(_tried(STUDENT), [bad, NO_ADDRESS, ANA], {}, guardians_allowed=True)
    assert found is not None and found.address == ANA.address and found.language == "es"


def _warning(
    recipients: list[Contact], status: str, deliveries: dict[str, Any], kind: str = "notice"
) -> OutboxModel:
    return OutboxModel(
        notice_id="n",
        kind=kind,
        status=status,
        recipients=recipients,
        deliveries=deliveries,
    )


SENT = {"status": "sent", "message_id": "m"}


def test_a_warning_reached_the_family_unless_every_family_message_failed() -> None:
    bounced = {**SENT, "tracking": {"status": "bounced", "bounce": "hard", "rank": "5"}}
    complained = {**SENT, "tracking": {"status": "complained", "rank": "6"}}
    delivered = {**SENT, "tracking": {"status": "delivered", "rank": "2"}}
    suppressed = {"status": "suppressed", "error": "address suppressed"}
    failed = _warning([STUDENT, ANA], "failed", {"r0": bounced, "r1": suppressed})
    assert reached([failed]) is False
    assert reached([_warning([STUDENT], "sent", {"r0": delivered})]) is True
    assert reached([_warning([STUDENT], "sent", {"r0": complained})]) is True  # read, then reported
    assert reached([_warning([STUDENT], "sent", {"r0": SENT})]) is True  # no event yet
    # The guardian's copy bounced, the student's did not: the family was reached.
    assert reached([_warning([STUDENT, ANA], "sent", {"r0": SENT, "r1": bounced})]) is True
    # Only the instructor got it (an MSC step 1 prompt): not a warning to the family.
    staff_only = _warning([INSTRUCTOR], "sent", {"r0": SENT})
    assert reached([staff_only]) is None
    assert reached([staff_only, failed]) is False
    # A channel-policy suppression at evaluation: written to the family, never sent.
    assert reached([_warning([STUDENT], "suppressed", {})]) is False
    # Still on its way: not known to have failed.
    assert reached([failed, _warning([STUDENT], "pending", {})]) is True
    # Superseded and skipped on a catch-up day: no warning.
    assert reached([_warning([STUDENT], "skipped", {}, kind="skipped")]) is None
    assert reached([]) is None
    # An escalation to another guardian that was delivered.
    assert reached([failed, _warning([LUIS], "sent", {"r0": delivered})]) is True


def test_warning_keys_are_the_episode_s_warnings_and_their_escalations() -> None:
    action = Decision(
        rule_id="cps.pacing.ipr_drop",
        kind="action",
        on=date(2026, 10, 10),
        due_on=date(2026, 10, 10),
        episode="ipr-2026-10-09",
        policy_version="v1",
    )
    keys = warning_keys("d#c#s", action)
    base = "d#c#s#cps.pacing.ipr_warning_2w#ipr-2026-10-09"
    assert keys[0] == base and keys[1] == escalation_id(base, 1) == f"{base}#esc1"
    assert "d#c#s#cps.pacing.ipr_warning_1w#ipr-2026-10-09" in keys
    assert len(keys) <= 100  # one BatchGetItem
    assert all(len(warning_keys("k", _action(rule))) <= 100 for rule in ACTION_WARNINGS)
    assert warning_keys("d#c#s", _action("csu.sap.inactive_withdrawal")) == []


def _action(rule_id: str) -> Decision:
    return Decision(
        rule_id=rule_id,
        kind="action",
        on=date(2026, 1, 1),
        due_on=date(2026, 1, 1),
        episode="e",
        policy_version="v",
    )


# -- the engine holds an action the family was never warned of --------------------------------


def test_an_action_no_warning_reached_is_held_whatever_the_approval_setting() -> None:
    from onpace_rules import EnrollmentState, evaluate_enrollment
    from onpace_rules.facts import RosterFacts
    from onpace_rules.family import NO_WARNING_REACHED

    from tests.unit.rules_helpers import program

    pacing: dict[str, dict[str, Any]] = {
        "cps.pacing.ipr_warning_2w": {},
        "cps.pacing.ipr_warning_1w": {},
        "cps.pacing.ipr_drop": {},
    }
    compiled = program(
        pacing, terms=[{"id": "fall", "start": "2026-08-24", "end": "2026-12-18", "ipr": "2026-10-09"}]
    )
    state = EnrollmentState(
        key="d1#c1#s1",
        start_date=date(2026, 8, 24),
        term_id="fall",
        percent_complete=0.1,
        checked_through=date(2026, 10, 9),
        roster=RosterFacts(guardians=1),
    )
    drop_day = date(2026, 10, 10)
    taken = evaluate_enrollment(compiled, state, drop_day)
    assert taken.status == "dropped"  # the program takes drops without approval
    from dataclasses import replace

    held = evaluate_enrollment(compiled, replace(state, family_unwarned=True), drop_day)
    (request,) = [d for d in held.decisions if d.kind == "notice"]
    assert held.status == "held" and held.held is not None and held.held.rule_id == "cps.pacing.ipr_drop"
    assert request.facts["approval_reason"] == NO_WARNING_REACHED
    assert request.recipients == ("program_admin",)
