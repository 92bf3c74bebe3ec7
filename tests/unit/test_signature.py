"""The Standard Webhooks known-answer vector, verified by OnPace's ``verify_signature`` (and by the
``standardwebhooks`` library it uses), with its negative cases.

The vector is the one the Standard Webhooks specification publishes; its timestamp is in 2021, so
the tests set the library's clock (the only clock the check reads) to the moment they need.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks.webhooks as webhooks_module
from onpace_core.ingest.signature import SignatureError, verify_signature
from onpace_local.webhook_client import signed_headers
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SENT_AT = datetime.fromtimestamp(TIMESTAMP, UTC)
TOLERANCE = timedelta(minutes=5)


def _headers(
    msg_id: str = MSG_ID, timestamp: int | str = TIMESTAMP, signature: str = SIGNATURE
) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the clock the library's timestamp check reads (``datetime.now`` in its module)."""

    def set_to(at: datetime) -> None:
        class _Clock(datetime):
            @classmethod
            def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
                return at

        monkeypatch.setattr(webhooks_module, "datetime", _Clock)

    set_to(SENT_AT)
    return set_to


def _other(signature: str, byte: int = 0) -> str:
    """A well-formed v1 signature that is not ``signature`` (one bit of the MAC's ``byte`` flipped)."""
    mac = bytearray(base64.b64decode(signature.split(",", 1)[1]))
    mac[byte] ^= 1
    return "v1," + base64.b64encode(bytes(mac)).decode()


# -- the known answer ---------------------------------------------------------------------------


def test_the_library_signs_the_vector() -> None:
    assert Webhook(SECRET).sign(MSG_ID, SENT_AT, BODY) == SIGNATURE


def test_onpaces_sender_signs_the_vector() -> None:
    headers = signed_headers(SECRET, BODY, MSG_ID, SENT_AT)
    assert headers["webhook-signature"] == SIGNATURE
    assert headers["webhook-timestamp"] == str(TIMESTAMP) and headers["webhook-id"] == MSG_ID


def test_the_vector_verifies(clock: Callable[[datetime], None]) -> None:
    verify_signature(SECRET, BODY, _headers())
    # The library on its own agrees.
    assert Webhook(SECRET).verify(BODY, _headers()) == {"test": 2432232314}


def test_header_names_are_case_insensitive(clock: Callable[[datetime], None]) -> None:
    verify_signature(SECRET, BODY, {k.title(): v for k, v in _headers().items()})


# -- what changes the answer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param('{"test": 2432232315}', _headers(), id="changed body"),
        pytest.param('{"test":2432232314}', _headers(), id="body re-serialized without the space"),
        pytest.param(BODY, _headers(msg_id="msg_p5jXN8AQM9LWM0D4loKWxJeK"), id="changed id"),
        pytest.param(BODY, _headers(timestamp=TIMESTAMP + 1), id="changed timestamp"),
        pytest.param(BODY, _headers(signature=_other(SIGNATURE)), id="other signature"),
    ],
)
def test_a_changed_message_is_refused(
    clock: Callable[[datetime], None], body: str, headers: dict[str, str]
) -> None:
    with pytest.raises(SignatureError, match="No matching signature"):
        verify_signature(SECRET, body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, headers)


def test_a_wrong_secret_is_refused(clock: Callable[[datetime], None]) -> None:
    wrong = "whsec_" + base64.b64encode(b"another district's secret key!!!").decode()
    with pytest.raises(SignatureError, match="No matching signature"):
        verify_signature(wrong, BODY, _headers())


# -- the timestamp tolerance (five minutes either way) ------------------------------------------


@pytest.mark.parametrize("offset", [TOLERANCE, -TOLERANCE, timedelta(0)])
def test_a_timestamp_at_the_tolerance_is_accepted(
    clock: Callable[[datetime], None], offset: timedelta
) -> None:
    clock(SENT_AT + offset)
    verify_signature(SECRET, BODY, _headers())


@pytest.mark.parametrize(
    ("offset", "problem"),
    [
        pytest.param(TOLERANCE + timedelta(seconds=1), "too old", id="older than the tolerance"),
        pytest.param(-TOLERANCE - timedelta(seconds=1), "too new", id="newer than the tolerance"),
    ],
)
def test_a_timestamp_beyond_the_tolerance_is_refused(
    clock: Callable[[datetime], None], offset: timedelta, problem: str
) -> None:
    # The receiving clock is ``offset`` after the signed timestamp: the signature itself is valid.
    clock(SENT_AT + offset)
    with pytest.raises(SignatureError, match=problem):
        verify_signature(SECRET, BODY, _headers())


@pytest.mark.parametrize("timestamp", ["", "yesterday", "nan", "1e400", "-1e400"])
def test_an_unreadable_timestamp_is_refused(clock: Callable[[datetime], None], timestamp: str) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, BODY, _headers(timestamp=timestamp))


# -- the headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(clock: Callable[[datetime], None], missing: str) -> None:
    headers = {k: v for k, v in _headers().items() if k != missing}
    with pytest.raises(SignatureError, match="Missing required headers"):
        verify_signature(SECRET, BODY, headers)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(f"{_other(SIGNATURE)} {SIGNATURE}", id="valid second"),
        pytest.param(f"{SIGNATURE} {_other(SIGNATURE)}", id="valid first"),
        pytest.param(f"v1a,{SIGNATURE[3:]} {SIGNATURE}", id="v1a ignored, v1 valid"),
    ],
)
def test_one_valid_signature_among_several_is_enough(
    clock: Callable[[datetime], None], signature: str
) -> None:
    """A sender rotating its secret signs with both; the header lists each, space-separated."""
    verify_signature(SECRET, BODY, _headers(signature=signature))


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(f"v1a,{SIGNATURE[3:]}", id="the right MAC under the v1a scheme"),
        pytest.param(f"v2,{SIGNATURE[3:]}", id="the right MAC under an unknown scheme"),
        pytest.param(f"{_other(SIGNATURE)} {_other(SIGNATURE, byte=31)}", id="several, none valid"),
    ],
)
def test_signatures_of_other_schemes_are_ignored(clock: Callable[[datetime], None], signature: str) -> None:
    # ``v1a`` is the scheme's asymmetric (ed25519) signature: OnPace's symmetric secrets verify only ``v1``.
    with pytest.raises(SignatureError, match="No matching signature"):
        verify_signature(SECRET, BODY, _headers(signature=signature))


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", id="no scheme"),
        pytest.param("v1,not base64!", id="not base64"),
        pytest.param("v1,a,b", id="two commas"),
    ],
)
def test_a_malformed_signature_header_is_refused(clock: Callable[[datetime], None], signature: str) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, BODY, _headers(signature=signature))


def test_the_vector_is_refused_on_todays_clock() -> None:
    """Without the test clock the 2021 timestamp is long past the tolerance: a replayed delivery."""
    with pytest.raises(SignatureError, match="too old"):
        verify_signature(SECRET, BODY, _headers())
