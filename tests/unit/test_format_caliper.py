"""The Caliper parser against the spec's own fixtures (1EdTech caliper-spec) and Canvas's Caliper
1.1 events, as docs/ingest.md ("Caliper") maps them."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from onpace_core.ingest.bearer import parse_bearer
from onpace_core.ingest.credentials import CredentialError, CredentialName
from onpace_core.ingest.event import LmsEvent, Ref, content_digest
from onpace_core.ingest.formats.caliper import (
    CALIPER_V1P1,
    CALIPER_V1P2,
    NO_COURSE,
    NO_PROGRESS,
    CaliperBatch,
    CaliperError,
    check_media_type,
    parse_caliper,
)
from onpace_local.lms.caliper_client import envelope, event_from_plain

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
USER = Ref("iri", "https://example.edu/users/554433")
SECTION = Ref("iri", "https://example.edu/terms/201601/courses/7/sections/1")
SECTION_CODE = Ref("classCode", "CPS 435-01")
LIS_USER = Ref("sourcedId", "example.edu:71ee7e42-f6d2-414a-80db-b69ac2defd4")
LIS_SECTION = Ref("sourcedId", "example.edu:SI182-001-F16")


@pytest.fixture(scope="module")
def caliper_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "caliper"


@pytest.fixture(scope="module")
def canvas_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "canvas" / "caliper_v1p1"


def _wrap(document: dict[str, Any], version: str) -> dict[str, Any]:
    """An envelope around a bare event fixture (the spec's event fixtures are single events)."""
    if "dataVersion" in document:
        return document
    return {
        "sensor": "https://example.edu/sensors/1",
        "sendTime": "2016-11-15T11:05:01.000Z",
        "dataVersion": version,
        "data": [document],
    }


def _parse_file(path: Path) -> tuple[CaliperBatch, dict[str, Any]]:
    version = CALIPER_V1P1 if path.parent.name == "v1p1" else CALIPER_V1P2
    document = _wrap(json.loads(path.read_text()), version)
    return parse_caliper(json.dumps(document), now=NOW), document


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _error(document: Any, *, now: datetime = NOW) -> CaliperError:
    body = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(CaliperError) as caught:
        parse_caliper(body, now=now)
    return caught.value


def _fields(error: CaliperError) -> set[tuple[int | None, str | None]]:
    return {(p["event"], p["field"]) for p in error.problems}


# -- the spec's valid fixtures -----------------------------------------------------------------

# Per fixture, per event in order: kind, why it is ignored (a fragment), eventTime, a student ref,
# a course ref (None: the event names no course).
EXPECTED: dict[str, list[tuple[str | None, str | None, str, Ref, Ref | None]]] = {
    "v1p1/caliperEnvelopeEventSingle.json": [
        (None, "starting an assessment", "2016-11-15T10:15:00Z", USER, SECTION)
    ],
    "v1p1/caliperEventAssessmentSubmitted.json": [
        ("submission", None, "2016-11-15T10:25:30Z", USER, SECTION_CODE)
    ],
    "v1p1/caliperEventSubmittedMultiContext.json": [
        (None, "no OnPace rule reads Event Submitted", "2018-11-15T10:15:00Z", USER, None)
    ],
    "v1p2/caliperEnvelopeEventBatch.json": [
        ("view", None, "2016-11-15T10:15:00Z", USER, SECTION),
        (None, "AnnotationEvent Bookmarked", "2016-11-15T10:20:00Z", USER, SECTION),
        ("view", None, "2016-11-15T10:21:00Z", USER, SECTION_CODE),
    ],
    "v1p2/caliperEnvelopeEventSingle.json": [
        (None, "starting an assessment", "2016-11-15T10:15:00Z", USER, SECTION)
    ],
    "v1p2/caliperEnvelopeEventThinned.json": [("view", None, "2017-11-15T10:15:00Z", USER, SECTION)],
    "v1p2/caliperEnvelopeMixedBatch.json": [
        (None, "starting an assessment", "2016-11-15T10:15:00Z", LIS_USER, LIS_SECTION),
        ("submission", None, "2016-11-15T10:25:30Z", LIS_USER, LIS_SECTION),
        (None, "grades come from the SIS", "2016-11-15T10:57:06Z", LIS_USER, LIS_SECTION),
    ],
    "v1p2/caliperEventAssessmentSubmitted.json": [
        ("submission", None, "2016-11-15T10:25:30Z", USER, SECTION)
    ],
    "v1p2/caliperEventAssignableActivated.json": [
        (None, "instructor", "2016-11-12T10:15:00Z", Ref("iri", "https://example.edu/users/112233"), SECTION)
    ],
    "v1p2/caliperEventGradeGraded.json": [
        (None, "grades come from the SIS", "2016-11-15T10:57:06Z", USER, SECTION)
    ],
    "v1p2/caliperEventMessagePosted.json": [("discussion_post", None, "2016-11-15T10:15:00Z", USER, SECTION)],
    "v1p2/caliperEventMessageReplied.json": [
        (
            "discussion_reply",
            None,
            "2016-11-15T10:15:30Z",
            Ref("iri", "https://example.edu/users/778899"),
            SECTION,
        )
    ],
    "v1p2/caliperEventNavigationNavigatedToWebPage.json": [
        ("view", None, "2016-11-15T10:15:00Z", USER, SECTION)
    ],
    "v1p2/caliperEventSessionLoggedIn.json": [("login", None, "2016-11-15T10:15:00Z", USER, None)],
    "v1p2/caliperEventSessionLoggedOut.json": [(None, "log-out", "2016-11-15T11:05:00Z", USER, None)],
    "v1p2/caliperEventSessionTimedOut.json": [
        (None, "time-out", "2016-11-15T11:15:00Z", Ref("iri", "https://example.edu/users/112233"), None)
    ],
    "v1p2/caliperEventToolLaunchLaunched.json": [
        (None, "ToolLaunchEvent Launched", "2018-11-15T10:15:00Z", USER, SECTION_CODE)
    ],
    "v1p2/caliperEventToolUseUsedWithProgress.json": [
        ("progress", None, "2019-11-15T10:15:00Z", USER, Ref("courseCode", "CPS 435"))
    ],
    "v1p2/caliperEventViewViewedDocument.json": [("view", None, "2016-11-15T10:15:00Z", USER, SECTION)],
}


def test_every_valid_fixture_has_its_expectation(caliper_dir: Path) -> None:
    """A fixture added to ../shared (or one removed) must be mapped here too."""
    sources = (caliper_dir / "SOURCES.txt").read_text()
    assert "caliper-spec" in sources and "fixtures/v1p2/commonErrorFixtures" in sources
    found = {
        str(p.relative_to(caliper_dir))
        for p in caliper_dir.glob("v1p*/*.json")  # not commonErrorFixtures/
    }
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_valid_fixture_maps_as_documented(caliper_dir: Path, name: str) -> None:
    batch, document = _parse_file(caliper_dir / name)
    items = [item for item in document["data"] if "eventTime" in item]
    assert len(batch.events) == len(items) == len(EXPECTED[name])
    for event, item, (kind, ignored, at, student, course) in zip(
        batch.events, items, EXPECTED[name], strict=True
    ):
        assert event.source == "caliper"
        assert event.event_id == item["id"]
        assert event.kind == kind
        if ignored is None:
            assert event.ignored is None
        else:
            assert event.ignored is not None and ignored in event.ignored
        assert event.occurred_at == _at(at)
        assert student in event.student
        if course is None:
            assert event.course == ()
        else:
            assert course in event.course
        # Dedupe and conflict detection work on the event as sent.
        assert event.digest == content_digest(item)
        assert json.loads(event.payload) == item


def test_progress_is_units_completed_over_its_maximum(caliper_dir: Path) -> None:
    batch, _ = _parse_file(caliper_dir / "v1p2/caliperEventToolUseUsedWithProgress.json")
    (event,) = batch.events
    # UnitsCompleted 12 of maxMetricValue 25; MinutesOnTask (873, no maximum) is not progress.
    assert event.percent_complete == pytest.approx(48.0)


def test_graded_event_names_the_assignee_not_the_grader(caliper_dir: Path) -> None:
    batch, _ = _parse_file(caliper_dir / "v1p2/caliperEventGradeGraded.json")
    (event,) = batch.events
    assert Ref("iri", "https://example.edu/autograder") not in event.student
    assert event.student == (USER,)


def test_mixed_batch_describes_fill_in_the_iris(caliper_dir: Path) -> None:
    batch, _ = _parse_file(caliper_dir / "v1p2/caliperEnvelopeMixedBatch.json")
    assert batch.described == 4  # Person, Assessment, SoftwareApplication, CourseSection
    submitted = batch.events[1]
    # The Person is described once with its otherIdentifiers; the event names it by IRI.
    assert submitted.student[0] == LIS_USER  # the roster's own id first
    assert set(submitted.student) == {
        LIS_USER,
        USER,
        Ref("email", "jane@example.edu"),
        Ref("userId:LtiUserId", "https://example.edu/users/554433"),
        Ref("userId:SystemId", "4567"),
    }
    assert submitted.course[0] == LIS_SECTION
    assert {
        Ref("classCode", "CPS 435-01"),
        Ref("title", "CPS 435 Learning Analytics, Section 01"),
        Ref("courseCode", "CPS 435"),  # the CourseOffering it is a section of
        Ref("iri", "https://example.edu/terms/201601/courses/7"),
    } <= set(submitted.course)


def test_thinned_event_has_only_iris(caliper_dir: Path) -> None:
    batch, _ = _parse_file(caliper_dir / "v1p2/caliperEnvelopeEventThinned.json")
    (event,) = batch.events
    assert (event.student, event.course) == ((USER,), (SECTION,))


# -- the spec's error fixtures -----------------------------------------------------------------

ERROR_FIELDS = {
    "caliperEvent-NoActor.json": ("actor", "required"),
    "caliperEvent-NoEventTime.json": ("eventTime", "required"),
    "caliperEvent-NoId.json": ("id", "required"),
    "caliperEvent-UnknownEventType.json": ("type", "not a Caliper"),
}


def test_every_error_fixture_has_its_expectation(caliper_dir: Path) -> None:
    found = {p.name for p in (caliper_dir / "v1p2" / "commonErrorFixtures").glob("*.json")}
    assert found == set(ERROR_FIELDS)


@pytest.mark.parametrize("name", sorted(ERROR_FIELDS))
def test_error_fixture_is_refused_naming_the_problem(caliper_dir: Path, name: str) -> None:
    field, words = ERROR_FIELDS[name]
    event = json.loads((caliper_dir / "v1p2" / "commonErrorFixtures" / name).read_text())
    good = json.loads((caliper_dir / "v1p2" / "caliperEventViewViewedDocument.json").read_text())
    good["id"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    document = _wrap(good, CALIPER_V1P2)
    document["data"].append(event)
    # A malformed event is a 400 (spec: "malformed … SHOULD reply with 400 Bad Request"); the
    # valid event beside it is refused with it.
    error = _error(document)
    assert error.status == 400
    assert _fields(error) == {(1, field)}
    assert words in error.problems[0]["problem"]
    assert "nothing was stored" in str(error)
    # Sent alone, without an envelope, it is a 400 too (spec: events must be enveloped).
    bare = _error(event)
    assert bare.status == 400 and "envelope" in str(bare)


# -- envelope and media type -------------------------------------------------------------------


def _envelope(*events: dict[str, Any], **changes: Any) -> dict[str, Any]:
    document = {
        "sensor": "https://example.edu/sensors/1",
        "sendTime": "2016-11-15T11:05:01.000Z",
        "dataVersion": CALIPER_V1P2,
        "data": list(events),
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


@pytest.fixture
def view(caliper_dir: Path) -> dict[str, Any]:
    return dict(json.loads((caliper_dir / "v1p2" / "caliperEventViewViewedDocument.json").read_text()))


@pytest.mark.parametrize(
    "version", ["http://purl.imsglobal.org/ctx/caliper/v1p0", "http://purl.imsglobal.org/ctx/caliper/v2p0"]
)
def test_unsupported_data_version_is_422(view: dict[str, Any], version: str) -> None:
    error = _error(_envelope(view, dataVersion=version))
    assert error.status == 422
    assert version in str(error) and CALIPER_V1P2 in str(error)
    assert _fields(error) == {(None, "dataVersion")}


def test_unsupported_version_wins_over_a_malformed_envelope(view: dict[str, Any]) -> None:
    # Spec: SHOULD NOT send 400 if the dataVersion cannot be supported; 422 instead.
    error = _error(_envelope(view, dataVersion="urn:other", sendTime=None))
    assert error.status == 422


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sendTime": None}, "sendTime"),
        ({"sensor": None}, "sensor"),
        ({"dataVersion": None}, "dataVersion"),
        ({"sendTime": "2016-11-15T11:05:01"}, "sendTime"),  # no offset
        ({"data": []}, "data"),
        ({"data": None}, "data"),
        ({"extra": 1}, "extra"),  # "No custom properties are permitted"
    ],
)
def test_malformed_envelope_is_400_naming_the_property(
    view: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    error = _error(_envelope(view, **changes))
    assert error.status == 400
    assert (None, field) in _fields(error)


@pytest.mark.parametrize("body", ["[]", '"text"', "{not json", ""])
def test_not_an_envelope_is_400(body: str) -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - CaliperError or LimitError, both 400
        parse_caliper(body, now=NOW)
    assert getattr(caught.value, "status", None) == 400


def test_not_utf8_is_400() -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011
        parse_caliper(b'{"sensor": "\xff"}', now=NOW)
    assert getattr(caught.value, "status", None) == 400 and "UTF-8" in str(caught.value)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/LD+JSON"]
)
def test_json_media_types_are_accepted(content_type: str) -> None:
    check_media_type(content_type)


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-www-form-urlencoded"])
def test_other_media_types_are_415(content_type: str | None) -> None:
    with pytest.raises(CaliperError) as caught:
        check_media_type(content_type)
    assert caught.value.status == 415 and "application/json" in str(caught.value)


# -- events: limits and malformed properties ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"eventTime": "2026-12-01T12:30:00.000Z"}, "eventTime", "future"),
        ({"eventTime": "1999-12-31T23:59:59.000Z"}, "eventTime", "2000"),
        ({"eventTime": "2016-11-15T10:15:00.000"}, "eventTime", "timezone"),
        ({"id": "event-1"}, "id", "urn:uuid"),
        ({"actor": 42}, "actor", "IRI"),
        ({"actor": {"type": "Person"}}, "actor", "'id'"),
        ({"object": ""}, "object", "empty"),
        ({"group": {"id": "https://example.edu/s/1", "name": "x" * 2001}}, "group.name", "2000"),
        ({"actor": {"id": "u", "otherIdentifiers": {"identifier": "x"}}}, "actor.otherIdentifiers", "list"),
    ],
)
def test_malformed_event_is_400_naming_the_field(
    view: dict[str, Any], change: dict[str, Any], field: str, words: str
) -> None:
    error = _error(_envelope({**view, **change}))
    assert error.status == 400
    assert _fields(error) == {(0, field)}
    assert words in error.problems[0]["problem"]


def test_event_time_keeps_its_offset_and_instant(view: dict[str, Any]) -> None:
    batch = parse_caliper(json.dumps(_envelope({**view, "eventTime": "2026-12-01T12:14:00.000Z"})), now=NOW)
    assert batch.events[0].occurred_at == NOW + timedelta(minutes=14)  # a clock a little fast is fine


def test_same_event_id_twice_is_400(view: dict[str, Any]) -> None:
    error = _error(_envelope(view, dict(view)))
    assert _fields(error) == {(1, "id")}


def test_problems_of_several_events_are_all_reported(view: dict[str, Any]) -> None:
    second = {**view, "id": "urn:uuid:00000000-0000-4000-8000-000000000002"}
    del second["actor"]
    error = _error(_envelope({**view, "eventTime": "nope"}, second, "not an object"))
    assert _fields(error) == {(0, "eventTime"), (1, "actor"), (2, None)}


def test_full_iri_type_and_action_are_terms(view: dict[str, Any]) -> None:
    event = {
        **view,
        "type": "http://purl.imsglobal.org/caliper/ViewEvent",
        "action": "http://purl.imsglobal.org/vocab/caliper/v1/action#Viewed",
    }
    assert parse_caliper(json.dumps(_envelope(event)), now=NOW).events[0].kind == "view"


# -- identities --------------------------------------------------------------------------------


def _one(event: dict[str, Any]) -> LmsEvent:
    (parsed,) = parse_caliper(json.dumps(_envelope(event)), now=NOW).events
    return parsed


def test_system_identifiers_map_to_namespaces(view: dict[str, Any]) -> None:
    identifiers = [
        ("AccountUserName", "jdoe", Ref("username", "jdoe")),
        ("EmailAddress", "Jane.Doe@Example.EDU", Ref("email", "jane.doe@example.edu")),
        ("SisSourcedId", "stu-9", Ref("sourcedId", "stu-9")),
        ("OneRosterSourcedId", "stu-10", Ref("sourcedId", "stu-10")),
        ("LtiUserId", "lti-1", Ref("userId:LtiUserId", "lti-1")),
    ]
    actor = {
        "id": "https://example.edu/users/9",
        "type": "Person",
        "otherIdentifiers": [
            {"type": "SystemIdentifier", "identifierType": kind, "identifier": value}
            for kind, value, _ in identifiers
        ],
    }
    group = {
        "id": "https://example.edu/sections/9",
        "type": "CourseOffering",
        "courseNumber": "BIO 101",
        "otherIdentifiers": [
            {"type": "SystemIdentifier", "identifierType": "LisSourcedId", "identifier": "cls-9"},
            {"type": "SystemIdentifier", "identifierType": "LtiContextId", "identifier": "ctx-9"},
        ],
    }
    event = _one({**view, "actor": actor, "group": group})
    assert set(event.student) == {Ref("iri", actor["id"])} | {ref for _, _, ref in identifiers}
    assert event.student[0].namespace == "sourcedId"
    # A course's LtiContextId names nothing OnPace maps; an offering's number is a course code.
    assert event.course == (
        Ref("sourcedId", "cls-9"),
        Ref("iri", group["id"]),
        Ref("courseCode", "BIO 101"),
    )


def test_an_instructors_activity_is_kept_but_ignored(caliper_dir: Path) -> None:
    event = json.loads((caliper_dir / "v1p2" / "caliperEventMessagePosted.json").read_text())
    event["membership"]["roles"] = ["Instructor", "Instructor#TeachingAssistant"]
    parsed = _one(event)
    assert parsed.kind is None and parsed.ignored is not None and "Instructor" in parsed.ignored


def test_progress_needs_a_maximum_and_sane_values(caliper_dir: Path) -> None:
    event = json.loads((caliper_dir / "v1p2" / "caliperEventToolUseUsedWithProgress.json").read_text())
    units = event["generated"]["items"][1]
    del units["maxMetricValue"]
    parsed = _one(event)
    assert (parsed.kind, parsed.ignored, parsed.percent_complete) == (None, NO_PROGRESS, None)
    units["maxMetricValue"] = 10.0  # 12 of 10
    error = _error(_envelope(event))
    assert _fields(error) == {(0, "generated.items.1.metricValue")}


def test_activity_without_a_course_is_ignored(view: dict[str, Any]) -> None:
    # A log-in without a course is about the student as a whole (the LoggedIn fixture above);
    # any other activity needs its class.
    del view["group"]
    parsed = _one(view)
    assert (parsed.kind, parsed.ignored) == (None, NO_COURSE)


# -- Canvas Caliper 1.1 ------------------------------------------------------------------------


def test_canvas_fixtures_parse_with_canvas_refs(canvas_dir: Path) -> None:
    parsed = {p.stem: _parse_file(p)[0].events for p in sorted(canvas_dir.glob("*.json"))}
    assert set(parsed) == {"discussion_entry_created", "grade_change", "logged_in", "submission_created"}
    course = Ref("canvas", "21070000000000565")

    (post,) = parsed["discussion_entry_created"]
    assert post.kind == "discussion_post"
    assert post.occurred_at == _at("2019-11-01T19:11:03.933Z")
    assert post.student[0] == Ref("sourcedId", "456-T45")  # user_sis_id
    assert {Ref("canvas", "21070000000098765"), Ref("username", "oxana@example.com")} <= set(post.student)
    assert course in post.course

    (grade,) = parsed["grade_change"]
    assert (grade.kind, grade.ignored) == (None, "grades come from the SIS")
    # The student is the Attempt's assignee (sis_id), not the grading instructor.
    assert {Ref("sourcedId", "ABC.123"), Ref("canvas", "21070000000000048")} <= set(grade.student)
    assert Ref("canvas", "21070000000000987") not in grade.student
    assert course in grade.course

    (login,) = parsed["logged_in"]
    assert login.kind == "login" and login.course == ()
    assert Ref("canvas", "21070000000000001") in login.student

    (submission,) = parsed["submission_created"]
    # Canvas's Caliper submission names no course: kept, counted for no class.
    assert (submission.kind, submission.ignored) == (None, NO_COURSE)
    assert Ref("canvas", "21070000000014012") in submission.student


# -- the local Sensor's events map back --------------------------------------------------------


@pytest.mark.parametrize(
    "plain",
    [
        {"kind": "login"},
        {"kind": "view"},
        {"kind": "submission"},
        {"kind": "discussion_post"},
        {"kind": "discussion_reply"},
        {"kind": "progress", "percent_complete": 37.5},
    ],
)
def test_event_from_plain_maps_back(plain: dict[str, Any]) -> None:
    source = {
        "event_id": "lms-1",
        "occurred_at": "2026-09-01T10:00:00.123-05:00",
        "student": "stu-1",
        "class": "cls 1/a",
        **plain,
    }
    caliper = event_from_plain(source, "https://lms.example.edu/")
    batch = parse_caliper(json.dumps(envelope([caliper])), now=NOW)
    (event,) = batch.events
    assert event.kind == plain["kind"]
    assert event.occurred_at == datetime.fromisoformat(source["occurred_at"])
    assert event.student[0] == Ref("sourcedId", "stu-1")
    assert event.course[0] == Ref("sourcedId", "cls 1/a")
    assert event.percent_complete == plain.get("percent_complete")
    # The same activity sent again is the same Caliper event (a retry).
    assert event_from_plain(source, "https://lms.example.edu")["id"] == caliper["id"]


def test_event_from_plain_refuses_what_caliper_cannot_say() -> None:
    base = {"event_id": "e", "occurred_at": "2026-09-01T10:00:00-05:00", "student": "s", "class": "c"}
    with pytest.raises(ValueError, match="instructor_message"):
        event_from_plain({**base, "kind": "instructor_message"}, "https://lms.example.edu")
    with pytest.raises(ValueError, match="percent_complete"):
        event_from_plain({**base, "kind": "submission", "percent_complete": 5}, "https://lms.example.edu")


# -- the bearer credential ---------------------------------------------------------------------


def test_bearer_token_names_district_key_and_secret() -> None:
    name, secret = parse_bearer("Bearer d-1/lms-2026/abc/def==")
    assert name == CredentialName("d-1", "lms-2026")
    assert secret == "abc/def=="  # the rest of the token, slashes and all
    assert parse_bearer("bearer d-1/k/s")[1] == "s"


@pytest.mark.parametrize(
    "header", [None, "", "Basic ZDoxOnM=", "Bearer", "Bearer d-1/k", "Bearer d-1/k/", "Bearer d 1/k/s"]
)
def test_bad_bearer_is_a_credential_error(header: str | None) -> None:
    with pytest.raises(CredentialError):
        parse_bearer(header)


# -- docs/ingest.md states the mapping exactly -------------------------------------------------


def test_docs_table_is_the_mapping_table(repo_root: Path) -> None:
    from onpace_core.ingest.formats.caliper import EVENT_MAP

    text = (repo_root / "docs" / "ingest.md").read_text()
    section = text.split("## Caliper", 1)[1].split("### Types and actions → kinds", 1)[1]
    lines = section.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("| type |"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start + 2 :]))
    assert table[-1].startswith("| any other | any other |")
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for line in table[:-1]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        types = re.findall(r"`(\w+)`", cells[0])
        actions = re.findall(r"`(\w+)`", cells[1])
        for event_type in types:
            for action in actions:
                rows[(event_type, action)] = (cells[2], cells[3])
    assert set(rows) == set(EVENT_MAP)
    for key, mapping in EVENT_MAP.items():
        outcome, learner = rows[key]
        if mapping.kind is not None:
            assert f"`{mapping.kind}`" in outcome, key
        else:
            assert f'"{mapping.ignored}"' in outcome, key
        assert learner.startswith(f"`{mapping.learner}`"), key


def test_event_id_is_the_lower_case_urn(view: dict[str, Any]) -> None:
    upper = {**view, "id": view["id"].upper().replace("URN:UUID:", "urn:uuid:")}
    assert _one(upper).event_id == view["id"] == view["id"].lower()
