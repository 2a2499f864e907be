"""EKS's managed Argo CD on the hub (`gitops.argocd: managed`): the capability and its role.

`aws_eks_capability` of type ARGOCD (provider 6.25.0) signs people in through
IAM Identity Center (the spec's `identity_center`; its `admins` groups get
Argo CD's ADMIN role) and acts as a role trusted by
`capabilities.eks.amazonaws.com` (`sts:AssumeRole`, `sts:TagSession`, for this
account only). EKS gives that role its own access entry on the hub
(AmazonEKSArgoCDPolicy and AmazonEKSArgoCDClusterPolicy); another entry for
it would collide, so the hub gets one more policy association on EKS's
entry: AmazonEKSAdminPolicy in the GitOps namespace, where the root
Application creates Applications and ApplicationSets. The edges' entries for
the role are in `emit/access.py`. With a private GitOps repository the role may
read its credential's secret: the capability reads it itself (EKS user guide,
"Configure repository access", the `secretArn` of a repository Secret). The capability is RETAINed on delete (the
only policy the API takes): deleting it leaves what it deployed running.
"""

from __future__ import annotations

from ..derive import naming
from ..derive.context import EnvironmentContext
from ..derive.gitops_path import edges_of, managed_argocd
from ..derive.iam import CAPABILITY_SERVICE, SESSION_ACTIONS, access_policy_arn
from ..derive.naming import ref
from .document import Document
from .iam import policy_json

__all__ = ["emit_capability", "capability_role", "capability", "secret_statements", "HUB_POLICY"]

# What the capability role gets on the hub besides EKS's own policies, in the GitOps namespace only.
HUB_POLICY = "AmazonEKSAdminPolicy"


def capability_role(ctx: EnvironmentContext) -> str:
    return f"aws_iam_role.{ctx.hub.key}_argocd_capability"


def capability(ctx: EnvironmentContext) -> str:
    return f"aws_eks_capability.{ctx.hub.key}_argocd"


def secret_statements(secret_arn: str, kms_key_arn: str | None) -> list[dict]:
    """IAM statements reading exactly one Secrets Manager secret, and decrypting it with its customer-managed
    key through Secrets Manager only (`aws/secretsmanager` needs no statement)."""
    statements = [{"Sid": "ReadTheGitOpsRepositoryCredential", "Effect": "Allow",
                   "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                   "Resource": secret_arn}]
    if kms_key_arn:
        region = secret_arn.split(":")[3]
        statements.append({"Sid": "DecryptTheGitOpsRepositoryCredential", "Effect": "Allow",
                           "Action": "kms:Decrypt", "Resource": kms_key_arn,
                           "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}})
    return statements


def emit_capability(ctx: EnvironmentContext) -> Document:
    doc = Document()
    env = ctx.env
    if not managed_argocd(env) or not edges_of(env) or env.gitops.identity_center is None:
        return doc
    hub, gitops, center = ctx.hub, env.gitops, env.gitops.identity_center
    role = doc.resource(
        "aws_iam_role", capability_role(ctx).split(".", 1)[1], region=hub.region,
        name=naming.capability_role_name(hub.eks_name),
        description=f"EKS's Argo CD capability on {hub.eks_name}: deploys to the edges through their access entries",
        assume_role_policy=policy_json({
            "Sid": "EksCapabilities",
            "Effect": "Allow",
            "Principal": {"Service": CAPABILITY_SERVICE},
            "Action": list(SESSION_ACTIONS),
            "Condition": {"StringEquals": {"aws:SourceAccount": env.account}},
        }),
    )
    address = doc.resource(
        "aws_eks_capability", capability(ctx).split(".", 1)[1], region=hub.region,
        capability_name=naming.CAPABILITY_NAME,
        cluster_name=ref(f"aws_eks_cluster.{hub.key}.name"),
        type="ARGOCD",
        role_arn=ref(f"{role}.arn"),
        delete_propagation_policy="RETAIN",
        configuration={"argo_cd": {
            "namespace": gitops.namespace,
            "aws_idc": {"idc_instance_arn": center.instance_arn, "idc_region": center.region},
            "rbac_role_mapping": [{"role": "ADMIN",
                                   "identity": [{"id": group, "type": "SSO_GROUP"} for group in center.admins]}],
        }},
    )
    repo = gitops.repo
    if repo is not None and repo.secret_arn:  # the capability reads the repository's credential itself
        doc.resource("aws_iam_role_policy", f"{hub.key}_argocd_capability_repository", region=hub.region,
                     name="read-gitops-repository-credential", role=ref(f"{role}.name"),
                     policy=policy_json(*secret_statements(repo.secret_arn, repo.kms_key_arn)))
    doc.resource(
        "aws_eks_access_policy_association", f"{hub.key}_argocd_capability", region=hub.region,
        cluster_name=ref(f"aws_eks_cluster.{hub.key}.name"),
        principal_arn=ref(f"{role}.arn"),
        policy_arn=access_policy_arn(HUB_POLICY),
        access_scope={"type": "namespace", "namespaces": [gitops.namespace]},
        depends_on=[address],  # on the entry EKS makes with the capability
    )
    return doc
