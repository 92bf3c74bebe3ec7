"""The console's audit log: filtered pages, newest first, with an opaque cursor; CSV export.

Every read is a Query whose key condition names the caller's district (never a Scan). The key
condition comes from the most selective filter:

| filter given | read |
|---|---|
| student | ``by_student`` (``{district}#{student}``) |
| class | ``by_class`` (``{district}#{class}``) |
| rule | ``by_rule`` (``{district}#{rule}``) |
| event type, or a delivery status that is one type | ``by_type`` (``{district}#{type}``) |
| nothing of those | the table (``district_id``) |

the other filters as a FilterExpression. Every one of those keys ranges over ``seq``, so a date
range becomes a ``seq`` range: one Query of one key on the keys-only ``by_time`` index at each
end (``at`` is the UTC instant an entry was written), done on the first page and carried in the
cursor. A page is **one** Query of ``limit`` items; when filters drop some it holds fewer rows
and still returns the cursor.

Dates: the range's days are those of ``AuditFilters.tz`` (an IANA zone, default ``UTC``): the
first instant of ``date_from`` to the last of ``date_to`` there. Each row carries ``at`` (UTC) and
``on``, the program-local day the entry concerns (evaluations), labelled as such.

Names: rows carry the student's display name and the class title from the student directory,
through a per-container :class:`~onpace_core.console.directory.NameBook` (ids not seen before:
one BatchGetItem per page; warm pages: none).
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.expressions.condition import Condition

from onpace_core.console.directory import CLASS, NAMES, STUDENT, NameBook, check_district
from onpace_core.store.models import AuditModel

PAGE_LIMIT_MAX = 200
CSV_ROW_CAP = 10_000

# What each delivery status means in the log: the entry types that record it. ``sent`` is SES
# accepting the message (notify); the others are SES's later events (ses-events), an
# escalation to the next contact, or a notice that never went.
DELIVERY_STATUSES: dict[str, tuple[str, ...]] = {
    "sent": ("notice.sent", "letter.sent"),
    "delivered": ("delivery.delivered",),
    "delayed": ("delivery.delayed",),
    "bounced": ("delivery.bounced",),
    "complained": ("delivery.complained",),
    "rejected": ("delivery.rejected",),
    "failed": ("notice.failed", "letter.failed", "delivery.failed"),
    "unconfirmed": ("notice.unconfirmed", "letter.unconfirmed"),
    "cancelled": ("notice.cancelled", "letter.cancelled"),
    "escalated": ("notice.escalated",),
    "unsubscribed": ("notice.unsubscribed",),
}


class AuditQueryError(ValueError):
    """A filter or cursor the query cannot take; the message says which."""


class CursorError(AuditQueryError):
    """A cursor that is not one this query gave (another district, other filters, or garbled)."""


@dataclass(frozen=True)
class AuditFilters:
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    tz: str = "UTC"  # the zone whose days date_from / date_to are
    student_id: str | None = None
    class_id: str | None = None
    rule_id: str | None = None
    event_type: str | None = None
    delivery_status: str | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise AuditQueryError(f"unknown time zone {self.tz!r}") from exc
        if self.delivery_status is not None and self.delivery_status not in DELIVERY_STATUSES:
            known = ", ".join(DELIVERY_STATUSES)
            raise AuditQueryError(f"unknown delivery status {self.delivery_status!r} (one of {known})")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise AuditQueryError("the date range ends before it starts")

    def fingerprint(self, district_id: str) -> str:
        """What a cursor is bound to: the district and every filter."""
        content = json.dumps([district_id, asdict(self)], sort_keys=True, default=str)
        return hashlib.sha256(content.encode()).hexdigest()[:32]

    def types(self) -> tuple[str, ...] | None:
        """The entry types the type and status filters allow (None: any; empty: none)."""
        allowed: tuple[str, ...] | None = None
        if self.delivery_status:
            allowed = DELIVERY_STATUSES[self.delivery_status]
        if self.event_type:
            allowed = (self.event_type,) if allowed is None or self.event_type in allowed else ()
        return allowed

    def date_label(self) -> str:
        return f"dates are days in {self.tz}"


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: str  # UTC instant written
    on: str | None  # program-local day the entry concerns
    type: str
    actor: str
    summary: str
    rule_id: str | None
    policy_version: str | None
    program_id: str | None
    student_id: str | None
    student_name: str | None
    class_id: str | None
    class_title: str | None
    notice_id: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    cursor: str | None  # None: no more rows
    index: str  # which key the page was read by (table or index name)
    date_label: str
    empty_reason: str | None = None  # set when the filters cannot match anything


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _day_bounds(filters: AuditFilters) -> tuple[str | None, str | None]:
    zone = ZoneInfo(filters.tz)
    start = _instant(datetime.combine(filters.date_from, time.min, zone)) if filters.date_from else None
    end = (
        _instant(datetime.combine(filters.date_to + timedelta(days=1), time.min, zone))
        if filters.date_to
        else None
    )
    return start, end  # [start, end)


def _seq_range(district_id: str, start: str | None, end: str | None) -> tuple[int, int] | None:
    """The seq range of entries written in [start, end): one Query of one key at each end given."""
    low, high = 1, 2**53
    if start is not None:
        first = next(iter(AuditModel.by_time.query(district_id, AuditModel.at >= start, limit=1)), None)
        if first is None:
            return None
        low = int(first.seq)
    if end is not None:
        last = next(
            iter(
                AuditModel.by_time.query(district_id, AuditModel.at < end, scan_index_forward=False, limit=1)
            ),
            None,
        )
        if last is None:
            return None
        high = int(last.seq)
    return (low, high) if low <= high else None


def _encode(payload: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise CursorError("the cursor is not one this log gave") from exc
    if not isinstance(payload, dict):
        raise CursorError("the cursor is not one this log gave")
    return payload


def _plan(district_id: str, filters: AuditFilters) -> tuple[Any, str, str, list[Condition]]:
    """(what to query, its hash key value, its name, the filters left for a FilterExpression)."""
    rest: list[Condition] = []
    types = filters.types()
    source: Any
    if filters.student_id:
        source, key, name = AuditModel.by_student, f"{district_id}#{filters.student_id}", "by_student"
    elif filters.class_id:
        source, key, name = AuditModel.by_class, f"{district_id}#{filters.class_id}", "by_class"
    elif filters.rule_id:
        source, key, name = AuditModel.by_rule, f"{district_id}#{filters.rule_id}", "by_rule"
    elif types is not None and len(types) == 1:
        source, key, name = AuditModel.by_type, f"{district_id}#{types[0]}", "by_type"
    else:
        source, key, name = AuditModel, district_id, "table"
    if filters.class_id and name != "by_class":
        rest.append(AuditModel.class_id == filters.class_id)
    if filters.rule_id and name not in ("by_rule",):
        rest.append(AuditModel.rule_id == filters.rule_id)
    if types is not None and name != "by_type":
        rest.append(AuditModel.type.is_in(*types))
    return source, key, name, rest


# Which attribute of a LastEvaluatedKey holds the partition value of each read.
_HASH_ATTRIBUTE = {
    "table": "district_id",
    "by_student": "district_student",
    "by_class": "district_class",
    "by_rule": "district_rule",
    "by_type": "district_type",
}


def _check_key(last_key: Any, district_id: str, name: str, key: str) -> None:
    """A start key must lie in the partition this query reads (hence the caller's district)."""
    if not isinstance(last_key, dict) or last_key.get("district_id") != {"S": district_id}:
        raise CursorError("the cursor belongs to another district or query")
    if last_key.get(_HASH_ATTRIBUTE[name]) != {"S": key}:
        raise CursorError("the cursor belongs to another district or query")


def audit_query(
    district_id: str,
    filters: AuditFilters | None = None,
    cursor: str | None = None,
    limit: int = 50,
    names: NameBook | None = None,
) -> AuditPage:
    """One page of ``district_id``'s log, newest first; see the module's docstring.

    Raises :class:`CursorError` for a cursor of another district or other filters, and
    :class:`AuditQueryError` for filters it cannot take.
    """
    check_district(district_id)
    filters = filters or AuditFilters()
    names = names or NAMES
    limit = max(1, min(limit, PAGE_LIMIT_MAX))
    source, key, name, rest = _plan(district_id, filters)
    if filters.types() == ():  # before any read: nothing can match
        return AuditPage(
            (), None, name, filters.date_label(), "that event type is not one of that delivery status"
        )
    start, end = _day_bounds(filters)
    bound = filters.fingerprint(district_id)
    last_key: dict[str, Any] | None = None
    seq_range: tuple[int, int] | None
    if cursor:
        payload = _decode(cursor)
        if payload.get("b") != bound:
            raise CursorError("the cursor was made for another district or other filters")
        last_key = payload.get("k")
        _check_key(last_key, district_id, name, key)
        found = payload.get("s")
        seq_range = (int(found[0]), int(found[1])) if found else None
    elif filters.date_from or filters.date_to:
        seq_range = _seq_range(district_id, start, end)
        if seq_range is None:
            return AuditPage((), None, name, filters.date_label(), "no entry was written in that date range")
    else:
        seq_range = None
    if start:
        rest.append(AuditModel.at >= start)
    if end:
        rest.append(AuditModel.at < end)
    range_condition = AuditModel.seq.between(*seq_range) if seq_range else None
    filter_condition: Condition | None = None
    for condition in rest:
        filter_condition = condition if filter_condition is None else filter_condition & condition
    results = source.query(
        key,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
        scan_index_forward=False,
        page_size=limit,
        last_evaluated_key=last_key,
    )
    # Exactly one Query: the page DynamoDB returns, however many of its items the filter kept.
    page = next(results.page_iter)
    items = [AuditModel.from_raw_data(raw) for raw in page.get("Items", [])]
    next_key = page.get("LastEvaluatedKey")
    rows = _rows(district_id, items, names)
    next_cursor = (
        _encode({"v": 1, "b": bound, "k": next_key, "s": list(seq_range) if seq_range else None})
        if next_key
        else None
    )
    return AuditPage(tuple(rows), next_cursor, name, filters.date_label())


def _rows(district_id: str, items: list[AuditModel], names: NameBook) -> list[AuditRow]:
    found = names.lookup(
        district_id,
        {i.student_id for i in items if i.student_id},
        {i.class_id for i in items if i.class_id},
    )
    rows = []
    for item in items:
        try:
            detail = json.loads(item.detail or "{}")
        except ValueError:
            detail = {"unreadable": item.detail}
        rows.append(
            AuditRow(
                seq=int(item.seq),
                at=item.at,
                on=item.on,
                type=item.type,
                actor=item.actor,
                summary=item.summary,
                rule_id=item.rule_id,
                policy_version=item.policy_version,
                program_id=item.program_id,
                student_id=item.student_id,
                student_name=found.get(f"{STUDENT}{item.student_id}") if item.student_id else None,
                class_id=item.class_id,
                class_title=found.get(f"{CLASS}{item.class_id}") if item.class_id else None,
                notice_id=item.notice_id,
                detail=detail if isinstance(detail, dict) else {"value": detail},
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# CSV


CSV_COLUMNS = (
    "seq",
    "written (UTC)",
    "concerns day (program-local)",
    "event type",
    "student",
    "student id",
    "class",
    "class id",
    "rule",
    "policy version",
    "summary",
    "notice id",
    "actor",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading ``'``."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class AuditCsv:
    text: str
    rows: int
    capped: bool
    message: str | None  # what a capped export says (also its last line)


def audit_csv_rows(
    district_id: str,
    filters: AuditFilters | None = None,
    cap: int = CSV_ROW_CAP,
    names: NameBook | None = None,
) -> Iterator[AuditRow]:
    """Every row the filters select, newest first, page by page (at most ``cap``)."""
    cursor: str | None = None
    given = 0
    while given < cap:
        page = audit_query(district_id, filters, cursor, limit=PAGE_LIMIT_MAX, names=names)
        for row in page.rows:
            if given >= cap:
                return
            given += 1
            yield row
        if page.cursor is None:
            return
        cursor = page.cursor


def audit_csv(
    district_id: str,
    filters: AuditFilters | None = None,
    cap: int = CSV_ROW_CAP,
    names: NameBook | None = None,
) -> AuditCsv:
    """The filtered rows as CSV with readable names and labelled dates, formula-safe cells; at
    most ``cap`` rows (a capped file's last line says so, and how to narrow it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    rows = audit_csv_rows(district_id, filters, cap + 1, names)
    capped = False
    for row in rows:
        if count == cap:
            capped = True
            break
        count += 1
        writer.writerow(
            safe_cell(v)
            for v in (
                row.seq,
                row.at,
                row.on,
                row.type,
                row.student_name,
                row.student_id,
                row.class_title,
                row.class_id,
                row.rule_id,
                row.policy_version,
                row.summary,
                row.notice_id,
                row.actor,
            )
        )
    message = None
    if capped:
        message = (
            f"Only the newest {cap} rows are in this file: narrow the dates or filters to export the rest."
        )
        writer.writerow([safe_cell(message)])
    return AuditCsv(out.getvalue(), count, capped, message)
