"""CKV_TFGEN_11: IAM policies grant no wildcard actions on every resource.

checkov's own IAM checks (CKV_AWS_286-290, 355) give no result on `*.tf.json`,
where a policy is always a JSON string, so tfgen reads the string itself. A
statement that allows `*`, `<service>:*` or a `NotAction` on `Resource: "*"`
fails. KMS key policies are left out: there `Resource: "*"` means the key itself.
A policy that is a reference (`${...json}`) cannot be read here; scan the plan.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import policy_statements


def _too_broad(statement) -> bool:
    if statement.effect != "Allow" or "*" not in statement.resources:
        return False
    if statement.not_actions is not None:
        return True
    return any(isinstance(a, str) and (a == "*" or a.endswith(":*")) for a in statement.actions)


class IamWildcards(BaseResourceCheck):
    """CKV_TFGEN_11: no wildcard actions on every resource."""

    def __init__(self) -> None:
        super().__init__(
            name="IAM policy allows no wildcard action (*, service:*, NotAction) on every resource",
            id="CKV_TFGEN_11",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
                                 "aws_iam_group_policy"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        self.evaluated_keys = ["policy"]
        statements = policy_statements(conf)
        if statements is None:
            return CheckResult.UNKNOWN
        return CheckResult.FAILED if any(_too_broad(s) for s in statements) else CheckResult.PASSED


check = IamWildcards()
