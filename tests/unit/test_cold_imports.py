"""Cold start guard: importing a handler must not import the heavy libraries.

Each handler module is imported in a fresh interpreter with the function's folder and the
layers on the path and its template environment, as Lambda does, and the modules loaded are
listed (``sys.modules``): deterministic, unlike a timing. ``python -m bench.run coldstart``
gives the times themselves (docs/scale.md, "Cold start").
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.coldstart import Target, _environment, targets

# Imported on first use by the code that needs them (a day's evaluation, a rendered email, a
# Canvas JWT, the console page, a request's validation, a route's parser, the ingest service),
# never at a cold start.
HEAVY = (
    "numpy",
    "holidays",
    "icalendar",
    "jinja2",
    "babel",
    "jwt",
    "cryptography",
    "yaml",
    "pydantic",
    "pydantic_core",
    "onpace_rules",
    "aws_lambda_powertools.utilities.parser",
    "onpace_core.delivery.retry",
    "onpace_core.delivery.sender",
    "onpace_core.evaluation.fanout",
    "onpace_core.ingest.canvas_auth",
    "onpace_core.ingest.formats.caliper",
    "onpace_core.ingest.formats.plain",
    "onpace_core.ingest.formats.xapi",
    "onpace_core.ingest.service",
    "onpace_core.notices",
    "onpace_core.roster",
    "onpace_core.store.enrollments",
    "onpace_core.store.programs",
)

# Powertools packages a handler that does not use them must not import: any data class (S3Event,
# SQSRecord, ...) imports all of ``utilities.data_classes`` (about 40 event classes, a twentieth
# of ``import boto3``); the event handler imports every resolver and ``asyncio``; the batch
# utility imports the data classes and ``asyncio``. The HTTP functions need the event handler and
# the SQS functions the batch utility; the planner and the roster import need neither.
EVENT_PACKAGES = (
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
)
WITHOUT_EVENT_PACKAGES = ("evaluate_handler", "roster_handler", "ses_events_handler")

_LIST_MODULES = (
    "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted(sys.modules)))"
)

# The services of the botocore clients made while the handler is imported.
_LIST_CLIENTS = """
import importlib, json, sys
import botocore.session
made = []
create = botocore.session.Session.create_client
def record(self, service_name, *args, **kwargs):
    made.append(service_name)
    return create(self, service_name, *args, **kwargs)
botocore.session.Session.create_client = record
importlib.import_module(sys.argv[1])
print(json.dumps(made))
"""

TARGETS = targets()


def _run(target: Target, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, target.module],
        env=_environment(target),
        cwd=str(target.path[0]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()[-1]


def _loaded(target: Target) -> set[str]:
    return set(json.loads(_run(target, _LIST_MODULES)))


def test_every_handler_of_the_template_is_checked() -> None:
    modules = {t.module for t in TARGETS}
    assert {
        "ingest_handler",
        "evaluate_handler",
        "notify_handler",
        "roster_handler",
        "console_handler",
    } <= modules


@pytest.mark.parametrize("target", TARGETS, ids=[t.module for t in TARGETS])
def test_handler_import_leaves_heavy_libraries_unloaded(target: Target) -> None:
    loaded = _loaded(target)
    assert target.module in loaded
    heavy = sorted({name for m in loaded for name in HEAVY if m == name or m.startswith(name + ".")})
    assert not heavy, f"{target.module} imports {heavy} at cold start; import them where they are used"


@pytest.mark.parametrize("module", WITHOUT_EVENT_PACKAGES)
def test_handler_import_leaves_the_powertools_event_packages_it_does_not_use_unloaded(module: str) -> None:
    target = next(t for t in TARGETS if t.module == module)
    loaded = _loaded(target)
    assert target.module in loaded and "aws_lambda_powertools" in loaded
    found = sorted({p for m in loaded for p in EVENT_PACKAGES if m == p or m.startswith(p + ".")})
    assert not found, f"{module} imports {found} at cold start"


def test_tracer_and_metrics_are_set_up_at_import() -> None:
    """The handlers' decorators need Powertools Tracer (with the X-Ray SDK, tracing on as in
    Lambda) and Metrics at import; the guard above must not be passing because they are missing."""
    target = next(t for t in TARGETS if t.module == "notify_handler")
    loaded = _loaded(target)
    assert "onpace_core.observability" in loaded
    assert "aws_xray_sdk.core" in loaded


@pytest.mark.parametrize("target", TARGETS, ids=[t.module for t in TARGETS])
def test_the_baseline_makes_every_client_the_handler_makes_at_import(target: Target) -> None:
    """The bench's baseline is boto3 plus the handler's clients: a client the handler makes at
    import and the baseline does not would be counted against the handler's own imports."""
    made = json.loads(_run(target, _LIST_CLIENTS))
    assert set(made) <= set(target.clients), (
        f"{target.module} makes {made}; bench.coldstart.CLIENTS lists {target.clients}"
    )


@pytest.mark.parametrize("target", TARGETS, ids=[t.module for t in TARGETS])
def test_first_use_modules_are_lazy_and_importable(target: Target) -> None:
    """``bench.run coldstart --first-use`` adds these to the handler's import: each must be one
    the handler does not load at import (else the figure counts nothing) and must exist."""
    loaded = _loaded(target)
    assert not set(target.first_use) & loaded
    code = "import importlib, sys; [importlib.import_module(m) for m in sys.argv[1].split(',')]; print('ok')"
    assert (
        _run(
            Target(
                target.function, ",".join((target.module, *target.first_use)), target.path, target.environment
            ),
            code,
        )
        == "ok"
    )
