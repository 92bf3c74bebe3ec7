"""Files a person gives OnPace (program files, roster exports, event files): reading them and their errors.

Every mistake in such a file is an :class:`InputFileError` naming the file, the line when there
is one, and the problem, so that whoever wrote the file can fix it::

    demo/roster/users.csv:4: not UTF-8 (byte 0xe9); export the roster as UTF-8

The ``onpace`` command prints these as ``onpace: error: <file>:<line>: <problem>`` and exits 2.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from pathlib import Path


class InputFileError(ValueError):
    """A file given to OnPace is wrong: ``str()`` is ``<file>:<line>: <problem>``, one line per problem.

    ``more`` carries further problems found at the same time (a schema check reports them all).
    """

    def __init__(
        self, path: Path | str, problem: str, line: int | None = None, *, more: Sequence[InputFileError] = ()
    ) -> None:
        self.path = path
        self.problem = problem
        self.line = line
        self.more = tuple(more)
        super().__init__(str(self))

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)

    def __str__(self) -> str:
        return "\n".join([f"{self.where}: {self.problem}", *(str(m) for m in self.more)])


def read_text(path: Path, *, what: str = "file", fix: str = "save the file as UTF-8") -> str:
    """The text of a UTF-8 file (a leading byte-order mark dropped), or an InputFileError.

    ``what`` names the file in "no such …" (e.g. "program file"); ``fix`` ends the message for
    a file that is not UTF-8 (e.g. "export the roster as UTF-8"). Other encodings are refused,
    not guessed: the line and the first byte that is not UTF-8 are named instead.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputFileError(path, f"no such {what}") from exc
    except IsADirectoryError as exc:
        raise InputFileError(path, "is a directory, not a file") from exc
    except OSError as exc:
        raise InputFileError(path, f"cannot read the {what}: {exc.strerror or exc}") from exc
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = start + exc.start
        line = data.count(b"\n", 0, at) + 1
        raise InputFileError(path, f"not UTF-8 (byte 0x{data[at]:02x}); {fix}", line) from exc
