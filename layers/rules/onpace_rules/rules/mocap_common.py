"""Carthage R-9 / Missouri MOCAP: rule ids and the date helpers its families share.

Source: shared/seeds/001_8e57e2cb68840ac6.txt (Regulation 6190, "Virtual Education - Less than
Full-Time Equivalent"); catalogue section 4.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from onpace_rules.facts import EnrollmentState
from onpace_rules.inputs import ApplicationDecision, Input
from onpace_rules.program import ProgramConfig, Term

DECISION_DUE = "mocap.application.decision_due"
DENIAL_REASON = "mocap.application.denial_reason"
GUIDANCE = "mocap.notice.guidance"
DISENROLLMENT = "mocap.disenrollment.options"
PAYMENT = "mocap.payment.schedule"
A_PLUS = "mocap.attendance.a_plus"
ADA = "mocap.attendance.ada"

# Missouri's school year runs July 1 to June 30 (RSMo 160.011); used only when the program's
# calendar does not list the start of the school year asked about.
FALLBACK_YEAR_START = (7, 1)


def _fallback_start(day: date) -> date:
    """The July 1 on or before ``day``."""
    month, dom = FALLBACK_YEAR_START
    this_year = date(day.year, month, dom)
    return this_year if this_year <= day else date(day.year - 1, month, dom)


def school_year_label(config: ProgramConfig, day: date) -> str:
    """The label ("2026-27") of the school year of ``day`` (calendar ``school_year_start``, else July 1).

    A listed start names the school year only for a year after it: past the calendar's last
    listed year the July 1 start applies, so a day in 2027-28 is never labelled 2026-27 (the label
    is the guidance notice's once-a-year episode).
    """
    listed = config.school_year_of(day)
    start = listed if listed is not None and day < listed + relativedelta(years=1) else _fallback_start(day)
    return f"{start.year}-{(start.year + 1) % 100:02d}"


def next_school_year_start(config: ProgramConfig, day: date) -> tuple[date, str]:
    """The first school-year start after ``day`` and where it came from ("calendar" or "july_1")."""
    later = [s for s in config.calendar.school_year_start if s > day]
    if later:
        return min(later), "calendar"
    month, dom = FALLBACK_YEAR_START
    return date(_fallback_start(day).year + 1, month, dom), "july_1"


def enrollment_term(config: ProgramConfig, state: EnrollmentState) -> Term | None:
    """The enrollment's term (its roster session), else the term its start date falls in."""
    return config.enrollment_term(state.term_id, state.start_date)


def first_seen(item: Input) -> date:
    """The first evaluation that sees an input: the day after its date (catalogue conventions)."""
    return item.on + timedelta(days=1)


def unseen_input_wake(items: Iterable[Input], day: date) -> date | None:
    """The first evaluation after ``day`` that sees one of ``items`` not yet seen by ``day``.

    Inputs normally wake the enrollment by themselves; an input already stored with a later date
    (an in-memory replay loads them ahead) still needs its day looked at.
    """
    return min((first_seen(i) for i in items if i.on >= day), default=None)


def valid_decisions(state: EnrollmentState, day: date) -> list[Input]:
    """Application decisions the evaluation of ``day`` sees that count as decisions.

    Seed: "the District will provide in writing a 'good cause' reason for the denial" — a
    denial without a written reason is refused, so it does not decide the application.
    """
    found = []
    for item in state.seen_inputs(day, "application_decision"):
        data = item.data
        if not isinstance(data, ApplicationDecision):
            continue
        if data.decision == "approved" or (data.reason or "").strip():
            found.append(item)
    return found


def latest_decision(state: EnrollmentState, day: date) -> Input | None:
    """The latest valid application decision the evaluation of ``day`` sees, if any."""
    decisions = valid_decisions(state, day)
    return decisions[-1] if decisions else None
