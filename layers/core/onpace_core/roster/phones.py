"""A roster person's mobile number and whether they chose text messages (docs/notices.md, "Text
messages").

OneRoster 1.1 ``users.csv`` has ``phone`` and ``sms`` (the number to text); some exports write a
yes/no in ``sms`` instead, and a district can say so explicitly in an extension column
(``metadata.onpace.sms`` = yes/no). Numbers are normalised to E.164 with ``phonenumbers`` (the
maintained port of Google's libphonenumber), in the program's region when the roster writes no
country code; a number it does not accept as valid is dropped rather than texted.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

_YES = frozenset({"yes", "y", "true", "1", "opt-in", "optin"})
_NO = frozenset({"no", "n", "false", "0", "opt-out", "optout"})


@dataclass(frozen=True)
class TextChoice:
    """The number to text (E.164) and the person's choice: True, False, or None (not said)."""

    phone: str | None
    chose: bool | None


def yes_no(value: str | None) -> bool | None:
    """``yes``/``no`` and their usual spellings as a bool; anything else is None."""
    word = (value or "").strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def e164(value: str | None, region: str = "US") -> str | None:
    """``value`` as an E.164 number (``+13125550123``), or None when it is no valid number."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def text_choice(phone: str | None, sms: str | None, choice: str | None, region: str = "US") -> TextChoice:
    """What a roster row says about texts: the explicit choice wins, else a number in ``sms``
    means yes (the family gave a number to text); the number is ``sms``'s, else ``phone``'s."""
    chose = yes_no(choice)
    in_sms = yes_no(sms)
    number = None
    if in_sms is None and sms and sms.strip():
        number = e164(sms, region)
        if chose is None and number is not None:
            chose = True
    elif chose is None:
        chose = in_sms
    return TextChoice(number or e164(phone, region), chose)
