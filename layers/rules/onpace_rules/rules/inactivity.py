"""Inactivity series: a warning at day N without qualifying activity, then an action at day M.

Used by
- CSU Global engagement (shared/seeds/003_87de092a038aeaf4.txt): "students who have not actively
  engaged for 14 days will receive an At-Risk email ... students who do not engage within 21
  days will be administratively withdrawn" — ``csu.engagement.at_risk_14d`` and
  ``csu.engagement.withdraw_21d``, calendar days, engagement = submissions, mastery exercises,
  discussion posts/replies and forum questions (log-ins and page views are not engagement);
- CPS Online participation (shared/seeds/000_bc3aac7a290565fd.txt): "dropped ... after 20
  consecutive days of non-attendance ... must log and submit at least one assignment" —
  ``cps.participation.warning`` (day 15) and ``cps.participation.drop_20d``, school days.

An episode is one lapse: it starts at the last qualifying activity (or the day before the
enrollment starts) and ends with the next qualifying activity.

Catalogue convention "Lapses count whole days": "N days without X" is complete when N whole days
after the anchor have ended with no qualifying activity; the rule fires on the evaluation of the
day after the N-th day, so activity dated on the N-th day itself still prevents it ("submit ...
by that date"). A warning names that N-th day of the action as ``last_day`` and the action's own
date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import ONE_DAY, ActivityKind, EnrollmentState, EnrollmentStatus, Scope
from onpace_rules.rules.clock import Clock, DayUnit, accommodations_seen
from onpace_rules.rules.contract import Resolution, RuleFamily
from onpace_rules.rules.helpers import SUPERSEDED, episode_anchor, fired_on, iso, since_episode


class InactivityParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    warning_day: int = Field(ge=1)
    action_day: int = Field(ge=1)


@dataclass(frozen=True)
class InactivitySeries(RuleFamily):
    """Warning after ``warning_day`` whole days without qualifying activity, action after
    ``action_day``; the action date a warning announces is never earlier than ``action_day -
    warning_day`` days after the warning was actually sent."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = False

    warning_id: str | None
    action_id: str | None
    kinds: frozenset[ActivityKind]
    unit: DayUnit
    params: InactivityParams
    warning_recipients: tuple[str, ...]
    action_recipients: tuple[str, ...]
    action_status: EnrollmentStatus
    action_deadline: str  # the name of the action's date in the warning ("withdrawal", "drop")
    appeal_window_school_days: int | None = None

    def __post_init__(self) -> None:
        w, a = self.params.warning_day, self.params.action_day
        if self.warning_id is not None and self.action_id is not None and w >= a:
            raise ValueError(
                f"parameters of {self.warning_id} and {self.action_id}: the warning (day {w}) "
                f"must come before the action (day {a})"
            )

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r for r in (self.warning_id, self.action_id) if r is not None)

    def _clock(self, state: EnrollmentState, day: date, calendar: ProgramCalendar) -> Clock:
        return Clock(calendar, self.unit, accommodations_seen(state, day))

    def _dates(self, state: EnrollmentState, anchor: date, episode: str, clock: Clock) -> tuple[date, date]:
        """(warning due, action due) for this episode, the action counted from the real warning.

        Each is the day after the N-th whole counting day after ``anchor`` (catalogue: "the rule
        fires on the evaluation of the day after the N-th such day"). Accommodations: paused
        days do not count, and ``extend_days`` is added to both days.
        """
        extra = clock.extension(anchor)
        warning_due = clock.add(anchor, self.params.warning_day + extra) + ONE_DAY
        action_due = clock.add(anchor, self.params.action_day + extra) + ONE_DAY
        sent = fired_on(state, self.warning_id, episode) if self.warning_id and self.action_id else None
        if sent is not None:
            action_due = max(action_due, self._announced_after(sent, clock))
        return warning_due, action_due

    def _announced_after(self, sent: date, clock: Clock) -> date:
        """The action date a warning sent on ``sent`` announces at the earliest: the family gets
        the whole grace (``action_day - warning_day`` days) counted as if the lapse's warning
        day had been the day before ``sent`` (catalogue: "an action never comes before the date
        the family was told", and a late warning never shortens the time to act)."""
        grace = self.params.action_day - self.params.warning_day
        return clock.add(sent - ONE_DAY, grace) + ONE_DAY

    def _facts(self, anchor: date, day: date, state: EnrollmentState, clock: Clock) -> dict[str, FactValue]:
        last = None if anchor < state.start_date else iso(anchor)
        return {
            "last_activity_date": last,
            "enrollment_start": iso(state.start_date),
            # Whole days without activity: those ended before the evaluation day.
            f"{self.unit}_days_without_activity": clock.elapsed(anchor, day - ONE_DAY),
            "qualifying_activity": ", ".join(sorted(self.kinds)),
            **clock.facts(),
        }

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Warning or action for the current lapse; the action supersedes a warning not yet sent."""
        return self.plan(state, day, ctx)[0]

    def plan(
        self, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> tuple[Sequence[Decision], date | None]:
        """``decide``, and the wake date ``next_wake`` gives once its decisions are recorded.

        Both come from the same two dates of the current lapse, worked out once.
        """
        anchor = state.inactivity_anchor(self.kinds, day)
        episode = since_episode(anchor)
        if self.action_id and fired_on(state, self.action_id, episode) is not None:
            return (), None
        clock = self._clock(state, day, ctx.calendar)
        warning_due, action_due = self._dates(state, anchor, episode, clock)
        warning_pending = self.warning_id is not None and fired_on(state, self.warning_id, episode) is None
        action_now = self.action_id is not None and action_due <= day
        if not action_now and not (warning_pending and warning_due <= day):
            # The common case: nothing due; facts are only worked out for a decision.
            candidates = [warning_due] if warning_pending else []
            if self.action_id is not None:
                candidates.append(action_due)
            upcoming = [d for d in candidates if d > day]
            return (), min(upcoming) if upcoming else self._new_lapse(day, clock)
        facts = self._facts(anchor, day, state, clock)
        decisions: list[Decision] = []
        if self.action_id is not None and action_due <= day:
            if warning_pending and self.warning_id is not None and warning_due <= day:
                decisions.append(
                    Decision(
                        rule_id=self.warning_id,
                        kind="skipped",
                        episode=episode,
                        on=day,
                        due_on=warning_due,
                        policy_version=ctx.policy_version,
                        facts=facts,
                        reason=SUPERSEDED,
                    )
                )
            deadlines: dict[str, date] = {}
            if self.appeal_window_school_days:
                deadlines["appeal"] = ctx.calendar.school_days_after(day, self.appeal_window_school_days)
            decisions.append(
                Decision(
                    rule_id=self.action_id,
                    kind="action",
                    episode=episode,
                    on=day,
                    due_on=action_due,
                    policy_version=ctx.policy_version,
                    recipients=self.action_recipients,
                    deadlines=deadlines,
                    facts=facts,
                    status_after=self.action_status,
                )
            )
            return decisions, None
        assert self.warning_id is not None  # a warning is due (checked above)
        announced: date | None = None
        deadlines = {}
        if self.action_id is not None:
            announced = max(action_due, self._announced_after(day, clock))
            # Activity dated the day before the action is the last that still prevents it.
            deadlines = {"last_day": announced - ONE_DAY, self.action_deadline: announced}
        decisions.append(
            Decision(
                rule_id=self.warning_id,
                kind="notice",
                episode=episode,
                on=day,
                due_on=warning_due,
                policy_version=ctx.policy_version,
                recipients=self.warning_recipients,
                deadlines=deadlines,
                facts=facts,
            )
        )
        # Sent today, the warning leaves the action, counted from today at the earliest.
        return decisions, announced if announced is not None else self._new_lapse(day, clock)

    def resolved(
        self, state: EnrollmentState, rule_id: str, episode: str, seen_on: date, ctx: RuleContext
    ) -> Resolution | None:
        """The warning's lapse is over when qualifying activity the evaluation of ``seen_on``
        sees moved the anchor past the episode's (catalogue conventions: "a new qualifying
        activity ends the episode"): the same anchor ``plan`` counts from."""
        started = episode_anchor(episode)
        if rule_id != self.warning_id or started is None:
            return None
        anchor = state.inactivity_anchor(self.kinds, seen_on)
        if anchor <= started:
            return None  # no qualifying activity since (a voided one moves it earlier: still lapsed)
        kind = min(k for k in self.kinds if state.last_before(k, seen_on) == anchor)
        return Resolution(
            rule_id=rule_id,
            episode=episode,
            fact=kind,
            on=anchor,
            detail={"activity": kind, "activity_on": iso(anchor), "lapse_since": iso(started)},
        )

    def _new_lapse(self, day: date, clock: Clock) -> date:
        """The first date of a lapse that activity dated ``day`` (not seen yet) would start."""
        return clock.add(day, self._first_day) + ONE_DAY

    @property
    def _first_day(self) -> int:
        """The fewest whole days of a lapse before anything of this series can be due: the
        warning's, or the action's in a series without a warning."""
        return self.params.warning_day if self.warning_id is not None else self.params.action_day

    @property
    def activity_wake_days(self) -> dict[ActivityKind, int]:
        """Once the warning went out, the wake date is the action's, ``action_day - warning_day``
        days later. When that grace is longer than ``warning_day``, activity right after the
        warning starts a lapse whose warning comes first: such activity must bring the wake
        date forward (``RuleFamily.next_wake``). With the sources' thresholds (14/21, 15/20)
        it never does. The new lapse's warning comes the day after its ``warning_day``-th whole
        day: ``warning_day + 1`` calendar days after the activity at the earliest."""
        if self.warning_id is None or self.action_id is None:
            return {}
        if self.params.action_day - self.params.warning_day <= self.params.warning_day:
            return {}
        return dict.fromkeys(self.kinds, self.params.warning_day + 1)

    def redate(self, decision: Decision, day: date, ctx: RuleContext) -> Decision:
        """The action taken on ``day`` (after approval): an appeal window counts from then."""
        if not self.appeal_window_school_days:
            return replace(decision, on=day)
        appeal = ctx.calendar.school_days_after(day, self.appeal_window_school_days)
        return replace(decision, on=day, deadlines={**decision.deadlines, "appeal": appeal})

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        # Facts seen "tomorrow" include today's activity, but the anchor can only move later,
        # so computing from what is known now gives a date no later than the true one.
        anchor = state.inactivity_anchor(self.kinds, day + timedelta(days=1))
        episode = since_episode(anchor)
        if self.action_id and fired_on(state, self.action_id, episode) is not None:
            return None
        clock = self._clock(state, day + timedelta(days=1), ctx.calendar)
        warning_due, action_due = self._dates(state, anchor, episode, clock)
        candidates = []
        if self.warning_id is not None and fired_on(state, self.warning_id, episode) is None:
            candidates.append(warning_due)
        if self.action_id is not None:
            candidates.append(action_due)
        upcoming = [d for d in candidates if d > day]
        if upcoming:
            return min(upcoming)
        # This lapse has nothing left; a new one starts with activity on ``day`` at the earliest.
        return self._new_lapse(day, clock)
