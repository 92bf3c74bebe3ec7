"""Re-check at send: does a warning decided earlier still stand on the latest facts?

Issue 12, scope 3: a student who re-engaged between the evaluation and the send gets no warning.
The decision belongs to the rule family that made the warning (``RuleFamily.resolved``), which
answers with the very conditions its ``plan`` evaluates, so the check never drifts from the rule.
Only warnings are re-checked (``RuleModule.warnings``); actions, approval requests and data
alerts always stand.
"""

from __future__ import annotations

from datetime import date

from onpace_rules.engine import APPROVAL_SUFFIX, CompiledProgram
from onpace_rules.facts import ONE_DAY, EnrollmentState
from onpace_rules.registry import WARNING_RULE_IDS
from onpace_rules.rules.contract import Resolution

__all__ = ["WARNING_RULE_IDS", "Resolution", "is_warning", "recheck_warning"]


def is_warning(rule_id: str, kind: str, episode: str) -> bool:
    """Whether a notice of ``rule_id`` is a warning that the re-check at send may cancel."""
    return kind == "notice" and rule_id in WARNING_RULE_IDS and not episode.endswith(APPROVAL_SUFFIX)


def recheck_warning(
    program: CompiledProgram,
    state: EnrollmentState,
    rule_id: str,
    episode: str,
    decided_on: date,
    today: date,
) -> Resolution | None:
    """Why the warning ``rule_id`` of ``episode``, decided on ``decided_on``, no longer stands on
    ``today`` (program-local, the day of sending), or None when it still stands.

    ``state`` is the enrollment as stored now. The check sees what the evaluation of the day after
    ``today`` would see, i.e. activity dated up to and including today (catalogue conventions:
    "Activity on day D counts from the evaluation of D + 1 on"), with the policy version that made
    the warning. Catalogue rows it implements (shared/design/policies.md):

    - ``cps.participation.warning`` and ``csu.engagement.at_risk_14d``: "a new qualifying activity
      ends the episode" — a submission (CPS) or engagement (CSU) since the lapse began;
    - ``cps.pacing.ipr_warning_2w`` / ``_1w``: the condition "a reported percent complete < 15 %"
      no longer holds (an unreported value resolves nothing: "No data is not zero");
    - ``msc.progress.step1_contact``, ``step2_reminder``: "still below the expected submissions"
      no longer holds; ``step3_removal_notice``: also "no submissions and no correspondence with
      the instructor since step 2".

    Any other notice (an action, an approval request, ``data.missing``) always stands.
    """
    if not is_warning(rule_id, "notice", episode):
        return None
    version, ctx = program.in_force(decided_on)
    seen_on = max(today, decided_on) + ONE_DAY
    for family in version.families:
        if rule_id in family.rule_ids:
            return family.resolved(state, rule_id, episode, seen_on, ctx)
    return None
