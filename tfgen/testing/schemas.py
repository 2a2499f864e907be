"""The schema check of a root against the AWS provider versions its range admits (no Terraform runs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable


if TYPE_CHECKING:
    from ..terraform.schema_check import SchemaProblem

__all__ = ["check_schemas", "assert_schemas"]


def check_schemas(
    root: str | Path | dict[str, dict[str, Any]], versions: Iterable[str] | None = None
) -> dict[str, list["SchemaProblem"]]:
    """Schema problems of a root per AWS provider version: the versions given, else those its range admits.

    No Terraform runs: the root is checked against tfgen's committed argument
    schemas (3.39.0, 5.100.0, 6.25.0; see `tfgen.providers.schema`).
    """
    from ..terraform.schema_check import check_root, check_root_for_range

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

