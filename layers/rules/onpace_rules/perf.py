"""Speed tricks the benchmark shows are needed, kept apart from the code they speed up.

``direct_init`` gives the two values the engine makes on every evaluation, ``Decision`` and
``Evaluation``, an ``__init__`` generated from their own field list that fills their slots
directly. Without it the benchmark's evaluation takes about a quarter longer (README,
"Speed tricks, and what removing them costs", gives the measured figures); nothing else in
``layers/rules`` generates code or writes into a frozen instance
(``tests/unit/test_value_types.py``).
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def direct_init(cls: type[T]) -> type[T]:
    """Give a frozen slots dataclass an ``__init__`` that fills its slots directly.

    A frozen dataclass's own ``__init__`` sets each field through ``object.__setattr__``, which
    costs several times what setting the slot does: a twelve-field decision took about 4 µs,
    and the engine makes a decision, an evaluation and a wake reset per enrollment it looks at.
    The generated ``__init__`` has the same parameters, defaults and default factories (it is
    built from the class's own field list); instances stay frozen (assignment still raises),
    and ``dataclasses.replace`` goes through it too. Apply it above ``@dataclass``.
    """
    if not is_dataclass(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: direct_init needs a slots dataclass")
    # What the generated ``__init__`` does not do: refuse rather than build something different.
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: direct_init does not call __post_init__")
    taken = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if [p.name for p in taken] != [f.name for f in fields(cls)] or any(
        p.kind is not p.POSITIONAL_OR_KEYWORD for p in taken
    ):  # an InitVar, an init=False field, a keyword-only field
        raise TypeError(
            f"{cls.__name__}: direct_init needs each field, and only fields, as __init__ parameters"
        )
    namespace: dict[str, Any] = {"_MISSING": MISSING}
    params: list[str] = []
    body: list[str] = []
    for f in fields(cls):
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        value = f.name
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            value = f"_factory_{f.name}() if {f.name} is _MISSING else {f.name}"
        else:
            params.append(f.name)
        body.append(f"    _set_{f.name}(self, {value})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)  # generated from the dataclass's own fields, like dataclasses does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
