"""Every sample event in events/ drives its real handler on moto (as `onpace invoke` does)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from onpace_core.store.models import EnrollmentModel
from onpace_local.district import LoadedDistrict, load_district
from onpace_local.evaluation import discard_shards
from onpace_local.lms.canvas_client import DEFAULT_ROOT_ACCOUNT
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import resign_api_event

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb]  # also on dynalite


def _event(repo_root: Path, name: str) -> dict[str, Any]:
    return json.loads((repo_root / "events" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_district(local_stack: LocalStack, repo_root: Path) -> LoadedDistrict:
    return load_district(local_stack, repo_root / "demo" / "programs", repo_root / "demo" / "roster")


def test_every_function_has_a_sample_event(local_stack: LocalStack, repo_root: Path) -> None:
    names = {p.name.split("_")[0] for p in (repo_root / "events").glob("*.json")}
    functions = {f.logical_id.removesuffix("Function").lower() for f in local_stack.functions}
    assert functions <= names, f"functions without a sample event: {functions - names}"


@pytest.mark.dynamodb(needs="transactions")
def test_ses_events_event(local_stack: LocalStack, repo_root: Path) -> None:
    """A hard bounce as SNS hands it to the function; its tags name a notice this stack does not
    hold, so it is parsed and counted unknown, changing nothing."""
    result = local_stack.invoke("SesEventsFunction", _event(repo_root, "sesevents_bounce.json"))
    assert result == {"outcomes": ["unknown"]}


def test_ingest_events(local_stack: LocalStack, repo_root: Path, demo_district: LoadedDistrict) -> None:
    single = resign_api_event(_event(repo_root, "ingest_plain_single.json"), demo_district.webhook_secret)
    response = local_stack.invoke("IngestFunction", single)
    assert response["statusCode"] == 202, response
    assert json.loads(response["body"])["accepted"] == 1

    batch = resign_api_event(_event(repo_root, "ingest_plain_batch.json"), demo_district.webhook_secret)
    body = json.loads(local_stack.invoke("IngestFunction", batch)["body"])
    assert body["accepted"] == 2
    assert [u["student"] for u in body["unmatched"]] == ["stu-unknown"]

    inputs = resign_api_event(_event(repo_root, "ingest_plain_inputs.json"), demo_district.webhook_secret)
    body = json.loads(local_stack.invoke("IngestFunction", inputs)["body"])
    # a grade, a class-less accommodation and a contact an MSC instructor records
    assert body["accepted"] == 3 and body["unmatched"] == []

    # Unsigned as committed (placeholder signature): refused, as an LMS forgery would be.
    refused = local_stack.invoke("IngestFunction", _event(repo_root, "ingest_plain_single.json"))
    assert refused["statusCode"] == 401


def test_canvas_queue_event(local_stack: LocalStack, repo_root: Path, demo_district: LoadedDistrict) -> None:
    accounts = json.dumps({DEFAULT_ROOT_ACCOUNT: demo_district.district_id})
    with local_stack.environment(CANVAS_ACCOUNTS=accounts):
        result = local_stack.invoke("CanvasQueueFunction", _event(repo_root, "canvasqueue_live_events.json"))
    assert result == {"batchItemFailures": []}
    enrollment = EnrollmentModel.get(f"{demo_district.district_id}#cls-alg1#stu-cara", consistent_read=True)
    assert enrollment.last_submission_at == "2026-09-02T14:30:00.000000Z"
    assert enrollment.last_discussion_post_at == "2026-09-02T14:40:00.000000Z"


@pytest.mark.dynamodb(needs="transactions")  # decisions and audit entries: one transaction
def test_evaluate_and_console_events(
    local_stack: LocalStack, repo_root: Path, demo_district: LoadedDistrict
) -> None:
    # The demo district is loaded without its activity; as the LMS would, report each student's
    # progress (5 %) first: a pacing rule never warns on a value nobody reported.
    for item in EnrollmentModel.scan(EnrollmentModel.district_id == demo_district.district_id):
        item.update(
            actions=[
                EnrollmentModel.percent_complete.set(0.05),
                EnrollmentModel.percent_at.set("2026-09-01T15:00:00.000000Z"),
            ]
        )
    # The planner sends the program day's due enrollments to the shard queue; the worker's sample
    # event is that shard, as SQS hands it over.
    result = local_stack.invoke("EvaluateFunction", _event(repo_root, "evaluate_one_program.json"))
    (program,) = result["programs"]
    assert program["program"] == "riverbend#riverbend-online"
    assert program["due"] == 3 and program["shards"] == 1
    discard_shards(local_stack)  # the sample event below is that shard
    worker = local_stack.invoke("EvaluateWorkerFunction", _event(repo_root, "evaluateworker_shard.json"))
    assert worker["batchItemFailures"] == []
    (shard,) = worker["shards"]
    assert {"rule": "cps.pacing.ipr_warning_2w", "kind": "notice", "count": 3} in shard["recorded"]

    # The notices wait for the morning window: the hourly dispatcher's run at 07:10 in Chicago
    # puts them into letters (one per address) for notify.
    morning = local_stack.invoke("DispatchFunction", _event(repo_root, "dispatch_morning_schedule.json"))
    days = morning["days"]
    (riverbend,) = [d for d in days if d["district_id"] == "riverbend" and d["day"] == "2026-09-25"]
    assert riverbend["notices"] == 3 and riverbend["letters"] >= 3

    daily = local_stack.invoke("EvaluateFunction", _event(repo_root, "evaluate_daily_schedule.json"))
    assert "riverbend#riverbend-coop" in {p["program"] for p in daily["programs"]}
    discard_shards(local_stack)

    page = local_stack.invoke("ConsoleFunction", _event(repo_root, "console_audit_page.json"))
    assert page["statusCode"] == 200
    entries = json.loads(page["body"])["entries"]
    assert len(entries) == 3
    assert {e["rule_id"] for e in entries} == {"cps.pacing.ipr_warning_2w"}
    assert {e["student_id"] for e in entries} == {"stu-ava", "stu-ben", "stu-cara"}


def test_roster_import_event(local_stack: LocalStack, repo_root: Path, demo_district: LoadedDistrict) -> None:
    # The sample event names a zip under riverbend/ in the local roster bucket: put the demo
    # roster there, zipped, as the district's SIS would.
    event = _event(repo_root, "rosterimport_export_uploaded.json")
    where = event["Records"][0]["s3"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((repo_root / "demo" / "roster").glob("*.csv")):
            archive.write(path, path.name)
    local_stack.client("s3").put_object(
        Bucket=where["bucket"]["name"], Key=where["object"]["key"], Body=buffer.getvalue()
    )
    (imported,) = local_stack.invoke("RosterImportFunction", event)["imports"]
    # The roster the district was loaded from: nothing ends, nothing is wrong.
    assert imported["outcome"] == "imported", imported
    assert imported["district_id"] == demo_district.district_id
    assert imported["ended"] == 0 and imported["bad_rows"] == 0
    assert sum(imported["upserted"].values()) == demo_district.enrollments


@pytest.mark.dynamodb(needs="transactions")  # each window's entry and its closing: one transaction
def test_refusal_sweep_event(local_stack: LocalStack, repo_root: Path) -> None:
    """The schedule's event at 12:15 UTC reports a window of refusals that ended before it, once."""
    from datetime import UTC, datetime

    from onpace_core.audit.log import read
    from onpace_core.ingest.refusals import count_refusal

    district = f"sweep-{uuid.uuid4().hex[:8]}"
    count_refusal(district, "plain", 401, "bad signature", datetime(2026, 9, 25, 12, 9, 30, tzinfo=UTC))
    event = _event(repo_root, "refusalsweep_five_minutes.json")
    assert local_stack.invoke("RefusalSweepFunction", event)["windows"] >= 1
    assert [e.type for e in read(district)] == ["ingest.rejected"]
    assert local_stack.invoke("RefusalSweepFunction", event)["windows"] == 0


def test_audit_checkpoint_event(
    local_stack: LocalStack, repo_root: Path, demo_district: LoadedDistrict
) -> None:
    """The hourly schedule's input: the demo district's chain head is signed and written under the
    schedule's hour."""
    from onpace_core.audit.log import AuditEntry, append

    # The district's chain has a head whatever ran before (run alone, this test is the first).
    append(demo_district.district_id, [AuditEntry(type="test.marker", actor="test", summary="a head")])
    result = local_stack.invoke(
        "AuditCheckpointFunction", _event(repo_root, "auditcheckpoint_hourly_schedule.json")
    )
    assert f"checkpoints/{demo_district.district_id}/2026/09/25/12.json" in result["written"]
