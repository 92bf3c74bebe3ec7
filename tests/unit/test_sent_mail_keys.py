"""delivery/sent_mail.py without AWS: keys, the district guard, and what the console shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from onpace_core.delivery import sent_mail
from onpace_core.delivery.mime import Attachment, build_message, to_bytes
from onpace_core.store.models import OutboxModel

NOTICE_ID = "d-1#cls-9#stu-42#cps.participation.warning#since-2026-09-01"


def _raw(html: str = "<p>Hello <b>Ana</b></p>") -> bytes:
    message = build_message(
        sender="notices@onpace.example.org",
        sender_name="Test Online",
        to_address="ana@family.example",
        to_name="Ana Rivera",
        subject="Participation warning: Biology Online",
        text="Hello Ana,\nplease submit by Tuesday.\n",
        html=html,
        notice_id=NOTICE_ID,
        sent_at=datetime(2026, 9, 16, 13, 5, tzinfo=UTC),
        attachments=(Attachment("deadline.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),),
        reply_to="dana@school.example",
        reply_to_name="Dana Ruiz",
    )
    return to_bytes(message)


def test_key_names_the_district_and_a_hash_of_the_notice_never_the_student() -> None:
    key = sent_mail.mail_key("d-1", NOTICE_ID, "r2")
    district, digest, name = key.split("/")
    assert (district, name) == ("d-1", "r2.eml")
    assert len(digest) == 64 and "stu-42" not in key
    assert sent_mail.mail_key("d-1", NOTICE_ID + "x", "r2") != key
    # A district id with a slash cannot reach into another prefix.
    assert sent_mail.mail_key("d/1", NOTICE_ID, "r0").startswith("d%2F1/")


def test_keep_stores_the_bytes_and_returns_the_delivery_field() -> None:
    store = sent_mail.MemoryMailStore()
    notice = OutboxModel(notice_id=NOTICE_ID, district_id="d-1")
    raw = _raw()
    kept = sent_mail.keep(store, notice, "r0", raw)
    assert kept == {"mail": sent_mail.mail_key("d-1", NOTICE_ID, "r0")}
    assert store.objects[kept["mail"]] == raw
    # A retry of the same recipient overwrites it with what it sends.
    again = _raw("<p>Hello again</p>")
    assert sent_mail.keep(store, notice, "r0", again) == kept and store.objects[kept["mail"]] == again
    assert sent_mail.keep(None, notice, "r0", raw) == {}


def test_fetch_refuses_keys_outside_the_callers_district() -> None:
    store = sent_mail.MemoryMailStore()
    key = sent_mail.mail_key("d-1", NOTICE_ID, "r0")
    store.put(key, b"x")
    assert sent_mail.fetch(store, "d-1", key) == b"x"
    for other in ("d-2", "d-", "d"):
        with pytest.raises(sent_mail.ForeignMailError):
            sent_mail.fetch(store, other, key)
    assert sent_mail.fetch(store, "d-1", "d-1/none/r0.eml") is None


def test_message_view_is_what_the_family_saw() -> None:
    view = sent_mail.message_view(_raw('<p onclick="x()">Hello</p><script>alert(1)</script>'))
    assert view["subject"] == "Participation warning: Biology Online"
    assert view["from"] == "Test Online <notices@onpace.example.org>"
    assert view["to"] == "Ana Rivera <ana@family.example>"
    assert view["reply_to"] == "Dana Ruiz <dana@school.example>"
    assert view["date"] == "Wed, 16 Sep 2026 13:05:00 +0000"
    assert view["text"].replace("\r\n", "\n") == "Hello Ana,\nplease submit by Tuesday.\n"
    # The HTML is data, as sent (not sanitised): the console shows it in a sandboxed iframe.
    assert "<script>alert(1)</script>" in view["html"]
    assert view["attachments"] == [{"filename": "deadline.ics", "content_type": "text/calendar"}]
