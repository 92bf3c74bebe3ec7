"""CSU Global Satisfactory Academic Progress: the standing at each trimester's end, and the withdrawal
of students on Warning or Probation after 12 months without completed coursework.

Source: shared/seeds/003_87de092a038aeaf4.txt, "Satisfactory Academic Progress" and the academic
status table. Catalogue section 3: ``csu.sap.evaluate`` and ``csu.sap.inactive_withdrawal``.

The standing is never stored: it is recomputed term by term from every ``final_grade`` input the
evaluation sees (``_Setup.history``), so a late grade (an incomplete turned into a final grade)
re-calculates SAP exactly as the source asks, and a replay gives the same answer as the live run.
"Incomplete grades in courses will count as credits attempted but not earned until the final grade
has been posted, at which point SAP will be re-calculated for MTF, CR, and cumulative GPA with the
final grade": a final grade for a trimester already evaluated is an occasion of its own
(``_Setup.occasions``), with a notice when it changes the standing and none when it does not.

Graduate students: "To remain in Good Academic Standing, students must maintain a cumulative grade
point average (GPA) of at least 3.00" — a student is graduate when the roster's course level says
so (``RosterFacts.course_level``: the class's OneRoster grades are ``GR``) or when the class's
grades are among the program's ``graduate_class_grades``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import cached_property
from typing import ClassVar

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState, RosterFacts, Scope
from onpace_rules.inputs import FinalGrade, Input
from onpace_rules.program import ProgramConfig, Term
from onpace_rules.rules.contract import RuleFamily, RuleModule
from onpace_rules.rules.helpers import SUPERSEDED, enabled, fired_on, merged_params, validated

EVALUATE = "csu.sap.evaluate"
INACTIVE = "csu.sap.inactive_withdrawal"
RULE_IDS = (EVALUATE, INACTIVE)
TITLES = {
    EVALUATE: "SAP standing at the end of the trimester",
    INACTIVE: "Administrative withdrawal after 12 months without coursework (SAP Warning/Probation)",
}

# The source's names of the standings (also the values of the standing facts, so an admin reads them as-is).
GOOD = "Good Academic Standing"
WARNING = "SAP Warning"
PROBATION = "SAP Probation"
PROBATION_II = "SAP Probation II"
SUSPENSION = "Academic Suspension"
ON_NOTICE = frozenset({WARNING, PROBATION, PROBATION_II})  # the standings the 12-month withdrawal applies to

# Letters that never enter the GPA, whatever grade points the registrar sent with them.
NOT_IN_GPA = frozenset({"W", "I"})
GPA_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")


class SapParams(BaseModel):
    """Defaults are the source's values; ``min_completion_rate`` is a fraction (0.6666 = 66.66 %).

    Dated values (67 % for terms before July 2016) come from policy versions: the standards of a
    term are those of the version in force on the term's end date.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_gpa_undergraduate: float = Field(default=2.0, ge=0, le=4.5)
    min_gpa_graduate: float = Field(default=3.0, ge=0, le=4.5)
    graduate_class_grades: tuple[str, ...] = Field(
        default=(),
        description="The program's graduate class levels: OneRoster class grades (classes.csv `grades`) "
        "whose students are held to the graduate standards (besides GR, which always is)",
    )
    min_completion_rate: float = Field(default=0.6666, gt=0, le=1)
    max_time_frame_ratio: float = Field(default=1.5, ge=1)
    program_length_credits: float = Field(default=120, gt=0)
    graduate_program_length_credits: float | None = Field(default=None, gt=0)
    probation_trimesters: int = Field(default=2, ge=1)
    term_kinds: tuple[str, ...] | None = Field(default=None, description="None: every calendar term")
    grade_posting_days: int = Field(default=0, ge=0, le=60, description="Wait after the term's end")
    inactive_months: int = Field(default=12, ge=1)
    suspension_appeal_days_before_term: int = Field(default=14, ge=0)


# -- counting credits --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    grade: FinalGrade
    slot: int  # index of the SAP term it belongs to; -1: before the first term (transfer credits)
    order: tuple[date, str]  # (posted on, event id): a later posting replaces or follows an earlier one


@dataclass(frozen=True)
class SapStats:
    """Cumulative counts at one term's end. ``gpa`` None: nothing counts in the GPA yet."""

    attempted: Decimal
    earned: Decimal
    gpa_credits: Decimal
    gpa: Decimal | None

    @property
    def completion_rate(self) -> Decimal | None:
        return self.earned / self.attempted if self.attempted else None


def _dec(value: float) -> Decimal:
    # repr of a float is its shortest exact decimal: 2.3 stays 2.3, so 3 x 2.3 + 3 x 1.7 is 12, not 11.99…
    return Decimal(repr(value))


def _slot_of_day(day: date, terms: Sequence[Term]) -> int:
    """The latest SAP term started on or before ``day`` (a grade posted after the end belongs to it)."""
    found = -1
    for index, term in enumerate(terms):
        if term.start <= day:
            found = index
    return found


def _slot(grade: FinalGrade, posted: date, terms: Sequence[Term], config: ProgramConfig) -> int:
    if grade.term is not None:
        for index, term in enumerate(terms):
            if term.id == grade.term:
                return index
        named = config.term(grade.term)
        if named is not None:  # an 8-week session: the trimester its end falls in
            return _slot_of_day(named.end, terms)
    return _slot_of_day(posted, terms)


def _attempts(inputs: Sequence[Input], terms: Sequence[Term], config: ProgramConfig) -> list[_Attempt]:
    """One attempt per (course, term): "Incomplete grades ... count as credits attempted but not earned
    until the final grade has been posted, at which point SAP will be re-calculated" — the later posting
    of the same course in the same term replaces the earlier one."""
    by_key: dict[object, _Attempt] = {}
    for item in inputs:
        if not isinstance(item.data, FinalGrade):
            continue
        attempt = _Attempt(item.data, _slot(item.data, item.on, terms, config), (item.on, item.event_id))
        key: object = (item.data.course, attempt.slot) if item.data.course else item.event_id
        current = by_key.get(key)
        if current is None or current.order <= attempt.order:
            by_key[key] = attempt
    return sorted(by_key.values(), key=lambda a: (a.slot, a.order))


def cumulative_stats(attempts: Sequence[_Attempt], through_slot: int) -> SapStats:
    """Counts over every attempt up to a term, per the source's credit hour guidelines:
    "transferable credits are counted as credit earned and will count towards MTF and CR but not in the
    cumulative GPA"; W and incompletes "count as credits attempted but not earned"; "Repeated courses do
    not count toward cumulative GPA except for the final grade received on the last repeat of a course"
    (an earlier attempt of a repeated course is attempted, neither earned nor in the GPA)."""
    included = [a for a in attempts if a.slot <= through_slot]
    last_of_course: dict[str, _Attempt] = {}
    for attempt in included:  # sorted by (slot, order): the last one wins
        if attempt.grade.course and not attempt.grade.transfer:
            last_of_course[attempt.grade.course] = attempt
    attempted = earned = gpa_credits = points = Decimal(0)
    for attempt in included:
        grade = attempt.grade
        credits = _dec(grade.credits)
        attempted += credits
        if grade.course and not grade.transfer and last_of_course[grade.course] is not attempt:
            continue
        if grade.is_passed:
            earned += credits
        if not grade.transfer and grade.grade_points is not None and grade.grade.upper() not in NOT_IN_GPA:
            gpa_credits += credits
            points += credits * _dec(grade.grade_points)
    gpa = points / gpa_credits if gpa_credits else None
    return SapStats(attempted=attempted, earned=earned, gpa_credits=gpa_credits, gpa=gpa)


# -- standards and standing --------------------------------------------------------------------


@dataclass(frozen=True)
class TermStanding:
    """The evaluation of one trimester: ``before`` is the standing the student held during it."""

    term: Term
    stats: SapStats
    failed: tuple[str, ...]
    before: str
    after: str
    probation_failures: int  # trimesters failed since placed on (or readmitted to) probation
    entered: date  # end of the term at which the student entered ``after`` (start of the 12-month clock)
    params: SapParams
    graduate: bool

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def min_gpa(self) -> float:
        return _min_gpa(self.params, self.graduate)

    @property
    def max_attempted(self) -> Decimal:
        return _max_attempted(self.params, self.graduate)


def _grade_key(value: str) -> str:
    return (value.lstrip("0") or "0") if value.isdigit() else value.casefold()


def is_graduate(roster: RosterFacts, params: SapParams) -> bool:
    """Whether the graduate standards apply: the roster's course level says graduate, or the class's
    grades are graduate levels of the program (all of them, when the class lists several)."""
    if roster.course_level == "graduate":
        return True
    wanted = {_grade_key(g) for g in params.graduate_class_grades}
    return (
        bool(wanted)
        and bool(roster.class_grades)
        and all(_grade_key(g) in wanted for g in roster.class_grades)
    )


def _min_gpa(params: SapParams, graduate: bool) -> float:
    return params.min_gpa_graduate if graduate else params.min_gpa_undergraduate


def _max_attempted(params: SapParams, graduate: bool) -> Decimal:
    length = params.program_length_credits
    if graduate and params.graduate_program_length_credits is not None:
        length = params.graduate_program_length_credits
    return _dec(params.max_time_frame_ratio) * _dec(length)


def failed_standards(stats: SapStats, params: SapParams, graduate: bool) -> tuple[str, ...]:
    """Which of the standards the student misses: "a cumulative grade point average (GPA) of at least
    2.00" (graduate 3.00), "a minimum course completion rate of 66.66% of all courses attempted", and
    the MTF, "150% the normal duration of program as measured in credit hours"."""
    failed: list[str] = []
    if stats.gpa is not None and stats.gpa < _dec(_min_gpa(params, graduate)):
        failed.append("gpa")
    rate = stats.completion_rate
    if rate is not None and rate < _dec(params.min_completion_rate):
        failed.append("completion_rate")
    if stats.attempted > _max_attempted(params, graduate):
        failed.append("max_time_frame")
    return tuple(failed)


def next_standing(before: str, probation_failures: int, meets: bool, params: SapParams) -> tuple[str, int]:
    """The source's table: Good → "SAP Warning: Failure to meet minimum SAP requirements in one (1)
    trimester" → "SAP Probation: ... in two (2) trimesters" → "Academic Suspension: ... after a maximum
    of two trimesters on SAP Probation"; "Students on SAP Warning who achieve the required SAP minimums
    at the end of their next trimester will be placed back into Good Academic Standing", likewise on
    probation. Returns (standing after, probation trimesters failed)."""
    if meets:
        return GOOD, 0
    if before == GOOD:
        return WARNING, 0
    if before == WARNING:
        return PROBATION, 0
    failures = probation_failures + 1  # PROBATION or PROBATION_II: one more trimester failed
    if failures >= params.probation_trimesters:
        return SUSPENSION, 0
    return before, failures


@dataclass(frozen=True)
class _Setup:
    """What both families share: the SAP terms in date order and the operational parameters."""

    params: SapParams
    terms: tuple[Term, ...]
    _by_version: dict[str, SapParams] = field(default_factory=dict, compare=False, repr=False)

    def evaluation_day(self, term: Term) -> date:
        """The evaluation of end + 1 applies "at the end of each trimester" (plus the grade wait)."""
        return term.end + timedelta(days=1 + self.params.grade_posting_days)

    @cached_property
    def evaluation_days(self) -> tuple[date, ...]:
        """``evaluation_day`` of each term, in term order (asked on every look at a student)."""
        return tuple(self.evaluation_day(term) for term in self.terms)

    def params_of(self, term: Term, ctx: RuleContext) -> SapParams:
        """The standards in force on the term's end: "Any prior terms are based on the previous minimum
        course completion rate of 67%"."""
        config = ctx.on(term.end).config
        found = self._by_version.get(config.policy_version)  # labels are unique within a program
        if found is None:
            overrides = merged_params(config.rules, RULE_IDS)
            found = validated(SapParams, overrides, f"csu.sap.* of version {config.policy_version}")
            self._by_version[config.policy_version] = found
        return found

    def history(
        self, state: EnrollmentState, day: date, ctx: RuleContext, through: date | None = None
    ) -> list[TermStanding]:
        """The standing after each trimester evaluated by ``through`` (default ``day``) in which the
        student had coursework, with the grades the evaluation of ``day`` sees.

        "Students on SAP Warning who achieve the required SAP minimums at the end of their next
        trimester": a trimester without any of the student's own grades is not one of theirs and
        leaves the standing as it is. A suspended student with coursework in a later trimester was
        readmitted by appeal and held "SAP Probation II status" during it.
        """
        through = day if through is None else through
        attempts = _attempts(state.seen_inputs(day, "final_grade"), self.terms, ctx.config)
        own = {a.slot for a in attempts if not a.grade.transfer}
        found: list[TermStanding] = []
        if not own:
            return found  # no trimester of the student's own yet
        standing, failures, entered = GOOD, 0, state.start_date
        for index, term in enumerate(self.terms):
            if self.evaluation_days[index] > through or index not in own:
                continue
            params = self.params_of(term, ctx)
            graduate = is_graduate(state.roster, params)
            stats = cumulative_stats(attempts, index)
            failed = failed_standards(stats, params, graduate)
            before = PROBATION_II if standing == SUSPENSION else standing
            if standing == SUSPENSION:
                failures, entered = 0, term.start
            after, failures = next_standing(before, failures, not failed, params)
            if after != before:
                entered = term.end
            found.append(
                TermStanding(term, stats, failed, before, after, failures, entered, params, graduate)
            )
            standing = after
        return found

    def late_grades(self, state: EnrollmentState, day: date, ctx: RuleContext) -> dict[date, list[_Late]]:
        """Final grades for a trimester already evaluated, by the day they are first seen: "at
        which point SAP will be re-calculated" (an incomplete resolved, a grade corrected)."""
        found: dict[date, list[_Late]] = {}
        for item in state.seen_inputs(day, "final_grade"):
            if not isinstance(item.data, FinalGrade):
                continue
            slot = _slot(item.data, item.on, self.terms, ctx.config)
            seen = item.on + timedelta(days=1)
            if slot >= 0 and seen > self.evaluation_days[slot]:
                found.setdefault(seen, []).append(_Late(self.terms[slot], item.data.course))
        return found

    def occasions(self, state: EnrollmentState, day: date, ctx: RuleContext) -> list[_Occasion]:
        """Every evaluation of the student's standing up to ``day``, in order, each with the grades
        seen on its own day (a late evaluation still applies the grades of the policy's date).

        - the end of each trimester of the student's (episode: the term id): "All students will be
          evaluated for SAP at the end of each trimester";
        - the day a final grade for a trimester already evaluated is first seen (episode
          ``regrade-<posted on>``): the standing re-calculated with it, compared with the standing
          the student held the day before. A grade that gives the student a first trimester of
          their own (graded only after its end) is that trimester's evaluation, late.
        """
        late = self.late_grades(state, day, ctx)
        days = sorted({d for d in self.evaluation_days if d <= day} | set(late))
        found: list[_Occasion] = []
        held: list[TermStanding] = []  # the history the day before
        one_day = timedelta(days=1)
        for d in days:
            if d in late:
                revised = self.history(state, d, ctx, through=d - one_day)
                known = {r.term.id for r in held}
                found.extend(
                    _Occasion(r.term.id, self.evaluation_day(r.term), r, r.before)
                    for r in revised
                    if r.term.id not in known
                )
                if revised and revised[-1].term.id in known:
                    changes = late[d]
                    regrade = _Regrade(
                        posted_on=d - one_day,
                        terms=tuple(dict.fromkeys(c.term for c in changes)),
                        courses=tuple(dict.fromkeys(c.course for c in changes if c.course)),
                    )
                    episode = f"regrade-{regrade.posted_on.isoformat()}"
                    found.append(_Occasion(episode, d, revised[-1], held[-1].after, regrade))
                held = revised
            current = self.history(state, d, ctx)
            found.extend(
                _Occasion(r.term.id, d, r, r.before) for r in current if self.evaluation_day(r.term) == d
            )
            held = current
        return found


@dataclass(frozen=True)
class _Late:
    term: Term
    course: str | None


@dataclass(frozen=True)
class _Regrade:
    """A re-calculation after the term: the day the grade(s) were posted, their terms and courses."""

    posted_on: date
    terms: tuple[Term, ...]
    courses: tuple[str, ...]


@dataclass(frozen=True)
class _Occasion:
    """One evaluation of the standing: ``result`` the trimester it states, ``before`` the standing
    the student held until then; a notice is due when they differ."""

    episode: str
    due: date
    result: TermStanding
    before: str
    regrade: _Regrade | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.result.after


def _floor(value: Decimal | None, places: Decimal) -> float | None:
    # Floored, never rounded: a 1.996 GPA must not read "2.00" in a notice that says it is below 2.00.
    return None if value is None else float(value.quantize(places, rounding=ROUND_FLOOR))


def standing_facts(result: TermStanding) -> dict[str, FactValue]:
    """What an admin needs to explain a standing: each standard, its value, and the change."""
    stats = result.stats
    return {
        "term_id": result.term.id,
        "term_end": result.term.end.isoformat(),
        "student_level": "graduate" if result.graduate else "undergraduate",
        "gpa": _floor(stats.gpa, GPA_PLACES),
        "min_gpa": result.min_gpa,
        "completion_rate": _floor(stats.completion_rate, RATE_PLACES),
        "min_completion_rate": result.params.min_completion_rate,
        "attempted_credits": float(stats.attempted),
        "earned_credits": float(stats.earned),
        "gpa_credits": float(stats.gpa_credits),
        "max_attempted_credits": float(result.max_attempted),
        "failed_standards": list(result.failed),
        "standing_before": result.before,
        "standing_after": result.after,
        "probation_trimesters_failed": result.probation_failures,
    }


# -- csu.sap.evaluate --------------------------------------------------------------------------


@dataclass(frozen=True)
class SapStanding(RuleFamily):
    """``csu.sap.evaluate``: "All students will be evaluated for SAP at the end of each trimester",
    and again when a final grade for a past trimester is posted; a notice to the student and the
    advisor whenever the standing changes, none when it does not.

    What the notices state comes from the source (003_87de092a038aeaf4.txt), and only that:

    - SAP Warning: "Financial aid students in SAP Warning status remain eligible for Title IV funds."
    - SAP Probation: "All students that are placed on Academic Probation must submit an Academic SAP
      Appeal form in order to continue taking courses during the Probation period." ... "if
      approved the student will be issued an Academic Plan" ... "The university will only approve a
      financial aid appeal if it determines that the student had a documented extenuating
      circumstance that occurred and prevented the student from successfully completing the
      coursework, and that the student will be able to meet minimum standards for Satisfactory
      Academic Progress during the next trimester based on the academic plan developed by the
      institution." ... "If a student cannot meet the required standards within two trimesters in
      SAP Probation, he or she will be placed on Academic Suspension." ... "SAP Probation status is
      noted on the transcript until the student returns to Good Academic Standing."
    - Academic Suspension: "Students placed on Academic Suspension cannot re-enroll at CSU Global
      unless approved by the university via appeal." ... "Suspension Appeals must be submitted to
      the Office of Student Affairs at least two (2) weeks prior to the start of the term in which a
      student plans to re-enroll. Students who are approved to return under SAP Probation II status
      are ineligible for Title IV funds." ... "Students on Academic Suspension who successfully
      appeal their suspension must enroll and complete classes in the next available term or the
      appeal will be negated and the student will be suspended." ... "Appeals will only be
      considered if all outstanding student account balances have been paid." ... "If a suspension
      appeal is approved, students may be required to pay cash until they have returned to good
      standing and are eligible for federal financial aid." ... "If the Appeals Committee has
      denied the appeal, the student may appeal the decision to the Provost or his/her designee.
      The appeal, with responses to the questions above, must be filed within two (2) weeks of the
      receipt of the decision of the Appeals Committee." ... "No later than three (3) weeks from
      the filing of the appeal with the Provost, the Provost or his/her designee will notify the
      student of the final decision of the appeal. The determination of the Provost or his/her
      designee is final." ... "Students placed on Academic Suspension retain limited access to
      their Student Portal for account information and student services."

    Academic Suspension is a notice, not an action: it ends no enrollment (the trimester's courses
    are over when it is decided), the source's consequence is that the student "cannot re-enroll ...
    unless approved by the university via appeal" (the registrar's decision), and a successful appeal
    brings the student back in SAP Probation II, which this family must still be able to evaluate.
    """

    scope: ClassVar[Scope] = "student"
    runs_after_end: ClassVar[bool] = True
    setup: _Setup
    rule_ids: tuple[str, ...] = (EVALUATE,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """The latest change of standing not yet told; earlier untold changes (catch-up) are superseded."""
        occasions = self.setup.occasions(state, day, ctx)
        told = [i for i, o in enumerate(occasions) if fired_on(state, EVALUATE, o.episode) is not None]
        pending = [o for o in occasions[(told[-1] + 1 if told else 0) :] if o.changed]
        if not pending:
            return ()
        *superseded, latest = pending
        decisions = [self._decision(o, day, ctx, told=False) for o in superseded]
        decisions.append(self._decision(latest, day, ctx, told=True))
        return decisions

    def _decision(self, occasion: _Occasion, day: date, ctx: RuleContext, *, told: bool) -> Decision:
        result = occasion.result
        deadlines: dict[str, date] = {}
        facts = standing_facts(result)
        facts["standing_before"] = occasion.before
        regrade = occasion.regrade
        facts["occasion"] = "term_end" if regrade is None else "grade_change"
        if regrade is not None:
            facts |= {
                "grade_posted_on": regrade.posted_on.isoformat(),
                "regraded_terms": [t.id for t in regrade.terms],
                "regraded_term_ends": [t.end.isoformat() for t in regrade.terms],
                "regraded_courses": list(regrade.courses) or None,
            }
        if told and result.after == SUSPENSION:
            reentry = self._reentry_term(result.term, day)
            if reentry is not None:
                # "Suspension Appeals must be submitted ... at least two (2) weeks prior to the start of
                # the term in which a student plans to re-enroll": the first term still reachable.
                gap = timedelta(days=self.setup.params.suspension_appeal_days_before_term)
                deadlines["appeal"] = reentry.start - gap
                facts |= {"reentry_term_id": reentry.id, "reentry_term_start": reentry.start.isoformat()}
        return Decision(
            rule_id=EVALUATE,
            kind="notice" if told else "skipped",
            episode=occasion.episode,
            on=day,
            due_on=occasion.due,
            policy_version=ctx.on(result.term.end).policy_version,
            recipients=("student", "advisor") if told else (),
            deadlines=deadlines,
            facts=facts,
            reason=None if told else SUPERSEDED,
        )

    def _reentry_term(self, after: Term, day: date) -> Term | None:
        gap = timedelta(days=self.setup.params.suspension_appeal_days_before_term)
        later = [t for t in self.setup.terms if t.start > after.end and t.start - gap >= day]
        return min(later, key=lambda t: t.start, default=None)

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        # Terms already due change only with a new grade, and a new input wakes the student by itself.
        return min((d for d in self.setup.evaluation_days if d > day), default=None)


# -- csu.sap.inactive_withdrawal ---------------------------------------------------------------


@dataclass(frozen=True)
class SapInactiveWithdrawal(RuleFamily):
    """``csu.sap.inactive_withdrawal``: "Students on SAP Warning who have not registered and completed
    coursework within 12 months will be administratively withdrawn" (the same for SAP Probation).

    The 12 months count from the latest passing grade posted (completed coursework), the student's
    start, or the end of the trimester that placed the student on the current standing, whichever is
    latest: a student just placed on Warning has the whole 12 months to register.
    """

    scope: ClassVar[Scope] = "student"
    runs_after_end: ClassVar[bool] = True
    setup: _Setup
    rule_ids: tuple[str, ...] = (INACTIVE,)

    def _clock(self, state: EnrollmentState, day: date, ctx: RuleContext) -> tuple[TermStanding, date] | None:
        """(current standing, day the 12 months count from) when the student is on Warning or Probation."""
        history = self.setup.history(state, day, ctx)
        if not history or history[-1].after not in ON_NOTICE:
            return None
        current = history[-1]
        completed = [
            i.on
            for i in state.seen_inputs(day, "final_grade")
            if isinstance(i.data, FinalGrade) and i.data.is_passed and not i.data.transfer
        ]
        # The start date counts as day 1 of the clock (catalogue conventions).
        return current, max([state.start_date - timedelta(days=1), current.entered, *completed])

    def _due(self, anchor: date) -> date:
        """The day after the 12 whole months that follow ``anchor`` (catalogue convention "Lapses
        count whole days": the months count from the day after the anchor, and coursework
        completed on their last day still prevents the withdrawal)."""
        return anchor + relativedelta(months=self.setup.params.inactive_months) + timedelta(days=1)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """The withdrawal once 12 months (calendar months) have passed since the clock's start."""
        found = self._clock(state, day, ctx)
        if found is None:
            return ()
        current, anchor = found
        episode = f"since-{anchor.isoformat()}"
        due = self._due(anchor)
        if due > day or fired_on(state, INACTIVE, episode) is not None:
            return ()
        facts: dict[str, FactValue] = {
            "standing": current.after,
            "standing_since_term_id": current.term.id,
            "standing_since": current.entered.isoformat(),
            "last_completed_coursework": anchor.isoformat() if anchor >= state.start_date else None,
            "months_without_coursework": self.setup.params.inactive_months,
            "student_start": state.start_date.isoformat(),
        }
        return (
            Decision(
                rule_id=INACTIVE,
                kind="action",
                episode=episode,
                on=day,
                due_on=due,
                policy_version=ctx.policy_version,
                recipients=("student",),
                facts=facts,
                status_after="withdrawn",
            ),
        )

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        # The standing can only change at a term's evaluation day (or with a new input, which wakes by
        # itself), and the clock then starts no earlier than that term's end: waking then is safe.
        candidates = [d for d in self.setup.evaluation_days if d > day]
        tomorrow = day + timedelta(days=1)
        found = self._clock(state, tomorrow, ctx)
        if found is not None and fired_on(state, INACTIVE, f"since-{found[1].isoformat()}") is None:
            candidates.append(max(self._due(found[1]), tomorrow))
        return min(candidates, default=None)


def sap_terms(config: ProgramConfig, params: SapParams) -> tuple[Term, ...]:
    """The trimesters SAP is evaluated at, in order of their end dates."""
    kinds = params.term_kinds
    terms = [t for t in config.calendar.terms if kinds is None or t.kind in kinds]
    return tuple(sorted(terms, key=lambda t: (t.end, t.start)))


def build(config: ProgramConfig) -> list[RuleFamily]:
    """The SAP families the program enables; parameters may be set on either rule id."""
    ids = enabled(config.rules, RULE_IDS)
    if not ids:
        return []
    params = validated(SapParams, merged_params(config.rules, RULE_IDS), "csu.sap.*")
    terms = sap_terms(config, params)
    if not terms:
        # A rule that could never fire must not look switched on.
        wanted = ", ".join(params.term_kinds) if params.term_kinds else "any kind"
        raise ValueError(f"csu.sap.*: the program calendar has no terms ({wanted}) to evaluate SAP at")
    setup = _Setup(params=params, terms=terms)
    families: list[RuleFamily] = []
    if EVALUATE in ids:
        families.append(SapStanding(setup))
    if INACTIVE in ids:
        families.append(SapInactiveWithdrawal(setup))
    return families


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
)
