"""Compact stored forms of the enrollment item's attributes (docs/scale.md, "Item sizes").

Ingest rewrites the enrollment item with every activity event, and DynamoDB bills an UpdateItem
by the size of the whole item (attribute names and values): one write unit up to 1 KB. So the
item keeps its instants as 9 base-64 characters (microseconds since 1970) instead of 27-character
ISO strings, its contacts as one short string each instead of maps with long field names, and
activity kinds by a one-letter code. Python code sees the usual values: the attributes below
turn them back on read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import Attribute
from pynamodb.constants import LIST, MAP, STRING

if TYPE_CHECKING:
    from onpace_core.store.models import Contact

INSTANT_CHARS = 9  # 64**9 microseconds: far past any date an event can carry
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_VALUE = {c: i for i, c in enumerate(_DIGITS)}
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"

# One letter per activity kind (``onpace_rules.facts.ACTIVITY_KINDS``, not imported here: the
# models load at cold start, the rules only when used): the keys of ``recent``, and the stored
# names of ``last_{kind}_at`` after an "l".
KIND_CODES: dict[str, str] = {
    "login": "l",
    "view": "v",
    "submission": "s",
    "discussion_post": "p",
    "discussion_reply": "r",
    "mastery_exercise": "m",
    "forum_question": "q",
    "instructor_message": "i",
    "progress": "g",
}
KINDS_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}


def pack_instant(instant: str) -> str:
    """A fixed-width UTC ISO instant (``facts.fold.utc_instant``) as 9 characters."""
    moment = datetime.strptime(instant, _ISO).replace(tzinfo=UTC)
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    out = ""
    while micros:
        micros, digit = divmod(micros, 64)
        out = _DIGITS[digit] + out
    return out.rjust(INSTANT_CHARS, "0")


def unpack_instant(text: str) -> str:
    """The ISO instant of ``pack_instant``'s 9 characters (an ISO instant is given back as is)."""
    if len(text) != INSTANT_CHARS:
        return text
    micros = 0
    for c in text:
        micros = micros * 64 + _VALUE[c]
    return (_EPOCH + timedelta(microseconds=micros)).strftime(_ISO)


class InstantAttribute(Attribute[str]):
    """An ISO instant stored packed (``pack_instant``). Never compared in a condition expression:
    the packed form does not sort as the instant does."""

    attr_type = STRING

    def serialize(self, value: str) -> str:
        try:
            return pack_instant(value)
        except ValueError:  # not the fixed-width form: kept as given (read back as it is)
            return value

    def deserialize(self, value: str) -> str:
        return unpack_instant(value)


# Contacts: role code, then address, name, language, source id, title, phone, text choice
# (``y``/``n``), separated by the ASCII
# unit separator (not found in addresses or names; removed from a field if it ever were).
_SEP = "\x1f"
_ROLE_CODES = {
    "student": "s",
    "guardian": "g",
    "instructor": "i",
    "counselor": "c",
    "advisor": "a",
    "admin": "d",
}
_ROLES_BY_CODE = {code: role for role, code in _ROLE_CODES.items()}
_FIELDS = ("address", "name", "language", "source_id", "title", "phone", "sms")


def pack_contact(contact: Contact) -> str:
    """One contact as one string; empty fields at the end are left out."""
    role = str(contact.role)
    fields = [_ROLE_CODES.get(role, role)]
    fields += [(getattr(contact, f) or "").replace(_SEP, "") for f in _FIELDS]
    return _SEP.join(fields).rstrip(_SEP)


def unpack_contact(text: str) -> Contact:
    from onpace_core.store.models import Contact

    role, *values = text.split(_SEP)
    fields: dict[str, Any] = {f: (v or None) for f, v in zip(_FIELDS, values, strict=False)}
    fields["address"] = fields.get("address") or ""
    return Contact(role=_ROLES_BY_CODE.get(role, role), **fields)


class ContactsAttribute(Attribute[list["Contact"]]):
    """The enrollment's roster contacts, a list of ``pack_contact`` strings (read as ``Contact``
    maps: a list of maps, the form before, is read too)."""

    attr_type = LIST

    def serialize(self, value: Iterable[Contact]) -> list[dict[str, str]]:
        return [{STRING: pack_contact(c)} for c in value]

    def deserialize(self, value: list[dict[str, Any]]) -> list[Contact]:
        from onpace_core.store.models import Contact

        found: list[Contact] = []
        for element in value:
            if MAP in element:
                found.append(Contact._instantiate(element[MAP]))
            else:
                found.append(unpack_contact(element[STRING]))
        return found


def stored_names(attributes: Mapping[str, Attribute[Any]], names: Iterable[str]) -> list[str]:
    """The stored (DynamoDB) names of a model's attributes by their Python names, for a projection
    (pynamodb's ``attributes_to_get`` takes stored names)."""
    return [attributes[name].attr_name for name in names]
