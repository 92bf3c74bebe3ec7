"""Checks made once, when an enrollment is added: the CPS add window and the MSC caps.

Sources:
- shared/seeds/000_bc3aac7a290565fd.txt — "Students have up to three weeks at the beginning of each
  semester to add an online course." and "Failure to Thrive Online ... will not be allowed to take
  online classes the following semester" (catalogue section 1: ``cps.enrollment.add_window``; the
  block itself is ``cps.eligibility.failure_to_thrive``, see eligibility.py);
- shared/seeds/004_50d77f9850a1db80.txt — "a maximum of twenty (20) students for online classes",
  "to a maximum of 50 percent of the student's full schedule of courses per term and up to the mid
  point of the district's term ... unless the district waives the requirement(s)" (catalogue
  section 2: ``msc.enrollment.caps``).

"On enrollment" is the first evaluation on or after the enrollment's start date (a later one when
the evaluator catches up); it sees inputs dated before that day, so a waiver must be recorded
before the enrollment's first evaluation. A rejection ends the enrollment, so a waiver that arrives
after it changes nothing: the district re-adds the student once the waiver is on file.
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
from onpace_rules.inputs import Waiver
from onpace_rules.program import ProgramConfig, Term
from onpace_rules.rules import eligibility
from onpace_rules.rules.contract import ChecksOnFirstLook, RuleFamily, RuleModule, first_look
from onpace_rules.rules.helpers import fired_on, merged_params, validated

ADD_WINDOW = "cps.enrollment.add_window"
CAPS = "msc.enrollment.caps"
RULE_IDS = (ADD_WINDOW, CAPS)
TITLES = {
    ADD_WINDOW: "Add window: course added more than three weeks into the semester",
    CAPS: "Enrollment caps: class size, online share of the schedule, term midpoint",
}

RECIPIENTS = ("counselor", "program_admin")
_CAP_REASONS = {
    "class_size": "the online class already has its maximum number of students",
    "schedule_share": "online courses would be more than the allowed share of the student's schedule",
    "term_midpoint": "the enrollment is after the midpoint of the term",
}


class AddWindowParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    add_window_days: int = Field(
        default=21, ge=1, description="Calendar days from the semester start, the start being day 1"
    )


class CapsParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_class_size: int = Field(default=20, ge=1)
    max_online_share: float = Field(default=0.5, gt=0, le=1)


def term_of(state: EnrollmentState, config: ProgramConfig) -> Term | None:
    """The enrollment's term; the term containing its start date when the roster names none."""
    return config.enrollment_term(state.term_id, state.start_date)


def last_add_date(term: Term, window: AddWindowParams) -> date:
    """The last day an add is accepted: day ``add_window_days`` of the semester, its start being day 1.

    Seed 000: "Students have up to three weeks at the beginning of each semester to add an online
    course." Catalogue: "its first 21 calendar days, the start being day 1: a semester starting
    Mon 2026-08-24 takes adds through Sun 2026-09-13".
    """
    return term.start + timedelta(days=window.add_window_days - 1)


def waivers(state: EnrollmentState, day: date) -> dict[str, str]:
    """check -> who waived it, from ``waiver`` inputs for this class seen by the evaluation of ``day``."""
    found: dict[str, str] = {}
    for item in state.seen_inputs(day, "waiver"):
        mine = item.class_id is None or state.class_id is None or item.class_id == state.class_id
        if mine and isinstance(item.data, Waiver):
            found[item.data.check] = item.data.by
    return found


def _episode(state: EnrollmentState) -> str:
    return f"add-{state.start_date.isoformat()}"


def _outcome(
    rule_id: str,
    state: EnrollmentState,
    day: date,
    ctx: RuleContext,
    facts: dict[str, FactValue],
    rejected: bool,
) -> Decision:
    """The rejection (status ``rejected``) or, with every failed check waived, the recorded waiver."""
    return Decision(
        rule_id=rule_id,
        kind="action",
        episode=_episode(state),
        on=day,
        due_on=state.start_date,
        policy_version=ctx.policy_version,
        recipients=RECIPIENTS,
        facts={**facts, "outcome": "rejected" if rejected else "accepted_with_waiver"},
        status_after="rejected" if rejected else None,
    )


@dataclass(frozen=True)
class AddWindowCheck(ChecksOnFirstLook):
    """CPS: the three-week add window, and the failure-to-thrive block of the enrollment's semester."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = False

    window: AddWindowParams | None  # None: cps.enrollment.add_window is not enabled
    block: eligibility.FailureToThriveParams | None  # None: failure_to_thrive is not enabled

    @property
    def rule_ids(self) -> tuple[str, ...]:
        ids = (ADD_WINDOW,) if self.window else ()
        return ids + ((eligibility.FAILURE_TO_THRIVE,) if self.block else ())

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Reject an add "later than 3 weeks" after the semester start, or in a blocked semester.

        The block wins over the window: it cannot be waived, and one rejection is enough.
        """
        if not first_look(state, day) or any(
            fired_on(state, r, _episode(state)) is not None for r in self.rule_ids
        ):
            return ()
        term = term_of(state, ctx.config)
        if term is None:
            return ()  # no semester to measure the add against
        facts: dict[str, FactValue] = {
            "add_date": state.start_date.isoformat(),
            "semester_id": term.id,
            "semester_start": term.start.isoformat(),
        }
        if self.block is not None:
            for found in eligibility.blocks(state, day, ctx.config, self.block):
                if found.term is not None and found.term.id == term.id:
                    block_facts = {**facts, **eligibility.block_facts(found, self.block)}
                    return (_outcome(eligibility.FAILURE_TO_THRIVE, state, day, ctx, block_facts, True),)
        if self.window is None:
            return ()
        last_add = last_add_date(term, self.window)
        if state.start_date <= last_add:
            return ()
        facts |= {
            "add_window_days": self.window.add_window_days,
            "last_add_date": last_add.isoformat(),
            "days_after_semester_start": (state.start_date - term.start).days,
            # The start is day 1, so an add 21 days after it is on day 22, outside a 21-day window.
            "semester_day": (state.start_date - term.start).days + 1,
        }
        waived_by = waivers(state, day).get("add_window")
        if waived_by is not None:
            return (_outcome(ADD_WINDOW, state, day, ctx, {**facts, "waived_by": waived_by}, False),)
        reason = (
            f"added on day {facts['semester_day']} of the semester; adds are accepted through day "
            f"{self.window.add_window_days} ({last_add.isoformat()})"
        )
        return (_outcome(ADD_WINDOW, state, day, ctx, {**facts, "reason": reason}, True),)


@dataclass(frozen=True)
class EnrollmentCaps(ChecksOnFirstLook):
    """MSC: class size, online share of the schedule, term midpoint; each waivable by the district."""

    scope: ClassVar[Scope] = "enrollment"
    runs_after_end: ClassVar[bool] = False

    params: CapsParams
    rule_ids: tuple[str, ...] = (CAPS,)

    def _failed_checks(self, state: EnrollmentState, term: Term | None) -> list[str]:
        roster = state.roster
        failed = []
        if roster.class_position > self.params.max_class_size:
            failed.append("class_size")
        # The district's whole schedule: checked only when the roster sends it.
        share = roster.online_courses_in_term / roster.courses_in_term if roster.courses_in_term else None
        if share is not None and share > self.params.max_online_share:
            failed.append("schedule_share")
        if term is not None and state.start_date > term.midpoint:
            failed.append("term_midpoint")
        return failed

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Reject with the reason(s), or record the district's waiver of every check that failed."""
        if not first_look(state, day) or fired_on(state, CAPS, _episode(state)) is not None:
            return ()
        term = term_of(state, ctx.config)
        failed = self._failed_checks(state, term)
        if not failed:
            return ()
        roster = state.roster
        waived = waivers(state, day)
        refused = [c for c in failed if c not in waived]
        share = roster.online_courses_in_term / roster.courses_in_term if roster.courses_in_term else None
        facts: dict[str, FactValue] = {
            "enrollment_date": state.start_date.isoformat(),
            "class_position": roster.class_position,
            "max_class_size": self.params.max_class_size,
            "online_courses_in_term": roster.online_courses_in_term,
            "courses_in_term": roster.courses_in_term,
            "online_share": round(share, 4) if share is not None else None,
            "max_online_share": self.params.max_online_share,
            "term_id": term.id if term else None,
            "term_midpoint": term.midpoint.isoformat() if term else None,
            "failed_checks": failed,
            "rejected_for": refused,
            "waived_checks": [c for c in failed if c in waived],
            "waived_by": sorted({waived[c] for c in failed if c in waived}),
            "reason": "; ".join(_CAP_REASONS[c] for c in refused) or None,
        }
        return (_outcome(CAPS, state, day, ctx, facts, bool(refused)),)


def build(config: ProgramConfig) -> list[RuleFamily]:
    families: list[RuleFamily] = []
    window = (
        validated(AddWindowParams, merged_params(config.rules, (ADD_WINDOW,)), ADD_WINDOW)
        if ADD_WINDOW in config.rules
        else None
    )
    block = eligibility.params_of(config) if eligibility.FAILURE_TO_THRIVE in config.rules else None
    if window is not None or block is not None:
        families.append(AddWindowCheck(window=window, block=block))
    if CAPS in config.rules:
        families.append(
            EnrollmentCaps(params=validated(CapsParams, merged_params(config.rules, (CAPS,)), CAPS))
        )
    return families


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    # Rejections go to the counselor and the administrator, who tell the family themselves.
    staff_only=frozenset(RULE_IDS),
)
