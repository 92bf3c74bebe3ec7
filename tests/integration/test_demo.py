"""`onpace demo --no-serve` from the command line: exits 0 and prints the expected decisions."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXPECTED = [
    # (evaluation day, rule id, kind, student id, deadlines stated); lapses count whole days:
    # each lapse's notice comes the day after its N-th whole day.
    ("2026-09-11", "msc.progress.step1_contact", "notice", "stu-hal", "-"),
    ("2026-09-11", "msc.progress.step1_contact", "notice", "stu-ivy", "-"),
    (
        "2026-09-16",
        "csu.engagement.at_risk_14d",
        "notice",
        "stu-dan",
        "last_day 2026-09-22, withdrawal 2026-09-23",
    ),
    ("2026-09-18", "msc.progress.step2_reminder", "notice", "stu-hal", "-"),
    (
        "2026-09-18",
        "csu.engagement.at_risk_14d",
        "notice",
        "stu-eve",
        "last_day 2026-09-24, withdrawal 2026-09-25",
    ),
    ("2026-09-25", "cps.pacing.ipr_warning_2w", "notice", "stu-cara", "ipr 2026-10-09, drop 2026-10-10"),
    (
        "2026-09-25",
        "msc.progress.step3_removal_notice",
        "notice",
        "stu-hal",
        "last_day 2026-09-27, removal 2026-09-28",
    ),
    ("2026-09-25", "cps.pacing.ipr_warning_2w", "notice", "stu-ben", "ipr 2026-10-09, drop 2026-10-10"),
    ("2026-09-25", "csu.engagement.withdraw_21d", "action", "stu-eve", "-"),
    ("2026-09-28", "msc.progress.step4_removal", "action", "stu-hal", "reenroll 2026-10-05"),
    ("2026-10-02", "cps.pacing.ipr_warning_1w", "notice", "stu-ben", "ipr 2026-10-09, drop 2026-10-10"),
    ("2026-10-10", "cps.pacing.ipr_drop", "action", "stu-ben", "appeal 2026-10-13"),
]
LINE = re.compile(
    r"^\s+(\d{4}-\d\d-\d\d)\s+(\S+)\s+(notice|action|skipped)\s+.*?\((stu-[a-z]+)\)\s+.+?\s{2,}"
    r"((?:\w+ \d{4}-\d\d-\d\d)(?:, \w+ \d{4}-\d\d-\d\d)*|-)\s+(\w+)\s+(\d+)$"
)


def _busy_port() -> socket.socket:
    """A socket listening on a free loopback port: another program holding it."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


@pytest.fixture(scope="module")
def demo_output(repo_root: Path) -> str:
    # --no-serve with its --port taken by another program: it never binds that port, so it runs.
    with _busy_port() as holder:
        port = holder.getsockname()[1]
        completed = subprocess.run(
            [sys.executable, "-m", "onpace_local.cli", "demo", "--no-serve", "--port", str(port)],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=240,
            env=None,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_no_serve_binds_no_console_port_and_serves_nothing(demo_output: str) -> None:
    assert "Console:" not in demo_output
    assert "(Ctrl-C to stop)" not in demo_output
    assert "written to" in demo_output  # where the emails are, served or not


def test_a_busy_port_is_one_line_and_a_non_zero_exit(repo_root: Path) -> None:
    with _busy_port() as holder:
        port = holder.getsockname()[1]
        completed = subprocess.run(
            [sys.executable, "-m", "onpace_local.cli", "demo", "--port", str(port), "--to", "2026-08-25"],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert completed.returncode == 4
    assert completed.stdout == ""  # said before moto starts
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert f"port {port}" in lines[0] and "--port" in lines[0]
    assert "Traceback" not in completed.stderr


def test_serving_prints_the_console_the_sign_in_and_the_mail_folder(tmp_path: Path) -> None:
    from onpace_local.demo import serving_lines
    from onpace_local.identity_provider import LocalUser
    from onpace_local.mail_folder import MailFolder

    admins = [
        LocalUser("admin@riverbend.example.org", "pw-one", ("riverbend",), "s1"),
        LocalUser("multi@onpace.example.org", "pw-one", ("riverbend", "riverbend-sandbox"), "s2"),
    ]
    text = serving_lines("http://127.0.0.1:8321/console", admins, MailFolder(directory=tmp_path))
    assert "Console: http://127.0.0.1:8321/console" in text
    assert "admin@riverbend.example.org  password pw-one  (districts: riverbend)" in text
    assert "(districts: riverbend, riverbend-sandbox)" in text
    assert f"Emails sent: {tmp_path / 'index.html'}" in text


def test_demo_prints_every_decision_of_the_term(demo_output: str) -> None:
    found = [m.groups() for m in map(LINE.match, demo_output.splitlines()) if m]
    assert [
        (on, rule, kind, student, deadlines) for on, rule, kind, student, deadlines, _, _ in found
    ] == EXPECTED
    assert all(int(emails) >= 1 for *_, emails in found)
    # Ben's second guardian's address bounces on 2026-09-25 (SES's mailbox simulator) and is
    # suppressed: his later notices reach everyone else ("partial"); every other notice is sent.
    for on, _, _, student, _, status, _ in found:
        expected = "partial" if student == "stu-ben" and on > "2026-09-25" else "sent"
        assert status == expected, (on, student, status)


def test_demo_summary_covers_the_six_foundation_rules(demo_output: str) -> None:
    for rule_id in (
        "cps.pacing.ipr_warning_2w",
        "cps.pacing.ipr_warning_1w",
        "cps.pacing.ipr_drop",
        "csu.engagement.at_risk_14d",
        "csu.engagement.withdraw_21d",
        "msc.progress.step1_contact",
    ):
        assert re.search(rf"^{re.escape(rule_id)}\s+\d+\s+\d+\s+0\s+[1-9]\d*$", demo_output, re.M), rule_id
    assert "refused (401) 1" in demo_output
    assert "duplicates 12" in demo_output  # the re-sent day is counted as duplicates, not stored twice
    assert "kept for review (not on the roster): 1" in demo_output
    assert re.search(r"54 days replayed in (\d+\.\d) s", demo_output)
    replay_seconds = float(re.search(r"replayed in (\d+\.\d) s", demo_output).group(1))  # type: ignore[union-attr]
    # About 28 s on an idle 2-core machine; four times that is a regression, not machine noise.
    assert replay_seconds < 120
    assert "[ 54/54] 2026-10-16 Fri" in demo_output


def test_demo_sends_a_household_digest_and_an_instructor_digest(demo_output: str) -> None:
    """Issue 12, item 6: Ben's and Cara's guardian gets one email for both IPR warnings of
    2026-09-25; the biology teacher one for Hal's and Ivy's step-1 prompts of 2026-09-11."""
    letters = re.search(
        r"^letters sent: (\d+) \(household digests (\d+), instructor digests (\d+),", demo_output, re.M
    )
    assert letters, demo_output[-2000:]
    sent, household, instructor = map(int, letters.groups())
    assert household >= 1 and instructor >= 1
    emails = int(re.search(r"^total\s+\d+\s+\d+\s+\d+\s+(\d+)$", demo_output, re.M).group(1))  # type: ignore[union-attr]
    assert sent < emails  # fewer emails than notice deliveries: the digests carry several
    assert re.search(r"^\[ 33/54\] 2026-09-25 Fri .* letters\s+\d+ ", demo_output, re.M)


def _counts(text: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r"(\w+) (\d+)", text)}


def test_demo_feeds_the_district_through_xapi_caliper_and_plain(demo_output: str) -> None:
    """Issue 10: the dual-credit school's Moodle reports to the xAPI LRS, the cooperative's LMS
    sends Caliper envelopes, the rest arrives as plain webhooks; the decisions above are the same.
    The stored counts are the demo's Scan of the Events table by ``source`` and ``status``."""
    sent_line = re.search(r"^events sent: (.+)$", demo_output, re.M)
    stored_line = re.search(
        r"^events stored \(Events table, by format and status\): (.+)$", demo_output, re.M
    )
    assert sent_line and stored_line, demo_output[-2000:]
    sent = {
        fmt: (int(events), int(requests))
        for fmt, events, requests in re.findall(r"(\w+) (\d+) \((\d+) requests\)", sent_line.group(1))
    }
    stored = {
        part.split(" ", 1)[0]: _counts(part.split(" ", 1)[1]) for part in stored_line.group(1).split("; ")
    }
    assert set(sent) == set(stored) == {"plain", "xapi", "caliper"}
    assert sum(events for events, _ in sent.values()) == 290  # every line of demo/events.jsonl
    for fmt, (events, requests) in sent.items():
        assert events > 0 and sum(stored[fmt].values()) == events, fmt
        assert requests < events, fmt  # batched per day and format, not one request per event
    # Nothing quarantined but the term's one deliberate stranger (stu-zed, in a cooperative
    # class and on no roster): the xAPI share, which names students by username and courses by
    # short name, all resolved through the identity map.
    assert stored["xapi"] == {"folded": sent["xapi"][0]}
    assert stored["plain"] == {"folded": sent["plain"][0]}
    assert stored["caliper"] == {"folded": sent["caliper"][0] - 1, "unmatched": 1}
    assert (
        "kept for review (not on the roster): 1 (caliper: no enrollment of this student in this class)"
        in (demo_output)
    )
    # The progress lines say how many of each day's events went each way.
    per_day = re.findall(r"^\[\s*\d+/54\] \S+ \w+ .* events\s+(\d+)(?: \((.+)\))?$", demo_output, re.M)
    assert len(per_day) == 54
    totals: dict[str, int] = {}
    for count, split in per_day:
        day = _counts(split)
        assert sum(day.values()) == int(count)
        for fmt, n in day.items():
            totals[fmt] = totals.get(fmt, 0) + n
    assert totals == {fmt: events for fmt, (events, _) in sent.items()}


def test_demo_writes_its_emails_in_english_and_spanish_with_calendar_entries(
    demo_output: str, repo_root: Path
) -> None:
    found = re.search(
        r"^emails: (\d+) \(en (\d+), es (\d+); (\d+) with a calendar entry\) written to (\S+):",
        demo_output,
        re.M,
    )
    assert found, demo_output[-2000:]
    total, english, spanish, calendars = map(int, found.groups()[:4])
    assert total == english + spanish and english > 0 and spanish > 0 and calendars > 0
    folder = Path(found.group(5))
    assert folder == repo_root / ".onpace" / "demo-mail"
    emails = sorted(folder.glob("*.eml"))
    assert len(emails) == total and (folder / "index.html").is_file()
    # Maria Ortiz reads Spanish: her household digest (Ben and Cara) is in Spanish, with both
    # children's deadlines in its deadline.ics.
    to_maria = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in emails
        if "maria.ortiz" in p.name
    ]
    digests = [m for m in to_maria if "Cara" in m.as_string() and "Ben" in m.as_string()]
    assert digests, [str(m["Subject"]) for m in to_maria]
    html = digests[0].get_body(preferencelist=("html",))
    assert html is not None
    body = html.get_content()
    assert 'lang="es"' in body and "Ben" in body and "Cara" in body
    (calendar,) = [p for p in digests[0].walk() if p.get_content_type() == "text/calendar"]
    assert calendar.get_filename() == "deadline.ics"


def test_demo_bounce_suppresses_the_address_and_escalates(demo_output: str, repo_root: Path) -> None:
    found = re.search(
        r"^SES events \(mailbox simulator\): (.+); addresses suppressed (\d+), notices escalated to the "
        r"next contact (\d+)$",
        demo_output,
        re.M,
    )
    assert found, demo_output[-2000:]
    assert "Bounce (General)" in found.group(1)
    assert int(found.group(2)) == 1  # Luis Ortiz's address (bounce@simulator.amazonses.com)
    assert int(found.group(3)) >= 1
    # The escalation was sent: the counselor got the notice, saying why it came to her.
    escalated = [
        p
        for p in (repo_root / ".onpace" / "demo-mail").glob("*.html")
        if "could not be delivered to a parent or guardian" in p.read_text(encoding="utf-8")
    ]
    assert escalated and all("dana.ruiz" in p.name for p in escalated), escalated
