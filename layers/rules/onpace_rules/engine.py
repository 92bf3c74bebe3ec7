"""Evaluate one enrollment (or one student) on one day: run each rule family, apply the conventions.

Conventions (policies.md): the evaluation of D sees activity and inputs dated before D and dates
its decisions D; a notice goes at most once per (enrollment, rule id, episode); an action ends
the enrollment and stops its other rules; an action that needs a person's approval holds the
enrollment until the approval (or rejection) arrives, and the deadlines it announces count from
the approval. Which policy version applies is the one in force on the day evaluated.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.decisions import Decision, Evaluation, FactValue, WakeReset
from onpace_rules.facts import ENDED_STATUSES, ActivityKind, EnrollmentState
from onpace_rules.inputs import Approval
from onpace_rules.program import ProgramConfig
from onpace_rules.registry import (
    DecisionFilter,
    StateAdjuster,
    build_adjusters,
    build_families,
    build_filters,
)
from onpace_rules.rules.base import Planner, RuleContext, RuleFamily

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
    def plans(self) -> dict[tuple[str, bool], tuple[tuple[RuleFamily, Planner | None, bool], ...]]:
        """Each family of ``by_scope`` with its ``plan`` method, when it has one, and whether
        activity resets its wake date (``reset_days``)."""
        return {
            key: tuple(
                (f, getattr(f, "plan", None), bool(self.reset_days[key]) and _resets(f)) for f in families
            )
            for key, families in self.by_scope.items()
        }

    @cached_property
    def _wake_resets(self) -> dict[tuple[tuple[str, bool], date | None, date | None], WakeReset]:
        return {}

    def wake_reset(self, scope: tuple[str, bool], kept: date | None, until: date | None) -> WakeReset:
        """The ``WakeReset`` of ``reset_days[scope]`` with these dates (memoised: enrollments
        share their end dates, and most keep nothing)."""
        key = (scope, kept, until)
        found = self._wake_resets.get(key)
        if found is None:
            found = self._wake_resets[key] = WakeReset(self.reset_days[scope], kept, until)
        return found

    @cached_property
    def reset_days(self) -> dict[tuple[str, bool], dict[ActivityKind, int]]:
        """Per (scope, ended): the activity kinds that end every resetting family's lapse, with
        the fewest days after it that any of them can be due again (``WakeReset.days``).

        Only kinds that all of them name: activity that ends one family's lapse but not
        another's cannot replace the wake date they share.
        """
        found: dict[tuple[str, bool], dict[ActivityKind, int]] = {}
        for key, families in self.by_scope.items():
            resetting = [f for f in families if _resets(f)]
            days: dict[ActivityKind, int] = {}
            if resetting:
                resets: list[Mapping[ActivityKind, int]] = [f.activity_reset_days for f in resetting]  # type: ignore[attr-defined]
                kinds = set.intersection(*(set(r) for r in resets))
                days = {k: min(r[k] for r in resets) for k in sorted(kinds)}
            found[key] = days
        return found


@dataclass(frozen=True)
class CompiledProgram:
    """A validated program with its calendar and each policy version's families, built once."""

    config: ProgramConfig
    calendar: ProgramCalendar
    versions: tuple[CompiledVersion, ...]
    _in_force: dict[date, tuple[CompiledVersion, RuleContext]] = field(
        default_factory=dict, repr=False, compare=False
    )

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
                for kind, days in getattr(family, "activity_wake_days", {}).items():
                    found[kind] = min(days, found.get(kind, days))
        return found

    @cached_property
    def activity_history(self) -> frozenset[ActivityKind]:
        """Activity kinds some family reads every date of (``EnrollmentState.history_on``)."""
        kinds: set[ActivityKind] = set()
        for version in self.versions:
            for family in version.families:
                kinds.update(getattr(family, "activity_history", ()))
        return frozenset(kinds)

    def next_change_after(self, day: date) -> date | None:
        """The first day after ``day`` on which a policy version or a calendar change starts."""
        index = bisect_right(self.change_days, day)
        return self.change_days[index] if index < len(self.change_days) else None


def _resets(family: RuleFamily) -> bool:
    """Whether activity ends everything ``family`` has pending (``activity_reset_days``).

    Only a family with a ``plan`` gives its wake date apart from the others', and only one that
    stops at the end date fits ``WakeReset.until``.
    """
    return (
        bool(getattr(family, "activity_reset_days", None))
        and getattr(family, "plan", None) is not None
        and not family.runs_after_end
    )


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
        resumed = replace(state, status="active", held=None)
        after = apply_evaluation(resumed, Evaluation((rejected,), "active", None), day)
        return Evaluation(decisions=(rejected,), status="active", wake_on=_next_wake(program, after, day))
    family = _family_of(program, day, held.rule_id)
    redate = getattr(family, "redate", None)
    taken = redate(held, day, ctx) if redate is not None else replace(held, on=day)
    taken = replace(taken, on=day, facts={**taken.facts, **who}, reason=None)
    return Evaluation(decisions=(taken,), status=taken.status_after or "active", wake_on=None)


def _families(program: CompiledProgram, state: EnrollmentState, day: date) -> tuple[RuleFamily, ...]:
    ended = state.end_date is not None and day > state.end_date
    return program.version_on(day).by_scope[(state.scope, ended)]


def _first_unseen_input(state: EnrollmentState, day: date) -> date | None:
    """The first evaluation after ``day`` that sees an input stored but not yet seen."""
    later = [i.on for i in state.inputs if i.on >= day]
    return min(later) + timedelta(days=1) if later else None


def _next_wake(program: CompiledProgram, state: EnrollmentState, day: date) -> date | None:
    ctx = program.context_on(day)
    found = [(family, family.next_wake(state, day, ctx)) for family in _families(program, state, day)]
    return _earliest_wake(program, state, day, found)


def _earliest_wake(
    program: CompiledProgram,
    state: EnrollmentState,
    day: date,
    found: list[tuple[RuleFamily, date | None]],
) -> date | None:
    """The first of the families' wake dates and the days an input, a version or a calendar
    change can bring a due date forward."""
    wake: date | None = None
    for family, when in found:
        wake = _sooner(wake, when, state.end_date, family.runs_after_end)
    return _sooner_than_inputs_and_changes(program, state, day, wake)


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
    decisions: list[Decision] = []
    acting: tuple[date, int, list[Decision]] | None = None
    # Families with a ``plan`` give their wake date with their decisions (one look, not two);
    # ``planned`` stays True while every family so far had one. ``lapse`` is the wake date of
    # the families whose pending dates activity ends (``WakeReset``), ``kept`` the others'.
    # (``_sooner`` written out: this loop runs for every enrollment looked at.)
    planned = True
    kept: date | None = None
    lapse: date | None = None
    for order, (family, plan, resets) in enumerate(version.plans[scope]):
        if plan is not None:
            found, when = plan(state, day, ctx)
            # Past the end date only families that answer inputs remain, and inputs wake by themselves.
            if when is not None and (end is None or when <= end or family.runs_after_end):
                if resets:
                    if lapse is None or when < lapse:
                        lapse = when
                elif kept is None or when < kept:
                    kept = when
        else:
            found = family.decide(state, day, ctx)
            planned = False
        if not found:
            continue
        actions = [d.due_on for d in found if d.kind == "action" and d.status_after]
        if actions and (acting is None or min(actions) < acting[0]):
            # On a catch-up day two families may both end the enrollment; the one whose date
            # came first is the one that ended it (day by day it would have acted alone).
            acting = (min(actions), order, list(found))
        decisions.extend(found)
    if acting is not None:
        decisions = acting[2]
    if version.filters:
        chosen = decisions
        for decision_filter in version.filters:
            decisions = decision_filter.apply(decisions, state, day, ctx)
        if decisions != chosen:
            planned = False  # a filter changed what is recorded: ask each family again
    if decisions:
        taken = _taken(decisions, ctx)
        if taken is not None:
            return taken
        for decision in decisions:
            if decision.end_date_after is not None:
                planned = False  # wake dates are bounded by the end date, which this moves
    if planned:
        if state.inputs or program.change_days:
            kept = _sooner_than_inputs_and_changes(program, state, day, kept)
        wake = lapse if kept is None or (lapse is not None and lapse < kept) else kept
        reset = version.wake_reset(scope, kept, end) if version.reset_days[scope] else None
        return Evaluation(tuple(decisions), status, wake, None, reset)
    after = apply_evaluation(state, Evaluation(tuple(decisions), state.status, None), day)
    return Evaluation(
        decisions=tuple(decisions), status=state.status, wake_on=_next_wake(program, after, day)
    )


def _taken(decisions: list[Decision], ctx: RuleContext) -> Evaluation | None:
    """The evaluation when one of ``decisions`` ends the enrollment (or asks approval to)."""
    for action in decisions:
        if action.kind == "action" and action.status_after is not None:
            break
    else:
        return None
    if ctx.config.approvals.get(action.rule_id) == "needs_approval":
        request = replace(
            action,
            kind="notice",
            episode=action.episode + APPROVAL_SUFFIX,
            recipients=("program_admin",),
            deadlines={},
            status_after=None,
            facts={**action.facts, "approval": "requested"},
            reason=AWAITING_APPROVAL,
        )
        others = [d for d in decisions if d is not action]
        return Evaluation(decisions=(*others, request), status="held", wake_on=None, held=action)
    return Evaluation(decisions=tuple(decisions), status=action.status_after, wake_on=None)


def apply_evaluation(state: EnrollmentState, evaluation: Evaluation, day: date) -> EnrollmentState:
    """The state the next evaluation sees, once ``evaluation`` has been recorded."""
    if not evaluation.decisions:
        return state.evolve(status=evaluation.status, checked_through=day, held=evaluation.held)
    fired = {**state.fired, **{d.fired_key: day for d in evaluation.decisions}}
    end_date = moved_end_date(evaluation.decisions, state.end_date)
    return state.evolve(
        status=evaluation.status, fired=fired, checked_through=day, held=evaluation.held, end_date=end_date
    )


def moved_end_date(decisions: Iterable[Decision], end_date: date | None) -> date | None:
    """The enrollment's end date once ``decisions`` are recorded (a granted extension moves it;
    of several, the latest date stands)."""
    moved = [d.end_date_after for d in decisions if d.end_date_after is not None]
    return max(moved) if moved else end_date
