"""Raw MIME for SES: multipart/alternative, the notice header, 7-bit clean, room for an .ics file."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from onpace_core.delivery.mime import (
    NOTICE_HEADER,
    Attachment,
    InvalidAddressError,
    build_message,
    calendar_attachment,
    parse_address,
    to_bytes,
)

SENT_AT = datetime(2026, 3, 16, 12, 5, 0, tzinfo=UTC)


def _message(**overrides: object) -> EmailMessage:
    fields: dict[str, object] = {
        "sender": "notices@onpace.example.org",
        "to_address": "ana.rivera@example.com",
        "to_name": "Ana Rivera",
        "subject": "At-Risk: please take part in Biología before March 23, 2026",
        "text": "Dear Ana,\n\nNo active engagement since Monday, March 2, 2026. ¡Ánimo!\n",
        "html": "<p>Dear Ana,</p><p>No active engagement since Monday, March 2, 2026. ¡Ánimo!</p>",
        "notice_id": "d-1#cls-1#stu-1#csu.engagement.at_risk_14d#since-2026-03-02",
        "sent_at": SENT_AT,
    }
    fields.update(overrides)
    return build_message(**fields)  # type: ignore[arg-type]


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_multipart_alternative_with_both_bodies_round_trips() -> None:
    raw = to_bytes(_message())
    parsed = _parse(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text_part = parsed.get_body(("plain",))
    html_part = parsed.get_body(("html",))
    assert text_part is not None and html_part is not None
    assert "¡Ánimo!" in text_part.get_content()
    assert "<p>Dear Ana,</p>" in html_part.get_content()


def test_headers() -> None:
    parsed = _parse(to_bytes(_message()))
    assert parsed["From"] == "notices@onpace.example.org"
    assert parsed["To"] == "Ana Rivera <ana.rivera@example.com>"
    assert parsed["Subject"] == "At-Risk: please take part in Biología before March 23, 2026"
    assert parsed["Date"] == "Mon, 16 Mar 2026 12:05:00 +0000"
    assert parsed["Message-ID"].startswith("<") and parsed["Message-ID"].endswith("@onpace.example.org>")
    assert parsed[NOTICE_HEADER] == "d-1#cls-1#stu-1#csu.engagement.at_risk_14d#since-2026-03-02"


def test_wire_form_is_seven_bit_with_crlf_line_endings() -> None:
    raw = to_bytes(_message())
    assert all(byte < 128 for byte in raw)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    raw.decode("ascii")  # what moto (and SES) read


def test_display_names_with_specials_are_encoded_not_injected() -> None:
    parsed = _parse(to_bytes(_message(to_name='Rivera, "Ana" <x@evil.example>')))
    to = parsed["To"]
    assert to.addresses[0].addr_spec == "ana.rivera@example.com"
    assert to.addresses[0].display_name == 'Rivera, "Ana" <x@evil.example>'
    assert len(to.addresses) == 1


@pytest.mark.parametrize(
    "name",
    [
        'Principal of the district online program office " <principal@evil.example>, "x',
        '<img src="x" onerror="alert(1)">' * 3,
        "Ω" + "x" * 3000,
        "Jamie\r\nBcc: thief@evil.example",
    ],
)
def test_long_display_names_with_specials_stay_one_address_on_short_lines(name: str) -> None:
    """The email package's folding can drop a long display name's quotes; ours cannot."""
    message = _message(to_name=name, sender_name=name, reply_to="dana@school.example", reply_to_name=name)
    raw = to_bytes(message)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    parsed = _parse(raw)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ana.rivera@example.com"]
    assert [a.addr_spec for a in parsed["From"].addresses] == ["notices@onpace.example.org"]
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["dana@school.example"]
    assert parsed["Bcc"] is None and parsed.defects == []
    shown = parsed["To"].addresses[0].display_name.replace(" ", "")
    assert shown.startswith(" ".join(name.split())[:40].replace(" ", ""))


def test_subject_newlines_cannot_add_headers() -> None:
    parsed = _parse(to_bytes(_message(subject="Hello\r\nBcc: someone@evil.example")))
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hello Bcc: someone@evil.example"


def test_given_message_id_is_kept() -> None:
    parsed = _parse(to_bytes(_message(message_id="<fixed@onpace.example.org>")))
    assert parsed["Message-ID"] == "<fixed@onpace.example.org>"


def test_attachment_makes_a_mixed_message_with_the_alternative_first() -> None:
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    message = _message(
        attachments=[Attachment("appeal-deadline.ics", ics, "text/calendar", {"method": "PUBLISH"})]
    )
    parsed = _parse(to_bytes(message))
    assert parsed.get_content_type() == "multipart/mixed"
    first, second = parsed.iter_parts()
    assert first.get_content_type() == "multipart/alternative"
    assert second.get_content_type() == "text/calendar"
    assert second.get_filename() == "appeal-deadline.ics"
    assert second.get_param("method") == "PUBLISH"
    assert second.get_payload(decode=True) == ics
    assert parsed.get_body(("plain",)) is not None


def test_calendar_attachment_is_an_imip_request_that_keeps_utf8_text() -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Réunion – Algebra I\r\nEND:VCALENDAR\r\n".encode()
    raw = to_bytes(_message(attachments=[calendar_attachment("meeting-invitation.ics", ics, "request")]))
    raw.decode("ascii")  # still 7-bit on the wire
    part = list(_parse(raw).iter_parts())[1]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"  # RFC 6047: the part names the object's METHOD
    assert part.get_content_charset() == "utf-8"
    assert part.get_content_disposition() == "attachment"
    assert part.get_filename() == "meeting-invitation.ics"
    assert part.get_payload(decode=True) == ics
    assert "Réunion – Algebra I" in part.get_content()  # a mail client decodes it as UTF-8


@pytest.mark.parametrize(
    "address", ["", "   ", "nodomain", "user@", "a b@example.com", "x@y@z", "a@b.org\nBcc: x@y.org"]
)
def test_unusable_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddressError):
        parse_address(address)
    with pytest.raises(InvalidAddressError):
        _message(to_address=address)


def test_parse_address_keeps_name_and_spec() -> None:
    parsed = parse_address(" ana@example.com ", "Ana  Rivera")
    assert parsed.addr_spec == "ana@example.com"
    assert parsed.display_name == "Ana Rivera"


def test_a_long_notice_id_stays_greppable_on_one_line() -> None:
    notice_id = (
        "district-0123456789#class-0123456789#student-0123456789"
        "#msc.progress.step3_removal_notice#since-2026-01-20"
    )
    raw = to_bytes(_message(notice_id=notice_id))
    assert f"{NOTICE_HEADER}: {notice_id}\r\n".encode() in raw
    assert _parse(raw)[NOTICE_HEADER] == notice_id
