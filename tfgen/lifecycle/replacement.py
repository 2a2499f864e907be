"""THE replacement table: per resource type tfgen emits, the arguments whose change makes the AWS provider replace
the resource instead of updating it in place.

Data, not code: `replacement.json` beside this module, extracted from the provider's own schema source
(`ForceNew: true`, plan modifiers `RequiresReplace()`; `conditional` ones replace only in some cases, which the
table says in words) at the release and commit it names; `tools/replacement_table.py` regenerates it from a
fetched snapshot. Paths are dotted through nested blocks, list indexes dropped (`vpc_config.subnet_ids`); a
ForceNew block replaces on any change inside it. The provider tfgen targets is 6.x; the one the offline plans
and the sandbox run is 3.39, whose differences the tests that compare real plans list.

`CHANGES_ON_UPDATE` is the other half the diff needs: computed attributes that take a new value when the
resource is only updated in place (every computed attribute is new when it is replaced).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..emit.protect import PROTECTED

__all__ = ["PROTECTED", "CHANGES_ON_UPDATE", "Replacement", "table", "forces_replacement", "conditional_on"]

# Computed attributes an in-place update changes (provider docs: aws_ssm_document's `latest_version`,
# `default_version` and `hash` follow its content; aws_launch_template's `latest_version` each new version;
# aws_eks_node_group's `release_version` follows `version`).
CHANGES_ON_UPDATE = {
    "aws_ssm_document": frozenset({"latest_version", "default_version", "hash", "document_version"}),
    "aws_launch_template": frozenset({"latest_version"}),
    "aws_eks_node_group": frozenset({"release_version"}),
    "aws_eks_cluster": frozenset({"platform_version"}),
}


@dataclass(frozen=True)
class Replacement:
    """One type's row: the arguments that replace it, those that replace it only in some cases (with when), and
    the provider source file they were read from."""

    type: str
    force_new: frozenset[str]
    conditional: dict[str, str]
    source: str
    notes: str = ""


@dataclass(frozen=True)
class Table:
    """The table with the provider release and the snapshot it was extracted from."""

    version: str
    source: str
    rows: dict[str, Replacement]


@lru_cache(maxsize=1)
def table() -> Table:
    """The committed table, read once."""
    data = json.loads(resources.files(__package__).joinpath("replacement.json").read_text(encoding="utf-8"))
    rows = {type_: Replacement(type_, frozenset(row["force_new"]), dict(row.get("conditional", {})), row["source"],
                               row.get("notes", ""))
            for type_, row in data["types"].items()}
    return Table(data["version"], data["source"], rows)


def _prefixes(path: str):
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        yield ".".join(parts[:end])


def forces_replacement(type_: str, path: str) -> bool:
    """Whether a change of argument `path` (dotted, no list indexes) replaces a `type_` resource: it, or a block
    that holds it, is ForceNew. A type the table does not know is updated in place (and a test keeps every
    type tfgen emits in the table)."""
    row = table().rows.get(type_)
    return row is not None and any(p in row.force_new for p in _prefixes(path))


def conditional_on(type_: str, path: str) -> str:
    """When a change of `path` replaces a `type_` resource only in some cases: the table's words; else ""."""
    row = table().rows.get(type_)
    if row is None:
        return ""
    for prefix in _prefixes(path):
        for key, when in row.conditional.items():
            if prefix in key.split("|"):
                return when
    return ""
