"""What an environment should look like in AWS once applied, read from the model.

The verifier compares the API's answers with this, never with Terraform's
state: VPCs by region, CIDR and Name tag, peerings between the hub's VPC and
each edge's, how many route tables each VPC has, clusters and node groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import naming
from ..connectivity import transit_peerings, transit_regions
from ..emit.context import context_of
from ..emit.peering import peerings
from ..emit.root import standard_tags
from ..model import Fleet

__all__ = [
    "ExpectedNodeGroup",
    "ExpectedCluster",
    "ExpectedPeering",
    "ExpectedTransitGateway",
    "Expectation",
    "expect_environment",
]


@dataclass(frozen=True)
class ExpectedNodeGroup:
    """A managed node group and its scaling."""

    name: str
    min_size: int
    max_size: int
    desired_size: int


@dataclass(frozen=True)
class ExpectedCluster:
    """A cluster, its VPC and what the VPC holds."""

    key: str
    region: str
    role: str
    name: str
    cidr: str
    subnets: int
    route_tables: int
    node_groups: tuple[ExpectedNodeGroup, ...]

    @property
    def label(self) -> str:
        return f"{self.region}/{self.key.removeprefix(naming.alias(self.region) + '_')}"


@dataclass(frozen=True)
class ExpectedPeering:
    """A peering from the requester's VPC (hub) to the accepter's (edge)."""

    name: str
    requester: ExpectedCluster
    accepter: ExpectedCluster

    @property
    def label(self) -> str:
        return f"{self.requester.label} <-> {self.accepter.label}"


@dataclass(frozen=True)
class ExpectedTransitGateway:
    """A region's transit gateway, the VPCs attached to it and the gateways it peers with."""

    region: str
    name: str
    attached: tuple[ExpectedCluster, ...]
    peers: tuple[str, ...]  # regions


@dataclass(frozen=True)
class Expectation:
    """Everything one environment should have created."""

    environment: str
    project: str
    tags: dict[str, str]
    clusters: tuple[ExpectedCluster, ...]
    peerings: tuple[ExpectedPeering, ...]
    transit_gateways: tuple[ExpectedTransitGateway, ...] = ()

    @property
    def regions(self) -> list[str]:
        return sorted({c.region for c in self.clusters})

    def in_region(self, region: str) -> list[ExpectedCluster]:
        return [c for c in self.clusters if c.region == region]


def expect_environment(fleet: Fleet, environment: str) -> Expectation:
    """The expectation for environment `environment` of `fleet` (its pool CIDRs already allocated)."""
    ctx = context_of(fleet, fleet.environment(environment))
    clusters = {}
    for c in ctx.clusters:
        clusters[c.key] = ExpectedCluster(
            key=c.key,
            region=c.region,
            role=c.cluster.role,
            name=c.eks_name,
            cidr=c.layout.cidr,
            subnets=len(c.layout.public) + len(c.layout.private),
            route_tables=len(c.layout.route_tables),
            node_groups=tuple(
                ExpectedNodeGroup(g.name, g.min_size, g.max_size, g.desired_size)
                for g in sorted(c.cluster.node_groups.values(), key=lambda g: g.name)
            ),
        )
    pairs = tuple(
        ExpectedPeering(naming.peering_name(r.key, a.key), clusters[r.key], clusters[a.key])
        for r, a in peerings(ctx)
    )
    gateway_peerings = transit_peerings(ctx.env)
    gateways = tuple(
        ExpectedTransitGateway(
            region=region,
            name=naming.transit_gateway_label(fleet.project, environment, region),
            attached=tuple(c for c in clusters.values() if c.region == region),
            peers=tuple(sorted({b for a, b in gateway_peerings if a == region}
                               | {a for a, b in gateway_peerings if b == region})),
        )
        for region in transit_regions(ctx.env)
    )
    tags = standard_tags(ctx)
    return Expectation(
        environment=environment,
        project=fleet.project,
        tags={"Project": tags["Project"], "Environment": tags["Environment"]},
        clusters=tuple(clusters.values()),
        peerings=pairs,
        transit_gateways=gateways,
    )
