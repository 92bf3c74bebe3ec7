"""Small helpers the rule families share: episodes, records, parameters (the contract itself is
``contract``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from onpace_rules.facts import EnrollmentState

# The reason of a decision recorded as skipped: a later one of its series was due too (catch-up).
SUPERSEDED = "superseded"


_ISO: dict[date, str] = {}
_SINCE: dict[date, str] = {}


def iso(day: date) -> str:
    """``day.isoformat()``, memoised: the facts of every decision state a few dates, and a term
    has only so many."""
    found = _ISO.get(day)
    if found is None:
        found = _ISO[day] = day.isoformat()
    return found


def since_episode(anchor: date) -> str:
    """``since-YYYY-MM-DD``: the episode of a lapse that began at ``anchor`` (memoised: an
    evaluation asks for it on every look, and a term has only so many dates)."""
    found = _SINCE.get(anchor)
    if found is None:
        found = _SINCE[anchor] = f"since-{iso(anchor)}"
    return found


def episode_anchor(episode: str) -> date | None:
    """The anchor of a ``since-YYYY-MM-DD`` episode (``since_episode``), or None for another kind."""
    prefix, _, rest = episode.partition("-")
    if prefix != "since" or not rest:
        return None
    try:
        return date.fromisoformat(rest)
    except ValueError:
        return None


def fired_on(state: EnrollmentState, rule_id: str, episode: str) -> date | None:
    return state.fired.get(f"{rule_id}#{episode}")


ParamsT = TypeVar("ParamsT", bound=BaseModel)


def validated(model: type[ParamsT], overrides: Mapping[str, Any], where: str) -> ParamsT:
    """A family's parameters from a program's overrides; errors name the rules they belong to."""
    try:
        return model.model_validate(dict(overrides))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(all)'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ValueError(f"parameters of {where}: {problems}") from exc


def merged_params(rules: Mapping[str, Mapping[str, Any] | None], ids: Sequence[str]) -> dict[str, Any]:
    """A family's parameters may be set on any of its rule ids; later ids win on conflicts."""
    merged: dict[str, Any] = {}
    for rule_id in ids:
        merged.update(rules.get(rule_id) or {})
    return merged


def enabled(config_rules: Mapping[str, Any], ids: Sequence[str]) -> frozenset[str]:
    return frozenset(config_rules) & frozenset(ids)
