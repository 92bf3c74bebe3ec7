"""Text messages (issue 12, scope 7): who gets one, what it says, when it may go — no AWS here.

The sending itself (SNS over moto server, the ledger, the audit) is in
tests/integration/test_notify_sms.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from onpace_core.delivery.sms import masked, quiet_until, wants_text
from onpace_core.notices.sms_text import MAX_SEGMENTS, Segments, clean, compose, given_name, segments
from onpace_core.roster.oneroster import User
from onpace_core.roster.phones import e164, text_choice, yes_no
from onpace_core.store.models import Contact, EnrollmentModel, sms_flag
from onpace_core.store.packed import pack_contact, unpack_contact
from onpace_rules.program import ProgramConfig, QuietHours
from pydantic import ValidationError

from tests.unit.notices import outbox_notice

TEMPLATES = Path(__file__).resolve().parents[2] / "functions" / "notify" / "templates"
LINK = "https://online.example.org/notices"


def _program(
    sms: dict[str, Any] | None = None, rules: dict[str, Any] | None = None, **extra: Any
) -> ProgramConfig:
    return ProgramConfig(
        district_id="d-1",
        program_id="prog",
        name="Test",
        time_zone="America/Chicago",
        policy_version="v1",
        source="test",
        rules=rules or {},
        sms=sms or {},
        **extra,
    )


def _guardian(sms: str | None = None, phone: str | None = "+13125550123", role: str = "guardian") -> Contact:
    return Contact(role=role, address="ana@family.example", name="Ana Rivera", phone=phone, sms=sms)


# ---------------------------------------------------------------------------------------------
# Roster: numbers and choices


def test_phone_numbers_are_normalised_to_e164_in_the_programs_region() -> None:
    assert e164("(312) 555-0123") == "+13125550123"
    assert e164("312.555.0123", "US") == "+13125550123"
    assert e164("+52 55 1234 5678") == "+525512345678"  # a country code wins over the region
    assert e164("0612345678", "FR") == "+33612345678"
    assert e164("555-0123") is None  # no area code: not a number that can be texted
    assert e164("call me") is None
    assert e164("") is None and e164(None) is None


def test_the_roster_says_yes_no_or_nothing() -> None:
    assert [yes_no(v) for v in ("yes", "Y", "true", "1", "no", "FALSE", "0", "", "maybe", None)] == [
        True, True, True, True, False, False, False, None, None, None,
    ]  # fmt: skip
    # OneRoster 1.1's sms column holds the number to text: giving one is choosing texts.
    assert text_choice("312-555-0100", "312-555-0199", None) == text_choice(None, "+1 312 555 0199", None)
    assert text_choice(None, "3125550199", None).phone == "+13125550199"
    assert text_choice(None, "3125550199", None).chose is True
    # An explicit no wins over a number in sms; a yes in sms texts the phone column.
    assert text_choice(None, "3125550199", "no").chose is False
    assert text_choice("3125550100", "yes", None) == text_choice("3125550100", None, "yes")
    assert text_choice("3125550100", "yes", None).phone == "+13125550100"
    # A phone but no word about texts: not said (the program's default decides).
    assert text_choice("3125550100", None, None).chose is None
    assert text_choice("not a number", "yes", None).phone is None


def test_oneroster_users_read_phone_sms_and_the_extension_column() -> None:
    base = {"sourcedId": "g1", "givenName": "Ana", "familyName": "Rivera", "role": "guardian"}
    user = User.model_validate({**base, "phone": "312 555 0100", "sms": "", "metadata.onpace.sms": "yes"})
    assert (user.phone, user.sms, user.sms_choice) == ("312 555 0100", None, "yes")
    assert User.model_validate({**base, "metadata.sms": "no"}).sms_choice == "no"


def test_contacts_keep_phone_and_choice_in_the_packed_form_and_stay_small() -> None:
    contact = Contact(
        role="guardian",
        address="ana.maria.rivera-gonzalez@family.example",
        name="Ana María Rivera González",
        language="es-MX",
        source_id="guardian-000123",
        phone="+13125550123",
        sms=sms_flag(True),
    )
    text = pack_contact(contact)
    assert text.endswith("\x1f+13125550123\x1fy")
    back = unpack_contact(text)
    assert (back.phone, back.sms, back.title) == ("+13125550123", "y", None)
    assert unpack_contact(pack_contact(Contact(role="guardian", address="a@b.example"))).phone is None
    # A number and a choice add 16 bytes to a contact (the empty title's separator included).
    assert len(text.encode()) - len(pack_contact(_without_texts(contact)).encode()) == 16
    assert sms_flag(False) == "n" and sms_flag(None) is None


def _without_texts(contact: Contact) -> Contact:
    return Contact(**{k: v for k, v in contact.attribute_values.items() if k not in ("phone", "sms")})


def test_the_enrollment_item_with_texting_contacts_stays_under_one_kilobyte() -> None:
    contacts = [
        Contact(role="student", address="jamie.rivera@students.cps.edu", name="Jamie Rivera", language="en",
                source_id="student-0001", phone="+13125550100", sms="n"),
        Contact(role="guardian", address="ana.rivera@family.example", name="Ana Rivera", language="es",
                source_id="guardian-0001", phone="+13125550123", sms="y"),
        Contact(role="guardian", address="luis.rivera@family.example", name="Luis Rivera", language="es",
                source_id="guardian-0002", phone="+13125550124"),
    ]  # fmt: skip
    item = EnrollmentModel(
        enrollment_key="district-01#class-000123#student-0001",
        district_id="district-01",
        program_id="cps-online",
        class_id="class-000123",
        class_title="Algebra I Online (Semester 1)",
        student_id="student-0001",
        student_name="Jamie Rivera",
        start_date="2026-08-24",
        end_date="2026-12-18",
        contacts=contacts,
    )
    raw = item.serialize()
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in raw.items())
    assert size < 700  # leaves room for the facts the item gathers (docs/scale.md, "Item sizes")


# ---------------------------------------------------------------------------------------------
# Who gets a text


def test_a_guardian_who_chose_texts_gets_one_when_the_program_sends_them() -> None:
    program = _program({"enabled": True})
    assert wants_text(_guardian("y"), program)
    assert wants_text(_guardian("y", role="parent"), program)
    assert not wants_text(_guardian("n"), program)
    assert not wants_text(_guardian(None), program)  # not said, and the program's default is no
    assert not wants_text(_guardian("y", phone=None), program)
    assert not wants_text(_guardian("y"), _program({"enabled": False, "guardians": True}))


def test_the_programs_default_decides_for_guardians_whose_roster_says_nothing() -> None:
    program = _program({"enabled": True, "guardians": True})
    assert wants_text(_guardian(None), program)
    assert not wants_text(_guardian("n"), program)  # the roster's no always wins


def test_students_never_by_default_and_never_where_chicagos_channel_policy_applies() -> None:
    student = _guardian("y", role="student")
    assert not wants_text(student, _program({"enabled": True, "guardians": True}))
    assert wants_text(student, _program({"enabled": True, "students": True}))
    assert not wants_text(_guardian(None, role="student"), _program({"enabled": True, "students": True}))
    chicago = _program(
        {"enabled": True, "students": True, "guardians": True},
        rules={"cps_chicago.channel.district_email_only": {"district_domains": ["cps.edu"]}},
    )
    assert not wants_text(student, chicago)
    assert wants_text(_guardian("y"), chicago)  # the policy is about students
    # Staff never get texts, whatever their record says.
    assert not wants_text(_guardian("y", role="counselor"), _program({"enabled": True, "guardians": True}))


def test_program_sms_settings_are_checked_at_load() -> None:
    with pytest.raises(ValidationError):
        _program({"enabled": True, "region": "usa"})
    with pytest.raises(ValidationError):
        _program({"quiet_hours": {"start": "08:00", "end": "08:00"}})
    with pytest.raises(ValidationError):
        _program({"enabled": True, "sms_everyone": True})
    assert _program().sms.enabled is False and _program().sms.quiet_hours == QuietHours()


# ---------------------------------------------------------------------------------------------
# What it says


def _notice(**fields: Any) -> Any:
    values: dict[str, Any] = {"deadlines": {"last_day": "2026-10-09", "drop": "2026-10-16"}}
    values.update(fields)
    return outbox_notice("cps.participation.warning", **values)


def _text(language: str = "en", link: str | None = LINK, **fields: Any) -> Any:
    recipient = Contact(role="guardian", address="ana@family.example", language=language)
    return compose(_notice(**fields), recipient, TEMPLATES, link=link)


def test_the_english_text_has_title_given_name_first_deadline_and_link_in_one_segment() -> None:
    message = _text()
    assert message.body == (
        "Springfield Online: Participation warning (Jamie). Deadline: Oct 9, 2026. "
        f"Details: {LINK} Reply STOP to opt out."
    )
    assert "Rivera" not in message.body  # the given name only
    assert (message.language, message.segments.encoding, message.segments.count) == ("en", "GSM-7", 1)


def test_the_spanish_text_is_spanish_with_a_babel_date_and_at_most_two_segments() -> None:
    message = _text("es")
    assert message.language == "es"
    assert "Aviso de participación" in message.body
    assert "Plazo: 9 oct 2026." in message.body
    assert message.body.endswith("Responda STOP para cancelar.")
    assert LINK in message.body
    assert message.segments.encoding == "UCS-2"  # "ó" is not in the GSM 7-bit alphabet
    assert message.segments.count <= MAX_SEGMENTS
    assert "Reply" not in message.body and "Deadline" not in message.body  # never two languages


def test_a_language_without_catalogue_is_english_and_a_notice_without_deadline_says_none() -> None:
    assert _text("pt").language == "en"
    message = _text(deadlines={}, link=None)
    assert "Deadline" not in message.body
    assert message.body.endswith("Details in your email. Reply STOP to opt out.")


def test_roster_and_lms_data_cannot_break_the_text() -> None:
    message = _text(
        student_name="Jamie\r\nCall 555-0100 <script>alert(1)</script>",
        program_name="Springfield\x00 Online\u202e<b>",
    )
    assert "\r" not in message.body and "\n" not in message.body
    assert "<" not in message.body and ">" not in message.body
    assert "\x00" not in message.body and "\u202e" not in message.body
    assert message.body.startswith("Springfield Onlineb: Participation warning (Jamie).")
    assert "555-0100" not in message.body  # only the first word of the name


def test_very_long_names_are_shortened_to_keep_two_segments_and_the_link() -> None:
    message = _text(program_name="The Very Long Official Name " * 8, student_name="X" * 300)
    assert message.segments.count <= MAX_SEGMENTS
    assert LINK in message.body
    assert "X" * 30 not in message.body
    spanish = _text("es", program_name="Escuela Secundaria Virtual del Distrito Escolar Unificado " * 3)
    assert spanish.segments.count <= MAX_SEGMENTS


def test_segments_count_gsm7_extension_characters_twice_and_ucs2_in_utf16_units() -> None:
    assert segments("").count == 0
    assert segments("a" * 160) == Segments("GSM-7", 160, 1)
    assert segments("a" * 161).count == 2  # 153 per part once split
    assert segments("a" * 306).count == 2 and segments("a" * 307).count == 3
    assert segments("{" * 80).units == 160 and segments("{" * 81).count == 2
    assert segments("é" * 160).encoding == "GSM-7"  # é is in the basic table
    assert segments("ó" * 70) == Segments("UCS-2", 70, 1)
    assert segments("ó" * 71).count == 2 and segments("ó" * 134).count == 2 and segments("ó" * 135).count == 3
    assert segments("😀").units == 2  # outside the BMP: two UTF-16 units


def test_clean_and_given_name() -> None:
    assert clean(" a\tb\r\nc ", 10) == "a b c"
    assert clean("one two three four", 12) == "one two..."
    assert given_name("  Jamie  Lee Rivera ") == "Jamie"
    assert given_name("") is None and given_name(None) is None
    assert masked("+13125550123") == "+1…23"


# ---------------------------------------------------------------------------------------------
# When it may go


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


DEFAULT = QuietHours()


def test_a_text_in_the_day_goes_now_and_one_at_night_waits_for_eight_local() -> None:
    # 15:00 UTC is 10:00 in Chicago (CDT): send now.
    assert quiet_until(_utc(2026, 10, 1, 15, 0), "America/Chicago", DEFAULT) is None
    # 02:00 UTC is 21:00 the day before in Chicago: wait for 08:00 CDT = 13:00 UTC.
    assert quiet_until(_utc(2026, 10, 2, 2, 0), "America/Chicago", DEFAULT) == _utc(2026, 10, 2, 13, 0)
    # 12:59 UTC is 07:59 in Chicago: one more minute.
    assert quiet_until(_utc(2026, 10, 2, 12, 59), "America/Chicago", DEFAULT) == _utc(2026, 10, 2, 13, 0)
    # 20:00 local exactly is quiet; 19:59 is not.
    assert quiet_until(_utc(2026, 10, 2, 1, 0), "America/Chicago", DEFAULT) == _utc(2026, 10, 2, 13, 0)
    assert quiet_until(_utc(2026, 10, 2, 0, 59), "America/Chicago", DEFAULT) is None


def test_the_same_instant_is_day_in_one_zone_and_night_in_another() -> None:
    instant = _utc(2026, 10, 1, 16, 0)  # 12:00 in New York, 09:00 in Los Angeles, 06:00 in Honolulu
    assert quiet_until(instant, "America/New_York", DEFAULT) is None
    assert quiet_until(instant, "America/Los_Angeles", DEFAULT) is None
    assert quiet_until(instant, "Pacific/Honolulu", DEFAULT) == _utc(2026, 10, 1, 18, 0)
    # Madrid, 18:00 local: fine; Tokyo, 01:00 the next day: 08:00 JST is 23:00 UTC.
    assert quiet_until(instant, "Europe/Madrid", DEFAULT) is None
    assert quiet_until(instant, "Asia/Tokyo", DEFAULT) == _utc(2026, 10, 1, 23, 0)


def test_quiet_hours_end_at_local_wall_time_across_daylight_saving_changes() -> None:
    # US DST ends Sunday 2026-11-01 at 02:00: 21:00 CDT on Oct 31 waits for 08:00 CST (14:00 UTC).
    assert quiet_until(_utc(2026, 11, 1, 2, 0), "America/Chicago", DEFAULT) == _utc(2026, 11, 1, 14, 0)
    # US DST starts Sunday 2026-03-08: 21:00 CST on Mar 7 waits for 08:00 CDT (13:00 UTC).
    assert quiet_until(_utc(2026, 3, 8, 3, 0), "America/Chicago", DEFAULT) == _utc(2026, 3, 8, 13, 0)
    # Europe changes on 2026-03-29: 23:00 CET on Mar 28 waits for 08:00 CEST (06:00 UTC).
    assert quiet_until(_utc(2026, 3, 28, 22, 0), "Europe/Madrid", DEFAULT) == _utc(2026, 3, 29, 6, 0)


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 30))
    assert quiet_until(_utc(2026, 10, 1, 17, 15), "America/Chicago", lunch) == _utc(2026, 10, 1, 18, 30)
    assert quiet_until(_utc(2026, 10, 1, 18, 30), "America/Chicago", lunch) is None
    assert quiet_until(_utc(2026, 10, 1, 3, 0), "America/Chicago", lunch) is None


def test_dates_in_texts_are_formatted_for_the_locale() -> None:
    deadline = {"last_day": date(2026, 12, 1).isoformat()}
    assert "Deadline: Dec 1, 2026." in _text(deadlines=deadline).body
    assert "Plazo: 1 dic 2026." in _text("es", deadlines=deadline).body


# ---------------------------------------------------------------------------------------------
# The roster import: users.csv → the guardian's contact


def test_the_roster_import_reads_numbers_and_choices_of_users_csv(tmp_path: Path) -> None:
    from onpace_core.roster.enrollments import build_enrollments
    from onpace_core.roster.oneroster import read_roster
    from onpace_rules.program_files import load_program_file

    root = Path(__file__).resolve().parents[2]
    demo = root / "demo" / "roster"
    for name in ("orgs.csv", "academicSessions.csv", "classes.csv", "enrollments.csv"):
        (tmp_path / name).write_text((demo / name).read_text(encoding="utf-8"), encoding="utf-8")
    users = (demo / "users.csv").read_text(encoding="utf-8").splitlines()
    header = users[0].split(",")
    sms, phone = header.index("sms"), header.index("phone")
    edited = [users[0] + ",metadata.onpace.sms"]
    for line in users[1:]:
        cells = line.split(",")
        extra = ""
        if cells[0] == "par-lee":  # a number to text in the sms column
            cells[sms] = "(573) 555-0142"
        elif cells[0] == "par-ortiz":  # a phone, and yes in the extension column
            cells[phone], extra = "573.555.0143", "yes"
        elif cells[0] == "stu-ava":  # a student's number, but no word about texts
            cells[phone] = "5735550144"
        edited.append(",".join(cells) + "," + extra)
    (tmp_path / "users.csv").write_text("\n".join(edited) + "\n", encoding="utf-8")
    program = load_program_file(root / "demo" / "programs" / "riverbend-online.yaml")

    records = build_enrollments(read_roster(tmp_path), [program])

    contacts = {(c.role, c.address.split("@")[0]): c for r in records for c in r.contacts}
    lee = contacts[("guardian", "grace.lee")]
    assert (lee.phone, lee.sms) == ("+15735550142", True)
    ortiz = contacts[("guardian", "maria.ortiz")]
    assert (ortiz.phone, ortiz.sms) == ("+15735550143", True)
    ava = contacts[("student", "ava.lee")]
    assert (ava.phone, ava.sms) == ("+15735550144", None)
    # Cara shares Ben's guardian (the demo's household digest): her record carries the same
    # number and choice; her own row has neither column.
    cara = [c for r in records if r.student_id == "stu-cara" for c in r.contacts]
    assert {(c.role, c.phone, c.sms) for c in cara if c.role != "instructor"} == {
        ("guardian", "+15735550143", True),
        ("student", None, None),
    }
