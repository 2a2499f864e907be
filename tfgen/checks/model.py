"""The index of the rules on the model, and all of them at once.

`check_fleet` runs `RULES` (the fleet's own rules) so a user sees every problem
at once; `check_model` adds the platform's and the network's: what a build runs
before it emits (importing this module loads networkx).
"""

from __future__ import annotations

from ..errors import Finding
from ..model import Fleet
from .platform import check_platform
from .topology import check_topology
from .aws_names import check_aws_names
from .clusters import check_clusters, check_networks, check_node_group_values, check_zone_names
from .instance_types import check_instance_types
from .fleet import (
    check_aws_names_per_account,
    check_empty_regions,
    check_environments,
    check_layouts,
    check_names,
    check_project,
    check_regions,
    check_state,
    check_state_names,
    check_terraform_version,
)
from .rollout import check_rollout
from .support import Rule
from .tags import check_tags
from .types import check_types

__all__ = ["check_fleet", "check_model", "RULES"]


def check_fleet(fleet: Fleet, *, types_checked: bool = False) -> list[Finding]:
    """Every finding of every rule, in a stable order (only type findings when types are wrong).

    `types_checked`: the caller has run `check_types` already and found nothing.
    """
    findings = [] if types_checked else check_types(fleet)
    if findings:
        return findings  # the value rules assume the declared types
    for rule in RULES:
        findings.extend(rule(fleet))
    return findings


RULES: tuple[Rule, ...] = (
    check_project,
    check_state,
    check_environments,
    check_layouts,
    check_regions,
    check_clusters,
    check_networks,
    check_names,
    check_tags,
    check_state_names,
    check_terraform_version,
    check_node_group_values,
    check_instance_types,
    check_zone_names,
    check_empty_regions,
    check_aws_names_per_account,
    check_aws_names,
    check_rollout,
)


def check_model(fleet: Fleet, *, strict: bool = False) -> list[Finding]:
    """Every rule on a fleet whose types are right: the fleet's, the platform's, the network's, in that order."""
    return check_fleet(fleet, types_checked=True) + check_platform(fleet) + check_topology(fleet, strict=strict)
