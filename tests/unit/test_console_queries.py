"""The console queries' pure parts: folding and tokens, filters, cursors, CSV cells."""

from __future__ import annotations

from datetime import date

import pytest
from onpace_core.console.audit_query import (
    DELIVERY_STATUSES,
    AuditFilters,
    AuditQueryError,
    CursorError,
    _day_bounds,
    _decode,
    safe_cell,
)
from onpace_core.console.directory import check_district, fold, name_tokens, search_words, student_tokens


def test_fold_drops_accents_and_case() -> None:
    assert fold("Peña") == "pena"
    assert fold("ÉLODIE Müller") == "elodie muller"
    assert fold("a#b") == "a b"  # the key separator never reaches a sort key


def test_name_tokens_cover_punctuated_words() -> None:
    assert {"o'brien", "o", "brien", "obrien", "mary-jo", "mary", "jo", "maryjo"} <= name_tokens(
        "Mary-Jo O'Brien"
    )


def test_student_tokens_and_search_words() -> None:
    tokens = student_tokens("STU-1", "José Peña", "Jose.Pena@Example.org")
    assert tokens == sorted({"jose", "pena", "jose.pena@example.org", "stu-1"})
    assert search_words("  Ben  ORTIZ ") == ["ben", "ortiz"]
    assert search_words("Ben.O@Example.org") == ["ben.o@example.org"]  # one word
    assert search_words("   ") == []


def test_district_ids_with_the_separator_are_refused() -> None:
    assert check_district("riverbend") == "riverbend"
    for bad in ("", "a#b", "#"):
        with pytest.raises(ValueError, match="no '#'"):
            check_district(bad)


def test_filters_are_checked() -> None:
    with pytest.raises(AuditQueryError, match="time zone"):
        AuditFilters(tz="Mars/Olympus")
    with pytest.raises(AuditQueryError, match="delivery status"):
        AuditFilters(delivery_status="teleported")
    with pytest.raises(AuditQueryError, match="ends before"):
        AuditFilters(date_from=date(2026, 9, 2), date_to=date(2026, 9, 1))


def test_types_combine_the_type_and_status_filters() -> None:
    assert AuditFilters().types() is None
    assert AuditFilters(delivery_status="failed").types() == DELIVERY_STATUSES["failed"]
    assert AuditFilters(delivery_status="failed", event_type="notice.failed").types() == ("notice.failed",)
    assert AuditFilters(delivery_status="failed", event_type="notice.sent").types() == ()
    assert all(t.count(".") == 1 for types in DELIVERY_STATUSES.values() for t in types)


def test_fingerprint_binds_district_and_every_filter() -> None:
    base = AuditFilters(student_id="s1")
    assert base.fingerprint("a") == AuditFilters(student_id="s1").fingerprint("a")
    assert base.fingerprint("a") != base.fingerprint("b")
    assert base.fingerprint("a") != AuditFilters(student_id="s1", rule_id="r").fingerprint("a")


def test_day_bounds_are_the_zones_days_in_utc() -> None:
    start, end = _day_bounds(
        AuditFilters(date_from=date(2026, 9, 1), date_to=date(2026, 9, 1), tz="America/Chicago")
    )
    assert (start, end) == ("2026-09-01T05:00:00.000000Z", "2026-09-02T05:00:00.000000Z")


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WzEsMl0"])  # garbage, "not json", "[1,2]"
def test_garbled_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(CursorError):
        _decode(cursor)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
        (None, ""),
    ],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert safe_cell(value) == cell
