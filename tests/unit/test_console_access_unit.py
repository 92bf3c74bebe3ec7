"""console_access without HTTP: the caller from verified claims, the district header, CSRF."""

from __future__ import annotations

from typing import Any

import console_access as access
import pytest


def event(claims: dict[str, Any] | None, **headers: str) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {"headers": headers, "requestContext": context}


def test_one_district_needs_no_header() -> None:
    access.bind(event({"sub": "s1", "email": "a@x.org", "custom:district_id": "riverbend"}))
    caller = access.current_caller()
    assert caller == access.Caller(sub="s1", email="a@x.org", districts=("riverbend",), district="riverbend")
    assert access.actor() == "admin:s1"


def test_several_districts_need_the_header_and_it_must_be_one_of_them() -> None:
    claims = {"sub": "s1", "custom:district_id": "riverbend, lakeside"}
    access.bind(event(claims))
    with pytest.raises(access.DistrictRequiredError):
        access.current_caller()
    access.bind(event(claims, **{"X-OnPace-District": "lakeside"}))
    assert access.current_caller().district == "lakeside"
    access.bind(event(claims, **{"x-onpace-district": "elsewhere"}))
    with pytest.raises(access.DistrictNotAllowedError):
        access.current_caller()


@pytest.mark.parametrize("claim", [None, "", "a#b", "a,,b", "a b", "é"])
def test_bad_district_claims_are_refused(claim: str | None) -> None:
    access.bind(event({"sub": "s1", "custom:district_id": claim}))
    with pytest.raises(access.NoDistrictError):
        access.current_caller()


def test_no_claims_is_unauthenticated() -> None:
    access.bind(event(None))
    with pytest.raises(access.UnauthenticatedError):
        access.current_caller()


def test_csrf_token_is_bound_to_the_bearer_token() -> None:
    access.bind(event({"sub": "s1", "custom:district_id": "d"}, authorization="Bearer token-one"))
    mine = access.csrf_token()
    access.require_csrf({"csrf": mine})
    with pytest.raises(access.CsrfError):
        access.require_csrf({})
    with pytest.raises(access.CsrfError):
        access.require_csrf({"csrf": "0" * 64})
    # Another sign-in's form token is not accepted.
    access.bind(event({"sub": "s1", "custom:district_id": "d"}, authorization="Bearer token-two"))
    assert access.csrf_token() != mine
    with pytest.raises(access.CsrfError):
        access.require_csrf({"csrf": mine})
