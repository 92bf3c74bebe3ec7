"""Chicago communication policy (catalogue section 5): district email only, one-on-one meeting plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from onpace_core.notices.render import render
from onpace_rules import EnrollmentState, ProgramConfig, compile_program, evaluate_enrollment
from onpace_rules.decisions import Decision
from onpace_rules.engine import apply_evaluation
from onpace_rules.facts import RosterFacts
from onpace_rules.inputs import Consent, Input
from onpace_rules.registry import EMAILED_RULE_IDS, RULE_TITLES, SILENT_RULE_IDS
from onpace_rules.rules import chicago
from onpace_rules.rules.chicago import CHANNEL, MEETING, SUPPRESSED

from tests.unit.rules_helpers import program, run, summary, with_activity
from tests.unit.test_render import TEMPLATES, contact, make_notice

DOMAINS = {"district_domains": ["cps.edu"]}
# CSU Global is a university: a student without a birthDate is an adult (no guardian added).
ADULTS = {
    "notices": {
        "program_name": "CSU Global",
        "district_name": "Colorado State University Global Campus",
        "contact": {"name": "Taylor Brooks", "address": "advising@csuglobal.example"},
        "unknown_age": "adult",
    }
}
CSU = {"csu.engagement.at_risk_14d": {}, "csu.engagement.withdraw_21d": {}}
MSC_LADDER: dict[str, dict[str, Any]] = {
    "msc.progress.step1_contact": {},
    "msc.progress.step2_reminder": {},
    "msc.progress.step3_removal_notice": {},
    "msc.progress.step4_removal": {},
}
STEP1_EPISODE = "msc.progress.step1_contact#since-2026-01-20"


def _csu_state(address: str | None) -> EnrollmentState:
    """Worked example 2: last engagement 2026-03-02, At-Risk email due 2026-03-17 (student only)."""
    return EnrollmentState(
        key="e",
        start_date=date(2026, 2, 1),
        last_on={"discussion_reply": date(2026, 3, 2)},
        roster=RosterFacts(student_address=address),
    )


def _channel_day(address: str | None, day: date = date(2026, 3, 17), **params: Any) -> list[Decision]:
    compiled = program({**CSU, CHANNEL: {**DOMAINS, **params}})
    return list(evaluate_enrollment(compiled, _csu_state(address), day).decisions)


# -- cps_chicago.channel.district_email_only ---------------------------------------------------


def test_district_address_keeps_the_student_notice() -> None:
    (notice,) = _channel_day("jamie.rivera@cps.edu")
    assert (notice.rule_id, notice.kind, notice.recipients) == (
        "csu.engagement.at_risk_14d",
        "notice",
        ("student",),
    )


@pytest.mark.parametrize(
    ("address", "status", "domain"),
    [
        ("jamie.rivera@gmail.com", "not_district", "gmail.com"),
        (None, "missing", None),
        ("   ", "missing", None),
        ("jamie.rivera", "malformed", None),
        ("jamie rivera@cps.edu", "malformed", None),
    ],
)
def test_personal_missing_or_malformed_address_suppresses_the_notice(
    address: str | None, status: str, domain: str | None
) -> None:
    notice, record = _channel_day(address)
    assert (notice.rule_id, notice.kind, notice.reason, notice.recipients) == (
        "csu.engagement.at_risk_14d",
        "skipped",
        SUPPRESSED,
        (),
    )
    assert notice.facts["suppressed_by"] == CHANNEL
    assert notice.deadlines == {
        "last_day": date(2026, 3, 23),
        "withdrawal": date(2026, 3, 24),
    }  # on record, never sent
    assert (record.rule_id, record.kind, record.reason, record.recipients) == (
        CHANNEL,
        "skipped",
        SUPPRESSED,
        (),
    )
    assert record.episode == "csu.engagement.at_risk_14d#since-2026-03-02"
    assert (record.on, record.due_on, record.policy_version) == (
        date(2026, 3, 17),
        date(2026, 3, 17),
        "test-1",
    )
    assert record.facts["suppressed_rule"] == "csu.engagement.at_risk_14d"
    assert record.facts["address_status"] == status
    assert record.facts["address_domain"] == domain
    assert record.facts["channel"] == "email"


def test_the_record_keeps_the_domain_never_the_address() -> None:
    _, record = _channel_day("jamie.rivera@gmail.com")
    assert "jamie" not in repr(record) and "rivera" not in repr(record)


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("jamie@cps.edu", True),
        ("Jamie@CPS.EDU", True),  # domains compare case-insensitively
        ("jamie@cps.edu.", True),  # the DNS root dot changes nothing
        ("jamie@students.cps.edu", True),  # the catalogue's example of a subdomain
        ("jamie@STUDENTS.cps.edu", True),
        ("jamie@a.b.cps.edu", True),
        ("jamie@evilcps.edu", False),  # a label boundary, not a string suffix
        ("jamie@students-cps.edu", False),
        ("jamie@cps.edu.example.com", False),  # the district's domain inside another one
        ("jamie@cps.edu.evil.com", False),
        ("jamie@cps.education", False),
        ('"cps.edu@x"@gmail.com', False),  # the last @ names the domain
    ],
)
def test_district_addresses_are_the_configured_domains_and_their_subdomains(address: str, kept: bool) -> None:
    """Seed 002: "Acceptable: Emailing staff using student CPS email account to staff CPS email
    account"; catalogue: "the configured domains and their subdomains, e.g. `students.cps.edu`
    under `cps.edu`"."""
    decisions = _channel_day(address)
    assert [d.kind for d in decisions] == (["notice"] if kept else ["skipped", "skipped"])


@pytest.mark.parametrize(
    ("address", "kept"),
    [("jamie@cps.edu", True), ("jamie@students.cps.edu", False), ("jamie@evilcps.edu", False)],
)
def test_a_program_may_accept_the_exact_domains_only(address: str, kept: bool) -> None:
    decisions = _channel_day(address, allow_subdomains=False)
    assert [d.kind for d in decisions] == (["notice"] if kept else ["skipped", "skipped"])


def test_the_shipped_chicago_policy_accepts_subdomains(repo_root: Any) -> None:
    from onpace_rules.program_files import load_program_file

    config = load_program_file(repo_root / "programs" / "msc-online-chicago-style.yaml")
    (channel,) = [f for f in compile_program(config).versions[-1].filters if f.rule_id == CHANNEL]
    assert isinstance(channel, chicago.DistrictEmailOnly)
    assert channel.allows("jamie@students.cps.edu") and not channel.allows("jamie@evilcps.edu")
    assert not channel.allows("jamie@cps.edu.example.com")


def test_notice_to_student_and_family_keeps_the_family() -> None:
    compiled = program({"cps.participation.warning": {}, "cps.participation.drop_20d": {}, CHANNEL: DOMAINS})
    state = EnrollmentState(
        key="e",
        start_date=date(2026, 8, 24),
        last_on={"submission": date(2026, 9, 18)},
        roster=RosterFacts(student_address="jamie@yahoo.com"),
    )
    warning, record = evaluate_enrollment(compiled, state, date(2026, 10, 10)).decisions
    assert (warning.rule_id, warning.kind, warning.recipients, warning.reason) == (
        "cps.participation.warning",
        "notice",
        ("guardians",),
        None,
    )
    assert record.facts["other_recipients"] == ["guardians"]


def test_an_action_still_ends_the_enrollment_without_its_email_to_the_student() -> None:
    compiled = program({**CSU, CHANNEL: DOMAINS}, settings=ADULTS)
    state = replace(
        _csu_state("jamie@gmail.com"),
        fired={"csu.engagement.at_risk_14d#since-2026-03-02": date(2026, 3, 17)},
    )
    evaluation = evaluate_enrollment(compiled, state, date(2026, 3, 24))
    action, record = evaluation.decisions
    assert (action.kind, action.status_after, action.recipients) == ("action", "withdrawn", ("advisor",))
    assert evaluation.status == "withdrawn"
    assert (record.rule_id, record.facts["suppressed_kind"]) == (CHANNEL, "action")


def test_an_action_addressed_only_to_the_student_stays_an_action() -> None:
    compiled = program({CHANNEL: DOMAINS})
    (channel,) = compiled.versions[0].filters
    action = Decision(
        rule_id="x.withdraw",
        kind="action",
        episode="ep",
        on=date(2026, 3, 23),
        due_on=date(2026, 3, 23),
        policy_version="test-1",
        recipients=("student",),
        status_after="withdrawn",
    )
    state = _csu_state(None)
    kept, record = channel.apply([action], state, date(2026, 3, 23), compiled.context_on(date(2026, 3, 23)))
    assert (kept.kind, kept.status_after, kept.recipients, kept.reason) == (
        "action",
        "withdrawn",
        (),
        SUPPRESSED,
    )
    assert record.episode == "x.withdraw#ep"


def test_skipped_and_staff_only_decisions_pass_untouched() -> None:
    compiled = program({CHANNEL: DOMAINS})
    (channel,) = compiled.versions[0].filters
    day = date(2026, 3, 16)
    superseded = Decision("a", "skipped", "ep", day, day, "test-1", ("student",), reason="superseded")
    staff = Decision("b", "notice", "ep", day, day, "test-1", ("instructor",))
    out = channel.apply([superseded, staff], _csu_state("jamie@gmail.com"), day, compiled.context_on(day))
    assert out == [superseded, staff]


def test_one_suppression_record_per_notice_over_a_run() -> None:
    compiled = program({**CSU, CHANNEL: DOMAINS})
    decisions = run(
        compiled, _csu_state("jamie@gmail.com"), date(2026, 3, 3), date(2026, 4, 30), use_wake=False
    )
    assert summary(decisions) == [
        (
            "2026-03-17",
            "csu.engagement.at_risk_14d",
            "skipped",
            {"last_day": "2026-03-23", "withdrawal": "2026-03-24"},
        ),
        ("2026-03-17", CHANNEL, "skipped", {}),
        ("2026-03-24", "csu.engagement.withdraw_21d", "action", {}),
        ("2026-03-24", CHANNEL, "skipped", {}),
    ]


def test_a_recorded_suppression_is_not_recorded_twice() -> None:
    compiled = program({**CSU, CHANNEL: DOMAINS})
    state = _csu_state("jamie@gmail.com")
    first = evaluate_enrollment(compiled, state, date(2026, 3, 17))
    # Re-running the same day with the first suppression already recorded (only the record).
    again = replace(
        state, fired={f"{CHANNEL}#csu.engagement.at_risk_14d#since-2026-03-02": date(2026, 3, 17)}
    )
    (notice,) = evaluate_enrollment(compiled, again, date(2026, 3, 17)).decisions
    assert len(first.decisions) == 2 and notice.kind == "skipped"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "needs district_domains"),
        ({"district_domains": []}, "at least one district email domain"),
        ({"district_domains": ["@cps.edu"]}, "not a domain name"),
        ({"district_domains": ["cps"]}, "not a domain name"),
        ({"district_domains": ["cps.edu"], "channels": ["sms"]}, "channels"),
    ],
)
def test_channel_rule_without_valid_domains_is_refused_at_load(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        program({CHANNEL: params})


def test_channel_rule_is_silent_and_the_meeting_plan_is_emailed() -> None:
    assert CHANNEL in SILENT_RULE_IDS and CHANNEL not in EMAILED_RULE_IDS
    assert MEETING in EMAILED_RULE_IDS
    assert set(RULE_TITLES) >= {CHANNEL, MEETING}
    assert chicago.build(program({CHANNEL: DOMAINS}).config) == []


# -- cps_chicago.meeting.one_on_one ------------------------------------------------------------


def _msc_state(last_submission: date, start: date, address: str | None = "jamie@cps.edu") -> EnrollmentState:
    return EnrollmentState(
        key="e",
        start_date=start,
        last_on={"submission": last_submission},
        roster=RosterFacts(student_address=address),
    )


def _consent(on: date, recording: bool, event_id: str = "c1") -> Input:
    return Input(
        event_id=event_id,
        kind="consent",
        on=on,
        at=datetime(on.year, on.month, on.day, 15, tzinfo=UTC),
        data=Consent(recording=recording, by="Ana Rivera"),
    )


def _plan(decisions: tuple[Decision, ...] | list[Decision]) -> Decision:
    (plan,) = [d for d in decisions if d.rule_id == MEETING]
    return plan


def test_meeting_plan_goes_with_the_step1_prompt_of_worked_example_3() -> None:
    compiled = program({"msc.progress.step1_contact": {}, MEETING: {}})
    state = _msc_state(date(2026, 1, 20), date(2026, 1, 5))
    assert evaluate_enrollment(compiled, state, date(2026, 1, 23)).decisions == ()
    prompt, plan = evaluate_enrollment(compiled, state, date(2026, 1, 24)).decisions
    assert prompt.rule_id == "msc.progress.step1_contact"
    assert (plan.kind, plan.recipients, plan.episode) == ("notice", ("instructor",), STEP1_EPISODE)
    assert plan.deadlines == {"meeting_earliest": date(2026, 1, 28)}
    assert (plan.on, plan.due_on) == (date(2026, 1, 24), date(2026, 1, 24))
    assert plan.facts["purpose"] == "to agree on a schedule for completing the missing work"
    assert plan.facts["platform"] == "Google Meet"
    assert plan.facts["optional_attendees"] == ["principal_or_assistant_principal", "guardians"]
    assert plan.facts["required_attendees"] == ["student"]
    assert plan.facts["recording_allowed"] is False
    assert plan.facts["must_attend_one_of"] == ["principal", "assistant_principal", "guardians"]
    assert plan.facts["prompt_days_without_submission"] == 3
    assert "student_district_address" not in plan.facts  # the channel rule is not on


@pytest.mark.parametrize(
    ("consents", "allowed"),
    [
        ([], False),
        ([_consent(date(2026, 1, 10), True)], True),
        ([_consent(date(2026, 1, 23), True)], True),  # the day before: seen
        ([_consent(date(2026, 1, 24), True)], False),  # the day itself: seen from tomorrow
        ([_consent(date(2026, 1, 10), False)], False),
        ([_consent(date(2026, 1, 10), True), _consent(date(2026, 1, 15), False, "c2")], False),  # revoked
    ],
)
def test_recording_only_with_a_written_consent_seen_before_the_day(
    consents: list[Input], allowed: bool
) -> None:
    compiled = program({"msc.progress.step1_contact": {}, MEETING: {}})
    state = _msc_state(date(2026, 1, 20), date(2026, 1, 5))
    for item in consents:
        state = state.with_input(item)
    plan = _plan(evaluate_enrollment(compiled, state, date(2026, 1, 24)).decisions)
    assert plan.facts["recording_allowed"] is allowed
    assert plan.facts["must_attend_one_of"] == (
        [] if allowed else ["principal", "assistant_principal", "guardians"]
    )
    seen = [c for c in consents if c.on < date(2026, 1, 24)]
    assert plan.facts["consent_on"] == (seen[-1].on.isoformat() if seen else None)


@pytest.mark.parametrize(
    ("holidays", "last_submission", "earliest", "school_day"),
    [
        # Prompt Thu 2026-10-29: four calendar days cross the weekend and the DST change of Nov 1.
        ((), date(2026, 10, 25), date(2026, 11, 2), date(2026, 11, 2)),
        # Prompt Wed 2026-11-25: earliest Sun 11-29 (calendar days), first school day Mon 11-30.
        (("2026-11-26", "2026-11-27"), date(2026, 11, 21), date(2026, 11, 29), date(2026, 11, 30)),
        # ...and with Monday closed too, Tuesday.
        (
            ("2026-11-26", "2026-11-27", "2026-11-30"),
            date(2026, 11, 21),
            date(2026, 11, 29),
            date(2026, 12, 1),
        ),
    ],
)
def test_four_calendar_days_across_weekend_holiday_and_dst(
    holidays: tuple[str, ...], last_submission: date, earliest: date, school_day: date
) -> None:
    compiled = program({"msc.progress.step1_contact": {}, MEETING: {}}, holidays=list(holidays))
    prompt_day = date.fromordinal(last_submission.toordinal() + 4)  # after 3 whole days
    plan = _plan(
        evaluate_enrollment(compiled, _msc_state(last_submission, date(2026, 10, 1)), prompt_day).decisions
    )
    assert plan.facts["invitation_on"] == prompt_day.isoformat()
    assert plan.deadlines["meeting_earliest"] == earliest
    assert (earliest - prompt_day).days == 4
    assert plan.facts["earliest_school_day"] == school_day.isoformat()


def test_a_district_may_ask_for_more_notice_never_less() -> None:
    compiled = program({"msc.progress.step1_contact": {}, MEETING: {"notice_days": 5}})
    plan = _plan(
        evaluate_enrollment(
            compiled, _msc_state(date(2026, 10, 25), date(2026, 10, 1)), date(2026, 10, 29)
        ).decisions
    )
    assert plan.deadlines["meeting_earliest"] == date(2026, 11, 3)
    with pytest.raises(ValueError, match="notice_days"):
        program({"msc.progress.step1_contact": {}, MEETING: {"notice_days": 3}})


def test_other_prompts_can_be_named_with_their_purpose() -> None:
    rules = {
        **MSC_LADDER,
        MEETING: {
            "prompt_rules": ["msc.progress.step3_removal_notice"],
            "purposes": {"msc.progress.step3_removal_notice": "to discuss the removal notice"},
        },
    }
    compiled = program(rules)
    decisions = run(
        compiled, _msc_state(date(2026, 1, 20), date(2026, 1, 5)), date(2026, 1, 21), date(2026, 2, 10)
    )
    plan = _plan(decisions)
    assert (plan.on, plan.episode) == (date(2026, 2, 7), "msc.progress.step3_removal_notice#since-2026-01-20")
    assert plan.facts["purpose"] == "to discuss the removal notice"


def test_no_plan_for_a_superseded_prompt_or_one_without_the_instructor() -> None:
    compiled = program({"msc.progress.step1_contact": {}, MEETING: {}})
    (meeting,) = compiled.versions[0].filters
    day = date(2026, 1, 24)
    skipped = Decision("msc.progress.step1_contact", "skipped", "ep", day, day, "test-1", ("instructor",))
    no_instructor = Decision("msc.progress.step1_contact", "notice", "ep2", day, day, "test-1", ("student",))
    other = Decision("msc.progress.step2_reminder", "notice", "ep", day, day, "test-1", ("instructor",))
    decisions = [skipped, no_instructor, other]
    assert (
        meeting.apply(
            decisions, _msc_state(date(2026, 1, 20), date(2026, 1, 5)), day, compiled.context_on(day)
        )
        == decisions
    )


def test_a_recorded_plan_is_not_planned_again() -> None:
    compiled = program({"msc.progress.step1_contact": {}, MEETING: {}})
    state = replace(
        _msc_state(date(2026, 1, 20), date(2026, 1, 5)),
        fired={f"{MEETING}#{STEP1_EPISODE}": date(2026, 1, 24)},
    )
    assert [d.rule_id for d in evaluate_enrollment(compiled, state, date(2026, 1, 24)).decisions] == [
        "msc.progress.step1_contact"
    ]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({MEETING: {}}, "does not enable: msc.progress.step1_contact"),
        ({"msc.progress.step1_contact": {}, MEETING: {"prompt_rules": []}}, "prompt_rules"),
        (
            {
                "msc.progress.step2_reminder": {},
                "msc.progress.step1_contact": {},
                MEETING: {"prompt_rules": ["msc.progress.step2_reminder"]},
            },
            "needs a purpose",
        ),
        (
            {"msc.progress.step1_contact": {}, MEETING: {"purposes": {"msc.progress.step1_contact": " "}}},
            "blank",
        ),
        ({CHANNEL: DOMAINS, MEETING: {"prompt_rules": [CHANNEL]}}, "cannot name"),
    ],
)
def test_meeting_rule_misconfigurations_are_refused_at_load(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        program(rules)


def test_plan_says_whether_the_student_can_be_invited_at_a_district_address() -> None:
    rules = {"msc.progress.step1_contact": {}, MEETING: {}, CHANNEL: DOMAINS}
    for address, ok in (("jamie@cps.edu", True), ("jamie@gmail.com", False)):
        compiled = program(rules)
        plan = _plan(
            evaluate_enrollment(
                compiled, _msc_state(date(2026, 1, 20), date(2026, 1, 5), address), date(2026, 1, 24)
            ).decisions
        )
        assert plan.facts["student_district_address"] is ok


# -- the program-include idea: both rules next to the MSC ladder in one program ----------------


def _ladder_activity(s: EnrollmentState, day: date) -> EnrollmentState:
    if day.day % 2 == 0 and day <= date(2026, 1, 20):
        s = with_activity(s, "submission", day)
    return s


@pytest.mark.parametrize("use_wake", [True, False], ids=["wake-dates", "every-day"])
def test_chicago_rules_included_in_an_msc_ladder_program(use_wake: bool) -> None:
    compiled = program({**MSC_LADDER, CHANNEL: DOMAINS, MEETING: {}})
    state = replace(
        EnrollmentState(key="e", start_date=date(2026, 1, 5)),
        roster=RosterFacts(student_address="jamie@gmail.com"),
    )
    decisions = run(
        compiled, state, date(2026, 1, 5), date(2026, 3, 1), activity=_ladder_activity, use_wake=use_wake
    )
    assert summary(decisions) == [
        ("2026-01-24", "msc.progress.step1_contact", "notice", {}),
        ("2026-01-24", MEETING, "notice", {"meeting_earliest": "2026-01-28"}),
        ("2026-01-31", "msc.progress.step2_reminder", "notice", {}),
        ("2026-01-31", CHANNEL, "skipped", {}),
        (
            "2026-02-07",
            "msc.progress.step3_removal_notice",
            "notice",
            {"last_day": "2026-02-09", "removal": "2026-02-10"},
        ),
        ("2026-02-07", CHANNEL, "skipped", {}),
        ("2026-02-10", "msc.progress.step4_removal", "action", {"reenroll": "2026-02-17"}),
        ("2026-02-10", CHANNEL, "skipped", {}),
    ]
    by_rule = {d.rule_id: d for d in decisions}
    assert by_rule["msc.progress.step2_reminder"].recipients == ("district_staff", "program_admin")
    assert by_rule["msc.progress.step3_removal_notice"].recipients == ("district_staff", "instructor")
    # A minor's removal reaches the guardians (catalogue "Recipients and contact data").
    assert by_rule["msc.progress.step4_removal"].recipients == ("district_staff", "guardians")
    assert by_rule["msc.progress.step4_removal"].status_after == "removed"
    assert by_rule[MEETING].facts["student_district_address"] is False


def test_the_same_program_with_a_district_address_changes_nothing_but_the_plan() -> None:
    with_rules = program({**MSC_LADDER, CHANNEL: DOMAINS, MEETING: {}})
    without = program(MSC_LADDER)
    state = replace(
        EnrollmentState(key="e", start_date=date(2026, 1, 5)),
        roster=RosterFacts(student_address="jamie@cps.edu"),
    )
    included = run(with_rules, state, date(2026, 1, 5), date(2026, 3, 1), activity=_ladder_activity)
    plain = run(without, state, date(2026, 1, 5), date(2026, 3, 1), activity=_ladder_activity)
    assert [d for d in included if d.rule_id != MEETING] == plain
    assert [d.rule_id for d in included].count(MEETING) == 1


def test_a_policy_version_can_switch_the_channel_rule_on_later() -> None:
    config = program(CSU, settings=ADULTS).config.model_dump()
    config["versions"] = [{"version": "test-2", "effective": "2026-03-20", "rules": {CHANNEL: DOMAINS}}]
    compiled = compile_program(ProgramConfig.model_validate(config))
    state = _csu_state("jamie@gmail.com")
    early = evaluate_enrollment(compiled, state, date(2026, 3, 17))
    assert [d.kind for d in early.decisions] == ["notice"]
    later = apply_evaluation(state, early, date(2026, 3, 17))
    action, record = evaluate_enrollment(compiled, later, date(2026, 3, 24)).decisions
    assert (action.recipients, record.policy_version) == (("advisor",), "test-2")


# -- the meeting plan email --------------------------------------------------------------------


def test_plan_email_with_consent_says_record_and_tell_the_student() -> None:
    from tests.unit.render_cases.chicago import MEETING_FACTS

    facts = {**MEETING_FACTS, "recording_allowed": True, "consent_on": "2026-01-10", "must_attend_one_of": []}
    email = render(make_notice(MEETING, facts=facts), contact("instructor"), TEMPLATES)
    for body in (email.text, email.html):
        assert "Saturday, January 10, 2026" in body
        assert "should be recorded" in body and "turn the camera off" in body
        assert "must attend" not in body


def test_plan_email_warns_when_the_student_has_no_district_address() -> None:
    from tests.unit.render_cases.chicago import MEETING_FACTS

    facts = {**MEETING_FACTS, "student_district_address": False, "earliest_school_day": "2026-01-28"}
    email = render(make_notice(MEETING, facts=facts), contact("instructor"), TEMPLATES)
    for body in (email.text, email.html):
        assert "no district email address on file" in body
        assert "Wednesday, January 28, 2026" in body
    plain = render(make_notice(MEETING), contact("instructor"), TEMPLATES)
    assert "no district email address" not in plain.text and "first school day" not in plain.text
