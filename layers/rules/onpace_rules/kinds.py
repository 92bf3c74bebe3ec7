"""The words facts and decisions share: kinds of activity, statuses, scopes, kinds of decision.

They live apart from ``facts`` and ``decisions`` so that each of those can use them without
importing the other (``facts`` imports ``decisions``, never the other way round).
"""

from __future__ import annotations

from typing import Literal, get_args

ActivityKind = Literal[
    "login",
    "view",
    "submission",
    "discussion_post",
    "discussion_reply",
    "mastery_exercise",
    "forum_question",  # a question to the instructor in a course forum
    "instructor_message",  # a message from the student to the instructor (LMS inbox, email)
    "progress",
]
ACTIVITY_KINDS: tuple[ActivityKind, ...] = get_args(ActivityKind)

EnrollmentStatus = Literal[
    "active",
    "held",  # an action awaits a person's approval; later rules wait with it
    "dropped",
    "withdrawn",
    "removed",
    "rejected",  # an add refused by an enrollment check
    "completed",  # final grade posted
    "unenrolled",  # the roster no longer has it (deleted, or gone from a bulk export)
]
# Statuses from which nothing time-driven happens any more.
ENDED_STATUSES: frozenset[str] = frozenset(
    {"dropped", "withdrawn", "removed", "rejected", "completed", "unenrolled"}
)

# What a rule family evaluates: one enrollment, or one student across the program's enrollments.
Scope = Literal["enrollment", "student"]

DecisionKind = Literal["notice", "action", "skipped"]
FactValue = str | int | float | bool | list[str] | None
