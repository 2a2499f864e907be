"""Check a root module's JSON against the AWS provider's argument schemas.

Why: tfgen's output targets hashicorp/aws 6.x and the last 5.x, but the only
provider that runs here is 3.39, so `terraform plan` cannot say whether a root
is valid for the versions users run. The argument schemas of 3.39.0, 5.100.0
and 6.25.0 are committed under `tfgen/providers/schemas/` (regenerated and validated by
tools/provider_schemas.py) and this module checks every `aws` resource and
provider block of a root against each version the root's range admits: the
checks Terraform itself makes when it decodes a configuration.

What is checked, as Terraform JSON reads it:

- every `aws_*` resource type exists, every argument is known (meta-arguments
  `count`, `for_each`, `provider`, `depends_on`, `lifecycle`, `provisioner`,
  `connection` always are), required arguments and required blocks are there;
- a block is an object or a list of objects, never a scalar, and a max-one
  block has at most one element; an argument is not written as a block;
- each value has a JSON type Terraform converts to the argument's type: a
  string holding `${` may be anything, numeric and `true`/`false` strings
  convert to numbers and bools, numbers and bools convert to strings.

Not checked: value constraints (enums, ranges), conflicts between arguments,
data sources, object attributes left out of a list of objects (Terraform fills
attributes-as-blocks with null).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import TfgenError
from .features import FEATURES, REMOVED, SCHEMA_VERSIONS, Constraint, Version

__all__ = [
    "SchemaProblem",
    "SchemaAgreement",
    "load_schema",
    "check_documents",
    "check_root",
    "check_root_for_range",
    "compare_schemas",
]

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


def _version_text(version: Version | str) -> str:
    return str(version if isinstance(version, Version) else Version.parse(version))


@lru_cache(maxsize=None)
def load_schema(version: Version | str) -> dict:
    """The committed schema of one provider version (tfgen/providers/schemas/aws-<version>.json)."""
    text = _version_text(version)
    path = resources.files("tfgen.providers") / "schemas" / f"aws-{text}.json"
    if not path.is_file():
        committed = ", ".join(str(v) for v in SCHEMA_VERSIONS)
        raise TfgenError(f"no committed schema for hashicorp/aws {text}; committed: {committed}")
    return json.loads(path.read_text())


def read_root(root: str | Path | Mapping[str, dict]) -> dict[str, dict]:
    """`{file name: document}` of a root (a directory, or documents built in memory), each document in
    the canonical shape of `tfgen.terraform.roots`; raises TfgenError naming every file it cannot read."""
    from ..terraform.roots import documents_root, read_root as read_directory

    if isinstance(root, Mapping):
        read = documents_root(root)
    else:
        if not Path(root).is_dir():
            raise TfgenError(f"{root} is not a directory of *.tf.json files")
        read = read_directory(root)
    if read.problems:
        raise TfgenError("; ".join(str(p) for p in read.problems))
    return read.documents


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
    if value is None or type_ == "dynamic" or (isinstance(value, str) and "${" in value):
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
        self.version = Version.parse(_version_text(version))
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

    def document(self, file: str, document: dict) -> None:
        self.file = file
        if not isinstance(document, dict):
            return
        providers = document.get("provider", {})
        aws = providers.get("aws") if isinstance(providers, dict) else None
        if aws is not None:
            for block in aws if isinstance(aws, list) else [aws]:
                alias = block.get("alias", "default") if isinstance(block, dict) else "default"
                self.address = f"provider.aws.{alias}"
                self.body(block, self.schema["provider"], "", 'provider "aws"', PROVIDER_META_ARGUMENTS,
                          history_key="provider")
        for type_, named in (document.get("resource") or {}).items():
            if not type_.startswith("aws_") or not isinstance(named, dict):
                continue
            for name, bodies in named.items():
                self.address = f"{type_}.{name}"
                if type_ not in self.schema["resources"]:
                    self.add("", f"unknown resource type {type_} in hashicorp/aws {self.version}"
                                 f"{_history(type_, self.version)}{_did_you_mean(type_, self.schema['resources'])}")
                    continue
                for body in bodies if isinstance(bodies, list) else [bodies]:
                    self.body(body, self.schema["resources"][type_], "", type_, META_ARGUMENTS, history_key=type_)


def check_documents(documents: Mapping[str, dict], version: Version | str) -> list[SchemaProblem]:
    """Every problem of a root's `{filename: document}` against one provider version's schema."""
    checker = _Checker(version)
    for file in sorted(documents):
        checker.document(file, documents[file])
    return sorted(checker.problems)


def check_root(root: str | Path | Mapping[str, dict], version: Version | str) -> list[SchemaProblem]:
    """Every problem of a root (a directory of `*.tf.json` or `{filename: document}`) against one version."""
    return check_documents(read_root(root), version)


def declared_range(documents: Mapping[str, dict]) -> str | None:
    """The root's `terraform.required_providers.aws.version`, if it declares one."""
    for document in documents.values():
        terraform = document.get("terraform") if isinstance(document, dict) else None
        for block in terraform if isinstance(terraform, list) else [terraform or {}]:
            required = block.get("required_providers") or {}
            for entry in required if isinstance(required, list) else [required]:
                aws = entry.get("aws")
                if isinstance(aws, dict) and aws.get("version"):
                    return aws["version"]
    return None


def check_root_for_range(root: str | Path | Mapping[str, dict],
                         constraint: str | Constraint | None = None) -> dict[str, list[SchemaProblem]]:
    """`{version: problems}` for every committed schema version the range admits.

    The range is `constraint`, else the root's `required_providers.aws.version`.
    Raises TfgenError when there is no range or it admits none of the committed versions.
    """
    documents = read_root(root)
    text = constraint.text if isinstance(constraint, Constraint) else constraint
    if text is None:
        text = declared_range(documents)
        if text is None:
            raise TfgenError(f"{root} declares no terraform.required_providers.aws.version; pass constraint=")
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
    return {str(v): check_documents(documents, v) for v in versions}


# --------------------------------------------------------------------------- validation of extractions

@dataclass(frozen=True)
class SchemaAgreement:
    """How far two schemas agree on the argument paths both have."""

    compared: int
    agreed: int
    disagreements: tuple[str, ...]  # "type.path: what differs" (kind, nesting, max-one, type)
    required_changed: tuple[str, ...]  # "type.path: required -> optional" (or the reverse)
    only_reference: tuple[str, ...]  # argument paths the candidate lacks


def _shape(schema: dict) -> dict[str, tuple[tuple, bool]]:
    """`{type.path: ((kind, nesting or type, max-one), required)}` for every argument of the resources and provider."""
    shapes: dict[str, tuple[tuple, bool]] = {}

    def walk(block: dict, prefix: str) -> None:
        for name, attribute in block["attributes"].items():
            shapes[f"{prefix}.{name}"] = (("attribute", json.dumps(attribute["type"], sort_keys=True)),
                                          attribute["required"])
        for name, nested in block["blocks"].items():
            single = nested["nesting"] == "single" or nested.get("max_items") == 1
            shapes[f"{prefix}.{name}"] = (("block", nested["nesting"], "max-one" if single else "repeated"),
                                          bool(nested.get("min_items")))
            walk(nested["block"], f"{prefix}.{name}")

    walk(schema["provider"], "provider")
    for type_, block in schema["resources"].items():
        walk(block, type_)
    return shapes


def compare_schemas(reference: dict, candidate: dict) -> SchemaAgreement:
    """Compare kind, block nesting, max-one and attribute type on every argument path both schemas have."""
    left, right = _shape(reference), _shape(candidate)
    common = sorted(set(left) & set(right))
    disagreements = tuple(f"{path}: {' '.join(left[path][0])} -> {' '.join(right[path][0])}"
                          for path in common if left[path][0] != right[path][0])
    word = {True: "required", False: "optional"}
    required = tuple(f"{path}: {word[left[path][1]]} -> {word[right[path][1]]}"
                     for path in common if left[path][1] != right[path][1])
    return SchemaAgreement(len(common), len(common) - len(disagreements), disagreements, required,
                           tuple(sorted(set(left) - set(right))))
