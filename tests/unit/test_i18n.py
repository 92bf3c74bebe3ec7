"""Notices in the family's language (issue 12, scope 1): gettext catalogues over one set of
templates, the language chosen per recipient, whole-email English fallback, per-program
template overrides, and golden files in English and Spanish."""

from __future__ import annotations

import io
import re
import shutil
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from onpace_core.notices.render import choose_language, render
from onpace_core.roster.models import User
from onpace_core.store.models import Contact
from onpace_rules.program import ProgramConfig

from tests.unit.test_render import CASES, make_notice

ROOT = Path(__file__).resolve().parents[2]
NOTIFY = ROOT / "functions" / "notify"
TEMPLATES = NOTIFY / "templates"
LOCALES = NOTIFY / "locales"
SPANISH_PO = LOCALES / "es" / "LC_MESSAGES" / "messages.po"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _babel_cfg_options() -> dict[str, str]:
    """The Jinja2 options babel.cfg gives the extractor (the same as the notify environment)."""
    options: dict[str, str] = {}
    for line in (ROOT / "babel.cfg").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = (part.strip() for part in line.split("=", 1))
            options[key] = value
    return options


def _template_messages() -> set[str]:
    found = extract_from_dir(
        str(TEMPLATES),
        method_map=[("**.j2", "jinja2.ext:babel_extract")],
        options_map={"**.j2": _babel_cfg_options()},
    )
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _catalogue(path: Path) -> dict[str, str]:
    with path.open("rb") as fp:
        return {m.id: m.string for m in read_po(fp) if m.id and isinstance(m.id, str)}


def contact(role: str = "guardian", language: str | None = None) -> Contact:
    return Contact(role=role, address=f"{role}@school.example.org", name=None, language=language)


# ---------------------------------------------------------------------------------------------
# Catalogues: complete, in step with the templates, compiled


def test_templates_and_catalogues_do_not_drift() -> None:
    """A template string added or changed without ``make messages`` fails here."""
    in_templates = _template_messages()
    assert in_templates, "no translatable strings found: is jinja2.ext.i18n in babel.cfg?"
    pot = set(_catalogue(LOCALES / "messages.pot"))
    assert in_templates == pot, {
        "not in messages.pot": sorted(in_templates - pot)[:5],
        "stale in messages.pot": sorted(pot - in_templates)[:5],
    }
    assert set(_catalogue(SPANISH_PO)) == pot


def test_spanish_catalogue_is_complete_and_keeps_every_placeholder() -> None:
    with SPANISH_PO.open("rb") as fp:
        catalogue = read_po(fp)
    assert not catalogue.fuzzy
    for message in catalogue:
        if not message.id:
            continue
        assert message.string, f"no Spanish for {message.id!r}"
        assert "fuzzy" not in message.flags, message.id
        assert set(_PLACEHOLDER.findall(str(message.id))) == set(_PLACEHOLDER.findall(str(message.string))), (
            message.id
        )


def test_committed_mo_is_compiled_from_the_po() -> None:
    """The .mo the Lambda reads is committed (no build step in ``sam build``): it must be current."""
    for po_path in sorted(LOCALES.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as fp:
            catalogue = read_po(fp)
        compiled = io.BytesIO()
        write_mo(compiled, catalogue)
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.is_file(), f"{mo_path} missing: run make catalogues"
        assert mo_path.read_bytes() == compiled.getvalue(), f"{mo_path} is stale: run make catalogues"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_every_rule_renders_wholly_in_spanish(rule_id: str) -> None:
    """No message of any rule's templates is missing in Spanish (else the email would be English)."""
    case = CASES[rule_id]
    subject = {"class_id": "*", "class_title": ""} if case.get("student_wide") else {}
    for role in case.get("roles", ("student", "guardian")):
        email = render(make_notice(rule_id, **subject), contact(role, "es-MX"), TEMPLATES)
        assert email.language == "es", (rule_id, role)
        assert 'lang="es"' in email.html
        for word in ("Dear ", "Kind regards", "Notice dated", "WHOM TO CONTACT"):
            assert word not in email.text, (rule_id, role, word)


def test_spanish_dates_and_percentages_come_from_babel() -> None:
    email = render(make_notice("cps.pacing.ipr_warning_2w"), contact("guardian", "es"), TEMPLATES)
    assert email.language == "es"
    assert "viernes, 9 de octubre de 2026" in email.text
    assert "10\xa0%" in email.text
    assert email.text.startswith("Estimado padre, madre o tutor,")


# ---------------------------------------------------------------------------------------------
# Choosing the language


def test_language_is_the_recipients_then_the_programs_then_english() -> None:
    rule = "cps.pacing.ipr_warning_2w"
    assert render(make_notice(rule), contact("guardian", "es-MX"), TEMPLATES).language == "es"
    # The contact has none: the notice's (the program's default_language) applies.
    assert render(make_notice(rule, language="es"), contact("guardian"), TEMPLATES).language == "es"
    # The contact's own choice wins over the program's default.
    assert render(make_notice(rule, language="es"), contact("guardian", "en"), TEMPLATES).language == "en"
    # No catalogue for French: the whole email is English, dates included.
    french = render(make_notice(rule), contact("guardian", "fr-CA"), TEMPLATES)
    assert french.language == "en"
    assert "Friday, October 9, 2026" in french.text
    assert choose_language(LOCALES, "../../etc", "es_MX") == "es"
    assert choose_language(LOCALES, "pt-BR", None) == "en"


def test_a_missing_message_sends_the_whole_email_in_english(tmp_path: Path) -> None:
    """A catalogue that lacks one message of a template is never mixed with English."""
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    po_path = locales / "es" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fp:
        catalogue = read_po(fp)
    catalogue["WHAT TO DO"].string = ""
    with (po_path.with_suffix(".mo")).open("wb") as fp:
        write_mo(fp, catalogue)
    rule = "cps.participation.warning"
    complete = render(make_notice(rule), contact("guardian", "es"), TEMPLATES)
    assert complete.language == "es"
    partial = render(make_notice(rule), contact("guardian", "es"), TEMPLATES, locales_dir=locales)
    assert partial.language == "en"
    assert partial.text.startswith("Dear parent or guardian,")
    assert "Friday" in partial.text or "2026" in partial.text
    assert "Estimado" not in partial.text + partial.html + partial.subject


# ---------------------------------------------------------------------------------------------
# Per-program templates


def test_a_program_folder_overrides_a_shipped_template(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    shutil.copytree(LOCALES, tmp_path / "locales")
    rule = "cps.pacing.ipr_warning_2w"
    override = templates / "programs" / "prog"
    override.mkdir(parents=True)
    # A program may reword a subject in its own words (here without gettext: English only) ...
    (override / f"{rule}.subject.j2").write_text("Progress check for {{ student }}\n", encoding="utf-8")
    # ... and restyle the shared layout every template of that program extends.
    base = (TEMPLATES / "_base.txt.j2").read_text(encoding="utf-8")
    (override / "_base.txt.j2").write_text(
        base.replace("{% block body %}", "[Prog]\n{% block body %}"), encoding="utf-8"
    )
    email = render(make_notice(rule), contact("guardian"), templates)
    assert email.subject == "Progress check for Jamie Rivera"
    assert "[Prog]\n" in email.text
    other = render(make_notice(rule, program_id="other"), contact("guardian"), templates)
    assert other.subject != email.subject and "[Prog]" not in other.text
    # An id that is no folder name never reaches outside the templates folder.
    assert render(
        make_notice(rule, program_id="../programs/prog"), contact("guardian"), templates
    ).subject == (other.subject)


# ---------------------------------------------------------------------------------------------
# Where the language comes from


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("preferredLanguages", "es-MX,en", "es-MX"),
        ("preferredLanguage", "es_mx", "es-MX"),
        ("metadata.language", "ES", "es"),
        ("metadata.preferredLanguage", "Spanish", None),
        ("preferredLanguages", "", None),
    ],
)
def test_roster_language_columns(column: str, value: str, expected: str | None) -> None:
    user = User.model_validate(
        {"sourcedId": "u-1", "givenName": "Ana", "familyName": "Rivera", column: value}
    )
    assert user.language == expected


def test_program_default_language_is_a_language_tag() -> None:
    fields = ProgramConfig.model_fields["default_language"]
    assert fields.default == "en"
    assert fields.description and "catalogue" in fields.description
    assert re.fullmatch(str(fields.metadata[0].pattern), "es-MX")
    assert not re.fullmatch(str(fields.metadata[0].pattern), "../x")


# ---------------------------------------------------------------------------------------------
# Golden files


@pytest.mark.parametrize("language", ["en", "es"])
def test_golden_emails_match(language: str) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import golden_emails
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    stale = golden_emails.differences(language)
    assert not stale, f"run python scripts/golden_emails.py --update and review: {stale[:5]}"
