"""Render one outbox notice for one recipient: subject, plain text and HTML, in their language.

Templates live with the notify function (``functions/notify/templates/``), one set per rule id:
``{rule_id}.subject.j2``, ``{rule_id}.txt.j2`` and ``{rule_id}.html.j2``, written in English and
translated through gettext catalogues (``functions/notify/locales/{lang}/LC_MESSAGES/messages.mo``)
with Jinja2's i18n extension. The language is the recipient's, else the notice's (the program's
default), else English; a language without a catalogue, or a catalogue that lacks one of the
email's messages, gives the whole email in English, dates included: never two languages in one
email. ``templates/programs/{program_id}/`` overrides shipped templates for one program.
See docs/i18n.md.

What a notice carries besides its facts for one recipient (the meeting invitation attached to
the instructor's email, say) comes in as ``extra`` template values from the caller.

Rendering is pure apart from reading the templates: no clock, no network. The Jinja2
environment uses ``StrictUndefined`` so that a template naming a fact the notice does not carry
fails loudly instead of printing an empty string to a family.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_currency, format_percent
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Undefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from onpace_rules.engine import APPROVAL_SUFFIX
from onpace_rules.titles import rule_title

from onpace_core.delivery.unsubscribe import COURTESY_RULES
from onpace_core.store.models import STUDENT_SUBJECT_CLASS, Contact, OutboxModel

DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"
OVERRIDES = "programs"  # templates_dir/programs/{program_id}/ is looked up before templates_dir
APPROVAL_TEMPLATE = "approval_request"
PARTS = ("subject", "txt", "html")

# A language tag as the roster gives it ("en", "es-MX", "zh_Hant"); anything else is ignored,
# which also keeps a tag from naming a path outside the templates folder.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")

# Roster roles that receive notices as the student's family.
_FAMILY_ROLES = frozenset({"guardian", "parent"})


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str = DEFAULT_LANGUAGE


# ---------------------------------------------------------------------------------------------
# Languages


def _candidates(*tags: str | None) -> list[str]:
    """Catalogues to try, most specific first: "es-MX" → "es_MX", "es"; always "en" last."""
    out: list[str] = []
    for tag in tags:
        if not tag or not _LANGUAGE_TAG.match(tag):
            continue
        parts = tag.replace("-", "_").split("_")
        for option in ("_".join([parts[0].lower(), *parts[1:]]), parts[0].lower()):
            if option not in out:
                out.append(option)
    if DEFAULT_LANGUAGE not in out:
        out.append(DEFAULT_LANGUAGE)
    return out


def _catalogue(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def choose_language(locales_dir: Path, *tags: str | None) -> str:
    """The first of ``tags`` (then English) that has a compiled catalogue in ``locales_dir``.

    Templates are written in English, so English needs no catalogue.
    """
    for language in _candidates(*tags):
        if language == DEFAULT_LANGUAGE or _catalogue(locales_dir, language).is_file():
            return language
    return DEFAULT_LANGUAGE


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


# A message the catalogue lacks is noted here while one email renders; the email is then
# rendered again in English so that no family reads half a translation.
_MISSED: ContextVar[list[str] | None] = ContextVar("onpace_missed_messages", default=None)


class _NoteMissing(NullTranslations):
    """The fallback of a catalogue: returns the English text and notes that it had to."""

    def _note(self, message: str) -> None:
        missed = _MISSED.get()
        if missed is not None:
            missed.append(message)

    def gettext(self, message: str) -> str:
        self._note(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._note(msgid1)
        return msgid1 if n == 1 else msgid2


@lru_cache(maxsize=8)
def _translations(locales_dir: Path, language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    with _catalogue(locales_dir, language).open("rb") as fp:
        translations = GNUTranslations(fp)
    translations.add_fallback(_NoteMissing())
    return translations


# ---------------------------------------------------------------------------------------------
# Filters: values written for people, in the language of the template being rendered.


def _required(value: Any) -> Any:
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError here, naming what is missing
        raise ValueError("a template used a value that is not defined")
    return value


def _as_date(value: Any) -> date:
    value = _required(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@pass_context
def _human_date(context: Context, value: Any, style: str = "full") -> str:
    """2026-10-09 → "Friday, October 9, 2026" (in English; localized for other templates)."""
    return format_date(_as_date(value), format=style, locale=context["locale"])


@pass_context
def _human_time(context: Context, value: Any) -> str:
    """An aware datetime's time of day in its own zone: "4:00 PM Central Standard Time"."""
    moment = _required(value)
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError("human_time needs a datetime with its time zone")
    locale = context["locale"]
    return f"{format_time(moment, 'short', locale=locale)} {get_timezone_name(moment, 'long', locale=locale)}"


@pass_context
def _percent(context: Context, value: Any) -> str:
    """0.1 → "10%", 0.125 → "12.5%" (no rounding that could turn 14.9% into "15%")."""
    number = float(_required(value))
    return format_percent(number, locale=context["locale"], decimal_quantization=False)


@pass_context
def _usd(context: Context, value: Any) -> str:
    """400.0 → "$400.00" (facts name their currency: ``*_usd``)."""
    return format_currency(float(_required(value)), "USD", locale=context["locale"])


# A program id names a folder: nothing that could step outside the templates folder.
_PROGRAM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _search_path(templates_dir: Path, program_id: str | None) -> list[str]:
    """The program's override folder (when it has one) before the shipped templates."""
    folders = [str(templates_dir)]
    if program_id and _PROGRAM_ID.match(program_id) and ".." not in program_id:
        override = templates_dir / OVERRIDES / program_id
        if override.is_dir():
            folders.insert(0, str(override))
    return folders


@lru_cache(maxsize=32)
def _environment(
    templates_dir: Path, locales_dir: Path, language: str, program_id: str | None
) -> Environment:
    """One Jinja2 environment per templates folder, program and language: it caches the compiled
    templates, and its gettext is that language's catalogue."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in _search_path(templates_dir, program_id)]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["human_date"] = _human_date
    env.filters["percent"] = _percent
    env.filters["human_time"] = _human_time
    env.filters["usd"] = _usd
    env.filters["rule_title"] = rule_title
    env.install_gettext_translations(_translations(locales_dir, language), newstyle=True)  # type: ignore[attr-defined]
    return env


# ---------------------------------------------------------------------------------------------
# Context


def _plain(value: Any) -> dict[str, Any]:
    """A pynamodb raw map (or a dict, or nothing) as a plain dict."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return dict(as_dict())
    raise TypeError(f"expected a map, got {type(value).__name__}")


def _audience(role: str) -> str:
    if role == "student":
        return "student"
    if role in _FAMILY_ROLES:
        return "family"
    return "staff"


def _person(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None or not contact.address:
        return None
    return {
        "role": contact.role,
        "name": contact.name or contact.address,
        "address": contact.address,
        "title": contact.title,
    }


def notice_context(
    notice: OutboxModel,
    recipient: Contact,
    language: str,
    gettext: Callable[[str], str] = str,
) -> dict[str, Any]:
    """Everything a template may use. Deadlines are ``date`` objects; facts are as recorded.

    ``contact`` is the person a family notice names (None when the notice has none: a template
    that names it then fails loudly rather than sending a family a notice without one);
    ``signature`` the program's and district's names it is signed with. ``gettext`` translates
    the words that stand for an unnamed student.
    A notice of a student-wide rule (SAP, failure to thrive, the MOCAP guidance and disenrollment
    letters) belongs to no class: its ``class_title`` is empty and ``student_wide`` is true, so a
    template states something true instead of printing the student record's class ``*``.
    """
    role = recipient.role or "student"
    audience = _audience(role)
    student_wide = notice.class_id == STUDENT_SUBJECT_CLASS
    if notice.student_name:
        student = notice.student_name
    elif audience == "family":
        student = gettext("your student")
    else:
        student = gettext("the student")
    return {
        "locale": _locale(language),
        "language": language,
        "notice": {
            "notice_id": notice.notice_id,
            "rule_id": notice.rule_id,
            "kind": notice.kind,
            "policy_version": notice.policy_version,
            "program_id": notice.program_id,
            "class_id": notice.class_id,
            "decided_on": date.fromisoformat(notice.decided_on),
            "due_on": date.fromisoformat(notice.due_on),
        },
        "facts": _plain(notice.facts),
        "deadlines": {name: date.fromisoformat(str(day)) for name, day in _plain(notice.deadlines).items()},
        "student": student,
        "Student": student[:1].upper() + student[1:],  # for the start of a sentence
        "class_title": "" if student_wide else notice.class_title or notice.class_id,
        "student_wide": student_wide,
        "rule_title": rule_title(notice.rule_id),
        # An optional courtesy notice (one-click unsubscribe) or one the policy requires: the
        # footer says which (issue 12, scope 6).
        "courtesy": notice.rule_id in COURTESY_RULES,
        # An escalation (delivery/escalation.py): the role it could not reach, which the email
        # says first so that its reader knows why it came to them.
        "escalated_from": _plain(notice.escalation).get("from_role") if notice.escalation else None,
        "recipient": {"role": role, "name": recipient.name, "language": recipient.language},
        "contact": _person(notice.reply_to),
        # An item recorded before programs named themselves is signed with the program's id.
        "signature": {"program": notice.program_name or notice.program_id, "district": notice.district_name},
        "audience": audience,
        "to_student": audience == "student",
        "to_family": audience == "family",
        "to_staff": audience == "staff",
    }


def _one_line(subject: str) -> str:
    return " ".join(subject.split())


def render(
    notice: OutboxModel,
    recipient: Contact,
    templates_dir: Path,
    extra: Mapping[str, Any] | None = None,
    locales_dir: Path | None = None,
) -> RenderedEmail:
    """The email for ``recipient`` about ``notice``, from ``{rule_id}.{subject,txt,html}.j2``.

    The language is the recipient's (from the roster), else the notice's (the program's
    ``default_language``), else English; a language without a catalogue in ``locales_dir``
    (default: ``locales`` beside ``templates_dir``) is English, and so is an email that would
    need a message its catalogue lacks: never half translated. Templates in
    ``templates_dir/programs/{program_id}/`` replace the shipped ones of the same name.

    ``extra`` adds template values; it may not replace the notice's own (a fact must read the same
    in every email of the notice).
    """
    templates_dir = Path(templates_dir).resolve()
    locales_dir = (Path(locales_dir) if locales_dir else templates_dir.parent / "locales").resolve()
    language = choose_language(locales_dir, recipient.language, notice.language)
    return whole_in_one_language(
        language, lambda lang: _render_in(notice, recipient, templates_dir, locales_dir, lang, extra)
    )


def whole_in_one_language(language: str, render_in: Callable[[str], RenderedEmail]) -> RenderedEmail:
    """``render_in(language)``, or the whole email in English when that needed a message the
    language's catalogue lacks: an email is never half translated (docs/i18n.md)."""
    if language != DEFAULT_LANGUAGE:
        missed: list[str] = []
        token = _MISSED.set(missed)
        try:
            email = render_in(language)
        finally:
            _MISSED.reset(token)
        if not missed:
            return email
    return render_in(DEFAULT_LANGUAGE)


def _render_in(
    notice: OutboxModel,
    recipient: Contact,
    templates_dir: Path,
    locales_dir: Path,
    language: str,
    extra: Mapping[str, Any] | None,
) -> RenderedEmail:
    # A request to approve a held action is one email for every rule: what was decided, why it
    # waits, how to answer; the action's own email goes out once it is taken.
    name = APPROVAL_TEMPLATE if notice.episode.endswith(APPROVAL_SUFFIX) else notice.rule_id
    env = _environment(templates_dir, locales_dir, language, notice.program_id)
    context = notice_context(notice, recipient, language, _translations(locales_dir, language).gettext)
    clash = sorted(set(context) & set(extra or {}))
    if clash:
        raise ValueError(f"extra template values would replace the notice's own: {', '.join(clash)}")
    context.update(extra or {})
    return RenderedEmail(
        subject=_one_line(env.get_template(f"{name}.subject.j2").render(context)),
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=env.get_template(f"{name}.html.j2").render(context),
        language=language,
    )


def render_text(
    notice: OutboxModel,
    recipient: Contact,
    templates_dir: Path,
    template: str,
    extra: Mapping[str, Any] | None = None,
    locales_dir: Path | None = None,
) -> tuple[str, str]:
    """One plain-text template (a text message's, say) about ``notice`` for ``recipient``, with
    the email's language rules (never half translated); returns (text, language)."""
    templates_dir = Path(templates_dir).resolve()
    locales_dir = (Path(locales_dir) if locales_dir else templates_dir.parent / "locales").resolve()
    language = choose_language(locales_dir, recipient.language, notice.language)
    for attempt in dict.fromkeys((language, DEFAULT_LANGUAGE)):
        missed: list[str] = []
        token = _MISSED.set(missed)
        try:
            env = _environment(templates_dir, locales_dir, attempt, notice.program_id)
            context = notice_context(notice, recipient, attempt, _translations(locales_dir, attempt).gettext)
            clash = sorted(set(context) & set(extra or {}))
            if clash:
                raise ValueError(f"extra template values would replace the notice's own: {', '.join(clash)}")
            context.update(extra or {})
            text = env.get_template(template).render(context)
        finally:
            _MISSED.reset(token)
        if not missed or attempt == DEFAULT_LANGUAGE:
            return text, attempt
    raise AssertionError("unreachable: English is always tried last")
