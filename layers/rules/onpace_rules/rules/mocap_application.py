"""MOCAP applications: the district's 10-business-day decision, and written denials.

Source: shared/seeds/001_8e57e2cb68840ac6.txt, "A. Enrollment": "the District has ten (10)
business days from the date the application was submitted to the District to approve or deny
the application"; "When a District school denies a student's enrollment in a Program course, the
District will provide in writing a 'good cause' reason for the denial ... the student/parent/
guardian may seek review of the decision in the same manner as the District allows review from
denial of enrollment in an in-class course." Catalogue section 4:
``mocap.application.decision_due``, ``mocap.application.denial_reason``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onpace_rules.calendar import ProgramCalendar
from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import Application, ApplicationDecision, Input
from onpace_rules.rules.contract import RuleFamily
from onpace_rules.rules.helpers import SUPERSEDED, fired_on
from onpace_rules.rules.mocap_common import (
    DECISION_DUE,
    DENIAL_REASON,
    first_seen,
    unseen_input_wake,
    valid_decisions,
)

REFUSED_DENIAL = "refused: a denial needs a written good-cause reason"
OVERDUE = "overdue"
DEFAULT_REVIEW = (
    "You may ask for a review of this decision in the same manner as the District allows review "
    "of a denied enrollment in an in-class course."
)


class DecisionDueParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision_business_days: int = Field(default=10, ge=1)
    reminder_business_days: tuple[int, ...] = (5, 8)

    @model_validator(mode="after")
    def _reminders_before_due(self) -> DecisionDueParams:
        days = self.reminder_business_days
        if list(days) != sorted(set(days)) or any(not 1 <= d < self.decision_business_days for d in days):
            raise ValueError("reminder_business_days must rise and fall before decision_business_days")
        return self


class DenialParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review_procedure: str = Field(default=DEFAULT_REVIEW, min_length=1)
    # The seed gives no review deadline (it defers to the in-class procedure); a district that has
    # one sets it here and the letter states the date.
    review_window_business_days: int | None = Field(default=None, ge=1)


@dataclass(frozen=True)
class _Step:
    episode: str
    business_day: int
    due: date


@dataclass(frozen=True)
class DecisionDue(RuleFamily):
    """Reminders to the program administrator at business days 5 and 8, an overdue alert after 10."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = False
    params: DecisionDueParams
    rule_ids: tuple[str, ...] = (DECISION_DUE,)

    def _steps(self, application: Input, calendar: ProgramCalendar) -> list[_Step]:
        # "N business days from the date submitted" is the N-th business day strictly after it;
        # the overdue alert is "at the end of" day 10, i.e. the evaluation of the day after. The
        # episodes are the catalogue's: reminder-5, reminder-8 and overdue, one message each.
        steps = [
            _Step(f"{application.event_id}/reminder-{n}", n, calendar.business_days_after(application.on, n))
            for n in self.params.reminder_business_days
        ]
        last = self.params.decision_business_days
        due = calendar.business_days_after(application.on, last)
        steps.append(_Step(f"{application.event_id}/{OVERDUE}", last, due + timedelta(days=1)))
        return steps

    @staticmethod
    def _answered(application: Input, decisions: list[Input]) -> bool:
        return any(d.on >= application.on for d in decisions)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Remind while "ten (10) business days ... to approve or deny the application" run out.

        Of the steps whose day has come (catch-up), only the latest is sent; the earlier ones
        are recorded as skipped (superseded).
        """
        decisions = valid_decisions(state, day)
        refused = [
            d.on.isoformat()
            for d in state.seen_inputs(day, "application_decision")
            if d not in decisions and isinstance(d.data, ApplicationDecision)
        ]
        out: list[Decision] = []
        for application in state.seen_inputs(day, "application"):
            if self._answered(application, decisions):
                continue
            steps = self._steps(application, ctx.calendar)
            due = [s for s in steps if s.due <= day and fired_on(state, DECISION_DUE, s.episode) is None]
            if not due:
                continue
            decision_due = ctx.calendar.business_days_after(
                application.on, self.params.decision_business_days
            )
            data = application.data
            facts: dict[str, FactValue] = {
                "application_id": application.event_id,
                "application_date": application.on.isoformat(),
                "course": data.course if isinstance(data, Application) else None,
                "business_days_elapsed": ctx.calendar.business_days_between(application.on, day),
                "decision_business_days": self.params.decision_business_days,
                "refused_denial_dates": [r for r in refused if r >= application.on.isoformat()] or None,
            }
            *earlier, latest = due
            out.extend(
                Decision(
                    rule_id=DECISION_DUE,
                    kind="skipped",
                    episode=s.episode,
                    on=day,
                    due_on=s.due,
                    policy_version=ctx.policy_version,
                    facts={**facts, "business_day": s.business_day},
                    reason=SUPERSEDED,
                )
                for s in earlier
            )
            out.append(
                Decision(
                    rule_id=DECISION_DUE,
                    kind="notice",
                    episode=latest.episode,
                    on=day,
                    due_on=latest.due,
                    policy_version=ctx.policy_version,
                    recipients=("program_admin",),
                    deadlines={"decision_due": decision_due},
                    facts={
                        **facts,
                        "business_day": latest.business_day,
                        "step": OVERDUE if latest.episode.endswith(OVERDUE) else "reminder",
                    },
                )
            )
        return out

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        # Decisions not seen yet are ignored: that can only make the wake earlier, never later.
        tomorrow = day + timedelta(days=1)
        decisions = valid_decisions(state, tomorrow)
        wakes = [
            max(step.due, tomorrow)
            for application in state.inputs
            if application.kind == "application" and not self._answered(application, decisions)
            for step in self._steps(application, ctx.calendar)
            if fired_on(state, DECISION_DUE, step.episode) is None
        ]
        return min(wakes, default=None)


@dataclass(frozen=True)
class DenialReason(RuleFamily):
    """The denial letter to the family, or the denial refused when it has no written reason."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = False
    params: DenialParams
    rule_ids: tuple[str, ...] = (DENIAL_REASON,)

    @staticmethod
    def _denials(state: EnrollmentState, day: date | None = None) -> list[Input]:
        items = state.inputs if day is None else state.seen_inputs(day)
        return [
            i
            for i in items
            if i.kind == "application_decision"
            and isinstance(i.data, ApplicationDecision)
            and i.data.decision == "denied"
        ]

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "the District will provide in writing a 'good cause' reason for the denial".

        A denial without one is refused (recorded as skipped) and the application stays pending.
        """
        out: list[Decision] = []
        for denial in self._denials(state, day):
            if fired_on(state, DENIAL_REASON, denial.event_id) is not None:
                continue
            data = denial.data
            assert isinstance(data, ApplicationDecision)
            applications = [a for a in state.seen_inputs(day, "application") if a.on <= denial.on]
            facts: dict[str, FactValue] = {
                "denied_on": denial.on.isoformat(),
                "denied_by": data.by,
                "application_date": applications[-1].on.isoformat() if applications else None,
            }
            reason = (data.reason or "").strip()
            if not reason:
                out.append(
                    Decision(
                        rule_id=DENIAL_REASON,
                        kind="skipped",
                        episode=denial.event_id,
                        on=day,
                        due_on=first_seen(denial),
                        policy_version=ctx.policy_version,
                        facts=facts,
                        reason=REFUSED_DENIAL,
                    )
                )
                continue
            deadlines: dict[str, date] = {}
            if self.params.review_window_business_days is not None:
                deadlines["appeal"] = ctx.calendar.business_days_after(
                    day, self.params.review_window_business_days
                )
            out.append(
                Decision(
                    rule_id=DENIAL_REASON,
                    kind="notice",
                    episode=denial.event_id,
                    on=day,
                    due_on=first_seen(denial),
                    policy_version=ctx.policy_version,
                    recipients=("guardians",),
                    deadlines=deadlines,
                    facts={**facts, "reason": reason, "review_procedure": self.params.review_procedure},
                )
            )
        return out

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        return unseen_input_wake(self._denials(state), day)
