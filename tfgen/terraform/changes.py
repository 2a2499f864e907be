"""Resource changes: one type for the changes between two builds and the changes of a real plan.

`tfgen.lifecycle.diff` makes them from the previous build and the new one;
`tfgen.terraform.planjson` from `terraform show -json` (`["delete","create"]`
and `["create","delete"]` are a `replace`). `tfgen.lifecycle.summary` rolls
either into the fleet's words and `tfgen.lifecycle.guards` refuses from that.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Mapping

__all__ = ["Action", "ResourceChange"]


class Action(StrEnum):
    """What happens to one resource (Terraform's words; a replacement is one action, never add + destroy)."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NO_OP = "no-op"
    READ = "read"
    FORGET = "forget"


@dataclass(frozen=True)
class ResourceChange:
    """One resource of one root and what happens to it, with why in human words."""

    root: str                 # "development", "staging--us-east-2"
    address: str              # "aws_eks_cluster.us_east_2_edge" (module path included if any)
    type: str                 # "aws_eks_cluster"
    action: Action
    reasons: tuple[str, ...]  # "cidr_block: 10.11.0.0/16 -> 10.16.0.0/16", "replaced because aws_vpc.x is replaced"
    replace_paths: tuple[str, ...] = ()  # attribute paths that force replacement (plan JSON or the table)
    before: Mapping | None = None
    after: Mapping | None = None
    # A replacement whose new object is created before the old one is destroyed (`["create", "delete"]`: the
    # resource, or something that depends on it, is create_before_destroy).
    create_first: bool = False
