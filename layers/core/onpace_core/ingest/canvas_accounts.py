"""Which district a Canvas root account's events belong to, for deliveries that name no district.

Events from the SQS queue carry no district and no signature (the queue's policy is the trust
boundary): the district is looked up from ``metadata.root_account_id`` in a mapping configured
with the stack (template parameter ``CanvasAccounts`` → ``CANVAS_ACCOUNTS``), a JSON object::

    {"21070000000000001": "district-a", "31200000000000001": "district-b"}
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import TypeAdapter


@cache
def _map() -> TypeAdapter[dict[str, str]]:
    # pydantic and the validator load on the first message, not at the queue function's import.
    from pydantic import TypeAdapter

    return TypeAdapter(dict[str, str])


class AccountMapError(ValueError):
    """The configured mapping is not a JSON object of strings."""


def parse_account_map(text: str) -> dict[str, str]:
    """The mapping ``{root_account_id: district_id}``; an empty text is an empty mapping."""
    if not text.strip():
        return {}
    from pydantic import ValidationError

    try:
        return _map().validate_json(text)
    except ValidationError as exc:
        raise AccountMapError(
            "CANVAS_ACCOUNTS must be a JSON object {root_account_id: district_id}: "
            + "; ".join(e["msg"] for e in exc.errors(include_url=False, include_input=False))
        ) from None
