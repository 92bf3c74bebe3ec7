"""The evaluation fan-out against moto server (issue 11): every time zone, shards through SQS,
one failing enrollment isolated, request budgets, and the faults of the evaluator → notify hand-off.

Every test drives the real planner (``EvaluateFunction``) and worker (``EvaluateWorkerFunction``)
handlers; the shard queue is drained by ``QueuePump`` (Lambda's SQS event source mapping played
locally) and the outbox stream by ``StreamPump``.
"""

from __future__ import annotations

import copy
import dataclasses
import email
import email.policy
import json
import math
import sys
import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.log import read, verify_chain
from onpace_core.delivery.mime import NOTICE_HEADER
from onpace_core.ingest.event import LmsEvent, Ref
from onpace_core.ingest.service import ingest_events
from onpace_core.notices import evaluation as evaluation_module
from onpace_core.notices.evaluation import due_keys, evaluate_shard
from onpace_core.roster.enrollments import ContactRecord, EnrollmentRecord
from onpace_core.store.enrollments import upsert_enrollments
from onpace_core.store.models import EnrollmentModel, OutboxModel
from onpace_local.evaluation import EvaluationRun, discard_shards, drain, run_program_day
from onpace_local.queues import QueuePump
from onpace_local.request_count import counting_requests
from onpace_local.scheduler import fire_between, schedules
from onpace_local.stack import LocalStack
from onpace_local.streams import StreamLog, StreamPump
from pynamodb.exceptions import UpdateError

from tests.integration.districts import make_district, with_cloned_students

pytestmark = pytest.mark.integration

PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}
WARNING_DAY = date(2026, 9, 25)  # two weeks before the IPR date: every slow student is warned
DECIDED = ("notice.decided", "action.taken", "notice.skipped")


def _students(n: int, prefix: str = "s") -> tuple[str, ...]:
    return tuple(f"{prefix}{i:04d}" for i in range(n))


def _outbox(district_id: str) -> list[OutboxModel]:
    """The district's decisions in the outbox (its letters, which carry them, left out)."""
    scan = OutboxModel.scan((OutboxModel.district_id == district_id) & (OutboxModel.kind != "letter"))
    return list(scan)  # a test may scan


def _assert_audited_once(district_id: str) -> Counter[str]:
    """Every outbox notice of the district has exactly one decision entry, and nothing else does."""
    entries = [e for e in read(district_id, limit=100_000) if e.type in DECIDED]
    audited = Counter(str(e.notice_id) for e in entries)
    assert all(n == 1 for n in audited.values()), [k for k, n in audited.items() if n > 1][:3]
    assert set(audited) == {o.notice_id for o in _outbox(district_id)}
    assert verify_chain(district_id).intact
    return audited


def _worker_module() -> Any:
    return sys.modules["evaluate_worker"]


def _planner_module() -> Any:
    return sys.modules["evaluate_handler"]


def _queue_url(stack: LocalStack, logical_id: str) -> str:
    return stack.ref(logical_id)


def _shard_size(monkeypatch: pytest.MonkeyPatch, stack: LocalStack, size: int) -> None:
    stack.handler("EvaluateFunction")  # imported
    stack.handler("EvaluateWorkerFunction")
    planner = _planner_module()
    monkeypatch.setattr(
        planner, "settings", dataclasses.replace(planner.settings, evaluation_shard_size=size)
    )


# -- every time zone ---------------------------------------------------------------------------


def test_every_time_zone_in_use_is_planned_on_its_own_local_day(local_stack: LocalStack) -> None:
    """No ProgramTimeZone: a Denver and a Kolkata program are evaluated as a Chicago one is."""
    zones = ("America/Chicago", "America/Denver", "Asia/Kolkata")
    districts = {
        zone: make_district(local_stack, PACING, students=("stu-a",), time_zone=zone) for zone in zones
    }
    (planner,) = [s for s in schedules(local_stack) if s.target_function == "EvaluateFunction"]
    # From before Kolkata's 2026-09-25 began (18:30Z the day before) to after Denver's (06:00Z).
    results = fire_between(
        local_stack, planner, datetime(2026, 9, 24, 18, tzinfo=UTC), datetime(2026, 9, 25, 7, tzinfo=UTC)
    )
    planned: dict[str, list[str]] = {}
    for result in results:
        for plan in result["programs"]:
            planned.setdefault(plan["program"], []).append(plan["day"])
    assert planned[f"{districts['America/Chicago'].district_id}#prog"] == ["2026-09-25"]
    assert planned[f"{districts['America/Denver'].district_id}#prog"] == ["2026-09-25"]
    assert planned[f"{districts['Asia/Kolkata'].district_id}#prog"] == ["2026-09-25"]
    drain(local_stack, EvaluationRun())
    for district in districts.values():
        assert [(o.rule_id, o.decided_on) for o in _outbox(district.district_id)] == [
            ("cps.pacing.ipr_warning_2w", "2026-09-25")
        ]
        _assert_audited_once(district.district_id)


# -- re-runs, overlapping runs, duplicate and out-of-order deliveries ----------------------------------


def _receive_all(stack: LocalStack) -> list[dict[str, Any]]:
    """Every message now in the shard queue as Lambda records, each received once and made
    visible again (as after a visibility timeout): SQS will deliver them again."""
    pump = QueuePump.for_function(stack, "EvaluateWorkerFunction")
    sqs = stack.client("sqs")
    records: list[dict[str, Any]] = []
    while True:
        response = sqs.receive_message(
            QueueUrl=pump.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        records.extend(pump._record(m) for m in messages)
    for record in records:
        sqs.change_message_visibility(
            QueueUrl=pump.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )
    return records


def _purge(stack: LocalStack) -> None:
    discard_shards(stack)


def test_overlapping_runs_duplicate_and_out_of_order_shards_record_everything_once(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = make_district(local_stack, PACING, students=_students(7))
    _shard_size(monkeypatch, local_stack, 3)
    d = district.district_id
    # Two overlapping runs of the same program day: both plan before either shard is evaluated.
    local_stack.invoke("EvaluateFunction", {"district_id": d, "program_id": "prog", "day": "2026-09-25"})
    local_stack.invoke("EvaluateFunction", {"district_id": d, "program_id": "prog", "day": "2026-09-25"})
    records = [r for r in _receive_all(local_stack) if json.loads(r["body"])["district_id"] == d]
    assert len(records) == 6  # 3 shards (3 + 3 + 1 keys) twice
    _purge(local_stack)
    # Delivered out of order (last shard first) and each twice, once inside the same batch.
    ordered = sorted(records, key=lambda r: json.loads(r["body"])["shard"], reverse=True)
    local_stack.invoke("EvaluateWorkerFunction", {"Records": [ordered[0], ordered[0]]})
    for record in [*ordered, *ordered]:
        response = local_stack.invoke("EvaluateWorkerFunction", {"Records": [record]})
        assert response["batchItemFailures"] == []
    assert len(_outbox(d)) == 7
    _assert_audited_once(d)
    # A re-run of the day the next morning: nothing is due any more, nothing is written.
    with counting_requests() as counts:
        run = run_program_day(local_stack, d, "prog", WARNING_DAY)
    assert run.plans[0]["due"] == 0 and run.shards == []
    assert counts.of("UpdateItem") + counts.of("TransactWriteItems") + counts.of("PutItem") == 0
    # A forced re-evaluation (the wake dates put back) records nothing new either.
    for item in EnrollmentModel.batch_get([f"{d}#cls-1#{s}" for s in district.students]):
        item.update(
            actions=[
                EnrollmentModel.wake_on.set("2026-09-25"),
                EnrollmentModel.fired.set({}),
                EnrollmentModel.checked_through.remove(),
            ]
        )
    again = run_program_day(local_stack, d, "prog", WARNING_DAY).programs()
    (summary,) = [p for p in again if p["program"] == f"{d}#prog"]
    assert summary["recorded"] == [] and summary["already_recorded"] == 7
    assert len(_outbox(d)) == 7
    _assert_audited_once(d)
    fired = EnrollmentModel.get(f"{d}#cls-1#{district.students[0]}", consistent_read=True).fired.as_dict()
    assert fired == {"cps.pacing.ipr_warning_2w#ipr-2026-10-09": "2026-09-25"}  # the first day, kept


class Killed(BaseException):  # what a Lambda timeout or OOM is to the code: not an error
    """The function dies: nothing after this point runs, no handler sees it."""


@pytest.mark.parametrize("where", ["after_enrollment_updates", "between_decisions_and_updates"])
def test_worker_killed_half_way_and_run_again(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    district = make_district(local_stack, PACING, students=_students(30))
    d = district.district_id
    local_stack.invoke("EvaluateFunction", {"district_id": d, "program_id": "prog", "day": "2026-09-25"})
    (record,) = [r for r in _receive_all(local_stack) if json.loads(r["body"])["district_id"] == d]
    calls = Counter[str]()
    if where == "after_enrollment_updates":
        original_write = evaluation_module._write_state

        def dying_write(*args: Any, **kwargs: Any) -> None:
            calls["write"] += 1
            if calls["write"] > 7:
                raise Killed
            original_write(*args, **kwargs)

        monkeypatch.setattr(evaluation_module, "_write_state", dying_write)
    else:
        original_append = evaluation_module.ChainWriter.append_with

        def dying_append(self: Any, records: Any) -> list[bool]:
            original_append(self, records)
            raise Killed  # the decisions and their entries are written, no enrollment update is

        monkeypatch.setattr(evaluation_module.ChainWriter, "append_with", dying_append)
    with pytest.raises(Killed):
        local_stack.invoke("EvaluateWorkerFunction", {"Records": [record]})
    monkeypatch.undo()
    written_before = len(_outbox(d))
    assert 0 < written_before <= 30
    # Lambda gives the message back after the visibility timeout; SQS delivers it again.
    run = drain(local_stack, EvaluationRun())
    (shard,) = [s for s in run.shards if s["program"] == f"{d}#prog"]
    expected_again = 30 - 7 if where == "after_enrollment_updates" else 30
    assert shard["enrollments_evaluated"] == expected_again
    assert shard["already_recorded"] == (written_before - 7 if where == "after_enrollment_updates" else 30)
    assert len(_outbox(d)) == 30
    audited = _assert_audited_once(d)
    assert len(audited) == 30
    for key in due_keys(district.program, WARNING_DAY):
        raise AssertionError(f"{key} is still due after the re-run")


def _stream_records(stack: LocalStack, district_id: str) -> list[dict[str, Any]]:
    return [
        record
        for record in StreamLog.of(stack, "OutboxTable").records()
        if record["eventName"] == "INSERT"
        and record["dynamodb"].get("NewImage", {}).get("district_id", {}).get("S") == district_id
    ]


def _sent_per_notice(stack: LocalStack) -> Counter[str]:
    counts: Counter[str] = Counter()
    for message in stack.sent_emails():
        parsed = email.message_from_string(message["raw_data"], policy=email.policy.default)
        counts[str(parsed[NOTICE_HEADER])] += 1
    return counts


def test_duplicate_and_out_of_order_outbox_stream_records_send_each_email_once(
    local_stack: LocalStack,
) -> None:
    district = make_district(local_stack, PACING, students=_students(4, "dup"))
    d = district.district_id
    run_program_day(local_stack, d, "prog", WARNING_DAY)
    # The notices wait for the morning window; the dispatcher letters them when it opens.
    (waiting,) = {(n.send_key, n.send_after) for n in _outbox(d)}
    day = str(waiting[0]).rsplit("#", 1)[1]
    local_stack.invoke("DispatchFunction", {"district_id": d, "day": day, "scheduled_time": waiting[1]})
    records = [
        r for r in _stream_records(local_stack, d) if r["dynamodb"]["NewImage"]["kind"]["S"] == "letter"
    ]
    assert len(records) == 8  # one letter per student and per guardian
    pump = StreamPump.for_function(local_stack, "NotifyFunction")
    # The stream hands the same records over again and out of order (a retried batch, a
    # bisected batch, a replay): newest first, each twice in one batch, then the batch again.
    batch = [*reversed(records), *records]
    pump._deliver([copy.deepcopy(r) for r in batch])
    pump._deliver([copy.deepcopy(r) for r in reversed(records)])
    sent = _sent_per_notice(local_stack)
    for notice in _outbox(d):
        deliveries = notice.deliveries.as_dict()
        assert [entry["status"] for entry in deliveries.values()] == ["sent"] * len(notice.recipients)
        for entry in deliveries.values():
            assert sent[entry["letter"]] == 1, notice.notice_id  # each letter's one email, once
        sends = [
            e for e in read(d, limit=1000) if e.notice_id == notice.notice_id and e.type == "notice.sent"
        ]
        assert len(sends) == len(notice.recipients)  # one per letter that carried it
    _assert_audited_once(d)


# -- isolation ------------------------------------------------------------------------------------


def test_one_poisoned_enrollment_is_retried_alone_and_parked_while_the_rest_goes_on(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    zone = "America/Boise"  # a zone of its own: the run plans exactly these two districts
    poisoned_district = make_district(local_stack, PACING, students=_students(5, "p"), time_zone=zone)
    other = make_district(local_stack, PACING, students=_students(3, "o"), time_zone=zone)
    p = poisoned_district.district_id
    oversized, corrupt = f"{p}#cls-1#p0001", f"{p}#cls-1#p0003"
    # An item less than 50 bytes under DynamoDB's 400 KB: its update cannot fit, nor its notice
    # and audit entry, which name the student (their page's transaction fails, and is found by
    # writing the page's enrollments one by one).
    name = 400 * 1024
    while True:
        try:
            EnrollmentModel(enrollment_key=oversized).update(
                actions=[EnrollmentModel.student_name.set("x" * name)]
            )
            break
        except UpdateError:
            name -= 50
    # An item the engine cannot read (a bug, or a hand edit).
    EnrollmentModel(enrollment_key=corrupt).update(actions=[EnrollmentModel.held.set("{not json")])
    capsys.readouterr()
    result = local_stack.invoke("EvaluateFunction", {"time_zone": zone, "day": "2026-09-25"})
    assert {plan["program"] for plan in result["programs"]} == {f"{p}#prog", f"{other.district_id}#prog"}
    run = drain(local_stack, EvaluationRun())
    logs = capsys.readouterr().out
    # The other district got all its notices, and the poisoned one all but the two.
    assert len(_outbox(other.district_id)) == 3
    assert {o.enrollment_key for o in _outbox(p)} == {f"{p}#cls-1#p{i:04d}" for i in (0, 2, 4)}
    # Each failing enrollment was retried alone (a one-key shard), then parked with its key.
    # (the failing receives raise, so only the last, parking one answers with a summary)
    retries = [s for s in run.shards if s["shard"] == "retry"]
    assert len(retries) == 2 and all(s["failed_keys"] == 1 for s in retries)
    dlq = local_stack.client("sqs")
    parked = dlq.receive_message(QueueUrl=local_stack.ref("EvaluateDLQ"), MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in parked]
    mine = sorted((b for b in bodies if b["district_id"] == p), key=lambda b: b["keys"][0])
    assert [b["keys"] for b in mine] == [[oversized], [corrupt]]
    assert mine[0]["failure"]["attempts"] == 4  # receives alone, after the one in its shard
    assert "ValidationException" in mine[0]["failure"]["error"]
    assert mine[1]["failure"]["error"] == "JSONDecodeError"
    dlq.delete_message_batch(
        QueueUrl=local_stack.ref("EvaluateDLQ"),
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(parked)],
    )
    failed = [e for e in read(p, limit=100) if e.type == "evaluation.failed"]
    assert sorted(str(e.student_id) for e in failed) == ["p0001", "p0003"]
    _assert_audited_once(p)
    _assert_audited_once(other.district_id)
    # The enrollments stay due: re-driven once the cause is fixed, they are evaluated.
    assert set(due_keys(poisoned_district.program, WARNING_DAY)) == {oversized, corrupt}
    # No student id (enrollment keys hold them) in the functions' logs.
    assert "p0001" not in logs and "p0003" not in logs


# -- concurrent workers of one district ---------------------------------------------------------


def test_concurrent_workers_of_one_district_keep_one_unforked_chain(local_stack: LocalStack) -> None:
    district = make_district(local_stack, PACING, students=_students(40, "c"))
    d = district.district_id
    keys = due_keys(district.program, WARNING_DAY)
    now = datetime.now(UTC)
    halves = [keys[:25], keys[15:]]  # overlapping shards, as two overlapping runs would give
    results: list[Any] = [None, None]

    def work(n: int) -> None:
        results[n] = evaluate_shard(district.program, WARNING_DAY, halves[n], now)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None and not r.failures for r in results)
    assert sum(sum(c for c in r.summary.recorded.values()) for r in results) == 40
    assert len(_assert_audited_once(d)) == 40


# -- request budgets ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_request_budget_of_a_program_day(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    """At most 1 read per 100 due enrollments plus one per shard (and two to plan the program);
    one UpdateItem per enrollment whose state changed, one transaction per 12 decisions; no Scan."""
    first, *others = _students(n, "b")
    district = with_cloned_students(make_district(local_stack, PACING, students=(first,)), tuple(others))
    d = district.district_id
    shard_size = 500
    _shard_size(monkeypatch, local_stack, shard_size)
    shards = math.ceil(n / shard_size)
    with counting_requests() as counts:
        run = run_program_day(local_stack, d, "prog", WARNING_DAY)
    (summary,) = [p for p in run.programs() if p["program"] == f"{d}#prog"]
    assert summary["enrollments_evaluated"] == n and summary["recorded"][0]["count"] == n
    reads = counts.of("GetItem") + counts.of("BatchGetItem") + counts.of("Query")
    print(f"\n{n} due: {dict(counts)}")
    assert counts.of("Scan") == 0
    per_shard = [min(shard_size, n - i * shard_size) for i in range(shards)]
    assert counts.of("BatchGetItem") == sum(math.ceil(k / 100) for k in per_shard)
    assert reads <= math.ceil(n / 100) + shards + 2  # + the program item and the due Query
    assert counts.of("UpdateItem") == n
    pages = [min(100, k - start) for k in per_shard for start in range(0, k, 100)]
    assert counts.of("TransactWriteItems") == sum(math.ceil(p / 12) for p in pages)  # a page at a time
    assert counts.of("PutItem") == 0 and counts.of("BatchWriteItem") == 0
    _assert_audited_once(d)


def test_enrollment_items_stay_small(local_stack: LocalStack) -> None:
    """Sizes of enrollment items as DynamoDB counts them, after a roster load and an evaluation."""
    district = make_district(local_stack, PACING, students=_students(3, "z"))
    run_program_day(local_stack, district.district_id, "prog", WARNING_DAY)
    client = local_stack.client("dynamodb")
    raw = client.get_item(
        TableName=local_stack.ref("EnrollmentsTable"),
        Key={"enrollment_key": {"S": f"{district.district_id}#cls-1#z0000"}},
        ConsistentRead=True,
    )["Item"]
    size = _item_size(raw)
    largest = sorted(((len(k) + _value_size(v), k) for k, v in raw.items()), reverse=True)[:6]
    print(f"\nenrollment item: {size} bytes; largest attributes: {largest}")
    # 470 bytes measured with three contacts (843 before the short names and packed contacts):
    # the activity test below shows what activity adds and that it stays under one write unit.
    assert size < 600


def test_enrollment_items_stay_under_one_write_unit_whatever_the_activity(local_stack: LocalStack) -> None:
    """Eight school days of 10 events (every kind the cost model sends, uuid event ids, progress
    values) through the ingest service, then an evaluation, for a student with three guardians:
    the item stays under 1 KB, so that each event's conditional UpdateItem is one write unit
    (docs/scale.md, "Item sizes": 3,771 bytes before the packing with one guardian, 2,055 after
    it with three; short stored names, packed contacts and instants, 4 void fallbacks a kind)."""
    district = make_district(local_stack, PACING, students=("z0",))
    d = district.district_id
    guardians = tuple(
        ContactRecord("guardian", f"guardian-{i}-of-z0@family.example", f"Guardian {i} of z0", "en")
        for i in range(3)
    )
    record = EnrollmentRecord(
        district_id=d,
        program_id="prog",
        class_id="cls-1",
        class_title="Biology Online",
        student_id="z0",
        student_name="Student z0",
        term_id="fall",
        start_date=date(2026, 8, 24),
        end_date=date(2026, 12, 18),
        contacts=(
            ContactRecord("student", "z0@students.school.example", "Student z0", "en", "z0"),
            *guardians,
            ContactRecord("instructor", "teacher@school.example", "Pat Teacher", "en"),
        ),
    )
    upsert_enrollments([record], district.program)
    kinds = (
        "login",
        "view",
        "view",
        "submission",
        "view",
        "progress",
        "discussion_post",
        "view",
        "login",
        "view",
    )
    me, cls = (Ref("sourcedId", "z0"),), (Ref("sourcedId", "cls-1"),)
    sizes = []
    for day in range(8):
        at = datetime(2026, 9, 1 + day, 14, tzinfo=UTC)
        events = [
            LmsEvent(
                str(uuid.uuid4()),
                "test",
                at + timedelta(minutes=5 * j),
                me,
                cls,
                kind,
                digest=f"{day}-{j}",
                percent_complete=float(10 + day * 3 + j) if kind == "progress" else None,
            )
            for j, kind in enumerate(kinds)
        ]
        ingest_events(district_id=d, source="test", events=events, now=at, ttl_days=30)
        sizes.append(_item_size(_enrollment_item(local_stack, d, "z0")))
    run_program_day(local_stack, d, "prog", WARNING_DAY)
    raw = _enrollment_item(local_stack, d, "z0")
    size = _item_size(raw)
    parts = sorted(((len(k) + _value_size(v), k) for k, v in raw.items()), reverse=True)
    print(f"\nenrollment item by school day: {sizes}; after the evaluation {size} bytes: {parts}")
    recent, percent_recent = EnrollmentModel.recent.attr_name, EnrollmentModel.percent_recent.attr_name
    fallbacks = sum(n for n, k in parts if k in (recent, percent_recent))
    # Evaluated, fallbacks kept (packed: 4 entries of 15 characters for views, by kind code).
    assert EnrollmentModel.checked_through.attr_name in raw and len(raw[recent]["M"]["v"]["S"]) == 4 * 15
    assert fallbacks <= 450  # 4 entries of each of 5 kinds and of progress, 15-20 bytes an entry
    # Levelled off: every kind has its 4 entries by the fourth day (a progress value's length varies).
    assert max(sizes[3:]) - min(sizes[3:]) <= 4
    # 972 bytes measured (253 of them the five contacts, 398 the fallbacks): one write unit.
    assert size < 1024
    item = EnrollmentModel.get(f"{d}#cls-1#z0", consistent_read=True)  # read back as written
    assert item.last_view_at == "2026-09-08T14:45:00.000000Z"
    assert item.percent_at == "2026-09-08T14:25:00.000000Z"
    assert [(c.role, c.address) for c in item.contacts] == [(c.role, c.address) for c in record.contacts]


def _enrollment_item(stack: LocalStack, district_id: str, student: str) -> dict[str, Any]:
    answer = stack.client("dynamodb").get_item(
        TableName=stack.ref("EnrollmentsTable"),
        Key={"enrollment_key": {"S": f"{district_id}#cls-1#{student}"}},
        ConsistentRead=True,
    )
    item: dict[str, Any] = answer["Item"]
    return item


def _value_size(value: dict[str, Any]) -> int:
    """A DynamoDB attribute value's size as DynamoDB bills it (docs: "Item sizes and formats")."""
    ((kind, body),) = value.items()
    if kind == "S":
        return len(body.encode())
    if kind == "N":
        return math.ceil(len(body.strip("-").replace(".", "").lstrip("0") or "0") / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in body)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in body)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in body.items())
    raise AssertionError(kind)


def _item_size(raw: dict[str, Any]) -> int:
    return sum(len(k.encode()) + _value_size(v) for k, v in raw.items())


def test_a_program_the_engine_refuses_does_not_stop_the_others_of_its_hour(local_stack: LocalStack) -> None:
    """A stored configuration the engine refuses (here: Chicago's meeting rule without the prompts
    it follows, which `onpace load program` would have refused) is reported failed; the other
    programs of the hour are planned as usual."""
    from onpace_core.store.programs import save_program
    from onpace_rules.program import ProgramConfig

    zone = "Pacific/Honolulu"
    good = make_district(local_stack, PACING, students=("stu-a",), time_zone=zone)
    broken = f"d-{uuid.uuid4().hex[:10]}"
    save_program(
        ProgramConfig.model_validate(
            {
                "district_id": broken,
                "program_id": "ladder",
                "name": "Broken",
                "time_zone": zone,
                "policy_version": "2026.1",
                "source": "test",
                "rules": {"cps_chicago.meeting.one_on_one": {}},
            }
        )
    )
    result = local_stack.invoke("EvaluateFunction", {"time_zone": zone, "day": "2026-09-25"})
    by_program = {p["program"]: p for p in result["programs"]}
    assert by_program[f"{broken}#ladder"] == {
        "program": f"{broken}#ladder",
        "day": "2026-09-25",
        "failed": "ValueError",
    }
    assert by_program[f"{good.district_id}#prog"]["due"] == 1
    drain(local_stack, EvaluationRun())
    assert [o.rule_id for o in _outbox(good.district_id)] == ["cps.pacing.ipr_warning_2w"]
