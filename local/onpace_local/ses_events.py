"""SES's event JSON for the local stack: moto's SES never publishes events, so tests (and the
demo, later) build them here and publish them to the configuration set's topic over HTTP.

The shapes follow the SES Developer Guide's examples ("Examples of event data that Amazon SES
publishes to Amazon SNS"): ``eventType``, ``mail`` (with the message's ``tags`` as SES echoes
them: each name to a list of values, with SES's own ``ses:*`` tags) and the event's object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from onpace_local.stack import LocalStack

SENDER = "notices@onpace.example.org"


def tags_of(email_tags: Sequence[Mapping[str, str]], configuration_set: str) -> dict[str, list[str]]:
    """``mail.tags`` as SES writes them for a message sent with ``email_tags`` (SendEmail's
    ``EmailTags``) through ``configuration_set``."""
    tags: dict[str, list[str]] = {
        "ses:configuration-set": [configuration_set],
        "ses:source-ip": ["192.0.2.0"],
        "ses:from-domain": [SENDER.split("@")[1]],
        "ses:caller-identity": ["notify"],
    }
    for tag in email_tags:
        tags[tag["Name"]] = [tag["Value"]]
    return tags


def event(
    event_type: str,
    *,
    message_id: str,
    address: str,
    tags: Mapping[str, list[str]],
    timestamp: str = "2026-03-02T15:04:06.123Z",
    bounce_type: str = "Permanent",
    bounce_sub_type: str = "General",
) -> dict[str, Any]:
    """One SES event of ``event_type`` (Delivery, Bounce, Complaint, Reject, DeliveryDelay)."""
    body: dict[str, Any] = {
        "eventType": event_type,
        "mail": {
            "timestamp": "2026-03-02T15:04:05.000Z",
            "source": SENDER,
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/onpace.example.org",
            "sendingAccountId": "123456789012",
            "messageId": message_id,
            "destination": [address],
            "headersTruncated": False,
            "tags": dict(tags),
        },
    }
    if event_type == "Delivery":
        body["delivery"] = {
            "timestamp": timestamp,
            "processingTimeMillis": 546,
            "recipients": [address],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        }
    elif event_type == "Bounce":
        body["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": bounce_sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1" if bounce_type == "Permanent" else "4.4.7",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": timestamp,
            "feedbackId": "0100015e-ae2c-4a1b-bounce",
            "reportingMTA": "dsn; e226-55.smtp-out.us-east-1.amazonses.com",
        }
    elif event_type == "Complaint":
        body["complaint"] = {
            "feedbackId": "0100015e-complaint",
            "complaintSubType": None,
            "complainedRecipients": [{"emailAddress": address}],
            "timestamp": timestamp,
            "userAgent": "Mozilla/5.0",
            "complaintFeedbackType": "abuse",
            "arrivalDate": timestamp,
        }
    elif event_type == "Reject":
        body["reject"] = {"reason": "Bad content"}
    elif event_type == "DeliveryDelay":
        body["deliveryDelay"] = {
            "timestamp": timestamp,
            "delayType": "TransientCommunicationFailure",
            "expirationTime": "2026-03-03T15:04:06.123Z",
            "delayedRecipients": [
                {"emailAddress": address, "status": "4.4.1", "diagnosticCode": "smtp; 421 4.4.1 timed out"}
            ],
        }
    else:
        raise ValueError(f"unknown SES event type {event_type!r}")
    return body


def publish(stack: LocalStack, body: Mapping[str, Any], topic_id: str = "SesEventsTopic") -> str:
    """Publish ``body`` to the stack's SES events topic, as SES would (over HTTP)."""
    response = stack.client("sns").publish(TopicArn=stack.ref(topic_id), Message=json.dumps(body))
    return str(response["MessageId"])
