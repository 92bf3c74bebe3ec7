"""Read a program configuration file (YAML) and validate it, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from onpace_rules.engine import compile_program
from onpace_rules.program import ProgramConfig


class ProgramFileError(ValueError):
    pass


def load_program_file(path: Path) -> ProgramConfig:
    """Parse, validate and compile-check one program file; raises ProgramFileError."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProgramFileError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ProgramFileError(f"{path}: expected a mapping of program settings")
    try:
        config = ProgramConfig.model_validate(data)
        compile_program(config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ProgramFileError(f"{path}: {problems}") from exc
    except ValueError as exc:
        raise ProgramFileError(f"{path}: {exc}") from exc
    return config
