"""The console page in headless Chromium, served by the local gateway from the local stack."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from onpace_core.audit.log import AuditEntry, append
from onpace_local.gateway import GatewayHandle, serve_gateway
from onpace_local.stack import LocalStack
from playwright.sync_api import Page, expect

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


@pytest.fixture
def page_errors() -> list[str]:
    """What the page reported as errors (script errors, console errors); must stay empty."""
    return []


@pytest.fixture
def page(browser: object, page_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    tab = context.new_page()
    errors = page_errors
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"the page logged errors: {errors}"


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


@pytest.fixture(scope="module")
def gateway(local_stack: LocalStack, seeded: dict[str, str]) -> Iterator[GatewayHandle]:
    handle = serve_gateway(local_stack, console_district=seeded["district"])
    try:
        yield handle
    finally:
        handle.stop()


def row_seqs(page: Page) -> list[str]:
    return [
        str(s) for s in page.get_by_test_id("audit-row").evaluate_all("rows => rows.map(r => r.dataset.seq)")
    ]


def assert_no_other_district(page: Page) -> None:
    assert "OTHER DISTRICT" not in page.get_by_test_id("audit-table").inner_text()


def wait_for_rows(page: Page, seqs: list[str]) -> None:
    expect(page.get_by_test_id("audit-row")).to_have_count(len(seqs))
    expect(page.locator("body")).to_have_attribute("data-loading", "false")
    assert row_seqs(page) == seqs


def test_console_filters_and_verifies(
    page: Page, gateway: GatewayHandle, seeded: dict[str, str], local_stack: LocalStack, tmp_path: Path
) -> None:
    page.goto(f"{gateway.url}/console")
    expect(page.get_by_test_id("district")).to_have_text(seeded["district"])

    # Newest first, all eight, nothing of the other district.
    wait_for_rows(page, expected())
    assert [int(s) for s in row_seqs(page)] == sorted((int(s) for s in row_seqs(page)), reverse=True)
    assert_no_other_district(page)
    expect(page.get_by_test_id("log-status")).to_contain_text("Showing 8 entries")
    expect(page.get_by_test_id("load-older")).to_be_hidden()

    # Data is text, never markup.
    cy = page.locator('[data-testid="audit-row"][data-seq="4"]')
    expect(cy.get_by_test_id("cell-summary")).to_have_text(SEEDS[3][3])
    assert page.get_by_test_id("injected").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None

    # The rule select offers the rule ids seen.
    options = page.locator("#rule-ids option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["inactivity.day3", "pacing.behind"]

    # Detail: facts, deadlines and recipients, expandable.
    first = page.get_by_test_id("audit-row").first
    toggle = first.get_by_test_id("toggle-detail")
    detail = page.locator("#detail-8")
    expect(detail).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(detail).to_be_visible()
    expect(detail.get_by_test_id("detail-facts")).to_contain_text("days_inactive")
    expect(detail.get_by_test_id("detail-deadlines")).to_contain_text("2026-03-09")
    expect(detail.get_by_test_id("detail-recipients")).to_contain_text(
        "guardian: Pat Doe <pat@example.org> (en)"
    )
    page.screenshot(path=str(tmp_path / "console-all.png"), full_page=True)

    # Filter by student, then by student and rule, then by rule alone.
    page.get_by_test_id("filter-student").fill("stu-ana")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("log-status")).to_contain_text("student stu-ana")
    wait_for_rows(page, expected(student="stu-ana"))
    assert set(page.get_by_test_id("audit-row").evaluate_all("rs => rs.map(r => r.dataset.student)")) == {
        "stu-ana"
    }
    assert_no_other_district(page)

    page.get_by_test_id("filter-rule").fill("inactivity.day3")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("log-status")).to_contain_text("rule inactivity.day3")
    wait_for_rows(page, expected(student="stu-ana", rule="inactivity.day3"))
    assert_no_other_district(page)

    page.get_by_test_id("filter-student").fill("")
    page.get_by_test_id("filter-rule").press("Enter")  # submitting from the keyboard works too
    expect(page.get_by_test_id("log-status")).not_to_contain_text("student")
    wait_for_rows(page, expected(rule="inactivity.day3"))
    assert set(page.get_by_test_id("audit-row").evaluate_all("rs => rs.map(r => r.dataset.rule)")) == {
        "inactivity.day3"
    }
    assert_no_other_district(page)
    assert "rule=inactivity.day3" in page.url  # the filter is in the address, to share or reload

    page.get_by_test_id("filter-rule").fill("no.such.rule")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("log-empty")).to_be_visible()
    expect(page.get_by_test_id("audit-row")).to_have_count(0)

    page.get_by_test_id("clear-filters").click()
    wait_for_rows(page, expected())

    # Verify: intact.
    result = page.get_by_test_id("verify-result")
    page.get_by_test_id("verify-log").click()
    expect(result).to_have_attribute("data-state", "intact")
    expect(result).to_contain_text("all 8 entries verified")

    # Tamper with entry 5 behind the log's back: verify names it.
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.ref("AuditTable"),
        Key={"district_id": {"S": seeded["district"]}, "seq": {"N": "5"}},
        UpdateExpression="SET summary = :s",
        ExpressionAttributeValues={":s": {"S": "Notice sent to nobody"}},
    )
    page.get_by_test_id("verify-log").click()
    expect(result).to_have_attribute("data-state", "broken")
    expect(result).to_have_attribute("data-broken-seq", "5")
    expect(result).to_contain_text("Broken at entry #5")
    expect(page.locator('[data-testid="audit-row"][data-seq="5"]')).to_have_class("entry broken")
    page.screenshot(path=str(tmp_path / "console-broken.png"), full_page=True)
    if os.environ.get("ONPACE_SCREENSHOTS"):
        target = Path(os.environ["ONPACE_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("console-*.png"):
            (target / shot.name).write_bytes(shot.read_bytes())


def test_load_older_pages_through_the_log(page: Page, local_stack: LocalStack) -> None:
    district = f"paging-{uuid.uuid4().hex[:8]}"
    append(
        district,
        [
            AuditEntry(
                type="notice.decided", actor="evaluate", summary=f"entry {i + 1}", student_id=f"s{i % 3}"
            )
            for i in range(57)
        ],
        now=T0,
    )
    handle = serve_gateway(local_stack, console_district=district)
    try:
        page.goto(f"{handle.url}/")  # the root redirects to the console
        expect(page).to_have_url(f"{handle.url}/console")
        wait_for_rows(page, [str(n) for n in range(57, 7, -1)])
        older = page.get_by_test_id("load-older")
        expect(older).to_be_visible()
        older.click()
        wait_for_rows(page, [str(n) for n in range(57, 0, -1)])
        expect(older).to_be_hidden()
        expect(page.get_by_test_id("log-status")).to_contain_text("Showing 57 entries")
    finally:
        handle.stop()


def test_console_without_a_district_is_forbidden(
    page: Page, page_errors: list[str], local_stack: LocalStack
) -> None:
    handle = serve_gateway(local_stack, console_district=None)
    # A bare JSON answer has no <link rel="icon">, so Chromium asks for /favicon.ico at some
    # moment after the load; answering it here keeps that late 404 out of the page's errors.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    try:
        response = page.goto(f"{handle.url}/console")
        assert response is not None
        assert response.status == 403
        assert "no district" in page.content()
        assert page.get_by_test_id("audit-row").count() == 0
    finally:
        handle.stop()
    # Chromium reports the 403 as a console error; nothing else may be there.
    page_errors[:] = [e for e in page_errors if "status of 403" not in e]


def test_failures_page_lists_a_parked_enrollment_until_it_is_re_driven(
    page: Page, local_stack: LocalStack, tmp_path: Path
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

    handle = serve_gateway(local_stack, console_district=d)
    try:
        page.goto(f"{handle.url}/console")
        page.get_by_test_id("nav-failures").click()
        expect(page).to_have_url(f"{handle.url}/console/failures")
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
        page.reload()
        expect(row).to_have_attribute("data-state", "recovered")
        expect(row.get_by_test_id("cell-outcome")).to_contain_text("evaluation.recovered")
        page.get_by_test_id("nav-audit").click()
        expect(page).to_have_url(f"{handle.url}/console")
        page.screenshot(path=str(tmp_path / "console-failures-audit.png"), full_page=True)
        if os.environ.get("ONPACE_SCREENSHOTS"):
            target = Path(os.environ["ONPACE_SCREENSHOTS"])
            target.mkdir(parents=True, exist_ok=True)
            for shot in tmp_path.glob("console-failures-*.png"):
                (target / shot.name).write_bytes(shot.read_bytes())
    finally:
        handle.stop()
