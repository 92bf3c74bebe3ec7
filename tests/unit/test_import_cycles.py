"""``layers/rules`` has no import cycle, not even for typing (issue 9, item 10).

Every ``import`` and ``from … import`` statement of every module counts, wherever it stands:
at the top, inside a function, or under ``if TYPE_CHECKING:``. The graph is read from the source
with ``ast``, so an import that only a type checker follows is seen too.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

RULES_LAYER = Path(__file__).resolve().parents[2] / "layers" / "rules"
PACKAGE = "onpace_rules"


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` under ``root``."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module of ``from [.]module import …`` written in ``module``."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")[: -node.level] if node.level else []
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: str, source: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``source`` (module ``module``) imports, anywhere in it.

    ``from pkg import name`` imports ``pkg.name`` when that is a module, else ``pkg``.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    found.add(sub)
                elif target in known:
                    found.add(target)
    found.discard(module)  # ``from . import x`` in a package's own __init__ is not a cycle
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    files = module_files(root, package)
    known = set(files)
    return {name: imports_of(name, path.read_text(encoding="utf-8"), known) for name, path in files.items()}


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path ``[a, b, …, a]``, or None when it has none."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle is not None:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle is not None:
                return cycle
    return None


def test_the_rules_layer_has_no_import_cycle() -> None:
    graph = import_graph(RULES_LAYER, PACKAGE)
    assert len(graph) > 30  # every module was read (the package, rules/, the engine's modules)
    assert f"{PACKAGE}.registry" in graph[f"{PACKAGE}.engine"]  # edges are found
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in layers/rules: " + " -> ".join(cycle or ())


def test_the_rule_families_do_not_import_the_engine() -> None:
    """The engine runs the families; a family needs only the contract and the context."""
    graph = import_graph(RULES_LAYER, PACKAGE)
    engine = f"{PACKAGE}.engine"
    importers = sorted(m for m, deps in graph.items() if engine in deps and m.startswith(f"{PACKAGE}.rules"))
    assert importers == []


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        (  # the cycle the issue names: imported only for typing, still a cycle
            {
                "pkg/__init__.py": "",
                "pkg/facts.py": (
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.decisions import D\n"
                ),
                "pkg/decisions.py": "from pkg.facts import Kind\n",
            },
            ["pkg.decisions", "pkg.facts", "pkg.decisions"],
        ),
        (  # through a submodule named in ``from pkg.sub import module``, inside a function, relative
            {
                "pkg/__init__.py": "",
                "pkg/sub/__init__.py": "",
                "pkg/sub/a.py": "def f():\n    from . import b\n",
                "pkg/sub/b.py": "from pkg import c\n",
                "pkg/c.py": "import pkg.sub.a\n",
            },
            ["pkg.c", "pkg.sub.a", "pkg.sub.b", "pkg.c"],
        ),
        (
            {
                "pkg/__init__.py": "from pkg import a\n",
                "pkg/a.py": "import os\nfrom pkg.b import x\n",
                "pkg/b.py": "",
            },
            None,
        ),
    ],
)
def test_the_check_finds_and_names_cycles(
    tmp_path: Path, files: dict[str, str], cycle: list[str] | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert find_cycle(import_graph(tmp_path, "pkg")) == cycle
