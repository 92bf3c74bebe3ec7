"""The functions' settings: read from the environment, checked, and naming the variable at fault."""

from __future__ import annotations

import dataclasses

import pytest
from onpace_core.settings import Settings, SettingsError, env_names


def test_defaults_when_the_environment_sets_nothing() -> None:
    settings = Settings.from_env({})
    assert settings.events_table == "onpace-events"
    assert settings.raw_event_ttl_days == 30 and settings.raw_archive_days == 400
    assert settings.evaluation_shard_size == 500
    assert settings.evaluation_max_receives == 4
    assert settings.evaluate_queue_url == ""


def test_each_field_from_its_upper_case_variable_and_others_ignored() -> None:
    env = {
        "EVENTS_TABLE": "stack-Events-1",
        "SENDER_ADDRESS": "a@b.example",
        "RAW_EVENT_TTL_DAYS": "30",
        "EVALUATION_SHARD_SIZE": " 2000 ",
        "AWS_REGION": "eu-west-1",
        "PATH": "/bin",
        "events_table": "lower case is not read",
    }
    settings = Settings.from_env(env)
    assert settings.events_table == "stack-Events-1"
    assert settings.sender_address == "a@b.example"
    assert settings.raw_event_ttl_days == 30
    assert settings.evaluation_shard_size == 2000
    assert settings.aws_region == "eu-west-1"


def test_env_names_are_the_upper_case_field_names() -> None:
    names = env_names()
    assert {"EVENTS_TABLE", "EVALUATE_QUEUE_URL", "EVALUATION_MAX_RECEIVES", "AWS_REGION"} <= names
    assert len(names) == len(dataclasses.fields(Settings))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAW_EVENT_TTL_DAYS": "forty"}, "RAW_EVENT_TTL_DAYS must be an integer, got 'forty'"),
        ({"RAW_EVENT_TTL_DAYS": "0"}, "RAW_EVENT_TTL_DAYS must be at least 1, got 0"),
        (
            {"EVALUATION_SHARD_SIZE": "2001"},
            "EVALUATION_SHARD_SIZE must be at least 1 and at most 2000, got 2001",
        ),
        ({"EVALUATION_MAX_RECEIVES": "-1"}, "EVALUATION_MAX_RECEIVES must be at least 1, got -1"),
        ({"EVALUATION_SHARD_SIZE": "2.5"}, "EVALUATION_SHARD_SIZE must be an integer, got '2.5'"),
    ],
)
def test_a_wrong_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_keywords_and_replace_are_checked_like_the_environment() -> None:
    settings = Settings(sender_address="notices@district.example")
    assert settings.sender_address == "notices@district.example"
    changed = dataclasses.replace(settings, evaluation_shard_size=10)
    assert (changed.evaluation_shard_size, settings.evaluation_shard_size) == (10, 500)
    with pytest.raises(SettingsError, match="EVALUATION_SHARD_SIZE must be at least 1"):
        dataclasses.replace(settings, evaluation_shard_size=0)
    with pytest.raises(SettingsError, match="EVENTS_TABLE must be a string"):
        Settings(events_table=None)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="RAW_EVENT_TTL_DAYS must be an integer"):
        Settings(raw_event_ttl_days=True)


def test_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.events_table = "other"  # type: ignore[misc]
