"""Render one outbox notice for one recipient: subject, plain text and HTML, in their language.

Templates live with the notify function (``functions/notify/templates/{language}/``), one set per
rule id: ``{rule_id}.subject.j2``, ``{rule_id}.txt.j2`` and ``{rule_id}.html.j2``. A language
without its own folder (or without this rule's templates) falls back to English, and dates and
percentages are then written in English too, so one email never mixes two languages.

What a notice carries besides its facts for one recipient (the meeting invitation attached to
the instructor's email, say) comes in as ``extra`` template values from the caller.

Rendering is pure apart from reading the templates: no clock, no network. The Jinja2
environment uses ``StrictUndefined`` so that a template naming a fact the notice does not carry
fails loudly instead of printing an empty string to a family.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_currency, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, pass_context, select_autoescape
from jinja2.runtime import Context
from onpace_rules.engine import APPROVAL_SUFFIX
from onpace_rules.titles import rule_title

from onpace_core.store.models import STUDENT_SUBJECT_CLASS, Contact, OutboxModel

DEFAULT_LANGUAGE = "en"
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
    """Template folders to try, most specific first: "es-MX" → "es-MX", "es"; always "en" last."""
    out: list[str] = []
    for tag in tags:
        if not tag or not _LANGUAGE_TAG.match(tag):
            continue
        tag = tag.replace("_", "-")
        for option in (tag, tag.split("-")[0].lower()):
            if option not in out:
                out.append(option)
    if DEFAULT_LANGUAGE not in out:
        out.append(DEFAULT_LANGUAGE)
    return out


def template_language(templates_dir: Path, rule_id: str, *tags: str | None) -> str:
    """The first of ``tags`` (then English) whose folder has all of this rule's templates."""
    for language in _candidates(*tags):
        folder = templates_dir / language
        if all((folder / f"{rule_id}.{part}.j2").is_file() for part in PARTS):
            return language
    return DEFAULT_LANGUAGE  # rendering then raises TemplateNotFound, naming the missing file


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


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


@lru_cache(maxsize=16)
def _environment(templates_dir: Path) -> Environment:
    """One Jinja2 environment per templates folder: it caches the compiled templates."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
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


def notice_context(notice: OutboxModel, recipient: Contact, language: str) -> dict[str, Any]:
    """Everything a template may use. Deadlines are ``date`` objects; facts are as recorded.

    ``contact`` is the person a family notice names (None when the notice has none: a template
    that names it then fails loudly rather than sending a family a notice without one);
    ``signature`` the program's and district's names it is signed with.
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
        student = "your student"
    else:
        student = "the student"
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
) -> RenderedEmail:
    """The email for ``recipient`` about ``notice``, from ``templates_dir/{language}/{rule_id}.*.j2``.

    ``extra`` adds template values; it may not replace the notice's own (a fact must read the same
    in every email of the notice).
    """
    templates_dir = Path(templates_dir).resolve()
    # A request to approve a held action is one email for every rule: what was decided, why it
    # waits, how to answer; the action's own email goes out once it is taken.
    name = APPROVAL_TEMPLATE if notice.episode.endswith(APPROVAL_SUFFIX) else notice.rule_id
    language = template_language(templates_dir, name, recipient.language, notice.language)
    env = _environment(templates_dir)
    context = notice_context(notice, recipient, language)
    clash = sorted(set(context) & set(extra or {}))
    if clash:
        raise ValueError(f"extra template values would replace the notice's own: {', '.join(clash)}")
    context.update(extra or {})
    base = f"{language}/{name}"
    return RenderedEmail(
        subject=_one_line(env.get_template(f"{base}.subject.j2").render(context)),
        text=env.get_template(f"{base}.txt.j2").render(context),
        html=env.get_template(f"{base}.html.j2").render(context),
        language=language,
    )
