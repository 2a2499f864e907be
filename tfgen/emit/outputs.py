"""Outputs: per cluster its VPC, control plane and roles, per peering its id and
sides, per transit gateway its id and route table; the GitOps identity of the
hub and the bastion. `tfgen gitops` renders Argo CD's cluster Secrets from
these (`terraform output -json`)."""

from __future__ import annotations

from ..derive import naming
from ..derive.connectivity import transit_regions
from ..derive.naming import ref
from ..derive.gitops_path import edges_of
from .access import deployer_role, management_role
from .addons import ebs_csi_role
from .bastion import bastion_instance
from ..derive.context import EnvironmentContext
from .document import Document

__all__ = ["emit_outputs"]


def emit_outputs(ctx: EnvironmentContext) -> Document:
    doc = Document()
    managed = {(r.name, c.name) for r, c in edges_of(ctx.env)}
    for c in ctx.clusters:
        extra = {"deployer_role_arn": ref(f"{deployer_role(c)}.arn")} if (c.region, c.cluster.name) in managed else {}
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
                "certificate_authority": ref(f"aws_eks_cluster.{c.key}.certificate_authority[0].data"),
                "kubernetes_version": c.cluster.kubernetes_version,
                "account_id": ctx.env.account,
                "ebs_csi_role_arn": ref(f"{ebs_csi_role(c)}.arn"),
                **extra,
            },
        )
    if managed:
        gitops = ctx.env.gitops
        doc.output(
            "gitops",
            description="Argo CD on the hub: its namespace, service accounts and AWS identity",
            value={
                "environment": ctx.env.name,
                "hub_cluster": ref(f"aws_eks_cluster.{ctx.hub.key}.name"),
                "hub_region": ctx.hub.region,
                "identity": ctx.env.identity,
                "namespace": gitops.namespace,
                "service_accounts": list(gitops.service_accounts),
                "management_role_arn": ref(f"{management_role(ctx)}.arn"),
            },
        )
    if ctx.env.bastion.enabled and any(c.cluster.is_hub for c in ctx.clusters):
        doc.output(
            "bastion",
            description="the SSM bastion into the hub's private API (README: Reaching the hub)",
            value={"instance_id": ref(f"{bastion_instance(ctx)}.id"), "region": ctx.hub.region,
                   "hub_endpoint": ref(f"aws_eks_cluster.{ctx.hub.key}.endpoint")},
        )
    for requester, accepter in ctx.peerings():
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
