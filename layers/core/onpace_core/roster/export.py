"""Where a OneRoster CSV export's files come from: a folder (``onpace load roster``) or a zip
(the S3 import). The reader only asks for a file's bytes by name and how to name it in errors.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from onpace_rules.input_files import InputFileError

# A zip larger than this once unpacked is refused: an export of a large district is tens of MB,
# and the import function (2 GB) holds the whole export and its rows in memory.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024


class RosterError(InputFileError):
    """A roster export is wrong; names the file, the line and the problem."""


class ExportFiles(Protocol):
    """The files of one export, by their name in the export (``users.csv``)."""

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when the export has no such file."""
        ...

    def where(self, name: str) -> Path | str:
        """How an error names the file (a path, or ``export.zip:users.csv``)."""
        ...

    def names(self) -> list[str]:
        """Every CSV file name of the export."""
        ...

    @property
    def label(self) -> str:
        """The export's name (the folder's or the zip's)."""
        ...


@dataclass(frozen=True)
class DirectoryExport:
    directory: Path

    def read(self, name: str) -> bytes | None:
        path = self.directory / name
        if not path.is_file():
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise RosterError(path, f"cannot read the roster file: {exc.strerror or exc}") from exc

    def where(self, name: str) -> Path | str:
        return self.directory / name

    def names(self) -> list[str]:
        return sorted(p.name for p in self.directory.glob("*.csv"))

    @property
    def label(self) -> str:
        return self.directory.name


@dataclass(frozen=True)
class ZipExport:
    """An export zipped; its CSV files at the top of the zip or all in one folder inside it."""

    name: str
    files: dict[str, bytes] = field(repr=False)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> ZipExport:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise RosterError(name, f"not a zip file ({exc})") from exc
        with archive:
            members = [
                i for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(".csv")
            ]
            if sum(i.file_size for i in members) > MAX_UNPACKED_BYTES:
                raise RosterError(name, f"unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
            folders = {PurePosixPath(i.filename).parent for i in members}
            if len(folders) > 1:
                listed = ", ".join(sorted(str(f) for f in folders))
                raise RosterError(name, f"CSV files in several folders ({listed}): zip one export")
            try:
                files = {PurePosixPath(i.filename).name: archive.read(i) for i in members}
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise RosterError(name, f"cannot unpack the zip ({exc})") from exc
        return cls(name, files)

    def read(self, name: str) -> bytes | None:
        return self.files.get(name)

    def where(self, name: str) -> Path | str:
        return f"{self.name}:{name}"

    def names(self) -> list[str]:
        return sorted(self.files)

    @property
    def label(self) -> str:
        return self.name
