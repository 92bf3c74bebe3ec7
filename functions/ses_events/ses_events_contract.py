"""The SES event JSON SES publishes to SNS (event publishing, ``eventType``), as pydantic models.

Shapes from the SES Developer Guide, "Contents of event data that Amazon SES publishes to
Amazon SNS"; only what OnPace reads is declared, the rest is ignored. Timestamps stay strings
and are normalised to OnPace's fixed-width instants (``audit.log.iso_instant``).
"""

from __future__ import annotations

from datetime import datetime

from onpace_core.audit.log import iso_instant
from onpace_core.delivery.tracking import SesEvent
from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Mail(_Model):
    messageId: str
    timestamp: str
    tags: dict[str, list[str]] = Field(default_factory=dict)


class Recipient(_Model):
    emailAddress: str | None = None
    diagnosticCode: str | None = None


class Bounce(_Model):
    bounceType: str  # Permanent | Transient | Undetermined
    bounceSubType: str | None = None
    bouncedRecipients: list[Recipient] = Field(default_factory=list)
    timestamp: str | None = None


class Complaint(_Model):
    complainedRecipients: list[Recipient] = Field(default_factory=list)
    complaintFeedbackType: str | None = None
    timestamp: str | None = None


class Delivery(_Model):
    timestamp: str | None = None
    smtpResponse: str | None = None


class Reject(_Model):
    reason: str | None = None


class DeliveryDelay(_Model):
    delayType: str | None = None
    delayedRecipients: list[Recipient] = Field(default_factory=list)
    timestamp: str | None = None


class SesEventModel(_Model):
    """One SES event; ``eventType`` names which of the objects it carries."""

    eventType: str
    mail: Mail
    bounce: Bounce | None = None
    complaint: Complaint | None = None
    delivery: Delivery | None = None
    reject: Reject | None = None
    deliveryDelay: DeliveryDelay | None = None

    def to_event(self) -> SesEvent | None:
        """What OnPace records of it; ``None`` for an event type it does not track."""
        mail = self.mail
        fields: dict[str, str | None]
        if self.eventType == "Bounce" and self.bounce:
            b = self.bounce
            fields = {
                "status": "bounced",
                "bounce": "hard" if b.bounceType == "Permanent" else "soft",
                "detail": f"{b.bounceType}/{b.bounceSubType}" if b.bounceSubType else b.bounceType,
                "smtp": _diagnostic(b.bouncedRecipients),
                "at": b.timestamp,
            }
        elif self.eventType == "Complaint" and self.complaint:
            c = self.complaint
            fields = {"status": "complained", "detail": c.complaintFeedbackType, "at": c.timestamp}
        elif self.eventType == "Delivery" and self.delivery:
            d = self.delivery
            fields = {"status": "delivered", "smtp": d.smtpResponse, "at": d.timestamp}
        elif self.eventType == "Reject" and self.reject:
            fields = {"status": "rejected", "detail": self.reject.reason, "at": None}
        elif self.eventType == "DeliveryDelay" and self.deliveryDelay:
            dd = self.deliveryDelay
            fields = {
                "status": "delayed",
                "detail": dd.delayType,
                "smtp": _diagnostic(dd.delayedRecipients),
                "at": dd.timestamp,
            }
        else:
            return None
        return SesEvent(
            message_id=mail.messageId,
            status=str(fields["status"]),
            at=_instant(fields.get("at") or mail.timestamp),
            tags=mail.tags,
            bounce=fields.get("bounce"),
            detail=fields.get("detail"),
            smtp=fields.get("smtp"),
        )


def _diagnostic(recipients: list[Recipient]) -> str | None:
    return next((r.diagnosticCode for r in recipients if r.diagnosticCode), None)


def _instant(value: str) -> str:
    try:
        return iso_instant(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value
