"""MSC Online course records: drops and their fees, course extensions, the grade verification window.

Source: shared/seeds/004_50d77f9850a1db80.txt. Catalogue section 2:
- ``msc.enrollment.withdraw_window`` — "During the first ten (10) calendar days of enrollment,
  students may withdraw from courses without a grade penalty"; "the school district will be
  assessed a $100.00 drop fee" (2014 guidelines; "$110.00" in the pricing schedule); "If I drop
  from a course after the first ten (10) calendar days, a grade of F will be issued" and "the full
  fee per student per course";
- ``msc.extension.eligibility`` — "counselors may request an extension for a student not to exceed
  two (2) weeks. In order for an extension to be granted, 50% of the course must be completed.
  Extensions will not be granted during the last fourteen (14) days of a course.";
- ``msc.grades.verification_window`` — "The student, parent or school will have fifteen (15)
  calendar days to check and verify the accuracy of the grade report. After fifteen (15) calendar
  days, the grade issued will be final."

All three answer inputs (a drop request, an extension request, a final grade). They also run after
the course end date, because a request made on the last day is seen only by the next evaluation;
each judges the request by the date it was made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import DropRequest, ExtensionRequest, FinalGrade, Input
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.base import AnswersInputs, RuleContext, RuleFamily, fired_on, merged_params, validated

WITHDRAW_WINDOW = "msc.enrollment.withdraw_window"
EXTENSION = "msc.extension.eligibility"
GRANTED = "/granted-"  # a granted answer's episode: "<request event id>/granted-<days>"
VERIFICATION = "msc.grades.verification_window"
RULE_IDS = (WITHDRAW_WINDOW, EXTENSION, VERIFICATION)
TITLES = {
    WITHDRAW_WINDOW: "Drop: inside the 10-day withdraw period (drop fee) or after it (grade F, full fee)",
    EXTENSION: "Course extension request: granted or refused",
    VERIFICATION: "Grade report: 15 days to verify before the grade is final",
}
# The catalogue names no one for a drop ("no notice"): it is a record on the enrollment for billing.
SILENT = frozenset({WITHDRAW_WINDOW})
# Extension answers go to the counselor (and the Program Director): no family notice.
STAFF_ONLY = frozenset({EXTENSION})

AFTER_END = "requested after the course end date"


class WithdrawParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    withdraw_period_days: int = Field(default=10, ge=0)
    # The newer pricing schedule's value; a program gives the 2014 value ($100.00) through versions.
    drop_fee_usd: float = Field(default=110.0, ge=0)
    course_fee_usd: float = Field(default=425.0, ge=0, description="$425 member, $485, $515, $200, $0")
    # "a $25.00 registration fee charged for any student enrollment received which is withdrawn
    # before the course notification email is sent" — read as: dropped before the course starts.
    registration_fee_usd: float = Field(default=25.0, ge=0)


class ExtensionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_percent_complete: float = Field(default=0.5, gt=0, le=1)
    no_extension_last_days: int = Field(default=14, ge=0)
    max_extension_days: int = Field(default=14, ge=1)


class VerificationParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    verification_days: int = Field(default=15, ge=1)


def for_this_class(state: EnrollmentState, item: Input) -> bool:
    """Grades are student-wide inputs: keep the ones of this enrollment's class."""
    return item.class_id is None or state.class_id is None or item.class_id == state.class_id


def _usd(amount: float) -> float:
    return round(amount, 2)


@dataclass(frozen=True)
class WithdrawWindow(AnswersInputs):
    """A drop request ends the enrollment; its date decides the grade and the fee."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True

    params: WithdrawParams
    rule_ids: tuple[str, ...] = (WITHDRAW_WINDOW,)

    def _params_on(self, ctx: RuleContext, day: date) -> tuple[WithdrawParams, str]:
        """Fees are dated values: the policy version in force on the drop date sets them."""
        then = ctx.on(day)
        if WITHDRAW_WINDOW not in then.config.rules:
            return self.params, ctx.policy_version
        overrides = merged_params(then.config.rules, (WITHDRAW_WINDOW,))
        return validated(WithdrawParams, overrides, WITHDRAW_WINDOW), then.policy_version

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """The first unanswered drop request: drop fee and no grade inside the period, else F and full fee."""
        for item in state.seen_inputs(day, "drop_request"):
            if not for_this_class(state, item) or fired_on(state, WITHDRAW_WINDOW, item.event_id):
                continue
            assert isinstance(item.data, DropRequest)
            return (self._answer(state, item, day, ctx),)
        return ()

    def _answer(self, state: EnrollmentState, item: Input, day: date, ctx: RuleContext) -> Decision:
        params, version = self._params_on(ctx, item.on)
        period_end = state.start_date + timedelta(days=params.withdraw_period_days - 1)
        facts: dict[str, FactValue] = {
            "drop_date": item.on.isoformat(),
            "requested_by": item.data.requested_by,
            "enrollment_start": state.start_date.isoformat(),
            "withdraw_period_end": period_end.isoformat(),
        }
        if state.end_date is not None and item.on > state.end_date:
            return Decision(
                rule_id=WITHDRAW_WINDOW,
                kind="skipped",
                episode=item.event_id,
                on=day,
                due_on=item.on + timedelta(days=1),
                policy_version=version,
                facts={**facts, "course_end": state.end_date.isoformat()},
                reason=AFTER_END,
            )
        within = item.on <= period_end
        before_start = item.on < state.start_date
        fee_kind, fee = (
            ("registration_fee", params.registration_fee_usd)
            if before_start
            else ("drop_fee", params.drop_fee_usd)
            if within
            else ("full_course_fee", params.course_fee_usd)
        )
        facts |= {
            "within_withdraw_period": within,
            "counts_as_student_enrollment": not within,
            "grade": None if within else "F",
            "fee_kind": fee_kind,
            "fee_usd": _usd(fee),
        }
        return Decision(
            rule_id=WITHDRAW_WINDOW,
            kind="action",
            episode=item.event_id,
            on=day,
            due_on=item.on + timedelta(days=1),
            policy_version=version,
            facts=facts,
            status_after="dropped",
        )


@dataclass(frozen=True)
class ExtensionEligibility(AnswersInputs):
    """Grant or refuse a counselor's extension request, with every reason that applies."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True

    params: ExtensionParams
    rule_ids: tuple[str, ...] = (EXTENSION,)

    def _course_end(self, state: EnrollmentState, ctx: RuleContext) -> date | None:
        if state.end_date is not None:
            return state.end_date
        term = ctx.config.term(state.term_id)
        return term.end if term is not None else None

    @staticmethod
    def _answered(state: EnrollmentState, request: Input) -> bool:
        granted = f"{EXTENSION}#{request.event_id}{GRANTED}"
        return fired_on(state, EXTENSION, request.event_id) is not None or any(
            key.startswith(granted) for key in state.fired
        )

    @staticmethod
    def _granted_days(state: EnrollmentState) -> int:
        """Days granted by earlier requests of this enrollment: each granted answer's episode
        says how many ("<request>/granted-<days>"), so a later request is judged against them."""
        prefix = f"{EXTENSION}#"
        return sum(
            int(key.rsplit(GRANTED, 1)[1]) for key in state.fired if key.startswith(prefix) and GRANTED in key
        )

    def _refusals(self, request: Input, percent: float | None, end: date | None, already: int) -> list[str]:
        assert isinstance(request.data, ExtensionRequest)
        p = self.params
        reasons = []
        if percent is None or percent < p.min_percent_complete:
            reasons.append("less_than_required_percent_complete")
        if end is None:
            reasons.append("course_end_unknown")
        elif request.on > end:
            reasons.append("course_already_ended")
        elif request.on > end - timedelta(days=p.no_extension_last_days):
            reasons.append("within_last_days_of_course")
        if already + request.data.days > p.max_extension_days:
            reasons.append("more_days_than_allowed")  # "not to exceed two (2) weeks", in all
        return reasons

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Every unanswered request of this class: granted (``extension_end``) or refused with reasons.

        Requests are judged in order; the days granted before count against the two weeks, and
        the end date moves with each grant. The percent complete is the latest the evaluation sees.
        """
        decisions = []
        end = self._course_end(state, ctx)
        already = self._granted_days(state)
        percent = round(state.percent_complete, 4) if state.percent_complete is not None else None
        for item in state.seen_inputs(day, "extension_request"):
            if not for_this_class(state, item) or self._answered(state, item):
                continue
            assert isinstance(item.data, ExtensionRequest)
            refusals = self._refusals(item, state.percent_complete, end, already)
            granted = not refusals
            last_days_start = (
                end - timedelta(days=self.params.no_extension_last_days - 1) if end is not None else None
            )
            # A granted extension moves the course's end date, so the rules that stop there
            # (the progress ladder, the grade report's timing) run until the new one.
            extended = end + timedelta(days=item.data.days) if granted and end is not None else None
            facts: dict[str, FactValue] = {
                "decision": "granted" if granted else "refused",
                "refused_for": refusals,
                "request_date": item.on.isoformat(),
                "requested_by": item.data.requested_by,
                "requested_days": item.data.days,
                "max_extension_days": self.params.max_extension_days,
                "percent_complete": percent,
                "required_percent": self.params.min_percent_complete,
                "course_end": end.isoformat() if end is not None else None,
                "already_extended_days": already,
                "no_extension_last_days": self.params.no_extension_last_days,
                "no_extension_from": last_days_start.isoformat() if last_days_start else None,
            }
            decisions.append(
                Decision(
                    rule_id=EXTENSION,
                    kind="notice",
                    episode=f"{item.event_id}{GRANTED}{item.data.days}" if extended else item.event_id,
                    on=day,
                    due_on=item.on + timedelta(days=1),
                    policy_version=ctx.policy_version,
                    recipients=("counselor",),
                    deadlines={"extension_end": extended} if extended else {},
                    facts=facts,
                    end_date_after=extended,
                )
            )
            if extended is not None:
                end, already = extended, already + item.data.days
        return decisions


@dataclass(frozen=True)
class GradeVerification(AnswersInputs):
    """The grade report: the grade becomes final 15 calendar days after the report is sent."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True

    params: VerificationParams
    rule_ids: tuple[str, ...] = (VERIFICATION,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """One report per posted grade (a corrected grade is a new report with a new window)."""
        decisions = []
        for item in state.seen_inputs(day, "final_grade"):
            # A grade names its class; one without a class cannot be told apart from another course's.
            mine = state.class_id is None or item.class_id == state.class_id
            if not mine or fired_on(state, VERIFICATION, item.event_id):
                continue
            assert isinstance(item.data, FinalGrade)
            grade = item.data
            decisions.append(
                Decision(
                    rule_id=VERIFICATION,
                    kind="notice",
                    episode=item.event_id,
                    on=day,
                    due_on=item.on + timedelta(days=1),
                    policy_version=ctx.policy_version,
                    recipients=("student", "district_staff"),
                    # Counted from the report actually sent: a late report never shortens the window.
                    deadlines={"grade_final": day + timedelta(days=self.params.verification_days)},
                    facts={
                        "grade": grade.grade,
                        "credits": grade.credits,
                        "course": grade.course,
                        "grade_posted_on": item.on.isoformat(),
                        "verification_days": self.params.verification_days,
                    },
                )
            )
        return decisions


def build(config: ProgramConfig) -> list[RuleFamily]:
    families: list[RuleFamily] = []
    if WITHDRAW_WINDOW in config.rules:
        params = merged_params(config.rules, (WITHDRAW_WINDOW,))
        families.append(WithdrawWindow(params=validated(WithdrawParams, params, WITHDRAW_WINDOW)))
    if EXTENSION in config.rules:
        params = merged_params(config.rules, (EXTENSION,))
        families.append(ExtensionEligibility(params=validated(ExtensionParams, params, EXTENSION)))
    if VERIFICATION in config.rules:
        params = merged_params(config.rules, (VERIFICATION,))
        families.append(GradeVerification(params=validated(VerificationParams, params, VERIFICATION)))
    return families
