"""Which members of a family a decision reaches: guardians of minors and of eligible students.

Catalogue "Recipients and contact data": "Parents/guardians: every guardian on the roster who has
a contact address; a student of 18 or more (OneRoster ``demographics.csv`` ``birthDate``) is an
eligible student and guardians get notices only where the program says so. A minor's action
notice (drop, withdrawal, removal) always reaches a guardian, or is held for a person when none
can be reached."

Applied by the engine to the decisions of a day, before the decision filters (the channel
policy) and before an action is taken, because holding an action for a person is the engine's
approval hold: by the time a notice is sent the enrollment has already ended. What it needs
from the roster is in ``RosterFacts`` (``birth_date``, ``guardians``).

Readings:
- Age is counted on the evaluation day, in whole years; a student born on 29 February turns 18
  on 1 March of a common year.
- A student without a birth date is a minor or an adult as the program says
  (``notices.unknown_age``: ``minor`` by default, so a K-12 family is never left out; a
  university says ``adult``).
- "Action notice" is an action that ends the enrollment and writes to the student: an action
  recorded for nobody (a MOCAP course withdrawn behind the family's letter) writes to no family
  and needs no guardian.
- An eligible student's guardians are taken off every notice unless the program keeps them; a
  notice written to guardians only (a MOCAP letter) then goes to the student in their place,
  since the rights it informs about are the student's own.
- ``guardians`` unknown (facts stored before they were counted) is not "none": the action is
  taken, and guardians on the roster are told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from onpace_rules.decisions import Decision
from onpace_rules.facts import EnrollmentState, RosterFacts
from onpace_rules.program import ProgramConfig

ELIGIBLE_AGE = 18
GUARDIANS = "guardians"
STUDENT = "student"
# Actions that end a student's enrollment and that a family must hear about.
FAMILY_ACTION_STATUSES = frozenset({"dropped", "withdrawn", "removed"})
NO_GUARDIAN = "no guardian can be reached"
NO_WARNING_REACHED = (
    "no warning before this action reached the student or a guardian "
    "(each one failed, bounced or was suppressed)"
)


def age_on(birth: date, day: date) -> int:
    """Whole years from ``birth`` to ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_minor(roster: RosterFacts, day: date, config: ProgramConfig) -> bool:
    """Under 18 on ``day``; without a birth date, as ``notices.unknown_age`` says (minor by default)."""
    if roster.birth_date is not None:
        return age_on(roster.birth_date, day) < ELIGIBLE_AGE
    return config.notices is None or config.notices.unknown_age == "minor"


def is_family_action(decision: Decision) -> bool:
    """An action that ends the enrollment and writes to the student or the guardians."""
    return _is_family_action(decision)


def _is_family_action(decision: Decision) -> bool:
    return (
        decision.kind == "action"
        and decision.status_after in FAMILY_ACTION_STATUSES
        and (STUDENT in decision.recipients or GUARDIANS in decision.recipients)
    )


def address_family(
    decisions: Sequence[Decision], state: EnrollmentState, day: date, config: ProgramConfig
) -> Sequence[Decision]:
    """``decisions`` with guardians added to a minor's action notices and, for an eligible
    student, taken off every notice unless the program keeps them (the same sequence when
    nothing changes)."""
    minor = is_minor(state.roster, day, config)
    keep_guardians = minor or (config.notices is not None and config.notices.guardians_of_eligible_students)
    changed: list[Decision] | None = None
    for index, decision in enumerate(decisions):
        recipients = decision.recipients
        if minor and _is_family_action(decision) and GUARDIANS not in recipients:
            recipients = (*recipients, GUARDIANS)
        elif not keep_guardians and GUARDIANS in recipients:
            recipients = tuple(r for r in recipients if r != GUARDIANS)
            if STUDENT not in recipients:
                recipients = (STUDENT, *recipients)
        if recipients is decision.recipients:
            continue
        if changed is None:
            changed = list(decisions)
        changed[index] = replace(decision, recipients=recipients)
    return decisions if changed is None else changed


def family_unwarned(action: Decision, state: EnrollmentState) -> bool:
    """Whether ``action`` ends the enrollment for a family that none of its warnings reached
    (``state.family_unwarned``, which the deployed evaluator computes from the outbox)."""
    return state.family_unwarned and _is_family_action(action)


def guardian_unreachable(action: Decision, state: EnrollmentState, day: date, config: ProgramConfig) -> bool:
    """Whether ``action`` is a minor's action notice that no guardian on the roster can receive."""
    return (
        state.roster.guardians == 0
        and GUARDIANS in action.recipients
        and _is_family_action(action)
        and is_minor(state.roster, day, config)
    )
