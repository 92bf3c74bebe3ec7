"""What the engine knows about one enrollment on the day it evaluates it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, get_args

ActivityKind = Literal[
    "login",
    "view",
    "submission",
    "discussion_post",
    "discussion_reply",
    "mastery_exercise",
    "forum_question",
    "progress",
]
ACTIVITY_KINDS: tuple[ActivityKind, ...] = get_args(ActivityKind)

EnrollmentStatus = Literal["active", "dropped", "withdrawn", "removed"]


@dataclass(frozen=True, slots=True)
class EnrollmentState:
    """One enrollment as the evaluation of a day sees it.

    ``last_on`` holds the program-local date of the latest activity of each kind; ``fired``
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
            return before - timedelta(days=1)
        return latest

    def inactivity_anchor(self, kinds: frozenset[ActivityKind], day: date) -> date:
        """The date day counts start from: last qualifying activity, or the day before the start.

        Catalogue: "when there was none, the enrollment's start date counts as day 1".
        """
        last = self.last_of(kinds, day)
        return last if last is not None else self.start_date - timedelta(days=1)
