"""``evaluate_program_day`` with its counts, imported by the evaluate function.

The engine (every rule, the calendar's numpy and holidays) is imported on the first evaluation,
not at the function's cold start: the import is paid by the run that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onpace_core.observability import DECISIONS, ENROLLMENTS_EVALUATED, PROGRAM_DAYS_EVALUATED, count

if TYPE_CHECKING:
    from onpace_core.evaluation.day import DaySummary


def evaluate_program_day(*args: Any, **kwargs: Any) -> DaySummary:
    """``onpace_core.notices.evaluation.evaluate_program_day``, counted (same arguments).

    ``ProgramDaysEvaluated`` is what the "evaluation did not run" alarm watches; ``Decisions``
    (each one an outbox notice) is what the notify function's sends are compared with.
    """
    from onpace_core.notices import evaluation

    summary = evaluation.evaluate_program_day(*args, **kwargs)
    count(PROGRAM_DAYS_EVALUATED, 1)
    count(ENROLLMENTS_EVALUATED, summary.enrollments_evaluated)
    count(DECISIONS, sum(summary.recorded.values()))
    return summary
