"""The identity rows a roster gives the ingest's identity map (roster/identities.py)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from onpace_core.ingest.event import Ref
from onpace_core.roster.identities import IdentityRow, identity_rows, mbox_sha1sum
from onpace_core.roster.models import parse_user_ids
from onpace_core.roster.oneroster import read_roster

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oneroster"


def _refs(rows: list[IdentityRow], kind: str, sourced_id: str) -> set[Ref]:
    return {r.ref for r in rows if r.kind == kind and r.sourced_id == sourced_id}


def test_a_12_user_is_named_every_way_the_export_gives() -> None:
    rows = identity_rows(read_roster(FIXTURES / "riverbend-v1p2-bulk"))
    email = "ava.lee@students.riverbend.example"
    assert _refs(rows, "user", "stu-ava") == {
        Ref("sourcedId", "stu-ava"),
        Ref("email", email),
        Ref("mbox_sha1sum", hashlib.sha1(f"mailto:{email}".encode()).hexdigest()),
        Ref("username", "ava.lee"),
        Ref("identifier", "1001"),  # users.csv identifier
        Ref("identifier", "SIS-1001"),  # 1.2 userMasterIdentifier
        Ref("userId:LDAP", "ava.lee"),
        Ref("userId:Canvas", "1001"),
    }
    # A user without email, username or ids is still named by its sourcedId.
    assert Ref("sourcedId", "par-lee") in _refs(rows, "user", "par-lee")
    assert not any(r.ref.namespace == "username" for r in rows if r.sourced_id == "par-lee")


def test_a_class_is_named_by_its_code_title_and_course_code() -> None:
    rows = identity_rows(read_roster(FIXTURES / "riverbend-v1p2-bulk"))
    assert _refs(rows, "class", "cls-eng10") == {
        Ref("sourcedId", "cls-eng10"),
        Ref("classCode", "ENG10-OL"),
        Ref("title", "English 10 Online"),
        Ref("courseCode", "ENG10"),  # courses.csv
    }


def test_each_row_once_and_deleted_users_named_by_none() -> None:
    roster = read_roster(FIXTURES / "riverbend-v1p2-delta")
    rows = identity_rows(roster)
    assert len(rows) == len(set(rows))
    assert not any(r.sourced_id == "stu-dan" for r in rows)  # tobedeleted in the delta
    assert Ref("identifier", "SIS-1005") in _refs(rows, "user", "stu-eli")


def test_email_is_lower_cased_before_hashing(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "riverbend-v1p2-bulk", export)
    users = export / "users.csv"
    users.write_text(users.read_text(encoding="utf-8").replace("ava.lee@students", "Ava.Lee@Students"))
    refs = _refs(identity_rows(read_roster(export)), "user", "stu-ava")
    assert Ref("email", "ava.lee@students.riverbend.example") in refs
    assert Ref("mbox_sha1sum", mbox_sha1sum("ava.lee@students.riverbend.example")) in refs
    assert not any(r.value.startswith("Ava.") for r in refs)


def test_user_ids_follow_the_specs_list_of_type_identifier_pairs() -> None:
    assert parse_user_ids("{LDAP:12},{LTI:15},{Fed:23}") == (("LDAP", "12"), ("LTI", "15"), ("Fed", "23"))
    assert parse_user_ids("{ Canvas : 1001 }") == (("Canvas", "1001"),)
    assert parse_user_ids("") == ()
    for wrong in ("LDAP:12", "{LDAP:12} junk", "{nocolon}"):
        with pytest.raises(ValueError, match=r"is not a list of \{type:identifier\} items"):
            parse_user_ids(wrong)
