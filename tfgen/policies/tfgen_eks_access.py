"""CKV_TFGEN_15: EKS access entries never grant cluster admin to a wildcard principal.

An `aws_eks_access_entry` whose `principal_arn` holds `*` fails, and so does an
`aws_eks_access_policy_association` of AmazonEKSClusterAdminPolicy whose
`principal_arn` holds `*`: a pattern for a principal would give every role or
user it matches (in any account, for `arn:aws:iam::*:...`) the whole cluster.
A reference (`${aws_iam_role.x.arn}`) is not a wildcard.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import literal_text, value

CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"


def _wildcard(arn) -> bool:
    """Whether an ARN is a pattern (a `*` outside `${...}` references)."""
    return "*" in literal_text(arn)


class EksAccessNoWildcardAdmin(BaseResourceCheck):
    """CKV_TFGEN_15: no access entry or cluster-admin association for a wildcard principal."""

    def __init__(self) -> None:
        super().__init__(
            name="EKS access entry or cluster-admin policy association names no wildcard (*) principal",
            id="CKV_TFGEN_15",
            categories=[CheckCategories.KUBERNETES],
            supported_resources=["aws_eks_access_entry", "aws_eks_access_policy_association"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        self.evaluated_keys = ["principal_arn", "policy_arn"]
        principal = value(conf, "principal_arn")
        if self.entity_type == "aws_eks_access_policy_association":
            policy = value(conf, "policy_arn")
            if not (isinstance(policy, str) and policy.endswith(f"/{CLUSTER_ADMIN}")):
                return CheckResult.PASSED
        return CheckResult.FAILED if _wildcard(principal) else CheckResult.PASSED


check = EksAccessNoWildcardAdmin()
