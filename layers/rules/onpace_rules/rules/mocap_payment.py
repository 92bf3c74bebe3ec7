"""MOCAP course payments: monthly, prorated over the semester, capped, stopped when enrollment ends.

Source: shared/seeds/001_8e57e2cb68840ac6.txt, "B. Payment for Program Courses": "Payments will be
made on a monthly cost basis prorated over the semester enrolled ... Such payments per semester
will not exceed the market cost, but in no case more than 7% of the state adequacy target per
semester. In the event a Program participant discontinues their enrollment, the District will
discontinue monthly payments". Catalogue section 4: ``mocap.payment.schedule``.

Who is paid for: "Course costs will be paid by the District provided that the student: 1. Is
enrolled full-time and has attended a public school ... 2. Prior to enrolling in the Program
course has received District approval through the procedure set out in this Regulation 6190";
"Home school and private students wishing to take additional courses beyond their school's
regular course load will be permitted to enroll in Program courses under an agreement, including
the student's payment of tuition or course fees." The District knows both from its application
inputs (docs/webhooks.md): an ``application_decision`` approves or denies the enrollment's
application (a denial without a written reason decides nothing), and the ``application`` says
where the student is schooled (``schooling``: public, home_school or private).

How we read it:
- a course is paid for once the latest valid decision on its application is an approval, or —
  with no decision at all — when the enrollment started before ``approval_required_from`` (it
  predates application tracking); a denial, or no approval yet, pays nothing (months that came
  due while the approval was pending are paid once it is seen, like any catch-up);
- a home-school or private student's course is not paid (their family pays under an agreement)
  unless the program sets ``pay_home_school_and_private``;
- the semester amount is min(market cost, cap share x state adequacy target), with the values in
  force on the term's first day (a policy version changes the target from its effective date;
  a semester keeps one cap), rounded *down* to cents: "in no case more than 7%" must hold after
  rounding too;
- it is spread over the calendar months of the term in proportion to the calendar days of the
  term the enrollment covers in each month (from its start, or the term's, to its known end);
- each month is paid in advance on ``payment_day_of_month`` (the 1st by default), or on the first
  covered day of a month the enrollment joins later; a drop or withdrawal ends the enrollment,
  so later months are never paid, and no payment is dated after the end date;
- amounts are rounded to cents (half up) on the running total, so the months add up to the
  semester amount and never exceed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import ClassVar

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import Application
from onpace_rules.program import Term
from onpace_rules.rules.contract import RuleFamily
from onpace_rules.rules.helpers import fired_on, merged_params, validated
from onpace_rules.rules.mocap_common import PAYMENT, enrollment_term, latest_decision

CENT = Decimal("0.01")


class PaymentParams(BaseModel):
    """No defaults for the money: a program must state its provider's price and the state's target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    market_cost_usd: Decimal = Field(gt=0, description="The provider's market cost of a semester course")
    adequacy_target_usd: Decimal = Field(gt=0, description="Missouri's state adequacy target (dated)")
    cap_share: Decimal = Field(default=Decimal("0.07"), gt=0, le=1)
    payment_day_of_month: int = Field(default=1, ge=1, le=28)
    provider: str | None = Field(default=None, min_length=1, description="The Program contract provider")
    approval_required_from: date | None = Field(
        default=None,
        description="Enrollments starting before this date predate application tracking and are "
        "paid without a recorded approval; None: every enrollment needs one",
    )
    pay_home_school_and_private: bool = Field(
        default=False, description="Pay for home-school and private students' courses too"
    )


@dataclass(frozen=True)
class _Month:
    month: str  # YYYY-MM, the episode
    pay_on: date
    first: date  # first covered day of the month
    last: date  # last covered day of the month
    days_before: int  # covered days in earlier months
    days: int


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _cents_down(value: Decimal) -> Decimal:
    """A cap in cents: never more than the limit it is rounded from."""
    return value.quantize(CENT, rounding=ROUND_DOWN)


def paid_for(state: EnrollmentState, day: date, params: PaymentParams) -> dict[str, FactValue] | None:
    """Why the District pays for this course, as facts (None: it does not pay, as of ``day``).

    Seed: paid "provided that the student ... Prior to enrolling in the Program course has received
    District approval"; home school and private students enroll "under an agreement, including the
    student's payment of tuition or course fees".
    """
    decision = latest_decision(state, day)
    if decision is not None:
        if decision.data.decision != "approved":
            return None
        approval: dict[str, FactValue] = {"approval": "approved", "approved_on": decision.on.isoformat()}
    elif params.approval_required_from is not None and state.start_date < params.approval_required_from:
        approval = {"approval": "predates_application_tracking", "approved_on": None}
    else:
        return None  # no approval (yet)
    applications = [a.data for a in state.seen_inputs(day, "application") if isinstance(a.data, Application)]
    schooling = applications[-1].schooling if applications else "public"
    if schooling != "public" and not params.pay_home_school_and_private:
        return None
    return {**approval, "schooling": schooling}


@dataclass(frozen=True)
class PaymentSchedule(RuleFamily):
    """One payment notice per month of the term to the program administrator."""

    scope: ClassVar[Scope] = "enrollment"
    # Months due before the end date are still paid when an outage delays them past it.
    runs_after_end: ClassVar[bool] = True
    params: PaymentParams
    rule_ids: tuple[str, ...] = (PAYMENT,)

    def _months(self, state: EnrollmentState, term: Term) -> list[_Month]:
        start = max(term.start, state.start_date)
        end = term.end if state.end_date is None else min(term.end, state.end_date)
        months: list[_Month] = []
        month_start = start.replace(day=1)
        covered = 0
        while month_start <= end:
            first = max(start, month_start)
            last = min(end, month_start + relativedelta(months=1) - timedelta(days=1))
            payday = month_start.replace(day=self.params.payment_day_of_month)
            pay_on = min(max(payday, first), last)
            days = (last - first).days + 1
            months.append(_Month(f"{month_start:%Y-%m}", pay_on, first, last, covered, days))
            covered += days
            month_start += relativedelta(months=1)
        return months

    def _amount_params(self, term: Term, ctx: RuleContext) -> tuple[PaymentParams, str]:
        """The values in force on the term's first day, when the rule was on then."""
        then = ctx.on(term.start)
        if PAYMENT not in then.config.rules:
            return self.params, ctx.policy_version
        return validated(
            PaymentParams, merged_params(then.config.rules, (PAYMENT,)), PAYMENT
        ), then.policy_version

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "Payments will be made on a monthly cost basis prorated over the semester enrolled."

        Each month is its own payment: after an outage every month due is paid (late), none is
        superseded. Nothing is paid for a course the District does not pay for (``paid_for``).
        """
        term = enrollment_term(ctx.config, state)
        if term is None:
            return ()
        due = [
            m
            for m in self._months(state, term)
            if m.pay_on <= day and fired_on(state, PAYMENT, m.month) is None
        ]
        if not due:
            return ()
        why = paid_for(state, day, self.params)
        if why is None:
            return ()
        params, version = self._amount_params(term, ctx)
        cap_by_target = _cents_down(params.adequacy_target_usd * params.cap_share)
        semester = _cents_down(min(params.market_cost_usd, cap_by_target))
        term_days = (term.end - term.start).days + 1

        def paid_through(days: int) -> Decimal:
            return _cents(semester * days / term_days)

        decisions = []
        for m in due:
            before = paid_through(m.days_before)
            to_date = paid_through(m.days_before + m.days)
            facts: dict[str, FactValue] = {
                "month": m.month,
                "amount_usd": float(to_date - before),
                "paid_to_date_usd": float(to_date),
                "semester_cap_usd": float(semester),
                "market_cost_usd": float(params.market_cost_usd),
                "adequacy_target_usd": float(params.adequacy_target_usd),
                "cap_share": float(params.cap_share),
                "cap_basis": "market_cost" if params.market_cost_usd <= cap_by_target else "adequacy_target",
                "provider": params.provider,
                "term_id": term.id,
                "term_start": term.start.isoformat(),
                "term_end": term.end.isoformat(),
                "covered_from": m.first.isoformat(),
                "covered_to": m.last.isoformat(),
                "covered_days": m.days,
                "term_days": term_days,
                **why,
            }
            decisions.append(
                Decision(
                    rule_id=PAYMENT,
                    kind="notice",
                    episode=m.month,
                    on=day,
                    due_on=m.pay_on,
                    policy_version=version,
                    recipients=("program_admin",),
                    facts=facts,
                )
            )
        return decisions

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        term = enrollment_term(ctx.config, state)
        # Without an approval nothing is paid until an input (a decision) arrives, and inputs
        # wake by themselves.
        if term is None or paid_for(state, day + timedelta(days=1), self.params) is None:
            return None
        return min(
            (
                max(m.pay_on, day + timedelta(days=1))
                for m in self._months(state, term)
                if fired_on(state, PAYMENT, m.month) is None
            ),
            default=None,
        )
