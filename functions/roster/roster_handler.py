"""Roster import, invoked by S3 when a zipped OneRoster export lands under ``{district_id}/``
in the roster bucket (``template.yaml``: ``RosterImportFunction``).

Thin: each record of the event is handed to ``onpace_core.roster.s3_import.import_object``;
the summary (counts only, no student data) is logged and returned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.observability import metrics, tracer
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

logger = Logger()
settings = get_settings()
bind_tables(settings)
s3 = boto3.client("s3", region_name=settings.aws_region)


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    # The import (OneRoster reader, program configuration, pydantic rows) loads with the first
    # export, not at import (docs/scale.md, "Cold start").
    from onpace_core.roster.s3_import import import_object

    imports = []
    for record in event.records:
        found = import_object(
            s3,
            record.s3.bucket.name,
            # S3 event keys are URL-encoded (a space arrives as "+"); this version of Powertools
            # hands them over as sent.
            unquote_plus(record.s3.get_object.key),
            now=datetime.now(UTC),
            version_id=record.s3.get_object.version_id,
        )
        summary = found.as_dict()
        (logger.info if found.outcome == "imported" else logger.warning)("roster export", extra=summary)
        imports.append(summary)
    return {"imports": imports}
