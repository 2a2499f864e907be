"""Test your own fleet: real plans of generated roots, questions about them, schema checks.

    from tfgen.testing import plan_root, assert_schemas

    plan = plan_root("out/development", workdir=tmp_path)      # offline toolchain, lowered to 3.39
    assert plan.region_of("aws_vpc.us_east_2_edge") == "us-east-2"
    assert_schemas("out/development")                          # every provider version the range admits

The plan helpers live in `tfgen.terraform.plan`, the schema check in
`tfgen.terraform.schema_check`; this module is their public face.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .terraform.plan import Peering, Plan, PlannedResource, Route, plan_root

if TYPE_CHECKING:
    from .terraform.schema_check import SchemaProblem

__all__ = ["PlannedResource", "Route", "Peering", "Plan", "plan_root", "check_schemas", "assert_schemas"]


def check_schemas(
    root: str | Path | dict[str, dict[str, Any]], versions: Iterable[str] | None = None
) -> dict[str, list["SchemaProblem"]]:
    """Schema problems of a root per AWS provider version: the versions given, else those its range admits.

    No Terraform runs: the root is checked against tfgen's committed argument
    schemas (3.39.0, 5.100.0, 6.25.0; see `tfgen.providers.schema`).
    """
    from .terraform.schema_check import check_root, check_root_for_range

    if versions is None:
        return check_root_for_range(root)
    return {str(version): check_root(root, version) for version in versions}


def assert_schemas(root: str | Path | dict[str, dict[str, Any]], versions: Iterable[str] | None = None) -> None:
    """Raise AssertionError listing every schema problem (file, address, argument, version) of a root."""
    found = check_schemas(root, versions)
    lines = [str(problem) for problems in found.values() for problem in problems]
    if lines:
        checked = ", ".join(found)
        raise AssertionError(f"{len(lines)} schema problem(s) in {root} (hashicorp/aws {checked}):\n  "
                             + "\n  ".join(lines))

