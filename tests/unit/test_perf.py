"""``perf.direct_init``: the same ``__init__`` as a frozen dataclass's, built for speed, or a refusal."""

from __future__ import annotations

import dataclasses
from dataclasses import InitVar, dataclass, field

import pytest
from onpace_rules.perf import direct_init


@direct_init
@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    count: int = 2
    tags: dict[str, int] = field(default_factory=dict)


def test_it_takes_the_same_arguments_defaults_and_factories() -> None:
    a = Sample("x")
    b = Sample(name="x", count=2)
    assert a == b and (a.count, a.tags) == (2, {})
    assert a.tags is not b.tags  # a new dict per instance, as default_factory gives
    assert Sample("y", 3, {"k": 1}) == Sample(tags={"k": 1}, count=3, name="y")
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]


def test_instances_stay_frozen_and_replace_works() -> None:
    a = Sample("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "y"  # type: ignore[misc]
    assert dataclasses.replace(a, count=5) == Sample("x", 5)


def test_it_refuses_what_its_init_would_get_wrong() -> None:
    @dataclass(frozen=True, slots=True)
    class Checked:
        n: int

        def __post_init__(self) -> None:
            raise AssertionError

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        n: int
        scale: InitVar[int] = 1

    @dataclass(frozen=True, slots=True)
    class KeywordOnly:
        n: int = field(kw_only=True)

    @dataclass(frozen=True, slots=True)
    class NotInInit:
        n: int
        derived: int = field(init=False, default=0)

    @dataclass(frozen=True)
    class NoSlots:
        n: int

    for cls in (Checked, WithInitVar, KeywordOnly, NotInInit, NoSlots):
        with pytest.raises(TypeError, match=cls.__name__):
            direct_init(cls)
