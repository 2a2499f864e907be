"""Inventories: a small YAML file pinning what matters of a plan, compared as a subset.

    # tests/inventories/production.yaml
    values:                                   # address -> the attributes that matter (a subset)
      aws_eks_cluster.us_east_1_hub:
        version: "1.35"
        vpc_config: {endpoint_public_access: false}   # a block: a mapping, or a list of them
    counts: {aws_eks_cluster: 4, aws_vpc_peering_connection: 3}
    outputs: {gitops: {argocd: self-managed}}

`assert_inventory(plan, path)` compares the plan with the file: every pinned value must be in the plan (a
mapping is a subset of the planned mapping, a list has the planned list's length and each item matches, a
mapping matches a block held as a one-element list); each pinned count is the number of planned resources of
the type; each pinned output is a subset of the planned output. With `update=True` (the plugin's
`--tfgen-update-inventories`) the file is rewritten from the plan instead: only the keys it pins, or for a new
file a default set (`new_inventory`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..terraform.plan import Plan

__all__ = ["UNKNOWN", "DEFAULT_TYPES", "Difference", "compare_inventory", "new_inventory", "assert_inventory"]

UNKNOWN = "(known after apply)"
"""What a plan shows for a value it does not know yet."""

DEFAULT_TYPES = ("aws_eks_cluster", "aws_eks_node_group", "aws_vpc", "aws_vpc_peering_connection",
                 "aws_vpc_security_group_ingress_rule", "aws_eks_access_entry", "aws_ec2_transit_gateway")
"""The types a new inventory pins values of (every known value but tags_all); counts and outputs pin all."""

_SECTIONS = ("values", "counts", "outputs")
_LEFT_OUT = ("tags_all", "timeouts")

# Set by the pytest plugin: whether to rewrite inventories, and how to rerun the running test that way.
UPDATING: ContextVar[bool] = ContextVar("tfgen_update_inventories", default=False)
RERUN: ContextVar[str] = ContextVar("tfgen_rerun", default="pytest --tfgen-update-inventories")


@dataclass(frozen=True)
class Difference:
    """One pinned thing that the plan does not hold: section, address (or type, output), attribute path."""

    section: str
    address: str
    path: str
    got: Any
    expected: Any

    def __str__(self) -> str:
        where = f"{self.address}: {self.path}" if self.path else self.address
        return f"{self.section}: {where}: got {self.got!r}, expected {self.expected!r}"


def _planned(plan: Plan) -> tuple[dict[str, dict[str, Any]], dict[str, int], dict[str, Any]]:
    values = {address: r.values for address, r in plan.resources.items()}
    outputs = {name: conf.get("value", UNKNOWN)
               for name, conf in plan.raw.get("planned_values", {}).get("outputs", {}).items()}
    return values, plan.counts(), outputs


def _match(got: Any, expected: Any, path: str, address: str, section: str) -> list[Difference]:
    if isinstance(expected, Mapping):
        if isinstance(got, list) and len(got) == 1 and isinstance(got[0], Mapping):
            return _match(got[0], expected, f"{path}[0]", address, section)  # a block held as a list of one
        if not isinstance(got, Mapping):
            return [Difference(section, address, path, got, dict(expected))]
        found = []
        for key, value in expected.items():
            inner = f"{path}.{key}" if path else str(key)
            found += _match(got[key] if key in got else UNKNOWN, value, inner, address, section)
        return found
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [Difference(section, address, path, got, expected)]
        return [d for i, (g, e) in enumerate(zip(got, expected)) for d in _match(g, e, f"{path}[{i}]", address,
                                                                                   section)]
    return [] if got == expected else [Difference(section, address, path, got, expected)]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AssertionError(f"{path}: cannot read the inventory ({exc}); fix the file, or delete it and run "
                             f"{RERUN.get()} to write one") from None
    unknown = set(data) - set(_SECTIONS) if isinstance(data, dict) else {"(not a mapping)"}
    if unknown:
        raise AssertionError(f"{path}: unknown key(s) {sorted(unknown)}; an inventory holds only "
                             f"{', '.join(_SECTIONS)}")
    return data


def compare_inventory(plan: Plan, inventory: Mapping[str, Any]) -> list[Difference]:
    """Every pinned value, count and output of `inventory` that `plan` does not hold."""
    values, counts, outputs = _planned(plan)
    found: list[Difference] = []
    for address, expected in (inventory.get("values") or {}).items():
        if address not in values:
            found.append(Difference("values", address, "", "(not in the plan)", expected))
        else:
            found += _match(values[address], expected, "", address, "values")
    for type_, expected in (inventory.get("counts") or {}).items():
        if counts.get(type_, 0) != expected:
            found.append(Difference("counts", type_, "", counts.get(type_, 0), expected))
    for name, expected in (inventory.get("outputs") or {}).items():
        if name not in outputs:
            found.append(Difference("outputs", name, "", "(no such output)", expected))
        else:
            found += _match(outputs[name], expected, "", name, "outputs")
    return found


def _pinned(got: Any, expected: Any) -> Any:
    """`got` cut to the shape `expected` pins (the keys it names, the blocks it holds)."""
    if isinstance(expected, Mapping):
        if isinstance(got, list) and len(got) == 1 and isinstance(got[0], Mapping):
            got = got[0]
        if not isinstance(got, Mapping):
            return got
        return {key: _pinned(got[key], value) for key, value in expected.items() if key in got}
    if isinstance(expected, list) and isinstance(got, list) and expected and len(got) == len(expected):
        return [_pinned(g, e) for g, e in zip(got, expected)]
    return got


def _known(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _known(v) for k, v in value.items() if v is not None and k not in _LEFT_OUT}
    if isinstance(value, list):
        return [_known(v) for v in value]
    return value


def new_inventory(plan: Plan, *, types: tuple[str, ...] = DEFAULT_TYPES) -> dict[str, Any]:
    """A default inventory of `plan`: the known values of resources of `types`, every count, every known output."""
    values, counts, outputs = _planned(plan)
    return {
        "values": {address: _known(body) for address, body in sorted(values.items())
                   if address.split(".")[0] in types},
        "counts": counts,
        "outputs": {name: value for name, value in sorted(outputs.items()) if value != UNKNOWN},
    }


def _updated(plan: Plan, inventory: Mapping[str, Any]) -> dict[str, Any]:
    values, counts, outputs = _planned(plan)
    updated: dict[str, Any] = {}
    if "values" in inventory:
        updated["values"] = {address: _pinned(values[address], expected)
                             for address, expected in (inventory["values"] or {}).items() if address in values}
    if "counts" in inventory:
        updated["counts"] = {type_: counts.get(type_, 0) for type_ in inventory["counts"] or {}}
    if "outputs" in inventory:
        updated["outputs"] = {name: _pinned(outputs[name], expected)
                              for name, expected in (inventory["outputs"] or {}).items() if name in outputs}
    return updated


def assert_inventory(plan: Plan, path: str | Path, *, update: bool | None = None) -> None:
    """Assert `plan` holds everything the inventory at `path` pins; with `update` (default: the plugin's
    `--tfgen-update-inventories`), write the file from the plan instead (its pinned keys, or a default set)."""
    path = Path(path)
    updating = UPDATING.get() if update is None else update
    if updating:
        data = _updated(plan, _read(path)) if path.exists() else new_inventory(plan)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120))
        return
    if not path.exists():
        raise AssertionError(f"{path}: no inventory; write one from the plan with {RERUN.get()}")
    found = compare_inventory(plan, _read(path))
    if found:
        raise AssertionError(f"{path}: the plan differs from the inventory in {len(found)} place(s):\n  "
                             + "\n  ".join(str(d) for d in found)
                             + f"\nif the plan is right, update the inventory: {RERUN.get()}")
