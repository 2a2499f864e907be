"""Outputs: per cluster its VPC and control plane, per peering its id and sides,
per transit gateway its id and route table."""

from __future__ import annotations

from .. import naming
from ..connectivity import transit_regions
from ..naming import ref
from .context import EnvironmentContext
from .document import Document
from .peering import peerings

__all__ = ["emit_outputs"]


def emit_outputs(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for c in ctx.clusters:
        doc.output(
            f"cluster_{c.key}",
            description=f"{c.cluster.role} cluster {c.cluster.name} in {c.region}",
            value={
                "region": c.region,
                "role": c.cluster.role,
                "vpc_id": ref(f"{c.vpc}.id"),
                "vpc_cidr": ref(f"{c.vpc}.cidr_block"),
                "cluster_name": ref(f"aws_eks_cluster.{c.key}.name"),
                "cluster_endpoint": ref(f"aws_eks_cluster.{c.key}.endpoint"),
                "cluster_arn": ref(f"aws_eks_cluster.{c.key}.arn"),
            },
        )
    for requester, accepter in peerings(ctx):
        name = naming.peering_name(requester.key, accepter.key)
        doc.output(
            f"peering_{name}",
            description=f"peering {requester.region}/{requester.cluster.name} -> {accepter.region}/{accepter.cluster.name}",
            value={
                "id": ref(f"aws_vpc_peering_connection.{name}.id"),
                "requester_region": requester.region,
                "accepter_region": accepter.region,
                "status": ref(f"aws_vpc_peering_connection_accepter.{name}.accept_status"),
            },
        )
    for region in transit_regions(ctx.env):
        name = naming.transit_gateway_name(region)
        doc.output(
            f"transit_gateway_{name}",
            description=f"transit gateway in {region}",
            value={
                "region": region,
                "id": ref(f"aws_ec2_transit_gateway.{name}.id"),
                "route_table_id": ref(f"aws_ec2_transit_gateway_route_table.{name}.id"),
            },
        )
    return doc
