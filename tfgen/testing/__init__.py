"""Test your own fleet: a pytest plugin, inventories, policy tests and assertions in the fleet's words.

    from tfgen.testing import assert_inventory, assert_fails, assert_reachable, mutate

    def test_production(tfgen_build, tfgen_plan):
        out = tfgen_build("fleet.yaml")
        assert_inventory(tfgen_plan(out / "production"), "tests/inventories/production.yaml")
        assert_reachable(out, "production/us-east-1/hub", "production/us-west-2/edge", port=443)

Installing tfgen registers the plugin (`pytest11` entry point `tfgen`: `tfgen.testing.plugin`), which gives
the fixtures `tfgen_build`, `tfgen_plan`, `tfgen_sandbox` and the options `--tfgen-update-inventories`,
`--tfgen-offline` / `--tfgen-real`. The modules: `inventory` (YAML inventories), `policy` (the gate as data,
`mutate`), `fleet` (reachability, registration, privacy), `changes` (day-2 assertions on a plan's changes),
`sources` (a model, output or plan as Terraform JSON), `schemas` (the provider schema check), `plugin`.
Names are imported on first use (PEP 562): pytest loads this package in every session of a repository
that has tfgen installed, and pays only for what a test uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# public name -> the module of this package (or of tfgen) that defines it
_HOMES = {
    "Plan": "..terraform.plan",
    "PlannedResource": "..terraform.plan",
    "Route": "..terraform.plan",
    "Peering": "..terraform.plan",
    "plan_root": "..terraform.plan",
    "check_schemas": ".schemas",
    "assert_schemas": ".schemas",
    "assert_inventory": ".inventory",
    "compare_inventory": ".inventory",
    "new_inventory": ".inventory",
    "Difference": ".inventory",
    "gate": ".policy",
    "assert_passes": ".policy",
    "assert_fails": ".policy",
    "mutate": ".policy",
    "deep_merge": ".policy",
    "assert_reachable": ".fleet",
    "assert_registered": ".fleet",
    "assert_private": ".fleet",
    "ADMIN_PORTS": ".fleet",
    "tree_digest": ".digest",
    "assert_no_replacements": ".changes",
    "assert_changes": ".changes",
    "fleet_diff": ".changes",
    "ALLOW_KEYS": ".changes",
}

__all__ = list(_HOMES)


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tfgen.testing' has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # the same names for type checkers, re-exported (`X as X`)
    from ..terraform.plan import (
        Peering as Peering,
        Plan as Plan,
        PlannedResource as PlannedResource,
        Route as Route,
        plan_root as plan_root,
    )
    from .changes import (
        ALLOW_KEYS as ALLOW_KEYS,
        assert_changes as assert_changes,
        assert_no_replacements as assert_no_replacements,
        fleet_diff as fleet_diff,
    )
    from .digest import tree_digest as tree_digest
    from .fleet import (
        ADMIN_PORTS as ADMIN_PORTS,
        assert_private as assert_private,
        assert_reachable as assert_reachable,
        assert_registered as assert_registered,
    )
    from .inventory import (
        Difference as Difference,
        assert_inventory as assert_inventory,
        compare_inventory as compare_inventory,
        new_inventory as new_inventory,
    )
    from .policy import (
        assert_fails as assert_fails,
        assert_passes as assert_passes,
        deep_merge as deep_merge,
        gate as gate,
        mutate as mutate,
    )
    from .schemas import assert_schemas as assert_schemas, check_schemas as check_schemas
