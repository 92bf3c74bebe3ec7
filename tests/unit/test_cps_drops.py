"""CPS drop notices: the one yearly pacing appeal, stated as known, and shared by courses dropped
on one day (issue 9, item 8).

Seed 000: "Students are allowed one academic pacing appeal per academic year." and "Being
dropped from an online course can impact progress toward earning graduation credits and/or
MSHSAA eligibility." Catalogue section 1, ``cps.pacing.ipr_drop``: "appeal offered only if the
student has not used the one pacing appeal of this academic year".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from onpace_core.ingest.formats.plain import PlainActivityEvent
from onpace_core.notices.render import render
from onpace_core.store.models import Contact
from onpace_local.replay import replay
from onpace_rules.program_files import load_program_file

from tests.unit.rules_helpers import roster_record
from tests.unit.test_render import TEMPLATES, make_notice

CPS_ONLINE = Path(__file__).resolve().parents[2] / "programs" / "cps-online.yaml"
SEED_CONSEQUENCE = (
    "Being dropped from an online course can impact progress toward earning graduation credits "
    "and/or MSHSAA eligibility."
)


def _event(event_id: str, on: date, class_id: str, kind: str, **fields: Any) -> PlainActivityEvent:
    return PlainActivityEvent.model_validate(
        {
            "event_id": event_id,
            "occurred_at": datetime.combine(on, time(18), UTC).isoformat(),
            "student": "s1",
            "class": class_id,
            "kind": kind,
            **fields,
        }
    )


def _drops(*extra: PlainActivityEvent) -> list[dict[str, Any]]:
    """Worked example 1 for a student in two CPS Online courses, both at 10 % on IPR #1 (the
    pacing rules and calendar of ``programs/cps-online.yaml``)."""
    shipped = load_program_file(CPS_ONLINE)
    pacing = {r: p for r, p in shipped.rules.items() if r.startswith("cps.pacing.")}
    config = shipped.model_copy(update={"rules": pacing, "approvals": {}})
    records = [
        replace(
            roster_record(
                "s1",
                c,
                date(2026, 8, 24),
                date(2026, 12, 18),
                district=config.district_id,
                program_id=config.program_id,
            ),
            term_id="cps-fall-2026",
            class_title=title,
        )
        for c, title in (("alg", "Algebra I"), ("bio", "Biology I"))
    ]
    progress = [
        _event(f"p-{c}", date(2026, 9, 1), c, "progress", percent_complete=10.0) for c in ("alg", "bio")
    ]
    result = replay(config, records, [*progress, *extra], date(2026, 8, 24), date(2026, 10, 12))
    return [line for line in result.lines if line["rule"] == "cps.pacing.ipr_drop"]


def test_two_drops_on_one_day_both_say_the_one_appeal_covers_one_of_the_courses() -> None:
    drops = _drops()
    assert [(d["date"], d["class"], d["kind"]) for d in drops] == [
        ("2026-10-10", "alg", "action"),
        ("2026-10-10", "bio", "action"),
    ]
    by_class = {d["class"]: d["facts"] for d in drops}
    assert by_class["alg"]["other_courses_this_term"] == ["Biology I"]
    assert by_class["bio"]["other_courses_this_term"] == ["Algebra I"]
    for facts in by_class.values():
        assert (
            facts["appeal_available"],
            facts["pacing_appeals_used"],
            facts["pacing_appeals_per_year"],
        ) == (
            True,
            0,
            1,
        )
    # Each family email says the year's single appeal can be used for only one of the two.
    notice = make_notice("cps.pacing.ipr_drop", facts=by_class["alg"], deadlines={"appeal": "2026-10-13"})
    text = render(notice, Contact(role="guardian", address="a@family.example"), TEMPLATES).text
    assert "Jamie Rivera has not used this year's pacing appeal, so this drop can be appealed." in text
    assert "other online course this semester, Biology I, has the same IPR date" in text
    assert "the one appeal can be used for only one of the two courses" in text
    assert "If " + "you have already used" not in text and "if Jamie Rivera has already used" not in text


def test_an_appeal_used_earlier_in_the_year_is_stated_and_no_deadline_offered() -> None:
    appeal = _event(
        "appeal-1",
        date(2026, 9, 2),
        "alg",
        "appeal",
        data={"rule": "cps.pacing.ipr_drop"},
    )
    drops = _drops(appeal)
    assert {d["class"]: d["facts"]["appeal_available"] for d in drops} == {"alg": False, "bio": False}
    assert all(d["deadlines"] == {} for d in drops)
    notice = make_notice("cps.pacing.ipr_drop", facts=drops[0]["facts"], deadlines={})
    text = render(notice, Contact(role="guardian", address="a@family.example"), TEMPLATES).text
    assert "Jamie Rivera has already used this year's pacing appeal, so this drop cannot be appealed." in text
    assert "Last day to appeal" not in text


@pytest.mark.parametrize("rule_id", ["cps.pacing.ipr_drop", "cps.participation.drop_20d"])
@pytest.mark.parametrize("role", ["student", "guardian", "counselor"])
def test_drop_emails_state_the_graduation_credit_and_mshsaa_consequence(rule_id: str, role: str) -> None:
    email = render(make_notice(rule_id), Contact(role=role, address=f"{role}@x.example"), TEMPLATES)
    said = SEED_CONSEQUENCE if role != "counselor" else "a drop can impact progress toward earning"
    assert said in email.text and said in email.html
    assert "MSHSAA eligibility" in email.text
