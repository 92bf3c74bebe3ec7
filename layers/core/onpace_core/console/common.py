"""What the console's domain modules share: district-scoped keys, programs, audit reads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from onpace_rules.program import ProgramConfig

from onpace_core.store.models import AuditModel, EnrollmentModel
from onpace_core.store.programs import district_programs as stored_programs

BATCH_GET = 100  # keys per BatchGetItem (DynamoDB's limit)


class NotInDistrict(LookupError):
    """The reference names nothing of the caller's district (another district's included)."""


def own_key(district_id: str, key: str) -> str:
    """``key`` when it is one of ``district_id``'s enrollment keys, else ``NotInDistrict``.

    Keys start with the district id and district ids cannot contain ``#`` (the console's access
    rules), so the prefix is the district."""
    if not key.startswith(f"{district_id}#") or key.count("#") != 2:
        raise NotInDistrict(key)
    return key


def district_programs(district_id: str) -> list[ProgramConfig]:
    """The district's programs: one Query of its partition of the Programs table."""
    if not district_id or "#" in district_id:  # "#time-zones" is the planner's partition
        raise NotInDistrict(district_id)
    return stored_programs(district_id)


def local_today(config: ProgramConfig, now: datetime) -> date:
    """The program's calendar date at ``now``."""
    return now.astimezone(ZoneInfo(config.time_zone)).date()


def batch_items(keys: Iterable[str], attributes: list[str] | None = None) -> dict[str, EnrollmentModel]:
    """Enrollment items by key, ⌈n/100⌉ BatchGetItem."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, EnrollmentModel] = {}
    for start in range(0, len(wanted), BATCH_GET):
        for item in EnrollmentModel.batch_get(
            wanted[start : start + BATCH_GET], attributes_to_get=attributes
        ):
            found[item.enrollment_key] = item
    return found


def student_entries(district_id: str, student_id: str) -> Iterator[AuditModel]:
    """The student's audit entries oldest first: Query of ``by_student`` (its 1 MB pages)."""
    return iter(AuditModel.by_student.query(f"{district_id}#{student_id}", scan_index_forward=True))


def detail_of(entry: AuditModel) -> dict[str, Any]:
    """An entry's ``detail`` JSON as a dict (``{}`` when it is not an object)."""
    try:
        value = json.loads(entry.detail or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
