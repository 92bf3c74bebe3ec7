"""No student in any log line: the real handlers' paths on moto server, their logs and metrics
captured, searched for every roster student id and address.

Also checks the Powertools metrics those paths emit (EMF lines on stdout, as in Lambda): the
counts the CloudWatch alarms of template.yaml watch.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from onpace_core.store.models import OutboxModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import post_webhook

from tests.integration.districts import SampleDistrict, evaluate, make_district
from tests.integration.test_notify import _event_for

pytestmark = pytest.mark.integration

PACING = {"cps.pacing.ipr_warning_2w": {}, "cps.pacing.ipr_warning_1w": {}, "cps.pacing.ipr_drop": {}}


@dataclass
class Captured:
    logs: io.StringIO = field(default_factory=io.StringIO)
    stdout: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.logs.getvalue() + self.stdout.getvalue()

    def metrics(self) -> dict[str, float]:
        """Sum of each metric over the EMF documents printed."""
        totals: dict[str, float] = {}
        for line in self.stdout.getvalue().splitlines():
            if not line.startswith("{"):
                continue
            document = json.loads(line)
            if "_aws" not in document:
                continue
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]
                    totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                        value if isinstance(value, list) else [value]
                    )
        return totals


@contextlib.contextmanager
def captured(stack: LocalStack) -> Iterator[Captured]:
    """What the functions' Powertools logger writes (its JSON lines, extra keys and all) and
    everything printed (EMF metrics), from any thread. Other loggers' records: ``caplog``."""
    for function in ("IngestFunction", "EvaluateFunction", "NotifyFunction"):
        stack.handler(function)  # imported, so their logger and its handler exist
    capture = Captured()
    handlers = [h for h in logging.getLogger("onpace").handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the handlers' Powertools logger is set up at import"
    streams = [h.setStream(_Tee(capture.logs, h.stream)) for h in handlers]
    try:
        with contextlib.redirect_stdout(capture.stdout):
            yield capture
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)


class _Tee(io.TextIOBase):
    def __init__(self, *targets: Any) -> None:
        self.targets = targets

    def write(self, text: str) -> int:
        for target in self.targets:
            target.write(text)
        return len(text)

    def flush(self) -> None:
        for target in self.targets:
            target.flush()


def _district(stack: LocalStack) -> SampleDistrict:
    tag = uuid.uuid4().hex[:8]
    return make_district(stack, PACING, students=(f"stu-low-{tag}", f"stu-busy-{tag}"))


def _forbidden(district: SampleDistrict, unknown: str) -> list[str]:
    words = [unknown]
    for student in district.students:
        words += [student, f"{student}@students.school.example", f"parent-of-{student}@family.example"]
    return words


def _assert_clean(text: str, forbidden: list[str]) -> None:
    leaks = [word for word in forbidden if word in text]
    lines = [line for line in text.splitlines() if any(word in line for word in leaks)]
    assert not leaks, f"student data in the logs: {leaks}\n" + "\n".join(lines[:5])


def test_ingest_and_evaluation_log_no_student(
    local_stack: LocalStack, gateway: GatewayHandle, caplog: pytest.LogCaptureFixture
) -> None:
    district = _district(local_stack)
    busy = district.students[1]
    unknown = f"stu-unknown-{uuid.uuid4().hex[:8]}"
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    events = [
        {"event_id": f"e-{busy}", "occurred_at": at, "student": busy, "class": "cls-1", "kind": "submission"},
        {
            "event_id": f"e-{unknown}",
            "occurred_at": at,
            "student": unknown,
            "class": "cls-1",
            "kind": "login",
        },
    ]
    caplog.set_level(logging.INFO)  # the template's default LogLevel
    with captured(local_stack) as capture:
        stored = post_webhook(
            gateway.url, district_id=district.district_id, secret=district.secret, events=events
        )
        refused = post_webhook(
            gateway.url, district_id=district.district_id, secret="whsec_" + "A" * 32, events=events
        )
        summary = evaluate(local_stack, district.district_id, date(2026, 9, 25))
    assert stored.status == 202 and refused.status == 401
    assert summary["recorded"], "the low-progress student's warning was decided"
    assert "webhook stored" in capture.text and "program planned" in capture.text  # capture works
    _assert_clean(capture.text + caplog.text, _forbidden(district, unknown))

    metrics = capture.metrics()
    assert metrics["EventsIngested"] >= 1
    assert metrics["EventsUnmatched"] >= 1
    assert metrics["RequestsRefused"] == 1
    assert metrics["ProgramDaysEvaluated"] == 1
    assert metrics["Decisions"] == sum(r["count"] for r in summary["recorded"])


def test_notify_logs_no_student(local_stack: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    district = _district(local_stack)
    evaluate(local_stack, district.district_id, date(2026, 9, 25))
    notices = list(OutboxModel.scan(OutboxModel.district_id == district.district_id))
    assert notices
    notice = notices[0]
    caplog.set_level(logging.INFO)  # the template's default LogLevel
    # The notice waits for the morning window: the dispatcher letters it, notify sends the letter.
    day = str(notice.send_key).rsplit("#", 1)[1]
    with captured(local_stack) as capture:
        local_stack.invoke(
            "DispatchFunction",
            {"district_id": district.district_id, "day": day, "scheduled_time": notice.send_after},
        )
        letters = OutboxModel.scan(
            (OutboxModel.district_id == district.district_id) & (OutboxModel.kind == "letter")
        )
        for letter in letters:
            local_stack.invoke("NotifyFunction", _event_for(local_stack, letter))
    assert "district day dispatched" in capture.text and "notice processed" in capture.text
    assert capture.metrics()["NoticesSent"] >= 1
    _assert_clean(capture.text + caplog.text, _forbidden(district, notice.student_id))
