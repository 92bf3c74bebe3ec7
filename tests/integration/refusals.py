"""Refused webhooks as ingest counts them: the minute windows of a district (``ingest/refusals.py``).

The sweep that audits closed windows appends in a transaction, which dynalite lacks; the tests
that run on both DynamoDB implementations read the counters themselves, and
``test_refusal_windows`` (moto) checks the audit entries the sweep makes of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from onpace_core.store.models import RefusalWindowModel


def refusal_windows(district_id: str) -> list[RefusalWindowModel]:
    """The district's refusal windows, oldest first (a Scan: fine in a test, never in a function)."""
    prefix = f"{district_id}#refused#"
    found = RefusalWindowModel.scan(RefusalWindowModel.pk.startswith(prefix), consistent_read=True)
    return sorted(found, key=lambda w: (w.window_start, w.pk))


def refused_in(windows: Iterable[RefusalWindowModel]) -> int:
    """The refused requests the windows count together."""
    return sum(int(w.refused) for w in windows)
