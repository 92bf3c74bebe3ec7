"""``manifest.csv``: which OneRoster version an export is, and whether each file is a bulk
file (the whole truth), a delta (only the rows that changed) or absent.

An export without a manifest is read as the OneRoster 1.1 bulk exports OnPace always took:
the files present are bulk files. (Both bindings require the manifest; SIS exports made by
hand often leave it out.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from onpace_core.roster.export import ExportFiles, RosterError
from onpace_core.roster.rows import read_rows

Mode = Literal["bulk", "delta", "absent"]
Version = Literal["1.1", "1.2"]
VERSIONS: dict[str, Version] = {"1.0": "1.1", "1.1": "1.1", "1.2": "1.2"}
MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class Manifest:
    version: Version
    modes: dict[str, Mode] = field(default_factory=dict)  # "users" -> "bulk"
    present: bool = True  # False: no manifest.csv, every file there read as bulk

    def mode(self, name: str) -> Mode:
        """The mode of ``users.csv`` (by file name): absent when the manifest does not list it."""
        return self.modes.get(name.removesuffix(".csv"), "absent")


def read_manifest(export: ExportFiles) -> Manifest:
    """The export's manifest, or a 1.1 all-bulk one when it has none; a wrong manifest is a
    ``RosterError`` naming its line."""
    data = export.read(MANIFEST)
    where = export.where(MANIFEST)
    if data is None:
        modes: dict[str, Mode] = {n.removesuffix(".csv"): "bulk" for n in export.names() if n != MANIFEST}
        return Manifest("1.1", modes, present=False)
    rows, problems, _ = read_rows(data, MANIFEST, where)
    if problems:
        first = problems[0]
        raise RosterError(where, f"{first.column or 'row'}: {first.problem}", first.line)
    if rows and not {"propertyName", "value"} <= set(rows[0].values):
        raise RosterError(where, "the header must be propertyName,value", 1)
    version: Version | None = None
    modes = {}
    for row in rows:
        name, value = row.values.get("propertyName", "").strip(), row.values.get("value", "").strip()
        if name == "oneroster.version":
            if value not in VERSIONS:
                raise RosterError(
                    where, f"value: oneroster.version {value!r} is not 1.0, 1.1 or 1.2", row.line
                )
            version = VERSIONS[value]
        elif name.startswith("file."):
            mode = value.lower() or "absent"
            if mode not in ("bulk", "delta", "absent"):
                raise RosterError(where, f"value: {name} is {value!r}, not bulk, delta or absent", row.line)
            modes[name.removeprefix("file.")] = mode  # type: ignore[assignment]
    if version is None:
        raise RosterError(where, "no oneroster.version row (1.1 or 1.2)")
    return Manifest(version, modes)
