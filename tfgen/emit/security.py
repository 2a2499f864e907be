"""Per cluster: the security group of its control plane, and who may reach its API.

tfgen owns this group and puts it in `vpc_config.security_group_ids`, so it
sits on the control-plane ENIs only; the EKS cluster security group would
also open every node to the same sources. Edges admit TCP 443 from the hub
VPC's CIDR (security groups cannot be referenced across regions, and the
hub's pods leave SNATed to their node's hub address); the hub admits the
bastion's security group. Nothing else: no egress rule (replies are stateful).
"""

from __future__ import annotations

from ..derive.gitops_path import HTTPS, api_sources
from ..derive import naming
from ..derive.naming import ref
from ..derive.context import ClusterContext, EnvironmentContext
from .document import Document

__all__ = ["emit_security", "api_security_group", "bastion_security_group"]


def api_security_group(c: ClusterContext) -> str:
    """Address of the security group on a cluster's control-plane ENIs."""
    return f"aws_security_group.{c.key}_api"


def bastion_security_group(ctx: EnvironmentContext) -> str:
    return f"aws_security_group.{ctx.hub.key}_bastion"


def emit_security(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for c in ctx.clusters:
        group = doc.resource(
            "aws_security_group", f"{c.key}_api", region=c.region,
            name=naming.security_group_name(c.eks_name, "api"),
            description=f"EKS control plane of {c.eks_name}: HTTPS from the GitOps hub and the bastion only",
            vpc_id=ref(f"{c.vpc}.id"),
            tags={"Name": naming.security_group_name(c.eks_name, "api")},
        )
        region = ctx.env.regions[c.region]
        for kind, why in api_sources(ctx.env, region, c.cluster):
            source = ({"cidr_ipv4": ctx.hub.layout.cidr} if kind == "hub-cidr"
                      else {"referenced_security_group_id": ref(f"{bastion_security_group(ctx)}.id")})
            doc.resource(
                "aws_vpc_security_group_ingress_rule", f"{c.key}_api__{kind.replace('-', '_')}", region=c.region,
                security_group_id=ref(f"{group}.id"),
                description=f"Kubernetes API (HTTPS) for {why}",
                ip_protocol="tcp", from_port=HTTPS, to_port=HTTPS,
                **source,
            )
    return doc
