"""Did any warning reach the family before the action it announced?

Issue 12, scope 5: "an action (drop, withdrawal, removal) whose warnings reached neither the
student nor a guardian is held for approval whatever the program's setting". The engine is pure;
the deployed evaluator (``notices/evaluation.py``) asks :func:`family_unwarned` only when an
evaluation is about to take a family action, and evaluates that enrollment again with
``EnrollmentState.family_unwarned`` set when the answer is yes: the engine then holds the action
for a person's approval with the reason ``NO_WARNING_REACHED``.

The warnings of an action are the catalogue's rules that announce it (:data:`ACTION_WARNINGS`),
in the same episode as the action (every family of rules names its warnings' and its action's
episode alike). Their outbox items, and each one's escalations (``{id}#esc1`` …,
``delivery/escalation.py``), are read by key in one BatchGetItem (at most
``4 × (1 + MAX_STEPS)`` keys): no Scan, no index.

Readings:
- A warning *reached* the family when one of its family recipients (student, guardian, parent)
  has a message SES accepted (``sent``, or ``sending`` left unconfirmed) that was not reported
  bounced or rejected afterwards. A complaint means it was read: it reached.
- A warning still ``pending``, ``sending`` or ``scheduled`` (waiting for the morning window), or
  a family recipient of it ``lettered`` into a letter not yet settled, is not known to have
  failed: the action is taken.
- A lettered warning's family recipient reads like any other once its letter settled: the
  letter's outcome is written to the member's entry (``sent`` with SES's message id), and SES's
  events about the letter's message are written there too (``delivery/tracking.py``), so a
  bounced letter means not reached. A member the re-check cancelled (``cancelled``) was not sent.
- An episode with no warning written to the family at all (the courtesy warning switched off,
  a warning superseded and skipped on a catch-up day…) is not held: the policy did not ask for a
  warning then, and holding every such action would hold them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from onpace_rules.decisions import Decision

from onpace_core.delivery.escalation import FAMILY_ROLES, MAX_STEPS, escalation_id
from onpace_core.delivery.evidence import plain
from onpace_core.store.models import OutboxModel

#: Action rule id → the warning rules that announce it (catalogue order).
ACTION_WARNINGS: Mapping[str, tuple[str, ...]] = {
    "cps.participation.drop_20d": ("cps.participation.warning",),
    "cps.pacing.ipr_drop": ("cps.pacing.ipr_warning_2w", "cps.pacing.ipr_warning_1w"),
    "csu.engagement.withdraw_21d": ("csu.engagement.at_risk_14d",),
    "msc.progress.step4_removal": (
        "msc.progress.step1_contact",
        "msc.progress.step2_reminder",
        "msc.progress.step3_removal_notice",
    ),
}
#: SES reports after which an accepted message did not reach its recipient.
NOT_REACHED = frozenset({"bounced", "rejected"})
#: Statuses of a warning not known to have failed: waiting to be sent (the morning window's
#: ``scheduled``), being sent.
STILL_PENDING = frozenset({"pending", "sending", "scheduled"})
#: A member's delivery entry while its letter is on its way (``delivery/letters.LETTERED``).
LETTERED = "lettered"


def warning_keys(enrollment_key: str, action: Decision) -> list[str]:
    """The outbox keys of the action's warnings in its episode and of their escalations."""
    keys: list[str] = []
    for rule_id in ACTION_WARNINGS.get(action.rule_id, ()):
        warning = f"{enrollment_key}#{rule_id}#{action.episode}"
        keys.append(warning)
        keys.extend(escalation_id(warning, step) for step in range(1, MAX_STEPS + 1))
    return keys


def reached(items: Iterable[OutboxModel]) -> bool | None:
    """True when a warning reached (or may have reached) the family, False when warnings were
    written to the family and none did, None when none was written to it."""
    written = False
    for item in items:
        if item.kind != "notice":
            continue  # skipped (superseded) or an action: no warning was sent
        family = [i for i, c in enumerate(item.recipients or []) if c.role in FAMILY_ROLES]
        if not family:
            continue  # to staff only (an instructor prompt, an escalation to the counselor)
        written = True
        if item.status in STILL_PENDING:
            return True  # not known to have failed
        deliveries = plain(item.deliveries)
        if any(_reached(deliveries.get(f"r{i}") or {}) for i in family):
            return True
    return False if written else None


def _reached(entry: Mapping[str, Any]) -> bool:
    if entry.get("status") == LETTERED:
        return True  # its letter is not settled yet: not known to have failed
    if entry.get("status") not in ("sent", "sending"):
        return False
    tracking = entry.get("tracking") or {}
    return tracking.get("status") not in NOT_REACHED


def family_unwarned(enrollment_key: str, action: Decision) -> bool:
    """Whether the family was written warnings before ``action`` and none reached it (one
    BatchGetItem; none for an action no warning announces)."""
    keys = warning_keys(enrollment_key, action)
    if not keys:
        return False
    items = OutboxModel.batch_get(keys, consistent_read=True)
    return reached(items) is False
