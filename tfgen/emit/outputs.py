"""Outputs: per cluster its VPC, control plane and roles, per peering its id and
sides, per transit gateway its id and route table; the GitOps identity of the
hub and the bastion. `tfgen gitops` renders Argo CD's cluster Secrets from
these (`terraform output -json`)."""

from __future__ import annotations

from ..derive import naming
from ..derive.connectivity import transit_regions
from ..derive.naming import ref
from ..derive.gitops_path import controller_sharding, deployer_edges, edges_of, managed_argocd
from ..derive.outputs import (BASTION, BASTION_OUTPUT as B, CLUSTER as C, GITOPS, GITOPS_OUTPUT as G, PEERING as P,
                              TRANSIT_GATEWAY as T, cluster_output, peering_output, transit_gateway_output, value)
from .access import deployer_role, management_role
from .addons import ebs_csi_role
from .bastion import bastion_instance
from .capability import capability_role
from ..derive.context import EnvironmentContext
from .document import Document

__all__ = ["emit_outputs"]


def emit_outputs(ctx: EnvironmentContext) -> Document:
    doc = Document()
    managed = {(r.name, c.name) for r, c in edges_of(ctx.env)}
    deployed = {(r.name, c.name) for r, c in deployer_edges(ctx.env)}
    for c in ctx.clusters:
        deploys = (c.region, c.cluster.name) in deployed
        extra = {C.deployer_role_arn: ref(f"{deployer_role(c)}.arn")} if deploys else {}
        doc.output(
            cluster_output(c.key),
            description=f"{c.cluster.role} cluster {c.cluster.name} in {c.region}",
            value=value(C, {
                C.region: c.region,
                C.role: c.cluster.role,
                C.vpc_id: ref(f"{c.vpc}.id"),
                C.vpc_cidr: ref(f"{c.vpc}.cidr_block"),
                C.cluster_name: ref(f"aws_eks_cluster.{c.key}.name"),
                C.cluster_endpoint: ref(f"aws_eks_cluster.{c.key}.endpoint"),
                C.cluster_arn: ref(f"aws_eks_cluster.{c.key}.arn"),
                C.certificate_authority: ref(f"aws_eks_cluster.{c.key}.certificate_authority[0].data"),
                C.kubernetes_version: c.cluster.kubernetes_version,
                C.account_id: ctx.env.account,
                C.ebs_csi_role_arn: ref(f"{ebs_csi_role(c)}.arn"),
                **extra,
            }),
        )
    if managed:
        gitops = ctx.env.gitops
        doc.output(
            GITOPS,
            description="Argo CD on the hub: its namespace, service accounts and AWS identity",
            value=value(G, {
                G.environment: ctx.env.name,
                G.hub_cluster: ref(f"aws_eks_cluster.{ctx.hub.key}.name"),
                G.hub_region: ctx.hub.region,
                G.identity: ctx.env.identity,
                G.namespace: gitops.namespace,
                G.service_accounts: list(gitops.service_accounts),
                G.argocd: gitops.mode,
                **({G.capability_role_arn: ref(f"{capability_role(ctx)}.arn")} if managed_argocd(ctx.env)
                   else {G.management_role_arn: ref(f"{management_role(ctx)}.arn"),
                         **dict(zip((G.controller_replicas, G.sharding), controller_sharding(ctx.env)))}),
            }),
        )
    if ctx.env.bastion.enabled and any(c.cluster.is_hub for c in ctx.clusters):
        doc.output(
            BASTION,
            description="the SSM bastion into the hub's private API (README: Reaching the hub)",
            value=value(B, {B.instance_id: ref(f"{bastion_instance(ctx)}.id"), B.region: ctx.hub.region,
                            B.hub_endpoint: ref(f"aws_eks_cluster.{ctx.hub.key}.endpoint")}),
        )
    for requester, accepter in ctx.peerings():
        name = naming.peering_name(requester.key, accepter.key)
        doc.output(
            peering_output(name),
            description=f"peering {requester.region}/{requester.cluster.name} -> {accepter.region}/{accepter.cluster.name}",
            value=value(P, {
                P.id: ref(f"aws_vpc_peering_connection.{name}.id"),
                P.requester_region: requester.region,
                P.accepter_region: accepter.region,
                P.status: ref(f"aws_vpc_peering_connection_accepter.{name}.accept_status"),
            }),
        )
    for region in transit_regions(ctx.env):
        name = naming.transit_gateway_name(region)
        doc.output(
            transit_gateway_output(name),
            description=f"transit gateway in {region}",
            value=value(T, {
                T.region: region,
                T.id: ref(f"aws_ec2_transit_gateway.{name}.id"),
                T.route_table_id: ref(f"aws_ec2_transit_gateway_route_table.{name}.id"),
            }),
        )
    return doc
