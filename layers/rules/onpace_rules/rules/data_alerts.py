"""Data alerts: a rule whose condition needs a value the LMS has not sent tells the program
administrator instead of deciding on a value nobody measured.

Catalogue convention "No data is not zero": "A rule whose condition needs a value the LMS has not
sent (percent complete, a grade) does not fire on its absence: it raises a data alert to the
program administrator instead (rule id ``data.missing``, naming the enrollment and the value
missing; always on wherever a switched-on rule needs the value, not switched separately), and the
family hears nothing based on a value nobody measured."

The alert is raised by the family that needs the value (``missing_value_alert``), once per
enrollment and episode (for CPS pacing: per checkpoint); this module only registers the rule id,
its title and its email, and refuses a program that tries to switch it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import RuleFamily, RuleModule
from onpace_rules.rules.helpers import fired_on

DATA_MISSING = "data.missing"
RULE_IDS = (DATA_MISSING,)
TITLES = {DATA_MISSING: "Data alert: a value a rule needs was never reported"}


def missing_value_alert(
    state: EnrollmentState,
    day: date,
    ctx: RuleContext,
    *,
    episode: str,
    value: str,
    needed_by: Sequence[str],
    due_on: date,
    facts: dict[str, FactValue],
    deadlines: dict[str, date] | None = None,
) -> tuple[Decision, ...]:
    """The ``data.missing`` alert for ``value`` (once per enrollment and ``episode``), dated the
    first day a rule needed it (``due_on``); empty when this episode's alert went out already."""
    if fired_on(state, DATA_MISSING, episode) is not None:
        return ()
    return (
        Decision(
            rule_id=DATA_MISSING,
            kind="notice",
            episode=episode,
            on=day,
            due_on=due_on,
            policy_version=ctx.policy_version,
            recipients=("program_admin",),
            deadlines=dict(deadlines or {}),
            facts={"missing_value": value, "needed_by": list(needed_by), **facts},
        ),
    )


def build(config: ProgramConfig) -> list[RuleFamily]:
    if DATA_MISSING in config.rules:
        raise ValueError(
            f"program {config.key}: {DATA_MISSING} is always on wherever a switched-on rule needs a "
            "value the LMS may not send; it cannot be listed in a program's rules"
        )
    return []


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    staff_only=frozenset(RULE_IDS),
)
