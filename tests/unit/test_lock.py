"""One lock for the layers: layers/deps/requirements.txt pins every third-party package the
functions run with, at the version the tests run with, and no other layer ships a package."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

from onpace_local.template import load_template
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "layers" / "deps" / "requirements.txt"
PIN = re.compile(r"^([a-z0-9][a-z0-9.-]*)==(\S+)$")


def _lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_layers", ROOT / "scripts" / "lock_layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin of a canonical name: {line!r}"
        pins[match.group(1)] = match.group(2)
    return pins


def test_every_pin_is_the_tested_version() -> None:
    for name, version in _pins().items():
        assert metadata.version(name) == version, f"{name}: lock {version}, tested {metadata.version(name)}"


def test_the_lock_is_what_the_generator_writes_from_this_virtualenv() -> None:
    """Complete (every dependency of a pinned package is pinned) and nothing more."""
    lock = _lock_module()
    assert LOCK.read_text(encoding="utf-8") == lock.render(lock.closure())


def test_no_other_layer_or_function_installs_a_package() -> None:
    template = load_template(ROOT / "template.yaml")
    code_dirs = [
        ROOT / resource["Properties"][key]
        for resource in template["Resources"].values()
        for key in ("ContentUri", "CodeUri")
        if isinstance(resource.get("Properties", {}).get(key), str)
    ]
    assert ROOT / "layers/deps/" in code_dirs
    for directory in code_dirs:
        requirements = directory / "requirements.txt"
        if directory == ROOT / "layers/deps/" or not requirements.exists():
            continue
        lines = [
            line
            for line in requirements.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert not lines, (
            f"{requirements} installs {lines}: add them to the lock (scripts/lock_layers.py) instead"
        )


def test_every_function_has_the_deps_layer() -> None:
    layers = load_template(ROOT / "template.yaml")["Globals"]["Function"]["Layers"]
    assert {"Ref": "DepsLayer"} in layers


def _third_party_imports() -> set[str]:
    local = {"onpace_core", "onpace_rules"} | {p.stem for p in (ROOT / "functions").glob("*/*.py")}
    names: set[str] = set()
    for path in [*(ROOT / "layers").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in local and n != "__future__"}


def test_every_package_the_code_imports_is_locked() -> None:
    pins = _pins()
    distributions = metadata.packages_distributions()
    missing = {}
    for module in sorted(_third_party_imports()):
        owners = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not owners & set(pins):
            missing[module] = sorted(owners)
    assert not missing, f"imported but not in {LOCK.name}: {missing}"
