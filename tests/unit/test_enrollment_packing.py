"""The enrollment item's compact stored forms (``store.packed``, docs/scale.md "Item sizes")."""

from __future__ import annotations

from datetime import date

from onpace_core.store.enrollments import roster_facts_from_json, roster_facts_json
from onpace_core.store.models import Contact, EnrollmentModel
from onpace_core.store.packed import (
    KIND_CODES,
    ContactsAttribute,
    InstantAttribute,
    pack_contact,
    pack_instant,
    unpack_contact,
    unpack_instant,
)
from onpace_rules.facts import ACTIVITY_KINDS, RosterFacts


def test_every_activity_kind_has_its_own_code_and_last_instant_name() -> None:
    assert set(KIND_CODES) == set(ACTIVITY_KINDS)
    assert len(set(KIND_CODES.values())) == len(KIND_CODES)
    attributes = EnrollmentModel.get_attributes()
    for kind, code in KIND_CODES.items():
        assert attributes[f"last_{kind}_at"].attr_name == f"l{code}"


def test_stored_names_are_distinct_and_keys_keep_theirs() -> None:
    """Two attributes under one stored name would overwrite each other; the table and index
    keys are named in template.yaml."""
    names = [a.attr_name for a in EnrollmentModel.get_attributes().values()]
    assert len(names) == len(set(names))
    for key in ("enrollment_key", "due_key", "wake_on", "student_key"):
        assert EnrollmentModel.get_attributes()[key].attr_name == key


def test_instants_pack_to_nine_characters_and_back() -> None:
    for instant in (
        "2026-09-08T14:45:00.000000Z",
        "2026-02-28T23:59:59.999999Z",
        "1999-01-01T00:00:00.000001Z",
    ):
        packed = pack_instant(instant)
        assert len(packed) == 9 and unpack_instant(packed) == instant
    assert unpack_instant("2026-09-08T14:45:00.000000Z") == "2026-09-08T14:45:00.000000Z"  # unpacked form
    attribute = InstantAttribute()
    assert attribute.deserialize(attribute.serialize("2026-09-08T14:45:00Z")) == "2026-09-08T14:45:00Z"


def test_contacts_pack_to_one_short_string_each_and_back() -> None:
    contacts = [
        Contact(role="student", address="ben@students.example", name="Ben", language="en", source_id="s1"),
        Contact(role="guardian", address="mom@family.example", name=None, language="es"),
        Contact(role="counselor", address="c@school.example", name="Dr. C", title="School counselor"),
        Contact(role="principal", address="p@school.example"),  # a role without a code
    ]
    packed = [pack_contact(c) for c in contacts]
    assert packed[0] == "s\x1fben@students.example\x1fBen\x1fen\x1fs1"
    assert packed[3] == "principal\x1fp@school.example"
    for contact, text in zip(contacts, packed, strict=True):
        back = unpack_contact(text)
        fields = ("role", "address", "name", "language", "source_id", "title")
        assert [getattr(back, f) for f in fields] == [getattr(contact, f) for f in fields]


def test_contacts_attribute_reads_the_packed_form_and_the_map_form() -> None:
    attribute = ContactsAttribute()
    stored = attribute.serialize([Contact(role="guardian", address="g@family.example", name="G")])
    assert stored == [{"S": "g\x1fg@family.example\x1fG"}]
    as_map = {"M": {"role": {"S": "instructor"}, "address": {"S": "t@school.example"}}}
    read = attribute.deserialize([*stored, as_map])
    assert [(c.role, c.address, c.name) for c in read] == [
        ("guardian", "g@family.example", "G"),
        ("instructor", "t@school.example", None),
    ]


def test_roster_facts_leave_out_what_the_item_holds_anyway() -> None:
    facts = RosterFacts(
        student_address="ben@students.example",
        class_title="Biology",
        guardians=2,
        birth_date=date(2010, 5, 1),
    )
    text = roster_facts_json(facts, "ben@students.example", "Biology")
    assert text == '{"birth_date":"2010-05-01","guardians":2}'
    assert roster_facts_from_json(text, "ben@students.example", "Biology") == facts
    # What differs from the item is kept, a none included.
    other = RosterFacts(student_address=None, class_title="Chemistry")
    text = roster_facts_json(other, "ben@students.example", "Biology")
    assert roster_facts_from_json(text, "ben@students.example", "Biology") == other
