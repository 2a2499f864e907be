"""Rules on the model, run before anything is emitted; and rules on what was emitted.

One function per rule; each returns findings and never raises. `check_fleet`
runs the model rules in `RULES` so a user sees every problem at once; they read
the model and what `tfgen.derive` makes of it, never Terraform JSON.

Modules, one per subject: `types` (VAL100, Python-built fleets), `fleet`
(project, state, environments, regions, AWS names), `clusters` (clusters, node
groups, networks), `aws_names` (every AWS name tfgen derives, against AWS's rules),
`tags`, `secrets` (the one secret detector, shared with the policies), `platform` (what runs on the clusters: EKS
calendar, access, add-ons, identity, bastion), `argocd` (who runs Argo CD, its
bootstrap; run with the platform rules), `topology` (the network as a
networkx graph: overlaps, links, reachability, quotas),
`compat` (the provider and Terraform ranges against the emitted documents),
`gitops_output` (the GitOps path as a graph of the emitted documents,
NET300-NET307; `gitops_documents` reads them).
`support` holds what they share.
"""

from __future__ import annotations

from ..errors import Finding
from ..model import Fleet
from .aws_names import check_aws_names
from .clusters import check_clusters, check_networks, check_node_group_values, check_zone_names
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
from .support import Rule
from .tags import check_tags
from .types import check_types

__all__ = ["check_types", "check_fleet", "RULES"]


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
    check_zone_names,
    check_empty_regions,
    check_aws_names_per_account,
    check_aws_names,
)
