"""What every rule family offers the engine, and what the engine gives every family."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import Decision
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.program import ProgramConfig

if TYPE_CHECKING:
    from onpace_rules.engine import CompiledProgram

SUPERSEDED = "superseded"


@dataclass(frozen=True)
class RuleContext:
    """The program-wide inputs of one evaluation day: the policy version and calendar in force.

    ``config`` is the program as the version in force on the day has it (its ``policy_version``
    is that version's label); ``program`` gives the other versions, for a rule whose value is
    looked up by another date (a fee by the day it applies to, SAP by the term's end).
    """

    config: ProgramConfig
    calendar: ProgramCalendar
    program: CompiledProgram | None = None

    @property
    def policy_version(self) -> str:
        return self.config.policy_version

    def on(self, day: date) -> RuleContext:
        """The context of another day (its policy version and calendar)."""
        if self.program is None:
            return self
        return self.program.context_on(day)

    def params_on(self, rule_id: str, day: date) -> dict[str, Any]:
        """The parameter overrides of ``rule_id`` in the policy version in force on ``day``."""
        return dict(self.on(day).config.rules.get(rule_id) or {})


class RuleFamily(Protocol):
    """A series of rule ids evaluated together (warnings before an action, a ladder of steps).

    ``scope`` says what a family evaluates: one enrollment, or one student across the program's
    enrollments (SAP, eligibility). ``runs_after_end``: whether it still applies after the
    enrollment's end date (a grade report does; a pacing warning does not).
    """

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The rule ids of this family, in the order their dates fall."""
        ...

    @property
    def scope(self) -> Scope: ...

    @property
    def runs_after_end(self) -> bool: ...

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Decisions due on ``day`` for this enrollment (empty when nothing is due)."""
        ...

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        """Earliest day after ``day`` on which ``decide`` could return something.

        This must stay a lower bound whatever activity arrives after ``day``, except activity of
        the kinds the family lists in ``activity_wake_days`` (see below): the stores bring the
        wake date forward when that arrives. Families that only answer inputs return None:
        storing an input wakes the enrollment by itself.
        """
        ...


# A family may also offer ``redate(decision, day, ctx) -> Decision``: the same action taken on a
# later day (after a person approved it), with its deadlines counted from that day.
#
# And ``plan(state, day, ctx) -> (decisions, wake)``: ``decide`` together with the date
# ``next_wake`` would give once those decisions are recorded (the state's ``fired`` holding them,
# ``checked_through`` = day). Families that work both out from the same dates offer it so an
# evaluation looks at them once; the engine falls back to ``next_wake`` when a decision filter
# changed what is recorded.
#
# And ``activity_wake_days -> Mapping[ActivityKind, int]``: activity of kind K dated D can make
# something due from D + n on (a submission starts a new MSC lapse whose step 1 comes 3 days
# later, possibly before the current lapse's next step). Whoever folds activity brings the wake
# date forward to D + n when such activity arrives (``CompiledProgram.activity_wake_days``).
#
# And ``activity_reset_days -> Mapping[ActivityKind, int]``: activity of kind K dated D ends
# everything the family has pending (its lapse) and nothing of it can be due before D + n. Such a
# family (one that stops at the end date) gives its wake date apart from the others',
# and the evaluation says how activity moves the shared one (``Evaluation.reset``, a
# ``WakeReset``): the in-memory store moves the wake date later when such activity arrives, so a
# lapse that activity ended is not looked at again on the day it would have come due.
#
# And ``district_wide -> bool`` (student scope only): the family addresses every family on the
# district's roster, not only the program's students (MOCAP's guidance document goes "to every
# District parent/guardian"), so whoever loads the roster makes a student record for every
# student of the district (``CompiledProgram.addresses_district``).
#
# And ``activity_history -> frozenset[ActivityKind]``: the family reads every date of those kinds
# (``EnrollmentState.history_on`` / ``history_of``), so whoever folds activity keeps them
# (``CompiledProgram.activity_history``); other kinds keep only their latest date.
Planner = Callable[[EnrollmentState, date, "RuleContext"], tuple[Sequence[Decision], date | None]]


class AnswersInputs:
    """Base of a family that only answers inputs (a drop or extension request, a final grade,
    late work): nothing of it is due without one, and storing an input wakes the enrollment by
    itself. Its ``plan`` is ``decide`` with no wake date of its own, so the engine asks no
    family twice on its account."""

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        raise NotImplementedError

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        return None  # storing an input wakes the enrollment by itself

    def plan(
        self, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> tuple[Sequence[Decision], date | None]:
        if not state.inputs:
            return (), None  # nothing to answer
        return self.decide(state, day, ctx), None


def first_look(state: EnrollmentState, day: date) -> bool:
    """Whether ``day`` is the enrollment's first evaluation on or after its start date."""
    if day < state.start_date:
        return False
    return state.checked_through is None or state.checked_through < state.start_date


def wake_for_first_look(state: EnrollmentState, day: date) -> date | None:
    return state.start_date if state.start_date > day and first_look(state, state.start_date) else None


class ChecksOnFirstLook:
    """Base of a check made once, on the enrollment's first evaluation on or after its start."""

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        raise NotImplementedError

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        return wake_for_first_look(state, day)

    def plan(
        self, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> tuple[Sequence[Decision], date | None]:
        # Once today is recorded as checked, the first look is still to come only before the start.
        if state.start_date > day:
            return (), state.start_date
        if not first_look(state, day):
            return (), None  # looked at already: the check is done
        return self.decide(state, day, ctx), None


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
