"""The `terraform output` contract of a generated root: every output's name and its value's fields.

`tfgen.emit.outputs` writes these outputs and `tfgen gitops` (and through it the
sandbox) reads them; both take the names from here, so a field renamed in one
place cannot be missed in the other.
"""

from __future__ import annotations

__all__ = ["GITOPS", "BASTION", "CLUSTER", "CLUSTER_OUTPUT", "GITOPS_OUTPUT", "BASTION_OUTPUT", "PEERING",
           "TRANSIT_GATEWAY", "cluster_output", "peering_output", "transit_gateway_output", "is_cluster_output",
           "fields", "value"]

CLUSTER_PREFIX = "cluster_"
GITOPS = "gitops"
BASTION = "bastion"


def cluster_output(key: str) -> str:
    """The output of cluster `key` (`cluster_us_east_2_edge`)."""
    return f"{CLUSTER_PREFIX}{key}"


def is_cluster_output(name: str) -> bool:
    return name.startswith(CLUSTER_PREFIX)


def peering_output(name: str) -> str:
    return f"peering_{name}"


def transit_gateway_output(name: str) -> str:
    return f"transit_gateway_{name}"


class _Contract:
    """The field names of one output's value, each an attribute naming itself (`CLUSTER.vpc_id == "vpc_id"`),
    so a misspelt field is an AttributeError where it is written, not a silent miss where it is read."""

    def __init__(self, *names: str, optional: tuple[str, ...] = ()):
        self.names, self.optional = names, optional
        for name in names:
            setattr(self, name, name)

    def __repr__(self) -> str:
        return f"<output fields {', '.join(self.names)}>"


CLUSTER = _Contract(
    "region", "role", "vpc_id", "vpc_cidr", "cluster_name", "cluster_endpoint", "cluster_arn",
    "certificate_authority", "kubernetes_version", "account_id", "ebs_csi_role_arn",
    "deployer_role_arn",  # only on the edges the hub's Argo CD manages
    optional=("deployer_role_arn",))
GITOPS_OUTPUT = _Contract(
    "environment", "hub_cluster", "hub_region", "identity", "namespace", "service_accounts",
    "argocd",  # who runs Argo CD: self-managed, managed (EKS's capability) or none
    "management_role_arn",  # not with argocd: managed
    "capability_role_arn",  # only with argocd: managed
    optional=("management_role_arn", "capability_role_arn"))
BASTION_OUTPUT = _Contract("instance_id", "region", "hub_endpoint")
PEERING = _Contract("id", "requester_region", "accepter_region", "status")
TRANSIT_GATEWAY = _Contract("region", "id", "route_table_id")
CLUSTER_OUTPUT = CLUSTER  # the fields of a `cluster_<key>` output


def fields(contract: _Contract) -> tuple[str, ...]:
    """Every field name of an output's value."""
    return contract.names


def value(contract, values: dict) -> dict:
    """An output's value holding exactly the contract's fields (optional ones may be left out)."""
    names = set(fields(contract))
    unknown = set(values) - names
    missing = names - set(values) - set(contract.optional)
    if unknown or missing:
        raise ValueError(f"output value breaks the contract: unknown {sorted(unknown)}, missing {sorted(missing)}")
    return values
