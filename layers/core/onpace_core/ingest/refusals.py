"""Refused webhooks, counted per district, source, status and reason in one-minute windows.

Anyone on the internet can send a district's webhook URL a bad signature: one audit entry per
refused request would let them flood the district's log (and its chain, and its console). So a
refusal costs one UpdateItem of its window's counter (``RefusalWindowModel``), and the sweep
(``RefusalWindowsFunction``, every five minutes) writes one ``ingest.rejected`` entry per closed
window carrying the count, the first message and the window's bounds. The entry and the window's
removal from the open index are one transaction, so a window is reported exactly once however
often the sweep runs or is retried.

The key space a sender controls is bounded: the source comes from the route, the status and the
reason from a fixed set of codes, the district from a configured one (refusals for districts
without credentials are not counted, as they were not audited).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from onpace_core.audit.log import AuditEntry, Claim, append_claimed, iso_instant
from onpace_core.store.models import OPEN_REFUSALS, RefusalWindowModel

ACTOR = "ingest"  # as ingest's other entries (``ingest.service.ACTOR``)
WINDOW = timedelta(minutes=1)
# Counters outlive their window long enough for a late sweep and for support to look at them.
KEEP = timedelta(days=7)
_MAX_EXAMPLE = 500

# What a status means when the route gives no finer code of its own.
_STATUS_REASONS = {
    400: "invalid_payload",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_payload",
}


def reason_code(status: int, code: str | None = None) -> str:
    """The window's reason: the route's own error code, else what the status means."""
    if code:
        return code
    return _STATUS_REASONS.get(status, f"http_{status}")


def window_of(instant: datetime) -> tuple[datetime, datetime]:
    """The minute ``instant`` falls in (UTC), as (start, end)."""
    start = instant.astimezone(UTC).replace(second=0, microsecond=0)
    return start, start + WINDOW


def _pk(district_id: str, source: str, status: int, reason: str, start: datetime) -> str:
    return f"{district_id}#refused#{source}#{status}#{reason}#{iso_instant(start)}"


def count_refusal(
    district_id: str, source: str, status: int, message: str, now: datetime, *, code: str | None = None
) -> int:
    """Count one refused request in its window; returns the window's count so far (one UpdateItem)."""
    reason = reason_code(status, code)
    start, end = window_of(now)
    item = RefusalWindowModel(_pk(district_id, source, status, reason, start))
    try:
        item.update(
            actions=[
                RefusalWindowModel.district_id.set(district_id),
                RefusalWindowModel.source.set(source),
                RefusalWindowModel.http_status.set(status),
                RefusalWindowModel.reason.set(reason),
                RefusalWindowModel.window_start.set(iso_instant(start)),
                RefusalWindowModel.window_end.set(iso_instant(end)),
                RefusalWindowModel.refused.add(1),
                RefusalWindowModel.example.set(
                    RefusalWindowModel.example | message[:_MAX_EXAMPLE]  # the first one stays
                ),
                RefusalWindowModel.expires_at.set(end + KEEP),
                # Only an unreported window is (re)opened: a refusal arriving after its window
                # was swept (a slow request) is still counted, but the window stays reported.
                RefusalWindowModel.refusals_open.set(RefusalWindowModel.refusals_open | OPEN_REFUSALS),
            ],
            condition=RefusalWindowModel.reported_at.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        # Already reported: count it late, without reopening (the entry stands as written).
        item.update(actions=[RefusalWindowModel.refused.add(1)])
    return int(item.refused)


@dataclass(frozen=True)
class SweepResult:
    windows: int  # windows reported now
    refused: int  # the requests they counted


def closed_windows(now: datetime) -> Iterator[RefusalWindowModel]:
    """Open windows that ended at or before ``now``, oldest first (one Query of the sparse index)."""
    return iter(
        RefusalWindowModel.open_refusals.query(
            OPEN_REFUSALS, range_key_condition=RefusalWindowModel.window_end <= iso_instant(now)
        )
    )


def _entry(window: RefusalWindowModel) -> AuditEntry:
    count = int(window.refused)
    start, end = window.window_start[11:16], window.window_end[11:16]
    plural = "webhook" if count == 1 else "webhooks"
    return AuditEntry(
        type="ingest.rejected",
        actor=ACTOR,
        summary=(
            f"{count} {window.source} {plural} refused with {int(window.http_status)} ({window.reason}) "
            f"between {start} and {end} UTC"
        ),
        detail={
            "source": window.source,
            "status": int(window.http_status),
            "reason": window.reason,
            "count": count,
            "window_start": window.window_start,
            "window_end": window.window_end,
            "example": window.example or "",
        },
    )


def sweep(now: datetime) -> SweepResult:
    """Report every closed window once: its audit entry and its leaving the open index together."""
    windows = refused = 0
    for window in closed_windows(now):
        # The count read here is final: the window has ended, and a refusal counted after the
        # entry (a request that straddled the minute) fails the condition and is not reported.
        entry = _entry(window)
        claim = Claim(
            item=window,
            actions=[
                RefusalWindowModel.refusals_open.remove(),
                RefusalWindowModel.reported_at.set(iso_instant(now)),
            ],
            condition=(RefusalWindowModel.refusals_open == OPEN_REFUSALS)
            & (RefusalWindowModel.refused == int(window.refused)),
        )
        stored = append_claimed(window.district_id, entry, claim, now=now)
        if stored is None:
            continue  # another sweep reported it, or a late refusal changed the count: next sweep
        windows += 1
        refused += int(window.refused)
    return SweepResult(windows, refused)
