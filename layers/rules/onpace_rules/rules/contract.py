"""The rule contract: what a rule family offers the engine, and what a rule module declares.

A family is a subclass of ``RuleFamily``: it must say which rule ids it decides (``rule_ids``)
and what is due on a day (``decide``); every other hook has a default that is right for a family
that does not override it, stated on the hook. ``AnswersInputs`` and ``ChecksOnFirstLook`` are the
bases of two common kinds of family. A module under ``onpace_rules/rules/`` declares itself to the
registry with one ``RuleModule`` named ``MODULE``.

The engine reads the hooks once, when it compiles a program (``engine.CompiledVersion``), except
``plan`` and ``next_wake``, which it calls on every evaluation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar, Protocol

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import ONE_DAY, EnrollmentState
from onpace_rules.kinds import ActivityKind, Scope
from onpace_rules.program import ProgramConfig

Planner = Callable[[EnrollmentState, date, RuleContext], tuple[Sequence[Decision], date | None]]


@dataclass(frozen=True)
class Resolution:
    """Why a warning no longer stands when it is about to be sent (``onpace_rules.recheck``).

    ``fact`` is what resolved it: an activity kind (``submission``…), ``percent_complete`` or an
    input kind (``instructor_contact``); ``on`` its program-local date; ``detail`` a few values
    for the audit (never a name or an address).
    """

    rule_id: str
    episode: str
    fact: str
    on: date | None
    detail: Mapping[str, FactValue]


class RuleFamily(ABC):
    """A series of rule ids evaluated together (warnings before an action, a ladder of steps).

    Families are values: built once per policy version from the program's parameters
    (``RuleModule.build``), immutable, and asked about one subject and one day at a time.
    """

    #: What the family evaluates: one enrollment, or one student across the program's
    #: enrollments (SAP, eligibility).
    scope: ClassVar[Scope] = "enrollment"
    #: Whether it still applies after the enrollment's end date (a grade report does; a pacing
    #: warning does not). Past the end date the engine asks only families that do.
    runs_after_end: ClassVar[bool] = False
    #: Student scope only: the family addresses every family on the district's roster, not only
    #: the program's students (MOCAP's guidance document goes "to every District
    #: parent/guardian"), so whoever loads the roster makes a student record for every student of
    #: the district (``CompiledProgram.addresses_district``).
    district_wide: ClassVar[bool] = False

    @property
    @abstractmethod
    def rule_ids(self) -> tuple[str, ...]:
        """The rule ids of this family, in the order their dates fall."""

    @abstractmethod
    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Decisions due on ``day`` for this subject (empty when nothing is due)."""

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        """Earliest day after ``day`` on which ``decide`` could return something (None: never,
        unless an input arrives).

        ``state`` has the day recorded (its ``fired`` holds the day's decisions, its
        ``checked_through`` is ``day``). The date must stay a lower bound whatever activity
        arrives after ``day``, except activity of the kinds in ``activity_wake_days``, which the
        stores answer by bringing the wake date forward. A family that only answers inputs
        returns None: storing an input wakes the subject by itself.

        Default: the next day, which is right for any family and costs an evaluation a day.
        """
        return day + ONE_DAY

    def plan(
        self, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> tuple[Sequence[Decision], date | None]:
        """``decide`` together with the date ``next_wake`` gives once those decisions are
        recorded. The engine calls this on every evaluation; it falls back to ``next_wake`` when
        a decision filter changed what is recorded or a decision moved the end date.

        Default: exactly that, ``decide`` and then ``next_wake`` of the state with this family's
        decisions recorded. A family that works both out from the same dates overrides it, so an
        evaluation looks at them once. A family's wake date may depend only on its own rules'
        records, never on other families' decisions of the day.
        """
        decisions = self.decide(state, day, ctx)
        return decisions, self.next_wake(state.recorded(decisions, day), day, ctx)

    def redate(self, decision: Decision, day: date, ctx: RuleContext) -> Decision:
        """``decision`` (an action that waited for a person's approval) taken on ``day``, the day
        of the approval, with the deadlines it announces counted from that day.

        Default: the same decision dated ``day``; a family whose action announces deadlines
        (an appeal window, a re-enrollment window) counts them again.
        """
        return replace(decision, on=day)

    def resolved(
        self, state: EnrollmentState, rule_id: str, episode: str, seen_on: date, ctx: RuleContext
    ) -> Resolution | None:
        """Whether the warning ``rule_id`` of ``episode`` (a notice of this family, about to be
        sent) is resolved by what the evaluation of ``seen_on`` would see: the lapse it warned
        about is over, or the value it warned about meets the threshold. ``ctx`` is the context
        of the day the warning was decided.

        Default: never (only warnings are re-checked at send, and a family says which of its
        rule ids are warnings by overriding this; an action, an approval request or a data alert
        always stands).
        """
        return None

    @property
    def activity_wake_days(self) -> Mapping[ActivityKind, int]:
        """Activity of kind K dated D can make something of this family due from D + n on (a
        submission starts a new MSC lapse whose step 1 comes 4 days later, possibly before the
        current lapse's next step). Whoever folds activity brings the wake date forward to
        D + n when such activity arrives (``CompiledProgram.activity_wake_days``).

        Default: none; activity only ever moves this family's due dates later.
        """
        return {}

    @property
    def activity_history(self) -> frozenset[ActivityKind]:
        """Activity kinds of which this family reads every date (``EnrollmentState.history_on``,
        ``history_of``): whoever folds activity keeps them (``CompiledProgram.activity_history``).

        Default: none; the family reads only the latest date of each kind (``last_on``).
        """
        return frozenset()


class AnswersInputs(RuleFamily):
    """Base of a family that only answers inputs (a drop or extension request, a final grade,
    late work): nothing of it is due without one, and storing an input wakes the enrollment by
    itself. Its ``plan`` is ``decide`` with no wake date of its own, so the engine asks no
    family twice on its account, and skips it for a subject with no input stored."""

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


class ChecksOnFirstLook(RuleFamily):
    """Base of a check made once, on the enrollment's first evaluation on or after its start
    (the engine skips it for a subject looked at since its start)."""

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


class DecisionFilter(Protocol):
    """A rule that acts on the decisions of other rules (e.g. which channels may carry them)."""

    @property
    def rule_id(self) -> str: ...

    def apply(
        self, decisions: Sequence[Decision], state: EnrollmentState, day: date, ctx: RuleContext
    ) -> list[Decision]: ...


class StateAdjuster(Protocol):
    """A rule that changes the dates of an enrollment before any other rule looks at it
    (seniors' last day of attendance ends their spring enrollments early)."""

    @property
    def rule_id(self) -> str: ...

    def adjust(self, state: EnrollmentState, ctx: RuleContext) -> EnrollmentState: ...


def _no_filters(config: ProgramConfig) -> Sequence[DecisionFilter]:
    return ()


def _no_adjusters(config: ProgramConfig) -> Sequence[StateAdjuster]:
    return ()


@dataclass(frozen=True)
class RuleModule:
    """What a module under ``onpace_rules/rules/`` declares to the registry, as its ``MODULE``.

    ``build`` gives the families of the rules a program (one policy version of it) enables;
    ``build_filters`` the rules that act on other rules' decisions (the channel policy), and
    ``build_adjusters`` those that change an enrollment's dates before any family looks at it.
    ``silent`` rules never address anyone (records on the enrollment, date modifiers: no email
    templates); ``staff_only`` rules write to staff only (no family notice, so no program contact
    needed). Every other rule id can write to a student or a family.
    """

    rule_ids: tuple[str, ...]
    titles: Mapping[str, str]
    build: Callable[[ProgramConfig], Sequence[RuleFamily]]
    build_filters: Callable[[ProgramConfig], Sequence[DecisionFilter]] = _no_filters
    build_adjusters: Callable[[ProgramConfig], Sequence[StateAdjuster]] = _no_adjusters
    silent: frozenset[str] = frozenset()
    staff_only: frozenset[str] = frozenset()
    #: Warnings a family of the module may find resolved at send (``RuleFamily.resolved``): the
    #: notify function reads the enrollment again only for these.
    warnings: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        untitled = sorted(set(self.rule_ids) - set(self.titles))
        mine = set(self.titles) | self.silent | self.staff_only | self.warnings
        unknown = sorted(mine - set(self.rule_ids))
        if untitled or unknown:
            raise ValueError(f"rule module: ids without a title {untitled}, ids not its own {unknown}")
