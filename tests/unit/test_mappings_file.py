"""`onpace load mappings`: the admin's identity mappings file, checked line by line before any write."""

from __future__ import annotations

from pathlib import Path

import pytest
from onpace_core.ingest.event import Ref
from onpace_core.ingest.identity import read_mappings_file
from onpace_core.roster.identities import IdentityRow, mbox_sha1sum
from onpace_local.cli import main
from onpace_rules.input_files import InputFileError

HEADER = "kind,namespace,value,sourcedId\n"


def test_rows_are_read_with_emails_lower_cased_and_their_sha1(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        HEADER
        + "user,email,Ana@Home.Example,stu-1\nclass,courseCode,BIO,cls-1\n\nuser,userId:sis,S-5,stu-2\n"
    )
    assert read_mappings_file(path) == [
        IdentityRow("user", Ref("email", "ana@home.example"), "stu-1"),
        IdentityRow("user", Ref("mbox_sha1sum", mbox_sha1sum("ana@home.example")), "stu-1"),
        IdentityRow("class", Ref("courseCode", "BIO"), "cls-1"),
        IdentityRow("user", Ref("userId:sis", "S-5"), "stu-2"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("kind,value\n", 1, "the first line must be the header"),
        (HEADER + "user,email,a@b.org,stu-1\nteacher,email,x@y.org,t-1\n", 3, "kind must be user or class"),
        (HEADER + "class,email,a@b.org,cls-1\n", 2, "namespace 'email' is not one of"),
        (HEADER + "user,canvas,44\n", 2, "expected 4 columns"),
        (HEADER + "user,canvas,,stu-1\n", 2, "must not be empty"),
    ],
)
def test_a_mistake_names_its_file_and_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(InputFileError) as raised:
        read_mappings_file(path)
    assert f"{path}:{line}:" in str(raised.value) and problem in str(raised.value)


def test_the_command_refuses_a_bad_file_before_reaching_any_deployment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "user,fax,1,stu-1\n")
    # No table names or region in the environment: the file is refused first.
    assert (
        main(["load", "mappings", str(path), "--district", "d1", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    )
    assert f"{path}:2:" in capsys.readouterr().err


def test_help_describes_the_columns(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["load", "mappings", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "kind,namespace,value,sourcedId" in text and "--district" in text
