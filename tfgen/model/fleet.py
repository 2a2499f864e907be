"""Environments and the fleet: what one spec describes.

An environment holds regions, a region clusters; one cluster per environment is
the hub, the others are edges. `add_*` methods fill what the caller leaves out
from the environment's `defaults`, and remember the caller's file and line.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import Origin, TfgenError
from ..providers.features import DEFAULT_RANGE, TERRAFORM_DEFAULT, TERRAFORM_LOCKFILE
from .modes import Connectivity, Identity, Layout, Nat
from .parts import (
    AUTH_API,
    DEFAULT_EDGE_NAME,
    DEFAULT_HUB_NAME,
    DEFAULT_VPC_PREFIX,
    EDGE,
    HUB,
    Access,
    AccessEntry,
    Addon,
    Bastion,
    Cluster,
    Defaults,
    GitOps,
    Link,
    Network,
    NodeGroup,
    Reach,
    Region,
    _call_site,
    _here,
    _Located,
    _lookup,
)
from .rollout import Rollout

__all__ = ["Environment", "StateBackend", "Fleet", "LAYOUT_ENVIRONMENT", "LAYOUT_CELLS", "LAYOUTS"]

LAYOUT_ENVIRONMENT = Layout.ENVIRONMENT
LAYOUT_CELLS = Layout.CELLS
LAYOUTS = tuple(Layout)


@dataclass(kw_only=True)
class Environment(_Located):
    """One environment: a hub cluster, edge clusters in regions, one Terraform root."""

    name: str
    regions: dict[str, Region] = field(default_factory=dict)
    cidr_pool: str | None = None
    vpc_prefix: int = DEFAULT_VPC_PREFIX
    assume_role: str | None = None
    account_id: str | None = None
    connectivity: Connectivity | str = Connectivity.HUB_AND_SPOKE
    links: list[Link] = field(default_factory=list)
    reach: list[Reach] = field(default_factory=list)
    defaults: Defaults = field(default_factory=Defaults)
    identity: Identity | str = Identity.POD_IDENTITY
    access: Access = field(default_factory=Access)
    addons: dict[str, Addon] = field(default_factory=dict)
    gitops: GitOps = field(default_factory=GitOps)
    bastion: Bastion = field(default_factory=Bastion)
    layout: Layout | str | None = None
    """`environment` or `cells`; None: the fleet's `layout`."""
    protect: bool = False
    """Every cluster protected (`Cluster.protect`), and the environment's region-wide KMS keys."""
    rollout: Rollout | None = None
    """The waves an upgrade takes through the environment; None: the fleet's `rollout`."""

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
        nat: Nat | str | None = None,
        support: str | None = None,
        access: Access | None = None,
        addons: dict[str, Addon] | None = None,
        protect: bool = False,
        where: dict[str, Origin] | None = None,
    ) -> Cluster:
        """Add a cluster to `region` (created if new), filling gaps from the defaults.

        `role` is "hub" or "edge"; every key left as None takes the environment's
        `defaults` (zones: the first `az_count` of the region's; subnets: carved
        from `cidr`). `where` says where the cluster was written (default: the caller's line).
        """
        where = dict(where) if where else _here(_call_site())
        for name_, given in (("kubernetes_version", kubernetes_version), ("support", support)):
            if given is None and name_ in self.defaults.where:
                where.setdefault(name_, self.defaults.where[name_])  # findings point at the default's line
        target = self.regions.get(region)
        if target is None:
            target = self.regions[region] = Region(name=region, where=_here(where.get("")))
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
            access=access or Access(where=_here(where.get(""))),
            addons=dict(addons or {}),
            protect=protect,
            where=where,
        )
        target.clusters[name] = cluster
        return cluster

    def add_hub(
        self,
        region: str,
        *,
        name: str = DEFAULT_HUB_NAME,
        cidr: str | None = None,
        kubernetes_version: str | None = None,
        node_groups: dict[str, NodeGroup] | None = None,
        az_count: int | None = None,
        availability_zones: list[str] | None = None,
        public_subnets: list[str] | None = None,
        private_subnets: list[str] | None = None,
        nat: Nat | str | None = None,
        support: str | None = None,
        access: Access | None = None,
        addons: dict[str, Addon] | None = None,
        protect: bool = False,
        where: dict[str, Origin] | None = None,
    ) -> Cluster:
        """Add the environment's hub cluster in `region`; the keys as `add_cluster`."""
        return self.add_cluster(
            region, name, role=HUB, cidr=cidr, kubernetes_version=kubernetes_version, node_groups=node_groups,
            az_count=az_count, availability_zones=availability_zones, public_subnets=public_subnets,
            private_subnets=private_subnets, nat=nat, support=support, access=access, addons=addons,
            protect=protect, where=where)

    def add_region(
        self,
        region: str,
        *,
        name: str = DEFAULT_EDGE_NAME,
        cidr: str | None = None,
        kubernetes_version: str | None = None,
        node_groups: dict[str, NodeGroup] | None = None,
        az_count: int | None = None,
        availability_zones: list[str] | None = None,
        public_subnets: list[str] | None = None,
        private_subnets: list[str] | None = None,
        nat: Nat | str | None = None,
        support: str | None = None,
        access: Access | None = None,
        addons: dict[str, Addon] | None = None,
        protect: bool = False,
        where: dict[str, Origin] | None = None,
    ) -> Cluster:
        """Add an edge cluster (default name "edge") in `region`; the keys as `add_cluster`."""
        return self.add_cluster(
            region, name, role=EDGE, cidr=cidr, kubernetes_version=kubernetes_version, node_groups=node_groups,
            az_count=az_count, availability_zones=availability_zones, public_subnets=public_subnets,
            private_subnets=private_subnets, nat=nat, support=support, access=access, addons=addons,
            protect=protect, where=where)

    def add_link(self, a: str, b: str) -> Link:
        """Peer cluster `a` (requester) with `b` (accepter), both named `region/cluster`."""
        link = Link(a=a, b=b, where=_here(_call_site()))
        self.links.append(link)
        return link

    def require_reach(self, source: str, target: str) -> Reach:
        """Declare that `source` must reach `target` (both `region/cluster`); checked, not emitted."""
        reach = Reach(source=source, target=target, where=_here(_call_site()))
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

    def key(self, environment: str, cell: str | None = None) -> str:
        """The state object key of one environment's root module, or of one of its cells (`us-east-1`,
        `us-east-1--us-east-2`) in the cells layout."""
        if cell is None:
            return f"{self.key_prefix}{environment}/terraform.tfstate"
        return f"{self.key_prefix}{environment}/{cell}/terraform.tfstate"


@dataclass(kw_only=True)
class Fleet(_Located):
    """A project's whole fleet: what one spec describes."""

    project: str
    tags: dict[str, str] = field(default_factory=dict)
    state: StateBackend = field(default_factory=StateBackend)
    aws_provider: str = DEFAULT_RANGE
    terraform_version: str | None = None
    """`required_version`; None: ">= 1.10" with S3-native state locking, else ">= 1.0"."""
    environments: dict[str, Environment] = field(default_factory=dict)
    layout: Layout | str = Layout.ENVIRONMENT
    """How environments become roots unless they say otherwise: `environment` or `cells`."""
    rollout: Rollout | None = None
    """The waves an upgrade takes through every environment without a `rollout` of its own."""
    allocations_file: Path | None = field(default=None, compare=False)
    """Where VPC CIDRs allocated from a pool are recorded (beside the spec when loaded from YAML)."""

    @property
    def required_terraform(self) -> str:
        """The Terraform version constraint the roots declare."""
        if self.terraform_version is not None:
            return self.terraform_version
        return TERRAFORM_LOCKFILE if self.state.use_lockfile else TERRAFORM_DEFAULT

    def layout_of(self, env: Environment) -> Layout | str:
        """The layout of `env`: its own `layout`, else the fleet's."""
        return env.layout if env.layout is not None else self.layout

    def rollout_of(self, env: Environment) -> Rollout | None:
        """The rollout of `env`: its own, else the fleet's, else None (every edge in one wave, then the hub)."""
        return env.rollout if env.rollout is not None else self.rollout

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
        connectivity: Connectivity | str = Connectivity.HUB_AND_SPOKE,
        account_id: str | None = None,
        defaults: Defaults | None = None,
        identity: Identity | str = Identity.POD_IDENTITY,
        access: Access | None = None,
        gitops: GitOps | None = None,
        bastion: Bastion | None = None,
        addons: dict[str, Addon] | None = None,
        layout: Layout | str | None = None,
        protect: bool = False,
        rollout: Rollout | None = None,
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
            layout=layout,
            protect=protect,
            rollout=rollout,
            where=dict(where) if where else _here(_call_site()),
        )
        self.environments[name] = env
        return env


