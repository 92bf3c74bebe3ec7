"""One CSV file of an export: its bytes decoded, its rows with their line numbers, and the
problems of each row named by file, line and column.

Encoding: OneRoster CSV files are UTF-8 (the 1.1 and 1.2 CSV bindings say so); a byte-order
mark and CRLF line ends are accepted. Another encoding is not guessed: a Windows-1252 é is a
valid byte of several encodings, and a name decoded wrongly would be printed in a letter to a
family. Instead every value holding a byte that is not UTF-8 is reported with its file, line,
column and byte (with the character it would be in Windows-1252, the usual culprit), that row
is left out, and the rows that are UTF-8 are imported.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from onpace_core.roster.export import RosterError


@dataclass(frozen=True)
class RowProblem:
    """One bad row (or value) of an export: it was left out, the others were imported."""

    file: str  # the export's file name ("users.csv")
    line: int | None
    column: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.column}: {self.problem}" if self.column else f"{where}: {self.problem}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "problem": self.problem}


@dataclass(frozen=True)
class RawRow:
    line: int  # the line the row starts on (1 is the header)
    values: dict[str, str]


def _bad_byte(value: str) -> tuple[int, int] | None:
    """(position, byte) of the first byte that was not UTF-8 (decoded as a lone surrogate)."""
    for position, char in enumerate(value):
        if "\udc80" <= char <= "\udcff":
            return position, ord(char) - 0xDC00
    return None


def _describe_byte(byte: int, position: int) -> str:
    try:
        guess = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        guess = ""
    hint = f", {guess!r} in Windows-1252" if guess.isprintable() and guess else ""
    return f"not UTF-8 (byte 0x{byte:02x} at character {position + 1}{hint}); export the roster as UTF-8"


def decode(data: bytes) -> str:
    """The text of a CSV file; bytes that are not UTF-8 kept as lone surrogates, found per value."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    return data.decode("utf-8", errors="surrogateescape")


def clean(value: str) -> str | None:
    """``value`` stripped, or None when it holds a byte that was not UTF-8."""
    return None if _bad_byte(value) else value.strip()


def read_rows(
    data: bytes, file: str, where: Path | str
) -> tuple[list[RawRow], list[RowProblem], list[RawRow]]:
    """The rows of one file (header names stripped), the problems that left rows out, and
    those rows (their values as read: see :func:`clean`).

    A file with no header at all (empty) has no rows. A header that cannot be read makes the
    whole file wrong: a ``RosterError`` naming it.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RosterError(
            where, "is UTF-16 (it starts with a UTF-16 byte-order mark); export the roster as UTF-8", 1
        )
    text = decode(data)
    if not text.strip():
        return [], [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[RawRow] = []
    rejected: list[RawRow] = []
    problems: list[RowProblem] = []
    try:
        header = next(reader)
        bad = next((b for b in map(_bad_byte, header) if b), None)
        if bad is not None:
            raise RosterError(where, f"header: {_describe_byte(bad[1], bad[0])}", 1)
        columns = [name.strip() for name in header]
        seen = [c for c in columns if c]
        if len(set(seen)) != len(seen):
            twice = sorted({c for c in seen if seen.count(c) > 1})
            raise RosterError(where, f"header names column(s) {', '.join(twice)} twice", 1)
        end = reader.line_num
        for record in reader:
            start, end = end + 1, reader.line_num
            if not any(v.strip() for v in record):
                continue  # a blank line (often the last)
            problems_before = len(problems)
            for column, value in zip(columns, record, strict=False):
                found = _bad_byte(value)
                if found is not None:
                    problems.append(
                        RowProblem(file, start, column or None, _describe_byte(found[1], found[0]))
                    )
            if len(record) > len(columns) and any(v.strip() for v in record[len(columns) :]):
                problems.append(
                    RowProblem(file, start, None, f"{len(record)} values for {len(columns)} columns")
                )
            values = {c: v for c, v in zip(columns, record, strict=False) if c}
            (rows if len(problems) == problems_before else rejected).append(RawRow(start, values))
    except csv.Error as exc:
        raise RosterError(where, f"not valid CSV: {exc}", reader.line_num) from exc
    return rows, problems, rejected
