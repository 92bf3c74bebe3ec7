"""Errors of the ingest service that the HTTP layer maps to a status at import time (an exception
handler needs its class), kept apart from the service so that mapping them loads nothing else."""

from __future__ import annotations

from collections.abc import Sequence


class ConflictError(Exception):
    """Event ids already stored (or repeated in the request) with other content: nothing was stored."""

    def __init__(self, event_ids: Sequence[str]) -> None:
        self.event_ids: list[str] = list(event_ids)
        super().__init__(f"event id(s) already received with other content: {', '.join(self.event_ids)}")
