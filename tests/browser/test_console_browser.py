"""The console in headless Chromium, served by the local gateway from the local stack: signed in
through the local identity provider's form (authorization code + PKCE in the shell's script)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from onpace_core.audit.log import AuditEntry, append
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from playwright.sync_api import Page, expect

from tests.browser.conftest import WIDTHS, assert_accessible, sign_in_in_page

pytestmark = pytest.mark.browser

T0 = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)
MARKUP = '<img src="x" data-testid="injected" onerror="document.body.dataset.pwned=1">'

# (student, rule, type, summary): seq is the position + 1.
SEEDS = [
    ("stu-ana", "inactivity.day3", "notice.decided", "Ana inactive 3 school days: notice decided"),
    ("stu-ana", "inactivity.day3", "notice.sent", "Notice sent to Ana's guardian"),
    ("stu-ben", "pacing.behind", "notice.decided", "Ben 12% behind pace: notice decided"),
    ("stu-cy", "inactivity.day3", "notice.decided", f"Cy inactive 3 school days {MARKUP}"),
    ("stu-ben", "pacing.behind", "notice.sent", "Notice sent to Ben and his counselor"),
    ("stu-ana", "pacing.behind", "notice.skipped", "Ana behind pace, superseded by the inactivity notice"),
    ("stu-cy", "inactivity.day3", "action.taken", "Counselor referral for Cy"),
    ("stu-ben", "inactivity.day3", "notice.failed", "Delivery to Ben's guardian bounced"),
]


def expected(student: str | None = None, rule: str | None = None) -> list[str]:
    return [
        str(i + 1)
        for i, (s, r, _, _) in reversed(list(enumerate(SEEDS)))
        if (student is None or s == student) and (rule is None or r == rule)
    ]


@pytest.fixture(scope="module")
def seeded(local_stack: LocalStack) -> dict[str, str]:
    district = f"north-{uuid.uuid4().hex[:8]}"
    other = f"south-{uuid.uuid4().hex[:8]}"
    for i, (student, rule, kind, summary) in enumerate(SEEDS):
        append(
            district,
            [
                AuditEntry(
                    type=kind,
                    actor="evaluate" if kind != "notice.sent" else "notify",
                    summary=summary,
                    on=date(2026, 3, 2),
                    rule_id=rule,
                    policy_version="2026.1",
                    program_id="online-hs",
                    student_id=student,
                    class_id="alg-1" if i % 2 else "bio-2",
                    notice_id=f"{student}#{rule}#1",
                    detail={
                        "facts": {"days_inactive": 3, "percent_complete": 41.5},
                        "deadlines": {"respond_by": "2026-03-09"},
                        "recipients": [
                            {
                                "role": "guardian",
                                "name": "Pat Doe",
                                "address": "pat@example.org",
                                "language": "en",
                            }
                        ],
                    },
                )
            ],
            now=T0 + timedelta(minutes=i),
        )
    # Same student and rule ids in another district: they must never show.
    append(
        other,
        [
            AuditEntry(
                type="notice.sent",
                actor="notify",
                summary=f"OTHER DISTRICT {i}",
                rule_id=rule,
                student_id=student,
            )
            for i, (student, rule) in enumerate(
                [("stu-ana", "inactivity.day3"), ("stu-ben", "pacing.behind")]
            )
        ],
        now=T0,
    )
    return {"district": district, "other": other}


def row_seqs(page: Page) -> list[str]:
    return [
        str(s) for s in page.get_by_test_id("audit-row").evaluate_all("rows => rows.map(r => r.dataset.seq)")
    ]


def wait_for_rows(page: Page, seqs: list[str]) -> None:
    expect(page.get_by_test_id("audit-row")).to_have_count(len(seqs))
    expect(page.locator("body")).to_have_attribute("data-state", "ready")
    assert row_seqs(page) == seqs


def test_sign_in_see_the_audit_view_filter_verify_and_sign_out(
    signed_in_page: Callable[..., Page], seeded: dict[str, str], console_gateway: GatewayHandle
) -> None:
    page = signed_in_page(seeded["district"])
    wait_for_rows(page, expected())
    expect(page.get_by_test_id("district")).to_have_text(seeded["district"])
    assert "OTHER DISTRICT" not in page.get_by_test_id("view").inner_text()
    # Data is text: the summary's markup is shown, never run.
    expect(page.get_by_test_id("injected")).to_have_count(0)
    assert page.evaluate("() => document.body.dataset.pwned") is None
    assert page.evaluate("() => sessionStorage.getItem('onpace.idToken')").count(".") == 2

    # No directory in this district: the student filter's text is taken as the sourcedId.
    page.get_by_test_id("filter-who").fill("stu-ben")
    page.get_by_test_id("apply-filters").click()
    expect(page).to_have_url(f"{console_gateway.url}/console#/audit?who=stu-ben")
    wait_for_rows(page, expected(student="stu-ben"))
    page.get_by_test_id("filter-rule").fill("pacing.behind")
    page.get_by_test_id("apply-filters").click()
    wait_for_rows(page, expected(student="stu-ben", rule="pacing.behind"))

    page.get_by_test_id("verify-log").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-state", "intact")
    expect(page.get_by_test_id("verify-result")).to_contain_text("all 8 entries verified")

    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(f"{console_gateway.url}/console")
    expect(page.get_by_test_id("signin")).to_be_visible()
    expect(page.get_by_test_id("view")).to_be_empty()
    assert page.evaluate("() => sessionStorage.getItem('onpace.idToken')") is None


def test_an_expired_session_shows_the_sign_in_prompt(
    page: Page, seeded: dict[str, str], console_gateway: GatewayHandle
) -> None:
    provider = console_gateway.identity_provider
    assert provider is not None
    user = provider.add_user(f"short-{uuid.uuid4().hex[:6]}@example.org", [seeded["district"]])
    lifetime, provider.token_seconds = provider.token_seconds, 4
    try:
        sign_in_in_page(page, f"{console_gateway.url}/console", user)
    finally:
        provider.token_seconds = lifetime
    wait_for_rows(page, expected())
    # At the token's exp the shell's timer ends the session.
    expect(page.get_by_test_id("signin")).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("signin-reason")).to_contain_text("session has ended")
    expect(page.get_by_test_id("audit-row")).to_have_count(0)
    # The ended session's token is gone: a reload asks to sign in too, and signing in works.
    assert page.evaluate("() => sessionStorage.getItem('onpace.idToken')") is None
    page.reload()
    expect(page.get_by_test_id("signin")).to_be_visible()
    sign_in_in_page(page, f"{console_gateway.url}/console", user)
    wait_for_rows(page, expected())


def test_the_shell_and_the_audit_view_are_accessible_at_every_width(
    page: Page, seeded: dict[str, str], console_gateway: GatewayHandle, tmp_path: Path
) -> None:
    page.goto(f"{console_gateway.url}/console")
    expect(page.get_by_test_id("signin")).to_be_visible()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"the signed-out shell at {width} px")
    provider = console_gateway.identity_provider
    assert provider is not None
    user = provider.add_user(f"axe-{uuid.uuid4().hex[:6]}@example.org", [seeded["district"]])
    sign_in_in_page(page, f"{console_gateway.url}/console", user)
    wait_for_rows(page, expected())
    page.get_by_test_id("audit-detail").first.locator("summary").click()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"the audit view at {width} px")
        page.screenshot(path=str(tmp_path / f"console-audit-{width}.png"), full_page=True)


def test_an_admin_of_two_districts_switches_between_them(
    signed_in_page: Callable[..., Page], seeded: dict[str, str]
) -> None:
    page = signed_in_page(seeded["district"], seeded["other"])
    wait_for_rows(page, expected())
    switch = page.get_by_test_id("district-switch")
    expect(switch).to_be_visible()
    switch.select_option(seeded["other"])
    expect(page.get_by_test_id("audit-row")).to_have_count(2)
    expect(page.get_by_test_id("view")).to_contain_text("OTHER DISTRICT")
    switch.select_option(seeded["district"])
    wait_for_rows(page, expected())


def test_failures_view_lists_a_parked_enrollment_until_it_is_re_driven(
    signed_in_page: Callable[..., Page],
    local_stack: LocalStack,
    console_gateway: GatewayHandle,
    tmp_path: Path,
) -> None:
    """An enrollment the engine cannot read is retried alone, parked in EvaluateDLQ and audited;
    the Failures page of its district lists it (not the other district's), and after the item is
    fixed and the DLQ message re-driven, shows it recovered."""
    import json

    from onpace_core.store.models import EnrollmentModel
    from onpace_local.evaluation import EvaluationRun, drain, run_program_day

    from tests.integration.districts import make_district

    rules = {"cps.pacing.ipr_warning_2w": {}}
    poisoned = make_district(local_stack, rules, students=("p0", "p1", "p2"))
    other = make_district(local_stack, rules, students=("p0",))
    d = poisoned.district_id
    corrupt = f"{d}#cls-1#p1"
    EnrollmentModel(enrollment_key=corrupt).update(actions=[EnrollmentModel.held.set("{not json")])
    day = date(2026, 9, 25)
    run_program_day(local_stack, d, "prog", day)
    other_parked = f"{other.district_id}#cls-1#p0"
    EnrollmentModel(enrollment_key=other_parked).update(actions=[EnrollmentModel.held.set("{not json")])
    run_program_day(local_stack, other.district_id, "prog", day)

    sqs = local_stack.client("sqs")
    dlq = local_stack.ref("EvaluateDLQ")
    mine: list[dict[str, str]] = []
    found = 0
    for _ in range(50):  # the DLQ may hold other tests' messages: take ours, leave theirs
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        for message in got:
            body = json.loads(message["Body"])
            if body.get("district_id") in (d, other.district_id):
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
                found += 1
                if body["district_id"] == d:
                    mine.append(body)
        if found == 2 or not got:
            break
    assert [b["keys"] for b in mine] == [[corrupt]]

    handle = console_gateway
    page = signed_in_page(d)
    page.get_by_test_id("nav-failures").click()
    expect(page).to_have_url(f"{handle.url}/console#/failures")
    rows = page.get_by_test_id("failure-row")
    expect(rows).to_have_count(1)  # only this district's
    row = rows.first
    expect(row.get_by_test_id("cell-student")).to_have_text("p1")
    expect(row.get_by_test_id("cell-class")).to_have_text("cls-1")
    expect(row.get_by_test_id("cell-program")).to_have_text("prog")
    expect(row.get_by_test_id("cell-error")).to_have_text("JSONDecodeError")
    expect(row.get_by_test_id("cell-attempts")).to_have_text("4")
    expect(row).to_have_attribute("data-state", "open")
    expect(row.get_by_test_id("cell-outcome")).to_contain_text("Not recovered yet")
    expect(page.locator("#redrive-heading")).to_have_text("Re-driving")
    expect(page.get_by_text("docs/operations.md")).to_be_visible()
    page.screenshot(path=str(tmp_path / "console-failures-open.png"), full_page=True)

    # Fixed, then re-driven as an operator would (SQS's DLQ redrive moves the body unchanged).
    EnrollmentModel(enrollment_key=corrupt).update(actions=[EnrollmentModel.held.remove()])
    sqs.send_message(QueueUrl=local_stack.ref("EvaluateQueue"), MessageBody=json.dumps(mine[0]))
    drain(local_stack, EvaluationRun())
    page.reload()  # the token is in sessionStorage: the view loads again, signed in
    expect(row).to_have_attribute("data-state", "recovered")
    expect(row.get_by_test_id("cell-outcome")).to_contain_text("evaluation.recovered")
    page.get_by_test_id("nav-audit").click()
    expect(page).to_have_url(f"{handle.url}/console#/audit")
    page.screenshot(path=str(tmp_path / "console-failures-audit.png"), full_page=True)
    if os.environ.get("ONPACE_SCREENSHOTS"):
        target = Path(os.environ["ONPACE_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("console-failures-*.png"):
            (target / shot.name).write_bytes(shot.read_bytes())
