"""A root module checked against the AWS provider's argument schemas (TFGEN_SCHEMA in `tfgen check`).

Why: tfgen's output targets hashicorp/aws 6.x and the last 5.x, but the only
provider that runs here is 3.39, so `terraform plan` cannot say whether a root
is valid for the versions users run. This module checks every `aws` resource
and provider block of a root (read through its index, `tfgen.terraform.index`)
against the committed schema (`tfgen.providers.schema`) of each version the
root's range admits: the checks Terraform itself makes when it decodes a
configuration.

What is checked, as Terraform JSON reads it:

- every `aws_*` resource type exists, every argument is known (meta-arguments
  `count`, `for_each`, `provider`, `depends_on`, `lifecycle`, `provisioner`,
  `connection` always are), required arguments and required blocks are there;
- a block is an object or a list of objects, never a scalar, and a max-one
  block has at most one element; an argument is not written as a block;
- each value has a JSON type Terraform converts to the argument's type: a
  string holding an interpolation may be anything, numeric and `true`/`false`
  strings convert to numbers and bools, numbers and bools convert to strings.

Not checked: value constraints (enums, ranges), conflicts between arguments,
data sources, object attributes left out of a list of objects (Terraform fills
attributes-as-blocks with null).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import TfgenError
from ..providers.features import FEATURES, REMOVED, SCHEMA_VERSIONS, Constraint, Version
from ..providers.schema import load_schema
from .index import Root
from .references import parse
from .roots import as_root, read_root as read_directory

__all__ = ["SchemaProblem", "check_root", "check_root_for_range", "declared_range"]

META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"})
PROVIDER_META_ARGUMENTS = frozenset({"alias", "version"})
_ADDED = {f.key: f for f in FEATURES}
# What to write instead of an argument `providers.REMOVED` lists (from the 6.0 upgrade guide).
_INSTEAD = {
    "aws_eip.vpc": 'write `domain = "vpc"`',
    "aws_flow_log.log_group_name": "write `log_destination` (the log group's ARN)",
    "aws_eks_addon.resolve_conflicts": "write `resolve_conflicts_on_create` and `resolve_conflicts_on_update`",
}


@dataclass(frozen=True, order=True)
class SchemaProblem:
    """One place where a root disagrees with a provider version's schema."""

    file: str
    address: str
    argument: str
    version: str
    message: str

    def __str__(self) -> str:
        where = f"{self.address}.{self.argument}" if self.argument else self.address
        return f"{self.file}: {where}: {self.message} [hashicorp/aws {self.version}]"


def _read(root: Root | str | Path | Mapping[str, dict]) -> Root:
    """The index of a root (given as one, as a directory, or as documents built in memory); raises
    TfgenError naming every file it cannot read."""
    if isinstance(root, (str, Path)):
        if not Path(root).is_dir():
            raise TfgenError(f"{root} is not a directory of *.tf.json files")
        read = read_directory(root)
    else:
        read = as_root(root)
    if read.problems:
        raise TfgenError("; ".join(str(p) for p in read.problems))
    return read


# --------------------------------------------------------------------------- values

def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _type_name(type_: Any) -> str:
    if isinstance(type_, str):
        return type_
    if type_[0] == "object":
        return "object({" + ", ".join(sorted(type_[1])) + "})"
    if type_[0] == "tuple":
        return "tuple"
    return f"{type_[0]}({_type_name(type_[1])})"


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _value_problems(value: Any, type_: Any, path: str) -> Iterable[tuple[str, str]]:
    """(argument path, message) for every place `value` does not convert to `type_`."""
    if value is None or type_ == "dynamic" or (isinstance(value, str) and not parse(value).is_literal):
        return
    expected = _type_name(type_)
    if isinstance(type_, str):
        ok = {
            "string": not isinstance(value, (list, dict)),
            "number": (isinstance(value, (int, float)) and not isinstance(value, bool))
            or (isinstance(value, str) and _is_number_text(value)),
            "bool": isinstance(value, bool) or value in ("true", "false"),
        }.get(type_, True)
        if not ok:
            yield path, f"wrong type: expected {expected}, got {_json_kind(value)} {json.dumps(value)[:60]}"
        return
    kind = type_[0]
    if kind in ("list", "set", "tuple"):
        if not isinstance(value, list):
            yield path, f"wrong type: expected {expected} (a JSON list), got {_json_kind(value)}"
            return
        for index, item in enumerate(value):
            element = type_[1][index] if kind == "tuple" and index < len(type_[1]) else type_[1]
            yield from _value_problems(item, element, f"{path}[{index}]")
    elif kind == "map":
        if not isinstance(value, dict):
            yield path, f"wrong type: expected {expected} (a JSON object), got {_json_kind(value)}"
            return
        for key, item in value.items():
            yield from _value_problems(item, type_[1], f"{path}.{key}")
    elif kind == "object":
        if not isinstance(value, dict):
            yield path, f"wrong type: expected {expected} (a JSON object), got {_json_kind(value)}"
            return
        for key, item in value.items():
            if key not in type_[1]:
                yield f"{path}.{key}", f"unknown attribute `{key}` in {expected}{_did_you_mean(key, type_[1])}"
            else:
                yield from _value_problems(item, type_[1][key], f"{path}.{key}")


# --------------------------------------------------------------------------- blocks

def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f"; did you mean `{close[0]}`?" if close else ""


def _history(key: str, version: Version) -> str:
    """Why `key` (a type or `type.argument`) is missing in `version`, if the table knows."""
    if key in REMOVED and version >= REMOVED[key]:
        instead = f": {_INSTEAD[key]}" if key in _INSTEAD else ""
        return f" (removed in {REMOVED[key]}{instead})"
    if key in _ADDED and version < _ADDED[key].minimum:
        added = _ADDED[key]
        return f" (added in {added.minimum})" if added.after is None else f" (added {added.since})"
    return ""


class _Checker:
    """Walks a root's documents for one provider version, collecting every problem."""

    def __init__(self, version: Version | str):
        self.version = version if isinstance(version, Version) else Version.parse(version)
        self.schema = load_schema(self.version)
        self.problems: list[SchemaProblem] = []
        self.file = ""
        self.address = ""

    def add(self, argument: str, message: str) -> None:
        self.problems.append(SchemaProblem(self.file, self.address, argument, str(self.version), message))

    def body(self, body: Any, schema: dict, path: str, owner: str, meta: frozenset = frozenset(),
             history_key: str | None = None) -> None:
        if not isinstance(body, dict):
            self.add(path, f"expected an object of arguments for {owner}, got {_json_kind(body)}")
            return
        attributes, blocks = schema["attributes"], schema["blocks"]
        for name, value in body.items():
            argument = f"{path}.{name}" if path else name
            if name in meta or name == "//":  # "//" is a comment in Terraform JSON
                continue
            if name in attributes:
                if isinstance(value, dict) and not isinstance(attributes[name]["type"], list):
                    type_name = _type_name(attributes[name]["type"])
                    self.add(argument, f"`{name}` in {owner} is an argument of type {type_name}, "
                                       "not a block: write a value, not an object")
                    continue
                for where, message in _value_problems(value, attributes[name]["type"], argument):
                    self.add(where, f"{message} for `{name}` in {owner}")
            elif name in blocks:
                self.block(value, blocks[name], argument, name, owner)
            elif name == "dynamic" and isinstance(value, dict):
                for block_name, spec in value.items():
                    if block_name not in blocks:
                        self.add(f"{argument}.{block_name}", f"dynamic block `{block_name}` is not a block of {owner}"
                                 f"{_did_you_mean(block_name, blocks)}")
                    elif isinstance(spec, dict) and isinstance(spec.get("content"), dict):
                        self.body(spec["content"], blocks[block_name]["block"], f"{argument}.{block_name}.content",
                                  f"{owner}.{block_name}")
            else:
                known = list(attributes) + list(blocks)
                history = _history(f"{history_key}.{name}", self.version) if history_key and not path else ""
                self.add(argument, f"unknown argument `{name}` in {owner}{history}{_did_you_mean(name, known)}")
        dynamic = body.get("dynamic") if isinstance(body.get("dynamic"), dict) and "dynamic" not in blocks else {}
        for name, attribute in attributes.items():
            if attribute["required"] and body.get(name) is None:
                self.add(f"{path}.{name}" if path else name,
                         f"missing required argument `{name}` ({_type_name(attribute['type'])}) in {owner}")
        for name, block in blocks.items():
            if (block.get("min_items") or 0) > 0 and name not in body and name not in dynamic:
                self.add(f"{path}.{name}" if path else name, f"missing required block `{name}` in {owner}")

    def block(self, value: Any, schema: dict, argument: str, name: str, owner: str) -> None:
        if isinstance(value, dict):
            items = [value]
        elif isinstance(value, list):
            items = value
        else:
            self.add(argument, f"`{name}` in {owner} is a block: write it as an object "
                               f"{{...}} or a list of objects, not {_json_kind(value)}")
            return
        limit = 1 if schema["nesting"] == "single" else schema.get("max_items")
        if limit is not None and len(items) > limit:
            many = "one" if limit == 1 else str(limit)
            self.add(argument, f"at most {many} `{name}` block{'s' if limit > 1 else ''} allowed in {owner}, "
                               f"got {len(items)}")
        minimum = schema.get("min_items") or 0
        if len(items) < minimum:
            self.add(argument, f"at least {minimum} `{name}` block(s) required in {owner}, got {len(items)}")
        for index, item in enumerate(items):
            where = argument if isinstance(value, dict) else f"{argument}[{index}]"
            self.body(item, schema["block"], where, f"{owner}.{name}")

    def root(self, root: Root) -> None:
        for block in root.providers:
            if block.type == "aws":
                self.file, self.address = block.file, block.address
                self.body(block.body, self.schema["provider"], "", 'provider "aws"', PROVIDER_META_ARGUMENTS,
                          history_key="provider")
        for block in root.resources.values():
            if block.kind != "resource" or not block.type.startswith("aws_"):
                continue
            self.file, self.address = block.file, block.address
            if block.type not in self.schema["resources"]:
                self.add("", f"unknown resource type {block.type} in hashicorp/aws {self.version}"
                             f"{_history(block.type, self.version)}"
                             f"{_did_you_mean(block.type, self.schema['resources'])}")
                continue
            self.body(block.body, self.schema["resources"][block.type], "", block.type, META_ARGUMENTS,
                      history_key=block.type)


def check_root(root: Root | str | Path | Mapping[str, dict], version: Version | str) -> list[SchemaProblem]:
    """Every problem of a root (its index, a directory of `*.tf.json` or `{filename: document}`) against one
    provider version's schema; raises TfgenError naming a file it cannot read."""
    checker = _Checker(version)
    checker.root(_read(root))
    return sorted(checker.problems)


def declared_range(root: Root) -> str | None:
    """The root's `terraform.required_providers.aws.version`, if it declares one."""
    aws = root.required_provider("aws") or {}
    return aws.get("version") or None


def check_root_for_range(root: Root | str | Path | Mapping[str, dict],
                         constraint: str | Constraint | None = None) -> dict[str, list[SchemaProblem]]:
    """`{version: problems}` for every committed schema version the range admits.

    The range is `constraint`, else the root's `required_providers.aws.version`.
    Raises TfgenError when there is no range or it admits none of the committed versions.
    """
    read = _read(root)
    text = constraint.text if isinstance(constraint, Constraint) else constraint
    if text is None:
        text = declared_range(read)
        if text is None:
            raise TfgenError(f"{root if isinstance(root, (str, Path)) else 'the root'} declares no "
                             "terraform.required_providers.aws.version; pass constraint=")
    try:
        parsed = Constraint.parse(text)
    except ValueError as error:
        raise TfgenError(f"AWS provider range {text!r}: {error}") from error
    versions = [v for v in SCHEMA_VERSIONS if parsed.admits(v)]
    if not versions:
        committed = ", ".join(str(v) for v in SCHEMA_VERSIONS)
        raise TfgenError(f"the AWS provider range {text!r} admits none of the versions whose schemas tfgen "
                         f"commits ({committed}); nothing could be checked. Widen the range or add a schema "
                         "with tools/provider_schemas.py")
    found = {}
    for version in versions:
        checker = _Checker(version)
        checker.root(read)
        found[str(version)] = sorted(checker.problems)
    return found
