"""Transit-gateway connectivity: one gateway per region, every VPC attached to
its region's gateway, the gateways of every two regions peered.

Each gateway has one route table (the default association and propagation are
off, so nothing joins it implicitly). VPC attachments are associated with it
and propagate their CIDRs into it; inter-region peering attachments carry
static routes only, so every remote VPC CIDR gets a static route through the
peering. Every route table of every VPC routes each other VPC's CIDR to its
region's gateway, once the gateways can carry it (see the routes' depends_on):
switching a fleet from peering to the gateway updates those routes in place,
so each waits until its new path is up. A route to another region's VPC thus
belongs to both regions (in the cells layout, to their link root, like the
peering routes it replaces).
"""

from __future__ import annotations

from collections import defaultdict

from ..derive import naming
from ..derive.connectivity import transit_peerings, transit_regions
from ..derive.naming import ref
from ..derive.context import ClusterContext, EnvironmentContext
from .document import Document

__all__ = ["emit_transit"]


def _tgw(region: str) -> str:
    return f"aws_ec2_transit_gateway.{naming.transit_gateway_name(region)}"


def _tgw_table(region: str) -> str:
    return f"aws_ec2_transit_gateway_route_table.{naming.transit_gateway_name(region)}"


def emit_transit(ctx: EnvironmentContext) -> Document:
    doc = Document()
    regions = transit_regions(ctx.env)
    if not regions:
        return doc
    by_region: dict[str, list[ClusterContext]] = defaultdict(list)
    for c in ctx.clusters:
        by_region[c.region].append(c)
    label = naming.aws_name(ctx.fleet.project, ctx.env.name)

    for region in regions:
        name = naming.transit_gateway_name(region)
        tag = naming.transit_gateway_label(ctx.fleet.project, ctx.env.name, region)
        doc.resource("aws_ec2_transit_gateway", name, region=region,
                     description=f"{label} {region}",
                     default_route_table_association="disable",
                     default_route_table_propagation="disable",
                     auto_accept_shared_attachments="disable",
                     dns_support="enable",
                     tags={"Name": tag})
        doc.resource("aws_ec2_transit_gateway_route_table", name, region=region,
                     transit_gateway_id=ref(f"{_tgw(region)}.id"), tags={"Name": tag})
        for c in by_region[region]:
            attachment = doc.resource(
                "aws_ec2_transit_gateway_vpc_attachment", c.key, region=region,
                transit_gateway_id=ref(f"{_tgw(region)}.id"),
                vpc_id=ref(f"{c.vpc}.id"),
                subnet_ids=[ref(f"aws_subnet.{naming.subnet_name(c.key, 'private', region, s.zone)}.id")
                            for s in c.layout.private],
                transit_gateway_default_route_table_association=False,
                transit_gateway_default_route_table_propagation=False,
                tags={"Name": c.eks_name},
            )
            for kind in ("association", "propagation"):
                doc.resource(f"aws_ec2_transit_gateway_route_table_{kind}", c.key, region=region,
                             transit_gateway_attachment_id=ref(f"{attachment}.id"),
                             transit_gateway_route_table_id=ref(f"{_tgw_table(region)}.id"))

    for requester, accepter in transit_peerings(ctx.env):
        name = naming.transit_peering_name(requester, accepter)
        request = doc.resource(
            "aws_ec2_transit_gateway_peering_attachment", name, region=requester,
            transit_gateway_id=ref(f"{_tgw(requester)}.id"),
            peer_transit_gateway_id=ref(f"{_tgw(accepter)}.id"),
            peer_region=accepter,
            tags={"Name": f"{label}-{requester}-to-{accepter}", "Side": "requester"},
        )
        accepted = doc.resource(
            "aws_ec2_transit_gateway_peering_attachment_accepter", name, region=accepter,
            transit_gateway_attachment_id=ref(f"{request}.id"),
            tags={"Name": f"{label}-{requester}-to-{accepter}", "Side": "accepter"},
        )
        for side, remote in ((requester, accepter), (accepter, requester)):
            # Both sides name the accepter's id: the attachment must be accepted first.
            doc.resource("aws_ec2_transit_gateway_route_table_association", naming.transit_association_name(name, side),
                         region=side,
                         transit_gateway_attachment_id=ref(f"{accepted}.transit_gateway_attachment_id"),
                         transit_gateway_route_table_id=ref(f"{_tgw_table(side)}.id"))
            for c in by_region[remote]:
                doc.resource("aws_ec2_transit_gateway_route", naming.transit_route_name(side, c.key), region=side,
                             destination_cidr_block=c.layout.cidr,
                             transit_gateway_attachment_id=ref(f"{accepted}.transit_gateway_attachment_id"),
                             transit_gateway_route_table_id=ref(f"{_tgw_table(side)}.id"))

    accepters = {frozenset(pair): naming.transit_peering_name(*pair) for pair in transit_peerings(ctx.env)}
    for c in ctx.clusters:
        attachment = f"aws_ec2_transit_gateway_vpc_attachment.{c.key}"
        for table in c.route_tables():
            for peer in ctx.clusters:
                if peer is c:
                    continue
                # A VPC route is the cut-over (from a peering, say): it waits for the gateway's path to the peer,
                # not only this VPC's attachment: the attachment's association, then the peer's propagation in
                # one region, or the gateways' peering accepted and its static route across two.
                path = [attachment, f"aws_ec2_transit_gateway_route_table_association.{c.key}"]
                if peer.region == c.region:
                    path.append(f"aws_ec2_transit_gateway_route_table_propagation.{peer.key}")
                else:
                    path += [f"aws_ec2_transit_gateway_peering_attachment_accepter."
                             f"{accepters[frozenset((c.region, peer.region))]}",
                             f"aws_ec2_transit_gateway_route.{naming.transit_route_name(c.region, peer.key)}"]
                doc.resource("aws_route", naming.route_name(table, peer.key), region=c.region,
                             route_table_id=ref(f"aws_route_table.{table}.id"),
                             destination_cidr_block=peer.layout.cidr,
                             transit_gateway_id=ref(f"{_tgw(c.region)}.id"),
                             depends_on=path)
    return doc
