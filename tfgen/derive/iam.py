"""AWS's IAM vocabulary as tfgen writes it: managed and access policy ARNs, service principals, trust actions.

AWS owns these names; tfgen writes each here once, and the emitters (which put
them in policies), the rules on emitted documents and the sandbox (which check
them) import it.
"""

from __future__ import annotations

__all__ = [
    "managed_policy_arn",
    "access_policy_arn",
    "EBS_CSI_POLICY",
    "SSM_CORE",
    "EKS_SERVICE",
    "EC2_SERVICE",
    "POD_IDENTITY_SERVICE",
    "CAPABILITY_SERVICE",
    "FLOW_LOGS_SERVICE",
    "logs_service",
    "ec2_endpoint",
    "STS_AUDIENCE",
    "ASSUME_ROLE",
    "TAG_SESSION",
    "ASSUME_ROLE_WITH_WEB_IDENTITY",
    "SESSION_ACTIONS",
]

_MANAGED = "arn:aws:iam::aws:policy/"
_ACCESS = "arn:aws:eks::aws:cluster-access-policy/"


def managed_policy_arn(name: str) -> str:
    """An AWS managed IAM policy: `AmazonEKSClusterPolicy` -> `arn:aws:iam::aws:policy/AmazonEKSClusterPolicy`."""
    return _MANAGED + name


def access_policy_arn(name: str) -> str:
    """An EKS access policy: `AmazonEKSClusterAdminPolicy` -> `arn:aws:eks::aws:cluster-access-policy/...`."""
    return _ACCESS + name


EBS_CSI_POLICY = managed_policy_arn("service-role/AmazonEBSCSIDriverPolicy")
SSM_CORE = managed_policy_arn("AmazonSSMManagedInstanceCore")

# Service principals: who a role's trust lets in (`"Principal": {"Service": ...}`).
EKS_SERVICE = "eks.amazonaws.com"  # an EKS control plane
EC2_SERVICE = "ec2.amazonaws.com"  # an instance: nodes, the bastion
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"  # EKS Pod Identity, for a service account
CAPABILITY_SERVICE = "capabilities.eks.amazonaws.com"  # an EKS capability (managed Argo CD)
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"  # VPC flow log delivery


def logs_service(region: str) -> str:
    """CloudWatch Logs of `region`, the principal a log group's KMS key lets encrypt."""
    return f"logs.{region}.amazonaws.com"


def ec2_endpoint(region: str) -> str:
    """EC2 of `region` as `kms:ViaService` names it: a KMS key used only through EC2 (EBS volumes)."""
    return f"ec2.{region}.amazonaws.com"


# The audience an IAM OIDC provider admits (IRSA tokens are issued for STS).
STS_AUDIENCE = "sts.amazonaws.com"

# Trust actions.
ASSUME_ROLE = "sts:AssumeRole"
TAG_SESSION = "sts:TagSession"
ASSUME_ROLE_WITH_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
# What a trust grants when the caller passes session tags (Pod Identity, the capability, role chaining).
SESSION_ACTIONS = (ASSUME_ROLE, TAG_SESSION)
