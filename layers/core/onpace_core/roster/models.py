"""The rows of a OneRoster 1.1 / 1.2 CSV export that OnPace reads; other columns are ignored.

Column names are the bindings' (1.2 adds ``userMasterIdentifier``, ``preferredGivenName``…,
``primaryOrgSourcedId``, and moves users' roles to ``roles.csv``). Roles are matched without
regard to case ("Student" is "student") and kept in the spec's spelling; ``ext:`` roles are
extensions and accepted.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

Status = Literal["active", "tobedeleted"]

# OneRoster 1.1 users.csv ``role``; 1.2 roles.csv ``role`` (which adds the administrators' kinds).
USER_ROLES = (
    "administrator",
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
)
ENROLLMENT_ROLES = ("administrator", "aide", "proctor", "student", "teacher")
FAMILY_ROLES = ("parent", "guardian", "relative")


def _vocabulary(words: tuple[str, ...], what: str) -> AfterValidator:
    by_lower = {w.lower(): w for w in words}

    def check(value: str) -> str:
        if value.lower().startswith("ext:"):
            return value
        found = by_lower.get(value.strip().lower())
        if found is None:
            raise ValueError(f"{value!r} is not a OneRoster {what} ({', '.join(words)}, or ext:…)")
        return found

    return AfterValidator(check)


def parse_status(value: str | None) -> Status:
    """A row's ``status``: blank is active (bulk files may leave it out); OneRoster 1.0's
    ``inactive``, still sent by some SIS, is a deletion."""
    word = (value or "").strip().lower()
    if word in ("", "active"):
        return "active"
    if word in ("tobedeleted", "inactive"):
        return "tobedeleted"
    raise ValueError(f"{value!r} is not active or tobedeleted")


def _iso_date(value: object) -> object:
    # pydantic would also take a number of seconds since 1970 or "2026-08-24T00:00"; OneRoster
    # dates are YYYY-MM-DD and anything else is more likely a column mix-up than a date.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"{value!r} is not a date written YYYY-MM-DD")
    return value.strip() if isinstance(value, str) else value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
UserRole = Annotated[str, _vocabulary(USER_ROLES, "user role")]
EnrollmentRole = Annotated[str, _vocabulary(ENROLLMENT_ROLES, "enrollment role")]


def split_list(value: str | None) -> tuple[str, ...]:
    """A OneRoster list value ("a,b" in one quoted cell) as its items."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _grade(value: str) -> str:
    """A OneRoster grade without leading zeros ("09" → "9", "00" → "0"); codes ("KG", "GR") as sent."""
    return value.lstrip("0") or "0" if value.isdigit() else value


class Row(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, str_strip_whitespace=True, defer_build=True
    )

    sourced_id: str = Field(alias="sourcedId", min_length=1)
    # Where the row is in its CSV file, for errors found after reading (1-based; None if not read).
    _line: int | None = PrivateAttr(default=None)

    @property
    def line(self) -> int | None:
        return self._line

    def at(self, line: int) -> Row:
        self._line = line
        return self


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Text = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptionalDate = Annotated[IsoDate | None, BeforeValidator(_blank_is_none)]


class Org(Row):
    name: str
    type: Text = None


class AcademicSession(Row):
    title: Text = None
    type: Text = None
    start_date: IsoDate = Field(alias="startDate")
    end_date: IsoDate = Field(alias="endDate")


class Course(Row):
    title: Text = None
    course_code: Text = Field(default=None, alias="courseCode")


class RosterClass(Row):
    title: str = Field(min_length=1)
    course_sourced_id: Text = Field(default=None, alias="courseSourcedId")
    class_code: Text = Field(default=None, alias="classCode")
    school_sourced_id: str = Field(alias="schoolSourcedId", min_length=1)
    term_sourced_ids: Text = Field(default=None, alias="termSourcedIds")
    grades: Text = None

    @property
    def term_ids(self) -> tuple[str, ...]:
        return split_list(self.term_sourced_ids)

    @property
    def grade_levels(self) -> tuple[str, ...]:
        """The grades the class is for ("09,10" → ("9", "10"); ``GR``, a graduate class, as sent)."""
        return tuple(_grade(g) for g in split_list(self.grades))


_USER_ID = re.compile(r"\{\s*([^{}:]+?)\s*:\s*([^{}]*?)\s*\}")


def parse_user_ids(value: str | None) -> tuple[tuple[str, str], ...]:
    """OneRoster ``userIds``: ``{type:identifier}`` items, comma-separated ("{LDAP:12},{Fed:23}")."""
    text = (value or "").strip()
    if not text:
        return ()
    found = _USER_ID.findall(text)
    rest = _USER_ID.sub("", text).replace(",", "").strip()
    if rest or not found:
        raise ValueError(f"{value!r} is not a list of {{type:identifier}} items")
    return tuple((kind, ident) for kind, ident in found if ident)


# A BCP 47 language tag as rosters write it ("es", "es-MX", "es_mx", "zh-Hant-TW").
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def language_tag(value: object) -> object:
    """The first usable language tag of a roster cell, in canonical case ("es_mx" → "es-MX").

    1.2's ``preferredLanguages`` may list several ("es-MX,en"): the first is the family's choice.
    A value that is no tag ("Spanish", "??") is dropped, so the program's default applies rather
    than an import error for a field OnPace only uses to pick a catalogue.
    """
    if not isinstance(value, str):
        return value
    for item in split_list(value):
        if _LANGUAGE_TAG.match(item):
            first, *rest = item.replace("_", "-").split("-")
            return "-".join([first.lower(), *(p.upper() if len(p) == 2 else p.title() for p in rest)])
    return None


def _user_ids(value: object) -> object:
    return parse_user_ids(value) if isinstance(value, str) else value


class User(Row):
    # 1.1 has the role here; 1.2 has none (roles.csv instead): required by the reader per version.
    role: Annotated[UserRole | None, BeforeValidator(_blank_is_none)] = None
    username: Text = None
    user_ids: Annotated[tuple[tuple[str, str], ...], BeforeValidator(_user_ids)] = Field(
        default=(), alias="userIds"
    )
    given_name: str = Field(alias="givenName")
    family_name: str = Field(alias="familyName")
    preferred_given_name: Text = Field(
        default=None, validation_alias=AliasChoices("preferredGivenName", "preferredFirstName")
    )
    preferred_family_name: Text = Field(
        default=None, validation_alias=AliasChoices("preferredFamilyName", "preferredLastName")
    )
    identifier: Text = None
    master_identifier: Text = Field(default=None, alias="userMasterIdentifier")
    email: Text = None
    org_sourced_ids: Text = Field(default=None, alias="orgSourcedIds")
    primary_org_sourced_id: Text = Field(default=None, alias="primaryOrgSourcedId")
    agent_sourced_ids: Text = Field(default=None, alias="agentSourcedIds")
    grades: Text = None
    # The language notices are written in: OneRoster 1.2's ``preferredLanguages`` (or a vendor's
    # singular ``preferredLanguage``), else a ``metadata.*`` extension column.
    language: Annotated[str | None, BeforeValidator(_blank_is_none), BeforeValidator(language_tag)] = Field(
        default=None,
        validation_alias=AliasChoices(
            "preferredLanguages",
            "preferredLanguage",
            "metadata.preferredLanguage",
            "metadata.preferredLanguages",
            "metadata.language",
        ),
    )

    # Text messages (docs/notices.md, "Text messages"): 1.1's ``phone`` and ``sms`` (the number
    # to text, or a yes/no some exports write there), and an explicit choice as an extension.
    phone: Text = None
    sms: Text = None
    sms_choice: Text = Field(
        default=None, validation_alias=AliasChoices("metadata.onpace.sms", "metadata.sms")
    )

    @property
    def grade_level(self) -> str | None:
        """The student's grade ("09", "12", "KG" in OneRoster; leading zeros dropped)."""
        first = split_list(self.grades)[:1]
        return _grade(first[0]) if first else None

    @property
    def name(self) -> str:
        """The name to write to: the preferred one (1.2) when the export gives it."""
        given = self.preferred_given_name or self.given_name
        return f"{given} {self.preferred_family_name or self.family_name}"

    @property
    def agents(self) -> tuple[str, ...]:
        return split_list(self.agent_sourced_ids)


class Role(Row):
    """A row of 1.2 ``roles.csv``: one role of a user at an org."""

    user_sourced_id: str = Field(alias="userSourcedId", min_length=1)
    role_type: Literal["primary", "secondary"] = Field(alias="roleType")
    role: UserRole
    org_sourced_id: Text = Field(default=None, alias="orgSourcedId")
    user_profile_sourced_id: Text = Field(default=None, alias="userProfileSourcedId")
    begin_date: OptionalDate = Field(default=None, alias="beginDate")
    end_date: OptionalDate = Field(default=None, alias="endDate")


class Demographics(Row):
    """A row of ``demographics.csv``: its ``sourcedId`` is the user's; only the birth date is used."""

    birth_date: OptionalDate = Field(default=None, alias="birthDate")


class Enrollment(Row):
    class_sourced_id: str = Field(alias="classSourcedId", min_length=1)
    school_sourced_id: Text = Field(default=None, alias="schoolSourcedId")
    user_sourced_id: str = Field(alias="userSourcedId", min_length=1)
    role: EnrollmentRole
    primary: Text = None
    begin_date: OptionalDate = Field(default=None, alias="beginDate")
    end_date: OptionalDate = Field(default=None, alias="endDate")
