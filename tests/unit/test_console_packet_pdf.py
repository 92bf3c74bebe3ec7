"""The evidence packet's PDF and the console's district-scoped keys, without AWS."""

from __future__ import annotations

import pytest
from onpace_core.console.common import NotInDistrict, own_key
from onpace_core.console.packet import (
    Event,
    NoticeRecord,
    Packet,
    PolicyInForce,
    RecipientStatus,
    RuleText,
    packet_pdf,
    printable,
)

from tests.pdf_text import pdf_text


def _packet() -> Packet:
    warning = NoticeRecord(
        notice_id="d1#cls-1#stu-1#cps.pacing.ipr_warning_2w#ipr-2026-10-09",
        rule_id="cps.pacing.ipr_warning_2w",
        title="Two-week pacing warning",
        kind="notice",
        decided_on="2026-09-25",
        due_on="2026-09-25",
        policy_version="cps-2026.1",
        status="lettered",
        deadlines={"ipr": "2026-10-09", "drop": "2026-10-10"},
        facts={"percent_complete": 0.05},
        recipients=[
            RecipientStatus("student", "ana@students.example", "sent", "delivered", "2026-09-26T12:10:00Z"),
            RecipientStatus("guardian", "bounce@family.example", "sent", "bounced", None),
        ],
        reason=None,
    )
    return Packet(
        district_id="d1",
        student_id="stu-1",
        student_name="Ana (Zoë) Núñez \\ Ørsted 李",
        class_id="cls-1",
        class_title="Biology Online",
        program_id="prog",
        program_name="Riverbend Online Academy",
        source="000_bc3aac7a290565fd.txt",
        time_zone="America/Chicago",
        generated_at="2026-10-01T00:00:00.000000Z",
        status="active",
        facts={"start_date": "2026-08-24", "percent_complete": 0.05},
        policies=[
            PolicyInForce(
                "cps-2026.1",
                None,
                None,
                [
                    RuleText(
                        "cps.pacing.ipr_warning_2w",
                        "Two-week pacing warning",
                        {"threshold": 0.5},
                        "automatic",
                    )
                ],
            )
        ],
        notices=[warning],
        appeals=[
            Event(
                7, "2026-10-12T15:00:00Z", "2026-10-12", "appeal.outcome", "admin:sub", "Appeal denied " * 20
            )
        ],
        deadlines=[("2026-10-09", "ipr", "cps.pacing.ipr_warning_2w")],
    )


def test_the_pdf_carries_names_rules_statuses_and_never_drops_a_character() -> None:
    text = pdf_text(packet_pdf(_packet()))
    assert "Evidence packet — Ana (Zoë) Núñez \\ Ørsted [U+674E]" in text
    assert "cps.pacing.ipr_warning_2w — Two-week pacing warning" in text
    assert "to student ana@students.example: sent, delivered (2026-09-26T12:10:00Z)" in text
    assert "to guardian bounce@family.example: sent, bounced" in text
    assert "deadline drop: 2026-10-10" in text and "Source document: 000_bc3aac7a290565fd.txt" in text
    assert "threshold=0.5" in text and "Actions\nnone" in text


def test_printable_writes_what_the_font_lacks_as_code_points() -> None:
    assert printable("Zoë Ñúñez Ørsted Ελένη Юлия") == "Zoë Ñúñez Ørsted Ελένη Юлия"
    assert printable("李 한") == "[U+674E] [U+D55C]"


@pytest.mark.parametrize(
    "key", ["d2#cls-1#stu-1", "d1x#cls-1#stu-1", "d1#cls-1#stu-1#extra", "d1#cls-1", "cls-1#stu-1"]
)
def test_a_key_outside_the_district_is_refused(key: str) -> None:
    with pytest.raises(NotInDistrict):
        own_key("d1", key)


def test_a_key_of_the_district_is_its_own() -> None:
    assert own_key("d1", "d1#cls-1#stu-1") == "d1#cls-1#stu-1"
