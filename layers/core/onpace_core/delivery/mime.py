"""Raw MIME messages for SES: one ``multipart/alternative`` (text + HTML) per recipient.

SES v2 is given the raw bytes (``Content={"Raw": ...}``) rather than a ``Simple`` message: raw
MIME keeps both parts under every backend (moto keeps only the HTML part of a ``Simple``
message) and can carry attachments, such as the meeting invitation ``.ics`` of the Chicago
meeting plan (:func:`calendar_attachment`). With attachments the message becomes
``multipart/mixed``: the alternative part first, then the files.

Bodies are encoded 7-bit safe (quoted-printable or base64 for non-ASCII text), headers per
RFC 2047, and lines end in CRLF.
"""

from __future__ import annotations

import email.errors
import email.policy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

NOTICE_HEADER = "X-OnPace-Notice"

# SMTP line endings, and no 8-bit bodies: SES wants a 7-bit clean raw message. Headers we store
# raw (the notice id, a long token without spaces) are written as given rather than re-encoded.
POLICY = email.policy.SMTP.clone(cte_type="7bit", refold_source="none")
_RAW_HEADER_MAX = 900  # well inside SMTP's 998-character line limit
# Display names come from rosters and program settings. One longer than this is cut (no mail
# client shows more), and one with anything but letters, digits, spaces, hyphens and apostrophes
# is written as RFC 2047 encoded words, which cannot carry structure.
DISPLAY_NAME_MAX = 100
_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9' -]*")


class InvalidAddressError(ValueError):
    """An address that cannot be written into a message header (no domain, stray characters…)."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with the notice.

    For example ``Attachment("appeal.ics", data, "text/calendar", {"method": "PUBLISH"})``.
    """

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    params: Mapping[str, str] = field(default_factory=dict)


def calendar_attachment(filename: str, ical: bytes, method: str) -> Attachment:
    """An iCalendar object (UTF-8, RFC 5545) as iMIP puts it in mail (RFC 6047 section 2.4).

    ``text/calendar`` must name the object's METHOD (``REQUEST`` for an invitation) so mail
    clients offer to add it to the calendar, and the charset, because summaries and names may
    not be ASCII.
    """
    return Attachment(filename, ical, "text/calendar", {"method": method.upper(), "charset": "utf-8"})


def parse_address(address: str, display_name: str | None = None) -> Address:
    """``address`` as a header address, or :class:`InvalidAddressError` when it is not one."""
    spec = (address or "").strip()
    if "@" not in spec:
        raise InvalidAddressError("address has no domain")
    try:
        parsed = Address(display_name=" ".join((display_name or "").split()), addr_spec=spec)
    # What the stdlib parser raises for malformed specs varies with the defect.
    except (email.errors.HeaderParseError, ValueError, IndexError, TypeError) as error:
        raise InvalidAddressError(f"malformed address: {type(error).__name__}") from None
    if not parsed.username or not parsed.domain:
        raise InvalidAddressError("address has no local part or no domain")
    return parsed


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1] if "@" in address else "localhost"


def build_message(
    *,
    sender: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    notice_id: str,
    sent_at: datetime,
    to_name: str | None = None,
    sender_name: str | None = None,
    attachments: Sequence[Attachment] = (),
    message_id: str | None = None,
    reply_to: str | None = None,
    reply_to_name: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A complete message: From/To/Subject/Date/Message-ID, the notice id header, both bodies,
    ``Reply-To`` when a person other than the sender should get the answers, and ``headers``
    (RFC 8058's ``List-Unsubscribe`` pair on a courtesy notice).

    ``sent_at`` must be timezone-aware (it becomes the ``Date`` header). Raises
    :class:`InvalidAddressError` when ``to_address``, ``sender`` or ``reply_to`` is not a usable
    address.
    """
    from_address = parse_address(sender, sender_name)
    to = parse_address(to_address, to_name)
    message = EmailMessage(policy=POLICY)
    message.set_raw("From", address_field("From", from_address))
    message.set_raw("To", address_field("To", to))
    if reply_to:
        message.set_raw("Reply-To", address_field("Reply-To", parse_address(reply_to, reply_to_name)))
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id or make_msgid(domain=_domain(from_address.addr_spec))
    _set_token_header(message, NOTICE_HEADER, notice_id)
    for name, value in (headers or {}).items():
        _set_token_header(message, name, value)  # List-Unsubscribe: a long URL, kept unfolded
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
            params=dict(attachment.params),
        )
    return message


def address_field(header: str, address: Address) -> str:
    """The value of an address header, folded and safe whatever the display name holds.

    Not ``message[header] = address``: when the email package folds a long header it can drop the
    quotes of a display name with specials (``<``, ``>``, ``"``, ``,``), and the name then reads as
    more addresses — moto's SES refuses such a message, other readers may deliver it elsewhere. So
    a name that is not a plain phrase goes out as encoded words, and the address on its own line.
    """
    name = " ".join(address.display_name.split())
    if len(name) > DISPLAY_NAME_MAX:
        name = name[: DISPLAY_NAME_MAX - 1] + "\N{HORIZONTAL ELLIPSIS}"
    spec = f"<{address.addr_spec}>"
    if not name:
        return address.addr_spec
    if _PLAIN_PHRASE.fullmatch(name) and len(header) + len(name) + len(spec) < 76:
        return f"{name} {spec}"
    words = Header(name, "utf-8", header_name=header).encode(linesep="\r\n")
    return f"{words}\r\n {spec}"


def _set_token_header(message: EmailMessage, name: str, value: str) -> None:
    """A printable ASCII token is stored unfolded (an id longer than 78 characters would otherwise
    be rewritten as RFC 2047 encoded words, which nobody can grep for); anything else is encoded."""
    if (
        value.isascii()
        and value.isprintable()
        and " " not in value
        and len(name) + len(value) < _RAW_HEADER_MAX
    ):
        message.set_raw(name, value)
    else:
        message[name] = value


def to_bytes(message: EmailMessage) -> bytes:
    """The wire form SES expects in ``Content.Raw.Data``."""
    return message.as_bytes(policy=POLICY)
