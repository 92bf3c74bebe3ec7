"""Program configurations in DynamoDB: stored by ``onpace load program`` (or the demo), read by evaluate.

A program item also carries ``calendar_changes_audited``: the ids of the calendar changes whose
application the evaluator has audited. It is written only in the same transaction as that audit
entry, which is what makes the entry exactly-once across re-runs, and program writes are updates
so that a reload keeps it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from onpace_rules.program import CalendarChange, PolicyVersion, ProgramConfig
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from onpace_core.audit.log import AuditEntry, Claim, append_claimed
from onpace_core.store.enrollments import due_key
from onpace_core.store.models import TIME_ZONES_PARTITION, EnrollmentModel, ProgramModel, TimeZoneModel

AUDITED_CHANGES = ProgramModel.calendar_changes_audited.attr_name
LOAD_ACTOR = "load"


class ProgramChangedError(RuntimeError):
    """The stored program changed between reading it and writing the new one."""


# -- plain storage ---------------------------------------------------------------------------------


def _fields(config: ProgramConfig) -> list[Action]:
    return [
        ProgramModel.program_key.set(config.key),
        ProgramModel.time_zone.set(config.time_zone),
        ProgramModel.policy_version.set(config.policy_version),
        ProgramModel.config.set(config.model_dump_json()),
    ]


def register_time_zone(time_zone: str) -> None:
    """Note that some program's days begin in ``time_zone`` (idempotent: a put of the same item)."""
    TimeZoneModel(TIME_ZONES_PARTITION, time_zone).save()


def program_time_zones() -> list[str]:
    """Every time zone a stored program uses (one Query): what the hourly planner looks at."""
    return [z.program_id for z in TimeZoneModel.query(TIME_ZONES_PARTITION)]


def save_program(config: ProgramConfig) -> None:
    """Store ``config`` as is, without an audit entry (the demo's and the tests' set-up)."""
    register_time_zone(config.time_zone)
    ProgramModel(config.district_id, config.program_id).update(actions=_fields(config))


def programs_in_time_zone(time_zone: str) -> list[ProgramConfig]:
    """Every program whose days begin in ``time_zone`` (what one evaluation of that zone plans)."""
    return [ProgramConfig.model_validate_json(p.config) for p in ProgramModel.by_time_zone.query(time_zone)]


def get_program(district_id: str, program_id: str) -> ProgramConfig:
    return ProgramConfig.model_validate_json(ProgramModel.get(district_id, program_id).config)


def district_programs(district_id: str) -> list[ProgramConfig]:
    """Every program of the district: one Query of its partition."""
    return [ProgramConfig.model_validate_json(p.config) for p in ProgramModel.query(district_id)]


def stored_config_json(district_id: str, program_id: str) -> str | None:
    """The stored configuration exactly as written (JSON), or ``None`` if the program is not stored."""
    try:
        return ProgramModel.get(district_id, program_id, consistent_read=True).config
    except ProgramModel.DoesNotExist:
        return None


def config_sha256(config: ProgramConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()


# -- calendar changes ------------------------------------------------------------------------------


def applies_from(change: CalendarChange) -> date:
    """The first evaluation day that sees ``change`` (``ProgramCalendar.changes_announced_on``)."""
    return change.announced + timedelta(days=1)


def change_id(change: CalendarChange) -> str:
    """Identifies a change by its announcement and its days; a reworded reason is the same change."""
    days = {
        "closed": sorted(d.isoformat() for d in change.closed),
        "opened": sorted(d.isoformat() for d in change.opened),
    }
    digest = hashlib.sha256(json.dumps(days, sort_keys=True).encode()).hexdigest()[:16]
    return f"{change.announced.isoformat()}/{digest}"


def describe_change(change: CalendarChange) -> str:
    parts = []
    if change.closed:
        parts.append("closes " + ", ".join(d.isoformat() for d in sorted(change.closed)))
    if change.opened:
        parts.append("opens " + ", ".join(d.isoformat() for d in sorted(change.opened)))
    what = " and ".join(parts) or "changes no day"
    return f"{what} ({change.reason}; announced {change.announced.isoformat()})"


def change_detail(change: CalendarChange) -> dict[str, object]:
    return {
        "id": change_id(change),
        "announced": change.announced.isoformat(),
        "applies_from": applies_from(change).isoformat(),
        "closed": sorted(d.isoformat() for d in change.closed),
        "opened": sorted(d.isoformat() for d in change.opened),
        "reason": change.reason,
    }


def audited_change_ids(district_id: str, program_id: str) -> frozenset[str]:
    """Ids of the calendar changes whose application is already in the audit log."""
    try:
        item = ProgramModel.get(
            district_id, program_id, consistent_read=True, attributes_to_get=[AUDITED_CHANGES]
        )
    except ProgramModel.DoesNotExist:
        return frozenset()
    return frozenset(item.calendar_changes_audited or ())


def calendar_audit_claim(config: ProgramConfig, changes: list[CalendarChange]) -> Claim:
    """Marks ``changes`` audited on the program item; fails if any already is (a re-run)."""
    ids = sorted(change_id(c) for c in changes)
    audited = Path(AUDITED_CHANGES)
    condition: Condition = ProgramModel.program_id.exists()
    for identifier in ids:
        condition &= ~audited.contains(identifier)
    return Claim(
        item=ProgramModel(config.district_id, config.program_id),
        actions=[audited.add({"SS": ids})],
        condition=condition,
    )


# -- loading a program file ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramLoad:
    """What loading one program did."""

    config: ProgramConfig
    outcome: Literal["new", "changed", "unchanged"]
    added_changes: tuple[CalendarChange, ...] = ()
    added_versions: tuple[PolicyVersion, ...] = ()
    wake_on: date | None = None  # live subjects are looked at again from this day
    woken: int = 0
    audit_seq: int | None = None


def _added_changes(config: ProgramConfig, previous: ProgramConfig | None) -> tuple[CalendarChange, ...]:
    known = {change_id(c) for c in previous.calendar.changes} if previous else set()
    return tuple(c for c in config.calendar.changes if change_id(c) not in known)


def _added_versions(config: ProgramConfig, previous: ProgramConfig | None) -> tuple[PolicyVersion, ...]:
    known = {v.model_dump_json() for v in previous.versions} if previous else set()
    return tuple(v for v in config.versions if v.model_dump_json() not in known)


def wake_live_subjects(config: ProgramConfig, day: date) -> int:
    """Bring the wake date of every live subject of ``config`` forward to ``day``; returns how many moved.

    The engine wakes every live subject on the day a change applies only if it knew the change
    when it set the wake date; a change loaded later needs this to be seen on time.
    """
    moved = 0
    live = EnrollmentModel.status.is_in("active", "held") | EnrollmentModel.status.does_not_exist()
    for shard in range(config.evaluation_shards):
        # Keys only (the index projects nothing else): the update below is by key and conditional.
        for item in EnrollmentModel.due_index.query(
            due_key(config.district_id, config.program_id, shard),
            range_key_condition=EnrollmentModel.wake_on > day.isoformat(),
        ):
            try:
                item.update(
                    actions=[EnrollmentModel.wake_on.set(day.isoformat()), EnrollmentModel.facts_seq.add(1)],
                    condition=live & (EnrollmentModel.wake_on > day.isoformat()),
                )
            except UpdateError as exc:
                # Evaluated to an earlier date, or ended, since the index was read: nothing to do.
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
                continue
            moved += 1
    return moved


def _load_entry(
    load: ProgramLoad, source: str, source_sha256: str, previous: ProgramConfig | None, today: date
) -> AuditEntry:
    from onpace_rules.engine import compile_program  # not at a cold start: every rule

    config = load.config
    in_force = compile_program(config).version_on(today).config.policy_version
    verb = "loaded" if previous is None else "reloaded"
    summary = f"Program {config.name} {verb} from {source} (policy {in_force})"
    if load.added_changes:
        summary += "; calendar: " + "; ".join(describe_change(c) for c in load.added_changes)
    if load.wake_on is not None:
        summary += f"; {load.woken} live enrollment(s) woken to be re-evaluated on {load.wake_on.isoformat()}"
    return AuditEntry(
        type="program.loaded",
        actor=LOAD_ACTOR,
        summary=summary,
        on=today,
        policy_version=in_force,
        program_id=config.program_id,
        detail={
            "source": source,
            "source_sha256": source_sha256,
            "config_sha256": config_sha256(config),
            "policy_versions": [config.policy_version, *(v.version for v in config.versions)],
            "previous_policy_version": previous.policy_version if previous else None,
            "previous_config_sha256": config_sha256(previous) if previous else None,
            "calendar_changes_added": [change_detail(c) for c in load.added_changes],
            "versions_added": [
                {"version": v.version, "effective": v.effective.isoformat()} for v in load.added_versions
            ],
            "wake_on": load.wake_on.isoformat() if load.wake_on else None,
            "subjects_woken": load.woken,
        },
    )


def load_program(config: ProgramConfig, *, source: str, source_sha256: str, now: datetime) -> ProgramLoad:
    """Store ``config`` with a ``program.loaded`` audit entry, unless the stored one is identical.

    Calendar changes and policy versions the stored program did not have wake every live subject
    on the first day they apply, so the evaluator recomputes deadlines and wake dates then (and
    audits the calendar change). The program write and its audit entry are one transaction,
    conditional on the stored program being the one read here: two loads never lose each other.
    """
    # Before the "unchanged" answer: loading the files again is how a deployment from before the
    # time-zone list fills it.
    register_time_zone(config.time_zone)
    stored = stored_config_json(config.district_id, config.program_id)
    if stored == config.model_dump_json():
        return ProgramLoad(config, "unchanged")
    previous = ProgramConfig.model_validate_json(stored) if stored is not None else None
    added_changes = _added_changes(config, previous)
    added_versions = _added_versions(config, previous)
    starts = [applies_from(c) for c in added_changes] + [v.effective for v in added_versions]
    wake_on = min(starts, default=None)
    # Waking first is safe on its own (an early look under the stored program decides only what is
    # due anyway); the other order could leave a stored change that nobody wakes for if the load
    # stopped in between, since loading the file again would find it unchanged.
    woken = wake_live_subjects(config, wake_on) if wake_on is not None else 0
    load = ProgramLoad(
        config,
        "new" if previous is None else "changed",
        added_changes=added_changes,
        added_versions=added_versions,
        wake_on=wake_on,
        woken=woken,
    )
    today = config.build_calendar().local_date(now)
    entry = _load_entry(load, source, source_sha256, previous, today)
    unchanged: Condition = (
        ProgramModel.program_id.does_not_exist() if stored is None else ProgramModel.config == stored
    )
    claim = Claim(
        item=ProgramModel(config.district_id, config.program_id), actions=_fields(config), condition=unchanged
    )
    written = append_claimed(config.district_id, entry, claim, now)
    if written is None:
        raise ProgramChangedError(
            f"{config.key}: the stored program changed while this load was running; load it again"
        )
    return replace(load, audit_seq=int(written.seq))
