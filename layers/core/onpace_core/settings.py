"""Typed environment of the functions, validated once at cold start.

Logic never reads ``os.environ``: handlers build a ``Settings`` and pass what is needed down.
The field names are the lower-case forms of the environment variables that ``template.yaml``
sets (``EVENTS_TABLE`` → ``events_table``).

A frozen dataclass, not a pydantic model: every function reads its settings at import, and
pydantic costs about a third of ``import boto3`` there (docs/scale.md, "Cold start"), for a
handful of strings and bounded integers. ``dataclasses.replace(settings, field=...)`` makes a
changed copy, checked like the original.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


class SettingsError(ValueError):
    """An environment variable holds a value the functions cannot run with; says which."""


# Integer fields: (least, greatest or None).
_BOUNDS: dict[str, tuple[int, int | None]] = {
    "raw_event_ttl_days": (1, None),
    "raw_archive_days": (1, None),
    "evaluation_shard_size": (1, 2000),
    "evaluation_max_receives": (1, None),
}


@dataclass(frozen=True, slots=True)
class Settings:
    events_table: str = "onpace-events"
    enrollments_table: str = "onpace-enrollments"
    outbox_table: str = "onpace-outbox"
    audit_table: str = "onpace-audit"
    programs_table: str = "onpace-programs"
    suppressions_table: str = "onpace-suppressions"
    webhook_secret_prefix: str = "onpace/webhooks/"
    # One-click unsubscribe from courtesy notices (delivery/unsubscribe.py): the public URL of
    # POST /unsubscribe (empty: no List-Unsubscribe header), each district's signing key in
    # Secrets Manager under the prefix, or one key for every district locally.
    unsubscribe_url: str = ""
    unsubscribe_secret_prefix: str = "onpace/unsubscribe/"
    unsubscribe_key: str = ""
    ses_configuration_set: str = "onpace"
    sender_address: str = "notices@onpace.example.org"
    # Text messages (delivery/sms.py): the sender id and/or origination number SNS sends from
    # (empty: the account's default); which one a country needs is the account's registration.
    sms_sender_id: str = ""
    sms_origination_number: str = ""
    # Raw events (docs/ingest.md, "Raw events: archive and dedupe window"): the per-event items
    # are a dedupe window of RAW_EVENT_TTL_DAYS; the archive bucket holds the bodies, and the
    # quarantined events' and inputs' items are kept as long (RAW_ARCHIVE_DAYS).
    raw_event_ttl_days: int = 30
    raw_archive_days: int = 400
    raw_archive_bucket: str = ""
    # Every email exactly as handed to SES (delivery/sent_mail.py): notify writes, the console reads.
    sent_mail_bucket: str = ""
    aws_region: str = "us-east-1"
    # The evaluation fan-out (evaluation/fanout.py): the shard queue, its dead-letter queue, due
    # enrollments per shard, and the receives of a one-enrollment retry before it is parked
    # (one less than the queue's RedrivePolicy maxReceiveCount, which is the backstop).
    evaluate_queue_url: str = ""
    evaluate_dlq_url: str = ""
    evaluation_shard_size: int = 500
    evaluation_max_receives: int = 4
    # Tamper evidence of the audit log (audit/keys.py, audit/checkpoint.py): the KMS HMAC key
    # each district's chain key is derived from, the KMS signing key of the hourly checkpoints
    # and the object-locked bucket they are written to.
    audit_chain_key: str = ""
    audit_checkpoint_key: str = ""
    audit_checkpoint_bucket: str = ""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in _BOUNDS:
                least, greatest = _BOUNDS[field.name]
                # bool is an int; a True shard size is a mistake, not 1.
                if not isinstance(value, int) or isinstance(value, bool):
                    raise SettingsError(f"{env_name(field.name)} must be an integer, got {value!r}")
                if value < least or (greatest is not None and value > greatest):
                    upper = f" and at most {greatest}" if greatest is not None else ""
                    raise SettingsError(
                        f"{env_name(field.name)} must be at least {least}{upper}, got {value}"
                    )
            elif not isinstance(value, str):
                raise SettingsError(f"{env_name(field.name)} must be a string, got {value!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``env`` (default: ``os.environ``): each field from the upper-case
        variable of its name, the default where it is unset; other variables are ignored."""
        source = os.environ if env is None else env
        values: dict[str, str | int] = {}
        for field in dataclasses.fields(cls):
            raw = source.get(env_name(field.name))
            if raw is None:
                continue
            if field.name in _BOUNDS:
                try:
                    values[field.name] = int(raw.strip())
                except ValueError:
                    raise SettingsError(f"{env_name(field.name)} must be an integer, got {raw!r}") from None
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]


def env_name(field: str) -> str:
    """The environment variable of a ``Settings`` field."""
    return field.upper()


def env_names() -> frozenset[str]:
    """Every environment variable ``Settings`` reads."""
    return frozenset(env_name(f.name) for f in dataclasses.fields(Settings))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
