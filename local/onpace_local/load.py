"""``onpace load``: put program files and OneRoster rosters into a deployed OnPace's tables.

    onpace load program PROGRAM.yaml [PROGRAM.yaml ...] [--stack NAME] [--endpoint-url URL] [--region R]
    onpace load roster ROSTER_DIR --program PROGRAM.yaml [--program ...] [--stack NAME] [...]

The tables are the ones the functions use: named by a CloudFormation stack's outputs
(``--stack onpace``), or by the same environment variables the template gives the functions
(``PROGRAMS_TABLE``, ``ENROLLMENTS_TABLE``, ``AUDIT_TABLE``). ``--endpoint-url`` points at another
endpoint (moto server). Every file is read and validated before anything is written.

Loading a program is idempotent (an identical stored program is left alone) and audited
(``program.loaded``); a calendar change or policy version it adds wakes the program's live
enrollments for the day it applies, so the scheduled evaluator recomputes their deadlines then.
Loading a roster (OneRoster 1.1 or 1.2, bulk or delta) runs ``onpace_core.roster.importer``, as
the roster bucket's import does: enrollments upserted (facts and engine state kept, so loading
it again changes nothing but the roster fields), deletions and enrollments a bulk export no
longer lists ended, every bad row listed and the good ones imported; each load is audited.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from onpace_core.audit import keys as audit_keys
from onpace_core.audit.log import AuditEntry, append
from onpace_core.ingest.identity import read_mappings_file
from onpace_core.ingest.service import load_identities
from onpace_core.roster.identities import IdentityRow
from onpace_core.roster.importer import (
    MAX_END_FRACTION,
    NothingToImportError,
    RosterImport,
    check_importable,
    import_roster,
)
from onpace_core.roster.oneroster import read_roster
from onpace_core.settings import Settings
from onpace_core.store.models import ALL_MODELS, AuditModel, EnrollmentModel, ProgramModel, bind_tables
from onpace_core.store.programs import (
    LOAD_ACTOR,
    ProgramChangedError,
    ProgramLoad,
    applies_from,
    config_sha256,
    describe_change,
    load_program,
    stored_config_json,
)
from onpace_rules.input_files import InputFileError
from onpace_rules.program import ProgramConfig
from onpace_rules.program_files import load_program_file
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

Progress = Callable[[str], None]

# Stack outputs of template.yaml -> Settings fields (the functions get the same names as env vars).
STACK_OUTPUTS = {
    "EventsTableName": "events_table",
    "EnrollmentsTableName": "enrollments_table",
    "OutboxTableName": "outbox_table",
    "AuditTableName": "audit_table",
    "ProgramsTableName": "programs_table",
    # The audit chain's key (every load is audited) and its checkpoints (``onpace audit verify``).
    "AuditChainKeyArn": "audit_chain_key",
    "AuditCheckpointKeyArn": "audit_checkpoint_key",
    "AuditCheckpointBucketName": "audit_checkpoint_bucket",
}
# The tables a load writes; without --stack their names must come from the environment, because
# Settings' defaults are not the names CloudFormation gives a deployed stack's tables.
REQUIRED_ENV = ("PROGRAMS_TABLE", "ENROLLMENTS_TABLE", "AUDIT_TABLE")
_WRITTEN: tuple[type[Model], ...] = (ProgramModel, EnrollmentModel, AuditModel)


class LoadInputError(ValueError):
    """An option, or what the files hold together, is wrong: nothing was written.

    A mistake inside one file is an ``InputFileError`` (file, line, problem) instead.
    """


class DeploymentError(RuntimeError):
    """The deployment could not be found or reached, or refused a write."""


# -- where to write ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The deployment a load writes to."""

    settings: Settings
    endpoint_url: str | None  # the tables' endpoint
    origin: str  # how the table names were found, for the progress output
    aws_endpoint_url: str | None = None  # the other services' (KMS, S3), when not AWS's own

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"tables from {self.origin} in {self.settings.aws_region}{where}"


def _region(region: str | None, env: Mapping[str, str]) -> str:
    found = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or boto3.Session().region_name
    if not found:
        raise LoadInputError("no AWS region: pass --region or set AWS_REGION")
    return found


def _stack_tables(stack: str, region: str, endpoint_url: str | None) -> dict[str, str]:
    client = boto3.client("cloudformation", region_name=region, endpoint_url=endpoint_url)
    try:
        (described,) = client.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        raise DeploymentError(f"stack {stack!r} in {region}: {exc.response['Error']['Message']}") from exc
    except BotoCoreError as exc:
        raise DeploymentError(f"cannot read stack {stack!r} in {region}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = sorted(key for key in STACK_OUTPUTS if key not in outputs)
    if missing:
        raise DeploymentError(
            f"stack {stack!r} has no output(s) {', '.join(missing)}: is it an OnPace stack (template.yaml)?"
        )
    return {field: outputs[key] for key, field in STACK_OUTPUTS.items()}


def resolve_target(
    *, stack: str | None, endpoint_url: str | None, region: str | None, env: Mapping[str, str]
) -> Target:
    """The deployment named by ``--stack``, else by the functions' environment variables."""
    region = _region(region, env)
    endpoint = endpoint_url or env.get("AWS_ENDPOINT_URL") or None
    # The tables' own endpoint, as botocore picks it: the flag, else DynamoDB's variable, else the
    # general one (the local stack can serve DynamoDB from dynalite beside moto's other services).
    tables_endpoint = endpoint_url or env.get("AWS_ENDPOINT_URL_DYNAMODB") or endpoint
    settings = dataclasses.replace(Settings.from_env(env), aws_region=region)
    if stack:
        tables: dict[str, Any] = dict(_stack_tables(stack, region, endpoint))
        return Target(dataclasses.replace(settings, **tables), tables_endpoint, f"stack {stack}", endpoint)
    missing = [name for name in REQUIRED_ENV if not env.get(name)]
    if missing:
        raise LoadInputError(
            "which deployment? pass --stack NAME (the table names are read from the stack's outputs), "
            f"or set {', '.join(missing)} to the table names the functions use"
        )
    return Target(settings, tables_endpoint, "the environment", endpoint)


@contextmanager
def bound(target: Target) -> Iterator[None]:
    """Point the table models at ``target`` for the block, then back where they were."""
    # pynamodb types each model's Meta as the class in models.py, which declares only table_name.
    metas: list[Any] = [model.Meta for model in ALL_MODELS]
    saved = [(meta.table_name, meta.region, meta.host) for meta in metas]
    bind_tables(target.settings)
    _set_host(target.endpoint_url)
    audit_keys.bind(target.settings, target.aws_endpoint_url)
    try:
        yield
    finally:
        audit_keys.bind(None)
        for model, meta, (table, region, host) in zip(ALL_MODELS, metas, saved, strict=True):
            meta.table_name, meta.region, meta.host = table, region, host
            _forget_connection(model)


def _set_host(endpoint_url: str | None) -> None:
    for model in ALL_MODELS:
        meta: Any = model.Meta
        meta.host = endpoint_url
        _forget_connection(model)


def _forget_connection(model: type[Model]) -> None:
    # pynamodb caches a connection per model and index; a new binding must not reuse it.
    model._connection = None
    for index in model._indexes.values():
        index._connection = None  # type: ignore[attr-defined]


def check_tables(target: Target) -> None:
    """Fail early, with the table's name, if a table to write is missing or unreachable."""
    for model in _WRITTEN:
        name = model.Meta.table_name
        try:
            found = model.exists()
        except PynamoDBException as exc:
            raise DeploymentError(f"cannot reach DynamoDB ({target.describe()}): {exc.cause or exc}") from exc
        if not found:
            raise DeploymentError(f"table {name!r} does not exist ({target.describe()})")


# -- reading files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramFile:
    path: Path
    config: ProgramConfig
    sha256: str


def read_program_files(paths: Sequence[Path]) -> list[ProgramFile]:
    """Read and validate every file (all before any write); one program per file, each once.

    A file that is missing or wrong raises ``InputFileError`` (``ProgramFileError``).
    """
    files: list[ProgramFile] = []
    seen: dict[str, Path] = {}
    for path in paths:
        config = load_program_file(path)
        if config.key in seen:
            raise InputFileError(path, f"program {config.key} is also in {seen[config.key]}")
        seen[config.key] = path
        files.append(ProgramFile(path, config, hashlib.sha256(path.read_bytes()).hexdigest()))
    return files


def _roster_sha256(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.glob("*.csv"))}


# -- programs ----------------------------------------------------------------------------------


def _report_program(load: ProgramLoad, file: ProgramFile, progress: Progress) -> None:
    key = load.config.key
    if load.outcome == "unchanged":
        progress(f"{key}: unchanged (same as the stored program), nothing written")
        return
    progress(
        f"{key}: {load.outcome}, policy {load.config.policy_version} from {file.path.name} "
        f"(sha256 {file.sha256[:12]}), audit entry #{load.audit_seq}"
    )
    for change in load.added_changes:
        progress(f"  calendar change from {applies_from(change).isoformat()}: {describe_change(change)}")
    for version in load.added_versions:
        progress(f"  policy version {version.version} in force from {version.effective.isoformat()}")
    if load.wake_on is not None:
        progress(
            f"  {load.woken} live enrollment(s) brought forward to be re-evaluated on "
            f"{load.wake_on.isoformat()} (any other live ones are due by then already)"
        )


def load_program_files(
    files: Sequence[ProgramFile], target: Target, now: datetime, progress: Progress
) -> list[ProgramLoad]:
    """Store each program in ``target`` (see ``onpace_core.store.programs.load_program``)."""
    loads = []
    with bound(target):
        check_tables(target)
        progress(f"writing to {target.describe()}")
        for file in files:
            try:
                load = load_program(file.config, source=file.path.name, source_sha256=file.sha256, now=now)
            except ProgramChangedError as exc:
                raise DeploymentError(str(exc)) from exc
            except PynamoDBException as exc:
                raise DeploymentError(f"{file.config.key}: {exc.cause or exc}") from exc
            _report_program(load, file, progress)
            loads.append(load)
    return loads


# -- rosters -----------------------------------------------------------------------------------


def _check_deployed(files: Sequence[ProgramFile]) -> None:
    """The roster is matched with the program as the evaluator will see it: it must be the stored one."""
    for file in files:
        stored = stored_config_json(file.config.district_id, file.config.program_id)
        if stored is None:
            raise LoadInputError(
                f"{file.config.key} is not loaded: run `onpace load program {file.path}` first"
            )
        if stored != file.config.model_dump_json():
            deployed = ProgramConfig.model_validate_json(stored)
            raise LoadInputError(
                f"{file.path} differs from the loaded {file.config.key} (file: policy "
                f"{file.config.policy_version}, sha256 {config_sha256(file.config)[:12]}; loaded: policy "
                f"{deployed.policy_version}, sha256 {config_sha256(deployed)[:12]}): "
                f"run `onpace load program {file.path}` first"
            )


def load_roster_dir(
    directory: Path,
    files: Sequence[ProgramFile],
    target: Target,
    now: datetime,
    progress: Progress,
    *,
    allow_mass_ending: bool = False,
) -> RosterImport:
    """Import the export in ``directory`` for the programs of ``files`` (``import_roster``):
    upserts, ends what the export deletes (and, for a bulk enrollments.csv, what it no longer
    lists), reports every bad row; one ``roster.loaded`` audit entry.

    An export that cannot be read as a whole raises ``InputFileError`` (``RosterError``); bad
    rows are reported in the result and the good ones imported.
    """
    districts = {f.config.district_id for f in files}
    if len(districts) != 1:
        raise LoadInputError(f"programs of one district expected, found {', '.join(sorted(districts))}")
    configs = [f.config for f in files]
    roster = read_roster(directory, strict=False)
    try:
        check_importable(roster, configs)
    except NothingToImportError as exc:
        raise LoadInputError(str(exc)) from exc
    progress(
        f"{directory}: OneRoster {roster.version} export"
        + ("" if roster.manifest.present else " (no manifest.csv: every file read as bulk)")
        + ": "
        + ", ".join(f"{name} {n} row(s) ({roster.mode(name)})" for name, n in roster.rows_read.items())
    )
    if roster.problems:
        # Before anything is written, so they are seen even if the deployment cannot be reached.
        progress(f"{len(roster.problems)} bad row(s), left out (the other rows are imported):")
        for problem in roster.problems:
            progress(f"  {problem}")
    with bound(target):
        check_tables(target)
        progress(f"writing to {target.describe()}")
        try:
            _check_deployed(files)
            result = import_roster(
                roster,
                configs,
                now=now,
                files_sha256=_roster_sha256(directory),
                actor=LOAD_ACTOR,
                progress=progress,
                max_end_fraction=None if allow_mass_ending else MAX_END_FRACTION,
            )
        except NothingToImportError as exc:
            raise LoadInputError(str(exc)) from exc
        except PynamoDBException as exc:
            raise DeploymentError(f"{directory}: {exc.cause or exc}") from exc
    report_import(result, progress)
    return result


def report_import(result: RosterImport, progress: Progress) -> None:
    """The summary a person reads after a roster load: ended enrollments, every bad row, and
    the enrollments no notice can reach."""
    progress(result.summary())
    progress(f"bulk re-load: {result.bulk_ending}")
    if result.kept_unread:
        progress(f"  {result.kept_unread} stored enrollment(s) kept as they were: their rows are bad")
    for key, why in result.ended.items():
        progress(f"  ended {key}: {why}")
    placed = result.problems[len(result.problems) - result.unplaced :] if result.unplaced else ()
    if placed:
        progress(f"{len(placed)} enrollment(s) with no start date, left out:")
        for problem in placed:
            progress(f"  {problem}")
    if result.no_contact:
        progress(
            f"{len(result.no_contact)} enrollment(s) with no contact address (no student or guardian email):"
        )
        for missing in result.no_contact:
            progress(f"  {missing.enrollment_key}")
    if result.other_schools:
        progress(f"{result.other_schools} student enrollment(s) of the export belong to other schools")
    progress(f"audit entry #{result.audit_seq}")


# -- identity mappings -------------------------------------------------------------------------


def read_mappings(path: Path) -> list[IdentityRow]:
    """An admin's mappings CSV, checked (``InputFileError`` names the file and line)."""
    return read_mappings_file(path)


def load_mappings(
    path: Path,
    rows: Sequence[IdentityRow],
    district_id: str,
    target: Target,
    now: datetime,
    progress: Progress,
) -> int:
    """Save an admin's identity mappings (read by ``read_mappings``) and re-apply the district's
    quarantined events; returns how many were re-applied. One ``identity.mapped`` audit entry."""
    with bound(target):
        progress(f"writing to {target.describe()}")
        try:
            saved, reapplied = load_identities(district_id, rows, origin="admin", now=now)
            append(
                district_id,
                [
                    AuditEntry(
                        type="identity.mapped",
                        actor=LOAD_ACTOR,
                        summary=(
                            f"{saved} identity mapping(s) loaded from {path.name}; "
                            f"{reapplied} event(s) re-applied"
                        ),
                        detail={"source": path.name, "rows": saved, "reapplied": reapplied},
                    )
                ],
                now=now,
            )
        except PynamoDBException as exc:
            raise DeploymentError(f"{path}: {exc.cause or exc}") from exc
    progress(f"{saved} mapping row(s) saved; {reapplied} quarantined event(s) re-applied")
    return reapplied
