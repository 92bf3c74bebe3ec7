"""The text message of a notice: short, plain, in the recipient's language, and counted in SMS
segments the way carriers count them.

Rendered from ``templates/sms.txt.j2`` with the emails' environment and gettext catalogues
(``render.render_text``: the recipient's language, else the notice's, else English, never half
translated): the rule's short title, the student's given name (never more of the name than the
email to that guardian says), the earliest deadline formatted by Babel for the locale, and the
program's notices link (``notices.url``) when it has one. Roster and LMS data (the program's
and the student's names, the link) are cleaned first: control characters (CR/LF included) and
angle brackets removed, whitespace collapsed, each value bounded, so nothing a roster holds can
add a line, markup or a long run to a family's phone.

Segments (3GPP TS 23.038): a message of the GSM 7-bit default alphabet takes 160 septets in one
segment, 153 per segment when split (the extension table's characters — ``{}[]~|^€\\`` — take
two); any other character makes the whole message UCS-2, 70 UTF-16 units in one segment, 67
per segment when split. The alphabet is written out below: it is a fixed table of the standard,
and the one codec on PyPI for it would be a new dependency for a lookup of 137 characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from onpace_core.notices.render import render_text
from onpace_core.store.models import Contact, OutboxModel

TEMPLATE = "sms.txt.j2"
#: Segments a message should take at most: a longer one loses the student's given name, then
#: the program's name is shortened at a word, and last the link goes (never cut inside).
MAX_SEGMENTS = 2

# GSM 03.38 default alphabet (basic table) and the extension table (each costs two septets).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

_SPACES = re.compile(r"\s+")
# Lengths of the data a message carries (characters, after cleaning).
_PROGRAM_CHARS = 40
_NAME_CHARS = 24
_LINK_CHARS = 120


@dataclass(frozen=True)
class Segments:
    """How carriers will bill a message: its encoding, its length in their units, its parts."""

    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def segments(text: str) -> Segments:
    """The SMS segments of ``text`` (3GPP TS 23.038; see the module doc)."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        units = sum(2 if c in GSM_EXTENSION else 1 for c in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if units <= single:
        return Segments(encoding, units, 1 if units else 0)
    return Segments(encoding, units, -(-units // part))


def clean(value: str | None, limit: int) -> str:
    """``value`` safe for one line of a text message: control and format characters (CR, LF,
    tabs, bidi overrides) and angle brackets removed, whitespace collapsed, at most ``limit``
    characters (cut at a word when it can be)."""
    text = "".join(
        " " if c.isspace() else c
        for c in (value or "")
        if c.isspace() or (unicodedata.category(c)[0] != "C" and c not in "<>")
    )
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    # Three dots, not "…": that one character would make the whole message UCS-2.
    return cut.rstrip(" ,;:-.") + "..."


def given_name(student_name: str | None) -> str | None:
    """The first word of the student's name: a text is read on a lock screen."""
    words = clean(student_name, 200).split(" ")
    first = words[0] if words and words[0] else ""
    return clean(first, _NAME_CHARS) or None


def first_deadline(notice: OutboxModel) -> date | None:
    """The earliest deadline the notice states (None for a notice without one)."""
    raw = notice.deadlines.as_dict() if hasattr(notice.deadlines, "as_dict") else dict(notice.deadlines or {})
    days = sorted(date.fromisoformat(str(v)) for v in raw.values() if v)
    return days[0] if days else None


@dataclass(frozen=True)
class TextMessage:
    """A rendered text and what it costs."""

    body: str
    language: str
    segments: Segments


def compose(
    notice: OutboxModel,
    recipient: Contact,
    templates_dir: Path,
    *,
    link: str | None = None,
    locales_dir: Path | None = None,
) -> TextMessage:
    """The text message about ``notice`` for ``recipient`` (see the module doc)."""
    values: dict[str, Any] = {
        "program": clean(notice.program_name or notice.program_id, _PROGRAM_CHARS),
        "student": given_name(notice.student_name),
        "deadline": first_deadline(notice),
        "link": _link(link),
    }
    # Longest first; when the data make it long (a long program name, a language whose letters
    # are not all GSM-7 and so count 67 to a segment), shorter forms until one fits.
    short = {**values, "program": clean(values["program"], 16), "student": None}
    variants = (values, {**values, "student": None}, short, {**short, "link": None})
    for variant in variants:
        body, language = _render(notice, recipient, templates_dir, variant, locales_dir)
        if segments(body).count <= MAX_SEGMENTS:
            break
    return TextMessage(body, language, segments(body))


def _render(
    notice: OutboxModel,
    recipient: Contact,
    templates_dir: Path,
    values: dict[str, Any],
    locales_dir: Path | None,
) -> tuple[str, str]:
    text, language = render_text(notice, recipient, templates_dir, TEMPLATE, {"sms": values}, locales_dir)
    # The template's lines are one message: a single space between its parts, no line breaks.
    return _SPACES.sub(" ", text).strip(), language


def _link(value: str | None) -> str | None:
    """The program's link, only if it stays one clean token (it is checked at load as well)."""
    text = (value or "").strip()
    if not text.startswith("https://") or len(text) > _LINK_CHARS or clean(text, _LINK_CHARS) != text:
        return None
    if " " in text:
        return None
    return text
