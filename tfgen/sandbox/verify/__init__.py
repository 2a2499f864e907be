"""Checks of an applied environment through the AWS API (boto3), not Terraform state.

Each kind of link or resource is one function `check_<kind>(expectation,
lookup) -> list[Check]`, in the module of its subject (`network`, `clusters`,
`gitops`, `bastion`); `CHECKS` lists the ones `verify_environment` runs, so a
new kind is one more function in that list. `check_nothing_left`
(`leftovers`) is the check after `terraform destroy`; `check_gitops_secrets`
checks the Argo CD Secrets rendered from the applied root's outputs, and
`check_bootstrap_document` (`bootstrap`) the SSM document against them. `Lookup`
(`lookup`) asks the API and remembers what it found, so the checks share one
answer per VPC and per peering.
"""

from __future__ import annotations

from typing import Callable

from ..expectation import Expectation
from .bastion import check_bastion
from .bootstrap import check_bootstrap_document
from .clusters import check_clusters
from .gitops import check_api_access, check_ebs_csi_roles, check_gitops_roles, check_gitops_secrets, check_oidc_providers
from .leftovers import check_nothing_left
from .lookup import Check, Lookup, policy_document
from .network import check_peerings, check_routes, check_transit_gateways, check_vpcs

__all__ = [
    "Check",
    "Lookup",
    "policy_document",
    "check_vpcs",
    "check_peerings",
    "check_routes",
    "check_clusters",
    "check_transit_gateways",
    "check_api_access",
    "check_gitops_roles",
    "check_ebs_csi_roles",
    "check_bastion",
    "check_oidc_providers",
    "check_gitops_secrets",
    "check_bootstrap_document",
    "CHECKS",
    "verify_environment",
    "check_nothing_left",
]

CHECKS: tuple[Callable[[Expectation, Lookup], list[Check]], ...] = (
    check_vpcs,
    check_peerings,
    check_routes,
    check_clusters,
    check_transit_gateways,
    check_api_access,
    check_gitops_roles,
    check_ebs_csi_roles,
    check_bastion,
    check_oidc_providers,
)


def verify_environment(expectation: Expectation, client: Callable[[str, str], object]) -> list[Check]:
    """Run every function of `CHECKS` against the API; `client(service, region)` gives boto3 clients."""
    lookup = Lookup(expectation, client)
    return [check for run in CHECKS for check in run(expectation, lookup)]
