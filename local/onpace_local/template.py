"""``template.yaml`` as data: the raw SAM template, its offline CloudFormation transform, the
functions it declares, and a small resolver for the intrinsic functions the template uses.

The template is the one source of truth for the local stack: tables, queues and function
environments are all read from here, never restated by hand.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "onpace-local"

#: Marker returned by ``resolve`` for ``Ref: AWS::NoValue``; containers drop it.
NO_VALUE: Any = object()

# ---------------------------------------------------------------------------------------------
# Loading: YAML with CloudFormation short-form tags.


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that turns ``!Ref x`` into ``{"Ref": "x"}``, ``!Sub s`` into ``{"Fn::Sub": s}``…"""


_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "ToJsonString",
    "Length",
)


def _construct_node(loader: CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node!r}", node.start_mark)


def _fn_constructor(key: str) -> Any:
    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_node(loader, node)}

    return construct


def _ref(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _construct_node(loader, node)}


def _condition(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _construct_node(loader, node)}


def _get_att(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_node(loader, node)
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {"Fn::GetAtt": value}


CfnLoader.add_constructor("!Ref", _ref)
CfnLoader.add_constructor("!Condition", _condition)
CfnLoader.add_constructor("!GetAtt", _get_att)
for _tag in _FN_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _fn_constructor(f"Fn::{_tag}"))


def load_template(path: Path | str) -> dict[str, Any]:
    """The SAM template as written, with short tags expanded to their long forms."""
    with Path(path).open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=CfnLoader)
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation/SAM template")
    return data


# ---------------------------------------------------------------------------------------------
# Offline SAM transform.

_LOCAL_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


class _NoAwsPolicyLoader:
    """Stands in for samtranslator's ``ManagedPolicyLoader`` without calling IAM.

    The template names no AWS managed policy by short name (the ones SAM adds itself, such as
    ``AWSLambdaBasicExecutionRole``, it builds as ARNs without this map), so an empty map is
    enough; a name that did need it would make the transform fail loudly.
    """

    def load(self) -> dict[str, str]:
        return {}


def _with_s3_uris(template: dict[str, Any]) -> dict[str, Any]:
    """Rewrite local code paths to ``s3://local/<path>`` as ``sam package`` would, offline."""
    result = copy.deepcopy(template)
    for resource in result.get("Resources", {}).values():
        prop = _LOCAL_URI_PROPERTIES.get(resource.get("Type", ""))
        if prop is None:
            continue
        properties = resource.setdefault("Properties", {})
        uri = properties.get(prop)
        if isinstance(uri, str) and not uri.startswith("s3://"):
            properties[prop] = "s3://local/" + uri.strip("/").removeprefix("./")
    # A Globals CodeUri would be rewritten the same way.
    function_globals = result.get("Globals", {}).get("Function", {})
    uri = function_globals.get("CodeUri")
    if isinstance(uri, str) and not uri.startswith("s3://"):
        function_globals["CodeUri"] = "s3://local/" + uri.strip("/")
    return result


def transform_template(
    sam: Mapping[str, Any],
    parameter_values: Mapping[str, Any] | None = None,
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """Transform an already loaded SAM template to CloudFormation, offline.

    samtranslator's own ``transform()`` builds a default boto3 session to find the region and
    fails without one, so the translator is called directly with a session pinned to ``region``
    (a session makes no call by itself) and a policy map that never asks IAM.
    """
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    template = _with_s3_uris(dict(sam))
    parameters: dict[str, Any] = {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": PARTITION,
    }
    parameters.update(parameter_values or {})
    to_py27_compatible_template(template, parameters)
    policy_loader = _NoAwsPolicyLoader()
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    translated = translator.translate(
        template, parameter_values=parameters, get_managed_policy_map=policy_loader.load
    )
    result: dict[str, Any] = undo_mark_unicode_str_in_template(translated)
    return result


def transform(path: Path | str, parameter_values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``template.yaml`` as CloudFormation (what ``sam deploy`` would hand to CloudFormation)."""
    return transform_template(load_template(path), parameter_values)


# ---------------------------------------------------------------------------------------------
# Functions.


@dataclass(frozen=True)
class FunctionSpec:
    """One ``AWS::Serverless::Function`` of the template, as the local stack needs it."""

    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def attribute(self) -> str:
        return self.handler.rpartition(".")[2]


def _merged_environment(sam: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """Globals' variables overlaid with the function's own, as SAM merges them."""
    global_env = sam.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own_env = properties.get("Environment", {}).get("Variables", {})
    return {**copy.deepcopy(global_env), **copy.deepcopy(own_env)}


def function_specs(template_path: Path | str) -> list[FunctionSpec]:
    """Every serverless function of the template, with paths relative to the template's folder."""
    template_path = Path(template_path)
    root = template_path.resolve().parent
    sam = load_template(template_path)
    function_globals = sam.get("Globals", {}).get("Function", {})
    specs: list[FunctionSpec] = []
    for logical_id, resource in sam["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        code_uri = properties.get("CodeUri", function_globals.get("CodeUri"))
        handler = properties.get("Handler", function_globals.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise ValueError(f"{logical_id}: CodeUri and Handler must be plain strings for the local stack")
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=(root / code_uri).resolve(),
                handler=handler,
                environment=_merged_environment(sam, properties),
                events=copy.deepcopy(properties.get("Events", {})),
            )
        )
    return specs


def layer_dirs(template_path: Path | str) -> list[Path]:
    """The local folders of every ``AWS::Serverless::LayerVersion`` (their ``ContentUri``)."""
    template_path = Path(template_path)
    root = template_path.resolve().parent
    sam = load_template(template_path)
    dirs: list[Path] = []
    for resource in sam["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            uri = resource.get("Properties", {}).get("ContentUri")
            if isinstance(uri, str):
                dirs.append((root / uri).resolve())
    return dirs


def parameter_defaults(template: Mapping[str, Any]) -> dict[str, str]:
    """Each template parameter's default, as a string (CloudFormation passes strings)."""
    return {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if isinstance(spec, Mapping) and "Default" in spec
    }


# ---------------------------------------------------------------------------------------------
# Intrinsic functions.

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvedReference(KeyError):
    """A Ref/GetAtt names something that is neither a parameter nor a known resource value."""


def _pseudo(name: str, params: Mapping[str, str]) -> str | None:
    defaults = {
        "AWS::Region": DEFAULT_REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": PARTITION,
        "AWS::StackName": DEFAULT_STACK_NAME,
        "AWS::URLSuffix": "amazonaws.com",
    }
    if name in params:
        return params[name]
    if name == "AWS::StackId":
        region = params.get("AWS::Region", DEFAULT_REGION)
        stack = params.get("AWS::StackName", DEFAULT_STACK_NAME)
        return f"arn:{PARTITION}:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack}/local"
    return defaults.get(name)


def _ref_value(name: str, refs: Mapping[str, str], params: Mapping[str, str]) -> str:
    if name.startswith("AWS::"):
        value = _pseudo(name, params)
        if value is None:
            raise UnresolvedReference(f"unknown pseudo parameter {name}")
        return value
    if name in params:
        return params[name]
    if name in refs:
        return refs[name]
    raise UnresolvedReference(f"Ref {name}: no parameter or resource of that name")


def _att_value(logical_id: str, attribute: str, attrs: Mapping[tuple[str, str], str]) -> str:
    try:
        return attrs[(logical_id, attribute)]
    except KeyError:
        raise UnresolvedReference(f"Fn::GetAtt {logical_id}.{attribute} is not known") from None


def _substitute(
    text: str,
    variables: Mapping[str, Any],
    refs: Mapping[str, str],
    attrs: Mapping[tuple[str, str], str],
    params: Mapping[str, str],
) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, _, attribute = name.partition(".")
            return str(_att_value(logical_id, attribute, attrs))
        return str(_ref_value(name, refs, params))

    # "${!Literal}" stands for the literal "${Literal}".
    return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


def resolve(
    value: Any,
    refs: Mapping[str, str],
    attrs: Mapping[tuple[str, str], str],
    params: Mapping[str, str],
) -> Any:
    """Evaluate ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join`` (and ``Fn::Select``/``Fn::Split``)
    inside ``value``.

    ``refs`` maps logical ids to what ``Ref`` returns, ``attrs`` maps (logical id, attribute) to
    what ``Fn::GetAtt`` returns, ``params`` holds parameter values; pseudo parameters may be
    overridden through ``params`` too (``AWS::Region``, ``AWS::StackName``…).
    """
    if isinstance(value, list):
        items = [resolve(item, refs, attrs, params) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            return _ref_value(str(arg), refs, params)
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else list(arg)
            logical_id, attribute = (
                resolve(parts[0], refs, attrs, params),
                resolve(parts[1], refs, attrs, params),
            )
            return _att_value(str(logical_id), str(attribute), attrs)
        if key == "Fn::Sub":
            if isinstance(arg, str):
                return _substitute(arg, {}, refs, attrs, params)
            text, variables = arg
            resolved_variables = {k: resolve(v, refs, attrs, params) for k, v in variables.items()}
            return _substitute(text, resolved_variables, refs, attrs, params)
        if key == "Fn::Join":
            delimiter, items = arg
            resolved_items = resolve(items, refs, attrs, params)
            return str(delimiter).join(str(item) for item in resolved_items)
        if key == "Fn::Select":
            index, items = arg
            return resolve(items, refs, attrs, params)[int(resolve(index, refs, attrs, params))]
        if key == "Fn::Split":
            delimiter, text = arg
            return str(resolve(text, refs, attrs, params)).split(delimiter)
    resolved = {k: resolve(v, refs, attrs, params) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def references(value: Any) -> set[str]:
    """Logical ids (and parameter names) that ``value`` refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                if isinstance(target, str):
                    found.add(target)
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                local = set() if isinstance(arg, str) else set(arg[1])
                for name in _SUB_VARIABLE.findall(text):
                    name = name.strip().split(".", 1)[0]
                    if name not in local:
                        found.add(name)
                if not isinstance(arg, str):
                    found |= references(arg[1])
            else:
                found |= references(arg)
    return {name for name in found if not name.startswith("AWS::")}
