"""MOCAP course payments: monthly, prorated over the semester, capped, stopped when enrollment ends.

Source: shared/seeds/001_8e57e2cb68840ac6.txt, "B. Payment for Program Courses": "Payments will be
made on a monthly cost basis prorated over the semester enrolled ... Such payments per semester
will not exceed the market cost, but in no case more than 7% of the state adequacy target per
semester. In the event a Program participant discontinues their enrollment, the District will
discontinue monthly payments". Catalogue section 4: ``mocap.payment.schedule``.

How we read it:
- the semester amount is min(market cost, cap share x state adequacy target), with the values in
  force on the term's first day (a policy version changes the target from its effective date;
  a semester keeps one cap);
- it is spread over the calendar months of the term in proportion to the calendar days of the
  term the enrollment covers in each month (from its start, or the term's, to its known end);
- each month is paid in advance on ``payment_day_of_month`` (the 1st by default), or on the first
  covered day of a month the enrollment joins later; a drop or withdrawal ends the enrollment,
  so later months are never paid, and no payment is dated after the end date;
- amounts are rounded to cents on the running total, so the months add up to the rounded
  semester amount and never exceed the cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.program import Term
from onpace_rules.rules.base import RuleContext, fired_on, merged_params, validated
from onpace_rules.rules.mocap_common import PAYMENT, enrollment_term, is_denied

CENT = Decimal("0.01")


class PaymentParams(BaseModel):
    """No defaults for the money: a program must state its provider's price and the state's target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    market_cost_usd: Decimal = Field(gt=0, description="The provider's market cost of a semester course")
    adequacy_target_usd: Decimal = Field(gt=0, description="Missouri's state adequacy target (dated)")
    cap_share: Decimal = Field(default=Decimal("0.07"), gt=0, le=1)
    payment_day_of_month: int = Field(default=1, ge=1, le=28)
    provider: str | None = Field(default=None, min_length=1, description="The Program contract provider")


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


@dataclass(frozen=True)
class PaymentSchedule:
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
        superseded. A denied application means the District does not pay at all.
        """
        term = enrollment_term(ctx.config, state)
        if term is None or is_denied(state, day):
            return ()
        due = [
            m
            for m in self._months(state, term)
            if m.pay_on <= day and fired_on(state, PAYMENT, m.month) is None
        ]
        if not due:
            return ()
        params, version = self._amount_params(term, ctx)
        cap_by_target = _cents(params.adequacy_target_usd * params.cap_share)
        semester = min(params.market_cost_usd, cap_by_target)
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
        # A denial stops payments until a new decision arrives, and inputs wake by themselves.
        if term is None or is_denied(state, day + timedelta(days=1)):
            return None
        return min(
            (
                max(m.pay_on, day + timedelta(days=1))
                for m in self._months(state, term)
                if fired_on(state, PAYMENT, m.month) is None
            ),
            default=None,
        )
