"""``parsed(Model)``: validate a function's input event with a pydantic model before the handler.

What Powertools' ``event_parser`` does for a plain model, without importing that utility: its
package loads every envelope and every AWS event model it ships (over 100 ms of a cold start)
for a function that uses none of them. The model may also be given as a function that returns
it, called on the first event: the model's module (and pydantic) then load with the first
invocation instead of at the function's import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound="BaseModel")
ResultT = TypeVar("ResultT")


def parsed(
    model: type[ModelT] | Callable[[], type[ModelT]],
) -> Callable[[Callable[[ModelT, Any], ResultT]], Callable[[Any, Any], ResultT]]:
    """Decorate ``handler(event: Model, context)``: the raw event is validated (a
    ``pydantic.ValidationError`` naming each problem if it is not valid) and passed as ``Model``.
    ``model`` is the model class, or a function without arguments that returns it."""

    @functools.cache
    def resolved() -> type[ModelT]:
        # A model class is a type; a loader is a plain function.
        return model if isinstance(model, type) else model()

    def decorate(handler: Callable[[ModelT, Any], ResultT]) -> Callable[[Any, Any], ResultT]:
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> ResultT:
            return handler(resolved().model_validate(event), context)

        return wrapper

    return decorate
