"""docs/openapi.json: generated from the handlers' resolvers, current, and route for route the template's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from onpace_local.openapi import REGENERATE, document_routes, template_routes
from openapi_spec_validator import validate


@pytest.fixture(scope="module")
def committed(repo_root: Path) -> dict[str, Any]:
    return json.loads((repo_root / "docs" / "openapi.json").read_text(encoding="utf-8"))


def test_committed_document_is_what_the_code_generates(repo_root: Path) -> None:
    # A separate process: generating imports the handlers, which read their settings at import.
    paths = [repo_root / "local", repo_root / "layers" / "core", repo_root / "layers" / "rules"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    result = subprocess.run(
        [sys.executable, "-m", "onpace_local.cli", "openapi"],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    committed = (repo_root / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert result.stdout == committed, (
        "docs/openapi.json is not what the handlers' routes generate (a route, its parameters or its "
        f"responses changed). Regenerate it and commit the result:\n    {REGENERATE}"
    )


def test_every_template_route_is_documented_and_nothing_else(
    committed: dict[str, Any], template_path: Path
) -> None:
    in_template = template_routes(template_path)
    documented = document_routes(committed)
    assert in_template - documented == set(), "routes of template.yaml missing from docs/openapi.json"
    assert documented - in_template == set(), "docs/openapi.json documents routes template.yaml does not have"
    assert len(in_template) >= 10


def test_document_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    assert committed["openapi"].startswith("3.1")
    validate(committed)


def test_every_operation_states_its_answers(committed: dict[str, Any]) -> None:
    for path, item in committed["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            codes = {int(code) for code in operation["responses"]}
            assert any(200 <= c < 300 for c in codes), f"{where}: no success response"
            assert 429 in codes, f"{where}: the throttled answer is not documented"
            assert operation.get("operationId") and operation.get("summary"), where
            if method in ("post", "put"):
                assert "requestBody" in operation, f"{where}: no request body described"
            # ``security: []`` declares a public operation (one-click unsubscribe, RFC 8058).
            public = operation.get("security") == []
            if not public and (operation.get("security") or "{source}" in path or method in ("post", "put")):
                assert 401 in codes, f"{where}: authenticated, but no 401 documented"
