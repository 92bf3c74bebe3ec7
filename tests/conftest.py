"""Fixtures shared by every test suite: the repository, the shared fixtures folder, the local stack."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# pyproject's pythonpath puts the function folders and the repository root on sys.path; the
# packages under layers/ and local/ are not installed, so put their folders there too.
for _entry in (REPO_ROOT, REPO_ROOT / "local", REPO_ROOT / "layers" / "core", REPO_ROOT / "layers" / "rules"):
    if str(_entry) not in sys.path:
        sys.path.insert(0, str(_entry))

from onpace_local.stack import LocalStack  # noqa: E402


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
def local_stack(repo_root: Path, template_path: Path) -> Iterator[LocalStack]:
    """The template provisioned on a fresh moto server, handlers ready to invoke in-process."""
    stack = LocalStack.start(template_path, root=repo_root)
    try:
        yield stack
    finally:
        stack.stop()
