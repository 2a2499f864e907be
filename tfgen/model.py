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
DEFAULT_AWS_PROVIDER = ">= 3.39, < 6.0"
DEFAULT_TERRAFORM = ">= 1.0"
DEFAULT_KUBERNETES_VERSION = "1.29"
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
        where: dict[str, Origin] | None = None,
    ) -> Cluster:
        """Add a cluster to `region` (created if new), filling gaps from the defaults."""
        where = dict(where) if where else {"": _call_site()}
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
    """Where Terraform keeps state: S3 (+ DynamoDB lock table) or a local file."""

    backend: str = "local"
    bucket: str | None = None
    key_prefix: str = ""
    region: str | None = None
    lock_table: str | None = None

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
    terraform_version: str = DEFAULT_TERRAFORM
    environments: dict[str, Environment] = field(default_factory=dict)
    allocations_file: Path | None = field(default=None, compare=False)
    """Where VPC CIDRs allocated from a pool are recorded (beside the spec when loaded from YAML)."""

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
