"""OnPace's policy engine: pure functions over immutable data, no AWS, no clock.

Facts about an enrollment go in, decisions (notices, actions, skipped warnings) and the next
date worth looking again come out. The date being evaluated is always a parameter, so the
deployed evaluator, ``onpace replay`` and the tests run the very same code.

Rule ids and conventions come from the policy catalogue (shared/design/policies.md).

The names below are loaded on first use (PEP 562): importing one submodule, as the ingest and
notify functions do, must not pull in the engine, every rule and the calendar's numpy and
holidays at a Lambda cold start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onpace_rules.calendar import ProgramCalendar
    from onpace_rules.decisions import Decision, DecisionKind, Evaluation
    from onpace_rules.engine import CompiledProgram, compile_program, evaluate_enrollment
    from onpace_rules.facts import ACTIVITY_KINDS, ActivityKind, EnrollmentState
    from onpace_rules.program import ProgramConfig

_EXPORTS = {
    "ProgramCalendar": "onpace_rules.calendar",
    "Decision": "onpace_rules.decisions",
    "DecisionKind": "onpace_rules.decisions",
    "Evaluation": "onpace_rules.decisions",
    "CompiledProgram": "onpace_rules.engine",
    "compile_program": "onpace_rules.engine",
    "evaluate_enrollment": "onpace_rules.engine",
    "ACTIVITY_KINDS": "onpace_rules.facts",
    "ActivityKind": "onpace_rules.facts",
    "EnrollmentState": "onpace_rules.facts",
    "ProgramConfig": "onpace_rules.program",
}

__all__ = [
    "ACTIVITY_KINDS",
    "ActivityKind",
    "CompiledProgram",
    "Decision",
    "DecisionKind",
    "EnrollmentState",
    "Evaluation",
    "ProgramCalendar",
    "ProgramConfig",
    "compile_program",
    "evaluate_enrollment",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'onpace_rules' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
