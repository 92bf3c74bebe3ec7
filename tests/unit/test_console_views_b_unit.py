"""The pure parts of the views B routers: query parsing, the PDF's file name, posted forms,
and the templates rendering data as text."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import console_access as access
import pytest
from console_evidence import pdf_file_name
from console_upcoming import parse_days


@pytest.mark.parametrize(("raw", "days"), [(None, 7), ("", 7), (" 1 ", 1), ("7", 7)])
def test_upcoming_days_are_1_or_7(raw: str | None, days: int) -> None:
    assert parse_days(raw) == days


@pytest.mark.parametrize("raw", ["3", "14", "0", "-1", "7x", "١"])
def test_other_days_are_refused(raw: str) -> None:
    with pytest.raises(access.BadQueryError, match="days must be 1 or 7"):
        parse_days(raw)


def test_the_pdf_file_name_holds_only_safe_characters() -> None:
    assert pdf_file_name("stu-1", "cls.1_a") == "evidence-stu-1-cls.1_a.pdf"
    name = pdf_file_name('a"b;\r\nc/../d', "é 1")
    assert name == "evidence-a_b_c_.._d-_1.pdf"
    assert len(pdf_file_name("x" * 500, "y" * 500)) == len("evidence--.pdf") + 120


def test_a_posted_form_keeps_blank_fields_and_the_first_value() -> None:
    event = SimpleNamespace(decoded_body="csrf=abc&reason=&ref=d%23c%23s&ref=other&decision=approve")
    assert access.posted_form(event) == {"csrf": "abc", "reason": "", "ref": "d#c#s", "decision": "approve"}
    assert access.posted_form(SimpleNamespace(decoded_body=None)) == {}
    with pytest.raises(access.BadQueryError, match="over"):
        access.posted_form(SimpleNamespace(decoded_body="a=" + "x" * access.MAX_FORM_BYTES))


def test_the_queue_renders_names_as_text_and_every_form_with_its_csrf_field() -> None:
    waiting = SimpleNamespace(
        ref="d#cls-1#stu-1",
        student_id="stu-1",
        student_name='<img src=x onerror="alert(1)">',
        class_id="cls-1",
        class_title="Biology",
        rule_id="r.drop",
        title="Drop",
        requested_on=date(2026, 10, 10),
        due_on=date(2026, 10, 10),
        policy_version="v1",
        status_after="dropped",
        reason=None,
    )
    html = access.render(
        "queues_view.html.j2",
        approvals=[waiting],
        appeals=[],
        quarantined=[],
        alerts=[],
        result=None,
        csrf="tok123",
        outcomes=("granted", "denied", "withdrawn"),
        max_reason=1000,
    )
    assert "<img" not in html and "&lt;img src=x" in html
    assert html.count('<input type="hidden" name="csrf" value="tok123">') == 1
    assert 'action="/console/views/queues/approval"' in html
    assert 'href="#/packet?student=stu-1&amp;class=cls-1"' in html
    assert "<script" not in html
