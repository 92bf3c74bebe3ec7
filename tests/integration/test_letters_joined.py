"""Letters joined with texts, escalation, tracking and family reach, over moto server.

A household's notices (``tests/unit/letter_cases.py``) wait for the morning window; the real
``DispatchFunction`` letters them and the real ``NotifyFunction`` gets each letter's INSERT
record. What a letter's message meets (a guardian who chose texts, an address on the district's
suppression list, a bounce) must reach each member notice, exactly once.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from onpace_core.audit.log import read
from onpace_core.delivery import suppression, unsubscribe
from onpace_core.delivery.escalation import escalation_id
from onpace_core.delivery.evidence import plain
from onpace_core.delivery.sender import deliver
from onpace_core.delivery.suppression import address_hash
from onpace_core.notices.family_reach import reached
from onpace_core.settings import Settings
from onpace_core.store.models import OutboxModel
from onpace_core.store.programs import save_program
from onpace_local.stack import LocalStack
from onpace_rules.program import ProgramConfig

from tests.integration.test_escalation import _send_through_stream
from tests.integration.test_notify import TEMPLATES, _insert, _refreshed, _sent, _settings
from tests.integration.test_notify_letters import OPEN, _dispatch, _letter_to, _letters, _notify
from tests.integration.test_ses_events import _publish
from tests.unit.letter_cases import GUARDIAN, household_notices

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs=("transactions", "streams"))]

ANA_PHONE = "+13125550157"  # used by no other test: moto keeps every text of the session
COUNSELOR = "counselor@school.example"


def _program(district_id: str) -> None:
    """Texts on, quiet hours away from now (UTC), a counselor to escalate to."""
    hour = (datetime.now(UTC).hour + 2) % 24
    save_program(
        ProgramConfig.model_validate(
            {
                "district_id": district_id,
                "program_id": "prog",
                "name": "Test Online",
                "time_zone": "America/Chicago",
                "policy_version": "test-2026.1",
                "source": "test",
                "contacts": {"counselor": [{"name": "Dana Counselor", "address": COUNSELOR}]},
                "sms": {"enabled": True, "quiet_hours": {"start": time(hour), "end": time((hour + 1) % 24)}},
            }
        )
    )


def _household(stack: LocalStack, **changes: Any) -> tuple[str, list[OutboxModel]]:
    district = f"d-{uuid.uuid4().hex[:10]}"
    _program(district)
    notices = household_notices(district)
    for notice in notices:
        for contact in notice.recipients:
            if contact.role == "guardian":
                contact.phone, contact.sms = ANA_PHONE, "y"
    return district, [_insert(n) for n in notices]


def _guardian_letter(stack: LocalStack, district: str) -> OutboxModel:
    day = _dispatch(stack, district, OPEN)
    assert day["letters"] == 4
    (letter,) = _letter_to(_letters(district), GUARDIAN)
    assert len({m.notice_id for m in letter.members}) == 3
    return letter


def test_a_household_digest_sends_one_text_to_the_guardians_number_once(local_stack: LocalStack) -> None:
    district, notices = _household(local_stack)
    letter = _guardian_letter(local_stack, district)
    for item in _letters(district):
        _notify(local_stack, item)
    texts = [t for t in local_stack.sent_texts() if t["phone"] == ANA_PHONE]
    # Three notices for the guardian, one letter: one text, with the earliest deadline of them.
    assert len(texts) == 1
    entry = plain(_refreshed(letter).deliveries)["s0"]
    assert entry["status"] == "sent" and entry["message_id"]
    (audited,) = [e for e in read(district, limit=1000) if e.notice_id == letter.notice_id]
    assert audited.type == "letter.sent" and '"texts"' in audited.detail and ANA_PHONE not in audited.detail

    # The letter's record again (a duplicate, a retry): no second text.
    _notify(local_stack, letter)
    assert len([t for t in local_stack.sent_texts() if t["phone"] == ANA_PHONE]) == 1
    for notice in notices:
        assert all(not k.startswith("s") for k in plain(_refreshed(notice).deliveries))


def test_a_suppressed_guardian_escalates_each_member_notice_once(local_stack: LocalStack) -> None:
    district, notices = _household(local_stack)
    suppression.suppress(
        district,
        GUARDIAN,
        reason="bounce",
        detail=None,
        role="guardian",
        rule_id=None,
        at="2026-10-01T00:00:00Z",
    )
    letter = _guardian_letter(local_stack, district)
    _notify(local_stack, letter)
    assert plain(_refreshed(letter).deliveries)["r0"]["status"] == "suppressed"
    # Each member notice has its own escalation (to the counselor), none of the letter.
    for notice in notices:
        escalated = OutboxModel.get(escalation_id(notice.notice_id, 1), consistent_read=True)
        assert [c.address for c in escalated.recipients] == [COUNSELOR]
        assert escalated.rule_id == notice.rule_id and escalated.policy_version == notice.policy_version
    assert OutboxModel.count(escalation_id(letter.notice_id, 1)) == 0
    entries = [e for e in read(district, limit=1000) if e.type == "notice.escalated"]
    assert sorted(e.notice_id for e in entries) == sorted(n.notice_id for n in notices)

    # Notify again (a redelivered record): no second escalation.
    _notify(local_stack, letter)
    assert len([e for e in read(district, limit=1000) if e.type == "notice.escalated"]) == 3


def test_a_bounced_letter_bounces_for_its_members_and_escalates_each_once(local_stack: LocalStack) -> None:
    district, notices = _household(local_stack)
    letter = _guardian_letter(local_stack, district)
    sent = _send_through_stream(local_stack, letter)
    # Sent and not bounced yet: the lettered warning reached the family.
    warning = _refreshed(notices[0])
    assert reached([warning]) is True
    assert _publish(local_stack, sent, "r0", "Bounce", bounce_type="Permanent") == ["recorded"]
    assert _publish(local_stack, sent, "r0", "Bounce", bounce_type="Permanent") == ["ignored"]

    for notice in notices:
        stored = _refreshed(notice)
        key = next(f"r{i}" for i, c in enumerate(stored.recipients) if c.address.lower() == GUARDIAN)
        assert plain(stored.deliveries)[key]["tracking"]["status"] == "bounced"
        assert OutboxModel.count(escalation_id(notice.notice_id, 1)) == 1
    bounced = [e for e in read(district, limit=1000) if e.type == "delivery.bounced"]
    assert sorted(e.notice_id for e in bounced) == sorted([letter.notice_id, *(n.notice_id for n in notices)])
    assert len([e for e in read(district, limit=1000) if e.type == "notice.escalated"]) == 3


def test_a_lettered_warning_is_pending_until_its_letter_settles(local_stack: LocalStack) -> None:
    district, notices = _household(local_stack)
    warning = notices[0]
    assert warning.rule_id == "cps.participation.warning"
    assert reached([_refreshed(warning)]) is True  # scheduled: not known to have failed
    _guardian_letter(local_stack, district)
    stored = _refreshed(warning)
    assert {e["status"] for e in plain(stored.deliveries).values()} == {"lettered"}
    assert reached([stored]) is True  # lettered, its letters not settled
    # A family recipient whose letter bounced and another never sent: not reached.
    entries = plain(stored.deliveries)
    entries["r0"] = {"status": "failed", "letter": "x"}
    entries["r1"] = {"status": "sent", "message_id": "m", "tracking": {"status": "bounced"}}
    stored.deliveries = entries
    assert reached([stored]) is False
    assert date.fromisoformat(stored.decided_on)  # the trace fields are the notice's own


def _deliver_all(stack: LocalStack, district: str) -> None:
    settings = dataclasses.replace(_settings(stack), unsubscribe_url="https://onpace.example/unsubscribe")
    for letter in _letters(district):
        deliver(letter.notice_id, stack.client("sesv2"), settings, TEMPLATES)


def test_a_letter_of_courtesy_notices_carries_the_one_click_link_and_an_opt_out_drops_its_members(
    local_stack: LocalStack,
) -> None:
    district, notices = _household(local_stack)
    local_stack.client("secretsmanager").create_secret(
        Name=f"{Settings().unsubscribe_secret_prefix}{district}", SecretString=uuid.uuid4().hex
    )
    warning = notices[0]  # the courtesy warning: Jamie's Biology participation warning
    assert unsubscribe.is_courtesy(warning.rule_id)
    # Ana opted out of the courtesy warning before the window.
    unsubscribe.record(
        unsubscribe.Claims(district, warning.rule_id, address_hash(GUARDIAN)), datetime.now(UTC)
    )
    _guardian_letter(local_stack, district)
    _deliver_all(local_stack, district)
    letters = _letters(district)

    # Jamie's own letter holds only the courtesy warning: it carries the RFC 8058 headers.
    (jamie,) = _letter_to(letters, "jamie@students.example")
    ((_, message, _),) = _sent(local_stack, jamie.notice_id)
    assert str(message["List-Unsubscribe"]).startswith("<https://onpace.example/unsubscribe?t=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Ana's letter leaves the courtesy warning out (the required notices go, without the link).
    (ana,) = _letter_to(letters, GUARDIAN)
    ((_, family, _),) = _sent(local_stack, ana.notice_id)
    assert family["List-Unsubscribe"] is None
    assert str(family["Subject"]).strip() == "Action required: 2 notices about your courses"
    stored = _refreshed(warning)
    ana_key = next(f"r{i}" for i, c in enumerate(stored.recipients) if c.address == GUARDIAN)
    entry = plain(stored.deliveries)[ana_key]
    assert (entry["status"], entry["error"]) == ("suppressed", "unsubscribed")
    assert "message_id" not in entry
    others = [_refreshed(n) for n in notices[1:]]
    for other in others:
        keys = [f"r{i}" for i, c in enumerate(other.recipients) if c.address.lower() == GUARDIAN]
        assert {plain(other.deliveries)[k]["status"] for k in keys} == {"sent"}
    # The family's choice is not escalated.
    assert OutboxModel.count(escalation_id(warning.notice_id, 1)) == 0
