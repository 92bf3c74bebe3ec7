"""Read a program policy file (YAML), validate it, and report mistakes by file and line.

A program file may include shared policies (``include: [chicago-communications.yaml]``, paths
relative to the file): an included file holds ``policy_version``, ``source``, ``rules`` and
optionally ``approvals``; the program's own entries win over included ones, rule by rule.

Every error is a :class:`ProgramFileError` (an ``InputFileError``) naming the file, the line and
what is wrong, e.g.::

    programs/cps-online.yaml:41: rules.cps.pacing.ipr_drop.pacing_threshold:
    Input should be less than or equal to 1

    programs/cps-online.yaml:30: 2026-09-31 is not a date (day is out of range for month)

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
from onpace_rules.input_files import InputFileError, read_text
from onpace_rules.program import ProgramConfig
from onpace_rules.registry import check_notice_settings

INCLUDABLE_KEYS = frozenset({"policy_version", "source", "rules", "approvals", "name", "kind"})


class ProgramFileError(InputFileError):
    """A program file (or a policy it includes) is wrong; names the file, the line and the problem."""


class _BadScalar(yaml.constructor.ConstructorError):
    """A scalar YAML reads as a date or time that does not exist (``2026-09-31``)."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, except that an impossible date is a marked error, not a bare ValueError."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _BadScalar(None, None, f"{node.value} is not a date ({exc})", node.start_mark) from exc


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


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


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        text = read_text(path, what="program file")
    except InputFileError as exc:
        raise ProgramFileError(exc.path, exc.problem, exc.line) from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        problem = exc.problem if isinstance(exc, _BadScalar) else f"not valid YAML: {exc.problem}"
        raise ProgramFileError(path, problem or "not valid YAML", line) from exc
    except yaml.YAMLError as exc:
        raise ProgramFileError(path, f"not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ProgramFileError(path, "expected a mapping of program settings", _line_of(node, []))
    return data, node


def _merge_includes(path: Path, data: dict[str, Any], node: yaml.Node | None) -> dict[str, Any]:
    includes = data.pop("include", None) or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list):
        raise ProgramFileError(path, "include: expected a list of files", _line_of(node, ["include"]))
    rules: dict[str, Any] = {}
    approvals: dict[str, Any] = {}
    for index, name in enumerate(includes):
        included_path = (path.parent / str(name)).resolve()
        if not included_path.is_file():
            line = _line_of(node, ["include", index])
            raise ProgramFileError(path, f"include: no file {name!r} next to the program file", line)
        included, included_node = _read_yaml(included_path)
        unknown = sorted(set(included) - INCLUDABLE_KEYS)
        if unknown:
            line = _line_of(included_node, [unknown[0]])
            raise ProgramFileError(
                included_path,
                f"an included policy may hold only {', '.join(sorted(INCLUDABLE_KEYS))}; "
                f"not {', '.join(unknown)}",
                line,
            )
        _merge_rules(rules, included_path, included, included_node)
        approvals.update(_mapping(included, ["approvals"], included_path, included_node))
    if includes:
        _merge_rules(rules, path, data, node)
        data["rules"] = rules
        data["approvals"] = {**approvals, **_mapping(data, ["approvals"], path, node)}
    return data


def _mapping(data: dict[str, Any], keys: list[str], path: Path, node: yaml.Node | None) -> dict[str, Any]:
    """``data[keys[0]][keys[1]]…`` as a mapping (absent or empty: ``{}``), else a ProgramFileError."""
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise ProgramFileError(path, f"{'.'.join(keys)}: expected a mapping", _line_of(node, keys))
    return value


def _merge_rules(rules: dict[str, Any], path: Path, data: dict[str, Any], node: yaml.Node | None) -> None:
    """Merge ``data``'s rules into ``rules``, parameter by parameter (later files win)."""
    for rule_id in _mapping(data, ["rules"], path, node):
        params = _mapping(data, ["rules", rule_id], path, node)
        rules[rule_id] = {**rules.get(rule_id, {}), **params}


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
            problems.append(ProgramFileError(path, f"{dotted}: {error['msg']}", _line_of(node, loc)))
        first, *more = problems
        raise ProgramFileError(first.path, first.problem, first.line, more=more) from exc
    try:
        compile_program(config)
    except ValueError as exc:
        line = _rule_problem_line(str(exc), data, node)
        raise ProgramFileError(path, str(exc), line) from exc
    try:
        check_notice_settings(config)
    except ValueError as exc:
        # The problem is the missing setting; the first family rule shows why it is needed.
        raise ProgramFileError(path, str(exc), _rule_problem_line(str(exc), data, node)) from exc
    return config
