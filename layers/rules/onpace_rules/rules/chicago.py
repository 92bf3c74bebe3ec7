"""Chicago Public Schools communication policy: district email only, compliant one-on-one meetings.

Source: shared/seeds/002_4a577e05e1a1fcf6.txt (CPS Student Acceptable Use Policy). Catalogue
section 5: ``cps_chicago.channel.district_email_only`` and ``cps_chicago.meeting.one_on_one``.
Both are decision filters: they act on the decisions other rules made for the day (see
``registry.DecisionFilter``), so any program can include them next to its own rules.

Readings (policies.md asks for them to be written down):
- A district address is one whose domain is a configured ``district_domains`` entry or a
  subdomain of one (catalogue: "the configured domains and their subdomains, e.g.
  ``students.cps.edu`` under ``cps.edu``"; the seed's "student CPS email account" names no
  host, and districts give students addresses on a subdomain of their own). Compared
  case-insensitively (IDNA-normalised, trailing dot ignored), at a label boundary: a
  look-alike (``evilcps.edu``) or the district's domain inside another (``cps.edu.example.com``)
  never matches. A program that wants the exact domains only sets ``allow_subdomains: false``.
- OnPace sends email only, never text messages; the channel rule therefore checks addresses.
- The meeting plan is derived from the day the instructor prompt is sent: the instructor can
  send the invitation that day at the earliest, so the earliest meeting date counts from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision, FactValue
from onpace_rules.facts import EnrollmentState
from onpace_rules.inputs import Consent
from onpace_rules.program import ProgramConfig
from onpace_rules.rules.contract import RuleFamily, RuleModule
from onpace_rules.rules.helpers import fired_on, merged_params, validated

CHANNEL = "cps_chicago.channel.district_email_only"
MEETING = "cps_chicago.meeting.one_on_one"
RULE_IDS: tuple[str, ...] = (CHANNEL, MEETING)
TITLES: dict[str, str] = {
    CHANNEL: "District email only (channel policy)",
    MEETING: "One-on-one video meeting plan",
}

SUPPRESSED = "suppressed (channel policy)"
STUDENT = "student"
MEETING_EARLIEST = "meeting_earliest"

STEP1 = "msc.progress.step1_contact"
# What each known prompt wants the meeting for. The seed: "The purpose of any one-on-one remote
# meeting must be clear and unambiguous", so a prompt without a purpose is refused at load time.
DEFAULT_PURPOSES: dict[str, str] = {
    STEP1: "to agree on a schedule for completing the missing work",
}
# Who may be present so that the meeting stops being one-on-one when it cannot be recorded.
CHAPERONES: list[str] = ["principal", "assistant_principal", "guardians"]


# ---------------------------------------------------------------------------------------------
# Addresses


def normal_domain(domain: str) -> str | None:
    """``domain`` lower-cased, IDNA-encoded and without a trailing dot; None when it is not one."""
    text = domain.strip().rstrip(".").lower()
    if not text or "." not in text or any(c.isspace() or c in "@/\\<>" for c in text):
        return None
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_name.split(".")
    if any(not label or label.startswith("-") or label.endswith("-") for label in labels):
        return None
    return ascii_name


def address_domain(address: str | None) -> str | None:
    """The normalised domain of an email address; None when it is missing or malformed."""
    text = (address or "").strip()
    if not text or any(c.isspace() for c in text) or "@" not in text:
        return None
    local, _, domain = text.rpartition("@")  # a quoted local part may itself contain "@"
    if not local:
        return None
    return normal_domain(domain)


def is_district_domain(domain: str, district_domains: Sequence[str], allow_subdomains: bool) -> bool:
    """Whether ``domain`` (normalised) is one of the district's, per the subdomain reading above."""
    if domain in district_domains:
        return True
    return allow_subdomains and any(domain.endswith("." + d) for d in district_domains)


# ---------------------------------------------------------------------------------------------
# cps_chicago.channel.district_email_only


class ChannelParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    district_domains: tuple[str, ...]
    allow_subdomains: bool = True

    @field_validator("district_domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("list at least one district email domain, e.g. [cps.edu]")
        normalised = []
        for raw in value:
            found = normal_domain(raw)
            if found is None:
                raise ValueError(f"{raw!r} is not a domain name; write it like cps.edu (no @, no scheme)")
            normalised.append(found)
        return tuple(dict.fromkeys(normalised))


@dataclass(frozen=True)
class DistrictEmailOnly:
    """Seed 002 "Student Email": "Acceptable: Emailing staff using student CPS email account to staff
    CPS email account"; "Prohibited: Emailing staff via student's personal email"; "Texting staff".

    Every decision of the day that addresses the student keeps the student only when the roster's
    student address is a district address. Otherwise the student is taken off that decision and
    the suppression is recorded as ``skipped (suppressed (channel policy))``; a notice left with
    nobody to tell becomes ``skipped`` itself, while an action still takes effect (only its
    email to the student is suppressed). Text messages are never an option: OnPace sends email.
    """

    params: ChannelParams
    rule_id: str = CHANNEL

    def _status(self, address: str | None) -> tuple[str, str | None]:
        """("district" | "missing" | "malformed" | "not_district", the address's domain)."""
        if not (address or "").strip():
            return "missing", None
        domain = address_domain(address)
        if domain is None:
            return "malformed", None
        if is_district_domain(domain, self.params.district_domains, self.params.allow_subdomains):
            return "district", domain
        return "not_district", domain

    def allows(self, address: str | None) -> bool:
        return self._status(address)[0] == "district"

    def apply(
        self, decisions: Sequence[Decision], state: EnrollmentState, day: date, ctx: RuleContext
    ) -> list[Decision]:
        status: tuple[str, str | None] | None = None
        out: list[Decision] = []
        for decision in decisions:
            # A skipped decision is never sent, so there is no channel to police.
            if decision.kind == "skipped" or STUDENT not in decision.recipients:
                out.append(decision)
                continue
            if status is None:
                status = self._status(state.roster.student_address)
            if status[0] == "district":
                out.append(decision)
                continue
            out.extend(self._suppress(decision, state, day, ctx, status))
        return out

    def _suppress(
        self,
        decision: Decision,
        state: EnrollmentState,
        day: date,
        ctx: RuleContext,
        status: tuple[str, str | None],
    ) -> list[Decision]:
        remaining = tuple(r for r in decision.recipients if r != STUDENT)
        if remaining:
            kept = replace(decision, recipients=remaining)
        elif decision.kind == "action":
            # The action stands (the status change is the policy's); only its email is suppressed.
            kept = replace(decision, recipients=(), reason=decision.reason or SUPPRESSED)
        else:
            kept = replace(
                decision,
                kind="skipped",
                recipients=(),
                reason=SUPPRESSED,
                facts={**decision.facts, "suppressed_by": CHANNEL},
            )
        episode = decision.fired_key
        if fired_on(state, CHANNEL, episode) is not None:
            return [kept]
        facts: dict[str, FactValue] = {
            "suppressed_rule": decision.rule_id,
            "suppressed_kind": decision.kind,
            "suppressed_recipient": STUDENT,
            "address_status": status[0],
            # Only the domain is kept: the whole address is personal data the audit does not need.
            "address_domain": status[1],
            "district_domains": list(self.params.district_domains),
            "allow_subdomains": self.params.allow_subdomains,
            "channel": "email",  # OnPace never sends text messages
            "other_recipients": list(remaining),
        }
        record = Decision(
            rule_id=CHANNEL,
            kind="skipped",
            episode=episode,
            on=day,
            due_on=decision.due_on,
            policy_version=ctx.policy_version,
            facts=facts,
            reason=SUPPRESSED,
        )
        return [kept, record]


# ---------------------------------------------------------------------------------------------
# cps_chicago.meeting.one_on_one


class MeetingParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_rules: tuple[str, ...] = Field(default=(STEP1,), min_length=1)
    # The seed's minimum is four calendar days; a program may ask for more notice, never less.
    notice_days: int = Field(default=4, ge=4, le=60)
    platform: str = Field(default="Google Meet", min_length=1)
    # Defaults merged in by the validator, so a program adds purposes without repeating them.
    purposes: dict[str, str] = Field(default_factory=dict, validate_default=True)

    @field_validator("purposes")
    @classmethod
    def _with_defaults(cls, value: dict[str, str]) -> dict[str, str]:
        merged = {**DEFAULT_PURPOSES, **value}
        blank = sorted(k for k, v in merged.items() if not v.strip())
        if blank:
            raise ValueError(f"a meeting purpose must be stated, not blank: {', '.join(blank)}")
        return merged


@dataclass(frozen=True)
class OneOnOneMeetingPlan:
    """Seed 002, "One-to-one staff-to-student Google Meet sessions are permitted, and may be recorded,
    provided the following standards are met": on Google Meet; "The school principal or assistant
    principal, and the student's parents/guardians, must be added to the meeting as optional
    meeting attendees"; "The invitation must also be sent at least four (4) calendar days before
    the meeting"; "The purpose ... must be clearly communicated ... before the interaction
    begins"; recording needs "the CPS Written Consent Form for Recording of Virtual Meetings",
    without it "the school principal, assistant principal or parent/guardian must attend".

    When an instructor prompt of ``prompt_rules`` is in the day's decisions, adds one notice to
    the instructor with the compliant plan, episode ``"{prompt rule}#{prompt episode}"``.
    """

    params: MeetingParams
    channel: DistrictEmailOnly | None = None
    rule_id: str = MEETING

    def apply(
        self, decisions: Sequence[Decision], state: EnrollmentState, day: date, ctx: RuleContext
    ) -> list[Decision]:
        out = list(decisions)
        for decision in decisions:
            if (
                decision.rule_id not in self.params.prompt_rules
                or decision.kind != "notice"  # a superseded prompt proposes nothing
                or "instructor" not in decision.recipients
            ):
                continue
            episode = decision.fired_key
            if fired_on(state, MEETING, episode) is not None:
                continue
            out.append(self._plan(decision, episode, state, day, ctx))
        return out

    def _plan(
        self, prompt: Decision, episode: str, state: EnrollmentState, day: date, ctx: RuleContext
    ) -> Decision:
        earliest = day + timedelta(days=self.params.notice_days)  # calendar days: weekends count
        calendar = ctx.calendar
        school_day = earliest if calendar.is_school_day(earliest) else calendar.school_days_after(earliest, 1)
        consent = _latest_consent(state, day)
        recording = consent is not None and consent[0].recording
        facts: dict[str, FactValue] = {
            # What the prompt found (e.g. days without submission), so the plan explains itself.
            **{f"prompt_{name}": value for name, value in prompt.facts.items()},
            "prompt_rule": prompt.rule_id,
            "purpose": self.params.purposes[prompt.rule_id],
            "platform": self.params.platform,
            "invitation_on": day.isoformat(),
            "notice_days": self.params.notice_days,
            "earliest_school_day": school_day.isoformat(),
            "required_attendees": [STUDENT],
            "optional_attendees": ["principal_or_assistant_principal", "guardians"],
            "purpose_shared_with": [STUDENT, "guardians", "principal_or_assistant_principal"],
            "recording_allowed": recording,
            "consent_on": consent[1].isoformat() if consent is not None else None,
            "consent_by": consent[0].by if consent is not None else None,
            # Without consent the meeting may not be one-on-one: one of these must attend.
            "must_attend_one_of": [] if recording else list(CHAPERONES),
        }
        if self.channel is not None:
            facts["student_district_address"] = self.channel.allows(state.roster.student_address)
        return Decision(
            rule_id=MEETING,
            kind="notice",
            episode=episode,
            on=day,
            due_on=prompt.due_on,
            policy_version=ctx.policy_version,
            recipients=("instructor",),
            deadlines={MEETING_EARLIEST: earliest},
            facts=facts,
        )


def _latest_consent(state: EnrollmentState, day: date) -> tuple[Consent, date] | None:
    """The latest recording consent the evaluation of ``day`` sees: a later refusal revokes it."""
    found: tuple[Consent, date] | None = None
    for item in state.seen_inputs(day, "consent"):
        if isinstance(item.data, Consent):
            found = (item.data, item.on)
    return found


# ---------------------------------------------------------------------------------------------
# Module contract


def build(config: ProgramConfig) -> list[RuleFamily]:
    """No rule families: both rules act on the other rules' decisions (``build_filters``)."""
    return []


def _channel(config: ProgramConfig) -> DistrictEmailOnly | None:
    if CHANNEL not in config.rules:
        return None
    overrides: Mapping[str, object] = merged_params(config.rules, (CHANNEL,))
    if "district_domains" not in overrides:
        raise ValueError(
            f"program {config.key}: {CHANNEL} needs district_domains, the district's email domains "
            "(e.g. [cps.edu]); without them no student address can be checked"
        )
    return DistrictEmailOnly(validated(ChannelParams, overrides, CHANNEL))


def _meeting(config: ProgramConfig, channel: DistrictEmailOnly | None) -> OneOnOneMeetingPlan | None:
    if MEETING not in config.rules:
        return None
    params = validated(MeetingParams, merged_params(config.rules, (MEETING,)), MEETING)
    own = sorted(set(params.prompt_rules) & set(RULE_IDS))
    if own:
        raise ValueError(f"program {config.key}: {MEETING}.prompt_rules cannot name {', '.join(own)}")
    # A plan that can never be triggered would let a program believe the rule is on.
    missing = sorted(set(params.prompt_rules) - set(config.rules))
    if missing:
        raise ValueError(
            f"program {config.key}: {MEETING} follows instructor prompts the program does not "
            f"enable: {', '.join(missing)}; enable them or set prompt_rules"
        )
    unstated = sorted(set(params.prompt_rules) - set(params.purposes))
    if unstated:
        raise ValueError(
            f"program {config.key}: {MEETING} needs a purpose for each prompt: set purposes for "
            f"{', '.join(unstated)}"
        )
    return OneOnOneMeetingPlan(params, channel)


def build_filters(config: ProgramConfig) -> list[DistrictEmailOnly | OneOnOneMeetingPlan]:
    """The enabled filters, the meeting plan first so the channel rule sees every decision."""
    channel = _channel(config)
    meeting = _meeting(config, channel)
    return [f for f in (meeting, channel) if f is not None]


MODULE = RuleModule(
    rule_ids=RULE_IDS,
    titles=TITLES,
    build=build,
    build_filters=build_filters,
    # The channel rule only removes recipients and records why; it never emails anyone itself.
    silent=frozenset({CHANNEL}),
    # The meeting plan goes to the instructor only: no family notice, no contact person needed.
    staff_only=frozenset({MEETING}),
)
