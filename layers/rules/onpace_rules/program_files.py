"""Read a program policy file (YAML), validate it, and report mistakes by file and line.

A program file may include shared policies (``include: [chicago-communications.yaml]``, paths
relative to the file): an included file holds ``policy_version``, ``source``, ``rules`` and
optionally ``approvals``; the program's own entries win over included ones, rule by rule.

Every error names the file, the line and what is wrong, e.g.::

    programs/cps-online.yaml line 41: rules.cps.pacing.ipr_drop.pacing_threshold:
    Input should be less than or equal to 1

so a district can fix its file before switching a policy on, never after a family was told the
wrong thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from onpace_rules.engine import compile_program
from onpace_rules.program import ProgramConfig
from onpace_rules.registry import check_notice_settings

INCLUDABLE_KEYS = frozenset({"policy_version", "source", "rules", "approvals", "name", "kind"})


class ProgramFileError(ValueError):
    pass


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node of ``path`` found in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if str(k.value) == str(part)), None)
            key = next((k for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                break
            node = match
            line = (key.start_mark.line if key is not None else match.start_mark.line) + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _where(path: Path, line: int | None) -> str:
    return f"{path} line {line}" if line is not None else str(path)


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProgramFileError(f"{path}: {exc.strerror or exc}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise ProgramFileError(f"{_where(path, line)}: not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ProgramFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProgramFileError(f"{path}: expected a mapping of program settings")
    return data, node


def _merge_includes(path: Path, data: dict[str, Any], node: yaml.Node | None) -> dict[str, Any]:
    includes = data.pop("include", None) or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list):
        raise ProgramFileError(
            f"{_where(path, _line_of(node, ['include']))}: include: expected a list of files"
        )
    rules: dict[str, Any] = {}
    approvals: dict[str, Any] = {}
    for index, name in enumerate(includes):
        included_path = (path.parent / str(name)).resolve()
        if not included_path.is_file():
            line = _line_of(node, ["include", index])
            raise ProgramFileError(
                f"{_where(path, line)}: include: no file {name!r} next to the program file"
            )
        included, included_node = _read_yaml(included_path)
        unknown = sorted(set(included) - INCLUDABLE_KEYS)
        if unknown:
            line = _line_of(included_node, [unknown[0]])
            raise ProgramFileError(
                f"{_where(included_path, line)}: an included policy may hold only "
                f"{', '.join(sorted(INCLUDABLE_KEYS))}; not {', '.join(unknown)}"
            )
        for rule_id, params in (included.get("rules") or {}).items():
            rules[rule_id] = {**rules.get(rule_id, {}), **(params or {})}
        approvals.update(included.get("approvals") or {})
    if includes:
        for rule_id, params in (data.get("rules") or {}).items():
            rules[rule_id] = {**rules.get(rule_id, {}), **(params or {})}
        data["rules"] = rules
        data["approvals"] = {**approvals, **(data.get("approvals") or {})}
    return data


_RULE_IN_MESSAGE = re.compile(r"\b([a-z_]+(?:\.[a-z0-9_]+){2,})")
_PARAM_IN_MESSAGE = re.compile(r"^parameters of [^:]+: ([A-Za-z0-9_]+)")


def _rule_problem_line(message: str, data: dict[str, Any], node: yaml.Node | None) -> int | None:
    """The line a rule-level problem is about: the parameter named, else the rule id named."""
    rules = data.get("rules") or {}
    param = _PARAM_IN_MESSAGE.match(message)
    if param is not None:
        for rule_id, params in rules.items():
            if param.group(1) in (params or {}):
                return _line_of(node, ["rules", rule_id, param.group(1)])
    for candidate in _RULE_IN_MESSAGE.findall(message):
        if candidate in rules:
            return _line_of(node, ["rules", candidate])
    return None


def load_program_file(path: Path) -> ProgramConfig:
    """Parse, merge includes, validate and compile-check one program file; raises ProgramFileError."""
    data, node = _read_yaml(path)
    data = _merge_includes(path, data, node)
    try:
        config = ProgramConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = list(error["loc"])
            dotted = ".".join(str(p) for p in loc) or "(file)"
            problems.append(f"{_where(path, _line_of(node, loc))}: {dotted}: {error['msg']}")
        raise ProgramFileError("\n".join(problems)) from exc
    try:
        compile_program(config)
    except ValueError as exc:
        line = _rule_problem_line(str(exc), data, node)
        raise ProgramFileError(f"{_where(path, line)}: {exc}") from exc
    try:
        check_notice_settings(config)
    except ValueError as exc:
        # The problem is the missing setting; the first family rule shows why it is needed.
        raise ProgramFileError(f"{_where(path, _rule_problem_line(str(exc), data, node))}: {exc}") from exc
    return config
