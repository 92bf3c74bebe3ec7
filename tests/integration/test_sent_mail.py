"""The email as sent (issue 12, scope 8) over moto server: notify keeps every message exactly as
handed to SES in SentMailBucket, and the console returns it to an admin of the notice's district
only."""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError
from onpace_core.delivery import sent_mail
from onpace_core.delivery.evidence import plain
from onpace_core.delivery.sender import deliver
from onpace_core.settings import Settings
from onpace_local.stack import LocalStack

from tests.console_session import ConsoleSession
from tests.integration.test_notify import (
    TEMPLATES,
    _event_for,
    _insert,
    _notice,
    _raw_messages,
    _refreshed,
    _settings,
)
from tests.unit.test_console_handler import call

pytestmark = pytest.mark.integration


def _ses_raw(stack: LocalStack, notice_id: str) -> dict[str, bytes]:
    """What moto's SES received for the notice, by envelope recipient: the raw bytes."""
    found = {}
    for message in _raw_messages(stack):
        parsed = email.message_from_string(message["raw_data"], policy=email.policy.default)
        if parsed["X-OnPace-Notice"] == notice_id:
            found[message["destinations"][0]] = message["raw_data"].encode()
    return found


def _parsed(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _path(notice_id: str, r: str) -> str:
    return f"/console/api/notices/{quote(notice_id, safe='')}/emails/{r}"


def test_every_email_is_kept_as_sent_and_the_console_shows_it_to_its_district_only(
    local_stack: LocalStack, console_sign_in: Callable[..., ConsoleSession]
) -> None:
    item = _insert(_notice())
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, item)) == {"batchItemFailures": []}
    received = _ses_raw(local_stack, item.notice_id)
    assert len(received) == 3

    s3, bucket = local_stack.client("s3"), local_stack.ref("SentMailBucket")
    assert local_stack.function_env("NotifyFunction")["SENT_MAIL_BUCKET"] == bucket
    deliveries = plain(_refreshed(item).deliveries)
    digest = hashlib.sha256(item.notice_id.encode()).hexdigest()
    for index, contact in enumerate(item.recipients):
        key = deliveries[f"r{index}"]["mail"]
        # No student id in the key: the district, a hash of the notice id, the recipient.
        assert key == f"{item.district_id}/{digest}/r{index}.eml"
        assert "stu-1" not in key
        kept = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        ses_message, kept_message = _parsed(received[contact.address]), _parsed(kept)
        assert kept_message["Subject"] == ses_message["Subject"]
        assert kept_message["Message-ID"] == ses_message["Message-ID"]
        for kind in ("plain", "html"):
            ses_part, kept_part = ses_message.get_body((kind,)), kept_message.get_body((kind,))
            assert ses_part is not None and kept_part is not None
            assert kept_part.get_content() == ses_part.get_content()

    # The console: an admin of the district sees the guardian's email as SES received it.
    admin = console_sign_in(item.district_id)
    status, headers, body = call(admin, _path(item.notice_id, "1"))
    assert status == 200, body
    assert headers["cache-control"] == "no-store"
    guardian = _parsed(received["ana@family.example"])
    assert body["recipient"] == "r1" and body["status"] == "sent"
    assert body["subject"] == str(guardian["Subject"]).strip()
    assert body["to"] == "Ana Rivera <ana@family.example>"
    assert body["from"] == str(guardian["From"])
    assert body["date"] == str(guardian["Date"])
    text, html = guardian.get_body(("plain",)), guardian.get_body(("html",))
    assert text is not None and html is not None
    assert body["text"] == text.get_content() and body["html"] == html.get_content()
    assert body["attachments"] == [{"filename": "deadline.ics", "content_type": "text/calendar"}]
    # "r1" names the same recipient.
    assert call(admin, _path(item.notice_id, "r1"))[2] == body

    # Another district's admin: the notice does not exist for them.
    status, _, body = call(console_sign_in("d-someone-else"), _path(item.notice_id, "1"))
    assert status == 404 and "@" not in str(body)
    # A recipient the notice does not have, a notice that does not exist, a malformed index.
    assert call(admin, _path(item.notice_id, "7"))[0] == 404
    assert call(admin, _path(item.notice_id + "x", "0"))[0] == 404
    assert call(admin, _path(item.notice_id, "first"))[0] == 400
    assert call(console_sign_in(""), _path(item.notice_id, "0"))[0] == 403  # no district in the token


def test_fetch_refuses_another_districts_key(local_stack: LocalStack) -> None:
    store = sent_mail.S3MailStore(local_stack.ref("SentMailBucket"), local_stack.region)
    key = sent_mail.mail_key("d-other", "d-other#cls#stu#rule#ep", "r0")
    store.put(key, b"Subject: x\r\n\r\nbody")
    assert sent_mail.fetch(store, "d-other", key) == b"Subject: x\r\n\r\nbody"
    with pytest.raises(sent_mail.ForeignMailError):
        sent_mail.fetch(store, "d-mine", key)
    # A district whose id is the other's prefix is not let in either.
    with pytest.raises(sent_mail.ForeignMailError):
        sent_mail.fetch(store, "d-oth", key)
    assert sent_mail.fetch(store, "d-other", "d-other/nothing/r0.eml") is None


def test_a_message_that_cannot_be_kept_is_not_sent_and_the_retry_sends_it(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept before the SES call: when S3 refuses, SES is not called and the mark is given back."""
    item = _insert(_notice(recipients=_notice().recipients[:1]))
    settings = _settings(local_stack)
    ses = local_stack.client("sesv2")
    real_put = sent_mail.S3MailStore.put

    def refused(self: Any, key: str, body: bytes) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "slow down"}}, "PutObject")

    monkeypatch.setattr(sent_mail.S3MailStore, "put", refused)
    with pytest.raises(ClientError):
        deliver(item.notice_id, ses, settings, TEMPLATES)
    assert _ses_raw(local_stack, item.notice_id) == {}
    assert plain(_refreshed(item).deliveries) == {}  # the mark was given back

    monkeypatch.setattr(sent_mail.S3MailStore, "put", real_put)
    result = deliver(item.notice_id, ses, settings, TEMPLATES)
    assert result.status == "sent"
    (raw,) = _ses_raw(local_stack, item.notice_id).values()
    key = plain(_refreshed(item).deliveries)["r0"]["mail"]
    kept = local_stack.client("s3").get_object(Bucket=settings.sent_mail_bucket, Key=key)["Body"].read()
    assert _parsed(kept)["Message-ID"] == _parsed(raw)["Message-ID"]


def test_without_a_bucket_nothing_is_kept(local_stack: LocalStack) -> None:
    """A sender without SENT_MAIL_BUCKET (a unit test's settings) sends as before."""
    item = _insert(_notice(recipients=_notice().recipients[:1]))
    env = local_stack.function_env("NotifyFunction")
    settings = Settings.from_env({**env, "AWS_REGION": local_stack.region, "SENT_MAIL_BUCKET": ""})
    assert deliver(item.notice_id, local_stack.client("sesv2"), settings, TEMPLATES).status == "sent"
    assert "mail" not in plain(_refreshed(item).deliveries)["r0"]
