"""The evaluation's entry points with their counts, imported by the evaluate functions.

The engine (every rule, the calendar's numpy and holidays) is imported on the first planning or
evaluation, not at the functions' cold start: the import is paid by the run that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onpace_core.observability import (
    DECISIONS,
    ENROLLMENTS_EVALUATED,
    ENROLLMENTS_FAILED,
    PROGRAM_DAYS_EVALUATED,
    count,
)

if TYPE_CHECKING:
    from onpace_core.evaluation.day import DaySummary
    from onpace_core.notices.evaluation import ProgramPlan, ShardResult


def plan_program_day(*args: Any, **kwargs: Any) -> ProgramPlan:
    """``onpace_core.notices.evaluation.plan_program_day``, counted (same arguments).

    ``ProgramDaysEvaluated`` (a program day planned: its shards are on their way to the workers)
    is what the "evaluation did not run" alarm watches.
    """
    from onpace_core.notices import evaluation

    plan = evaluation.plan_program_day(*args, **kwargs)
    count(PROGRAM_DAYS_EVALUATED, 1)
    return plan


def evaluate_shard(*args: Any, **kwargs: Any) -> ShardResult:
    """``onpace_core.notices.evaluation.evaluate_shard``, counted (same arguments).

    ``Decisions`` (each one an outbox notice) is what the notify function's sends are compared
    with; ``EnrollmentsFailed`` counts the enrollments a shard set aside to retry alone.
    """
    from onpace_core.notices import evaluation

    result = evaluation.evaluate_shard(*args, **kwargs)
    _count_summary(result.summary)
    count(ENROLLMENTS_FAILED, len({f.enrollment_key for f in result.failures}))
    return result


def evaluate_program_day(*args: Any, **kwargs: Any) -> DaySummary:
    """``onpace_core.notices.evaluation.evaluate_program_day`` (plan and every shard in this
    process: a local catch-up), counted as planning and evaluating would be."""
    from onpace_core.notices import evaluation

    summary = evaluation.evaluate_program_day(*args, **kwargs)
    count(PROGRAM_DAYS_EVALUATED, 1)
    _count_summary(summary)
    return summary


def _count_summary(summary: DaySummary) -> None:
    count(ENROLLMENTS_EVALUATED, summary.enrollments_evaluated)
    count(DECISIONS, sum(summary.recorded.values()))
