"""One environment as the emitters, `tfgen gitops` and the sandbox read it: each cluster with its
Terraform key, AWS name and network layout, and the peerings between them."""

from __future__ import annotations

from dataclasses import dataclass

from . import naming
from .connectivity import peerings_of
from .layout import NetworkLayout, layout_of
from ..model import Cluster, Environment, Fleet

__all__ = ["ClusterContext", "EnvironmentContext", "context_of"]


@dataclass(frozen=True)
class ClusterContext:
    """A cluster with its region, Terraform stem, AWS name and network layout."""

    region: str
    cluster: Cluster
    key: str
    eks_name: str
    layout: NetworkLayout

    @property
    def vpc(self) -> str:
        return f"aws_vpc.{self.key}"

    def route_tables(self) -> list[str]:
        return [naming.route_table_name(self.key, t, self.region) for t in self.layout.route_tables]


@dataclass(frozen=True)
class EnvironmentContext:
    fleet: Fleet
    env: Environment
    clusters: tuple[ClusterContext, ...]  # sorted by key

    @property
    def hub(self) -> ClusterContext:
        return next(c for c in self.clusters if c.cluster.is_hub)

    @property
    def edges(self) -> list[ClusterContext]:
        return [c for c in self.clusters if not c.cluster.is_hub]

    @property
    def regions(self) -> list[str]:
        return sorted({c.region for c in self.clusters})

    def of(self, region: str, cluster: str) -> ClusterContext:
        """The context of the cluster `cluster` in `region`."""
        return next(c for c in self.clusters if c.region == region and c.cluster.name == cluster)

    def peerings(self) -> list[tuple[ClusterContext, ClusterContext]]:
        """(requester, accepter) of every peering of the environment."""
        return [(self.of(link.requester.region, link.requester.cluster.name),
                 self.of(link.accepter.region, link.accepter.cluster.name))
                for link in peerings_of(self.env)]


def context_of(fleet: Fleet, env: Environment) -> EnvironmentContext:
    clusters = [
        ClusterContext(
            region=region.name,
            cluster=cluster,
            key=naming.cluster_key(region.name, cluster.name),
            eks_name=naming.eks_cluster_name(fleet.project, env.name, region.name, cluster.name),
            layout=layout_of(cluster, region.name),
        )
        for region, cluster in env.clusters()
    ]
    return EnvironmentContext(fleet, env, tuple(sorted(clusters, key=lambda c: c.key)))
