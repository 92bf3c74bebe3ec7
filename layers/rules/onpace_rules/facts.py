"""What the engine knows about one enrollment on the day it evaluates it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any

from onpace_rules.decisions import Decision
from onpace_rules.inputs import Input

# The facts' vocabulary, defined apart so that ``decisions`` need not import this module.
from onpace_rules.kinds import (  # noqa: F401 (re-exported)
    ACTIVITY_KINDS,
    ENDED_STATUSES,
    ActivityKind,
    EnrollmentStatus,
    Scope,
)

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RosterFacts:
    """What the roster says around one enrollment, computed by whoever loads the roster.

    ``class_position`` is the enrollment's rank in its class by start date (1 = first);
    ``online_courses_in_term`` counts the student's enrollments in this program's classes of
    the same term; ``courses_in_term`` the student's whole schedule when the district sends it.
    ``birth_date`` comes from OneRoster ``demographics.csv`` (None: not sent); ``guardians``
    counts the student's parents/guardians on the roster with an address (None: facts loaded
    before it was counted, read as "not known", never as "none"); ``other_classes_in_term``
    names the student's other classes of this program in the same term.
    ``course_level`` is the class's level when its OneRoster ``grades`` name one (a graduate
    class: ``GR``), else the student's grade's; ``class_grades`` are the class's ``grades`` as
    sent, for a program that names its own graduate levels (SAP ``graduate_class_grades``).
    ``school_id`` / ``school_name`` are the class's school (OneRoster org): a MOCAP virtual
    school a student was disenrolled from is matched against them.
    """

    grade_level: str | None = None
    student_address: str | None = None
    class_position: int = 1
    online_courses_in_term: int = 1
    courses_in_term: int | None = None
    course_level: str | None = None  # "middle" | "high" | "undergraduate" | "graduate"
    full_time: bool | None = None  # enrolled full time in the program (MOCAP), when known
    class_title: str | None = None
    birth_date: date | None = None
    guardians: int | None = None
    other_classes_in_term: tuple[str, ...] = ()
    class_grades: tuple[str, ...] = ()
    school_id: str | None = None
    school_name: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RosterFacts:
        """The facts from their JSON form (``dataclasses.asdict``, dates as ISO strings): lists
        become tuples again, and fields an older item does not have keep their defaults."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
        }
        if isinstance(values.get("birth_date"), str):
            values["birth_date"] = date.fromisoformat(values["birth_date"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class EnrollmentState:
    """One enrollment as the evaluation of a day sees it.

    ``last_on`` holds the program-local date of the latest activity of each kind; ``history_on``
    every date, oldest first, of the kinds a program's rules count (``activity_history``: "the
    expected number of assignments" in a window); ``fired``
    maps ``"{rule_id}#{episode}"`` to the day that notice or action was recorded;
    ``checked_through`` is the last day this enrollment was evaluated (None before the first).
    """

    key: str
    start_date: date
    status: EnrollmentStatus = "active"
    term_id: str | None = None
    last_on: Mapping[ActivityKind, date] = field(default_factory=dict)
    percent_complete: float | None = None
    fired: Mapping[str, date] = field(default_factory=dict)
    checked_through: date | None = None
    end_date: date | None = None
    student_id: str = ""
    class_id: str | None = None
    scope: Scope = "enrollment"
    inputs: tuple[Input, ...] = ()
    roster: RosterFacts = field(default_factory=RosterFacts)
    held: Decision | None = None
    history_on: Mapping[ActivityKind, Sequence[date]] = field(default_factory=dict)
    # Set by the deployed evaluator (onpace_core.notices.family_reach), never stored: every
    # warning of the episode that announced the action due today failed to reach the student
    # and the guardians (failed, suppressed, bounced). The engine then holds that action.
    family_unwarned: bool = False

    def seen_inputs(self, day: date, *kinds: str) -> list[Input]:
        """Inputs of the given kinds (all kinds when none given) the evaluation of ``day`` sees."""
        return [i for i in self.inputs if i.on < day and (not kinds or i.kind in kinds)]

    def recorded(
        self,
        decisions: Sequence[Decision],
        day: date,
        status: EnrollmentStatus | None = None,
        held: Decision | None = None,
    ) -> EnrollmentState:
        """The state the evaluation after ``day`` sees once ``decisions`` of ``day`` are recorded:
        their fired keys, ``day`` checked, the end date they move; ``status`` (unchanged when
        None) and ``held``, the action awaiting approval (when the status is "held")."""
        fired = self.fired
        end_date = self.end_date
        if decisions:
            fired = {**fired, **{d.fired_key: day for d in decisions}}
            end_date = moved_end_date(decisions, end_date)
        # Written out rather than ``replace()``: the engine records a day for every family that
        # has no ``plan`` of its own, and ``replace()`` costs three times this.
        return EnrollmentState(
            key=self.key,
            start_date=self.start_date,
            status=self.status if status is None else status,
            term_id=self.term_id,
            last_on=self.last_on,
            percent_complete=self.percent_complete,
            fired=fired,
            checked_through=day,
            end_date=end_date,
            student_id=self.student_id,
            class_id=self.class_id,
            scope=self.scope,
            inputs=self.inputs,
            roster=self.roster,
            held=held,
            history_on=self.history_on,
            family_unwarned=self.family_unwarned,
        )

    def with_input(self, item: Input) -> EnrollmentState:
        """This state with one more non-activity input, kept in date order, each event once."""
        inputs = inputs_with(self.inputs, item)
        return self if inputs is self.inputs else replace(self, inputs=inputs)

    def last_of(self, kinds: frozenset[ActivityKind], before: date) -> date | None:
        """Latest activity date of the given kinds that the evaluation of ``before`` may see.

        The evaluation of D sees activity dated before D. Facts keep only the latest date of
        each kind, so a date on or after D hides the earlier one; it is read as D - 1, which
        can only make the enrollment look more active, never wrongly overdue.
        """
        latest: date | None = None
        for kind in kinds:
            seen = self.last_on.get(kind)
            if seen is not None and (latest is None or seen > latest):
                latest = seen
        if latest is not None and latest >= before:
            return before - ONE_DAY
        return latest

    def last_before(self, kind: ActivityKind, before: date) -> date | None:
        """``last_of`` for one kind (the hot rules ask for one)."""
        seen = self.last_on.get(kind)
        if seen is not None and seen >= before:
            return before - ONE_DAY
        return seen

    def history_of(self, kind: ActivityKind, before: date) -> tuple[date, ...]:
        """Dates of every activity of ``kind`` (oldest first) the evaluation of ``before`` sees.

        Needs a rule to list ``kind`` in ``activity_history``. Unlike ``last_of`` a date on or
        after ``before`` is left out, not read as the day before: every date is kept, so nothing
        earlier hides behind it, and moving it would invent a busier window than there was.
        """
        return tuple(d for d in self.history_on.get(kind, ()) if d < before)

    def inactivity_anchor(self, kinds: frozenset[ActivityKind], day: date) -> date:
        """The date day counts start from: last qualifying activity, or the day before the start.

        Catalogue: "when there was none, the enrollment's start date counts as day 1".
        """
        last = self.last_of(kinds, day)
        return last if last is not None else self.start_date - timedelta(days=1)


def inputs_with(inputs: tuple[Input, ...], item: Input) -> tuple[Input, ...]:
    """``inputs`` with one more, kept in date order, each event once (``inputs`` itself when
    ``item`` is in it already)."""
    if any(i.event_id == item.event_id for i in inputs):
        return inputs
    return tuple(sorted((*inputs, item), key=lambda i: (i.on, i.event_id)))


def moved_end_date(decisions: Iterable[Decision], end_date: date | None) -> date | None:
    """The enrollment's end date once ``decisions`` are recorded (a granted extension moves it;
    of several, the latest date stands)."""
    moved = [d.end_date_after for d in decisions if d.end_date_after is not None]
    return max(moved) if moved else end_date
