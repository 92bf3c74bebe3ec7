"""Typed environment of the functions, validated once at cold start.

Logic never reads ``os.environ``: handlers build a ``Settings`` and pass what is needed down.
The field names are the lower-case forms of the environment variables that ``template.yaml``
sets (``EVENTS_TABLE`` → ``events_table``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


def _upper(name: str) -> str:
    return name.upper()


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=_upper, populate_by_name=True)

    events_table: str = "onpace-events"
    enrollments_table: str = "onpace-enrollments"
    outbox_table: str = "onpace-outbox"
    audit_table: str = "onpace-audit"
    programs_table: str = "onpace-programs"
    webhook_secret_prefix: str = "onpace/webhooks/"
    ses_configuration_set: str = "onpace"
    sender_address: str = "notices@onpace.example.org"
    raw_event_ttl_days: int = Field(default=400, ge=1)
    aws_region: str = "us-east-1"
    # The evaluation fan-out (evaluation/fanout.py): the shard queue, its dead-letter queue, due
    # enrollments per shard, and the receives of a one-enrollment retry before it is parked
    # (one less than the queue's RedrivePolicy maxReceiveCount, which is the backstop).
    evaluate_queue_url: str = ""
    evaluate_dlq_url: str = ""
    evaluation_shard_size: int = Field(default=500, ge=1, le=2000)
    evaluation_max_receives: int = Field(default=4, ge=1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if env is None else env))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
