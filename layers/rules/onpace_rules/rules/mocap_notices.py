"""MOCAP notices to families: the state's Virtual School Guidance document.

Source: shared/seeds/001_8e57e2cb68840ac6.txt — "C.": "The District will provide a copy of DESE's
Virtual School Guidance document to every District parent/guardian at the beginning of each
school year and upon enrollment of every student enrolling after the beginning of the school
year. In addition, the district will provide an electronic version of the Guidance document on
the main page of the District's website." Catalogue section 4: ``mocap.notice.guidance``.

The guidance document is about the student and the family, not a course: it is a student-scope
family (one notice per student per school year), addressed to every family of the district
(``district_wide``: the roster load makes a student record for every student of the district's
roster, not only for MOCAP students). The disenrollment letter is in ``mocap_disenrollment``.
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
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import RuleFamily
from onpace_rules.rules.helpers import SUPERSEDED, fired_on
from onpace_rules.rules.mocap_common import GUIDANCE, school_year_label


class GuidanceParams(BaseModel):
    """The document's address is required: a letter that promises a document must say where it is
    (a program switching the rule on without it is refused when it is loaded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guidance_document_url: str = Field(
        pattern=r"^https?://[^\s]+$",
        description="Where families read DESE's current Virtual School Guidance document (http or https)",
    )


@dataclass(frozen=True)
class _Occasion:
    school_year: str
    due: date
    occasion: str  # "enrollment" | "school_year_start"


# A period the student is known to be enrolled: (first day, last day or None when open).
Span = tuple[date, date | None]


def student_spans(state: EnrollmentState) -> list[Span]:
    """The periods the student subject knows the student is enrolled in the district.

    A student subject carries the earliest enrollment's start and the end of the student's last
    enrollment, none while one is open-ended (replay ``_student_states``, store
    ``student_subjects``, over every enrollment of the district's roster for this family): one
    span from the first enrollment to the last one's end.
    """
    return [(state.start_date, state.end_date)]


def guidance_occasions(spans: Sequence[Span], config: ProgramConfig) -> list[_Occasion]:
    """The first occasion of each school year: an enrollment's start, or a listed school-year start
    inside a span. An enrollment that starts on the first day of school is that year's notice."""
    starts = set(config.calendar.school_year_start)
    dates: set[date] = set()
    for first, last in spans:
        dates.add(first)
        dates.update(s for s in starts if s > first and (last is None or s <= last))
    found: dict[str, _Occasion] = {}
    for d in sorted(dates):
        year = school_year_label(config, d)
        found.setdefault(year, _Occasion(year, d, "school_year_start" if d in starts else "enrollment"))
    return list(found.values())


@dataclass(frozen=True)
class Guidance(RuleFamily):
    """The guidance document to every family of the district once per school year.

    Student scope: the seed addresses "every District parent/guardian" and "every student
    enrolling", not a course; a per-enrollment notice sent a family with two MOCAP courses the
    same document twice. District-wide: the student records it evaluates are every student of
    the district's roster, whether or not they take a MOCAP course.
    """

    scope: ClassVar[Scope] = "student"
    runs_after_end: ClassVar[bool] = False
    district_wide: ClassVar[bool] = True
    params: GuidanceParams
    rule_ids: tuple[str, ...] = (GUIDANCE,)

    @staticmethod
    def _occasions(state: EnrollmentState, config: ProgramConfig) -> list[_Occasion]:
        return guidance_occasions(student_spans(state), config)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        """Seed: "at the beginning of each school year and upon enrollment" — once per school year.

        After an outage that spans two occasions, only the latest is sent: the same document
        twice on one day tells a family nothing new.
        """
        due = [
            o
            for o in self._occasions(state, ctx.config)
            if o.due <= day and fired_on(state, GUIDANCE, o.school_year) is None
        ]
        if not due:
            return ()
        *earlier, latest = due
        decisions = [
            Decision(
                rule_id=GUIDANCE,
                kind="skipped",
                episode=o.school_year,
                on=day,
                due_on=o.due,
                policy_version=ctx.policy_version,
                facts={"school_year": o.school_year, "occasion": o.occasion},
                reason=SUPERSEDED,
            )
            for o in earlier
        ]
        facts: dict[str, FactValue] = {
            "school_year": latest.school_year,
            "occasion": latest.occasion,
            # The student's first enrollment on the district's roster: "upon enrollment".
            "enrollment_start": state.start_date.isoformat(),
            "guidance_document_url": self.params.guidance_document_url,
        }
        decisions.append(
            Decision(
                rule_id=GUIDANCE,
                kind="notice",
                episode=latest.school_year,
                on=day,
                due_on=latest.due,
                policy_version=ctx.policy_version,
                recipients=("guardians",),
                facts=facts,
            )
        )
        return decisions

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        return min(
            (
                max(o.due, day + timedelta(days=1))
                for o in self._occasions(state, ctx.config)
                if fired_on(state, GUIDANCE, o.school_year) is None
            ),
            default=None,
        )
