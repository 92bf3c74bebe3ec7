"""Program configurations in DynamoDB: saved by ``onpace programs load``, read by the evaluator."""

from __future__ import annotations

from onpace_rules.program import ProgramConfig

from onpace_core.store.models import ProgramModel


def save_program(config: ProgramConfig) -> None:
    ProgramModel(
        district_id=config.district_id,
        program_id=config.program_id,
        program_key=config.key,
        time_zone=config.time_zone,
        policy_version=config.policy_version,
        config=config.model_dump_json(),
    ).save()


def programs_in_time_zone(time_zone: str) -> list[ProgramConfig]:
    """Every program whose days begin in ``time_zone`` (what one daily schedule evaluates)."""
    return [ProgramConfig.model_validate_json(p.config) for p in ProgramModel.by_time_zone.query(time_zone)]


def get_program(district_id: str, program_id: str) -> ProgramConfig:
    return ProgramConfig.model_validate_json(ProgramModel.get(district_id, program_id).config)
