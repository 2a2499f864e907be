"""The fleet as plain Python objects.

A `Fleet` holds environments; an environment holds regions; a region holds
clusters; one cluster per environment is the hub, the others are edges, and
each cluster owns its network. Nothing here knows about Terraform or YAML: the
spec reader builds these objects, the checks read them, the emitters turn them
into Terraform JSON.

Values are checked by `tfgen.checks`, not on assignment, so a Python user can
build and change a fleet freely and get every finding at once from `build`.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import Origin, TfgenError

__all__ = [
    "HUB",
    "EDGE",
    "NAT_SINGLE",
    "NAT_PER_AZ",
    "HUB_AND_SPOKE",
    "MESH",
    "TRANSIT_GATEWAY",
    "Link",
    "Reach",
    "DEFAULT_AWS_PROVIDER",
    "NodeGroup",
    "Network",
    "Cluster",
    "Region",
    "Defaults",
    "Environment",
    "StateBackend",
    "Fleet",
    "AccessEntry",
    "Access",
    "Addon",
    "GitOps",
    "Bastion",
    "POD_IDENTITY",
    "IRSA",
    "ADDONS",
]

HUB = "hub"
EDGE = "edge"
ROLES = (HUB, EDGE)
NAT_SINGLE = "single"
NAT_PER_AZ = "per_az"
NAT_MODES = (NAT_SINGLE, NAT_PER_AZ)
HUB_AND_SPOKE = "hub-and-spoke"
MESH = "mesh"
TRANSIT_GATEWAY = "transit-gateway"
CONNECTIVITY_MODES = (HUB_AND_SPOKE, MESH, TRANSIT_GATEWAY)
DEFAULT_VPC_PREFIX = 16
DEFAULT_AWS_PROVIDER = ">= 5.100, < 7.0"  # the last 5.x and 6.x; see tfgen.providers
DEFAULT_TERRAFORM = ">= 1.0"
DEFAULT_TERRAFORM_LOCKFILE = ">= 1.10"  # S3-native state locking
DEFAULT_KUBERNETES_VERSION = "1.35"
DEFAULT_AMI_TYPE = "AL2023_x86_64_STANDARD"
SUPPORT_STANDARD = "standard"
SUPPORT_EXTENDED = "extended"
SUPPORT_TYPES = (SUPPORT_STANDARD, SUPPORT_EXTENDED)
POD_IDENTITY = "pod-identity"
IRSA = "irsa"
IDENTITY_MODES = (POD_IDENTITY, IRSA)
AUTH_API = "API"
AUTH_API_AND_CONFIG_MAP = "API_AND_CONFIG_MAP"
AUTHENTICATION_MODES = (AUTH_API, AUTH_API_AND_CONFIG_MAP)
# Every cluster runs these EKS add-ons, explicitly (bootstrap_self_managed_addons is off).
ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "aws-ebs-csi-driver")
ARGOCD_SERVICE_ACCOUNTS = ("argocd-application-controller", "argocd-applicationset-controller", "argocd-server")
BASTION_AMI = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
DEFAULT_EDGE_NAME = "edge"
DEFAULT_HUB_NAME = "hub"

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _call_site() -> Origin | None:
    """The first stack frame outside tfgen: where a Python user made an object."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not str(Path(filename).resolve()).startswith(_PACKAGE_DIR):
            return Origin(filename, frame.f_lineno)
        frame = frame.f_back
    return None


@dataclass(kw_only=True)
class _Located:
    """Remembers where each field was written, for findings."""

    where: dict[str, Origin] = field(default_factory=dict, compare=False, repr=False)

    def origin(self, name: str = "") -> Origin | None:
        """Where field `name` (or, failing that, the object) was written."""
        return self.where.get(name) or self.where.get("")


@dataclass(kw_only=True)
class NodeGroup(_Located):
    """An EKS managed node group."""

    name: str
    instance_types: list[str] = field(default_factory=lambda: ["t3.medium"])
    min_size: int = 1
    max_size: int = 3
    desired_size: int = 1
    disk_size: int = 20
    capacity_type: str = "ON_DEMAND"
    labels: dict[str, str] = field(default_factory=dict)
    ami_type: str = DEFAULT_AMI_TYPE


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
class GitOps(_Located):
    """Argo CD on the hub manages every edge: its namespace and the service accounts that use the hub role."""

    enabled: bool = True
    namespace: str = "argocd"
    service_accounts: list[str] = field(default_factory=lambda: list(ARGOCD_SERVICE_ACCOUNTS))


@dataclass(kw_only=True)
class Bastion(_Located):
    """An SSM-managed instance in the hub VPC: the way for people into the private hub API."""

    enabled: bool = True
    instance_type: str = "t3.micro"
    ami: str = BASTION_AMI


@dataclass(kw_only=True)
class Network(_Located):
    """A cluster's VPC: its CIDR, zones, subnets and NAT layout.

    Subnets left out are carved from the VPC CIDR (see `tfgen.layout`); zones
    left out are the first `az_count` of tfgen's table for the region
    (`None`: three, or all the region has when it has fewer).
    """

    cidr: str | None = None
    az_count: int | None = None
    availability_zones: list[str] | None = None
    public_subnets: list[str] | None = None
    private_subnets: list[str] | None = None
    nat: str = NAT_SINGLE


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
    nat: str = NAT_SINGLE
    support: str = SUPPORT_STANDARD


@dataclass(kw_only=True)
class Environment(_Located):
    """One environment: a hub cluster, edge clusters in regions, one Terraform root."""

    name: str
    regions: dict[str, Region] = field(default_factory=dict)
    cidr_pool: str | None = None
    vpc_prefix: int = DEFAULT_VPC_PREFIX
    assume_role: str | None = None
    account_id: str | None = None
    connectivity: str = HUB_AND_SPOKE
    links: list[Link] = field(default_factory=list)
    reach: list[Reach] = field(default_factory=list)
    defaults: Defaults = field(default_factory=Defaults)
    identity: str = POD_IDENTITY
    access: Access = field(default_factory=Access)
    addons: dict[str, Addon] = field(default_factory=dict)
    gitops: GitOps = field(default_factory=GitOps)
    bastion: Bastion = field(default_factory=Bastion)

    @property
    def account(self) -> str | None:
        """The AWS account the environment deploys to: `account_id`, else `assume_role`'s account."""
        if self.account_id:
            return self.account_id
        parts = (self.assume_role or "").split(":")
        if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "iam" and parts[4].isdigit():
            return parts[4]
        return None

    def region(self, name: str) -> Region:
        """The region called `name`."""
        return _lookup(self.regions, name, f"region of environment {self.name}")

    @property
    def hubs(self) -> list[tuple[Region, Cluster]]:
        """Every (region, cluster) whose role is hub; a valid fleet has one."""
        return [(r, c) for r, c in self.clusters() if c.is_hub]

    @property
    def hub(self) -> Cluster | None:
        """The hub cluster, or None while there is none."""
        hubs = self.hubs
        return hubs[0][1] if hubs else None

    def clusters(self) -> Iterator[tuple[Region, Cluster]]:
        """Every (region, cluster) pair, in the order they were added."""
        for region in self.regions.values():
            for cluster in region.clusters.values():
                yield region, cluster

    def add_cluster(
        self,
        region: str,
        name: str,
        *,
        role: str = EDGE,
        cidr: str | None = None,
        kubernetes_version: str | None = None,
        node_groups: dict[str, NodeGroup] | None = None,
        az_count: int | None = None,
        availability_zones: list[str] | None = None,
        public_subnets: list[str] | None = None,
        private_subnets: list[str] | None = None,
        nat: str | None = None,
        support: str | None = None,
        access: Access | None = None,
        addons: dict[str, Addon] | None = None,
        where: dict[str, Origin] | None = None,
    ) -> Cluster:
        """Add a cluster to `region` (created if new), filling gaps from the defaults."""
        where = dict(where) if where else {"": _call_site()}
        for name_, given in (("kubernetes_version", kubernetes_version), ("support", support)):
            if given is None and name_ in self.defaults.where:
                where.setdefault(name_, self.defaults.where[name_])  # findings point at the default's line
        target = self.regions.get(region)
        if target is None:
            target = self.regions[region] = Region(name=region, where={"": where.get("")})
        if name in target.clusters:
            raise TfgenError(
                f"environment {self.name} already has a cluster {name!r} in {region}; "
                f"choose another name"
            )
        network = Network(
            cidr=cidr,
            az_count=self.defaults.az_count if az_count is None else az_count,
            availability_zones=availability_zones,
            public_subnets=public_subnets,
            private_subnets=private_subnets,
            nat=self.defaults.nat if nat is None else nat,
            where=where,
        )
        groups = copy.deepcopy(self.defaults.node_groups if node_groups is None else node_groups)
        cluster = Cluster(
            name=name,
            role=role,
            kubernetes_version=kubernetes_version or self.defaults.kubernetes_version,
            node_groups=groups,
            network=network,
            support=support or self.defaults.support,
            access=access or Access(where={"": where.get("")}),
            addons=dict(addons or {}),
            where=where,
        )
        target.clusters[name] = cluster
        return cluster

    def add_hub(self, region: str, *, name: str = DEFAULT_HUB_NAME, **options) -> Cluster:
        """Add the environment's hub cluster in `region`; options as `add_cluster`."""
        options.setdefault("where", {"": _call_site()})
        return self.add_cluster(region, name, role=HUB, **options)

    def add_region(self, region: str, *, name: str = DEFAULT_EDGE_NAME, **options) -> Cluster:
        """Add an edge cluster (default name "edge") in `region`; options as `add_cluster`."""
        options.setdefault("where", {"": _call_site()})
        return self.add_cluster(region, name, role=EDGE, **options)

    def add_link(self, a: str, b: str) -> Link:
        """Peer cluster `a` (requester) with `b` (accepter), both named `region/cluster`."""
        link = Link(a=a, b=b, where={"": _call_site()})
        self.links.append(link)
        return link

    def require_reach(self, source: str, target: str) -> Reach:
        """Declare that `source` must reach `target` (both `region/cluster`); checked, not emitted."""
        reach = Reach(source=source, target=target, where={"": _call_site()})
        self.reach.append(reach)
        return reach

    def addon(self, cluster: Cluster, name: str) -> Addon:
        """The setting of add-on `name` on `cluster`: the cluster's, else the environment's, else EKS's default."""
        return cluster.addons.get(name) or self.addons.get(name) or Addon(name=name)

    def authentication_mode(self, cluster: Cluster) -> str:
        """How `cluster` authenticates Kubernetes API callers: the cluster's setting, the environment's, or API."""
        return cluster.access.authentication_mode or self.access.authentication_mode or AUTH_API

    def access_entries(self, cluster: Cluster) -> list[AccessEntry]:
        """Every access grant on `cluster`: the environment's and the cluster's, admins and viewers included."""
        entries = []
        for access in (self.access, cluster.access):
            entries += [AccessEntry(principal=p, policy="AmazonEKSClusterAdminPolicy", where=access.where)
                        for p in access.admins]
            entries += [AccessEntry(principal=p, policy="AmazonEKSViewPolicy", where=access.where)
                        for p in access.viewers]
            entries += access.entries
        return entries

    def find_cluster(self, name: str) -> tuple[Region, Cluster] | None:
        """The cluster named `region/cluster`, or `region` alone when it holds one cluster."""
        region_name, _, cluster_name = name.partition("/")
        region = self.regions.get(region_name)
        if region is None:
            return None
        if not cluster_name:
            return (region, next(iter(region.clusters.values()))) if len(region.clusters) == 1 else None
        cluster = region.clusters.get(cluster_name)
        return (region, cluster) if cluster else None

    def remove_region(self, region: str) -> None:
        """Remove `region` and every cluster in it."""
        _lookup(self.regions, region, f"region of environment {self.name}")
        del self.regions[region]


@dataclass(kw_only=True)
class StateBackend(_Located):
    """Where Terraform keeps state: S3 (locked by a lock file in S3, or a DynamoDB table) or a local file."""

    backend: str = "local"
    bucket: str | None = None
    key_prefix: str = ""
    region: str | None = None
    lock_table: str | None = None

    @property
    def use_lockfile(self) -> bool:
        """S3-native locking (a lock object beside the state) when S3 state has no DynamoDB lock table."""
        return self.backend == "s3" and not self.lock_table

    def key(self, environment: str) -> str:
        """The state object key of one environment's root module."""
        return f"{self.key_prefix}{environment}/terraform.tfstate"


@dataclass(kw_only=True)
class Fleet(_Located):
    """A project's whole fleet: what one spec describes."""

    project: str
    tags: dict[str, str] = field(default_factory=dict)
    state: StateBackend = field(default_factory=StateBackend)
    aws_provider: str = DEFAULT_AWS_PROVIDER
    terraform_version: str | None = None
    """`required_version`; None: ">= 1.10" with S3-native state locking, else ">= 1.0"."""
    environments: dict[str, Environment] = field(default_factory=dict)
    allocations_file: Path | None = field(default=None, compare=False)
    """Where VPC CIDRs allocated from a pool are recorded (beside the spec when loaded from YAML)."""

    @property
    def required_terraform(self) -> str:
        """The Terraform version constraint the roots declare."""
        if self.terraform_version is not None:
            return self.terraform_version
        return DEFAULT_TERRAFORM_LOCKFILE if self.state.use_lockfile else DEFAULT_TERRAFORM

    def environment(self, name: str) -> Environment:
        """The environment called `name`."""
        return _lookup(self.environments, name, "environment")

    def add_environment(
        self,
        name: str,
        *,
        cidr_pool: str | None = None,
        vpc_prefix: int = DEFAULT_VPC_PREFIX,
        assume_role: str | None = None,
        connectivity: str = HUB_AND_SPOKE,
        account_id: str | None = None,
        defaults: Defaults | None = None,
        identity: str = POD_IDENTITY,
        access: Access | None = None,
        gitops: GitOps | None = None,
        bastion: Bastion | None = None,
        addons: dict[str, Addon] | None = None,
        where: dict[str, Origin] | None = None,
    ) -> Environment:
        """Add an empty environment; then give it a hub and regions.

        `account_id` (12 digits) is the AWS account of the environment; when it
        is left out, the account of `assume_role` is used. One of the two is
        needed: KMS key policies name the account.
        """
        if name in self.environments:
            raise TfgenError(f"the fleet already has an environment {name!r}; choose another name")
        env = Environment(
            name=name,
            cidr_pool=cidr_pool,
            vpc_prefix=vpc_prefix,
            assume_role=assume_role,
            connectivity=connectivity,
            account_id=account_id,
            defaults=defaults or Defaults(),
            identity=identity,
            access=access or Access(),
            gitops=gitops or GitOps(),
            bastion=bastion or Bastion(),
            addons=dict(addons or {}),
            where=dict(where) if where else {"": _call_site()},
        )
        self.environments[name] = env
        return env


def _lookup(table: dict, name: str, what: str):
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table)) or "none"
        raise TfgenError(f"no {what} named {name!r}; known: {known}") from None
