"""The `terraform output` contract of a generated root: every output's name and its value's fields.

`tfgen.emit.outputs` writes these outputs and `tfgen gitops` (and through it the
sandbox) reads them; both take the names from here, so a field renamed in one
place cannot be missed in the other. Each output's fields are a `StrEnum` whose
members are spelled as the field (`ClusterField.vpc_id == "vpc_id"`): a misspelt
field is an AttributeError (and a type checker's error) where it is written, not
a silent miss where it is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

__all__ = ["GITOPS", "BASTION", "ClusterField", "GitOpsField", "BastionField", "PeeringField",
           "TransitGatewayField", "CLUSTER", "CLUSTER_OUTPUT", "GITOPS_OUTPUT", "BASTION_OUTPUT", "PEERING",
           "TRANSIT_GATEWAY", "cluster_output", "peering_output", "transit_gateway_output", "is_cluster_output",
           "fields", "optional", "value"]

CLUSTER_PREFIX = "cluster_"
GITOPS = "gitops"
BASTION = "bastion"


def cluster_output(key: str) -> str:
    """The output of cluster `key` (`cluster_us_east_2_edge`)."""
    return f"{CLUSTER_PREFIX}{key}"


def is_cluster_output(name: str) -> bool:
    """Whether output `name` is a cluster's."""
    return name.startswith(CLUSTER_PREFIX)


def peering_output(name: str) -> str:
    """The output of VPC peering `name`."""
    return f"peering_{name}"


def transit_gateway_output(name: str) -> str:
    """The output of transit gateway `name`."""
    return f"transit_gateway_{name}"


class ClusterField(StrEnum):
    """The fields of a `cluster_<key>` output's value."""

    region = "region"
    role = "role"
    vpc_id = "vpc_id"
    vpc_cidr = "vpc_cidr"
    cluster_name = "cluster_name"
    cluster_endpoint = "cluster_endpoint"
    cluster_arn = "cluster_arn"
    certificate_authority = "certificate_authority"
    kubernetes_version = "kubernetes_version"
    account_id = "account_id"
    ebs_csi_role_arn = "ebs_csi_role_arn"
    deployer_role_arn = "deployer_role_arn"  # only on the edges the hub's Argo CD manages


class GitOpsField(StrEnum):
    """The fields of the `gitops` output's value: Argo CD on the hub."""

    environment = "environment"
    hub_cluster = "hub_cluster"
    hub_region = "hub_region"
    identity = "identity"
    namespace = "namespace"
    service_accounts = "service_accounts"
    argocd = "argocd"  # who runs Argo CD: self-managed, managed (EKS's capability) or none
    management_role_arn = "management_role_arn"  # not with argocd: managed
    capability_role_arn = "capability_role_arn"  # only with argocd: managed
    controller_replicas = "controller_replicas"  # the application controller's shards; not with argocd: managed
    sharding = "sharding"  # their algorithm; not with argocd: managed


class BastionField(StrEnum):
    """The fields of the `bastion` output's value."""

    instance_id = "instance_id"
    region = "region"
    hub_endpoint = "hub_endpoint"


class PeeringField(StrEnum):
    """The fields of a `peering_<name>` output's value."""

    id = "id"
    requester_region = "requester_region"
    accepter_region = "accepter_region"
    status = "status"


class TransitGatewayField(StrEnum):
    """The fields of a `transit_gateway_<name>` output's value."""

    region = "region"
    id = "id"
    route_table_id = "route_table_id"


# The short names the emitters and readers use.
CLUSTER = CLUSTER_OUTPUT = ClusterField
GITOPS_OUTPUT = GitOpsField
BASTION_OUTPUT = BastionField
PEERING = PeeringField
TRANSIT_GATEWAY = TransitGatewayField

# Fields an output's value may leave out (every other field is always there).
_OPTIONAL: dict[type[StrEnum], frozenset[str]] = {
    ClusterField: frozenset({ClusterField.deployer_role_arn.value}),
    GitOpsField: frozenset({GitOpsField.management_role_arn.value, GitOpsField.capability_role_arn.value,
                            GitOpsField.controller_replicas.value, GitOpsField.sharding.value}),
}

Field = TypeVar("Field", bound=StrEnum)


def fields(contract: type[StrEnum]) -> tuple[str, ...]:
    """Every field name of an output's value."""
    return tuple(member.value for member in contract)


def optional(contract: type[StrEnum]) -> frozenset[str]:
    """The field names an output's value may leave out."""
    return _OPTIONAL.get(contract, frozenset())


def value(contract: type[Field], values: Mapping[Field, object]) -> dict[str, object]:
    """An output's value holding exactly the contract's fields (optional ones may be left out), keyed by
    plain strings; raises ValueError naming the fields that break it."""
    given = {str(name): item for name, item in values.items()}
    names = set(fields(contract))
    unknown = set(given) - names
    missing = names - set(given) - optional(contract)
    if unknown or missing:
        raise ValueError(f"output value breaks the contract: unknown {sorted(unknown)}, missing {sorted(missing)}")
    return given
