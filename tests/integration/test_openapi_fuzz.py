"""schemathesis against the local stack: every route of docs/openapi.json, fuzzed over HTTP.

Requests go through the local API gateway into the real handlers on moto server. For every
operation: no 5xx, and each answer's status, media type, headers and body are those the document
states. Each route is tried twice: as anyone on the internet can call it (no or made-up
credentials: the refusals must be documented 4xx too), and signed in — the plain webhook signed
with the district's Standard Webhooks secret over the very bytes sent, xAPI with the district's
Basic credentials, Caliper with its Bearer token, Canvas with JWTs of generated claims signed by
the district's key, the console as an admin of the district (an ID token of the local identity
provider, checked by the gateway as API Gateway's JWT authorizer would); the signed-in runs first
send the document's own examples, which must be stored. The budget is bounded (``EXAMPLES``
generated requests per operation and mode, no shrinking), so the module adds well under a minute
to the suite.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from onpace_local.district import store_canvas_receiver
from onpace_local.gateway import GatewayHandle
from onpace_local.lms.canvas_client import CanvasSigner, live_event_from_plain
from onpace_local.lms.credentials import caliper_token, create_source_credentials
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import signed_headers
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.console_session import ConsoleSession
from tests.integration.districts import SampleDistrict, make_district

pytestmark = pytest.mark.integration

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ACCOUNT = "10000000000001"
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

SCHEMA = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in SCHEMA.raw_schema["paths"].items()
    for method in item
    if method in ("get", "put", "post", "delete", "patch")
)


# Negative cases need something to make invalid: a parameter or a body.
ANYONE_CASES = [
    pytest.param(path, method, mode, id=f"{method} {path}-{mode.value}")
    for path, method in OPERATIONS
    for mode in MODES
    if mode is GenerationMode.POSITIVE
    or {"parameters", "requestBody"} & set(SCHEMA.raw_schema["paths"][path][method.lower()])
]


def _operation(path: str, method: str) -> Any:
    return SCHEMA[path][method]


def _fuzz(
    strategy: Any,
    send: Callable[[Case], requests.Response],
    checks: list[Any],
    examples: Sequence[Any] = (),
) -> list[int]:
    """Send each of the document's ``examples`` once, then ``EXAMPLES`` generated cases; validate
    every answer against the document. The statuses, in order."""
    statuses: list[int] = []

    def drive(cases: Any, count: int) -> None:
        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=cases)
        def run(case: Case) -> None:
            response = send(case)
            statuses.append(response.status_code)
            case.validate_response(response, checks=checks)

        run()

    for example in examples:
        drive(example, 1)
    drive(strategy, EXAMPLES)
    return statuses


class Signed:
    """The districts and credentials of the signed-in runs, made once per module."""

    def __init__(self, stack: LocalStack) -> None:
        self.district: SampleDistrict = make_district(stack, {"csu.engagement.at_risk_14d": {}})
        district_id = self.district.district_id
        (self.xapi,) = create_source_credentials(stack, district_id, "xapi")
        self.caliper = caliper_token(stack.client("secretsmanager"), district_id)
        self.canvas: CanvasSigner = store_canvas_receiver(stack, district_id, (ACCOUNT,))


@pytest.fixture(scope="module")
def signed(local_stack: LocalStack) -> Signed:
    return Signed(local_stack)


@pytest.fixture(scope="module")
def admin_token(console_sign_in: Callable[..., ConsoleSession], signed: Signed) -> str:
    """An ID token of an admin of the signed-in district (the local identity provider's)."""
    return console_sign_in(signed.district.district_id).token


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.mark.parametrize(("path", "method", "mode"), ANYONE_CASES)
def test_anyone(
    gateway: GatewayHandle, session: requests.Session, path: str, method: str, mode: GenerationMode
) -> None:
    """Whatever anyone sends (no or made-up credentials, any district): a documented answer.

    The console's routes answer a documented 401 here (no valid token), its shell 200."""
    _fuzz(
        _operation(path, method).as_strategy(mode),
        lambda case: case.call(base_url=gateway.url, session=session),
        CHECKS if mode is GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection],
    )


def _signed_webhook(url: str, session: requests.Session, secret: str) -> Callable[[Case], requests.Response]:
    def send(case: Case) -> requests.Response:
        prepared = requests.Request(**_request_kwargs(case, url)).prepare()
        body = prepared.body or b""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        signature = signed_headers(secret, text, f"msg_{secrets.token_hex(6)}")
        prepared.headers.update({k: v for k, v in signature.items() if k.startswith("webhook-")})
        return session.send(prepared, timeout=30)

    return send


def _request_kwargs(case: Case, url: str) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url=url)
    return {
        k: kwargs[k] for k in ("method", "url", "headers", "params", "data", "json", "cookies") if k in kwargs
    }


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_plain_webhook_signed(
    gateway: GatewayHandle, session: requests.Session, signed: Signed, mode: GenerationMode
) -> None:
    """Bodies signed over the exact bytes sent reach the parser: stored (202) or a documented 4xx."""
    operation = _operation("/webhooks/{source}", "POST")
    fixed: dict[str, Any] = {
        "path_parameters": {"source": "plain"},
        "query": {"district": signed.district.district_id},
    }
    examples = operation.get_strategies_from_examples(**fixed) if mode is GenerationMode.POSITIVE else []
    # The signature headers are set after generation: a mutation of them is not what is tested here.
    statuses = _fuzz(
        operation.as_strategy(mode, **fixed),
        _signed_webhook(gateway.url, session, signed.district.secret),
        CHECKS,
        examples,
    )
    if mode is GenerationMode.POSITIVE:
        assert statuses[0] == 202, "the document's example, signed, was not stored"


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize(("path", "method"), [("/xapi/statements", "POST"), ("/xapi/statements", "PUT")])
def test_xapi_signed_in(
    gateway: GatewayHandle,
    session: requests.Session,
    signed: Signed,
    path: str,
    method: str,
    mode: GenerationMode,
) -> None:
    headers = {"Authorization": signed.xapi.authorization, "X-Experience-API-Version": "1.0.3"}
    operation = _operation(path, method)
    examples = (
        operation.get_strategies_from_examples(headers=headers) if mode is GenerationMode.POSITIVE else []
    )
    statuses = _fuzz(
        operation.as_strategy(mode, headers=headers),
        lambda case: case.call(base_url=gateway.url, session=session),
        CHECKS,
        examples,
    )
    if mode is GenerationMode.POSITIVE and method == "POST":
        assert statuses[0] == 200, "the document's example statement was not stored"


@pytest.mark.parametrize(
    ("method", "mode"),
    [
        ("POST", GenerationMode.POSITIVE),
        ("POST", GenerationMode.NEGATIVE),
        ("GET", GenerationMode.POSITIVE),  # the ping takes nothing to make invalid
    ],
)
def test_caliper_signed_in(
    gateway: GatewayHandle, session: requests.Session, signed: Signed, method: str, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {signed.caliper}"}
    operation = _operation("/caliper/events", method)
    examples = (
        operation.get_strategies_from_examples(headers=headers) if mode is GenerationMode.POSITIVE else []
    )
    statuses = _fuzz(
        operation.as_strategy(mode, headers=headers),
        lambda case: case.call(base_url=gateway.url, session=session),
        CHECKS,
        examples,
    )
    if mode is GenerationMode.POSITIVE:
        assert 200 in statuses, f"neither the ping nor the example envelope got through: {statuses}"


_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30))
_CANVAS_CLAIMS = st.fixed_dictionaries(
    {
        "metadata": st.fixed_dictionaries(
            {
                "event_name": st.sampled_from(
                    [
                        "submission_created",
                        "logged_in",
                        "asset_accessed",
                        "discussion_entry_created",
                        "quiz_submitted",
                        "course_progress",
                        "grade_change",
                        "enrollment_created",
                        "something_else",
                    ]
                ),
                "root_account_id": st.sampled_from([ACCOUNT, "20000000000002"]),
                "event_time": st.one_of(st.just("2026-09-01T15:00:00.000Z"), st.text(max_size=30)),
            },
            optional={"user_id": _SCALAR, "context_id": _SCALAR, "context_type": _SCALAR},
        ),
        "body": st.dictionaries(
            st.sampled_from(["user_id", "course_id", "context_id", "assignment_id", "progress", "id"]),
            st.one_of(_SCALAR, st.dictionaries(st.text(max_size=10), _SCALAR, max_size=3)),
            max_size=5,
        ),
    }
)


def test_canvas_signed(gateway: GatewayHandle, session: requests.Session, signed: Signed) -> None:
    """JWTs signed by the district's key over generated claims: stored or a documented 4xx."""
    cases = _operation("/canvas/live-events", "POST").as_strategy(
        GenerationMode.POSITIVE, query={"district": signed.district.district_id}
    )
    strategy = st.tuples(cases, _CANVAS_CLAIMS)
    # First a submission as Canvas reports it, for a student on the roster: stored.
    submission = live_event_from_plain(
        {
            "event_id": "canvas-fuzz-1",
            "occurred_at": "2026-09-01T10:00:00-05:00",
            "student": signed.district.students[0],
            "class": signed.district.class_id,
            "kind": "submission",
        },
        ACCOUNT,
    )

    def with_token(pair: tuple[Case, dict[str, Any]]) -> Case:
        case, claims = pair
        case.body = signed.canvas.sign(claims)
        return case

    def send(case: Case) -> requests.Response:
        # The token as the body's bytes (schemathesis would send a string body JSON-quoted).
        kwargs = _request_kwargs(case, gateway.url)
        kwargs.pop("json", None)
        kwargs["data"] = str(case.body).encode()
        return session.send(requests.Request(**kwargs).prepare(), timeout=30)

    statuses = _fuzz(
        strategy.map(with_token), send, CHECKS, [st.tuples(cases, st.just(submission)).map(with_token)]
    )
    assert statuses[0] == 200 and 403 in statuses, statuses


@pytest.mark.parametrize(
    ("path", "mode"),
    [
        ("/console", GenerationMode.POSITIVE),
        ("/console/api/audit", GenerationMode.POSITIVE),
        ("/console/api/audit", GenerationMode.NEGATIVE),
        ("/console/api/audit/verify", GenerationMode.POSITIVE),
        ("/console/views/audit", GenerationMode.POSITIVE),
        ("/console/views/failures", GenerationMode.POSITIVE),
        ("/console/api/notices/{notice_id}/emails/{r}", GenerationMode.POSITIVE),
        ("/console/api/notices/{notice_id}/emails/{r}", GenerationMode.NEGATIVE),
        ("/console/views/upcoming", GenerationMode.POSITIVE),
        ("/console/views/upcoming", GenerationMode.NEGATIVE),
        ("/console/views/queues", GenerationMode.POSITIVE),
        ("/console/views/packet", GenerationMode.POSITIVE),
        ("/console/api/packet.pdf", GenerationMode.POSITIVE),
        ("/console/api/packet.pdf", GenerationMode.NEGATIVE),
        ("/console/views/disclosures", GenerationMode.POSITIVE),
        ("/console/views/health", GenerationMode.POSITIVE),
        ("/console/views/health", GenerationMode.NEGATIVE),
    ],
)
def test_console_signed_in(
    console_gateway: GatewayHandle,
    admin_token: str,
    session: requests.Session,
    signed: Signed,
    path: str,
    mode: GenerationMode,
) -> None:
    """An admin of a district with audit entries: any query gives a documented answer (the
    gateway checks the token as API Gateway's JWT authorizer does)."""
    _fuzz(
        _operation(path, "GET").as_strategy(mode, headers={"Authorization": f"Bearer {admin_token}"}),
        lambda case: case.call(base_url=console_gateway.url, session=session),
        CHECKS if mode is GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection],
    )
