"""The `terraform output` contract of a generated root: every output's name and its value's fields.

`tfgen.emit.outputs` writes these outputs and `tfgen gitops` (and through it the
sandbox) reads them; both take the names from here, so a field renamed in one
place cannot be missed in the other.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

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


@dataclass(frozen=True)
class _Cluster:
    region: str = "region"
    role: str = "role"
    vpc_id: str = "vpc_id"
    vpc_cidr: str = "vpc_cidr"
    cluster_name: str = "cluster_name"
    cluster_endpoint: str = "cluster_endpoint"
    cluster_arn: str = "cluster_arn"
    certificate_authority: str = "certificate_authority"
    kubernetes_version: str = "kubernetes_version"
    account_id: str = "account_id"
    ebs_csi_role_arn: str = "ebs_csi_role_arn"
    deployer_role_arn: str = "deployer_role_arn"  # only on the edges the hub's Argo CD manages


@dataclass(frozen=True)
class _GitOps:
    environment: str = "environment"
    hub_cluster: str = "hub_cluster"
    hub_region: str = "hub_region"
    identity: str = "identity"
    namespace: str = "namespace"
    service_accounts: str = "service_accounts"
    argocd: str = "argocd"  # who runs Argo CD: self-managed, managed (EKS's capability) or none
    management_role_arn: str = "management_role_arn"  # not with argocd: managed
    capability_role_arn: str = "capability_role_arn"  # only with argocd: managed


@dataclass(frozen=True)
class _Bastion:
    instance_id: str = "instance_id"
    region: str = "region"
    hub_endpoint: str = "hub_endpoint"


@dataclass(frozen=True)
class _Peering:
    id: str = "id"
    requester_region: str = "requester_region"
    accepter_region: str = "accepter_region"
    status: str = "status"


@dataclass(frozen=True)
class _TransitGateway:
    region: str = "region"
    id: str = "id"
    route_table_id: str = "route_table_id"


CLUSTER, GITOPS_OUTPUT, BASTION_OUTPUT = _Cluster(), _GitOps(), _Bastion()
PEERING, TRANSIT_GATEWAY = _Peering(), _TransitGateway()
CLUSTER_OUTPUT = CLUSTER  # the fields of a `cluster_<key>` output
OPTIONAL = {CLUSTER: (CLUSTER.deployer_role_arn,),
            GITOPS_OUTPUT: (GITOPS_OUTPUT.management_role_arn, GITOPS_OUTPUT.capability_role_arn)}


def fields(contract) -> tuple[str, ...]:
    """Every field name of an output's value."""
    return astuple(contract)


def value(contract, values: dict) -> dict:
    """An output's value holding exactly the contract's fields (optional ones may be left out)."""
    names = set(fields(contract))
    unknown = set(values) - names
    missing = names - set(values) - set(OPTIONAL.get(contract, ()))
    if unknown or missing:
        raise ValueError(f"output value breaks the contract: unknown {sorted(unknown)}, missing {sorted(missing)}")
    return values
