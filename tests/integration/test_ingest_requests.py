"""The ingest request budget (issue 10, item 8), counted over the real handler on moto server.

A request of N events for K enrollments costs at most ⌈N/100⌉ + ⌈refs/100⌉ BatchGetItem on the
raw events table (duplicates and identity rows share them), ⌈K/100⌉ BatchGetItem of facts, one
conditional UpdateItem per enrollment whose facts change, ⌈N/25⌉ BatchWriteItem, one audit
append when something is reported — and never a Scan; plus one S3 PutObject of the accepted
events (the raw archive), none for a request of duplicates. Before issue 10 a batch of 100
events for 10 enrollments cost 330 requests.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.log import read
from onpace_core.facts.fold import short_id
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.service import ingest_events, load_identities
from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
from onpace_core.roster.identities import IdentityRow
from onpace_core.store.enrollments import upsert_enrollments
from onpace_core.store.models import EnrollmentModel, RawEventModel
from onpace_local.gateway import GatewayHandle
from onpace_local.request_count import RequestCounts, counting_requests
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook

from tests.integration.districts import SampleDistrict, archived, make_district

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite

KINDS = ("submission", "view", "discussion_post", "progress", "login")


def _events(n: int, students: int, prefix: str) -> list[dict[str, Any]]:
    start = datetime(2026, 9, 1, 14, tzinfo=UTC)
    return [
        {
            "event_id": f"{prefix}-{i}",
            "occurred_at": (start + timedelta(minutes=i)).isoformat(),
            "student": f"s{i % students}",
            "class": "cls-1",
            "kind": KINDS[i % len(KINDS)],
            **({"percent_complete": float(i % 100)} if i % 7 == 0 else {}),
        }
        for i in range(n)
    ]


def _post(gateway: GatewayHandle, district: SampleDistrict, events: Any) -> Any:
    return post_webhook(gateway.url, district_id=district.district_id, secret=district.secret, events=events)


def _budget_check(counts: RequestCounts, n: int, refs: int, enrollments: int, events_table: str) -> None:
    assert counts.of("Scan") == 0
    assert counts.of("BatchGetItem", events_table) <= math.ceil(n / 100) + math.ceil(refs / 100)
    assert counts.of("BatchGetItem") - counts.of("BatchGetItem", events_table) <= math.ceil(enrollments / 100)
    assert counts.of("UpdateItem") <= enrollments
    assert counts.of("BatchWriteItem") == math.ceil(n / 25)
    assert counts.of("PutItem") == 0 and counts.of("GetItem") <= 1  # GetItem: the program, once per container
    assert counts.of("PutObject") == 1  # the raw archive: one object per request


@pytest.mark.parametrize(("n", "students"), [(1, 1), (100, 10), (1000, 100)])
def test_request_budget_of_webhooks(
    gateway: GatewayHandle, local_stack: LocalStack, n: int, students: int
) -> None:
    """1 and 100 events in one webhook; 1,000 in two (the plain format takes 500 a request)."""
    district = make_district(
        local_stack, {"csu.engagement.at_risk_14d": {}}, students=tuple(f"s{i}" for i in range(students))
    )
    assert _post(gateway, district, _events(1, 1, "warm")).status == 202  # a warm container
    events = _events(n, students, "e")
    requests = [events[i : i + 500] for i in range(0, n, 500)]
    total = 0
    for body in requests:
        with counting_requests() as counts:
            response = _post(gateway, district, body)
        assert response.status == 202, response.body
        assert response.body["accepted"] == len(body) and response.body["unmatched"] == []
        events_table = RawEventModel.Meta.table_name
        _budget_check(counts, len(body), refs=students + 1, enrollments=students, events_table=events_table)
        assert counts.of("UpdateItem") == students  # every enrollment's facts moved
        assert counts.of("Query") == 0  # every event names its class; nothing to audit
        total += counts.dynamodb()
    print(f"\n{n} events, {students} enrollments: {total} DynamoDB requests in {len(requests)} webhook(s)")
    item = EnrollmentModel.get(f"{district.district_id}#cls-1#s0", consistent_read=True)
    assert item.last_submission_at is not None and item.facts_seq == 1 + len(requests)

    # The sender retries: duplicates, no facts write, no raw write.
    with counting_requests() as retry_counts:
        retry = _post(gateway, district, requests[0])
    assert retry.body["duplicates"] == len(requests[0])
    assert retry_counts.of("UpdateItem") == 0 and retry_counts.of("BatchWriteItem") == 0
    assert retry_counts.of("PutObject") == 0  # archived with the request that first sent them


def test_log_ins_cost_one_query_per_student(gateway: GatewayHandle, local_stack: LocalStack) -> None:
    district = make_district(local_stack, {"csu.engagement.at_risk_14d": {}}, students=("s0", "s1"))
    assert _post(gateway, district, _events(1, 1, "warm")).status == 202
    at = datetime(2026, 9, 2, 12, tzinfo=UTC)
    events = [
        LmsEvent(f"in-{i}", "test", at + timedelta(minutes=i), (Ref("sourcedId", f"s{i % 2}"),), (), "login")
        for i in range(10)
    ]
    with counting_requests() as counts:
        report = ingest_events(
            district_id=district.district_id, source="test", events=events, now=at, ttl_days=30
        )
    assert report.accepted == 10 and report.unmatched == []
    assert counts.of("Query") == 2 and counts.of("UpdateItem") == 2 and counts.of("Scan") == 0


def test_quarantined_events_are_folded_after_a_roster_load(
    gateway: GatewayHandle, local_stack: LocalStack
) -> None:
    district = make_district(local_stack, {"csu.engagement.at_risk_14d": {}}, students=("stu-1",))
    d = district.district_id
    response = _post(gateway, district, [{**_events(1, 1, "new")[0], "student": "stu-new"}])
    assert response.status == 202 and len(response.body["unmatched"]) == 1
    at = datetime(2026, 9, 3, 12, tzinfo=UTC)
    by_email = LmsEvent(
        "mail-1", "xapi", at, (Ref("email", "New@School.example"),), (Ref("title", "Bio A"),), "view"
    )
    report = ingest_events(district_id=d, source="xapi", events=[by_email], now=at, ttl_days=30)
    assert [u["reason"] for u in report.unmatched] == ["unknown student"]
    kept = {k.event_id for k in RawEventModel.unmatched_index.query(d)}
    assert kept == {"new-0", "mail-1"}

    # The next roster has the student in cls-1 (titled "Bio A"): enrollments, then the identity map.
    record = EnrollmentRecord(
        district_id=d,
        program_id="prog",
        class_id="cls-1",
        class_title="Bio A",
        student_id="stu-new",
        student_name="New Student",
        term_id="fall",
        start_date=district.program.calendar.terms[0].start,
        end_date=None,
        contacts=(ContactRecord("student", "new@school.example", "New Student", "en"),),
    )
    upsert_enrollments([record], district.program)
    rows = [
        IdentityRow("user", Ref("sourcedId", "stu-new"), "stu-new"),
        IdentityRow("user", Ref("email", "new@school.example"), "stu-new"),
        IdentityRow("class", Ref("title", "Bio A"), "cls-1"),
    ]
    with counting_requests() as counts:
        saved, reapplied = load_identities(d, rows, origin="roster", now=at)
    assert (saved, reapplied) == (3, 2)
    assert counts.of("Scan") == 0 and counts.of("Query", RawEventModel.Meta.table_name + "/unmatched") == 1
    assert list(RawEventModel.unmatched_index.query(d)) == []
    item = EnrollmentModel.get(f"{d}#cls-1#stu-new", consistent_read=True)
    assert item.last_view_at == "2026-09-03T12:00:00.000000Z" and item.last_submission_at is not None
    reapplied_item = RawEventModel.get(f"{d}#mail-1")
    assert reapplied_item.status == "folded" and reapplied_item.event is None  # slim once folded
    assert sorted(a.type for a in read(d)) == ["ingest.reapplied", "ingest.unmatched", "ingest.unmatched"]
    # The same roster loaded again writes no identity row: each is stored as it is.
    with counting_requests() as again:
        assert load_identities(d, rows, origin="roster", now=at) == (0, 0)
    assert again.of("BatchWriteItem") == 0 and again.of("BatchGetItem") == 1


def test_a_conflicting_event_is_409_and_nothing_is_stored(
    gateway: GatewayHandle, local_stack: LocalStack
) -> None:
    district = make_district(local_stack, {"csu.engagement.at_risk_14d": {}}, students=("s0",))
    first = _events(1, 1, "c")[0]
    assert _post(gateway, district, first).status == 202
    changed = {**first, "kind": "view"}
    response = _post(gateway, district, [_events(2, 1, "fresh")[1], changed])
    assert response.status == 409, response.body
    assert response.body["event_ids"] == ["c-0"]
    with pytest.raises(RawEventModel.DoesNotExist):
        RawEventModel.get(f"{district.district_id}#fresh-1")
    assert list(archived(local_stack, district.district_id)) == ["c-0"]  # nor archived


def test_an_admin_mapping_loaded_with_the_cli_folds_the_quarantined_event(
    local_stack: LocalStack, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from onpace_local.cli import main

    district = make_district(local_stack, {"csu.engagement.at_risk_14d": {}}, students=("stu-1",))
    d = district.district_id
    at = datetime(2026, 9, 4, 12, tzinfo=UTC)
    by_canvas = LmsEvent(
        "cv-1", "canvas", at, (Ref("canvas", "4411"),), (Ref("canvas", "c-9"),), "submission"
    )
    report = ingest_events(district_id=d, source="canvas", events=[by_canvas], now=at, ttl_days=30)
    assert [u["reason"] for u in report.unmatched] == ["unknown student"]
    mappings = tmp_path / "mappings.csv"
    mappings.write_text("kind,namespace,value,sourcedId\nuser,canvas,4411,stu-1\nclass,canvas,c-9,cls-1\n")
    endpoint = ["--endpoint-url", local_stack.dynamodb_endpoint_url]
    assert main(["load", "mappings", str(mappings), "--district", d, *endpoint]) == 0
    assert "1 quarantined event(s) re-applied" in capsys.readouterr().out
    item = EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True)
    assert item.last_submission_at == "2026-09-04T12:00:00.000000Z"
    assert "identity.mapped" in [a.type for a in read(d)]


def test_voids_and_progress_ties_on_dynamodb(local_stack: LocalStack) -> None:
    """The fold's rules hold on the DynamoDB adapter too (item shapes: ``recent``, ``percent_recent``)."""
    district = make_district(
        local_stack, {"msc.progress.step1_contact": {}}, students=("stu-1",), reported_percent=None
    )
    d = district.district_id
    t0 = datetime(2026, 9, 1, 15, tzinfo=UTC)
    me, cls = (Ref("sourcedId", "stu-1"),), (Ref("sourcedId", "cls-1"),)

    def event(eid: str, at: datetime, kind: str | None = "submission", **kw: Any) -> LmsEvent:
        return LmsEvent(eid, "test", at, me, cls, kind, digest=eid, **kw)

    def ingest(*events: LmsEvent) -> Any:
        return ingest_events(district_id=d, source="test", events=list(events), now=t0, ttl_days=30)

    ingest(event("s1", t0), event("s2", t0 + timedelta(days=2), percent_complete=30.0))
    ingest(event("p-hi", t0 + timedelta(days=3), "progress", percent_complete=60.0))
    ingest(event("p-lo", t0 + timedelta(days=3), "progress", percent_complete=35.0))  # same instant, later
    item = EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True)
    assert item.percent_complete == pytest.approx(0.60) and item.percent_event == short_id("p-hi")
    assert item.last_submission_at == "2026-09-03T15:00:00.000000Z"

    report = ingest(
        event("v1", t0 + timedelta(days=4), None, voids="s2"), event("v2", t0, None, voids="p-hi")
    )
    assert report.voided == 2
    item = EnrollmentModel.get(f"{d}#cls-1#stu-1", consistent_read=True)
    assert item.last_submission_at == "2026-09-01T15:00:00.000000Z"
    # The value fallen back on names its event as the fallbacks keep it (``fold.short_id``).
    assert item.percent_complete == pytest.approx(0.35) and item.percent_event == short_id("p-lo")
    assert RawEventModel.get(f"{d}#s2").status == "voided"
    assert "ingest.voided" in [a.type for a in read(d)]


def test_a_facts_write_that_loses_a_race_is_refused_then_folded_again(local_stack: LocalStack) -> None:
    from onpace_core.facts.fold import ActivityOp, FoldRules, fold_enrollment
    from onpace_core.ingest.dynamo import DynamoIngestStore
    from onpace_core.ingest.ports import ConditionFailed
    from onpace_core.ingest.service import _fold_all

    district = make_district(local_stack, {"csu.engagement.at_risk_14d": {}}, students=("stu-1",))
    key = f"{district.district_id}#cls-1#stu-1"
    store = DynamoIngestStore()
    old = store.facts([key])[key]
    op = ActivityOp("e1", "view", datetime(2026, 9, 5, 9, tzinfo=UTC))
    # Another request folds a submission between this one's read and its write.
    EnrollmentModel(enrollment_key=key).update(
        actions=[
            EnrollmentModel.last_submission_at.set("2026-09-06T00:00:00.000000Z"),
            EnrollmentModel.facts_seq.add(1),
        ]
    )
    with pytest.raises(ConditionFailed):
        store.write_facts(old, fold_enrollment(old, [op], FoldRules()))
    assert _fold_all(store, district.district_id, {key: old}, {key: [op]}) == 1
    item = EnrollmentModel.get(key, consistent_read=True)
    assert item.last_view_at == "2026-09-05T09:00:00.000000Z"
    assert item.last_submission_at == "2026-09-06T00:00:00.000000Z"  # the other write is kept
