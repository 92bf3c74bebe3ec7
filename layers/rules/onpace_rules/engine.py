"""Evaluate one enrollment (or one student) on one day: run each rule family, apply the conventions.

Conventions (policies.md): the evaluation of D sees activity and inputs dated before D and dates
its decisions D; a notice goes at most once per (enrollment, rule id, episode); an action ends
the enrollment and stops its other rules; an action that needs a person's approval holds the
enrollment until the approval (or rejection) arrives, and the deadlines it announces count from
the approval. Which policy version applies is the one in force on the day evaluated.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, Evaluation, FactValue
from onpace_rules.facts import ENDED_STATUSES, ActivityKind, EnrollmentState
from onpace_rules.family import (
    NO_GUARDIAN,
    NO_WARNING_REACHED,
    address_family,
    family_unwarned,
    guardian_unreachable,
)
from onpace_rules.inputs import Approval
from onpace_rules.program import ProgramConfig
from onpace_rules.registry import build_adjusters, build_families, build_filters
from onpace_rules.rules.contract import (
    AnswersInputs,
    ChecksOnFirstLook,
    DecisionFilter,
    Planner,
    RuleFamily,
    StateAdjuster,
)

APPROVAL_SUFFIX = "/approval"
AWAITING_APPROVAL = "awaiting approval"


@dataclass(frozen=True)
class CompiledVersion:
    """One policy version of a program: its label, when it starts, and its rule families."""

    effective: date | None
    config: ProgramConfig
    families: tuple[RuleFamily, ...]
    filters: tuple[DecisionFilter, ...]
    adjusters: tuple[StateAdjuster, ...] = ()

    @property
    def label(self) -> str:
        return self.config.policy_version

    @cached_property
    def by_scope(self) -> dict[tuple[str, bool], tuple[RuleFamily, ...]]:
        """Families per (scope, ended): worked out once, asked for on every evaluation."""
        return {
            (scope, ended): tuple(
                f for f in self.families if f.scope == scope and (f.runs_after_end or not ended)
            )
            for scope in ("enrollment", "student")
            for ended in (False, True)
        }

    @cached_property
    def plans(self) -> dict[tuple[str, bool], tuple[tuple[RuleFamily, Planner], ...]]:
        """Each family of ``by_scope`` with its ``plan`` method (looked up once)."""
        return {key: tuple((f, f.plan) for f in families) for key, families in self.by_scope.items()}

    @cached_property
    def plans_without_inputs(
        self,
    ) -> dict[tuple[str, bool], tuple[tuple[RuleFamily, Planner], ...]]:
        """``plans`` without the families that only answer inputs: what a subject with no input
        stored needs asked."""
        return {
            key: tuple(entry for entry in plans if not isinstance(entry[0], AnswersInputs))
            for key, plans in self.plans.items()
        }

    @cached_property
    def plans_routine(
        self,
    ) -> dict[tuple[str, bool], tuple[tuple[RuleFamily, Planner], ...]]:
        """``plans_without_inputs`` without the checks made on a first look, for a subject looked
        at since its start (most of them, on most days): those checks have nothing left to do."""
        return {
            key: tuple(entry for entry in plans if not isinstance(entry[0], ChecksOnFirstLook))
            for key, plans in self.plans_without_inputs.items()
        }


@dataclass(frozen=True)
class CompiledProgram:
    """A validated program with its calendar and each policy version's families, built once."""

    config: ProgramConfig
    calendar: ProgramCalendar
    versions: tuple[CompiledVersion, ...]
    _in_force: dict[date, tuple[CompiledVersion, RuleContext]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _next_change: dict[date, date | None] = field(default_factory=dict, repr=False, compare=False)

    @property
    def families(self) -> tuple[RuleFamily, ...]:
        """The families of the latest version (every version has the same kinds of family)."""
        return self.versions[-1].families

    @property
    def rule_ids(self) -> tuple[str, ...]:
        ids: dict[str, None] = {}
        for version in self.versions:
            for family in version.families:
                ids.update((r, None) for r in family.rule_ids if r in version.config.rules)
            ids.update((f.rule_id, None) for f in version.filters)
            ids.update((a.rule_id, None) for a in version.adjusters)
        return tuple(ids)

    def version_on(self, day: date) -> CompiledVersion:
        if len(self.versions) == 1:
            return self.versions[0]
        current = self.versions[0]
        for version in self.versions[1:]:
            if version.effective is not None and version.effective <= day:
                current = version
        return current

    def context_on(self, day: date) -> RuleContext:
        """Policy version and calendar in force for the evaluation of ``day`` (memoised per day)."""
        return self.in_force(day)[1]

    def in_force(self, day: date) -> tuple[CompiledVersion, RuleContext]:
        """The version and the context of ``day`` (memoised per day: asked once per evaluation)."""
        found = self._in_force.get(day)
        if found is None:
            version = self.version_on(day)
            ctx = RuleContext(config=version.config, calendar=self.calendar.as_of(day), program=self)
            found = self._in_force[day] = (version, ctx)
        return found

    @cached_property
    def change_days(self) -> tuple[date, ...]:
        """Days a new policy version or a calendar change starts to apply, in order."""
        days = {v.effective for v in self.versions if v.effective is not None}
        days.update(c.announced + timedelta(days=1) for c in self.calendar.changes)
        return tuple(sorted(days))

    @cached_property
    def activity_wake_days(self) -> dict[ActivityKind, int]:
        """Per activity kind, the fewest days after it that it can make something due (any version).

        Whoever folds activity of such a kind brings the subject's wake date forward to its date
        plus that many days; activity of other kinds only ever moves due dates later.
        """
        found: dict[ActivityKind, int] = {}
        for version in self.versions:
            for family in version.families:
                for kind, days in family.activity_wake_days.items():
                    found[kind] = min(days, found.get(kind, days))
        return found

    @cached_property
    def addresses_district(self) -> bool:
        """Whether a family (any version) addresses every family on the district's roster, not
        only the program's students (``district_wide``): the program's student records are then
        made from every student enrollment of the district."""
        return any(f.district_wide for v in self.versions for f in v.families)

    @cached_property
    def activity_history(self) -> frozenset[ActivityKind]:
        """Activity kinds some family reads every date of (``EnrollmentState.history_on``)."""
        kinds: set[ActivityKind] = set()
        for version in self.versions:
            for family in version.families:
                kinds.update(family.activity_history)
        return frozenset(kinds)

    def next_change_after(self, day: date) -> date | None:
        """The first day after ``day`` on which a policy version or a calendar change starts
        (memoised per day: asked on every evaluation of a program that has one)."""
        if day in self._next_change:
            return self._next_change[day]
        index = bisect_right(self.change_days, day)
        found = self._next_change[day] = self.change_days[index] if index < len(self.change_days) else None
        return found


def compile_program(config: ProgramConfig) -> CompiledProgram:
    """Build the calendar and every version's rule families; raises on unknown rule ids or bad values."""
    versions = tuple(
        CompiledVersion(
            effective=effective,
            config=versioned,
            families=build_families(versioned),
            filters=build_filters(versioned),
            adjusters=build_adjusters(versioned),
        )
        for effective, versioned in config.versioned()
    )
    return CompiledProgram(config=config, calendar=config.build_calendar(), versions=versions)


def _family_of(program: CompiledProgram, day: date, rule_id: str) -> RuleFamily | None:
    for family in program.version_on(day).families:
        if rule_id in family.rule_ids:
            return family
    return None


def _approval(state: EnrollmentState, held: Decision, day: date) -> tuple[Approval, date] | None:
    """The latest approval or rejection of the held action that the evaluation of ``day`` sees."""
    found: tuple[Approval, date] | None = None
    for item in state.seen_inputs(day, "approval"):
        if isinstance(item.data, Approval) and item.data.rule == held.rule_id and item.on >= held.on:
            found = (item.data, item.on)
    return found


def _resolve_held(program: CompiledProgram, state: EnrollmentState, day: date) -> Evaluation:
    held = state.held
    if held is None:  # a held status without its action cannot happen; treat as active
        return evaluate_enrollment(program, replace(state, status="active"), day)
    found = _approval(state, held, day)
    if found is None:
        return Evaluation(decisions=(), status="held", wake_on=_first_unseen_input(state, day), held=held)
    approval, approved_on = found
    ctx = program.context_on(day)
    who: dict[str, FactValue] = {
        "requested_on": held.on.isoformat(),
        f"{approval.decision}_by": approval.by,
        f"{approval.decision}_on": approved_on.isoformat(),
    }
    if approval.decision == "rejected":
        rejected = replace(
            held,
            kind="skipped",
            on=day,
            recipients=(),
            deadlines={},
            status_after=None,
            facts={**held.facts, **who},
            reason=f"rejected by {approval.by}",
        )
        # Look again tomorrow: what came due while the action was held is due now, and the
        # families' wake dates only look ahead.
        return Evaluation(decisions=(rejected,), status="active", wake_on=day + timedelta(days=1))
    family = _family_of(program, day, held.rule_id)
    # A held action of a rule the version in force no longer has is taken as it was decided.
    taken = family.redate(held, day, ctx) if family is not None else replace(held, on=day)
    taken = replace(taken, on=day, facts={**taken.facts, **who}, reason=None)
    return Evaluation(decisions=(taken,), status=taken.status_after or "active", wake_on=None)


def _first_unseen_input(state: EnrollmentState, day: date) -> date | None:
    """The first evaluation after ``day`` that sees an input stored but not yet seen."""
    later = [i.on for i in state.inputs if i.on >= day]
    return min(later) + timedelta(days=1) if later else None


def _looked_ahead(
    program: CompiledProgram, state: EnrollmentState, day: date, decisions: tuple[Decision, ...]
) -> Evaluation:
    """``decisions`` with the wake date each family's ``next_wake`` gives once they are
    recorded: the way when a filter changed the decisions, or the end date moved."""
    after = apply_evaluation(state, Evaluation(decisions, state.status, None), day)
    version, ctx = program.in_force(day)
    end = after.end_date
    scope = (after.scope, end is not None and day > end)
    wake = _next_wake((family for family, _ in version.plans[scope]), after, day, ctx)
    return _evaluated(program, after, day, decisions, wake)


def _next_wake(
    families: Iterable[RuleFamily], after: EnrollmentState, day: date, ctx: RuleContext
) -> date | None:
    """The first of each family's ``next_wake`` of ``after`` (the state with the day recorded)."""
    wake: date | None = None
    for family in families:
        wake = _sooner(wake, family.next_wake(after, day, ctx), after.end_date, family.runs_after_end)
    return wake


def _evaluated(
    program: CompiledProgram,
    state: EnrollmentState,
    day: date,
    decisions: tuple[Decision, ...],
    wake: date | None,
) -> Evaluation:
    """The evaluation with its wake date: the first of the families' (``wake``) and the days an
    input, a version or a calendar change can bring a due date forward."""
    if state.inputs or program.change_days:
        wake = _sooner_than_inputs_and_changes(program, state, day, wake)
    return Evaluation(decisions, state.status, wake)


def _sooner(wake: date | None, when: date | None, end: date | None, runs_after_end: bool) -> date | None:
    # Past the end date only families that answer inputs remain, and inputs wake by themselves.
    if when is None or (end is not None and when > end and not runs_after_end):
        return wake
    return when if wake is None or when < wake else wake


def _sooner_than_inputs_and_changes(
    program: CompiledProgram, state: EnrollmentState, day: date, wake: date | None
) -> date | None:
    # An input already stored but dated today or later is seen from the day after its date.
    if state.inputs:
        wake = _sooner(wake, _first_unseen_input(state, day), None, True)
    # A new policy version or calendar change can bring a due date forward: look again then.
    if program.change_days:
        wake = _sooner(wake, program.next_change_after(day), state.end_date, False)
    return wake


def evaluate_enrollment(program: CompiledProgram, state: EnrollmentState, day: date) -> Evaluation:
    """Everything due for ``state`` on ``day``, and the next day anything can be due.

    Runs each rule family of the version in force in the program's order. If a family takes an
    action (drop, withdrawal, removal), only that family's decisions of the day stand: the
    action ends the enrollment, so other families' warnings of the same day would tell the
    family something that no longer applies. When several families act on one (catch-up) day,
    the action due first stands. Then the program's decision filters (channel
    policy) see the result; an action the program wants approved is held instead of taken.
    """
    status = state.status
    if status in ENDED_STATUSES:
        return Evaluation((), status, None)
    version, ctx = program.in_force(day)
    if version.adjusters:
        for adjuster in version.adjusters:
            state = adjuster.adjust(state, ctx)
        status = state.status
    if status == "held":
        return _resolve_held(program, state, day)
    end = state.end_date
    ended = end is not None and day > end
    scope = (state.scope, ended)
    # The decisions so far: the first family's own sequence, copied only when a second adds to it.
    decisions: Sequence[Decision] = ()
    acting: tuple[date, int, Sequence[Decision]] | None = None
    # Each family's ``plan`` gives its wake date with its decisions (one look, not two).
    # ``planned`` stays True unless a filter or a moved end date makes every family look again.
    # ``wake`` is the first of the families' wake dates. (``_sooner`` written out: this loop
    # runs for every enrollment looked at.)
    planned = True
    wake: date | None = None
    if state.inputs:
        plans = version.plans[scope]
    elif state.checked_through is not None and state.checked_through >= state.start_date:
        plans = version.plans_routine[scope]
    else:
        plans = version.plans_without_inputs[scope]
    for order, (family, plan) in enumerate(plans):
        found, when = plan(state, day, ctx)
        # Past the end date only families that answer inputs remain, and inputs wake by themselves.
        if when is not None and (end is None or when <= end or family.runs_after_end) and (
            wake is None or when < wake
        ):
            wake = when
        if not found:
            continue
        first = _first_action_due(found)
        if first is not None and (acting is None or first < acting[0]):
            # On a catch-up day two families may both end the enrollment; the one whose date
            # came first is the one that ended it (day by day it would have acted alone).
            acting = (first, order, found)
        decisions = found if not decisions else [*decisions, *found]
    if acting is not None:
        decisions = acting[2]
    if decisions:
        # Guardians of minors and of eligible students (catalogue "Recipients and contact data");
        # only recipients change, so every family's wake date stands.
        decisions = address_family(decisions, state, day, ctx.config)
    if version.filters:
        chosen = list(decisions)
        filtered = chosen
        for decision_filter in version.filters:
            filtered = decision_filter.apply(filtered, state, day, ctx)
        if filtered != chosen:
            planned = False  # a filter changed what is recorded: ask each family again
        decisions = filtered
    if decisions:
        taken = _taken(decisions, state, day, ctx)
        if taken is not None:
            return taken
        for decision in decisions:
            if decision.end_date_after is not None:
                planned = False  # wake dates are bounded by the end date, which this moves
    if not planned:
        return _looked_ahead(program, state, day, tuple(decisions))
    # A family's plan looks at its own rules' records only, so the others' decisions of the day
    # leave its wake date as it is.
    return _evaluated(program, state, day, tuple(decisions), wake)


def _first_action_due(decisions: Sequence[Decision]) -> date | None:
    """The earliest due date of the actions that end the enrollment, if any."""
    first: date | None = None
    for d in decisions:
        if d.kind == "action" and d.status_after and (first is None or d.due_on < first):
            first = d.due_on
    return first


def _taken(
    decisions: Sequence[Decision], state: EnrollmentState, day: date, ctx: RuleContext
) -> Evaluation | None:
    """The evaluation when one of ``decisions`` ends the enrollment (or asks approval to).

    An action is held for a person's approval when the program wants it approved, when it
    is a minor's action notice that no guardian can receive (catalogue: "A minor's action notice
    (drop, withdrawal, removal) always reaches a guardian, or is held for a person when none can
    be reached"), or when none of the warnings that announced it reached the family (issue 12,
    scope 5: ``state.family_unwarned``, whatever the program's approval setting).
    """
    for action in decisions:
        if action.kind == "action" and action.status_after is not None:
            break
    else:
        return None
    held_for: list[str] = []
    if ctx.config.approvals.get(action.rule_id) == "needs_approval":
        held_for.append("the program requires approval")
    if guardian_unreachable(action, state, day, ctx.config):
        held_for.append(NO_GUARDIAN)
    if family_unwarned(action, state):
        held_for.append(NO_WARNING_REACHED)
    if held_for:
        request = replace(
            action,
            kind="notice",
            episode=action.episode + APPROVAL_SUFFIX,
            recipients=("program_admin",),
            deadlines={},
            status_after=None,
            facts={**action.facts, "approval": "requested", "approval_reason": "; ".join(held_for)},
            reason=AWAITING_APPROVAL,
        )
        others = [d for d in decisions if d is not action]
        return Evaluation(decisions=(*others, request), status="held", wake_on=None, held=action)
    return Evaluation(decisions=tuple(decisions), status=action.status_after, wake_on=None)


def apply_evaluation(state: EnrollmentState, evaluation: Evaluation, day: date) -> EnrollmentState:
    """The state the next evaluation sees, once ``evaluation`` has been recorded."""
    return state.recorded(evaluation.decisions, day, evaluation.status, evaluation.held)
