"""Import a zipped OneRoster export dropped in the roster bucket under ``{district_id}/``.

The same import as ``onpace load roster`` (``roster.importer.import_roster``) for every program
the district has stored. Why a zip, not a folder of CSV files: a folder arrives one object at a
time, and an import started by its first file (or by ``manifest.csv``) could read an export
half uploaded; a zip is one object, whole when its event fires.

An export that cannot be read at all (not a zip, no manifest version, a file the manifest lists
missing) is refused with a ``roster.refused`` audit entry: retrying cannot fix it, so the
function returns instead of raising. Storage errors raise (Lambda retries the event).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from onpace_rules.program import ProgramConfig

from onpace_core.audit.log import AuditEntry, append
from onpace_core.roster.export import RosterError, ZipExport
from onpace_core.roster.importer import NothingToImportError, RosterImport, import_roster
from onpace_core.roster.oneroster import read_export
from onpace_core.store.programs import district_programs

ACTOR = "roster-import"
# A zip this large (compressed) is refused before it is read into memory.
MAX_ZIP_BYTES = 256 * 1024 * 1024
_DISTRICT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class S3Reader(Protocol):
    """What the import needs of an S3 client (boto3's, or a test's)."""

    def get_object(self, **kwargs: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class S3Import:
    key: str
    district_id: str | None
    outcome: str  # imported | refused | ignored
    message: str
    result: RosterImport | None = None

    def as_dict(self) -> dict[str, object]:
        """What the function logs and returns: counts, never names or addresses."""
        found: dict[str, object] = {
            "key": self.key,
            "district_id": self.district_id,
            "outcome": self.outcome,
            "detail": self.message,
        }
        if self.result is not None:
            found |= {
                "upserted": self.result.upserted,
                "ended": len(self.result.ended),
                "bad_rows": len(self.result.problems),
                "no_contact_address": len(self.result.no_contact),
                "audit_seq": self.result.audit_seq,
            }
        return found


def district_of(key: str) -> str | None:
    """The district a key is for: its first path segment (``riverbend/2026-08-20.zip``)."""
    first, slash, rest = key.partition("/")
    return first if slash and rest and _DISTRICT.fullmatch(first) else None


def _read(s3: S3Reader, bucket: str, key: str, version_id: str | None) -> bytes:
    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id  # the upload that fired the event, not a later one
    response = s3.get_object(**request)
    if int(response.get("ContentLength", 0)) > MAX_ZIP_BYTES:
        raise RosterError(key, f"larger than {MAX_ZIP_BYTES // 2**20} MB")
    body: bytes = response["Body"].read()
    return body


def _refuse(district_id: str, configs: list[ProgramConfig], key: str, problem: str, now: datetime) -> None:
    entry = AuditEntry(
        type="roster.refused",
        actor=ACTOR,
        summary=f"Roster export {key} refused: {problem.splitlines()[0]}",
        on=configs[0].build_calendar().local_date(now),
        detail={"source": key, "problem": problem},
    )
    append(district_id, [entry], now=now)


def import_object(
    s3: S3Reader, bucket: str, key: str, *, now: datetime, version_id: str | None = None
) -> S3Import:
    """Import the zipped export at ``key`` for the district its key names (see the module)."""
    district_id = district_of(key)
    if district_id is None:
        return S3Import(key, None, "ignored", "not under a {district_id}/ prefix")
    configs = district_programs(district_id)
    if not configs:
        # No audit chain is started for a prefix no district owns.
        return S3Import(key, district_id, "ignored", f"district {district_id} has no program loaded")
    try:
        data = _read(s3, bucket, key, version_id)
        export = ZipExport.from_bytes(key, data)
        roster = read_export(export)
        sha256 = {"zip": hashlib.sha256(data).hexdigest()}
        result = import_roster(roster, configs, now=now, files_sha256=sha256, actor=ACTOR)
    except (RosterError, NothingToImportError) as exc:
        _refuse(district_id, configs, key, str(exc), now)
        return S3Import(key, district_id, "refused", str(exc).splitlines()[0])
    return S3Import(key, district_id, "imported", result.summary(), result)
