"""``ingest_events`` and ``record_rejection`` with their counts: what the ingest functions import.

Same signatures and results as ``onpace_core.ingest.service``; each call also adds the events it
stored, found already stored and kept unmatched, or one refused request.
"""

from __future__ import annotations

from typing import Any

from onpace_core.ingest import service
from onpace_core.ingest.service import ConflictError, IngestReport
from onpace_core.observability import (
    EVENTS_DUPLICATE,
    EVENTS_INGESTED,
    EVENTS_UNMATCHED,
    REQUESTS_REFUSED,
    count,
)

__all__ = ["ConflictError", "IngestReport", "ingest_events", "record_rejection"]


def ingest_events(**kwargs: Any) -> IngestReport:
    """``service.ingest_events``, counted (keyword arguments, as every caller passes them)."""
    report = service.ingest_events(**kwargs)
    count(EVENTS_INGESTED, report.accepted)
    count(EVENTS_DUPLICATE, report.duplicates)
    count(EVENTS_UNMATCHED, len(report.unmatched))
    return report


def record_rejection(*args: Any, **kwargs: Any) -> None:
    """``service.record_rejection``, counted as one refused request."""
    service.record_rejection(*args, **kwargs)
    count(REQUESTS_REFUSED, 1)
