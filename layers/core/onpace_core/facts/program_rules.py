"""What ingest needs to know of a program's rules: the compiled program, read from its table.

Most activity only moves due dates later, but some kinds can make something due (an MSC
submission starts a new lapse: ``CompiledProgram.activity_wake_days``) or are counted, every
date of them (``activity_history``). Ingest asks the program itself rather than copies on each
enrollment, so a new policy version applies without a roster reload. A container keeps what it
read for a few minutes: a program changes rarely, and a stale answer only lasts that long.
"""

from __future__ import annotations

import time

from onpace_rules.engine import CompiledProgram, compile_program

from onpace_core.store.models import ProgramModel
from onpace_core.store.programs import get_program

CACHE_SECONDS = 300.0
_cache: dict[tuple[str, str], tuple[float, CompiledProgram | None]] = {}


def program_rules(district_id: str, program_id: str) -> CompiledProgram | None:
    """The compiled program, or None when it is not stored (its enrollments then stay as they are)."""
    key = (district_id, program_id)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        program: CompiledProgram | None = compile_program(get_program(district_id, program_id))
    except ProgramModel.DoesNotExist:
        program = None
    _cache[key] = (now + CACHE_SECONDS, program)
    return program
