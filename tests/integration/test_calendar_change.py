"""A calendar change loaded with `onpace load` reaches the scheduled evaluator, on moto server over HTTP.

The program is a CPS-style pacing program over the demo roster's online school (Ava, Ben, Cara,
none of whom reports progress, so all three are warned and then dropped at IPR #1, 2026-10-09).
A snow day closing Monday 2026-10-12, announced 2026-10-05, must wake every live enrollment on
2026-10-06, be audited once, and move the drop's appeal deadline (two school days) a day later.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from onpace_core.audit.log import AuditEntry, append_claimed, read, verify_chain
from onpace_core.store.models import AuditModel, EnrollmentModel, OutboxModel
from onpace_core.store.programs import audited_change_ids, calendar_audit_claim, change_id
from onpace_local.cli import main
from onpace_local.load import (
    LoadInputError,
    Target,
    bound,
    load_program_files,
    load_roster_dir,
    read_program_files,
    resolve_target,
)
from onpace_local.stack import LocalStack
from onpace_rules.program_files import load_program_file

from tests.integration.districts import evaluate

pytestmark = pytest.mark.integration

STUDENTS = ("stu-ava", "stu-ben", "stu-cara")
PROGRAM = """\
district_id: {district}
program_id: online
name: Test Online Academy
time_zone: America/Chicago
policy_version: test-online-2026.1
source: test
org_ids: [org-rb-online]
contacts:
  counselor:
    - {{name: Dana Ruiz, address: dana.ruiz@school.example}}
notices:
  program_name: Test Online Academy
  district_name: Riverbend School District
  contact: {{name: Casey Hart, address: casey.hart@school.example}}
calendar:
  holidays: [2026-09-07]
  terms:
    - {{id: term-fall-2026, start: 2026-08-24, end: 2026-12-18, ipr: 2026-10-09}}
{changes}rules:
  cps.pacing.ipr_warning_2w: {{}}
  cps.pacing.ipr_warning_1w: {{}}
  cps.pacing.ipr_drop: {{pacing_threshold: 0.15, appeal_window_school_days: 2}}
"""
SNOW_DAY = """\
  changes:
    - {announced: 2026-10-05, closed: [2026-10-12], reason: snow day}
"""


def _program_file(directory: Path, district: str, changes: str = "") -> Path:
    path = directory / f"{district}-online.yaml"
    path.write_text(PROGRAM.format(district=district, changes=changes), encoding="utf-8")
    return path


def _evaluate(stack: LocalStack, district: str, day: str) -> dict[str, Any]:
    return evaluate(stack, district, date.fromisoformat(day), program_id="online")


def _entries(district: str, kind: str) -> list[AuditModel]:
    return [e for e in read(district, limit=1000) if e.type == kind]


def _wake_dates(district: str) -> dict[str, str | None]:
    return {
        s: EnrollmentModel.get(f"{district}#{c}#{s}", consistent_read=True).wake_on
        for s, c in (("stu-ava", "cls-eng10"), ("stu-ben", "cls-eng10"), ("stu-cara", "cls-alg1"))
    }


def _report_progress(district: str, percent: float) -> None:
    """What folding an LMS progress event dated 2026-09-01 does to each enrollment's facts."""
    for s, c in (("stu-ava", "cls-eng10"), ("stu-ben", "cls-eng10"), ("stu-cara", "cls-alg1")):
        EnrollmentModel(enrollment_key=f"{district}#{c}#{s}").update(
            actions=[
                EnrollmentModel.percent_complete.set(percent),
                EnrollmentModel.percent_at.set("2026-09-01T15:00:00.000000Z"),
            ]
        )


def _appeal_deadlines(district: str) -> dict[str, str]:
    drops = OutboxModel.scan(
        (OutboxModel.district_id == district) & (OutboxModel.rule_id == "cps.pacing.ipr_drop")
    )
    return {o.student_id: o.deadlines.as_dict()["appeal"] for o in drops}


@pytest.fixture
def district() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def target(local_stack: LocalStack) -> Target:
    endpoint = local_stack.dynamodb_endpoint_url
    return resolve_target(stack=None, endpoint_url=endpoint, region=None, env=os.environ)


def test_snow_day_loaded_mid_term_is_applied_audited_once_and_moves_the_deadline(
    local_stack: LocalStack,
    repo_root: Path,
    tmp_path: Path,
    district: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = repo_root / "demo" / "roster"
    first = _program_file(tmp_path, district)
    endpoint = ["--endpoint-url", local_stack.dynamodb_endpoint_url]

    assert main(["load", "program", str(first), *endpoint]) == 0
    assert f"{district}#online: new, policy test-online-2026.1" in capsys.readouterr().out
    (loaded,) = _entries(district, "program.loaded")
    detail = json.loads(loaded.detail)
    assert detail["source_sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert loaded.policy_version == "test-online-2026.1" and detail["calendar_changes_added"] == []

    assert main(["load", "roster", str(roster), "--program", str(first), *endpoint]) == 0
    out = capsys.readouterr().out
    assert f"{district}#online: 3 enrollment(s) upserted" in out
    assert "6 student enrollment(s) of the export belong to other schools" in out

    assert _evaluate(local_stack, district, "2026-08-24")["enrollments_evaluated"] == 3
    _report_progress(district, 0.05)  # the LMS reports each student at 5 % (no data is not zero)
    warned = [_evaluate(local_stack, district, day)["recorded"] for day in ("2026-09-25", "2026-10-02")]
    assert warned == [
        [{"rule": "cps.pacing.ipr_warning_2w", "kind": "notice", "count": 3}],
        [{"rule": "cps.pacing.ipr_warning_1w", "kind": "notice", "count": 3}],
    ]
    assert set(_wake_dates(district).values()) == {"2026-10-10"}

    # Loading the same roster and program again changes nothing the evaluator keeps.
    fired_before = {
        e.enrollment_key: e.fired.as_dict()
        for e in EnrollmentModel.scan(EnrollmentModel.district_id == district)
    }
    assert main(["load", "roster", str(roster), "--program", str(first), *endpoint]) == 0
    assert main(["load", "program", str(first), *endpoint]) == 0
    assert "unchanged (same as the stored program), nothing written" in capsys.readouterr().out
    assert {
        e.enrollment_key: e.fired.as_dict()
        for e in EnrollmentModel.scan(EnrollmentModel.district_id == district)
    } == fired_before
    assert set(_wake_dates(district).values()) == {"2026-10-10"}
    assert len(_entries(district, "program.loaded")) == 1

    # The snow day is announced on 2026-10-05 and loaded: everyone is due again on 2026-10-06.
    snowy = _program_file(tmp_path, district, SNOW_DAY)
    assert main(["load", "program", str(snowy), *endpoint]) == 0
    out = capsys.readouterr().out
    assert "calendar change from 2026-10-06: closes 2026-10-12 (snow day; announced 2026-10-05)" in out
    assert "3 live enrollment(s) brought forward to be re-evaluated on 2026-10-06" in out
    assert set(_wake_dates(district).values()) == {"2026-10-06"}
    reloaded = _entries(district, "program.loaded")[0]
    assert json.loads(reloaded.detail)["calendar_changes_added"][0]["closed"] == ["2026-10-12"]
    assert json.loads(reloaded.detail)["subjects_woken"] == 3

    before_change = _evaluate(local_stack, district, "2026-10-05")
    assert before_change["enrollments_evaluated"] == 0 and "calendar_changes" not in before_change
    assert _entries(district, "calendar.changed") == []

    applied = _evaluate(local_stack, district, "2026-10-06")
    assert applied["enrollments_evaluated"] == 3 and applied["recorded"] == []
    assert applied["calendar_changes"] == [
        {
            "announced": "2026-10-05",
            "applies_from": "2026-10-06",
            "closed": ["2026-10-12"],
            "opened": [],
            "reason": "snow day",
        }
    ]
    assert set(_wake_dates(district).values()) == {"2026-10-10"}  # recomputed under the new calendar
    (changed,) = _entries(district, "calendar.changed")
    assert changed.on == "2026-10-06" and changed.program_id == "online" and changed.actor == "evaluate"
    assert changed.policy_version == "test-online-2026.1"
    assert json.loads(changed.detail)["enrollments_reevaluated"] == 3
    assert "closes 2026-10-12" in changed.summary and "3 enrollment(s) re-evaluated" in changed.summary

    rerun = _evaluate(local_stack, district, "2026-10-06")
    assert "calendar_changes" not in rerun
    assert len(_entries(district, "calendar.changed")) == 1

    dropped = _evaluate(local_stack, district, "2026-10-10")
    assert dropped["recorded"] == [{"rule": "cps.pacing.ipr_drop", "kind": "action", "count": 3}]
    # Two school days after Saturday 2026-10-10: Tue 10-13 before the change, Wed 10-14 after it.
    assert load_program_file(first).build_calendar().school_days_after(date(2026, 10, 10), 2) == date(
        2026, 10, 13
    )
    assert _appeal_deadlines(district) == dict.fromkeys(STUDENTS, "2026-10-14")
    assert verify_chain(district).intact


def test_a_change_loaded_after_it_applied_is_audited_on_the_next_evaluation(
    local_stack: LocalStack, repo_root: Path, tmp_path: Path, district: str, target: Target
) -> None:
    now = datetime(2026, 10, 8, 12, tzinfo=UTC)
    first = read_program_files([_program_file(tmp_path, district)])
    load_program_files(first, target, now, lambda _: None)
    load_roster_dir(repo_root / "demo" / "roster", first, target, now, lambda _: None)
    _evaluate(local_stack, district, "2026-10-02")  # the week's warnings; next look 2026-10-10

    late = read_program_files([_program_file(tmp_path, district, SNOW_DAY)])
    (load,) = load_program_files(late, target, now, lambda _: None)
    assert load.outcome == "changed" and load.wake_on == date(2026, 10, 6) and load.woken == 3

    caught_up = _evaluate(local_stack, district, "2026-10-08")
    assert caught_up["enrollments_evaluated"] == 3
    assert [c["applies_from"] for c in caught_up["calendar_changes"]] == ["2026-10-06"]
    (changed,) = _entries(district, "calendar.changed")
    assert changed.on == "2026-10-08"
    assert _evaluate(local_stack, district, "2026-10-09").get("calendar_changes") is None
    assert len(_entries(district, "calendar.changed")) == 1


def test_a_roster_is_refused_until_its_program_file_is_the_loaded_one(
    repo_root: Path, tmp_path: Path, district: str, target: Target
) -> None:
    now = datetime(2026, 8, 20, tzinfo=UTC)
    roster = repo_root / "demo" / "roster"
    first = read_program_files([_program_file(tmp_path, district)])
    with pytest.raises(LoadInputError, match=r"is not loaded: run `onpace load program"):
        load_roster_dir(roster, first, target, now, lambda _: None)

    load_program_files(first, target, now, lambda _: None)
    edited = read_program_files([_program_file(tmp_path, district, SNOW_DAY)])
    with pytest.raises(LoadInputError, match=r"differs from the loaded .*#online"):
        load_roster_dir(roster, edited, target, now, lambda _: None)
    assert list(EnrollmentModel.scan(EnrollmentModel.district_id == district)) == []
    assert _entries(district, "roster.loaded") == []


def test_two_runs_racing_on_the_change_day_write_one_entry(
    tmp_path: Path, district: str, target: Target
) -> None:
    """Both runs read "not audited yet"; the claim in the entry's transaction lets only one write."""
    (snowy,) = read_program_files([_program_file(tmp_path, district, SNOW_DAY)])
    load_program_files([snowy], target, datetime(2026, 10, 5, tzinfo=UTC), lambda _: None)
    (change,) = snowy.config.calendar.changes
    entry = AuditEntry(type="calendar.changed", actor="evaluate", summary="snow day", program_id="online")
    with bound(target):
        assert audited_change_ids(district, "online") == frozenset()
        first = append_claimed(district, entry, calendar_audit_claim(snowy.config, [change]))
        second = append_claimed(district, entry, calendar_audit_claim(snowy.config, [change]))
        assert audited_change_ids(district, "online") == {change_id(change)}
    assert first is not None and second is None
    assert len(_entries(district, "calendar.changed")) == 1
    assert verify_chain(district).intact


def test_stack_outputs_name_the_tables(local_stack: LocalStack) -> None:
    """`--stack NAME` finds the tables as the functions do: the outputs template.yaml declares."""
    names = {
        "EventsTableName": "EVENTS_TABLE",
        "EnrollmentsTableName": "ENROLLMENTS_TABLE",
        "OutboxTableName": "OUTBOX_TABLE",
        "AuditTableName": "AUDIT_TABLE",
        "ProgramsTableName": "PROGRAMS_TABLE",
        "AuditChainKeyArn": "AUDIT_CHAIN_KEY",
        "AuditCheckpointKeyArn": "AUDIT_CHECKPOINT_KEY",
        "AuditCheckpointBucketName": "AUDIT_CHECKPOINT_BUCKET",
    }
    env = local_stack.function_env("EvaluateFunction")
    stack_name = f"onpace-{uuid.uuid4().hex[:8]}"
    local_stack.client("cloudformation").create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},  # a stack needs one resource
                "Outputs": {key: {"Value": env[variable]} for key, variable in names.items()},
            }
        ),
    )
    found = resolve_target(
        stack=stack_name, endpoint_url=local_stack.endpoint_url, region="us-east-1", env={}
    )
    assert found.settings.programs_table == env["PROGRAMS_TABLE"]
    assert found.settings.audit_table == env["AUDIT_TABLE"]
    assert found.settings.enrollments_table == env["ENROLLMENTS_TABLE"]
    assert found.settings.audit_chain_key == env["AUDIT_CHAIN_KEY"]
    assert found.settings.audit_checkpoint_bucket == env["AUDIT_CHECKPOINT_BUCKET"]
    assert found.origin == f"stack {stack_name}"
