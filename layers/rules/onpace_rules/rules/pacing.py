"""CPS Online pacing checkpoint: warnings two weeks and one week before IPR #1, then the drop.

Source: shared/seeds/000_bc3aac7a290565fd.txt — "Any student that is not at least 15% complete in
any online courses by IPR#1 will be dropped from that online course ... Students and
parents/guardians will receive warning emails as follows: Two weeks prior to the IPR date; One
week prior to the IPR date." and "Students are allowed one academic pacing appeal per academic
year." Catalogue section 1: ``cps.pacing.ipr_warning_2w``,
``cps.pacing.ipr_warning_1w``, ``cps.pacing.ipr_drop``.

No data is not zero (catalogue conventions): a student whose LMS never reported a percent
complete is neither warned nor dropped; the program administrator gets one ``data.missing``
alert per enrollment and checkpoint, dated the first day a pacing rule needed the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import ONE_DAY, EnrollmentState, Scope
from onpace_rules.inputs import Appeal
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import Resolution, RuleFamily, RuleModule
from onpace_rules.rules.data_alerts import missing_value_alert
from onpace_rules.rules.helpers import SUPERSEDED, enabled, fired_on, merged_params, validated

WARNING_2W = "cps.pacing.ipr_warning_2w"
WARNING_1W = "cps.pacing.ipr_warning_1w"
DROP = "cps.pacing.ipr_drop"

FAMILY_RULE_IDS = (WARNING_2W, WARNING_1W, DROP)
RULE_IDS = FAMILY_RULE_IDS
TITLES = {
    WARNING_2W: "Pacing warning, two weeks before IPR #1",
    WARNING_1W: "Pacing warning, one week before IPR #1",
    DROP: "Pacing drop at IPR #1",
}
_WARNING_OFFSET_INDEX = {WARNING_2W: 0, WARNING_1W: 1}


class PacingParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pacing_threshold: float = Field(default=0.15, gt=0, le=1)
    warning_offsets_days: tuple[int, int] = (14, 7)
    appeal_window_school_days: int = Field(default=2, ge=1)
    pacing_appeals_per_year: int = Field(default=1, ge=0)


@dataclass(frozen=True)
class PacingCheckpoint(RuleFamily):
    """The pacing series for one program; only the rule ids the program enables take part."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = False

    enabled: frozenset[str]
    params: PacingParams
    rule_ids: tuple[str, ...] = FAMILY_RULE_IDS
    _schedules: dict[date, list[tuple[str, date]]] = field(default_factory=dict, compare=False, repr=False)
    _episodes: dict[date, tuple[str, tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def _schedule(self, ipr: date) -> list[tuple[str, date]]:
        """(rule id, due date) in order; the drop is applied "at the end of IPR #1" i.e. on IPR + 1."""
        cached = self._schedules.get(ipr)
        if cached is not None:
            return cached
        due = [
            (rule_id, ipr - timedelta(days=self.params.warning_offsets_days[index]))
            for rule_id, index in _WARNING_OFFSET_INDEX.items()
        ]
        due.append((DROP, ipr + timedelta(days=1)))
        schedule = [(rule_id, when) for rule_id, when in due if rule_id in self.enabled]
        self._schedules[ipr] = schedule
        return schedule

    def _episode(self, ipr: date) -> tuple[str, tuple[str, ...]]:
        """The episode of this IPR date and each scheduled rule's ``fired`` key in it (memoised:
        asked on every evaluation, and a program has a few IPR dates)."""
        cached = self._episodes.get(ipr)
        if cached is None:
            episode = f"ipr-{ipr.isoformat()}"
            keys = tuple(f"{rule_id}#{episode}" for rule_id, _ in self._schedule(ipr))
            cached = self._episodes[ipr] = (episode, keys)
        return cached

    @staticmethod
    def _considered_after(state: EnrollmentState) -> date:
        """Due dates up to this day have already had their evaluation (or predate the enrollment).

        The pacing condition can change between due dates, so a warning whose date was evaluated
        with the student above the threshold must not come back later as a "missed" warning.
        """
        before_start = state.start_date - ONE_DAY
        checked = state.checked_through
        if checked is None or checked < before_start:
            return before_start
        return checked

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        return self.plan(state, day, ctx)[0]

    def plan(
        self, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> tuple[Sequence[Decision], date | None]:
        """Warn or drop when the student is below the pacing threshold (catalogue section 1).

        On catch-up, of the warnings and drop whose dates have come, only the latest is taken;
        the earlier ones are recorded as skipped (superseded).
        """
        term = ctx.config.term(state.term_id)
        if term is None or term.ipr is None:
            return (), None
        episode, keys = self._episode(term.ipr)
        after = self._considered_after(state)
        fired = state.fired
        due = []
        wake: date | None = None
        for (rule_id, when), key in zip(self._schedule(term.ipr), keys, strict=True):
            if when > after and key not in fired:
                if when <= day:
                    due.append((rule_id, when))
                elif wake is None or when < wake:
                    wake = when  # what ``next_wake`` gives once today is recorded as checked
        if not due:
            return (), wake
        percent = state.percent_complete
        if percent is None:
            # "no report yet: data.missing, no warning" / "none reported: data.missing, no drop"
            return (
                missing_value_alert(
                    state,
                    day,
                    ctx,
                    episode=episode,
                    value="percent_complete",
                    needed_by=[rule_id for rule_id, _ in due],
                    due_on=due[0][1],
                    facts={
                        "required_percent": self.params.pacing_threshold,
                        "ipr_date": term.ipr.isoformat(),
                    },
                    deadlines={"ipr": term.ipr},
                ),
                wake,
            )
        if percent >= self.params.pacing_threshold:
            return (), wake
        facts: dict[str, FactValue] = {
            "percent_complete": round(percent, 4),
            "required_percent": self.params.pacing_threshold,
            "ipr_date": term.ipr.isoformat(),
        }
        *earlier, (latest_id, latest_due) = due
        decisions = [
            Decision(
                rule_id=rule_id,
                kind="skipped",
                episode=episode,
                on=day,
                due_on=when,
                policy_version=ctx.policy_version,
                facts=facts,
                reason=SUPERSEDED,
            )
            for rule_id, when in earlier
        ]
        if latest_id == DROP:
            used = self._appeals_used(state, day, ctx)
            available = used < self.params.pacing_appeals_per_year
            deadlines = (
                {"appeal": ctx.calendar.school_days_after(day, self.params.appeal_window_school_days)}
                if available
                else {}
            )
            decisions.append(
                Decision(
                    rule_id=DROP,
                    kind="action",
                    episode=episode,
                    on=day,
                    due_on=latest_due,
                    policy_version=ctx.policy_version,
                    recipients=("student", "guardians", "counselor", "instructor"),
                    deadlines=deadlines,
                    facts={
                        **facts,
                        "appeal_available": available,
                        "pacing_appeals_used": used,
                        "pacing_appeals_per_year": self.params.pacing_appeals_per_year,
                        # "one academic pacing appeal per academic year": the student's other
                        # courses at this checkpoint share it, so a drop from two of them on one
                        # day is not two appeals (the notice names them).
                        "other_courses_this_term": list(state.roster.other_classes_in_term),
                    },
                    status_after="dropped",
                )
            )
            return decisions, None
        decisions.append(
            Decision(
                rule_id=latest_id,
                kind="notice",
                episode=episode,
                on=day,
                due_on=latest_due,
                policy_version=ctx.policy_version,
                recipients=("student", "guardians"),
                # The last day to reach the threshold, and the day the drop is taken after it.
                deadlines={"ipr": term.ipr, "drop": term.ipr + ONE_DAY},
                facts=facts,
            )
        )
        return decisions, wake

    def resolved(
        self, state: EnrollmentState, rule_id: str, episode: str, seen_on: date, ctx: RuleContext
    ) -> Resolution | None:
        """A pacing warning is resolved when the latest reported percent complete meets the
        threshold ``plan`` compares it with (catalogue: "a reported percent complete < 15 %");
        an unreported value resolves nothing ("No data is not zero")."""
        percent = state.percent_complete
        if rule_id not in _WARNING_OFFSET_INDEX or percent is None:
            return None
        if percent < self.params.pacing_threshold:
            return None
        reported = state.last_before("progress", seen_on)
        return Resolution(
            rule_id=rule_id,
            episode=episode,
            fact="percent_complete",
            on=reported,
            detail={"percent_complete": round(percent, 4), "required_percent": self.params.pacing_threshold},
        )

    @staticmethod
    def _appeals_used(state: EnrollmentState, day: date, ctx: RuleContext) -> int:
        """Pacing appeals made in the school year of ``day``, in any class (appeals are student-wide).

        "Students are allowed one academic pacing appeal per academic year." Without
        ``calendar.school_year_start`` every date has the same (unknown) school year.
        """
        year = ctx.config.school_year_of(day)
        return sum(
            1
            for item in state.seen_inputs(day, "appeal")
            if isinstance(item.data, Appeal)
            and item.data.rule == DROP
            and ctx.config.school_year_of(item.on) == year
        )

    def redate(self, decision: Decision, day: date, ctx: RuleContext) -> Decision:
        """The drop taken on ``day`` (after approval): the appeal window counts from then."""
        if decision.facts.get("appeal_available") is False:
            return replace(decision, on=day)  # the year's pacing appeal is used: nothing to offer
        appeal = ctx.calendar.school_days_after(day, self.params.appeal_window_school_days)
        return replace(decision, on=day, deadlines={**decision.deadlines, "appeal": appeal})

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        term = ctx.config.term(state.term_id)
        if term is None or term.ipr is None:
            return None
        episode = f"ipr-{term.ipr.isoformat()}"
        after = max(day, self._considered_after(state))
        upcoming = [
            when
            for rule_id, when in self._schedule(term.ipr)
            if when > after and fired_on(state, rule_id, episode) is None
        ]
        return min(upcoming, default=None)


def build(config: ProgramConfig) -> list[RuleFamily]:
    chosen = enabled(config.rules, RULE_IDS)
    if not chosen:
        return []
    return [
        PacingCheckpoint(
            enabled=chosen,
            params=validated(PacingParams, merged_params(config.rules, RULE_IDS), "cps.pacing.*"),
        )
    ]


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    warnings=frozenset({WARNING_2W, WARNING_1W}),
)
