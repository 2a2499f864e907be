"""Per cluster: the IAM roles of the EKS control plane and of its nodes.

Policies are literal JSON and the attached policies are AWS managed ones, so
nothing needs the AWS API at plan time.
"""

from __future__ import annotations

import json

from ..derive import naming
from ..derive.iam import (ASSUME_ROLE, ASSUME_ROLE_WITH_WEB_IDENTITY, EC2_SERVICE, EKS_SERVICE, FLOW_LOGS_SERVICE,
                          POD_IDENTITY_SERVICE, SESSION_ACTIONS, STS_AUDIENCE, managed_policy_arn)
from ..model import IRSA
from ..derive.naming import ref
from ..derive.context import ClusterContext, EnvironmentContext
from .document import Document

__all__ = [
    "emit_iam",
    "cluster_role",
    "node_role",
    "flow_log_role",
    "cluster_key_policy",
    "policy_json",
    "key_policy",
    "CLUSTER_POLICIES",
    "NODE_POLICIES",
    "workload_trust",
    "oidc_provider",
    "oidc_issuer_local",
]

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


def cluster_key_policy(c: ClusterContext) -> str:
    """Address of the cluster role's policy that lets it use the secrets key."""
    return f"aws_iam_role_policy.{c.key}_cluster_kms"


def flow_log_role(c: ClusterContext) -> str:
    return f"aws_iam_role.{c.key}_flow_logs"


def policy_json(*statements: dict) -> str:
    """A literal IAM/KMS policy document, with stable key order."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def key_policy(account: str, *statements: dict) -> str:
    """A KMS key policy: the account administers the key through IAM, plus `statements`."""
    root = {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return policy_json(root, *statements)


def _trust(service: str, account: str | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": ASSUME_ROLE}
    if account:
        # Confused-deputy guard: the service may assume the role only on this account's behalf.
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return policy_json(statement)


def oidc_provider(c: ClusterContext) -> str:
    """Address of a cluster's IAM OIDC provider (IRSA only)."""
    return f"aws_iam_openid_connect_provider.{c.key}"


def oidc_issuer_local(c: ClusterContext) -> str:
    """The `local` holding a cluster's OIDC issuer without `https://`, as IAM condition keys spell it."""
    return f"{c.key}_oidc_issuer"


def workload_trust(ctx: EnvironmentContext, c: ClusterContext, accounts: list[str]) -> str:
    """Trust for Kubernetes service accounts (`namespace/name`) of cluster `c`: EKS Pod Identity
    (session tags pin the cluster, namespaces and accounts) or IRSA (the cluster's OIDC provider)."""
    if ctx.env.identity == IRSA:
        issuer = "${local." + oidc_issuer_local(c) + "}"
        return policy_json({
            "Sid": "ServiceAccountsOfTheCluster",
            "Effect": "Allow",
            "Principal": {"Federated": ref(f"{oidc_provider(c)}.arn")},
            "Action": ASSUME_ROLE_WITH_WEB_IDENTITY,
            "Condition": {"StringEquals": {
                f"{issuer}:aud": STS_AUDIENCE,
                f"{issuer}:sub": [f"system:serviceaccount:{a.replace('/', ':')}" for a in accounts],
            }},
        })
    return policy_json({
        "Sid": "PodIdentityOfTheServiceAccounts",
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_SERVICE},
        "Action": list(SESSION_ACTIONS),
        "Condition": {"StringEquals": {
            "aws:SourceAccount": ctx.env.account,
            "aws:RequestTag/eks-cluster-name": c.eks_name,
            "aws:RequestTag/kubernetes-namespace": sorted({a.split("/")[0] for a in accounts}),
            "aws:RequestTag/kubernetes-service-account": sorted({a.split("/")[1] for a in accounts}),
        }},
    })


def emit_iam(ctx: EnvironmentContext) -> Document:
    doc = Document()
    if ctx.env.identity == IRSA:
        for c in ctx.clusters:
            doc.resource("aws_iam_openid_connect_provider", c.key, region=c.region,
                         url=ref(f"aws_eks_cluster.{c.key}.identity[0].oidc[0].issuer"),
                         client_id_list=[STS_AUDIENCE])
            doc.local(oidc_issuer_local(c),
                      '${replace(aws_eks_cluster.' + c.key + '.identity[0].oidc[0].issuer, "https://", "")}')
    for c in ctx.clusters:
        for role, role_name, service, policies in (
            ("cluster", naming.cluster_role_name, EKS_SERVICE, CLUSTER_POLICIES),
            ("node", naming.node_role_name, EC2_SERVICE, NODE_POLICIES),
        ):
            address = doc.resource(
                "aws_iam_role", f"{c.key}_{role}", region=c.region,
                name=role_name(c.eks_name),
                description=f"EKS {role} role of {c.eks_name}",
                assume_role_policy=_trust(service),
            )
            for short, policy in sorted(policies.items()):
                doc.resource(
                    "aws_iam_role_policy_attachment", f"{c.key}_{role}_{short}", region=c.region,
                    role=ref(f"{address}.name"),
                    policy_arn=managed_policy_arn(policy),
                )
        doc.resource(
            "aws_iam_role_policy", cluster_key_policy(c).split(".", 1)[1], region=c.region,
            name="eks-secrets-encryption",
            role=ref(f"{cluster_role(c)}.name"),
            policy=policy_json({
                "Sid": "EncryptSecretsWithTheClusterKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
                "Resource": ref(f"aws_kms_key.{c.key}_eks.arn"),
            }),
        )
        _emit_flow_log_role(doc, ctx, c)
    return doc


def _emit_flow_log_role(doc: Document, ctx: EnvironmentContext, c: ClusterContext) -> None:
    account = ctx.env.account
    address = doc.resource(
        "aws_iam_role", f"{c.key}_flow_logs", region=c.region,
        name=naming.flow_log_role_name(c.eks_name),
        description=f"VPC flow log delivery of {c.eks_name}",
        assume_role_policy=_trust(FLOW_LOGS_SERVICE, account),
    )
    group = naming.arn("logs", c.region, account, f"log-group:{naming.flow_log_group(c.eks_name)}")
    doc.resource(
        "aws_iam_role_policy", f"{c.key}_flow_logs", region=c.region,
        name="deliver-flow-logs",
        role=ref(f"{address}.name"),
        policy=policy_json(
            {
                "Sid": "DeliverToTheFlowLogGroupOnly",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": [f"{group}:*", f"{group}:log-stream:*"],
            },
            {
                # DescribeLogGroups lists groups, so it authorises on the account's groups, not on one.
                "Sid": "FindTheFlowLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": naming.arn("logs", c.region, account, "log-group:*"),
            },
        ),
    )
