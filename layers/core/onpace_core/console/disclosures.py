"""FERPA record of disclosures for one student (34 CFR 99.32): every notice that left OnPace
about the student, with the date sent, the party it went to and the purpose.

Parties: the recipient's role and address. The address is shown in full by default: the readers
are the district's administrators (school officials with a legitimate educational interest in
the record), and 99.32(a)(3) asks for the parties themselves, which a masked address does not
identify; ``masked=True`` gives the masked form for a print meant to leave the office.
Purpose: the rule that produced the notice (its catalogue title and id, the policy version) and
its kind. 99.32(d) does not require recording disclosures to the parent or eligible student or
to school officials; the record lists them all anyway, each with its category, since that is
what a family asks for.

Cost: one Query of the audit log's ``by_student`` index (1 MB pages), nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from onpace_rules.titles import rule_title

from onpace_core.console.common import detail_of, student_entries
from onpace_core.delivery.suppression import mask

# Settled notice entries (delivery/evidence.py ``entry_type``): what was handed to SES.
SENT_TYPES = ("notice.sent", "notice.unconfirmed")


@dataclass(frozen=True)
class Disclosure:
    sent_at: str  # UTC instant the send was recorded
    on: str | None  # the program-local day of the decision
    role: str
    address: str
    category: str  # the party's category under 99.31/99.32
    purpose: str  # the rule's title and kind
    rule_id: str | None
    policy_version: str | None
    class_id: str | None
    notice_id: str | None
    status: str  # sent | unconfirmed (SES may have accepted it)


def _category(role: str) -> str:
    if role == "student":
        return "eligible student or the student (99.32(d)(1))"
    if role == "guardian":
        return "parent (99.32(d)(1))"
    return "school official with a legitimate educational interest (99.31(a)(1))"


def disclosures(district_id: str, student_id: str, *, masked: bool = False) -> list[Disclosure]:
    """Every recipient a notice about ``student_id`` was sent to, oldest first."""
    out: list[Disclosure] = []
    for entry in student_entries(district_id, student_id):
        if entry.type not in SENT_TYPES:
            continue
        detail = detail_of(entry)
        kind = str(detail.get("kind") or "notice")
        title = rule_title(entry.rule_id) if entry.rule_id else "notice"
        for recipient in detail.get("recipients") or []:
            status = recipient.get("status")
            if status not in ("sent", "unconfirmed"):
                continue  # not handed to SES: nothing was disclosed
            role = str(recipient.get("role") or "")
            address = str(recipient.get("address") or "")
            out.append(
                Disclosure(
                    sent_at=entry.at,
                    on=entry.on,
                    role=role,
                    address=mask(address) if masked and address else address,
                    category=_category(role),
                    purpose=f"{title} ({entry.rule_id}; {kind})",
                    rule_id=entry.rule_id,
                    policy_version=entry.policy_version,
                    class_id=entry.class_id,
                    notice_id=entry.notice_id,
                    status=str(status),
                )
            )
    return out
