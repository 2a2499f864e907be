"""VPC peerings (hub-and-spoke, mesh, explicit links): requester in its own
region, accepter in the peer's, and a route to the peer's CIDR in every route
table of both VPCs."""

from __future__ import annotations

from ..derive import naming
from ..derive.naming import ref
from ..derive.context import EnvironmentContext
from .document import Document

__all__ = ["emit_peering"]


def emit_peering(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for requester, accepter in ctx.peerings():
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
