"""The one ingest service over the in-memory port: resolution, quarantine, voids, conflicts, ties.

The DynamoDB adapter runs the same service (tests/integration/test_ingest_requests.py counts its
requests); here every rule is checked on ``MemoryIngestStore``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from onpace_core.facts.fold import EnrollmentFacts, FoldRules, short_id
from onpace_core.ingest.event import LmsEvent, Ref, content_digest
from onpace_core.ingest.identity import resolve
from onpace_core.ingest.ports import MemoryIngestStore
from onpace_core.ingest.service import ConflictError, IngestReport, ingest_events, load_identities
from onpace_core.roster.identities import IdentityRow, mbox_sha1sum
from onpace_rules.inputs import parse_input_data

D = "d1"
NOW = datetime(2026, 9, 20, 12, tzinfo=UTC)
T0 = datetime(2026, 9, 1, 15, tzinfo=UTC)


def _event(
    event_id: str,
    *,
    student: tuple[Ref, ...] = (Ref("sourcedId", "stu-1"),),
    course: tuple[Ref, ...] = (Ref("sourcedId", "cls-1"),),
    kind: str | None = "submission",
    at: datetime = T0,
    percent: float | None = None,
    voids: str | None = None,
    data: Any = None,
    content: str = "",
) -> LmsEvent:
    digest = content_digest([event_id, kind, at.isoformat(), percent, voids, content])
    return LmsEvent(
        event_id=event_id,
        source="test",
        occurred_at=at,
        student=student,
        course=course,
        kind=kind,
        percent_complete=percent,
        data=data,
        voids=voids,
        ignored=None if kind or voids else "log-out",
        payload="{}",
        digest=digest,
    )


@pytest.fixture
def store() -> MemoryIngestStore:
    memory = MemoryIngestStore()
    memory.add_enrollment(D, "cls-1", "stu-1", program_id="p")
    memory.add_enrollment(D, "cls-2", "stu-1", program_id="p")
    memory.add_enrollment(D, "cls-1", "stu-2", program_id="p")
    memory.programs[(D, "p")] = FoldRules(wake_days={"submission": 7}, history=frozenset({"submission"}))
    return memory


def _ingest(store: MemoryIngestStore, *events: LmsEvent) -> IngestReport:
    return ingest_events(district_id=D, source="test", events=list(events), now=NOW, ttl_days=30, store=store)


def _facts(store: MemoryIngestStore, class_id: str = "cls-1", student: str = "stu-1") -> EnrollmentFacts:
    return store.enrollments[f"{D}#{class_id}#{student}"]


# -- identity resolution --------------------------------------------------------------------------

USER_REFS = [
    Ref("sourcedId", "stu-1"),
    Ref("identifier", "900123"),
    Ref("username", "ana.l"),
    Ref("email", "Ana@Example.org"),  # compared lower-cased
    Ref("mbox_sha1sum", mbox_sha1sum("ana@example.org")),
    Ref("canvas", "4411"),
    Ref("iri", "https://lms.example/users/77"),
    Ref("userId:sis", "S-55"),
    Ref("account:https://lms.example", "ana77"),
]
CLASS_REFS = [
    Ref("sourcedId", "cls-2"),
    Ref("classCode", "BIO-101-02"),
    Ref("title", "Biology 2"),
    Ref("canvas", "c-9"),
    Ref("iri", "https://lms.example/courses/9"),
]


def _user_rows() -> list[IdentityRow]:
    rows = [IdentityRow("user", Ref("email", "ana@example.org"), "stu-1")]
    rows += [IdentityRow("user", Ref("mbox_sha1sum", mbox_sha1sum("ana@example.org")), "stu-1")]
    rows += [
        IdentityRow("user", r, "stu-1") for r in USER_REFS if r.namespace not in ("email", "mbox_sha1sum")
    ]
    rows += [IdentityRow("class", r, "cls-2") for r in CLASS_REFS]
    return rows


@pytest.mark.parametrize("ref", USER_REFS, ids=lambda r: r.namespace)
def test_every_user_namespace_resolves_to_the_roster_student(store: MemoryIngestStore, ref: Ref) -> None:
    load_identities(D, _user_rows(), origin="roster", now=NOW, store=store)
    report = _ingest(store, _event("e1", student=(ref,), course=(Ref("classCode", "BIO-101-02"),)))
    assert report.unmatched == []
    assert _facts(store, "cls-2").last["submission"] == "2026-09-01T15:00:00.000000Z"


@pytest.mark.parametrize("ref", CLASS_REFS, ids=lambda r: r.namespace)
def test_every_class_namespace_resolves_to_the_roster_class(store: MemoryIngestStore, ref: Ref) -> None:
    load_identities(D, _user_rows(), origin="roster", now=NOW, store=store)
    _ingest(store, _event("e1", student=(Ref("email", "ana@example.org"),), course=(ref,)))
    assert "submission" in _facts(store, "cls-2").last
    assert "submission" not in _facts(store, "cls-1").last


def test_first_ref_that_maps_wins_and_unknown_refs_are_skipped() -> None:
    identities = {("user", Ref("username", "ana.l")): frozenset({"stu-1"})}
    event = _event("e", student=(Ref("email", "nobody@x.org"), Ref("username", "ana.l")))
    assert resolve(event, identities).student == "stu-1"


def test_two_refs_naming_different_students_are_quarantined_as_ambiguous(store: MemoryIngestStore) -> None:
    rows = [
        IdentityRow("user", Ref("email", "ana@example.org"), "stu-1"),
        IdentityRow("user", Ref("username", "ana.l"), "stu-2"),
    ]
    load_identities(D, rows, origin="roster", now=NOW, store=store)
    event = _event("e1", student=(Ref("email", "ana@example.org"), Ref("username", "ana.l")))
    report = _ingest(store, event)
    assert [u["reason"] for u in report.unmatched] == ["ambiguous"]
    assert store.raw[(D, "e1")].status == "unmatched" and store.raw[(D, "e1")].reason == "ambiguous"
    assert "submission" not in _facts(store).last and "submission" not in _facts(store, "cls-1", "stu-2").last
    assert [a.type for a in store.audited] == ["ingest.unmatched"]


def test_a_course_code_shared_by_sections_resolves_to_the_students_section(store: MemoryIngestStore) -> None:
    rows = [
        IdentityRow("class", Ref("courseCode", "BIO"), "cls-1"),
        IdentityRow("class", Ref("courseCode", "BIO"), "cls-3"),
        IdentityRow("class", Ref("courseCode", "BIO"), "cls-2"),
    ]
    store.add_enrollment(D, "cls-3", "stu-3", program_id="p")
    load_identities(D, rows, origin="roster", now=NOW, store=store)
    report = _ingest(
        store, _event("e1", student=(Ref("sourcedId", "stu-3"),), course=(Ref("courseCode", "BIO"),))
    )
    assert report.unmatched == []
    assert "submission" in _facts(store, "cls-3", "stu-3").last
    # stu-1 is in two sections of the course: which one is not known, so it is kept.
    other = _ingest(store, _event("e2", course=(Ref("courseCode", "BIO"),)))
    assert other.unmatched[0]["reason"].startswith("ambiguous class")


def test_a_log_in_applies_to_every_active_enrollment_of_the_student(store: MemoryIngestStore) -> None:
    store.add_enrollment(D, "cls-old", "stu-1", program_id="p", status="withdrawn")
    store.add_enrollment(D, "*", "stu-1", program_id="p", scope="student")
    report = _ingest(store, _event("login-1", kind="login", course=()))
    assert report.unmatched == [] and report.accepted == 1
    assert _facts(store, "cls-1").last["login"] == _facts(store, "cls-2").last["login"]
    assert "login" not in _facts(store, "cls-old").last  # ended: not folded
    assert "login" not in _facts(store, "*").last  # the student-wide item holds no activity
    assert store.raw[(D, "login-1")].enrollments == (f"{D}#cls-1#stu-1", f"{D}#cls-2#stu-1")
    # A student with no active enrollment: kept, with the reason.
    lone = _ingest(store, _event("login-2", kind="login", course=(), student=(Ref("sourcedId", "stu-9"),)))
    assert lone.unmatched[0]["reason"] == "no active enrollment of this student"


def test_quarantined_events_are_reapplied_when_a_mapping_makes_them_match(store: MemoryIngestStore) -> None:
    report = _ingest(
        store, _event("e1", student=(Ref("canvas", "4411"),)), _event("e2", student=(Ref("canvas", "1"),))
    )
    assert len(report.unmatched) == 2 and report.accepted == 2
    saved, reapplied = load_identities(
        D, [IdentityRow("user", Ref("canvas", "4411"), "stu-1")], origin="admin", now=NOW, store=store
    )
    assert (saved, reapplied) == (1, 1)
    assert store.raw[(D, "e1")].status == "folded" and store.raw[(D, "e2")].status == "unmatched"
    assert _facts(store).last["submission"] == "2026-09-01T15:00:00.000000Z"
    assert store.audited[-1].type == "ingest.reapplied"
    # An admin's mapping is not replaced by a later roster load of the same reference.
    load_identities(
        D, [IdentityRow("user", Ref("canvas", "4411"), "stu-2")], origin="roster", now=NOW, store=store
    )
    assert store.identities[(D, ("user", Ref("canvas", "4411")))] == (frozenset({"stu-1"}), "admin")
    # Loading the same rows again writes none of them; a changed row is written.
    rows = [
        IdentityRow("user", Ref("canvas", "77"), "stu-2"),
        IdentityRow("user", Ref("email", "b@x"), "stu-2"),
    ]
    assert load_identities(D, rows, origin="roster", now=NOW, store=store)[0] == 2
    assert load_identities(D, rows, origin="roster", now=NOW, store=store)[0] == 0
    moved = [IdentityRow("user", Ref("canvas", "77"), "stu-1"), rows[1]]
    assert load_identities(D, moved, origin="roster", now=NOW, store=store)[0] == 1


# -- conflicts, duplicates, ignored -------------------------------------------------------------


def test_same_id_other_content_is_a_conflict_and_nothing_is_stored(store: MemoryIngestStore) -> None:
    _ingest(store, _event("e1"))
    before_raw, before_facts = dict(store.raw), dict(store.enrollments)
    with pytest.raises(ConflictError) as raised:
        _ingest(store, _event("new"), _event("e1", content="edited"))
    assert raised.value.event_ids == ["e1"]
    assert store.raw == before_raw and store.enrollments == before_facts
    with pytest.raises(ConflictError):
        _ingest(store, _event("x"), _event("x", content="other"))
    assert (D, "x") not in store.raw


def test_a_retry_is_a_duplicate_and_ignored_events_are_stored_not_folded(store: MemoryIngestStore) -> None:
    first = _ingest(store, _event("e1"), _event("bye", kind=None))
    assert (first.accepted, first.ignored, first.duplicates) == (2, 1, 0)
    assert store.raw[(D, "bye")].status == "ignored" and store.raw[(D, "bye")].reason == "log-out"
    writes = store.writes
    again = _ingest(store, _event("e1"), _event("bye", kind=None))
    assert (again.accepted, again.duplicates) == (0, 2)
    assert store.writes == writes  # folding a duplicate again changes nothing


def test_the_same_event_twice_in_one_request_counts_once_as_a_duplicate(store: MemoryIngestStore) -> None:
    event = _event("e1")
    report = _ingest(store, event, event, replace(event))  # one object twice, and an equal copy
    assert (report.accepted, report.duplicates) == (1, 2)
    assert list(store.raw) == [(D, "e1")]


def test_a_retry_folds_what_a_failed_write_left_unfolded(store: MemoryIngestStore) -> None:
    class Failing(MemoryIngestStore):
        def write_facts(self, old: EnrollmentFacts, new: EnrollmentFacts) -> None:
            raise RuntimeError("throttled")

    failing = Failing(enrollments=store.enrollments, by_student=store.by_student, programs=store.programs)
    with pytest.raises(RuntimeError):
        _ingest(failing, _event("e1"))
    assert failing.raw[(D, "e1")].status == "folded"  # stored before the 5xx...
    assert "submission" not in _facts(store).last  # ...but not folded
    store.raw = failing.raw
    retry = _ingest(store, _event("e1"))
    assert retry.duplicates == 1 and _facts(store).last["submission"] == "2026-09-01T15:00:00.000000Z"


def test_a_write_that_loses_a_race_is_read_again_and_folded_again(store: MemoryIngestStore) -> None:
    class Racing(MemoryIngestStore):
        raced = False

        def write_facts(self, old: EnrollmentFacts, new: EnrollmentFacts) -> None:
            if not self.raced:  # another request folds a later login first
                self.raced = True
                current = self.enrollments[old.key]
                self.enrollments[old.key] = replace(
                    current,
                    last={**current.last, "login": "2026-09-09T00:00:00.000000Z"},
                    seq=(current.seq or 0) + 1,
                )
            super().write_facts(old, new)

    racing = Racing(enrollments=store.enrollments, by_student=store.by_student, programs=store.programs)
    _ingest(racing, _event("e1"))
    facts = _facts(racing)
    assert facts.last == {"submission": "2026-09-01T15:00:00.000000Z", "login": "2026-09-09T00:00:00.000000Z"}


# -- progress tie-break ------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["low-first", "high-first"])
def test_two_progress_values_at_one_instant_resolve_the_same_in_either_order(
    store: MemoryIngestStore, order: str
) -> None:
    low = _event("p-a", kind="progress", percent=40.0)
    high = _event("p-b", kind="progress", percent=55.0)
    first, second = (low, high) if order == "low-first" else (high, low)
    _ingest(store, first)
    _ingest(store, second)
    assert _facts(store).percent == pytest.approx(0.55)
    assert _facts(store).percent_event == short_id("p-b")  # the kept value names its event by short id
    # A later instant wins even with a lower value.
    _ingest(store, _event("p-c", kind="progress", percent=50.0, at=T0 + timedelta(hours=1)))
    assert _facts(store).percent == pytest.approx(0.50)


# -- voids -------------------------------------------------------------------------------------


def test_a_void_takes_back_the_latest_instant_its_log_entry_and_its_progress(
    store: MemoryIngestStore,
) -> None:
    later = T0 + timedelta(days=2)
    _ingest(store, _event("s1"), _event("s2", at=later, percent=30.0))
    assert _facts(store).last["submission"] == "2026-09-03T15:00:00.000000Z"
    report = _ingest(
        store, _event("v1", kind=None, voids="s2", student=(Ref("username", "teacher"),), course=())
    )
    assert report.voided == 1 and report.unmatched == []
    facts = _facts(store)
    assert facts.last["submission"] == "2026-09-01T15:00:00.000000Z"
    assert set(facts.activity_log) == {"s1"}
    assert facts.percent is None
    assert store.raw[(D, "s2")].status == "voided"
    assert store.audited[-1].type == "ingest.voided"
    # Voiding an older event leaves the latest instant alone.
    _ingest(store, _event("s3", at=later))
    _ingest(store, _event("v2", kind=None, voids="s1", course=()))
    assert _facts(store).last["submission"] == "2026-09-03T15:00:00.000000Z"
    assert set(_facts(store).activity_log) == {"s3"}


def test_a_void_that_arrives_first_keeps_the_voided_event_from_counting(store: MemoryIngestStore) -> None:
    _ingest(store, _event("v1", kind=None, voids="s9"))
    assert store.raw[(D, "s9")].status == "voided"
    report = _ingest(store, _event("s9"))
    assert report.voided == 1 and report.accepted == 1
    assert "submission" not in _facts(store).last
    assert store.raw[(D, "s9")].digest  # a voided event, no longer a marker...
    archived = [r for _, records in store.archived for r in records if r.event_id == "s9"]
    assert [(r.status, r.payload) for r in archived] == [("voided", "{}")]  # ...its content archived
    # In one request, in either order: the voided event is stored, never folded.
    _ingest(store, _event("s10", at=T0 + timedelta(days=1)), _event("v10", kind=None, voids="s10"))
    assert "submission" not in _facts(store).last


def test_a_voided_input_is_taken_off_its_enrollment(store: MemoryIngestStore) -> None:
    grade = parse_input_data("final_grade", {"grade": "B", "credits": 1})
    _ingest(store, _event("g1", kind="final_grade", data=grade))
    assert "g1" in _facts(store).inputs and _facts(store).wake_on == "2026-09-01"
    _ingest(store, _event("v", kind=None, voids="g1"))
    assert "g1" not in _facts(store).inputs


def test_a_quarantined_input_is_reapplied_with_its_data(store: MemoryIngestStore) -> None:
    grade = parse_input_data("final_grade", {"grade": "A-", "credits": 0.5})
    report = _ingest(store, _event("g1", kind="final_grade", data=grade, student=(Ref("username", "ana.l"),)))
    assert report.unmatched[0]["reason"] == "unknown student"
    load_identities(
        D, [IdentityRow("user", Ref("username", "ana.l"), "stu-1")], origin="admin", now=NOW, store=store
    )
    stored = _facts(store).inputs["g1"]
    assert '"grade": "A-"' in stored and '"credits": 0.5' in stored and '"class_id": "cls-1"' in stored


def test_a_void_beside_a_retry_of_its_event_still_takes_it_back(store: MemoryIngestStore) -> None:
    later = T0 + timedelta(days=2)
    _ingest(store, _event("s1"), _event("s2", at=later))
    both = _ingest(
        store, _event("s2", at=later), _event("v", kind=None, voids="s2"), _event("v2", kind=None, voids="s2")
    )
    assert (both.duplicates, both.voided) == (1, 1)
    assert _facts(store).last["submission"] == "2026-09-01T15:00:00.000000Z"
    assert store.raw[(D, "s2")].status == "voided"


# -- raw archive, slim items, the dedupe window ----------------------------------------------------


def _long(store: MemoryIngestStore, *events: LmsEvent) -> IngestReport:
    return ingest_events(
        district_id=D,
        source="test",
        events=list(events),
        now=NOW,
        ttl_days=30,
        long_ttl_days=400,
        store=store,
    )


def test_accepted_events_are_archived_whole_and_their_items_are_slim(store: MemoryIngestStore) -> None:
    unknown = _event("u1", student=(Ref("sourcedId", "nobody"),))
    _long(store, _event("e1"), _event("bye", kind=None), unknown, _event("v1", kind=None, voids="zz"))
    ((district, records),) = store.archived  # one archive write for the request
    assert district == D
    assert sorted(r.event_id for r in records) == ["bye", "e1", "u1", "v1"]  # not the marker of "zz"
    assert all(r.payload == "{}" and r.event for r in records)
    folded, unmatched = store.raw[(D, "e1")], store.raw[(D, "u1")]
    assert folded.payload == "" and folded.event == "" and folded.digest  # slim
    assert unmatched.payload == "" and unmatched.event  # kept for the re-apply
    assert store.raw[(D, "zz")].status == "voided" and not store.raw[(D, "zz")].digest  # a marker


def test_a_request_of_duplicates_archives_nothing(store: MemoryIngestStore) -> None:
    _long(store, _event("e1"))
    report = _long(store, _event("e1"))
    assert report.duplicates == 1 and len(store.archived) == 1


def test_only_quarantined_events_and_inputs_outlive_the_dedupe_window(store: MemoryIngestStore) -> None:
    grade = _event(
        "x1", kind="final_grade", data=parse_input_data("final_grade", {"grade": "B", "credits": 1})
    )
    unknown = _event("u1", student=(Ref("sourcedId", "nobody"),))
    _long(store, _event("e1"), grade, unknown, _event("v1", kind=None, voids="zz"))
    expires = {eid: store.raw[(D, eid)].expires_at for _, eid in store.raw}
    long = NOW + timedelta(days=400)
    assert expires == {"e1": None, "x1": long, "u1": long, "v1": None, "zz": None}  # None: ``ttl_days``


def test_the_archive_failing_stores_nothing(store: MemoryIngestStore) -> None:
    class Failing(MemoryIngestStore):
        def archive(self, district_id: str, received_at: datetime, records: Any) -> None:
            raise RuntimeError("S3 unavailable")

    failing = Failing(enrollments=store.enrollments, by_student=store.by_student, programs=store.programs)
    before = dict(failing.enrollments)
    with pytest.raises(RuntimeError):
        _long(failing, _event("e1"), _event("u1", student=(Ref("sourcedId", "nobody"),)))
    assert failing.raw == {} and failing.enrollments == before and failing.audited == []


def test_old_full_items_are_read_as_before(store: MemoryIngestStore) -> None:
    """Items written before the slimming keep ``payload`` and ``event``: a voided one is no marker."""
    _ingest(store, _event("s1"))
    full = replace(store.raw[(D, "s1")], status="voided", payload="{}", event='{"x":1}', digest="")
    store.raw[(D, "s1")] = full
    report = _ingest(store, _event("s1"))
    assert report.duplicates == 1 and report.accepted == 0
