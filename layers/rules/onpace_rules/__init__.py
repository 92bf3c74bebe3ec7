"""OnPace's policy engine: pure functions over immutable data, no AWS, no clock.

Facts about an enrollment go in, decisions (notices, actions, skipped warnings) and the next
date worth looking again come out. The date being evaluated is always a parameter, so the
deployed evaluator, ``onpace replay`` and the tests run the very same code.

Rule ids and conventions come from the policy catalogue (shared/design/policies.md).
"""

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import Decision, DecisionKind, Evaluation
from onpace_rules.engine import CompiledProgram, compile_program, evaluate_enrollment
from onpace_rules.facts import ACTIVITY_KINDS, ActivityKind, EnrollmentState
from onpace_rules.program import ProgramConfig

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
