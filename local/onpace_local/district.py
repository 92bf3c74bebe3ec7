"""Load a district into a running stack: its program files, its roster, its webhook secret."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from onpace_core.roster.enrollments import build_enrollments, district_enrollments
from onpace_core.roster.oneroster import read_roster
from onpace_core.settings import Settings
from onpace_core.store.enrollments import upsert_enrollments
from onpace_core.store.programs import save_program
from onpace_rules.program import ProgramConfig
from onpace_rules.program_files import load_program_file

from onpace_local.stack import LocalStack
from onpace_local.webhook_client import new_secret


@dataclass(frozen=True)
class LoadedDistrict:
    district_id: str
    programs: tuple[ProgramConfig, ...]
    enrollments: int
    webhook_secret: str


def load_programs(directory: Path) -> list[ProgramConfig]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"{directory}: no program files (*.yaml)")
    return [load_program_file(path) for path in files]


def load_district(stack: LocalStack, programs_dir: Path, roster_dir: Path) -> LoadedDistrict:
    programs = load_programs(programs_dir)
    districts = {p.district_id for p in programs}
    if len(districts) != 1:
        raise ValueError(f"{programs_dir}: programs of one district expected, found {sorted(districts)}")
    district_id = districts.pop()
    for program in programs:
        save_program(program)
    roster = read_roster(roster_dir)
    records = build_enrollments(roster, programs)
    count = 0
    for program in programs:
        mine = [r for r in records if r.program_id == program.program_id]
        count += upsert_enrollments(mine, program, district_enrollments(roster, program))
    secret = new_secret()
    settings = Settings.from_env()
    stack.client("secretsmanager").create_secret(
        Name=f"{settings.webhook_secret_prefix}{district_id}", SecretString=secret
    )
    return LoadedDistrict(district_id, tuple(programs), count, secret)
