"""Every name tfgen gives to Terraform or AWS is made here.

Terraform addresses come from user-given names (environment, region, cluster,
zone), never from list positions, so adding a region or a zone never renames
an existing resource (a rename destroys and recreates infrastructure). Change
a function here and you move real resources: the golden files under `out/`
show it in review.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "alias",
    "provider_ref",
    "cluster_key",
    "zone_suffix",
    "node_group_name",
    "node_group_prefix",
    "UNIQUE_SUFFIX_LENGTH",
    "subnet_name",
    "route_table_name",
    "nat_name",
    "peering_name",
    "route_name",
    "transit_gateway_name",
    "transit_peering_name",
    "transit_gateway_label",
    "transit_route_name",
    "transit_association_name",
    "internet_route_name",
    "aws_name",
    "EKS_NAME_LIMIT",
    "eks_cluster_name",
    "KmsPurpose",
    "eks_log_group",
    "flow_log_group",
    "kms_alias",
    "ebs_kms_alias",
    "api_security_group_name",
    "bastion_name",
    "management_role_name",
    "deployer_role_name",
    "ebs_csi_role_name",
    "cluster_role_name",
    "node_role_name",
    "flow_log_role_name",
    "flow_log_label",
    "state_kms_alias",
    "arn",
    "ref",
    "region_stem",
    "principal_name",
    "addon_name",
    "service_account_name",
    "bootstrap_digest",
    "bootstrap_document_name",
    "bootstrap_registration_key",
    "BOOTSTRAP_REGISTRATION_PREFIX",
    "bootstrap_document_prefix",
    "bootstrap_association_name",
    "bootstrap_bucket_name",
    "BOOTSTRAP_OUTPUT_PREFIX",
    "capability_role_name",
    "CAPABILITY_NAME",
    "CELL_SEPARATOR",
    "FAN_IN",
    "cell_name",
    "cell_root",
    "environment_of_root",
    "role_arn",
    "export_name",
]

# Where in the bootstrap bucket SSM writes the association's output (`<prefix><command id>/...`).
BOOTSTRAP_OUTPUT_PREFIX = "bootstrap/"
# Where Terraform writes the registration data the bootstrap reads (one versioned object per hub).
BOOTSTRAP_REGISTRATION_PREFIX = "registration/"
# The hub's EKS Argo CD capability (one of each type per cluster).
CAPABILITY_NAME = "argocd"

_NOT_IDENT = re.compile(r"[^a-z0-9_]+")


@lru_cache(maxsize=1 << 20)
def _ident(text: str) -> str:
    """A Terraform identifier from a user-given name: lower case, `_` for the rest."""
    return _NOT_IDENT.sub("_", text.lower()).strip("_")


def alias(region: str) -> str:
    """The `aws` provider alias of a region: `us-east-2` -> `us_east_2`."""
    return _ident(region)


@lru_cache(maxsize=1024)
def provider_ref(region: str) -> str:
    """The `provider` argument that pins a resource to a region's alias."""
    return f"aws.{alias(region)}"


def cluster_key(region: str, cluster: str) -> str:
    """The stem of every resource of one cluster: `us_east_2_edge`."""
    return f"{alias(region)}_{_ident(cluster)}"


def zone_suffix(region: str, zone: str) -> str:
    """A zone's name without its region: `us-east-2a` -> `a`, `us-west-2-lax-1a` -> `lax_1a`."""
    rest = zone[len(region):] if zone.startswith(region) else zone
    return _ident(rest) or _ident(zone)


def node_group_name(key: str, group: str) -> str:
    """`__` joins a cluster's stem and a user-named group: stems never hold `__`,
    so cluster `edge` + group `b-c` and cluster `edge-b` + group `c` stay apart."""
    return f"{key}__{_ident(group)}"


# Terraform's unique suffix after a name prefix: a UTC timestamp to the 1/10,000 s and a counter
# (terraform-plugin-sdk helper/id, UniqueIDSuffixLength).
UNIQUE_SUFFIX_LENGTH = 26


def node_group_prefix(group: str) -> str:
    """The AWS name prefix of a managed node group: Terraform appends a unique suffix, so a replacement
    can be created before the group it replaces is destroyed."""
    return f"{group}-"


def subnet_name(key: str, tier: str, region: str, zone: str) -> str:
    return f"{key}_{tier}_{zone_suffix(region, zone)}"


def route_table_name(key: str, table: str, region: str) -> str:
    """`table` is a layout key: "public" or "private:<zone>"."""
    if table == "public":
        return f"{key}_public"
    return f"{key}_private_{zone_suffix(region, table.split(':', 1)[1])}"


def nat_name(key: str, region: str, zone: str) -> str:
    return f"{key}_{zone_suffix(region, zone)}"


def peering_name(requester_key: str, accepter_key: str) -> str:
    return f"{requester_key}__{accepter_key}"


def route_name(route_table: str, peer_key: str) -> str:
    return f"{route_table}__to__{peer_key}"


def transit_gateway_name(region: str) -> str:
    """The stem of a region's transit gateway and its route table."""
    return alias(region)


def transit_route_name(region: str, peer_key: str) -> str:
    """A static route in `region`'s gateway route table to VPC `peer_key`."""
    return f"{alias(region)}__to__{peer_key}"


def transit_association_name(peering: str, region: str) -> str:
    """The association of gateway peering `peering` with `region`'s gateway route table."""
    return f"{peering}__{alias(region)}"


def internet_route_name(route_table: str) -> str:
    """A route table's default route (to the internet or NAT gateway)."""
    return f"{route_table}__internet"


def transit_gateway_label(project: str, environment: str, region: str) -> str:
    """The Name tag of a region's transit gateway."""
    return aws_name(project, environment, region)


def transit_peering_name(requester_region: str, accepter_region: str) -> str:
    return f"{alias(requester_region)}__{alias(accepter_region)}"


def aws_name(*parts: str, limit: int = 64) -> str:
    """A name for AWS (EKS cluster, IAM role): `-`-joined, cut to `limit` with a stable hash."""
    name = "-".join(re.sub(r"[^A-Za-z0-9-]+", "-", p).strip("-") for p in parts if p)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


EKS_NAME_LIMIT = 100  # EKS takes cluster names of at most 100 characters


def eks_cluster_name(project: str, environment: str, region: str, cluster: str, *,
                     limit: int = EKS_NAME_LIMIT) -> str:
    """The EKS cluster's name (`<project>-<environment>-<region>-<cluster>`), the stem of every AWS name of
    the cluster. `limit`: where it is cut (with a stable hash); a rule asks for more to see the whole name."""
    return aws_name(project, environment, region, cluster, limit=limit)


class KmsPurpose(StrEnum):
    """What a KMS key tfgen makes encrypts: the last part of its alias."""

    EKS = "eks"
    """A cluster's Kubernetes secrets."""
    LOGS = "logs"
    """A cluster's CloudWatch log groups (control plane and flow logs)."""
    BOOTSTRAP = "bootstrap"
    """The hub's GitOps bootstrap output."""
    EBS = "ebs"
    """An environment's EBS volumes in one region."""


def eks_log_group(eks_name: str) -> str:
    """The log group EKS writes control-plane logs to (AWS fixes this name)."""
    return f"/aws/eks/{eks_name}/cluster"


def flow_log_group(eks_name: str) -> str:
    """The log group of a cluster VPC's flow logs."""
    return f"/aws/vpc-flow-logs/{eks_name}"


def kms_alias(eks_name: str, purpose: KmsPurpose) -> str:
    """The alias of one of a cluster's KMS keys: `alias/<eks name>-<purpose>`."""
    return f"alias/{eks_name}-{purpose.value}"


def ebs_kms_alias(project: str, environment: str, region: str) -> str:
    """The alias of a region's EBS default key: one per environment and region, not per cluster."""
    return f"alias/{aws_name(project, environment, region, KmsPurpose.EBS.value)}"


def api_security_group_name(eks_name: str) -> str:
    """The security group on a cluster's control-plane ENIs (its name and its Name tag)."""
    return f"{eks_name}-api"


def bastion_name(hub_eks_name: str) -> str:
    """The hub's bastion: its security group, role, instance profile, launch template and Name tag."""
    return aws_name(hub_eks_name, "bastion")


def management_role_name(hub_eks_name: str) -> str:
    """The IAM role Argo CD on the hub uses, which may assume the edges' deployer roles."""
    return aws_name(hub_eks_name, "argocd")


def deployer_role_name(eks_name: str) -> str:
    """The IAM role Argo CD deploys to an edge as (trusted by the management role only)."""
    return aws_name(eks_name, "argocd-deployer")


def ebs_csi_role_name(eks_name: str) -> str:
    """The IAM role of a cluster's EBS CSI driver."""
    return aws_name(eks_name, "ebs-csi")


def cluster_role_name(eks_name: str) -> str:
    """The IAM role of a cluster's EKS control plane."""
    return aws_name(eks_name, "cluster")


def node_role_name(eks_name: str) -> str:
    """The IAM role of a cluster's managed nodes."""
    return aws_name(eks_name, "node")


def flow_log_role_name(eks_name: str) -> str:
    """The IAM role that delivers a cluster VPC's flow logs."""
    return aws_name(eks_name, "flow-logs")


def flow_log_label(eks_name: str) -> str:
    """The Name tag of a cluster VPC's flow log (a tag: no length limit, unlike the role's name)."""
    return f"{eks_name}-flow-logs"


def state_kms_alias(bucket: str) -> str:
    """The KMS alias of the key that encrypts the state bucket: `alias/<bucket>`."""
    return f"alias/{bucket}"


def arn(service: str, region: str, account: str, resource: str) -> str:
    """A literal ARN in the commercial partition (the only one tfgen's region table holds)."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def ref(address: str) -> str:
    """A Terraform JSON reference: `aws_vpc.hub.id` -> `${aws_vpc.hub.id}`."""
    return "${" + address + "}"


def region_stem(region: str, purpose: str) -> str:
    """The stem of a resource one per region (`us_east_1__ebs`): `__` keeps it apart from cluster stems."""
    return f"{alias(region)}__{_ident(purpose)}"


def principal_name(key: str, principal: str) -> str:
    """An access entry of IAM principal `principal` on cluster `key`: the principal's name plus a short
    hash of its whole ARN, so two roles of one name in different accounts or paths stay apart."""
    name = principal.rsplit("/", 1)[-1]
    digest = hashlib.sha256(principal.encode()).hexdigest()[:6]
    return f"{key}__{_ident(name)}_{digest}"


def addon_name(key: str, addon: str) -> str:
    """The EKS add-on `addon` of cluster `key`: `us_east_2_edge__vpc_cni`."""
    return f"{key}__{_ident(addon)}"


def service_account_name(key: str, namespace: str, account: str) -> str:
    """A Pod Identity association of `namespace/account` on cluster `key`."""
    return f"{key}__{_ident(namespace)}__{_ident(account)}"


def bootstrap_digest(*parts: str) -> str:
    """The digest the bootstrap's document and association are named with: of the document's content and
    the registration data as built (so a changed script, or an edge added or removed, is a new document
    and a new association, which `terraform apply` creates before it destroys the old ones and waits for;
    the provider waits on create only)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def bootstrap_document_name(hub_eks_name: str, digest: str) -> str:
    """The SSM document of the hub's bootstrap, named with `bootstrap_digest`."""
    return f"{bootstrap_document_prefix(hub_eks_name)}{digest}"


def bootstrap_document_prefix(hub_eks_name: str) -> str:
    """What every version of the hub's bootstrap document is named with, before its digest."""
    return f"{aws_name(hub_eks_name, 'argocd-bootstrap', limit=117)}-"


def bootstrap_association_name(hub_eks_name: str, digest: str) -> str:
    """The SSM association that runs the bootstrap on the bastion, named like its document: old and new
    exist together while the new one runs."""
    return f"{bootstrap_document_prefix(hub_eks_name)}{digest}"


def bootstrap_registration_key(hub_eks_name: str) -> str:
    """The S3 key of the hub's registration data (every edge's cluster Secret) in the bootstrap bucket."""
    return f"{BOOTSTRAP_REGISTRATION_PREFIX}{hub_eks_name}.json"


def bootstrap_bucket_name(project: str, environment: str, account: str) -> str:
    """The S3 bucket the bootstrap's output goes to: global, so it names the account."""
    return aws_name(project, environment, "bootstrap", account, limit=63).lower()


def capability_role_name(hub_eks_name: str) -> str:
    """The IAM role EKS's Argo CD capability on the hub acts as (trusted by capabilities.eks.amazonaws.com)."""
    return aws_name(hub_eks_name, "argocd-capability")


CELL_SEPARATOR = "--"  # environment names may not hold it in the cells layout (VAL136)
FAN_IN = "fan-in"  # the cell of resources that need values from more than two regions


def cell_name(regions) -> str:
    """The cell of resources that live in `regions`: `us-east-1`, `us-east-1--us-east-2` (sorted), or `fan-in`."""
    regions = sorted(set(regions))
    return CELL_SEPARATOR.join(regions) if len(regions) <= 2 else FAN_IN


def cell_root(environment: str, cell: str) -> str:
    """The root directory of one cell of an environment: `development--us-east-1`."""
    return f"{environment}{CELL_SEPARATOR}{cell}"


def environment_of_root(root: str) -> str:
    """The environment a root belongs to: `development--us-east-1` -> `development`."""
    return root.split(CELL_SEPARATOR, 1)[0]


def role_arn(account: str, name: str) -> str:
    """The ARN of the IAM role `name` (path `/`) in `account`, written literally across roots."""
    return f"arn:aws:iam::{account}:role/{name}"


def export_name(reference: str) -> str:
    """The output a cell exports a value under for other cells: `aws_vpc.us_east_1_hub.id` ->
    `aws_vpc__us_east_1_hub__id` (indices as `_0`)."""
    return reference.replace("[", "_").replace("]", "").replace(".", "__")
