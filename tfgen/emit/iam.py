"""Per cluster: the IAM roles of the EKS control plane and of its nodes.

Policies are literal JSON and the attached policies are AWS managed ones, so
nothing needs the AWS API at plan time.
"""

from __future__ import annotations

import json

from .. import naming
from ..naming import ref
from .context import ClusterContext, EnvironmentContext
from .document import Document

__all__ = ["emit_iam", "cluster_role", "node_role", "CLUSTER_POLICIES", "NODE_POLICIES"]

_MANAGED = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES = {"eks_cluster": "AmazonEKSClusterPolicy"}
NODE_POLICIES = {
    "eks_worker": "AmazonEKSWorkerNodePolicy",
    "eks_cni": "AmazonEKS_CNI_Policy",
    "ecr_read": "AmazonEC2ContainerRegistryReadOnly",
}


def cluster_role(c: ClusterContext) -> str:
    return f"aws_iam_role.{c.key}_cluster"


def node_role(c: ClusterContext) -> str:
    return f"aws_iam_role.{c.key}_node"


def attachments(c: ClusterContext, role: str) -> list[str]:
    """Addresses of the policy attachments of a cluster's `role` ("cluster" or "node")."""
    policies = CLUSTER_POLICIES if role == "cluster" else NODE_POLICIES
    return [f"aws_iam_role_policy_attachment.{c.key}_{role}_{short}" for short in sorted(policies)]


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        },
        sort_keys=True,
    )


def emit_iam(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for c in ctx.clusters:
        for role, service, policies in (
            ("cluster", "eks.amazonaws.com", CLUSTER_POLICIES),
            ("node", "ec2.amazonaws.com", NODE_POLICIES),
        ):
            address = doc.resource(
                "aws_iam_role", f"{c.key}_{role}", region=c.region,
                name=naming.aws_name(c.eks_name, role),
                description=f"EKS {role} role of {c.eks_name}",
                assume_role_policy=_trust(service),
            )
            for short, policy in sorted(policies.items()):
                doc.resource(
                    "aws_iam_role_policy_attachment", f"{c.key}_{role}_{short}", region=c.region,
                    role=ref(f"{address}.name"),
                    policy_arn=_MANAGED + policy,
                )
    return doc
