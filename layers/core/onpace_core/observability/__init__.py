"""Metrics and traces of the functions (Powertools Metrics and Tracer), in one place.

Every handler decorates its ``lambda_handler`` with ``metrics.log_metrics`` and
``tracer.capture_lambda_handler`` from here. The counts themselves are added by the wrappers in
``observability.ingest``, ``observability.evaluation`` and ``observability.delivery``, which the
handlers import in place of the domain functions they wrap, so the handlers' code stays as it was.

Namespace and service come from ``POWERTOOLS_METRICS_NAMESPACE`` and ``POWERTOOLS_SERVICE_NAME``
(``template.yaml``); the CloudWatch alarms there name the metrics below with the ``service``
dimension Powertools adds. No metric, dimension or metadata carries a student, a name or an
address: counts only.

Tracing is on when deployed (``Tracing: Active``) and off wherever no X-Ray daemon listens:
Powertools turns it off outside Lambda, and the local stack sets ``POWERTOOLS_TRACE_DISABLED``.
Only botocore is patched (every AWS call, DynamoDB through pynamodb included): patching every
library the X-Ray SDK knows would import them all at cold start.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

# template.yaml's POWERTOOLS_METRICS_NAMESPACE, used when a process imports this module without
# the functions' environment (a test session that imports a handler before starting the stack):
# Powertools reads it once, when ``metrics`` is made, and refuses to flush without one.
NAMESPACE = "OnPace"

# Metric names (the alarms in template.yaml and docs/operations.md use them).
EVENTS_INGESTED = "EventsIngested"
EVENTS_DUPLICATE = "EventsDuplicate"
EVENTS_UNMATCHED = "EventsUnmatched"
REQUESTS_REFUSED = "RequestsRefused"
PROGRAM_DAYS_EVALUATED = "ProgramDaysEvaluated"
PROGRAM_PLANS_FAILED = "ProgramPlansFailed"  # a program day the planner could not plan (an alarm)
ENROLLMENTS_EVALUATED = "EnrollmentsEvaluated"
ENROLLMENTS_FAILED = "EnrollmentsFailed"
DECISIONS = "Decisions"
NOTICES_SENT = "NoticesSent"
NOTICES_FAILED = "NoticesFailed"
NOTICES_CANCELLED = "NoticesCancelled"  # warnings resolved before sending (delivery/recheck.py)
EMAILS_SENT = "EmailsSent"
EMAILS_FAILED = "EmailsFailed"
DELIVERY_ERRORS = "DeliveryErrors"
SES_SENDING_BLOCKED = "SesSendingBlocked"
EMAILS_SUPPRESSED = "EmailsSuppressed"
SES_EVENTS_RECORDED = "SesEventsRecorded"
SES_EVENTS_IGNORED = "SesEventsIgnored"
SES_EVENTS_UNKNOWN = "SesEventsUnknown"
ADDRESSES_SUPPRESSED = "AddressesSuppressed"
LETTERS_WRITTEN = "LettersWritten"  # letters the morning dispatcher wrote (notices/dispatch.py)
REFUSAL_WINDOWS_REPORTED = "RefusalWindowsReported"  # minute windows of refused webhooks audited
AUDIT_CHECKPOINTS_WRITTEN = "AuditCheckpointsWritten"
AUDIT_CHECKPOINT_RUNS = "AuditCheckpointRuns"  # one per completed hourly run (an alarm when missing)

# Powertools shares one metric set between instances: the wrappers and the handlers' decorators
# add to and flush the same set.
metrics = Metrics()
if metrics.namespace is None:
    metrics.namespace = NAMESPACE
# The console and roster functions count nothing of their own most invocations; Powertools warns
# on every such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish")
tracer = Tracer(patch_modules=("botocore",))


def count(name: str, value: float) -> None:
    """Add ``value`` to the counter ``name`` of this invocation (a zero is not worth a record).

    With ``POWERTOOLS_METRICS_DISABLED`` (the local demo) nothing is added: Powertools would keep
    disabled metrics unflushed and print them anyway once one holds 100 values.
    """
    if value and os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in ("1", "true", "yes", "on"):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


__all__ = [
    "ADDRESSES_SUPPRESSED",
    "DECISIONS",
    "DELIVERY_ERRORS",
    "EMAILS_FAILED",
    "EMAILS_SENT",
    "EMAILS_SUPPRESSED",
    "ENROLLMENTS_EVALUATED",
    "ENROLLMENTS_FAILED",
    "EVENTS_DUPLICATE",
    "EVENTS_INGESTED",
    "EVENTS_UNMATCHED",
    "NAMESPACE",
    "NOTICES_CANCELLED",
    "NOTICES_FAILED",
    "NOTICES_SENT",
    "PROGRAM_DAYS_EVALUATED",
    "REQUESTS_REFUSED",
    "SES_EVENTS_IGNORED",
    "SES_EVENTS_RECORDED",
    "SES_EVENTS_UNKNOWN",
    "SES_SENDING_BLOCKED",
    "count",
    "metrics",
    "tracer",
]
