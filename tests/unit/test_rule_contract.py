"""The rule contract (issue 9, item 10): every rule family is a ``RuleFamily``, whose hooks have
documented defaults that the engine relies on, and every rule module declares a ``RuleModule``."""

from __future__ import annotations

import inspect
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import import_module
from pathlib import Path
from typing import ClassVar

import pytest
from onpace_rules import rules as rules_package
from onpace_rules.context import RuleContext
from onpace_rules.decisions import Decision
from onpace_rules.engine import CompiledProgram, CompiledVersion, compile_program, evaluate_enrollment
from onpace_rules.facts import EnrollmentState
from onpace_rules.kinds import ActivityKind
from onpace_rules.program_files import load_program_file
from onpace_rules.registry import RULE_MODULES
from onpace_rules.rules.contract import AnswersInputs, ChecksOnFirstLook, RuleFamily, RuleModule

from tests.unit.rules_helpers import program

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 9, 14)
RULE = "test.contract.reminder"


@dataclass(frozen=True)
class Minimal(RuleFamily):
    """A family that states only what the contract requires: its rule ids and ``decide``."""

    rule_ids: tuple[str, ...] = (RULE,)

    def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
        if state.fired.get(f"{RULE}#once") is not None:
            return ()
        return (Decision(RULE, "notice", "once", day, day, ctx.policy_version, ("student",)),)


@dataclass(frozen=True)
class Watching(Minimal):
    """``next_wake`` sees the state with the family's own decisions recorded."""

    seen: list[EnrollmentState] = None  # type: ignore[assignment]

    def next_wake(self, state: EnrollmentState, day: date, ctx: RuleContext) -> date | None:
        self.seen.append(state)
        return None


def _state() -> EnrollmentState:
    return EnrollmentState(key="d#c#s", start_date=date(2026, 8, 24), student_id="s", class_id="c")


def _with_families(compiled: CompiledProgram, *families: RuleFamily) -> CompiledProgram:
    version = compiled.versions[0]
    replaced = CompiledVersion(
        version.effective, version.config, families, version.filters, version.adjusters
    )
    return CompiledProgram(compiled.config, compiled.calendar, (replaced,))


def _shipped_programs() -> list[Path]:
    """Every shipped program file, without the fragments others include (not programs alone)."""
    files = sorted([*(REPO / "programs").glob("*.yaml"), *(REPO / "demo" / "programs").glob("*.yaml")])
    included = {
        name.strip()
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("include:")
        for name in line.removeprefix("include:").strip(" []").split(",")
    }
    return [path for path in files if path.name not in included]


@pytest.mark.parametrize("path", _shipped_programs(), ids=lambda p: p.name)
def test_every_family_of_every_shipped_program_is_a_rule_family(path: Path) -> None:
    config = load_program_file(path)
    compiled = compile_program(config)
    families = [f for v in compiled.versions for f in v.families]
    assert all(isinstance(f, RuleFamily) for f in families), [type(f).__name__ for f in families]


def test_every_rule_module_declares_itself_and_the_registry_runs_it() -> None:
    """A module under rules/ with rule ids is one the registry knows: none is forgotten."""
    declared = []
    for info in pkgutil.iter_modules(rules_package.__path__):
        module = import_module(f"onpace_rules.rules.{info.name}")
        found = getattr(module, "MODULE", None)  # the test asks; the registry does not need to
        if found is not None:
            assert isinstance(found, RuleModule)
            declared.append(found)
        else:
            assert not hasattr(module, "RULE_IDS"), f"{info.name} has rule ids but no MODULE"
    assert sorted(map(id, declared)) == sorted(map(id, RULE_MODULES))


def test_a_rule_module_refuses_titles_and_lists_that_do_not_match_its_ids() -> None:
    def build(config: object) -> list[RuleFamily]:
        return []

    with pytest.raises(ValueError, match="without a title"):
        RuleModule(rule_ids=("a", "b"), titles={"a": "A"}, build=build)
    with pytest.raises(ValueError, match="not its own"):
        RuleModule(rule_ids=("a",), titles={"a": "A"}, build=build, staff_only=frozenset({"b"}))


def test_a_family_must_state_its_rule_ids_and_decide() -> None:
    @dataclass(frozen=True)
    class NoDecide(RuleFamily):
        rule_ids: tuple[str, ...] = (RULE,)

    @dataclass(frozen=True)
    class NoIds(RuleFamily):
        def decide(self, state: EnrollmentState, day: date, ctx: RuleContext) -> Sequence[Decision]:
            return ()

    for cls in (NoDecide, NoIds):
        with pytest.raises(TypeError, match="abstract"):
            cls()


def test_the_defaults_of_a_family_that_overrides_nothing() -> None:
    family = Minimal()
    compiled = program({})
    ctx = compiled.context_on(DAY)
    assert (family.scope, family.runs_after_end, family.district_wide) == ("enrollment", False, False)
    assert family.activity_wake_days == {}
    assert family.activity_history == frozenset()
    # next_wake: tomorrow, a lower bound for any family.
    assert family.next_wake(_state(), DAY, ctx) == DAY + timedelta(days=1)
    # redate: the same decision, dated the day of the approval.
    (decision,) = family.decide(_state(), DAY - timedelta(days=3), ctx)
    assert family.redate(decision, DAY, ctx) == Decision(
        RULE, "notice", "once", DAY, decision.due_on, ctx.policy_version, ("student",)
    )


def test_the_default_plan_is_decide_then_next_wake_of_the_state_with_the_decisions_recorded() -> None:
    seen: list[EnrollmentState] = []
    family = Watching(seen=seen)
    ctx = program({}).context_on(DAY)
    decisions, wake = family.plan(_state(), DAY, ctx)
    assert [d.fired_key for d in decisions] == [f"{RULE}#once"] and wake is None
    (after,) = seen
    assert after.fired == {f"{RULE}#once": DAY}
    assert after.checked_through == DAY
    assert after.status == "active"


def test_the_engine_runs_a_family_on_its_defaults_alone() -> None:
    """No hook is optional to the engine: a family with only ``decide`` is evaluated, woken the
    next day, and adds nothing to what activity does."""
    compiled = _with_families(program({}), Minimal())
    evaluation = evaluate_enrollment(compiled, _state(), DAY)
    assert [d.rule_id for d in evaluation.decisions] == [RULE]
    assert evaluation.wake_on == DAY + timedelta(days=1)
    assert compiled.activity_wake_days == {}
    assert compiled.activity_history == frozenset()
    assert compiled.addresses_district is False


def test_the_engine_reads_the_hooks_a_family_overrides() -> None:
    @dataclass(frozen=True)
    class Lapse(Minimal):
        scope: ClassVar = "student"
        district_wide: ClassVar[bool] = True

        @property
        def activity_wake_days(self) -> dict[ActivityKind, int]:
            return {"submission": 4}

        @property
        def activity_history(self) -> frozenset[ActivityKind]:
            return frozenset({"submission"})

    compiled = _with_families(program({}), Lapse())
    assert compiled.activity_wake_days == {"submission": 4}
    assert compiled.activity_history == frozenset({"submission"})
    assert compiled.addresses_district is True


@pytest.mark.parametrize("hook", ["next_wake", "plan", "redate", "activity_wake_days", "activity_history"])
def test_each_hook_with_a_default_documents_its_contract_and_the_default(hook: str) -> None:
    doc = inspect.getdoc(getattr(RuleFamily, hook)) or ""
    assert "Default:" in doc, f"RuleFamily.{hook} does not say what its default is"
    assert len(doc.split("Default:")[0].split()) > 15, f"RuleFamily.{hook} does not say what it is for"


def test_the_two_common_bases_are_rule_families() -> None:
    assert issubclass(AnswersInputs, RuleFamily) and issubclass(ChecksOnFirstLook, RuleFamily)
    assert "decide" in RuleFamily.__abstractmethods__ and "rule_ids" in RuleFamily.__abstractmethods__
