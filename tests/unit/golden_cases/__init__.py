"""Golden-file email cases per rule module: each module here defines ``GOLDEN``.

``GOLDEN`` maps a case name (the files' stem under ``tests/golden/emails/``) to a dict with
``rule_id``, ``role`` (the recipient's roster role), optional ``name`` and ``language`` of the
recipient, and ``notice``: the outbox fields the evaluator would record (``facts``,
``deadlines``, ``decided_on``, ``kind``, ...), which replace those of a plain notice.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def golden_cases() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        overlap = set(cases) & set(module.GOLDEN)
        assert not overlap, f"golden cases defined twice: {overlap}"
        cases.update(module.GOLDEN)
    return cases
