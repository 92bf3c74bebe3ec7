"""Notify's request budget (issue 11, item 3), counted over the real handler on moto server.

DynamoDB requests are counted with botocore's ``before-call`` hooks on every model's client
(``onpace_local.request_count``), SES requests with the same hook on the handler's SES client.
Before issue 11 one email to one recipient cost 10 DynamoDB requests (read, start, re-read, claim,
settle, re-read, audit head, audit put, finalize, re-read) and a notice to three recipients 14.
Now: one claim of the notice, one write per email (the write that records SES's answer for one
recipient also marks the next one as being sent), the audit head and one transaction that
writes the audit entry with the notice's final status.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from onpace_core.store.models import Contact
from onpace_local.request_count import RequestCounts, counting_requests
from onpace_local.stack import LocalStack

from tests.integration.test_notify import _audit, _event_for, _insert, _notice, _refreshed, _sent

pytestmark = pytest.mark.integration

#: DynamoDB requests for a notice to ``n`` recipients: claim, the suppression list (one
#: BatchGetItem per 100 recipients), n writes, audit head, transaction (``n + 4``); a warning
#: adds the re-check at send's GetItem of the enrollment (``n + 5``).
BUDGET = {1: 5, 3: 7, 6: 10}
RECHECK = 1
DROP: dict[str, Any] = {
    "deadlines": {"appeal": "2026-10-13"},
    "facts": {
        "percent_complete": 0.1,
        "required_percent": 0.15,
        "ipr_date": "2026-10-09",
        "appeal_available": True,
        "pacing_appeals_used": 0,
        "pacing_appeals_per_year": 1,
        "other_courses_this_term": [],
    },
}


def _recipients(n: int) -> list[Contact]:
    return [Contact(role="guardian", address=f"g{i}@family.example", name=f"Guardian {i}") for i in range(n)]


@contextmanager
def _counting_ses(client: Any) -> Iterator[list[str]]:
    calls: list[str] = []

    def before_call(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.sesv2", before_call, unique_id="onpace-count-ses")
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-call.sesv2", unique_id="onpace-count-ses")


@pytest.mark.parametrize("kind", ["action", "warning"])
@pytest.mark.parametrize("n", sorted(BUDGET))
def test_requests_per_email(local_stack: LocalStack, n: int, kind: str) -> None:
    import notify_handler

    warm = _insert(_notice(recipients=_recipients(1)))
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, warm)) == {"batchItemFailures": []}
    if kind == "action":
        item = _insert(_notice("cps.pacing.ipr_drop", kind="action", recipients=_recipients(n), **DROP))
    else:  # the re-check reads the enrollment (not stored here: the warning stands)
        item = _insert(_notice(recipients=_recipients(n)))
    extra = RECHECK if kind == "warning" else 0
    event = _event_for(local_stack, item)

    counts: RequestCounts
    with counting_requests() as counts, _counting_ses(notify_handler.ses) as ses_calls:
        response = local_stack.invoke("NotifyFunction", event)

    assert response == {"batchItemFailures": []}
    assert len(_sent(local_stack, item.notice_id)) == n and _refreshed(item).status == "sent"
    assert len(_audit(item)) == 1
    total = counts.total()
    print(f"\n{n} recipient(s): {total} DynamoDB requests, {len(ses_calls)} SES ({total / n:.2f} per email)")
    assert ses_calls == ["SendEmail"] * n
    assert counts.of("Scan") == 0 and counts.of("GetItem") == extra
    assert counts.of("BatchGetItem") == 1
    assert total <= BUDGET[n] + extra
    # At least halved against the 8 + 2n requests before issue 11 (an action; a warning's
    # re-check costs one more).
    assert (total - extra) * 2 <= 8 + 2 * n

    # The same record again (a retry, a replay) sends nothing: one conditional claim that fails
    # and one read of why.
    with counting_requests() as again, _counting_ses(notify_handler.ses) as ses_again:
        assert local_stack.invoke("NotifyFunction", event) == {"batchItemFailures": []}
    assert ses_again == [] and again.total() <= 2
    assert len(_audit(item)) == 1


def test_a_notice_that_is_never_sent_costs_no_request(local_stack: LocalStack) -> None:
    """A skipped or suppressed notice is known from the stream's image alone."""
    # The handler binds the models on its first invocation: that happens outside the count (so
    # the test holds when it runs alone, not only after others have imported the handler).
    warm = _insert(_notice(recipients=_recipients(1)))
    assert local_stack.invoke("NotifyFunction", _event_for(local_stack, warm)) == {"batchItemFailures": []}
    item = _insert(_notice(kind="skipped", status="skipped", status_reason="superseded"))
    event = _event_for(local_stack, item)
    with counting_requests() as counts:
        assert local_stack.invoke("NotifyFunction", event) == {"batchItemFailures": []}
    assert counts.total() == 0
