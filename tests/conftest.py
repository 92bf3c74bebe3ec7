"""Fixtures shared by every test suite: the repository, the shared fixtures folder, the local stack."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# pyproject's pythonpath puts the function folders and the repository root on sys.path; the
# packages under layers/ and local/ are not installed, so put their folders there too.
for _entry in (REPO_ROOT, REPO_ROOT / "local", REPO_ROOT / "layers" / "core", REPO_ROOT / "layers" / "rules"):
    if str(_entry) not in sys.path:
        sys.path.insert(0, str(_entry))

from onpace_local.gateway import GatewayHandle, serve_gateway  # noqa: E402
from onpace_local.moto_server import MotoHandle, start_moto  # noqa: E402
from onpace_local.stack import DYNAMODB_BACKENDS, LocalStack  # noqa: E402

from tests.console_session import ConsoleSession, sign_in_over_http  # noqa: E402

# What each DynamoDB implementation lacks that some tests need (dynalite's own TODO list: it has
# no transactions, no streams; time to live and backups are left out of its tables too).
_LACKS: dict[str, frozenset[str]] = {
    "moto": frozenset(),
    "dynalite": frozenset({"transactions", "streams", "time_to_live", "backups"}),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dynalite-everywhere",
        action="store_true",
        help="run every test of the local stack on dynalite too, not only those marked dynamodb",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dynamodb(needs=()): exercises DynamoDB paths, so runs on moto and again on dynalite "
        "(ids [moto]/[dynalite]); needs= names what dynalite lacks (transactions, streams): "
        "such a test runs on moto alone",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of the local stack runs on moto; those marked ``dynamodb`` on dynalite as well."""
    if "local_stack" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("dynamodb")
    backends: tuple[str, ...] = ("moto",)
    if marker is not None or metafunc.config.getoption("dynalite_everywhere"):
        needs = marker.kwargs.get("needs", ()) if marker is not None else ()
        needed = {needs} if isinstance(needs, str) else set(needs)
        unknown = needed - _LACKS["dynalite"]
        if unknown:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown dynamodb needs {sorted(unknown)}")
        backends = tuple(b for b in DYNAMODB_BACKENDS if not needed & _LACKS[b])
    # Always parametrized, [moto] included: one cache key per backend, so pytest starts each
    # stack once per session instead of tearing moto down between marked and unmarked tests.
    metafunc.parametrize("local_stack", backends, indirect=True, ids=backends, scope="session")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir(repo_root: Path) -> Path:
    """``../shared`` beside the repository: LMS payload fixtures, seeds and design notes."""
    shared = repo_root.parent / "shared"
    if not shared.is_dir():
        pytest.fail(
            f"the shared folder {shared} is missing: the LMS payload fixtures live there "
            "(the repository expects shared/ checked out beside it, as CI does)",
            pytrace=False,
        )
    return shared


@pytest.fixture(scope="session")
def template_path(repo_root: Path) -> Path:
    return repo_root / "template.yaml"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoHandle]:
    """One moto server for the session: the [moto] and the [dynalite] stacks both use it (reset in
    between), so the handlers' module-level boto3 clients keep a live endpoint."""
    with start_moto() as handle:
        yield handle


@pytest.fixture(scope="session")
def local_stack(
    request: pytest.FixtureRequest, repo_root: Path, template_path: Path, moto_server: MotoHandle
) -> Iterator[LocalStack]:
    """The template provisioned on a fresh moto server, handlers ready to invoke in-process; the
    tables on dynalite instead for the ``[dynalite]`` run of a test marked ``dynamodb``."""
    backend = getattr(request, "param", "moto")
    stack = LocalStack.start(template_path, root=repo_root, dynamodb=backend, moto=moto_server)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def console_gateway(local_stack: LocalStack) -> Iterator[GatewayHandle]:
    """The local gateway with its identity provider (``.identity_provider``), one per test module."""
    with serve_gateway(local_stack) as handle:
        yield handle


@pytest.fixture(scope="module")
def console_sign_in(console_gateway: GatewayHandle) -> Callable[..., ConsoleSession]:
    """``console_sign_in(*districts, district=None)``: a new admin of ``districts`` at the local
    identity provider, signed in over HTTP (code + PKCE), as an authorised ``ConsoleSession``
    (``district`` is sent as ``X-OnPace-District``)."""
    provider = console_gateway.identity_provider
    assert provider is not None

    def sign_in(*districts: str, district: str | None = None) -> ConsoleSession:
        user = provider.add_user(f"admin-{uuid.uuid4().hex[:10]}@example.org", districts)
        tokens = sign_in_over_http(console_gateway.url, user.email, user.password, provider.client_id)
        return ConsoleSession(console_gateway.url, user, str(tokens["id_token"]), district)

    return sign_in
