"""Header and markup injection through the email channel, end to end on moto server.

Roster names, course titles, program names and LMS-derived facts reach a notice's subject, its
display names, both bodies and its ``deadline.ics``. Each hostile value below goes through the
notify function and moto's SES; the messages read back must have exactly the headers, the one
recipient, the markup and the calendar entries of the same notice built from plain values — the
hostile text shows up as text, never as structure.
"""

from __future__ import annotations

import uuid
from collections import Counter
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
from icalendar import Calendar
from onpace_core.store.models import Contact, OutboxModel
from onpace_local.stack import LocalStack

from tests.integration.test_notify import _event_for, _insert, _notice, _sent
from tests.unit.letter_cases import DAY, GUARDIAN, household_notices

pytestmark = pytest.mark.integration

OPEN = "2026-10-16T12:10:00Z"  # 07:10 in Chicago: the default morning window is open

CRLF_HEADER = "Jamie\r\nBcc: thief@evil.example\r\nX-Injected: 1"
CRLF_BODY = "Biology\r\n\r\n<script>alert(1)</script>\r\nContent-Type: text/html"
MARKUP = '<img src="https://evil.example/pixel.gif" onerror="alert(1)"><a href="https://evil.example">click</a>'
ICS = "Algebra\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged\r\nSUMMARY:forged"
LONG = "Ω" + "x" * 5000  # non-ASCII and far beyond the 998-character line limit of RFC 5322

HOSTILE = {
    "crlf": {"student": CRLF_HEADER, "class": CRLF_BODY, "guardian": CRLF_HEADER, "program": CRLF_HEADER},
    "markup": {"student": MARKUP, "class": MARKUP, "guardian": MARKUP, "program": MARKUP},
    "icalendar": {"student": ICS, "class": ICS, "guardian": ICS, "program": ICS},
    "long": {"student": LONG, "class": LONG, "guardian": LONG, "program": LONG},
}


def _item(student: str, class_title: str, guardian: str, program: str) -> OutboxModel:
    return _notice(
        student_name=student,
        class_title=class_title,
        program_name=program,
        district_name=program,
        recipients=[
            Contact(role="student", address="jamie@students.school.example", name=student, language="en"),
            Contact(role="guardian", address="ana@family.example", name=guardian, language="es"),
        ],
        reply_to=Contact(
            role="counselor", address="dana.ruiz@school.example", name=guardian, title=class_title
        ),
    )


class _Tags(HTMLParser):
    """Every start tag and attribute name of an HTML document, counted."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.attributes: set[str] = set()
        self.hrefs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes.update(name for name, _ in attrs)
        self.hrefs.update(value or "" for name, value in attrs if name in ("href", "src"))


def _shape(message: EmailMessage) -> dict[str, Any]:
    """What must not depend on the values: headers, parts, markup, calendar structure."""
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    tags = _Tags()
    tags.feed(html.get_content())
    calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    events: list[list[str]] = []
    for part in calendars:
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        events.extend(
            sorted(str(name) for name in event) for event in Calendar.from_ical(payload).walk("VEVENT")
        )
    return {
        "headers": sorted(Counter(k.lower() for k in message).items()),
        "parts": [p.get_content_type() for p in message.walk()],
        "tags": tags.tags,
        "attributes": tags.attributes,
        "hrefs": tags.hrefs,
        "events": events,
    }


def _deliver(stack: LocalStack, item: OutboxModel) -> dict[str, EmailMessage]:
    _insert(item)
    assert stack.invoke("NotifyFunction", _event_for(stack, item)) == {"batchItemFailures": []}
    return {to: message for to, message, _ in _sent(stack, item.notice_id)}


@pytest.fixture(scope="module")
def plain(local_stack: LocalStack) -> dict[str, dict[str, Any]]:
    sent = _deliver(local_stack, _item("Jamie Rivera", "Biology Online", "Ana Rivera", "Test Online"))
    assert set(sent) == {"jamie@students.school.example", "ana@family.example"}
    return {to: _shape(message) for to, message in sent.items()}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_values_are_text_in_every_part_of_every_email(
    local_stack: LocalStack, plain: dict[str, dict[str, Any]], case: str
) -> None:
    values = HOSTILE[case]
    item = _item(values["student"], values["class"], values["guardian"], values["program"])
    sent = _deliver(local_stack, item)

    assert set(sent) == set(plain), "one message per recipient, to nobody else"
    for to, message in sent.items():
        raw = message.as_bytes()
        assert max(len(line) for line in raw.split(b"\r\n" if b"\r\n" in raw else b"\n")) <= 998, to
        assert message.defects == [] and all(not p.defects for p in message.walk()), to
        assert message["Bcc"] is None and message["X-Injected"] is None and message["Cc"] is None
        assert [a.addr_spec for a in message["To"].addresses] == [to]
        assert "\n" not in str(message["Subject"]).strip() and "\r" not in str(message["Subject"])
        assert _shape(message) == plain[to], f"{case}: {to} differs in structure from the plain notice"
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        if case == "markup":
            # Shown as text in the HTML (escaped), and not turned into a link or an image.
            assert "&lt;img" in html.get_content()
            assert "evil.example/pixel" not in str(_shape(message)["hrefs"])
            assert '<img src="https://evil.example' in text.get_content()
        if case == "long":
            assert "x" * 200 in text.get_content()


def test_a_name_cannot_forge_the_sender_or_reply_to(local_stack: LocalStack) -> None:
    forged = 'Principal" <principal@evil.example>, "x'
    item = _item("Jamie Rivera", "Biology Online", "Ana Rivera", forged)
    item.reply_to = Contact(role="counselor", address="dana.ruiz@school.example", name=forged)
    sent = _deliver(local_stack, item)

    assert sent
    for message in sent.values():
        (sender,) = message["From"].addresses
        assert sender.domain != "evil.example" and "principal@evil.example" not in sender.addr_spec
        reply = message["Reply-To"]
        if reply is not None:
            assert [a.addr_spec for a in reply.addresses] in (["dana.ruiz@school.example"], [])


# ---------------------------------------------------------------------------------------------
# The household digest: several notices' data in one email.


def _household_digest(stack: LocalStack, **values: str) -> EmailMessage:
    district = f"d-{uuid.uuid4().hex[:10]}"
    for notice in household_notices(district, **values):
        _insert(notice)
    result = stack.invoke("DispatchFunction", {"district_id": district, "day": DAY, "scheduled_time": OPEN})
    assert result["days"][0]["digests"] >= 1, result
    letters = [
        OutboxModel.get(i.notice_id, consistent_read=True)
        for i in OutboxModel.scan(OutboxModel.kind == "letter")
        if i.notice_id.startswith(f"letter#{district}#")
    ]
    (family,) = [
        letter for letter in letters if (letter.recipients[0].address or "").lower() == GUARDIAN
    ]
    assert stack.invoke("NotifyFunction", _event_for(stack, family)) == {"batchItemFailures": []}
    ((to, message, _),) = _sent(stack, family.notice_id)
    assert to == GUARDIAN
    return message


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_values_stay_text_in_a_household_digest(local_stack: LocalStack, case: str) -> None:
    plain = {"student_name": "Jamie Rivera", "class_title": "Biology", "program_name": "Online"}
    plain_shape = _shape(_household_digest(local_stack, **plain))
    values = HOSTILE[case]
    hostile = {
        "student_name": values["student"],
        "class_title": values["class"],
        "program_name": values["program"],
    }
    message = _household_digest(local_stack, **hostile)
    raw = message.as_bytes()
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    assert message.defects == [] and message["Bcc"] is None and message["X-Injected"] is None
    assert [a.addr_spec for a in message["To"].addresses] == [GUARDIAN]
    assert _shape(message) == plain_shape, f"{case}: the digest's structure changed"
