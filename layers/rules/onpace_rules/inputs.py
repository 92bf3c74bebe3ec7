"""Inputs that are not activity: grades, appeals, applications, approvals, accommodations, requests.

They arrive in the same event stream as activity (docs/webhooks.md, "Other inputs"), each with
a ``kind`` of its own and a ``data`` object validated here, so a malformed input is refused at
the door with the field that is wrong. The evaluation of day D sees inputs dated before D, like
activity (catalogue conventions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

InputKind = Literal[
    "final_grade",
    "appeal",
    "extension_request",
    "application",
    "application_decision",
    "disenrollment",
    "drop_request",
    "approval",
    "accommodation",
    "consent",
    "waiver",
    "graded_work",
    "instructor_contact",
    "reenrollment",
]
INPUT_KINDS: tuple[InputKind, ...] = get_args(InputKind)

# Every text field is bounded: inputs are kept on the enrollment item, which every evaluation
# reads and which DynamoDB caps at 400 KB. Names, ids and rule ids are short; free text (an
# approval's note, a denial's reason) is a paragraph, not a document. docs/webhooks.md states them.
NAME_LENGTH = 200
NOTE_LENGTH = 2_000
# Dates inside ``data`` (an accommodation's range, a due instant) are policy dates, not event
# times, so they may lie ahead; but a year like 9999 overflows the date arithmetic and time-zone
# conversion of every evaluation that reads the input.
FIRST_YEAR = 2000
LAST_YEAR = 2100


def _plausible_year(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{value.isoformat()} is not between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


PolicyDate = Annotated[date, AfterValidator(_plausible_year)]
PolicyInstant = Annotated[datetime, AfterValidator(_plausible_year)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class FinalGrade(_Data):
    """A course's final grade as posted by the instructor or the registrar.

    ``credits`` attempted; ``earned`` is False for F, W, incomplete (I) and in-progress grades.
    SAP counting (catalogue 3): transfer credits count toward completion and time frame, not
    GPA; incompletes, repeats and W grades count as attempted, not earned; only the last
    repeat of a course counts in GPA.
    """

    grade: str = Field(min_length=1, max_length=4, description="Letter grade: A, B+, F, W, I, P, …")
    credits: float = Field(default=1.0, ge=0)
    grade_points: float | None = Field(default=None, ge=0, le=4.5, description="Per credit; None: not in GPA")
    passed: bool | None = Field(default=None, description="Defaults from the letter: F, W, I fail")
    credit_bearing: bool = True
    core: bool = False
    transfer: bool = False
    repeat: bool = False
    course: str | None = Field(
        default=None, max_length=NAME_LENGTH, description="Course id, to find repeats of it"
    )
    term: str | None = Field(default=None, max_length=NAME_LENGTH)
    a_plus_candidate: bool = Field(default=False, description="Missouri A+ tuition candidate (MOCAP)")

    @property
    def is_passed(self) -> bool:
        if self.passed is not None:
            return self.passed
        return self.grade.upper() not in {"F", "W", "I", "NP", "U", "WF"}


class Appeal(_Data):
    rule: str = Field(
        max_length=NAME_LENGTH, description="The rule id of the drop appealed, e.g. cps.pacing.ipr_drop"
    )


class ExtensionRequest(_Data):
    days: int = Field(ge=1, le=365)
    requested_by: str = Field(min_length=1, max_length=NAME_LENGTH)


class Application(_Data):
    """A MOCAP application for a course, as the District's enrollment process records it.

    ``schooling``: where the student is schooled. The District pays for public-school students
    (seed 001: "Course costs will be paid by the District provided that the student: 1. Is
    enrolled full-time and has attended a public school"); "Home school and private students ...
    will be permitted to enroll in Program courses under an agreement, including the student's
    payment of tuition or course fees", so their courses are not paid unless the program says so
    (``mocap.payment.schedule`` ``pay_home_school_and_private``).
    """

    course: str | None = Field(default=None, max_length=NAME_LENGTH)
    full_time: bool = False
    schooling: Literal["public", "home_school", "private"] = Field(
        default="public", description="public (charter included), home_school or private"
    )


class ApplicationDecision(_Data):
    decision: Literal["approved", "denied"]
    reason: str | None = Field(
        default=None, max_length=NOTE_LENGTH, description="Written good-cause reason, required for a denial"
    )
    by: str = Field(min_length=1, max_length=NAME_LENGTH)


class Disenrollment(_Data):
    """A full-time virtual school's report that it disenrolled the student (MOCAP, seed 001 "D.")."""

    school: str = Field(
        min_length=1, max_length=NAME_LENGTH, description="The full-time virtual school that reported it"
    )
    school_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_LENGTH,
        description="Its OneRoster org sourcedId, when its classes are on the roster",
    )

    def names_school(self, school_id: str | None, school_name: str | None) -> bool:
        """Whether this report is about the school a class of the roster belongs to: the same org
        id, or (without one) the same name, letter case and spacing aside."""
        if self.school_id is not None:
            return self.school_id == school_id
        wanted = " ".join(self.school.split()).casefold()
        return any(
            value is not None and " ".join(value.split()).casefold() == wanted
            for value in (school_name, school_id)
        )


class DropRequest(_Data):
    requested_by: str = Field(default="student", min_length=1, max_length=NAME_LENGTH)


EXTENSION_RULE = "msc.extension.eligibility"


class Approval(_Data):
    """A person's decision on what awaits it: an action configured ``needs_approval`` (``rule``
    names it), or a course extension request the Program Director decides (``rule`` =
    ``msc.extension.eligibility``, ``request`` = the request's event id, ``note`` = the reason of a
    rejection, which the counselor is told)."""

    rule: str = Field(
        min_length=1,
        max_length=NAME_LENGTH,
        description="The rule id of the action or request awaiting approval",
    )
    decision: Literal["approved", "rejected"]
    by: str = Field(min_length=1, max_length=NAME_LENGTH)
    note: str | None = Field(default=None, max_length=NOTE_LENGTH)
    request: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_LENGTH,
        description="The event id of the request decided (extension requests)",
    )

    @model_validator(mode="after")
    def _extension_decision_is_complete(self) -> Approval:
        if self.rule != EXTENSION_RULE:
            return self
        if self.request is None:
            raise ValueError(
                f"a decision on an extension names its request: 'request' is the event_id of the "
                f"extension_request ({EXTENSION_RULE})"
            )
        if self.decision == "rejected" and not (self.note or "").strip():
            raise ValueError("a rejected extension needs the Program Director's reason in 'note'")
        return self


class Accommodation(_Data):
    """An IEP, a 504 plan or a documented medical absence, for a date range (inclusive)."""

    plan: Literal["iep", "504", "medical"]
    start: PolicyDate
    end: PolicyDate
    pause: bool = Field(default=True, description="The range does not count toward inactivity clocks")
    extend_days: int = Field(default=0, ge=0, le=60, description="Added to inactivity thresholds")

    @model_validator(mode="after")
    def _ordered(self) -> Accommodation:
        if self.end < self.start:
            raise ValueError(f"accommodation ends ({self.end}) before it starts ({self.start})")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Consent(_Data):
    recording: bool = Field(description="A parent's written consent to recording video meetings")
    by: str = Field(min_length=1, max_length=NAME_LENGTH)


class Waiver(_Data):
    check: Literal["class_size", "schedule_share", "term_midpoint", "add_window"]
    by: str = Field(min_length=1, max_length=NAME_LENGTH)


class GradedWork(_Data):
    """A piece of graded work with its due date (CSU late policy)."""

    work: Literal["assignment", "milestone", "discussion_post", "discussion_reply"]
    work_id: str = Field(min_length=1, max_length=NAME_LENGTH)
    due_at: PolicyInstant | None = Field(
        default=None, description="Assignment due instant; posts use the week"
    )
    incomplete_approved: bool = False


class InstructorContact(_Data):
    """A contact with the instructor that the instructor records (MSC step 3: "If the student does
    not respond by submitting assignments or correspond with the instructor ..."): a call, a
    meeting, or an exchange of emails or messages outside the LMS, with the student or, for a
    minor, a parent or guardian. Dated by when it took place. Record contacts that happened, not
    attempts that got no answer. (A message the student sends the instructor through the LMS is
    activity of kind ``instructor_message``.)"""

    by: str = Field(
        min_length=1, max_length=NAME_LENGTH, description="The instructor who records the contact"
    )
    method: Literal["email", "phone", "video", "in_person", "message", "other"]
    contact_with: Literal["student", "parent_guardian"] = "student"


class Reenrollment(_Data):
    """This enrollment is a re-enrollment after an administrative removal (MSC step 4: "A student
    administratively removed may re-enroll once, per course, per semester, for a $400 fee").
    Sent for the enrollment the student re-enrolled in (its class), once it is on the roster."""

    by: str = Field(
        min_length=1,
        max_length=NAME_LENGTH,
        description="Who re-enrolled the student (district or program staff)",
    )
    removed_from: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_LENGTH,
        description="The class the student was removed from, when another",
    )


INPUT_DATA: dict[str, type[_Data]] = {
    "final_grade": FinalGrade,
    "appeal": Appeal,
    "extension_request": ExtensionRequest,
    "application": Application,
    "application_decision": ApplicationDecision,
    "disenrollment": Disenrollment,
    "drop_request": DropRequest,
    "approval": Approval,
    "accommodation": Accommodation,
    "consent": Consent,
    "waiver": Waiver,
    "graded_work": GradedWork,
    "instructor_contact": InstructorContact,
    "reenrollment": Reenrollment,
}
assert set(INPUT_DATA) == set(INPUT_KINDS)


def parse_input_data(kind: str, data: dict[str, Any] | None) -> _Data:
    """Validate the ``data`` of an input of ``kind``; raises pydantic's ValidationError."""
    return TypeAdapter(INPUT_DATA[kind]).validate_python(data or {})


# Inputs about the student rather than one class: whoever stores inputs gives these to every
# enrollment of the student in the program, and an enrollment added later starts with them (an
# appeal used in one class counts for all of them; a disenrollment from a full-time virtual school
# ends the student's courses in that school and blocks re-enrolling in it, which every course of
# the student checks against its own school).
STUDENT_WIDE_KINDS: frozenset[str] = frozenset(
    {"appeal", "accommodation", "consent", "final_grade", "disenrollment"}
)


@dataclass(frozen=True, slots=True)
class Input:
    """One non-activity input about a student, in a class (``class_id``) or for all of them.

    ``on`` is its program-local date; ``at`` the instant it happened.
    """

    event_id: str
    kind: InputKind
    on: date
    at: datetime
    data: Any  # the model of INPUT_DATA[kind]
    class_id: str | None = None


def input_to_dict(item: Input) -> dict[str, Any]:
    """A JSON-able form of an input, as the deployed store keeps it on the enrollment."""
    return {
        "event_id": item.event_id,
        "kind": item.kind,
        "on": item.on.isoformat(),
        "at": item.at.isoformat(),
        "data": item.data.model_dump(mode="json"),
        "class_id": item.class_id,
    }


def input_from_dict(data: dict[str, Any]) -> Input:
    return Input(
        event_id=data["event_id"],
        kind=data["kind"],
        on=date.fromisoformat(data["on"]),
        at=datetime.fromisoformat(data["at"]),
        data=parse_input_data(data["kind"], data["data"]),
        class_id=data.get("class_id"),
    )
