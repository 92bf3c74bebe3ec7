"""The local mailbox simulator: mail to SES's simulator addresses gets the event real SES would
publish, through SNS to the real ses-events function, which suppresses and escalates."""

from __future__ import annotations

import pytest
from onpace_core.delivery import suppression
from onpace_core.delivery.escalation import escalation_id
from onpace_core.store.models import Contact, OutboxModel
from onpace_local.mailbox_simulator import MailboxSimulator, simulated
from onpace_local.sns import SnsPump
from onpace_local.stack import LocalStack

from tests.integration.test_escalation import ANA, STUDENT, _family
from tests.integration.test_notify import _event_for, _insert, _refreshed, _sent

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs="transactions")]

BOUNCE = Contact(role="guardian", address="bounce@simulator.amazonses.com", name="Ana Rivera", language="es")


def test_simulator_addresses_and_their_outcomes() -> None:
    assert simulated("bounce@simulator.amazonses.com") == ("Bounce", "Permanent", "General")
    assert simulated("Bounce+ana@Simulator.AmazonSES.com") == ("Bounce", "Permanent", "General")
    assert simulated("complaint@simulator.amazonses.com") == ("Complaint", "", "")
    assert simulated("success@simulator.amazonses.com") == ("Delivery", "", "")
    assert simulated("bounce@family.example") is None
    assert simulated("nobody@simulator.amazonses.com") is None


def test_a_bounce_from_the_simulator_suppresses_the_address_and_escalates(local_stack: LocalStack) -> None:
    simulator = MailboxSimulator.for_stack(local_stack)
    item = _insert(_family([STUDENT, BOUNCE]))
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}
    assert {to for to, _, _ in _sent(local_stack, item.notice_id)} == {STUDENT.address, BOUNCE.address}

    assert simulator.answer() == {"Bounce (General)": 1}
    assert simulator.answer() == {}  # each message is answered once
    pump = SnsPump.for_function(local_stack, "SesEventsFunction")
    assert pump.pump() == 1 and pump.failed == 0

    tracking = _refreshed(item).deliveries.as_dict()["r1"]["tracking"]
    assert tracking["status"] == "bounced"
    listed = suppression.suppressed(item.district_id, [BOUNCE.address])
    assert suppression.address_hash(BOUNCE.address) in listed
    escalated = OutboxModel.get(escalation_id(item.notice_id, 1), consistent_read=True)
    # The roster guardian not yet tried (the bounced address is not one of the roster's).
    assert [c.address for c in escalated.recipients] == [ANA.address]
    assert escalated.escalation.as_dict()["reason"] == "bounced"
