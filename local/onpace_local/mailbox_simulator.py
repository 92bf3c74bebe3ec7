"""SES's mailbox simulator, locally: mail to ``bounce@simulator.amazonses.com`` bounces.

Real SES answers mail to its simulator addresses with the event each one stands for (SES
Developer Guide, "Using the mailbox simulator"): ``success@`` is delivered, ``bounce@`` hard
bounces, ``complaint@`` draws a complaint, ``suppressionlist@`` bounces as if on the account's
suppression list, ``ooto@`` is delivered with an out-of-office reply. moto's SES accepts such mail
and does nothing more, so the demo (and tests) call :meth:`MailboxSimulator.answer` after notify
has run: it publishes, for every new message to a simulator address, the event SES would
publish to the configuration set's topic, tagged as SES echoes the message's tags, and the
ses-events function takes it from there (tracking, suppression, escalation).
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from onpace_core.delivery.mime import NOTICE_HEADER
from onpace_core.delivery.tracking import message_tags
from onpace_core.store.models import OutboxModel

from onpace_local.ses_events import event, publish, tags_of
from onpace_local.stack import LocalStack

SIMULATOR_DOMAIN = "simulator.amazonses.com"
#: Local part -> (event type, bounce type, bounce subtype) SES publishes for it.
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "success": ("Delivery", "", ""),
    "ooto": ("Delivery", "", ""),
    "bounce": ("Bounce", "Permanent", "General"),
    "suppressionlist": ("Bounce", "Permanent", "OnAccountSuppressionList"),
    "complaint": ("Complaint", "", ""),
}


def simulated(address: str) -> tuple[str, str, str] | None:
    """What SES does with mail to ``address`` if it is a simulator address (``bounce+x@`` too)."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != SIMULATOR_DOMAIN:
        return None
    return OUTCOMES.get(local.split("+", 1)[0])


def _recipient_key(notice_id: str, message_id: str) -> str | None:
    """The notice's recipient (``r{i}``) the message was sent to, from its delivery entries."""
    try:
        notice = OutboxModel.get(notice_id, consistent_read=True)
    except OutboxModel.DoesNotExist:
        return None
    deliveries: dict[str, Any] = notice.deliveries.as_dict() if notice.deliveries else {}
    return next((k for k, d in deliveries.items() if d.get("message_id") == message_id), None)


@dataclass
class MailboxSimulator:
    """Answers, once each, the messages moto's SES took to simulator addresses."""

    stack: LocalStack
    configuration_set: str = "onpace"
    seen: int = 0
    published: Counter[str] = field(default_factory=Counter)

    @classmethod
    def for_stack(cls, stack: LocalStack) -> MailboxSimulator:
        simulator = cls(stack, stack.ref("NoticesConfigurationSet"))
        simulator.seen = len(stack.sent_emails())  # earlier mail was sent before it listened
        return simulator

    def answer(self) -> Counter[str]:
        """Publish SES's event for each new message to a simulator address; returns what was
        published this time, by event type (and bounce subtype)."""
        messages = self.stack.sent_emails()
        new, self.seen = messages[self.seen :], len(messages)
        now: Counter[str] = Counter()
        for message in new:
            parsed = email.message_from_string(message["raw_data"], policy=email.policy.default)
            notice_id = parsed.get(NOTICE_HEADER)
            # moto adds the To header's addresses (with their names) to the destinations.
            addresses = {a.lower() for _, a in getaddresses(message["destinations"]) if a}
            for address in sorted(addresses):
                outcome = simulated(address)
                if outcome is None or notice_id is None:
                    continue
                key = _recipient_key(str(notice_id), message["id"])
                if key is None:
                    continue
                event_type, bounce_type, subtype = outcome
                bounce = {"bounce_type": bounce_type, "bounce_sub_type": subtype} if bounce_type else {}
                body = event(
                    event_type,
                    message_id=message["id"],
                    address=address,
                    tags=tags_of(message_tags(str(notice_id), key), self.configuration_set),
                    **bounce,
                )
                publish(self.stack, body)
                label = event_type if not bounce_type else f"{event_type} ({subtype})"
                now[label] += 1
        self.published.update(now)
        return now
