"""Load a district into a running stack: its program files, its roster, its webhook secret and the
xAPI credentials of its LMS.

``read_district`` reads and checks the files (a mistake is an ``InputFileError`` naming the file
and line) without touching the stack, so a command can refuse bad files before starting it;
``store_district`` writes what was read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from onpace_core.console.directory import sync_directory
from onpace_core.ingest.service import load_identities
from onpace_core.roster.enrollments import EnrollmentRecord, build_enrollments, district_enrollments
from onpace_core.roster.identities import IdentityRow, identity_rows
from onpace_core.roster.oneroster import read_roster
from onpace_core.settings import Settings
from onpace_core.store.enrollments import upsert_enrollments
from onpace_core.store.programs import save_program
from onpace_rules.input_files import InputFileError
from onpace_rules.program import ProgramConfig
from onpace_rules.program_files import load_program_file

from onpace_local.lms.canvas_client import DEFAULT_ROOT_ACCOUNT, CanvasSigner
from onpace_local.lms.credentials import BasicCredentials, caliper_token, create_source_credentials
from onpace_local.stack import LocalStack
from onpace_local.webhook_client import new_secret


@dataclass(frozen=True)
class DistrictFiles:
    """A district's programs and the enrollments its roster gives them, read from files."""

    district_id: str
    programs: tuple[ProgramConfig, ...]
    records: tuple[EnrollmentRecord, ...]
    # Per program, every student enrollment of the roster as that program's (``district_enrollments``):
    # a rule addressed to every family of the district makes its student records from them.
    district: dict[str, tuple[EnrollmentRecord, ...]]
    # The roster's identity map rows (``roster.identities``): saved, then the quarantine re-applied.
    identities: tuple[IdentityRow, ...] = ()


@dataclass(frozen=True)
class LoadedDistrict:
    district_id: str
    programs: tuple[ProgramConfig, ...]
    enrollments: int
    webhook_secret: str
    # HTTP Basic credentials of the district's xAPI endpoint (POST /xapi/statements).
    xapi: BasicCredentials
    # ``Authorization: Bearer <this>`` for POST /caliper/events (docs/ingest.md, "Caliper").
    caliper_token: str = ""


def load_programs(directory: Path) -> list[ProgramConfig]:
    if not directory.is_dir():
        raise InputFileError(directory, "no such directory of program files")
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise InputFileError(directory, "no program files (*.yaml)")
    return [load_program_file(path) for path in files]


def read_district(programs_dir: Path, roster_dir: Path) -> DistrictFiles:
    """The programs of ``programs_dir`` (one district) and their enrollments in ``roster_dir``."""
    programs = load_programs(programs_dir)
    districts = {p.district_id for p in programs}
    if len(districts) != 1:
        raise InputFileError(
            programs_dir, f"programs of one district expected, found {', '.join(sorted(districts))}"
        )
    roster = read_roster(roster_dir)
    records = build_enrollments(roster, programs)
    district = {p.program_id: tuple(district_enrollments(roster, p)) for p in programs}
    return DistrictFiles(
        districts.pop(), tuple(programs), tuple(records), district, tuple(identity_rows(roster))
    )


def store_district(stack: LocalStack, files: DistrictFiles) -> LoadedDistrict:
    """Save the programs, upsert the enrollments, write the console's student directory, create
    the district's webhook secret, its xAPI credentials (one key, ``lms``) and its Caliper
    credential."""
    for program in files.programs:
        save_program(program)
    count = 0
    for program in files.programs:
        mine = [r for r in files.records if r.program_id == program.program_id]
        count += upsert_enrollments(mine, program, files.district[program.program_id])
    now = datetime.now(UTC)
    load_identities(files.district_id, files.identities, origin="roster", now=now)
    # The console's student directory, as the roster import keeps it (Students, names in the log).
    sync_directory(files.district_id, files.records, (), now)
    secret = new_secret()
    settings = Settings.from_env()
    stack.client("secretsmanager").create_secret(
        Name=f"{settings.webhook_secret_prefix}{files.district_id}", SecretString=secret
    )
    (xapi,) = create_source_credentials(stack, files.district_id, "xapi")
    caliper = caliper_token(stack.client("secretsmanager"), files.district_id)
    return LoadedDistrict(files.district_id, files.programs, count, secret, xapi, caliper)


def load_district(stack: LocalStack, programs_dir: Path, roster_dir: Path) -> LoadedDistrict:
    return store_district(stack, read_district(programs_dir, roster_dir))


def store_canvas_receiver(
    stack: LocalStack, district_id: str, accounts: Sequence[str] = (DEFAULT_ROOT_ACCOUNT,)
) -> CanvasSigner:
    """Stand in for Instructure's signing service for one district: a new RSA key pair, whose
    public JWKS goes into the district's Canvas secret (``{prefix}{district}/canvas``) with the
    root ``accounts`` it accepts. Returns the signer that makes the JWTs that secret accepts."""
    signer = CanvasSigner.generate()
    settings = Settings.from_env()
    name = f"{settings.webhook_secret_prefix}{district_id}/canvas"
    value = json.dumps({"jwks": signer.jwks, "accounts": list(accounts)})
    secrets = stack.client("secretsmanager")
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    return signer
