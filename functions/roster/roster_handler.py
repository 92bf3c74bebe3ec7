"""Roster import, invoked by S3 when a zipped OneRoster export lands under ``{district_id}/``
in the roster bucket (``template.yaml``: ``RosterImportFunction``).

Thin: each record of the event is handed to ``onpace_core.roster.s3_import.import_object``;
the summary (counts only, no student data) is logged and returned.

The event is read as the dict S3 sends (bucket name, object key and version id of each record),
not through Powertools' ``S3Event`` data class: importing any data class imports the whole
``utilities.data_classes`` package (about 40 event classes), about a twentieth of ``import
boto3`` at every cold start, for three fields (docs/scale.md, "Cold start").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from onpace_core.observability import metrics, tracer
from onpace_core.settings import get_settings
from onpace_core.store.models import bind_tables

logger = Logger()
settings = get_settings()
bind_tables(settings)
s3 = boto3.client("s3", region_name=settings.aws_region)


def uploaded_objects(event: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """Bucket, key and version id of each object an S3 event notification names.

    Source: the S3 event message structure (Amazon S3 User Guide, "Event message structure"):
    ``Records[].s3.bucket.name``, ``Records[].s3.object.key`` URL-encoded as in an
    ``application/x-www-form-urlencoded`` form (a space arrives as "+"), and
    ``Records[].s3.object.versionId``, absent when the bucket is not versioned."""
    for record in event.get("Records") or []:
        s3_object = record["s3"]["object"]
        yield record["s3"]["bucket"]["name"], unquote_plus(s3_object["key"]), s3_object.get("versionId")


@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The import (OneRoster reader, program configuration, pydantic rows) loads with the first
    # export, not at import (docs/scale.md, "Cold start").
    from onpace_core.roster.s3_import import import_object

    imports = []
    for bucket, key, version_id in uploaded_objects(event):
        found = import_object(s3, bucket, key, now=datetime.now(UTC), version_id=version_id)
        summary = found.as_dict()
        (logger.info if found.outcome == "imported" else logger.warning)("roster export", extra=summary)
        imports.append(summary)
    return {"imports": imports}
