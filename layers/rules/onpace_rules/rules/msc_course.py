"""MSC Online course records: drops and their fees, course extensions, the grade verification window.

Source: shared/seeds/004_50d77f9850a1db80.txt. Catalogue section 2:
- ``msc.enrollment.withdraw_window`` — "During the first ten (10) calendar days of enrollment,
  students may withdraw from courses without a grade penalty"; "the school district will be
  assessed a $100.00 drop fee" (2014 guidelines; "$110.00" in the pricing schedule); "If I drop
  from a course after the first ten (10) calendar days, a grade of F will be issued" and "the full
  fee per student per course";
- ``msc.extension.eligibility`` — "counselors may request an extension for a student not to exceed
  two (2) weeks. In order for an extension to be granted, 50% of the course must be completed.
  Extensions will not be granted during the last fourteen (14) days of a course."; "Counselors
  must request a course extension through the Program Director";
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

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, Scope
from onpace_rules.inputs import EXTENSION_RULE, Approval, DropRequest, ExtensionRequest, FinalGrade, Input
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import AnswersInputs, RuleFamily, RuleModule
from onpace_rules.rules.data_alerts import missing_value_alert
from onpace_rules.rules.helpers import fired_on, merged_params, validated

WITHDRAW_WINDOW = "msc.enrollment.withdraw_window"
EXTENSION = EXTENSION_RULE
# Episodes of one extension request's records after ``<request event id>`` (refused):
FORWARDED = "/approval"  # sent to the Program Director
GRANTED = "/granted-"  # approved: "<request event id>/granted-<days>"
REJECTED = "/rejected"  # rejected by the Director
NO_DATA = "/data"  # waiting for a percent complete the LMS has not reported (data.missing)
AWAITING = "awaiting the Program Director's decision"
VERIFICATION = "msc.grades.verification_window"
RULE_IDS = (WITHDRAW_WINDOW, EXTENSION, VERIFICATION)
TITLES = {
    WITHDRAW_WINDOW: "Drop: inside the 10-day withdraw period (drop fee) or after it (grade F, full fee)",
    EXTENSION: "Course extension request: refused, or the Program Director's decision",
    VERIFICATION: "Grade report: 15 days to verify before the grade is final",
}

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


def course_fee_on(ctx: RuleContext, day: date) -> float | None:
    """The full course fee in force on ``day`` ("the full fee per student per course": the price
    list's, ``course_fee_usd`` of ``msc.enrollment.withdraw_window``), or None when the program
    states no prices (that rule is off)."""
    params = _withdraw_params_on(ctx, day)
    return None if params is None else _usd(params.course_fee_usd)


def _withdraw_params_on(ctx: RuleContext, day: date) -> WithdrawParams | None:
    """The withdraw-window parameters of the policy version in force on ``day`` (None when that
    version does not enable the rule): fees are dated values."""
    rules = ctx.on(day).config.rules
    if WITHDRAW_WINDOW not in rules:
        return None
    return validated(WithdrawParams, merged_params(rules, (WITHDRAW_WINDOW,)), WITHDRAW_WINDOW)


@dataclass(frozen=True)
class WithdrawWindow(AnswersInputs):
    """A drop request ends the enrollment; its date decides the grade and the fee."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True

    params: WithdrawParams
    rule_ids: tuple[str, ...] = (WITHDRAW_WINDOW,)

    def _params_on(self, ctx: RuleContext, day: date) -> tuple[WithdrawParams, str]:
        """Fees are dated values: the policy version in force on the drop date sets them."""
        params = _withdraw_params_on(ctx, day)
        if params is None:
            return self.params, ctx.policy_version
        return params, ctx.on(day).policy_version

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
    """A counselor's extension request: refused with every reason that applies, or, when
    eligible, sent to the Program Director, whose decision (an ``approval`` input naming the
    request) the counselor is told; only an approved extension moves the course end date.

    The request waits on its own, not by holding the enrollment as an action awaiting approval
    does: until the Director decides, the course runs as before (the progress ladder, drops and
    grades go on), and the end date moves only once an extension is approved.

    One request's records, by episode: ``<request>`` refused; ``<request>/approval`` sent to the
    Director; then ``<request>/granted-<days>`` approved (the days count against the two weeks)
    or ``<request>/rejected``.
    """

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = True

    params: ExtensionParams
    rule_ids: tuple[str, ...] = (EXTENSION,)
    # Who decides: the Program Director, or the program administrator (who approves actions)
    # when the program lists no ``program_director`` contact, so that no request waits unseen.
    director: tuple[str, ...] = ("program_director",)

    def plan(
        self, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> tuple[Sequence[Decision], date | None]:
        """``decide``; and while a request waits for a percent complete nobody has reported, a
        look the next day: the value arrives as activity, which wakes no input-only family."""
        if not state.inputs:
            return (), None
        return self.decide(state, day, ctx), self.next_wake(state, day, ctx)

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        tomorrow = day + timedelta(days=1)
        if state.percent_complete is not None or not state.inputs:
            return None
        waiting = any(
            for_this_class(state, item)
            and not self._answered(state, item)
            and not self._forwarded(state, item)
            for item in state.seen_inputs(tomorrow, "extension_request")
        )
        return tomorrow if waiting else None

    def _course_end(self, state: EnrollmentState, ctx: RuleContext) -> date | None:
        if state.end_date is not None:
            return state.end_date
        term = ctx.config.term(state.term_id)
        return term.end if term is not None else None

    @staticmethod
    def _granted_days(state: EnrollmentState) -> int:
        """Days granted by earlier requests of this enrollment: each granted answer's episode
        says how many ("<request>/granted-<days>"), so a later request is judged against them."""
        prefix = f"{EXTENSION}#"
        return sum(
            int(key.rsplit(GRANTED, 1)[1]) for key in state.fired if key.startswith(prefix) and GRANTED in key
        )

    @staticmethod
    def _answered(state: EnrollmentState, request: Input) -> bool:
        """Refused, approved or rejected: nothing more to do for it."""
        fired = state.fired
        key = f"{EXTENSION}#{request.event_id}"
        if key in fired or f"{key}{REJECTED}" in fired:
            return True
        granted = f"{key}{GRANTED}"
        return any(k.startswith(granted) for k in fired)

    @staticmethod
    def _forwarded(state: EnrollmentState, request: Input) -> bool:
        return fired_on(state, EXTENSION, f"{request.event_id}{FORWARDED}") is not None

    @staticmethod
    def _decision_on(state: EnrollmentState, request: Input, day: date) -> Input | None:
        """The latest decision on ``request`` that the evaluation of ``day`` sees (as for actions)."""
        found: Input | None = None
        for item in state.seen_inputs(day, "approval"):
            data = item.data
            if (
                isinstance(data, Approval)
                and data.rule == EXTENSION
                and data.request == request.event_id
                and item.on >= request.on
            ):
                found = item
        return found

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
        """Every request of this class with something new: judged (refused, or sent to the
        Director), or decided by the Director (approved: ``extension_end``; rejected).

        Requests are taken in order. The two weeks count the days approved and those of requests
        awaiting the Director; the end date moves with each approval. A request is judged by
        the date it was made and the latest percent complete the evaluation sees.
        """
        decisions = []
        requests = [
            item
            for item in state.seen_inputs(day, "extension_request")
            if for_this_class(state, item) and not self._answered(state, item)
        ]
        if not requests:
            return ()
        end = self._course_end(state, ctx)
        granted = self._granted_days(state)
        waiting = {r.event_id: r.data.days for r in requests if self._forwarded(state, r)}
        for item in requests:
            assert isinstance(item.data, ExtensionRequest)
            days = item.data.days
            facts: dict[str, FactValue] = {
                "request_id": item.event_id,
                "request_date": item.on.isoformat(),
                "requested_by": item.data.requested_by,
                "requested_days": days,
                "max_extension_days": self.params.max_extension_days,
                "course_end": end.isoformat() if end is not None else None,
                "already_extended_days": granted,
            }
            if item.event_id in waiting:
                answer = self._decision_on(state, item, day)
                if answer is None:
                    continue  # the Director has not decided yet
                del waiting[item.event_id]
                decision = self._decided(item, answer, end, facts, day, ctx)
                if decision.end_date_after is not None:
                    end, granted = decision.end_date_after, granted + days
                decisions.append(decision)
                continue
            if state.percent_complete is None:
                # "No data is not zero": eligibility needs the percent complete ("at least 50%
                # of the course must be completed"); the request waits, unjudged, and the
                # program administrator is told once what is missing.
                decisions.extend(
                    missing_value_alert(
                        state,
                        day,
                        ctx,
                        episode=f"{item.event_id}{NO_DATA}",
                        value="percent_complete",
                        needed_by=[EXTENSION],
                        due_on=item.on + timedelta(days=1),
                        facts=facts,
                    )
                )
                continue
            reserved = granted + sum(waiting.values())
            refusals = self._refusals(item, state.percent_complete, end, reserved)
            last_days_start = (
                end - timedelta(days=self.params.no_extension_last_days - 1) if end is not None else None
            )
            facts |= {
                "decision": "refused" if refusals else "awaiting_approval",
                "refused_for": refusals,
                "percent_complete": round(state.percent_complete, 4)
                if state.percent_complete is not None
                else None,
                "required_percent": self.params.min_percent_complete,
                "awaiting_approval_days": reserved - granted,
                "no_extension_last_days": self.params.no_extension_last_days,
                "no_extension_from": last_days_start.isoformat() if last_days_start else None,
            }
            recipients: tuple[str, ...] = ("counselor",)
            if refusals:
                episode, reason = item.event_id, None
            else:
                answer = self._decision_on(state, item, day)
                if answer is not None:
                    # The Director decided before the request was sent on: nothing to ask.
                    decision = self._decided(item, answer, end, facts, day, ctx)
                    if decision.end_date_after is not None:
                        end, granted = decision.end_date_after, granted + days
                    decisions.append(decision)
                    continue
                # Eligible: "Counselors must request a course extension through the Program Director".
                assert end is not None
                facts["extension_end_if_approved"] = (end + timedelta(days=days)).isoformat()
                episode, recipients, reason = f"{item.event_id}{FORWARDED}", self.director, AWAITING
                waiting[item.event_id] = days
            decisions.append(
                Decision(
                    rule_id=EXTENSION,
                    kind="notice",
                    episode=episode,
                    on=day,
                    due_on=item.on + timedelta(days=1),
                    policy_version=ctx.policy_version,
                    recipients=recipients,
                    facts=facts,
                    reason=reason,
                )
            )
        return decisions

    @staticmethod
    def _decided(
        request: Input,
        answer: Input,
        end: date | None,
        facts: dict[str, FactValue],
        day: date,
        ctx: RuleContext,
    ) -> Decision:
        """The Director's decision, for the counselor: an approved extension moves the course's
        end date, so the rules that stop there (the progress ladder, the grade report's timing)
        run until the new one; a rejected one is recorded with the Director's reason."""
        approval = answer.data
        assert isinstance(approval, Approval)
        assert isinstance(request.data, ExtensionRequest)
        days = request.data.days
        approved = approval.decision == "approved"
        facts = {
            **facts,
            "decision": "granted" if approved else "rejected",
            "decided_by": approval.by,
            "decided_on": answer.on.isoformat(),
            "director_note": approval.note,
        }
        extended = end + timedelta(days=days) if approved and end is not None else None
        return Decision(
            rule_id=EXTENSION,
            kind="notice",
            episode=f"{request.event_id}{GRANTED}{days}" if approved else f"{request.event_id}{REJECTED}",
            on=day,
            due_on=answer.on + timedelta(days=1),
            policy_version=ctx.policy_version,
            recipients=("counselor",),
            deadlines={"extension_end": extended} if extended is not None else {},
            facts=facts,
            end_date_after=extended,
        )


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
        director = ("program_director",) if config.contacts.get("program_director") else ("program_admin",)
        families.append(
            ExtensionEligibility(params=validated(ExtensionParams, params, EXTENSION), director=director)
        )
    if VERIFICATION in config.rules:
        params = merged_params(config.rules, (VERIFICATION,))
        families.append(GradeVerification(params=validated(VerificationParams, params, VERIFICATION)))
    return families


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    # The catalogue names no one for a drop ("no notice"): it is a record on the enrollment for billing.
    silent=frozenset({WITHDRAW_WINDOW}),
    # Extension answers go to the counselor (and the Program Director): no family notice.
    staff_only=frozenset({EXTENSION}),
)
