"""The SES event JSON (as ``onpace_local.ses_events`` builds it from the SES guide's examples)
→ what delivery tracking records; and the message tags that carry the notice."""

from __future__ import annotations

import json

import pytest
from onpace_core.delivery.tracking import RANKS, SesEvent, message_tags
from onpace_local import ses_events
from ses_events_contract import SesEventModel

NOTICE = "d-1#cls 1#stu-1#cps.pacing.ipr_warning_2w#ipr-2026-10-09"


def _event(event_type: str, **kwargs: object) -> SesEvent | None:
    tags = ses_events.tags_of(message_tags(NOTICE, "r2"), "onpace-set")
    body = ses_events.event(event_type, message_id="m-1", address="a@family.example", tags=tags, **kwargs)  # type: ignore[arg-type]
    return SesEventModel.model_validate_json(json.dumps(body)).to_event()


@pytest.mark.parametrize(
    ("event_type", "kwargs", "status", "bounce", "suppresses"),
    [
        ("Delivery", {}, "delivered", None, False),
        ("Bounce", {"bounce_type": "Permanent"}, "bounced", "hard", True),
        ("Bounce", {"bounce_type": "Transient", "bounce_sub_type": "MailboxFull"}, "bounced", "soft", False),
        (
            "Bounce",
            {"bounce_type": "Undetermined", "bounce_sub_type": "Undetermined"},
            "bounced",
            "soft",
            False,
        ),
        ("Complaint", {}, "complained", None, True),
        ("Reject", {}, "rejected", None, False),
        ("DeliveryDelay", {}, "delayed", None, False),
    ],
)
def test_each_event_type(
    event_type: str, kwargs: dict[str, object], status: str, bounce: str | None, suppresses: bool
) -> None:
    event = _event(event_type, **kwargs)
    assert event is not None
    assert (event.status, event.bounce, event.suppresses) == (status, bounce, suppresses)
    assert event.message_id == "m-1"
    assert event.target() == (NOTICE, "r2")  # the notice id survives the tag's alphabet
    assert len(event.at) == len("2026-03-02T15:04:06.123000Z") and event.at.endswith("Z")
    assert event.rank_key in RANKS


def test_tag_values_use_only_what_ses_allows() -> None:
    for tag in message_tags(NOTICE, "r0"):
        assert all(c.isalnum() or c in "_-" for c in tag["Value"]), tag


def test_untracked_types_and_foreign_tags() -> None:
    send = {
        "eventType": "Send",
        "mail": {"messageId": "m", "timestamp": "2026-03-02T15:04:05.000Z"},
        "send": {},
    }
    assert SesEventModel.model_validate(send).to_event() is None
    event = SesEvent(
        message_id="m",
        status="delivered",
        at="x",
        tags={"onpace-notice": ["%%%"], "onpace-recipient": ["r0"]},
    )
    assert event.target() is None
    assert SesEvent(message_id="m", status="delivered", at="x", tags={}).target() is None
    assert (
        SesEvent(
            message_id="m",
            status="delivered",
            at="x",
            tags={"onpace-notice": ["ZA"], "onpace-recipient": ["x1"]},
        ).target()
        is None
    )
    # Precedence: the most serious outcome ranks highest.
    assert (
        RANKS["delayed"]
        < RANKS["delivered"]
        < RANKS["bounced-soft"]
        < RANKS["rejected"]
        < RANKS["bounced-hard"]
        < RANKS["complained"]
    )


def test_a_notice_id_too_long_for_a_tag_sends_without_tags() -> None:
    assert message_tags("x" * 191, "r0") != []
    assert message_tags("x" * 200, "r0") == []
