"""The AWS-managed policies tfgen attaches, by ARN: IAM managed policies and EKS access policies.

AWS owns these names; tfgen writes each ARN here once, and the emitters (which attach
them) and the sandbox (which checks they are attached) import it.
"""

from __future__ import annotations

__all__ = ["managed_policy_arn", "access_policy_arn", "EBS_CSI_POLICY", "SSM_CORE"]

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
