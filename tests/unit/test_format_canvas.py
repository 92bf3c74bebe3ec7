"""Canvas Live Events: Canvas's own examples parse and map as docs/ingest.md says, the dedupe key,
and the RS256 JWT check with keys made here (no network)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from onpace_core.ingest.canvas_accounts import AccountMapError, parse_account_map
from onpace_core.ingest.canvas_auth import CanvasTokenError, parse_receiver, verify_live_event_jwt
from onpace_core.ingest.event import Ref, content_digest
from onpace_core.ingest.formats.canvas import (
    CanvasFormatError,
    canvas_id_forms,
    event_key,
    parse_canvas_event,
    root_account_id,
)
from onpace_core.ingest.limits import LimitError
from onpace_local.lms.canvas_client import CanvasSigner, live_event_from_plain

NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def raw_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "canvas" / "canvas_raw"


def _load(raw_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((raw_dir / name).read_text(encoding="utf-8"))


# Every fixture in ../shared/fixtures/canvas/canvas_raw and what docs/ingest.md maps it to.
EXPECTED: dict[str, dict[str, Any]] = {
    "submission_created.json": {
        # Canvas's example leaves out the course (metadata.context_*): kept, counts for nothing.
        "kind": None,
        "ignored": "no course context",
        "student": (Ref("canvas", "21070000000014012"), Ref("canvas", "14012")),
        "course": (),
        "at": "2019-11-01T19:11:21.419000+00:00",
    },
    "discussion_entry_created.json": {
        "kind": "discussion_reply",
        "student": (
            Ref("sourcedId", "456-T45"),
            Ref("canvas", "98765"),
            Ref("canvas", "21070000000098765"),
            Ref("username", "oxana@example.com"),
        ),
        "course": (
            Ref("sourcedId", "2017.100.101.101-1"),
            Ref("canvas", "21070000000000565"),
            Ref("canvas", "565"),
        ),
        "at": "2019-11-01T19:11:03.933000+00:00",
    },
    "logged_in.json": {
        "kind": "login",
        "student": (
            Ref("sourcedId", "456-T45"),
            Ref("canvas", "21070000000000001"),
            Ref("canvas", "1"),
            Ref("username", "oxana@example.com"),
        ),
        "course": (),
        "at": "2019-11-01T19:11:01.335000+00:00",
    },
    "asset_accessed__course_assignments.json": {
        "kind": "view",
        "student": (
            Ref("sourcedId", "456-T45"),
            Ref("canvas", "21070000000000001"),
            Ref("canvas", "1"),
            Ref("username", "oxana@example.com"),
        ),
        "course": (
            Ref("sourcedId", "2017.100.101.101-1"),
            Ref("canvas", "21070000000000144"),
            Ref("canvas", "144"),
        ),
        "at": "2019-11-01T00:09:06.753000+00:00",
    },
    "grade_change.json": {
        "kind": None,
        "ignored": "grades come from the SIS",
        "student": (
            Ref("sourcedId", "ABC.123"),
            Ref("canvas", "21070000000000048"),
            Ref("canvas", "48"),
        ),
        "course": (
            Ref("sourcedId", "2017.100.101.101-1"),
            Ref("canvas", "21070000000000565"),
            Ref("canvas", "565"),
        ),
        "at": "2019-11-01T19:11:05.222000+00:00",
    },
    "enrollment_created.json": {
        "kind": None,
        "ignored": "the roster is the source of enrollments",
        # The enrolled user (body.user_id), not the admin who enrolled them (metadata.user_*).
        "student": (Ref("canvas", "21070000000020064"), Ref("canvas", "20064")),
        "course": (
            Ref("sourcedId", "2017.100.101.101-1"),
            Ref("canvas", "21070000000000565"),
            Ref("canvas", "565"),
        ),
        "at": "2018-10-09T21:07:33+00:00",
    },
}


def test_every_fixture_is_covered(raw_dir: Path) -> None:
    assert {p.name for p in raw_dir.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_as_documented(raw_dir: Path, name: str) -> None:
    message = _load(raw_dir, name)
    expected = EXPECTED[name]
    event = parse_canvas_event(message, NOW)
    assert event.source == "canvas"
    assert event.kind == expected["kind"]
    if expected["kind"] is None:
        assert expected["ignored"] in (event.ignored or "")
    else:
        assert event.ignored is None
    assert event.student == expected["student"]
    assert event.course == expected["course"]
    assert event.occurred_at.isoformat() == expected["at"]
    assert event.percent_complete is None
    assert event.event_id.startswith("canvas:")
    # The stored payload is the event itself, and the digest is over it.
    assert json.loads(event.payload) == message
    assert event.digest == content_digest(message)


def _with(message: dict[str, Any], **changes: Any) -> dict[str, Any]:
    copied = copy.deepcopy(message)
    for path, value in changes.items():
        part, key = path.split("__")
        if value is None:
            copied[part].pop(key, None)
        else:
            copied[part][key] = value
    return copied


def test_submission_in_a_course_is_the_students_submission(raw_dir: Path) -> None:
    # What Canvas really sends: submission events carry the course (amended_context).
    message = _with(
        _load(raw_dir, "submission_created.json"),
        metadata__context_type="Course",
        metadata__context_id="21070000000000565",
        metadata__context_sis_source_id="cls-1",
        metadata__user_id="21070000000014012",
        metadata__user_sis_id="stu-1",
        metadata__user_login="stu1",
    )
    event = parse_canvas_event(message, NOW)
    assert event.kind == "submission"
    assert event.student[0] == Ref("sourcedId", "stu-1")
    assert Ref("username", "stu1") in event.student
    assert event.course[0] == Ref("sourcedId", "cls-1")


def test_a_teacher_submitting_for_a_student_lends_the_student_no_ids(raw_dir: Path) -> None:
    message = _with(
        _load(raw_dir, "submission_created.json"),
        metadata__context_type="Course",
        metadata__context_id="21070000000000565",
        metadata__user_id="21070000000000777",  # the teacher
        metadata__user_sis_id="teacher-9",
    )
    event = parse_canvas_event(message, NOW)
    assert event.kind == "submission"
    assert event.student == (Ref("canvas", "21070000000014012"), Ref("canvas", "14012"))


def test_a_top_level_discussion_entry_is_a_post(raw_dir: Path) -> None:
    message = _with(_load(raw_dir, "discussion_entry_created.json"), body__parent_discussion_entry_id=None)
    assert parse_canvas_event(message, NOW).kind == "discussion_post"


def test_a_teachers_discussion_entry_counts_for_nothing(raw_dir: Path) -> None:
    message = _with(
        _load(raw_dir, "discussion_entry_created.json"), metadata__context_role="TeacherEnrollment"
    )
    event = parse_canvas_event(message, NOW)
    assert event.kind is None and "TeacherEnrollment" in (event.ignored or "")


def test_a_page_outside_a_course_is_not_a_course_view(raw_dir: Path) -> None:
    message = _with(
        _load(raw_dir, "asset_accessed__course_assignments.json"),
        metadata__context_type="User",
    )
    event = parse_canvas_event(message, NOW)
    assert event.kind is None and "outside any course" in (event.ignored or "")


def _progress(done: int | None, total: int | None) -> dict[str, Any]:
    return {
        "metadata": {
            "event_name": "course_progress",
            "event_time": "2019-11-01T19:11:13.590Z",
            "job_id": "1020020528469291",
            "producer": "canvas",
            "root_account_id": "21070000000000001",
        },
        "body": {
            "course": {
                "account_id": "1",
                "id": "1234567",
                "name": "Diff Equations",
                "sis_source_id": "cls-9",
            },
            "progress": {"requirement_completed_count": done, "requirement_count": total},
            "user": {"email": "User@Domain.tld", "id": "1122", "name": "A Student"},
        },
    }


def test_course_progress_is_a_percent_of_module_requirements() -> None:
    event = parse_canvas_event(_progress(101, 123), NOW)
    assert event.kind == "progress"
    assert event.percent_complete == pytest.approx(101 / 123 * 100)
    assert event.student == (
        Ref("canvas", "1122"),
        Ref("canvas", "21070000000001122"),
        Ref("email", "user@domain.tld"),
    )
    assert event.course == (
        Ref("sourcedId", "cls-9"),
        Ref("canvas", "1234567"),
        Ref("canvas", "21070000001234567"),
    )


def test_course_progress_without_requirements_is_ignored() -> None:
    event = parse_canvas_event(_progress(0, 0), NOW)
    assert event.kind is None and "no module requirements" in (event.ignored or "")
    assert event.percent_complete is None


def test_quiz_submitted_is_a_submission() -> None:
    message = {
        "metadata": {
            "context_id": "21070000000100123",
            "context_role": "StudentEnrollment",
            "context_sis_source_id": "44942121",
            "context_type": "Course",
            "event_name": "quiz_submitted",
            "event_time": "2019-11-01T19:11:33.388Z",
            "root_account_id": "21070000000000123",
            "user_id": "21070000000987123",
            "user_login": "oxana",
            "user_sis_id": "1243245",
        },
        "body": {"quiz_id": "11210000002223333", "submission_id": "11210000013995723"},
    }
    event = parse_canvas_event(message, NOW)
    assert event.kind == "submission"
    assert event.student[0] == Ref("sourcedId", "1243245")
    assert event.course[0] == Ref("sourcedId", "44942121")


def test_other_events_are_kept_with_a_reason(raw_dir: Path) -> None:
    message = _with(_load(raw_dir, "logged_in.json"), metadata__event_name="logged_out")
    event = parse_canvas_event(message, NOW)
    assert event.kind is None and "logged_out" in (event.ignored or "")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"metadata__event_time": "2019-11-01 19:11"}, "time zone"),
        ({"metadata__event_time": "yesterday"}, "not a date-time"),
        ({"metadata__event_name": None}, "event_name"),
        ({"metadata__user_id": None}, "metadata.user_id"),
        ({"metadata__user_login": ["a", "b"]}, "metadata.user_login must be a string"),
    ],
)
def test_malformed_messages_name_the_problem(raw_dir: Path, change: dict[str, Any], problem: str) -> None:
    message = _with(_load(raw_dir, "logged_in.json"), **change)
    with pytest.raises(CanvasFormatError, match=problem):
        parse_canvas_event(message, NOW)


def test_not_an_envelope() -> None:
    with pytest.raises(CanvasFormatError, match="metadata must be a JSON object"):
        parse_canvas_event({"body": {}}, NOW)
    with pytest.raises(CanvasFormatError, match="the event must be a JSON object"):
        parse_canvas_event(["x"], NOW)


def test_limits_apply(raw_dir: Path) -> None:
    future = _with(_load(raw_dir, "logged_in.json"), metadata__event_time="2026-09-01T13:00:00Z")
    with pytest.raises(LimitError, match="future"):
        parse_canvas_event(future, NOW)
    ancient = _with(_load(raw_dir, "logged_in.json"), metadata__event_time="1999-12-31T23:00:00Z")
    with pytest.raises(LimitError, match="2000"):
        parse_canvas_event(ancient, NOW)
    # Canvas truncates free text to 8192 characters: longer is not from Canvas.
    long_post = _with(_load(raw_dir, "discussion_entry_created.json"), body__text="x" * 8193)
    with pytest.raises(LimitError, match=r"body\.text"):
        parse_canvas_event(long_post, NOW)
    at_limit = _with(_load(raw_dir, "discussion_entry_created.json"), body__text="x" * 8192)
    assert parse_canvas_event(at_limit, NOW).kind == "discussion_reply"


def test_an_event_too_large_to_store_is_refused(raw_dir: Path) -> None:
    """Found by the fuzzer: a 1 MB metadata field the parser does not read was stored whole, over
    an Events item's size, so every retry's write failed (a 500). Now a 400 naming the size."""
    message = _load(raw_dir, "asset_accessed__course_assignments.json")
    message["metadata"]["root_account_uuid"] = "x" * 1_000_000
    with pytest.raises(LimitError, match=r"is 1[0-9]{6} bytes; at most 262144") as caught:
        parse_canvas_event(message, NOW)
    assert caught.value.status == 400


# -- the dedupe key ----------------------------------------------------------------------------


def test_redelivery_has_the_same_key_and_other_events_do_not(raw_dir: Path) -> None:
    message = _load(raw_dir, "discussion_entry_created.json")
    first = parse_canvas_event(message, NOW)
    # The same event through the JWT (with iat/exp claims) or with keys in another order.
    as_claims = {"iat": 1, "exp": 2, **json.loads(json.dumps(message, sort_keys=True))}
    again = parse_canvas_event(as_claims, NOW)
    assert (again.event_id, again.digest, again.payload) == (first.event_id, first.digest, first.payload)
    other_entry = _with(message, body__discussion_entry_id="2134568")
    other_time = _with(message, metadata__event_time="2019-11-01T19:11:03.934Z")
    other_user = _with(message, metadata__user_id="21070000000098766")
    keys = {event_key(m) for m in (message, other_entry, other_time, other_user)}
    assert len(keys) == 4
    # Content the key does not read (the text) changes the digest, not the id: a 409 for h-core.
    edited = parse_canvas_event(_with(message, body__text="<p>edited</p>"), NOW)
    assert edited.event_id == first.event_id and edited.digest != first.digest


def test_a_resubmission_is_another_event(raw_dir: Path) -> None:
    message = _load(raw_dir, "submission_created.json")
    assert event_key(message) != event_key(_with(message, body__attempt=13))


def test_canvas_id_forms_and_root_account() -> None:
    assert canvas_id_forms("21070000000098765", 2107) == ("21070000000098765", "98765")
    assert canvas_id_forms("98765", 2107) == ("98765", "21070000000098765")
    assert canvas_id_forms("98765", None) == ("98765",)
    assert canvas_id_forms("abc", 2107) == ("abc",)
    assert root_account_id({"metadata": {"root_account_id": "21070000000000001"}}) == "21070000000000001"
    assert root_account_id({"metadata": "x"}) is None
    assert root_account_id("nope") is None


def test_account_map() -> None:
    assert parse_account_map("") == {}
    assert parse_account_map('{"2107": "d-1"}') == {"2107": "d-1"}
    with pytest.raises(AccountMapError, match="JSON object"):
        parse_account_map('["2107"]')


# -- the demo's conversion ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("submission", "submission"),
        ("login", "login"),
        ("view", "view"),
        ("discussion_post", "discussion_post"),
        ("discussion_reply", "discussion_reply"),
        ("progress", "progress"),
    ],
)
def test_live_event_from_plain_round_trips(kind: str, expected: str) -> None:
    plain = {
        "event_id": "e-1",
        "occurred_at": "2026-09-01T06:00:00-05:00",
        "student": "stu-1",
        "class": "cls-1",
        "kind": kind,
        "percent_complete": 42.0 if kind == "progress" else None,
    }
    event = parse_canvas_event(live_event_from_plain(plain), NOW)
    assert event.kind == expected
    assert Ref("sourcedId", "stu-1") in event.student
    assert event.course[:1] == (() if kind == "login" else (Ref("sourcedId", "cls-1"),))
    assert event.occurred_at == datetime(2026, 9, 1, 11, tzinfo=UTC)
    if kind == "progress":
        assert event.percent_complete == pytest.approx(42.0)
    assert parse_canvas_event(live_event_from_plain(plain), NOW).event_id == event.event_id


def test_live_event_from_plain_refuses_what_canvas_cannot_say() -> None:
    with pytest.raises(ValueError, match="forum_question"):
        live_event_from_plain(
            {
                "event_id": "e",
                "occurred_at": "2026-09-01T06:00:00Z",
                "student": "s",
                "class": "c",
                "kind": "forum_question",
            }
        )


# -- the JWT -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signer() -> CanvasSigner:
    return CanvasSigner.generate(kid="canvas-2026-09")


@pytest.fixture(scope="module")
def receiver_secret(signer: CanvasSigner) -> str:
    # Rotation: the JWKS lists the previous, current and next keys; the kid picks one.
    others = [CanvasSigner.generate(kid=f"other-{i}").jwk for i in range(2)]
    return json.dumps(
        {"jwks": {"keys": [others[0], signer.jwk, others[1]]}, "accounts": ["21070000000000001"]}
    )


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": raw["metadata"], "body": raw["body"]}


def test_valid_token_gives_the_event(raw_dir: Path, signer: CanvasSigner, receiver_secret: str) -> None:
    event = _event(_load(raw_dir, "logged_in.json"))
    claims = verify_live_event_jwt(signer.sign(event), parse_receiver(receiver_secret))
    assert claims["metadata"] == event["metadata"] and claims["body"] == event["body"]


def test_wrong_key_is_refused(raw_dir: Path, receiver_secret: str) -> None:
    impostor = CanvasSigner.generate(kid="canvas-2026-09")  # the right kid, another key
    token = impostor.sign(_event(_load(raw_dir, "logged_in.json")))
    with pytest.raises(CanvasTokenError, match="signature") as caught:
        verify_live_event_jwt(token, parse_receiver(receiver_secret))
    assert caught.value.status == 401


def test_unknown_kid_is_refused(raw_dir: Path, receiver_secret: str) -> None:
    token = CanvasSigner.generate(kid="not-published").sign(_event(_load(raw_dir, "logged_in.json")))
    with pytest.raises(CanvasTokenError, match="not-published") as caught:
        verify_live_event_jwt(token, parse_receiver(receiver_secret))
    assert caught.value.status == 401


def test_expired_token_is_refused(raw_dir: Path, signer: CanvasSigner, receiver_secret: str) -> None:
    token = signer.sign(
        _event(_load(raw_dir, "logged_in.json")),
        at=datetime.now(UTC) - timedelta(hours=1),
        expires_in=timedelta(minutes=5),
    )
    with pytest.raises(CanvasTokenError, match="expired") as caught:
        verify_live_event_jwt(token, parse_receiver(receiver_secret))
    assert caught.value.status == 401


def test_hs256_with_the_public_key_is_refused(
    raw_dir: Path, signer: CanvasSigner, receiver_secret: str
) -> None:
    # The classic confusion attack: an HMAC "signed" with the published RSA public key.
    public_pem = signer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": signer.kid}).encode()
    ).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(_event(_load(raw_dir, "logged_in.json"))).encode()).rstrip(
        b"="
    )
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    ).rstrip(b"=")
    token = b".".join((header, payload, signature)).decode()
    with pytest.raises(CanvasTokenError, match="HS256") as caught:
        verify_live_event_jwt(token, parse_receiver(receiver_secret))
    assert caught.value.status == 401
    none_token = jwt.encode(_event(_load(raw_dir, "logged_in.json")), None, algorithm="none")
    with pytest.raises(CanvasTokenError, match="'none'"):
        verify_live_event_jwt(none_token, parse_receiver(receiver_secret))


def test_tampered_token_is_refused(raw_dir: Path, signer: CanvasSigner, receiver_secret: str) -> None:
    token = signer.sign(_event(_load(raw_dir, "logged_in.json")))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["metadata"]["user_sis_id"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(CanvasTokenError, match="signature") as caught:
        verify_live_event_jwt(f"{header}.{forged}.{signature}", parse_receiver(receiver_secret))
    assert caught.value.status == 401


def test_not_a_jwt_is_malformed(receiver_secret: str) -> None:
    with pytest.raises(CanvasTokenError, match="compact JWT") as caught:
        verify_live_event_jwt("not-a-token", parse_receiver(receiver_secret))
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "secret",
    [
        "{}",
        '{"accounts": ["1"]}',
        '{"jwks": {"keys": []}, "jwks_url": "https://x.example/jwks", "accounts": ["1"]}',
        '{"jwks_url": "http://insecure.example/jwks", "accounts": ["1"]}',
        "not json",
    ],
)
def test_a_malformed_receiver_accepts_nobody(secret: str) -> None:
    with pytest.raises(CanvasTokenError, match="not valid") as caught:
        parse_receiver(secret)
    assert caught.value.status == 401


@pytest.fixture
def jwks_server(signer: CanvasSigner) -> Iterator[str]:
    """Instructure's JWKS endpoint played on this machine (no network)."""
    body = json.dumps(signer.jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/main/jwks"
    finally:
        server.shutdown()
        server.server_close()


def test_keys_from_a_jwks_url(raw_dir: Path, signer: CanvasSigner, jwks_server: str) -> None:
    receiver = parse_receiver(json.dumps({"jwks_url": jwks_server, "accounts": ["21070000000000001"]}))
    event = _event(_load(raw_dir, "logged_in.json"))
    assert verify_live_event_jwt(signer.sign(event), receiver)["body"] == event["body"]
    stranger = CanvasSigner.generate(kid="rotated-away").sign(event)
    with pytest.raises(CanvasTokenError, match="rotated-away") as caught:
        verify_live_event_jwt(stranger, receiver)
    assert caught.value.status == 401


def test_an_unreachable_jwks_url_asks_canvas_to_retry(raw_dir: Path, signer: CanvasSigner) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = parse_receiver(
        json.dumps({"jwks_url": f"http://127.0.0.1:{port}/jwks", "accounts": ["21070000000000001"]})
    )
    with pytest.raises(CanvasTokenError) as caught:
        verify_live_event_jwt(signer.sign(_event(_load(raw_dir, "logged_in.json"))), receiver)
    assert caught.value.status == 503
