"""The ready-made program files in programs/: they load, they name only implemented rules, their
terms are the school years we ship (2025–26, 2026–27), and every rule quotes its seed sentence."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from onpace_local.replay import replay_files
from onpace_rules.program import ProgramConfig
from onpace_rules.program_files import load_program_file
from onpace_rules.registry import IMPLEMENTED_RULE_IDS

REPO_ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = REPO_ROOT / "programs"
WORKED = REPO_ROOT / "tests" / "fixtures" / "worked_examples"

SEED_REF = re.compile(r"(\d{3}_[0-9a-f]{16}\.txt): ((?:\"[^\"]+\"(?:\s*\.\.\.\s*)?)+)")
QUOTED = re.compile(r"\"([^\"]+)\"")
FIRST_DAY, LAST_DAY = date(2025, 8, 1), date(2027, 8, 31)


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _is_policy(path: Path) -> bool:
    """An includable policy (``kind: policy``) rather than a program."""
    return _yaml(path).get("kind") == "policy"


ALL_FILES = sorted(PROGRAMS.glob("*.yaml"))
PROGRAM_FILES = [p for p in ALL_FILES if not _is_policy(p)]
POLICY_FILES = [p for p in ALL_FILES if _is_policy(p)]


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.fixture(scope="module")
def configs() -> dict[str, ProgramConfig]:
    return {p.name: load_program_file(p) for p in PROGRAM_FILES}


def _normal(text: str) -> str:
    """Quotes compared as words: curly quotes straightened, ``\\$`` unescaped, whitespace collapsed."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.replace("\\$", "$").split())


def _rule_key_lines(path: Path) -> list[tuple[str, int]]:
    """(rule id, 0-based line) for each key of the file's top-level ``rules:`` mapping."""
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)
    for key, value in root.value:
        if key.value == "rules":
            assert isinstance(value, yaml.MappingNode)
            return [(k.value, k.start_mark.line) for k, _ in value.value]
    return []


def _comment_above(lines: list[str], index: int) -> str:
    """The comment block directly above line ``index`` (contiguous ``#`` lines), as one text."""
    block: list[str] = []
    at = index - 1
    while at >= 0 and lines[at].strip().startswith("#"):
        block.insert(0, lines[at].strip().lstrip("#").strip())
        at -= 1
    return " ".join(block)


def _assert_quotes_seed(comment: str, where: str, seeds: Path) -> None:
    found = SEED_REF.search(comment)
    assert found is not None, f'{where}: no seed quote (NNN_....txt: "...") in the comment above it'
    seed = seeds / found.group(1)
    assert seed.is_file(), f"{where}: {found.group(1)} is not in shared/seeds"
    text = _normal(seed.read_text(encoding="utf-8"))
    for fragment in QUOTED.findall(found.group(2)):
        assert _normal(fragment) in text, f"{where}: not in {seed.name}: {fragment!r}"


def test_the_shipped_files() -> None:
    assert _ids(PROGRAM_FILES) == [
        "carthage-mocap.yaml",
        "cps-online.yaml",
        "csu-global.yaml",
        "msc-online-chicago-style.yaml",
        "msc-online.yaml",
    ]
    assert _ids(POLICY_FILES) == ["chicago-communications.yaml"]


@pytest.mark.parametrize("path", PROGRAM_FILES, ids=_ids(PROGRAM_FILES))
def test_every_program_file_loads(path: Path, shared_dir: Path) -> None:
    config = load_program_file(path)
    assert config.rules, "a program with no rules applies nothing"
    assert (shared_dir / "seeds" / config.source).is_file()
    assert config.calendar.terms


@pytest.mark.parametrize("path", PROGRAM_FILES, ids=_ids(PROGRAM_FILES))
def test_terms_are_inside_the_shipped_school_years(path: Path, configs: dict[str, ProgramConfig]) -> None:
    for term in configs[path.name].calendar.terms:
        assert FIRST_DAY <= term.start <= term.end <= LAST_DAY, term.id


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_every_rule_id_is_implemented(path: Path) -> None:
    data = _yaml(path)
    named = set(data.get("rules") or {})
    for version in data.get("versions") or []:
        named |= set(version.get("rules") or {})
    assert named
    assert named <= IMPLEMENTED_RULE_IDS, sorted(named - IMPLEMENTED_RULE_IDS)
    # An approval setting for a rule the file does not switch on would silently do nothing.
    assert set(data.get("approvals") or {}) <= set(data.get("rules") or {})


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_every_rule_quotes_its_seed_sentence(path: Path, shared_dir: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    keys = _rule_key_lines(path)
    assert keys
    for rule_id, line in keys:
        _assert_quotes_seed(_comment_above(lines, line), f"{path.name} {rule_id}", shared_dir / "seeds")


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_every_dated_version_quotes_its_source(path: Path, shared_dir: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"^\s*- version:", line)]
    assert len(starts) == len(_yaml(path).get("versions") or [])
    for index in starts:
        _assert_quotes_seed(
            _comment_above(lines, index), f"{path.name} line {index + 1}", shared_dir / "seeds"
        )


@pytest.mark.parametrize("path", PROGRAM_FILES, ids=_ids(PROGRAM_FILES))
def test_the_calendar_says_where_it_comes_from(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.startswith("calendar:")]
    comment = _comment_above(lines, index)
    assert re.search(r"Example calendar for 20\d\d–\d\d", comment), comment
    assert re.search(r"check against the .*published .*calendar", comment), comment


def test_every_policy_file_is_included_by_a_program() -> None:
    included = {name for p in PROGRAM_FILES for name in (_yaml(p).get("include") or [])}
    assert set(_ids(POLICY_FILES)) <= included


def test_cps_online_calendar_fits_worked_example_1(configs: dict[str, ProgramConfig]) -> None:
    config = configs["cps-online.yaml"]
    fall = config.term_on(date(2026, 8, 24))
    assert fall is not None and fall.start == date(2026, 8, 24) and fall.ipr == date(2026, 10, 9)
    calendar = config.build_calendar()
    # No holiday on the Monday and Tuesday after IPR #1: the appeal window ends Tue 2026-10-13.
    assert calendar.is_school_day(date(2026, 10, 12)) and calendar.is_school_day(date(2026, 10, 13))
    assert calendar.school_days_after(date(2026, 10, 10), 2) == date(2026, 10, 13)
    assert not calendar.is_school_day(date(2026, 9, 7))  # Labor Day
    assert not calendar.is_school_day(date(2026, 11, 24))  # Thanksgiving break
    assert not calendar.is_school_day(date(2027, 3, 23))  # spring break
    spring = config.term_on(date(2027, 2, 1))
    assert spring is not None and spring.season == "spring" and spring.seniors_last_day is not None
    assert config.school_year_of(date(2026, 10, 10)) == date(2026, 8, 24)


def test_cps_online_states_the_catalogue_parameters(configs: dict[str, ProgramConfig]) -> None:
    rules = configs["cps-online.yaml"].rules
    assert rules["cps.pacing.ipr_drop"] == {
        "pacing_threshold": 0.15,
        "warning_offsets_days": [14, 7],
        "appeal_window_school_days": 2,
        "pacing_appeals_per_year": 1,
    }
    assert rules["cps.participation.drop_20d"]["participation_drop_school_days"] == 20
    assert rules["cps.participation.warning"]["participation_warning_school_days"] == 15
    assert rules["cps.enrollment.add_window"]["add_window_days"] == 21


def test_msc_drop_fee_is_looked_up_by_date(configs: dict[str, ProgramConfig]) -> None:
    """Catalogue section 2: $100.00 in the 2014 guidelines, $110.00 in the pricing schedule."""
    versions = configs["msc-online.yaml"].versioned()
    fees = [
        (effective, c.rules["msc.enrollment.withdraw_window"]["drop_fee_usd"]) for effective, c in versions
    ]
    assert fees == [(None, 100.0), (date(2025, 7, 1), 110.0)]


def test_msc_terms_hold_worked_example_3_and_2026_27(configs: dict[str, ProgramConfig]) -> None:
    config = configs["msc-online.yaml"]
    spring = config.term_on(date(2026, 1, 5))
    assert spring is not None and spring.season == "spring"
    assert date(2026, 1, 5) <= spring.midpoint  # an enrollment that day passes the midpoint cap
    assert config.term_on(date(2026, 10, 1)) is not None and config.term_on(date(2027, 2, 1)) is not None


def test_csu_completion_rate_changes_in_july_2016(configs: dict[str, ProgramConfig]) -> None:
    config = configs["csu-global.yaml"]
    rates = [(e, c.rules["csu.sap.evaluate"]["min_completion_rate"]) for e, c in config.versioned()]
    assert rates == [(None, 0.67), (date(2016, 7, 1), 0.6666)]
    assert {t.kind for t in config.calendar.terms} == {"trimester"}
    march = config.term_on(date(2026, 3, 16))
    assert march is not None and march.kind == "trimester"
    assert config.term_on(date(2026, 9, 1)) is not None and config.term_on(date(2027, 3, 1)) is not None


def test_carthage_business_days_lose_missouri_public_holidays(configs: dict[str, ProgramConfig]) -> None:
    config = configs["carthage-mocap.yaml"]
    calendar = config.build_calendar()
    veterans_day = date(2026, 11, 11)  # a Wednesday: school is in session, the office is closed
    assert calendar.is_school_day(veterans_day)
    assert not calendar.is_business_day(veterans_day)
    assert config.term_on(date(2026, 9, 1)) is not None and config.term_on(date(2027, 2, 1)) is not None


def test_carthage_adequacy_target_is_a_dated_value(configs: dict[str, ProgramConfig]) -> None:
    versions = configs["carthage-mocap.yaml"].versioned()
    targets = [(e, c.rules["mocap.payment.schedule"]["adequacy_target_usd"]) for e, c in versions]
    assert targets == [(None, 6375.0), (date(2024, 7, 1), 6760.0)]
    assert all(c.rules["mocap.payment.schedule"]["cap_share"] == 0.07 for _, c in versions)


def test_the_include_brings_chicago_rules_and_the_program_keeps_its_own(
    configs: dict[str, ProgramConfig],
) -> None:
    config = configs["msc-online-chicago-style.yaml"]
    assert config.rules["cps_chicago.channel.district_email_only"]["district_domains"] == ["cps.edu"]
    assert config.rules["cps_chicago.meeting.one_on_one"]["prompt_rules"] == ["msc.progress.step1_contact"]
    assert config.rules["msc.progress.step1_contact"] == {
        "withdraw_period_days": 10,
        "step1_days_without_submission": 3,
    }
    assert config.policy_version == "online-ladder-chicago-2026.1"


def test_the_include_program_replays_worked_example_3_with_chicago_rules() -> None:
    """Worked example 3's roster and events under the include example: the ladder's dates do not
    change; step 1 also gets a meeting plan (invitation 4 calendar days ahead); the student's
    address is not a cps.edu address, so the student's emails are suppressed and recorded."""
    folder = WORKED / "example3_msc_ladder"
    result = replay_files(
        PROGRAMS / "msc-online-chicago-style.yaml",
        folder / "roster",
        [folder / "events.jsonl"],
        date(2026, 1, 5),
        date(2026, 2, 20),
    )
    summary = [(line["date"], line["rule"], line["kind"]) for line in result.lines]
    ladder = [s for s in summary if s[1].startswith("msc.progress.")]
    assert ladder == [
        ("2026-01-24", "msc.progress.step1_contact", "notice"),
        ("2026-01-31", "msc.progress.step2_reminder", "notice"),
        ("2026-02-07", "msc.progress.step3_removal_notice", "notice"),
        ("2026-02-10", "msc.progress.step4_removal", "action"),
    ]
    (plan,) = [line for line in result.lines if line["rule"] == "cps_chicago.meeting.one_on_one"]
    assert (plan["date"], plan["deadlines"]) == ("2026-01-24", {"meeting_earliest": "2026-01-28"})
    assert plan["recipients"] == ["instructor"]
    suppressed = [line for line in result.lines if line["rule"] == "cps_chicago.channel.district_email_only"]
    assert [s["facts"]["suppressed_rule"] for s in suppressed] == [
        "msc.progress.step2_reminder",
        "msc.progress.step3_removal_notice",
        "msc.progress.step4_removal",
    ]
    assert all("student" not in line["recipients"] for line in result.lines)
