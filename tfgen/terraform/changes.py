"""One change to one resource, whichever source it comes from: the diff of two builds or a real plan.

The build diff (`tfgen.lifecycle.diff`) makes them from two builds; the plan-JSON reader
(`tfgen.terraform.planjson`) from `terraform show -json`. The fleet's roll-up and the guards
(`tfgen.lifecycle.summary`, `tfgen.lifecycle.guards`) take them from either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Action", "ResourceChange"]


class Action(StrEnum):
    """What happens to a resource."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NO_OP = "no-op"
    READ = "read"
    FORGET = "forget"


@dataclass(frozen=True)
class ResourceChange:
    """What happens to one resource of one root, and why."""

    root: str                 # "development", "staging--us-east-2"
    address: str              # "aws_eks_cluster.us_east_2_edge" (module path included if any)
    type: str                 # "aws_eks_cluster"
    action: Action
    reasons: tuple[str, ...]  # human words: "cidr_block: 10.11.0.0/16 -> 10.16.0.0/16"
    replace_paths: tuple[str, ...] = ()   # attribute paths that force replacement (plan JSON or the table)
    before: Mapping | None = None
    after: Mapping | None = None
