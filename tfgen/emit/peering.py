"""Hub-and-spoke peering: requester in the hub's region, accepter in the edge's,
and a route to the peer's CIDR in every route table of both VPCs."""

from __future__ import annotations

from .. import naming
from ..naming import ref
from .context import ClusterContext, EnvironmentContext
from .document import Document

__all__ = ["emit_peering", "peerings"]


def peerings(ctx: EnvironmentContext) -> list[tuple[ClusterContext, ClusterContext]]:
    """(requester, accepter) pairs of the environment, sorted."""
    if not any(c.cluster.is_hub for c in ctx.clusters):
        return []
    hub = ctx.hub
    return [(hub, edge) for edge in ctx.edges]


def emit_peering(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for requester, accepter in peerings(ctx):
        name = naming.peering_name(requester.key, accepter.key)
        label = f"{requester.eks_name}-to-{accepter.region}-{accepter.cluster.name}"
        connection = doc.resource(
            "aws_vpc_peering_connection", name, region=requester.region,
            vpc_id=ref(f"{requester.vpc}.id"),
            peer_vpc_id=ref(f"{accepter.vpc}.id"),
            peer_region=accepter.region,
            auto_accept=False,
            tags={"Name": label, "Side": "requester"},
        )
        accepted = doc.resource(
            "aws_vpc_peering_connection_accepter", name, region=accepter.region,
            vpc_peering_connection_id=ref(f"{connection}.id"),
            auto_accept=True,
            tags={"Name": label, "Side": "accepter"},
        )
        # Routes name the accepter's id so that they are created once the peering is active.
        for side, peer in ((requester, accepter), (accepter, requester)):
            for table in side.route_tables():
                doc.resource(
                    "aws_route", naming.route_name(table, peer.key), region=side.region,
                    route_table_id=ref(f"aws_route_table.{table}.id"),
                    destination_cidr_block=peer.layout.cidr,
                    vpc_peering_connection_id=ref(f"{accepted}.id"),
                )
    return doc
