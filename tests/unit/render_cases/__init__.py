"""Render test cases per rule module: each module here defines ``CASES`` like test_render's own."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def more_cases() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        overlap = set(cases) & set(module.CASES)
        assert not overlap, f"render cases defined twice: {overlap}"
        cases.update(module.CASES)
    return cases
