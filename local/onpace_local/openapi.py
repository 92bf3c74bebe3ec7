"""The OpenAPI document of OnPace's HTTP API, generated from the functions' Powertools resolvers.

``build_document(template)`` imports the handler of every function that has ``HttpApi`` events in
``template.yaml`` (as Lambda would: its code folder and the layers on ``sys.path``), asks its
resolver (``app``) for its OpenAPI schema, and merges them into one document. What a route reads
and answers is declared at the route's decorator (``ingest_contract``, ``console_contract``: the
``contract`` module a handler imports), so the document cannot say what the code does not.

``docs/openapi.json`` is this document; ``tests/unit/test_openapi_document.py`` fails when it
drifts from the code or from the template's routes. Regenerate with::

    .venv/bin/onpace openapi --output docs/openapi.json
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onpace_local.template import FunctionSpec, function_specs, layer_dirs

REGENERATE = ".venv/bin/onpace openapi --output docs/openapi.json"
PARAMETERS = "x-onpace-parameters"  # ingest_contract.PARAMETERS, console_contract.PARAMETERS
REQUEST_BODY = "x-onpace-request-body"  # console_contract.REQUEST_BODY: a form's fields
TITLE = "OnPace HTTP API"
DESCRIPTION = (
    "LMS activity in (plain signed webhooks, xAPI, Caliper, Canvas Live Events) and the district "
    "console's audit log out. Generated from the handlers' Powertools resolvers; see "
    "docs/webhooks.md and docs/ingest.md for what each format means to OnPace."
)
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def template_routes(template_path: Path) -> set[tuple[str, str]]:
    """``(METHOD, /path/{param})`` of every ``HttpApi`` event in the template."""
    routes: set[tuple[str, str]] = set()
    for spec in function_specs(template_path):
        for event in spec.events.values():
            if isinstance(event, Mapping) and event.get("Type") == "HttpApi":
                properties = event.get("Properties") or {}
                routes.add(
                    (str(properties.get("Method", "ANY")).upper(), str(properties.get("Path", "$default")))
                )
    return routes


def document_routes(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    """``(METHOD, /path/{param})`` of every operation in an OpenAPI document."""
    return {
        (method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in _METHODS
    }


def _http_functions(template_path: Path) -> list[FunctionSpec]:
    return [
        spec
        for spec in function_specs(template_path)
        if any(isinstance(e, Mapping) and e.get("Type") == "HttpApi" for e in spec.events.values())
    ]


@contextmanager
def _importable(template_path: Path, specs: list[FunctionSpec]) -> Iterator[None]:
    """The functions' folders and the layers on ``sys.path``, as Lambda would have them."""
    added = [
        str(d) for d in [*(s.code_dir for s in specs), *layer_dirs(template_path)] if str(d) not in sys.path
    ]
    sys.path[:0] = added
    # The handlers read their settings at import; nothing is called, but the region must exist.
    region_set = "AWS_DEFAULT_REGION" not in os.environ
    if region_set:
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        yield
    finally:
        for entry in added:
            sys.path.remove(entry)
        if region_set:
            os.environ.pop("AWS_DEFAULT_REGION", None)


def _version(root: Path) -> str:
    with (root / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def build_document(template_path: Path) -> dict[str, Any]:
    """The merged OpenAPI 3.1 document of every HTTP function of the template."""
    template_path = Path(template_path).resolve()
    specs = _http_functions(template_path)
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    tags: list[str] = []
    with _importable(template_path, specs):
        modules = [importlib.import_module(spec.module) for spec in specs]
        for module in modules:
            contract = getattr(module, "contract", None)
            schemes.update(getattr(contract, "SECURITY_SCHEMES", {}))
        for spec, module in zip(specs, modules, strict=True):
            app = getattr(module, "app", None)
            if app is None or not hasattr(app, "get_openapi_schema"):
                raise ValueError(f"{spec.logical_id}: {spec.module} has no Powertools resolver named 'app'")
            contract = getattr(module, "contract", None)
            component_schemas = getattr(contract, "component_schemas", None)
            if component_schemas is not None:
                schemas.update(component_schemas())
            part = json.loads(
                app.get_openapi_json_schema(title=TITLE, version="0", security_schemes=schemes or None)
            )
            for path, item in part.get("paths", {}).items():
                for method, operation in item.items():
                    # Declared parameters (the contract's PARAMETERS extension) are the whole list:
                    # the handlers read the raw request, Powertools sees only the path's names.
                    declared = operation.pop(PARAMETERS, None)
                    if declared is not None:
                        operation["parameters"] = declared
                    body = operation.pop(REQUEST_BODY, None)
                    if body is not None:
                        operation["requestBody"] = body
                    if method in paths.get(path, {}):
                        raise ValueError(f"{method.upper()} {path} is served by two functions")
                    paths.setdefault(path, {})[method] = operation
                    tags.extend(t for t in operation.get("tags", []) if t not in tags)
            schemas.update(part.get("components", {}).get("schemas", {}))
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = {name: schemas[name] for name in sorted(schemas)}
    if schemes:
        components["securitySchemes"] = {name: schemes[name] for name in sorted(schemes)}
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": _version(template_path.parent), "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "The stack's HTTP API (the ApiUrl output)"}],
        "tags": [{"name": tag} for tag in tags],
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": components,
    }


def render(document: Mapping[str, Any]) -> str:
    """The document as committed: indented JSON, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
