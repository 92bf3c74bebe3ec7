"""Render a letter of several notices: the household digest and the instructor digest.

Each member notice is rendered with its own template (``{rule_id}.{subject,txt,html}.j2``), in
the letter's language, but laid out by ``_digest_member.{html,txt}.j2`` instead of
``_base.{html,txt}.j2``: the member's content block (with its own deadline boxes) under its own
subject line as a heading, the person to contact about it and its rule and policy version. The
digest templates (``digest.family``, ``digest.instructor``) then place the blocks: actions first,
then warnings. As in ``render.py``, an email that would need a message the language's catalogue
lacks is rendered wholly in English.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, Template
from markupsafe import Markup
from onpace_rules.engine import APPROVAL_SUFFIX

from onpace_core.notices.render import (
    APPROVAL_TEMPLATE,
    RenderedEmail,
    _environment,
    _locale,
    _one_line,
    _person,
    _translations,
    choose_language,
    notice_context,
    whole_in_one_language,
)
from onpace_core.store.models import Contact, OutboxModel

#: The member layout that stands in for each base layout when a notice is a digest's member.
MEMBER_LAYOUTS = {"_base.html.j2": "_digest_member.html.j2", "_base.txt.j2": "_digest_member.txt.j2"}
_FAMILY_ROLES = frozenset({"student", "guardian", "parent", "guardians", "relative"})


class _MemberLoader(BaseLoader):
    """The notices' own loader, with the base layouts replaced by the member layouts."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self.inner.get_source(environment, MEMBER_LAYOUTS.get(template, template))


@lru_cache(maxsize=32)
def _member_environment(
    templates_dir: Path, locales_dir: Path, language: str, program_id: str | None
) -> Environment:
    base = _environment(templates_dir, locales_dir, language, program_id)
    assert base.loader is not None
    return base.overlay(loader=_MemberLoader(base.loader))


@dataclass(frozen=True)
class _Block:
    html: Markup
    text: str
    subject: str


def _member_block(env: Environment, notice: OutboxModel, contact: Contact, context: dict[str, Any]) -> _Block:
    name = APPROVAL_TEMPLATE if notice.episode.endswith(APPROVAL_SUFFIX) else notice.rule_id
    subject = _one_line(_part(env, name, "subject").render(context))
    # The member layouts head the block with the notice's own subject line.
    context = {**context, "digest_subject": subject}
    return _Block(
        # The member's own template escaped its values: its HTML is safe as rendered.
        html=Markup(_part(env, name, "html").render(context)),
        text=_part(env, name, "txt").render(context).strip(),
        subject=subject,
    )


def _part(env: Environment, name: str, kind: str) -> Template:
    return env.get_template(f"{name}.{kind}.j2")


def render_digest(
    letter: OutboxModel,
    members: Sequence[tuple[OutboxModel, Contact]],
    recipient: Contact,
    templates_dir: Path,
    locales_dir: Path | None = None,
) -> RenderedEmail:
    """The digest ``letter.rule_id`` (``digest.family`` or ``digest.instructor``) for
    ``recipient``, with one block per (member notice, its recipient) in the given order."""
    templates_dir = Path(templates_dir).resolve()
    locales_dir = (Path(locales_dir) if locales_dir else templates_dir.parent / "locales").resolve()
    language = choose_language(locales_dir, recipient.language, letter.language)
    return whole_in_one_language(
        language, lambda lang: _render_in(letter, members, recipient, templates_dir, locales_dir, lang)
    )


def _render_in(
    letter: OutboxModel,
    members: Sequence[tuple[OutboxModel, Contact]],
    recipient: Contact,
    templates_dir: Path,
    locales_dir: Path,
    language: str,
) -> RenderedEmail:
    gettext = _translations(locales_dir, language).gettext
    blocks: list[dict[str, Any]] = []
    seen: set[str] = set()
    for notice, contact in members:
        if notice.notice_id in seen:  # one address as two recipients of one notice: one block
            continue
        seen.add(notice.notice_id)
        env = _member_environment(templates_dir, locales_dir, language, notice.program_id)
        context = notice_context(notice, contact, language, gettext)
        block = _member_block(env, notice, contact, context)
        blocks.append(
            {
                "action": notice.kind == "action",
                "student": context["Student"],
                "class_title": context["class_title"],
                "rule_title": context["rule_title"],
                "rule_id": notice.rule_id,
                "policy_version": notice.policy_version,
                "deadlines": context["deadlines"],
                "subject": block.subject,
                "html": block.html,
                "text": block.text,
            }
        )
    role = recipient.role or "student"
    audience = "staff" if role not in _FAMILY_ROLES else ("student" if role == "student" else "family")
    day = date.fromisoformat(letter.decided_on)
    context = {
        "locale": _locale(language),
        "language": language,
        "day": day,
        "members": blocks,
        "actions": [b for b in blocks if b["action"]],
        "warnings": [b for b in blocks if not b["action"]],
        "students": sorted({b["student"] for b in blocks}),
        "recipient": {"role": role, "name": recipient.name, "language": recipient.language},
        "contact": _person(letter.reply_to),
        "signature": {"program": letter.program_name or letter.program_id, "district": letter.district_name},
        "audience": audience,
        "to_student": audience == "student",
        "to_family": audience == "family",
        "to_staff": audience == "staff",
        # What the base layout names (the page title, the footer) for a single notice.
        "class_title": "",
        "student": "",
        "notice": {"decided_on": day, "rule_id": letter.rule_id, "policy_version": ""},
        # A letter is never an escalation, and its footer (the digest's own) names each member's
        # rule: the single notice's escalation line and required/courtesy footer do not apply.
        "escalated_from": None,
        "courtesy": False,
        "rule_title": "",
    }
    env = _environment(templates_dir, locales_dir, language, letter.program_id)
    name = letter.rule_id
    return RenderedEmail(
        subject=_one_line(env.get_template(f"{name}.subject.j2").render(context)),
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=env.get_template(f"{name}.html.j2").render(context),
        language=language,
    )
