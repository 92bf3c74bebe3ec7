"""The console's Students, Student timeline, email-as-sent and Audit log views over HTTP.

Through the local gateway (ID tokens of the local identity provider) into the real console
function on moto server, on a district built by the real roster import and notify function
(tests/console_views_seed.py)."""

from __future__ import annotations

import csv
import html
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import pytest
from onpace_core.audit.log import read
from onpace_local.stack import LocalStack

from tests.console_session import ConsoleSession
from tests.console_views_seed import DAY0, ViewsDistrict, seed_views_district

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seeded(local_stack: LocalStack, repo_root: Path) -> ViewsDistrict:
    return seed_views_district(local_stack, repo_root)


@pytest.fixture(scope="module")
def admin(seeded: ViewsDistrict, console_sign_in: Callable[..., ConsoleSession]) -> ConsoleSession:
    return console_sign_in(seeded.district)


def _view(admin: ConsoleSession, name: str, **query: str) -> str:
    status, headers, body = admin.get(f"/console/views/{name}", query)
    assert status == 200, body
    assert headers["cache-control"] == "no-store"
    assert headers["content-type"].startswith("text/html")
    assert isinstance(body, str)
    return body


def _attr(page: str, testid: str, attribute: str) -> list[str]:
    pattern = rf'<[^>]*data-testid="{testid}"[^>]*>'
    return [
        html.unescape(m.group(1))
        for tag in re.findall(pattern, page)
        if (m := re.search(rf'{attribute}="([^"]*)"', tag))
    ]


def _seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'data-testid="audit-row" data-seq="(\d+)"', page)]


def _log(seeded: ViewsDistrict) -> list[Any]:
    return list(read(seeded.district, limit=1000))


# ---------------------------------------------------------------------------------------------
# Students


def test_a_student_is_found_by_name_and_opens_the_timeline(admin: ConsoleSession) -> None:
    page = _view(admin, "students", q="ben ortiz")
    assert _attr(page, "student-result", "data-student") == ["stu-ben"]
    assert _attr(page, "open-timeline", "href") == ["#/timeline?student=stu-ben"]
    assert "ben.ortiz@students.riverbend.k12.example" in page and "English 10" in page
    assert '<label for="student-q">' in page and 'id="student-q"' in page


def test_a_shared_name_finds_both_and_nothing_finds_nothing(admin: ConsoleSession) -> None:
    page = _view(admin, "students", q="Ortiz")
    assert sorted(_attr(page, "student-result", "data-student")) == ["stu-ben", "stu-cara"]
    page = _view(admin, "students", q="Zzyzx")
    assert _attr(page, "student-result", "data-student") == []
    assert "No student matches" in page


def test_the_students_api_answers_the_same(admin: ConsoleSession) -> None:
    status, _, body = admin.get("/console/api/students", {"q": "Cara"})
    assert status == 200
    assert [s["student_id"] for s in body["students"]] == ["stu-cara"]
    assert body["students"][0]["name"] == "Cara Ortiz"
    assert [c["class_id"] for c in body["students"][0]["classes"]] == ["cls-alg1"]


# ---------------------------------------------------------------------------------------------
# Timeline and the email as sent


def test_the_timeline_shows_the_notice_its_rule_policy_status_and_emails(
    admin: ConsoleSession, seeded: ViewsDistrict
) -> None:
    page = _view(admin, "timeline", student="stu-ben")
    assert _attr(page, "timeline-student", "class") and "Ben Ortiz" in page
    assert _attr(page, "enrollment", "data-class")[0] == "cls-eng10"
    assert "cps.pacing.ipr_warning_2w" in page and "test-2026.1" in page
    links = _attr(page, "view-email", "href")
    roles = _attr(page, "view-email", "data-role")
    assert sorted(roles) == ["guardian", "student"]
    targets = [parse_qs(link.split("?", 1)[1]) for link in links]
    assert {t["notice"][0] for t in targets} == {seeded.notice_id}
    assert sorted(t["r"][0] for t in targets) == ["r0", "r1"]
    kinds = _attr(page, "timeline-event", "data-kind")
    assert "notice" in kinds and "deadline" in kinds and "activity" in kinds
    assert "last log-in" in page and "10 % complete" in page and "<dd>10 %</dd>" in page


def test_an_unknown_student_is_not_echoed(admin: ConsoleSession) -> None:
    page = _view(admin, "timeline", student="stu-nobody-xyz")
    assert "stu-nobody-xyz" not in page and 'data-testid="timeline-empty"' in page


def test_the_email_as_sent_in_a_sandboxed_frame_and_the_other_language(
    admin: ConsoleSession, seeded: ViewsDistrict
) -> None:
    status, _, kept = admin.get(f"/console/api/notices/{quote(seeded.notice_id, safe='')}/emails/0")
    assert status == 200
    page = _view(admin, "email", notice=seeded.notice_id, r="r0")
    frames = re.findall(r"<iframe[^>]*>", page)
    assert len(frames) == 2  # as sent, and the other language
    for frame in frames:
        assert re.search(r"\ssandbox\s", frame) and "allow-scripts" not in frame and "allow-same" not in frame
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frames[0]).group(1))  # type: ignore[union-attr]
    assert srcdoc == kept["html"]  # exactly what was sent, escaped into the attribute
    assert html.unescape(_text(page, "sent-subject")) == kept["subject"]
    assert html.unescape(_text(page, "sent-to")) == kept["to"]
    # The student's email was English: Spanish is rendered now, labelled as not sent.
    assert "As sent (English)" in page
    assert _text(page, "other-label") == "rendered now, not sent"
    assert "Spanish" in page and html.unescape(_text(page, "other-subject")) != kept["subject"]


def test_the_guardians_spanish_email_has_english_beside_it(
    admin: ConsoleSession, seeded: ViewsDistrict
) -> None:
    page = _view(admin, "email", notice=seeded.notice_id, r="1")
    assert "As sent (Spanish)" in page
    assert re.search(r"English: <span[^>]*>rendered now, not sent", page)


def test_an_email_that_does_not_exist_is_404(admin: ConsoleSession, seeded: ViewsDistrict) -> None:
    status, _, body = admin.get("/console/views/email", {"notice": seeded.notice_id, "r": "r7"})
    assert status == 404 and 'data-testid="email-missing"' in body
    status, _, body = admin.get("/console/views/email", {"notice": seeded.notice_id, "r": "x"})
    assert status == 400


def _text(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', page, re.S)
    assert found, testid
    return found.group(1).strip()


# ---------------------------------------------------------------------------------------------
# Audit log


def _expected(seeded: ViewsDistrict, keep: Callable[[Any], bool]) -> list[int]:
    return [int(e.seq) for e in _log(seeded) if keep(e)]  # read() is newest first


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ({"class": "cls-alg1"}, lambda e: e.class_id == "cls-alg1"),
        ({"rule": "cps.participation.warning"}, lambda e: e.rule_id == "cps.participation.warning"),
        ({"type": "action.taken"}, lambda e: e.type == "action.taken"),
        ({"status": "bounced"}, lambda e: e.type == "delivery.bounced"),
        ({"status": "delivered", "class": "cls-eng10"}, lambda e: e.type == "delivery.delivered"),
        ({"from": "2026-09-22", "to": "2026-09-22"}, lambda e: e.at.startswith("2026-09-22")),
        ({"who": "Ava Lee"}, lambda e: e.student_id == "stu-ava"),
        (
            {"who": "cara", "type": "delivery.bounced"},
            lambda e: (e.student_id, e.type) == ("stu-cara", "delivery.bounced"),
        ),
    ],
)
def test_each_filter_selects_its_entries(
    admin: ConsoleSession, seeded: ViewsDistrict, query: dict[str, str], keep: Callable[[Any], bool]
) -> None:
    expected = _expected(seeded, keep)
    assert expected
    assert _seqs(_view(admin, "audit", **query)) == expected


def test_rows_carry_readable_names_and_labelled_dates(admin: ConsoleSession, seeded: ViewsDistrict) -> None:
    page = _view(admin, "audit", who="Ava Lee")
    assert "Ava Lee" in page and "English 10" in page
    assert "Written (UTC)" in page and "Concerns (program-local day)" in page
    assert "dates are days in UTC" in page


def test_a_name_of_several_students_asks_which(admin: ConsoleSession) -> None:
    page = _view(admin, "audit", who="Ortiz", rule="r9")
    assert _seqs(page) == []
    links = _attr(page, "choose-student", "href")
    assert sorted(parse_qs(link.split("?", 1)[1])["student"][0] for link in links) == ["stu-ben", "stu-cara"]
    assert all("rule=r9" in link and "who=" not in link for link in links)  # the other filters kept
    assert _attr(page, "export-csv", "href") == []  # nothing to export until one is picked


def test_older_pages_follow_the_cursor_to_the_end(admin: ConsoleSession, seeded: ViewsDistrict) -> None:
    seen: list[int] = []
    query = {"limit": "3"}
    for _ in range(20):
        page = _view(admin, "audit", **query)
        seen.extend(_seqs(page))
        older = _attr(page, "load-older", "href")
        if not older:
            break
        query = {k: v[0] for k, v in parse_qs(unquote(older[0]).split("?", 1)[1]).items()} | {"limit": "3"}
    assert seen == _expected(seeded, lambda e: True)


def test_export_csv_holds_the_filtered_rows(admin: ConsoleSession, seeded: ViewsDistrict) -> None:
    page = _view(admin, "audit", **{"class": "cls-eng10", "from": "2026-09-20"})
    (href,) = _attr(page, "export-csv", "href")
    assert _attr(page, "export-csv", "data-download") == [f"audit-{seeded.district}.csv"]
    path, _, raw_query = href.partition("?")
    status, headers, body = admin.get(path, {k: v[0] for k, v in parse_qs(raw_query).items()})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    expected = _expected(seeded, lambda e: e.class_id == "cls-eng10" and e.at >= "2026-09-20")
    assert [int(r["seq"]) for r in rows] == expected
    assert {r["student"] for r in rows} == {"Ava Lee", "Ben Ortiz"}
    assert rows[-1]["written (UTC)"] < DAY0.isoformat()  # Ben's decision came the day before


def test_bad_filters_are_400(admin: ConsoleSession) -> None:
    for query in ({"from": "yesterday"}, {"status": "lost"}, {"tz": "Mars/Olympus"}, {"cursor": "garbled"}):
        status, _, body = admin.get("/console/views/audit", query)
        assert status == 400, query
        assert body["message"]
    status, _, body = admin.get("/console/api/audit/export", {"who": "Ortiz"})
    assert status == 400 and "2 students" in body["message"]


def test_the_views_log_no_student_data(
    admin: ConsoleSession, seeded: ViewsDistrict, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _view(admin, "students", q="ben ortiz")
    _view(admin, "timeline", student="stu-ben")
    _view(admin, "email", notice=seeded.notice_id, r="r1")
    _view(admin, "audit", who="Ava Lee")
    status, _, _ = admin.get("/console/api/audit/export", {"who": "Cara Ortiz"})
    assert status == 200
    # Each record with every attribute it carries (Powertools' ``extra`` keys included).
    logged = "\n".join(repr(vars(record)) for record in caplog.records)
    for message in ("students searched", "timeline read", "email view", "audit view read", "audit exported"):
        assert message in logged  # the views did log
    for secret in (
        "Ortiz",
        "ortiz",
        "stu-ben",
        "stu-ava",
        "stu-cara",
        "Ava Lee",
        "rosa@family",
        "cls-eng10#stu",
    ):
        assert secret not in logged, secret
