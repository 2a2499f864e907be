"""The parts of a fleet: clusters, their networks and node groups, and what runs on them.

Plain data with the constants that name their allowed values; `tfgen.model.fleet`
puts them together into environments and fleets. Every object remembers where
each field was written (`where`), for findings.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TypeVar

from ..errors import Origin, TfgenError
from .modes import ArgoCD, Connectivity, Identity, Nat

__all__ = [
    "HUB",
    "EDGE",
    "ROLES",
    "NAT_SINGLE",
    "NAT_PER_AZ",
    "NAT_MODES",
    "HUB_AND_SPOKE",
    "MESH",
    "TRANSIT_GATEWAY",
    "CONNECTIVITY_MODES",
    "DEFAULT_VPC_PREFIX",
    "DEFAULT_KUBERNETES_VERSION",
    "DEFAULT_AMI_TYPE",
    "SUPPORT_STANDARD",
    "SUPPORT_EXTENDED",
    "SUPPORT_TYPES",
    "POD_IDENTITY",
    "IRSA",
    "IDENTITY_MODES",
    "AUTH_API",
    "AUTH_API_AND_CONFIG_MAP",
    "AUTHENTICATION_MODES",
    "ADDONS",
    "ARGOCD_SERVICE_ACCOUNTS",
    "SHARDING_ALGORITHMS",
    "ARGOCD_SELF_MANAGED",
    "ARGOCD_MANAGED",
    "ARGOCD_NONE",
    "ARGOCD_MODES",
    "BASTION_AMI",
    "DEFAULT_EDGE_NAME",
    "DEFAULT_HUB_NAME",
    "NodeGroup",
    "AccessEntry",
    "Access",
    "Addon",
    "GitOpsRepo",
    "IdentityCenter",
    "GitOps",
    "Bastion",
    "Network",
    "Cluster",
    "Region",
    "Link",
    "Reach",
    "Defaults",
]

HUB = "hub"
EDGE = "edge"
ROLES = (HUB, EDGE)
NAT_SINGLE = Nat.SINGLE
NAT_PER_AZ = Nat.PER_AZ
NAT_MODES = tuple(Nat)
HUB_AND_SPOKE = Connectivity.HUB_AND_SPOKE
MESH = Connectivity.MESH
TRANSIT_GATEWAY = Connectivity.TRANSIT_GATEWAY
CONNECTIVITY_MODES = tuple(Connectivity)
DEFAULT_VPC_PREFIX = 16
DEFAULT_KUBERNETES_VERSION = "1.35"
DEFAULT_AMI_TYPE = "AL2023_x86_64_STANDARD"
SUPPORT_STANDARD = "standard"
SUPPORT_EXTENDED = "extended"
SUPPORT_TYPES = (SUPPORT_STANDARD, SUPPORT_EXTENDED)
POD_IDENTITY = Identity.POD_IDENTITY
IRSA = Identity.IRSA
IDENTITY_MODES = tuple(Identity)
AUTH_API = "API"
AUTH_API_AND_CONFIG_MAP = "API_AND_CONFIG_MAP"
AUTHENTICATION_MODES = (AUTH_API, AUTH_API_AND_CONFIG_MAP)
# Every cluster runs these EKS add-ons, explicitly (bootstrap_self_managed_addons is off).
ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "aws-ebs-csi-driver")
ARGOCD_SERVICE_ACCOUNTS = ("argocd-application-controller", "argocd-applicationset-controller", "argocd-server")
# How Argo CD's application controller assigns clusters to its replicas (argo-cd docs, high_availability.md).
SHARDING_ALGORITHMS = ("legacy", "round-robin", "consistent-hashing")
ARGOCD_SELF_MANAGED = ArgoCD.SELF_MANAGED
ARGOCD_MANAGED = ArgoCD.MANAGED
ARGOCD_NONE = ArgoCD.NONE
ARGOCD_MODES = tuple(ArgoCD)
BASTION_AMI = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
DEFAULT_EDGE_NAME = "edge"
DEFAULT_HUB_NAME = "hub"

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)  # tfgen/


def _call_site() -> Origin | None:
    """The first stack frame outside tfgen: where a Python user made an object."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not str(Path(filename).resolve()).startswith(_PACKAGE_DIR):
            return Origin(filename, frame.f_lineno)
        frame = frame.f_back
    return None


def _here(origin: Origin | None) -> dict[str, Origin]:
    """A `where` that places a whole object at `origin`; empty when that is unknown."""
    return {"": origin} if origin is not None else {}


@dataclass(kw_only=True)
class _Located:
    """Remembers where each field was written, for findings."""

    where: dict[str, Origin] = field(default_factory=dict, compare=False, repr=False)

    def origin(self, name: str = "") -> Origin | None:
        """Where field `name` (or, failing that, the object) was written; None when unknown (a Python
        user may have assigned anything to `where`)."""
        where = self.where if isinstance(self.where, dict) else {}
        found = where.get(name) or where.get("")
        return found if isinstance(found, Origin) else None


@dataclass(kw_only=True)
class NodeGroup(_Located):
    """An EKS managed node group; `version` pins its nodes' Kubernetes version (None: the cluster's, so the
    nodes follow the control plane; keep the old minor to bake an upgraded control plane first)."""

    name: str
    instance_types: list[str] = field(default_factory=lambda: ["t3.medium"])
    min_size: int = 1
    max_size: int = 3
    desired_size: int = 1
    disk_size: int = 20
    capacity_type: str = "ON_DEMAND"
    labels: dict[str, str] = field(default_factory=dict)
    ami_type: str = DEFAULT_AMI_TYPE
    version: str | None = None


@dataclass(kw_only=True)
class AccessEntry(_Located):
    """An IAM principal's access to a cluster: an EKS access policy, cluster-wide or in `namespaces`."""

    principal: str
    policy: str
    namespaces: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Access(_Located):
    """Who may use a cluster's Kubernetes API (EKS access entries, API authentication mode).

    `admins` get AmazonEKSClusterAdminPolicy and `viewers` AmazonEKSViewPolicy,
    cluster-wide; `entries` name any access policy and scope.
    """

    admins: list[str] = field(default_factory=list)
    viewers: list[str] = field(default_factory=list)
    entries: list[AccessEntry] = field(default_factory=list)
    authentication_mode: str | None = None


@dataclass(kw_only=True)
class Addon(_Located):
    """An EKS add-on setting: a pinned `version` (None: EKS's default for the cluster's Kubernetes version)."""

    name: str
    version: str | None = None


@dataclass(kw_only=True)
class GitOpsRepo(_Located):
    """The GitOps repository the root Application follows: `path` of `url` at `revision`.

    A private repository's credential is named, never written: `secret_arn` is an AWS Secrets
    Manager secret (`{"username", "token"}`, a GitHub App's fields, or an SSH key) the bootstrap
    reads at run time; `kms_key_arn` the customer-managed key it is encrypted with, if any.
    """

    url: str
    revision: str = "main"
    path: str = "clusters"
    secret_arn: str | None = None
    kms_key_arn: str | None = None


@dataclass(kw_only=True)
class IdentityCenter(_Located):
    """IAM Identity Center for the EKS Argo CD capability: its instance, region and the admin groups' ids."""

    instance_arn: str
    region: str = "us-east-1"
    admins: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class GitOps(_Located):
    """Argo CD on the hub manages every edge.

    `enabled: False` leaves the whole GitOps path out. Otherwise `argocd` says who runs
    Argo CD: tfgen's bootstrap (`self-managed`, the argo-cd chart at `chart_version`;
    None: tfgen's pin), EKS's capability (`managed`, needs `identity_center`), or
    nobody tfgen knows (`none`: the path only). `bootstrap: False` stops the SSM
    bootstrap after the first apply; `repo` adds the root Application.
    `controller_replicas` and `sharding` override how the application controller
    is sharded (`tfgen.derive.gitops_path.controller_sharding`).
    """

    enabled: bool = True
    argocd: ArgoCD | str = ArgoCD.SELF_MANAGED
    namespace: str = "argocd"
    service_accounts: list[str] = field(default_factory=lambda: list(ARGOCD_SERVICE_ACCOUNTS))
    chart_version: str | None = None
    repo: GitOpsRepo | None = None
    identity_center: IdentityCenter | None = None
    bootstrap: bool = True
    # Argo CD's application controller, sharded by cluster (self-managed): None follows the edges.
    controller_replicas: int | None = None
    sharding: str | None = None

    @property
    def mode(self) -> ArgoCD | str:
        """`argocd`, or `none` when GitOps is off."""
        return self.argocd if self.enabled else ArgoCD.NONE


@dataclass(kw_only=True)
class Bastion(_Located):
    """An SSM-managed instance in the hub VPC: the way for people into the private hub API."""

    enabled: bool = True
    instance_type: str = "t3.micro"
    ami: str = BASTION_AMI


@dataclass(kw_only=True)
class Network(_Located):
    """A cluster's VPC: its CIDR, zones, subnets and NAT layout.

    Subnets left out are carved from the VPC CIDR (see `tfgen.derive.layout`); zones
    left out are the first `az_count` of tfgen's table for the region
    (`None`: three, or all the region has when it has fewer).
    """

    cidr: str | None = None
    az_count: int | None = None
    availability_zones: list[str] | None = None
    public_subnets: list[str] | None = None
    private_subnets: list[str] | None = None
    nat: Nat | str = Nat.SINGLE


@dataclass(kw_only=True)
class Cluster(_Located):
    """An EKS cluster with its own VPC; `role` is "hub" or "edge"."""

    name: str
    role: str = EDGE
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    node_groups: dict[str, NodeGroup] = field(default_factory=dict)
    network: Network = field(default_factory=Network)
    support: str = SUPPORT_STANDARD
    access: Access = field(default_factory=Access)
    addons: dict[str, Addon] = field(default_factory=dict)

    @property
    def is_hub(self) -> bool:
        return self.role == HUB


@dataclass(kw_only=True)
class Region(_Located):
    """An AWS region of an environment and the clusters in it."""

    name: str
    clusters: dict[str, Cluster] = field(default_factory=dict)

    def cluster(self, name: str) -> Cluster:
        """The cluster called `name`."""
        return _lookup(self.clusters, name, f"cluster in region {self.name}")


@dataclass(kw_only=True)
class Link(_Located):
    """An explicit VPC peering between two clusters, named `region/cluster`.

    `a` requests, `b` accepts.
    """

    a: str
    b: str


@dataclass(kw_only=True)
class Reach(_Located):
    """A required reachability: `source` must be able to route to `target` (both `region/cluster`)."""

    source: str
    target: str


@dataclass(kw_only=True)
class Defaults(_Located):
    """Values a new cluster of an environment takes when it names none."""

    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    node_groups: dict[str, NodeGroup] = field(
        default_factory=lambda: {"workers": NodeGroup(name="workers")}
    )
    az_count: int | None = None
    nat: Nat | str = Nat.SINGLE
    support: str = SUPPORT_STANDARD


_Value = TypeVar("_Value")


def _lookup(table: dict[str, _Value], name: str, what: str) -> _Value:
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table)) or "none"
        raise TfgenError(f"no {what} named {name!r}; known: {known}") from None
