"""``parsed(Model)``: validate a function's input event with a pydantic model before the handler.

What Powertools' ``event_parser`` does for a plain model, without importing that utility: its
package loads every envelope and every AWS event model it ships (over 100 ms of a cold start)
for a function that uses none of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")


def parsed(
    model: type[ModelT],
) -> Callable[[Callable[[ModelT, Any], ResultT]], Callable[[Any, Any], ResultT]]:
    """Decorate ``handler(event: Model, context)``: the raw event is validated (a
    ``pydantic.ValidationError`` naming each problem if it is not valid) and passed as ``Model``."""

    def decorate(handler: Callable[[ModelT, Any], ResultT]) -> Callable[[Any, Any], ResultT]:
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> ResultT:
            return handler(model.model_validate(event), context)

        return wrapper

    return decorate
