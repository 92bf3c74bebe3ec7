"""The xAPI parser on the spec's and the conformance suite's statements (../shared/fixtures/xapi)."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from onpace_core.ingest.event import Ref
from onpace_core.ingest.formats.xapi import (
    EXT_CMI5_PROGRESS,
    EXT_EXTERNAL_ID,
    EXT_SHORT_ID,
    MAX_STATEMENT_BYTES,
    MAX_STATEMENTS_PER_REQUEST,
    parse_statements,
)
from onpace_core.ingest.limits import LimitError
from onpace_local.lms.xapi_client import statement_from_plain
from onpace_rules.facts import ACTIVITY_KINDS

NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)
MOODLE = "https://moodle.example.edu"
COURSE_TYPE = "http://id.tincanapi.com/activitytype/lms/course"


@pytest.fixture(scope="module")
def fixtures(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "xapi"


def _load(fixtures: Path, name: str) -> dict[str, Any]:
    path = fixtures / name if name.startswith("spec") else fixtures / "conformance-templates-v2_0" / name
    return json.loads(path.read_text())


def _one(statement: Any, **kw: Any):
    (event,) = parse_statements(json.dumps(statement), now=NOW, **kw)
    return event


def _moodle(verb: str, object_: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A statement shaped like Moodle logstore_xapi's (account actor, course in grouping)."""
    statement = {
        "actor": {"name": "Ana Ruiz", "account": {"homePage": MOODLE, "name": "stu-1"}},
        "verb": {"id": verb, "display": {"en": "did"}},
        "object": object_,
        "timestamp": "2026-09-14T09:30:00-05:00",
        "context": {
            "platform": "Moodle",
            "language": "en",
            "contextActivities": {
                "grouping": [
                    {"id": MOODLE, "definition": {"type": "http://id.tincanapi.com/activitytype/lms"}},
                    {
                        "id": f"{MOODLE}/course/view.php?id=7",
                        "definition": {
                            "type": COURSE_TYPE,
                            "name": {"en": "Biology Online"},
                            "extensions": {EXT_EXTERNAL_ID: "cls-1", EXT_SHORT_ID: "BIO101"},
                        },
                    },
                ],
                "category": [
                    {
                        "id": "http://moodle.org",
                        "definition": {"type": "http://id.tincanapi.com/activitytype/source"},
                    }
                ],
            },
        },
    }
    statement.update(extra)
    return statement


ASSIGNMENT = {
    "id": f"{MOODLE}/mod/assign/view.php?id=31",
    "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"en": "Essay 1"}},
}
DISCUSSION = {
    "id": f"{MOODLE}/mod/forum/discuss.php?d=4",
    "definition": {"type": "http://id.tincanapi.com/activitytype/discussion", "name": {"en": "Week 1"}},
}

# ---------------------------------------------------------------------------------------------
# The spec's Appendix A examples.


def test_appendix_simple_is_stored_but_read_for_nothing(fixtures: Path) -> None:
    event = _one(_load(fixtures, "spec-appendixA-simple.json"))
    assert event.event_id == "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
    assert event.source == "xapi"
    assert event.occurred_at == datetime(2015, 11, 18, 12, 17, tzinfo=UTC)
    assert event.student == (Ref("email", "user@example.com"),)
    assert event.course == ()
    assert event.kind is None
    assert event.ignored == "verb http://example.com/xapi/verbs#sent-a-statement is not one OnPace reads"
    assert json.loads(event.payload)["object"]["id"] == "http://example.com/xapi/activity/simplestatement"


def test_appendix_with_result_attempted_is_ignored(fixtures: Path) -> None:
    event = _one(_load(fixtures, "spec-appendixA-with-result.json"))
    assert event.event_id == "7ccd3322-e1a5-411a-a67d-6a735c76f119"
    assert event.occurred_at == datetime(2015, 12, 18, 12, 17, tzinfo=UTC)
    assert event.student == (Ref("email", "example.learner@adlnet.gov"),)
    # "attempted" is not in the table, and a score is a grade, not progress.
    assert (event.kind, event.percent_complete) == (None, None)
    assert "attempted" in (event.ignored or "")


def test_appendix_long_group_statement_is_ignored_with_its_reason(fixtures: Path) -> None:
    statement = _load(fixtures, "spec-appendixA-long-stored.json")
    event = _one(statement)
    assert event.event_id == "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
    assert event.occurred_at == datetime(2013, 5, 18, 5, 32, 34, 804000, tzinfo=UTC)
    assert event.kind is None and event.student == ()
    assert "Group" in (event.ignored or "")
    # stored/authority/version are the LRS's: a resend without them is the same content.
    bare = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}
    assert _one(bare).digest == event.digest


# ---------------------------------------------------------------------------------------------
# The conformance suite's templates (partial statements, composed as the suite composes them).


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        ("statements_no_actor.json", "actor"),
        ("statements_no_verb.json", "verb"),
        ("statements_no_object.json", "object"),
    ],
)
def test_statement_missing_a_part_is_refused_naming_it(fixtures: Path, name: str, missing: str) -> None:
    with pytest.raises(LimitError) as refused:
        parse_statements(json.dumps(_load(fixtures, name)), now=NOW)
    assert refused.value.status == 400
    assert str(refused.value) == f"the statement: {missing} is required"


def test_default_and_empty_result_statements(fixtures: Path) -> None:
    default = _one(_load(fixtures, "statements_default.json"))
    assert default.student == (Ref("email", "xapi@adlnet.gov"),)
    assert default.kind is None and "attended" in (default.ignored or "")
    # No timestamp: the request's time; no id: one derived from the content.
    assert default.occurred_at == NOW
    assert uuid.UUID(default.event_id).version == 5
    assert _one(_load(fixtures, "statements_result.json")).kind is None


def test_voiding_template_voids_its_target(fixtures: Path) -> None:
    statement = _load(fixtures, "statements_voiding.json")
    statement["verb"] = _load(fixtures, "verbs_voided.json")
    event = _one(statement)
    assert event.voids == "8f87ccde-bb56-4c2e-ab83-44982ef22df0"
    assert event.kind is None and event.course == ()


def test_voiding_needs_a_statement_ref(fixtures: Path) -> None:
    statement = _load(fixtures, "statements_default.json")
    statement["verb"] = _load(fixtures, "verbs_voided.json")
    with pytest.raises(LimitError, match="voiding statement's object must be a StatementRef"):
        parse_statements(json.dumps(statement), now=NOW)


def test_voiding_a_voiding_statement_in_the_same_batch_is_refused(fixtures: Path) -> None:
    first = _load(fixtures, "statements_voiding.json") | {"id": str(uuid.uuid4())}
    second = copy.deepcopy(first) | {"id": str(uuid.uuid4())}
    second["object"]["id"] = first["id"]
    with pytest.raises(LimitError, match="cannot be voided"):
        parse_statements(json.dumps([first, second]), now=NOW)


def test_account_agent_gives_account_username_and_sourced_id_refs(fixtures: Path) -> None:
    statement = _load(fixtures, "statements_default.json")
    statement["actor"] = _load(fixtures, "agents_account.json")
    event = _one(statement)
    assert event.student == (
        Ref("account:http://www.example.com", "xAPI account name"),
        Ref("username", "xAPI account name"),
        Ref("sourcedId", "xAPI account name"),
    )


def test_mbox_sha1sum_agent(fixtures: Path) -> None:
    statement = _load(fixtures, "statements_default.json")
    statement["actor"] = _load(fixtures, "agents_mbox_sha1sum.json")
    assert _one(statement).student == (Ref("mbox_sha1sum", "cd9b00a5611f94eaa7b1661edab976068e364975"),)


def test_default_context_and_result_templates_are_valid(fixtures: Path) -> None:
    statement = _load(fixtures, "statements_default.json")
    statement["context"] = _load(fixtures, "contexts_default.json")
    statement["result"] = _load(fixtures, "results_default.json")
    event = _one(statement)
    assert event.course == ()  # no context activities
    assert event.kind is None


@pytest.mark.parametrize(
    "name",
    [
        "agents_account.json",
        "agents_mbox_sha1sum.json",
        "contexts_default.json",
        "results_default.json",
        "verbs_voided.json",
    ],
)
def test_a_bare_template_is_no_statement(fixtures: Path, name: str) -> None:
    with pytest.raises(LimitError, match="actor is required"):
        parse_statements(json.dumps(_load(fixtures, name)), now=NOW)


# ---------------------------------------------------------------------------------------------
# Moodle-shaped statements: the mapping table of docs/ingest.md.


def test_moodle_assignment_submitted() -> None:
    event = _one(_moodle("http://activitystrea.ms/schema/1.0/submit", ASSIGNMENT))
    assert event.kind == "submission"
    assert event.occurred_at == datetime(2026, 9, 14, 14, 30, tzinfo=UTC)
    assert event.student == (
        Ref(f"account:{MOODLE}", "stu-1"),
        Ref("username", "stu-1"),
        Ref("sourcedId", "stu-1"),
    )
    assert event.course == (
        Ref("sourcedId", "cls-1"),
        Ref("iri", f"{MOODLE}/course/view.php?id=7"),
        Ref("classCode", "BIO101"),
        Ref("courseCode", "BIO101"),
        Ref("title", "Biology Online"),
        Ref("iri", MOODLE),  # the site: another grouping activity (category is not read)
    )


@pytest.mark.parametrize(
    ("verb", "object_", "extra", "kind", "percent"),
    [
        ("https://brindlewaye.com/xAPITerms/verbs/loggedin/", {"id": MOODLE}, {}, "login", None),
        ("https://w3id.org/xapi/adl/verbs/logged-in", {"id": MOODLE}, {}, "login", None),
        ("http://id.tincanapi.com/verb/viewed", {"id": f"{MOODLE}/mod/page/view.php?id=3"}, {}, "view", None),
        (
            "http://adlnet.gov/expapi/verbs/experienced",
            {"id": f"{MOODLE}/mod/page/view.php?id=3"},
            {},
            "view",
            None,
        ),
        ("http://adlnet.gov/expapi/verbs/completed", ASSIGNMENT, {}, "submission", None),
        ("http://adlnet.gov/expapi/verbs/passed", ASSIGNMENT, {}, "mastery_exercise", None),
        (
            "http://adlnet.gov/expapi/verbs/mastered",
            {"id": "https://khan.example/ex/1"},
            {},
            "mastery_exercise",
            None,
        ),
        (
            "http://adlnet.gov/expapi/verbs/completed",
            {"id": f"{MOODLE}/mod/page/view.php?id=3"},
            {},
            "progress",
            None,
        ),
        ("http://activitystrea.ms/schema/1.0/create", DISCUSSION, {}, "discussion_post", None),
        ("http://adlnet.gov/expapi/verbs/commented", DISCUSSION, {}, "discussion_post", None),
        ("http://id.tincanapi.com/verb/replied", DISCUSSION, {}, "discussion_reply", None),
        (
            "http://adlnet.gov/expapi/verbs/asked",
            {"id": f"{MOODLE}/mod/forum/discuss.php?d=9"},
            {},
            "forum_question",
            None,
        ),
        (
            "http://adlnet.gov/expapi/verbs/progressed",
            {"id": f"{MOODLE}/course/view.php?id=7"},
            {"result": {"score": {"scaled": 0.42}}},
            "progress",
            42.0,
        ),
        (
            "http://adlnet.gov/expapi/verbs/attempted",
            {"id": "https://cmi5.example/au/1"},
            {"result": {"extensions": {EXT_CMI5_PROGRESS: 55}}},
            "progress",
            55.0,
        ),
        (
            "http://id.tincanapi.com/verb/viewed",
            {"id": f"{MOODLE}/mod/page/view.php?id=3"},
            {"result": {"extensions": {EXT_CMI5_PROGRESS: 60}}},
            "view",
            60.0,
        ),
    ],
)
def test_verb_table(
    verb: str, object_: dict[str, Any], extra: dict[str, Any], kind: str, percent: float | None
) -> None:
    event = _one(_moodle(verb, object_, **extra))
    assert (event.kind, event.percent_complete, event.ignored) == (kind, percent, None)


def test_course_completion_is_full_progress_and_the_object_is_the_course() -> None:
    course = {
        "id": f"{MOODLE}/course/view.php?id=7",
        "definition": {"type": COURSE_TYPE, "name": {"en-US": "Biology Online"}},
    }
    statement = _moodle("http://adlnet.gov/expapi/verbs/completed", course)
    statement["context"]["contextActivities"]["grouping"] = [{"id": MOODLE}]
    event = _one(statement)
    assert (event.kind, event.percent_complete) == ("progress", 100.0)
    assert event.course == (
        Ref("iri", f"{MOODLE}/course/view.php?id=7"),
        Ref("title", "Biology Online"),
        Ref("iri", MOODLE),
    )


def test_a_post_answering_another_statement_is_a_reply() -> None:
    statement = _moodle(
        "http://adlnet.gov/expapi/verbs/commented",
        DISCUSSION,
    )
    statement["context"]["statement"] = {"objectType": "StatementRef", "id": str(uuid.uuid4())}
    assert _one(statement).kind == "discussion_reply"


def test_message_to_the_instructor_only_when_the_object_is_the_instructor() -> None:
    teacher = {"objectType": "Agent", "account": {"homePage": MOODLE, "name": "t-9"}}
    classmate = {"objectType": "Agent", "account": {"homePage": MOODLE, "name": "stu-2"}}
    to_teacher = _moodle("http://activitystrea.ms/schema/1.0/send", teacher)
    to_teacher["context"]["instructor"] = teacher
    assert _one(to_teacher).kind == "instructor_message"
    to_classmate = _moodle("http://activitystrea.ms/schema/1.0/send", classmate)
    to_classmate["context"]["instructor"] = teacher
    assert _one(to_classmate).kind is None


def test_logout_is_ignored_with_its_reason() -> None:
    event = _one(_moodle("https://brindlewaye.com/xAPITerms/verbs/loggedout/", {"id": MOODLE}))
    assert event.kind is None and event.ignored == "a log-out is not activity OnPace reads"


def test_login_without_course_is_about_the_student_as_a_whole() -> None:
    statement = _moodle("https://brindlewaye.com/xAPITerms/verbs/loggedin/", {"id": MOODLE})
    statement["context"] = {
        "platform": "Moodle",
        "contextActivities": {"category": [{"id": "http://moodle.org"}]},
    }
    event = _one(statement)
    assert event.kind == "login" and event.course == ()


def test_jisc_course_area_names_the_course_short_name() -> None:
    statement = _moodle("http://activitystrea.ms/schema/1.0/submit", ASSIGNMENT)
    grouping = statement["context"]["contextActivities"]["grouping"]
    grouping[1]["definition"].pop("extensions")
    statement["context"]["extensions"] = {
        "http://xapi.jisc.ac.uk/courseArea": {"http://xapi.jisc.ac.uk/vle_mod_id": "BIO101"}
    }
    course = _one(statement).course
    assert Ref("classCode", "BIO101") in course and Ref("sourcedId", "cls-1") not in course


def test_mbox_is_lowercased_without_mailto() -> None:
    statement = _moodle("http://id.tincanapi.com/verb/viewed", {"id": MOODLE})
    statement["actor"] = {"mbox": "mailto:Ana.Ruiz@Students.Example.org"}
    assert _one(statement).student == (Ref("email", "ana.ruiz@students.example.org"),)


def test_openid_is_an_iri_ref() -> None:
    statement = _moodle("http://id.tincanapi.com/verb/viewed", {"id": MOODLE})
    statement["actor"] = {"openid": "http://toby.openid.example.org/"}
    assert _one(statement).student == (Ref("iri", "http://toby.openid.example.org/"),)


# ---------------------------------------------------------------------------------------------
# Edge cases.


def _statement(**overrides: Any) -> dict[str, Any]:
    return _moodle("http://activitystrea.ms/schema/1.0/submit", ASSIGNMENT) | overrides


def test_batch_keeps_request_order() -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    events = parse_statements(json.dumps([_statement(id=i) for i in ids]), now=NOW)
    assert [e.event_id for e in events] == ids


def test_same_id_twice_in_a_batch_is_refused() -> None:
    same = str(uuid.uuid4())
    with pytest.raises(LimitError, match="appears twice"):
        parse_statements(json.dumps([_statement(id=same), _statement(id=same.upper())]), now=NOW)


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "AA97B177-9383-4934-8543-0F91A7A028368", "MA97B177-9383-4934-8543-0F91A7A02836"]
)
def test_bad_uuid_is_refused(bad: str) -> None:
    with pytest.raises(LimitError, match="statement 1: id is not a UUID"):
        parse_statements(json.dumps([_statement(), _statement(id=bad)]), now=NOW)


def test_future_timestamp_is_refused_naming_the_statement() -> None:
    later = (NOW + timedelta(hours=1)).isoformat()
    with pytest.raises(LimitError, match=r"statement 1: timestamp .* more than 15 minutes in the future"):
        parse_statements(json.dumps([_statement(), _statement(timestamp=later)]), now=NOW)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timestamp": "yesterday"}, "timestamp 'yesterday' is not an ISO 8601 time"),
        ({"timestamp": "2026-09-14T09:30:00-00:00"}, "-00:00"),
        ({"timestamp": "1999-12-31T00:00:00Z"}, "before the year 2000"),
        ({"verb": {"id": "submitted"}}, "verb.id is not an absolute IRI"),
        ({"actor": {"name": "nobody"}}, "exactly one of mbox"),
        ({"actor": {"mbox": "ana@example.org"}}, "actor.mbox"),
        ({"object": {"objectType": "Nothing", "id": MOODLE}}, "object"),
        ({"version": "2.0.0"}, "version"),
        ({"grade": "A"}, "grade Extra inputs are not permitted"),
        ({"result": {"success": "true"}}, "result.success"),
        ({"result": {"score": {"scaled": 1.5}}}, "result.score.scaled"),
        ({"result": {"duration": "an hour"}}, "ISO 8601 duration"),
        ({"result": {"extensions": {EXT_CMI5_PROGRESS: 140}}}, "from 0 to 100"),
        ({"context": {"platform": None}}, "context.platform is null"),
    ],
)
def test_invalid_statements_are_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(LimitError) as refused:
        parse_statements(json.dumps(_statement(**change)), now=NOW)
    assert refused.value.status == 400
    assert message in str(refused.value)


def test_null_inside_extensions_is_allowed() -> None:
    event = _one(_statement(result={"extensions": {"http://example.com/ext": None}}))
    assert event.kind == "submission"


def test_no_id_derives_a_stable_id_from_the_content() -> None:
    statement = _statement()
    first, second = _one(statement), _one(copy.deepcopy(statement))
    assert first.event_id == second.event_id and uuid.UUID(first.event_id).version == 5
    # Key order and LRS-set fields do not change it; other content does.
    reordered = dict(reversed(list(statement.items()))) | {
        "stored": "2026-09-14T15:00:00Z",
        "version": "1.0.3",
    }
    assert _one(reordered).event_id == first.event_id
    assert _one(_statement(timestamp="2026-09-14T09:31:00-05:00")).event_id != first.event_id
    assert (
        first.digest
        == hashlib.sha256(
            json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
    )


def test_given_id_is_kept_in_the_payload_and_same_content_same_digest() -> None:
    given = str(uuid.uuid4())
    event = _one(_statement(id=given.upper()))
    assert event.event_id == given
    assert json.loads(event.payload)["id"] == given
    assert event.digest == _one(_statement(id=given)).digest
    assert event.digest != _one(_statement(id=given, timestamp="2026-09-14T09:31:00-05:00")).digest


def test_put_uses_the_statement_id_parameter() -> None:
    wanted = str(uuid.uuid4())
    assert _one(_statement(), statement_id=wanted).event_id == wanted
    assert _one(_statement(id=wanted), statement_id=wanted).event_id == wanted
    with pytest.raises(LimitError, match="is not the statementId parameter"):
        parse_statements(json.dumps(_statement(id=str(uuid.uuid4()))), now=NOW, statement_id=wanted)
    with pytest.raises(LimitError, match="is not the statementId parameter"):
        parse_statements(json.dumps(_statement(id="not-a-uuid")), now=NOW, statement_id=wanted)
    with pytest.raises(LimitError, match="PUT takes one statement"):
        parse_statements(json.dumps([_statement()]), now=NOW, statement_id=wanted)
    with pytest.raises(LimitError, match="statementId parameter 'x' is not a UUID"):
        parse_statements(json.dumps(_statement()), now=NOW, statement_id="x")


@pytest.mark.parametrize(
    ("body", "message", "status"),
    [
        ("[]", "holds no statements", 400),
        ("42", "must be a statement", 400),
        ("[1]", "must be a statement", 400),
        ("{nope", "not JSON", 400),
        (b"\xff\xfe", "not UTF-8", 400),
        ("[" * 40 + "]" * 40, "nests deeper", 400),
    ],
)
def test_bodies_that_are_no_statements(body: str | bytes, message: str, status: int) -> None:
    with pytest.raises(LimitError, match=message) as refused:
        parse_statements(body, now=NOW)
    assert refused.value.status == status


def test_batch_size_is_limited() -> None:
    with pytest.raises(LimitError, match=f"at most {MAX_STATEMENTS_PER_REQUEST} statements"):
        parse_statements(json.dumps([_statement()] * (MAX_STATEMENTS_PER_REQUEST + 1)), now=NOW)


def test_statement_size_is_limited() -> None:
    big = _statement(result={"extensions": {"http://example.com/blob": "x" * MAX_STATEMENT_BYTES}})
    with pytest.raises(LimitError, match=f"statement 1 is .* bytes; at most {MAX_STATEMENT_BYTES}"):
        parse_statements(json.dumps([_statement(), big]), now=NOW)


def test_long_free_text_is_refused() -> None:
    statement = _statement()
    statement["context"]["contextActivities"]["grouping"][1]["definition"]["name"] = {"en": "x" * 2001}
    with pytest.raises(LimitError, match="course name is 2001 characters"):
        parse_statements(json.dumps(statement), now=NOW)


# ---------------------------------------------------------------------------------------------
# The local client's statements read back as the plain events they came from.


@pytest.mark.parametrize("kind", ACTIVITY_KINDS)
def test_statement_from_plain_round_trips(kind: str) -> None:
    plain = {
        "event_id": f"lms-{kind}",
        "occurred_at": "2026-09-01T10:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": kind,
        "percent_complete": 37.5,
    }
    statement = statement_from_plain(plain, MOODLE)
    event = _one(statement)
    assert event.kind == kind
    assert event.percent_complete == 37.5
    assert event.occurred_at == datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
    assert event.student[-1] == Ref("sourcedId", "stu-1")
    assert event.course[0] == Ref("sourcedId", "cls-1")
    assert statement_from_plain(plain, MOODLE)["id"] == event.event_id  # a resend is the same statement


def test_statement_from_plain_refuses_inputs() -> None:
    grade = {
        "event_id": "sis-1",
        "occurred_at": "2026-12-18T16:00:00-06:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": "final_grade",
        "data": {"grade": "F", "credits": 1},
    }
    with pytest.raises(ValueError, match="not activity"):
        statement_from_plain(grade, MOODLE)


def test_docs_list_every_verb_and_type_of_the_table(repo_root: Path) -> None:
    from onpace_core.ingest.formats import xapi

    section = (repo_root / "docs" / "ingest.md").read_text().split("## xAPI", 1)[1].split("\n## ", 1)[0]
    named = {iri for rule in xapi.VERB_RULES for iri in rule.verbs} | {xapi.VOIDED, xapi.EXT_CMI5_PROGRESS}
    named |= xapi.COURSE_TYPES | xapi.ASSESSMENT_TYPES | xapi.DISCUSSION_TYPES
    named |= {xapi.EXT_EXTERNAL_ID, xapi.EXT_SHORT_ID, xapi.EXT_JISC_COURSE_AREA, xapi.EXT_JISC_MOD_ID}
    # A verb listed "without the slash" is named once with it.
    missing = {iri for iri in named if iri not in section and f"{iri}/" not in section}
    assert not missing, f"docs/ingest.md ## xAPI does not name {sorted(missing)}"
