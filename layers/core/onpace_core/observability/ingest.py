"""``ingest_events`` and ``record_rejection`` with their counts: what the ingest functions import.

Same signatures and results as ``onpace_core.ingest.service``; each call also adds the events it
stored, found already stored and kept unmatched, or one refused request. The service (identity
resolution, the facts fold, the audit log, the rules' input kinds) is imported on the first
call, not at the functions' cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onpace_core.ingest.errors import ConflictError
from onpace_core.observability import (
    EVENTS_DUPLICATE,
    EVENTS_INGESTED,
    EVENTS_UNMATCHED,
    REQUESTS_REFUSED,
    count,
)

if TYPE_CHECKING:
    from onpace_core.ingest.service import IngestReport

__all__ = ["ConflictError", "ingest_events", "record_rejection"]


def ingest_events(**kwargs: Any) -> IngestReport:
    """``service.ingest_events``, counted (keyword arguments, as every caller passes them)."""
    from onpace_core.ingest import service

    report = service.ingest_events(**kwargs)
    count(EVENTS_INGESTED, report.accepted)
    count(EVENTS_DUPLICATE, report.duplicates)
    count(EVENTS_UNMATCHED, len(report.unmatched))
    return report


def record_rejection(*args: Any, **kwargs: Any) -> None:
    """``service.record_rejection``, counted as one refused request."""
    from onpace_core.ingest import service

    service.record_rejection(*args, **kwargs)
    count(REQUESTS_REFUSED, 1)
