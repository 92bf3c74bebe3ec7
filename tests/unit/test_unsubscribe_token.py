"""The one-click unsubscribe token and headers (``delivery/unsubscribe.py``)."""

from __future__ import annotations

import pytest
from onpace_core.delivery import unsubscribe
from onpace_core.delivery.suppression import address_hash
from onpace_core.settings import Settings

KEY = b"district-key"
RULE = "cps.participation.warning"


def _keys(district: str) -> bytes | None:
    return KEY if district == "d1" else None


def test_a_token_names_the_district_rule_and_address_hash_and_verifies() -> None:
    token = unsubscribe.sign(KEY, "d1", RULE, "Ana@Family.example")
    assert "Ana" not in token and "family" not in token
    claims = unsubscribe.verify(token, _keys)
    assert claims == unsubscribe.Claims("d1", RULE, address_hash("ana@family.example"))
    assert unsubscribe.sign(KEY, "d1", RULE, "ana@family.example") == token  # no expiry, no nonce


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature changed
        lambda t: unsubscribe.sign(b"other key", "d1", RULE, "ana@family.example"),  # another key
        lambda t: (
            unsubscribe.sign(KEY, "d1", RULE, "luis@family.example").split(".")[0] + "." + t.split(".")[1]
        ),  # another address under this MAC
        lambda t: unsubscribe.sign(KEY, "d2", RULE, "ana@family.example"),  # a district without a key
        lambda t: "x" * 700,
        lambda t: "no-dot",
        lambda t: "%%%.abc",
        lambda t: "",
    ],
)
def test_a_forged_or_altered_token_is_refused(tamper: object) -> None:
    token = unsubscribe.sign(KEY, "d1", RULE, "ana@family.example")
    with pytest.raises(unsubscribe.InvalidToken):
        unsubscribe.verify(tamper(token), _keys)  # type: ignore[operator]


def test_a_required_rule_cannot_be_turned_off_even_with_a_valid_signature() -> None:
    token = unsubscribe.sign(KEY, "d1", "cps.participation.drop_20d", "ana@family.example")
    with pytest.raises(unsubscribe.InvalidToken, match="cannot be turned off"):
        unsubscribe.verify(token, _keys)


def test_headers_only_for_courtesy_notices_to_the_family_with_a_url_and_a_key() -> None:
    settings = Settings(unsubscribe_url="https://api.example/unsubscribe")
    found = unsubscribe.headers(settings, _keys, "d1", RULE, "guardian", "ana@family.example")
    assert found["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert found["List-Unsubscribe"].startswith("<https://api.example/unsubscribe?t=")
    assert (
        unsubscribe.headers(settings, _keys, "d1", "cps.pacing.ipr_warning_2w", "guardian", "a@b.example")
        == {}
    )
    assert unsubscribe.headers(settings, _keys, "d1", RULE, "counselor", "a@b.example") == {}
    assert unsubscribe.headers(settings, _keys, "d2", RULE, "student", "a@b.example") == {}  # no key
    assert unsubscribe.headers(Settings(), _keys, "d1", RULE, "student", "a@b.example") == {}  # no URL
