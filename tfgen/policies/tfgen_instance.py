"""CKV_TFGEN_13: an EC2 instance needs IMDSv2, no public address and no key pair.

tfgen's one instance is the hub's bastion, reached through Session Manager
only: `metadata_options.http_tokens = "required"` (IMDSv2; IMDSv1 lets a
server-side request forgery read the role's credentials), no
`associate_public_ip_address = true` and no `key_name` (no SSH). The check
reads the instance itself: settings it takes from a launch template are not
seen here (CKV_AWS_79 checks the template). Its security groups' ingress is
TFGEN_14 (policies/tfgen_module_rules.py), which needs the whole root.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import blocks, value


class InstanceHardened(BaseResourceCheck):
    """CKV_TFGEN_13: IMDSv2 required, no public IP, no key pair."""

    def __init__(self) -> None:
        super().__init__(
            name="EC2 instance requires IMDSv2 (http_tokens = required), has no public IP and no key pair",
            id="CKV_TFGEN_13",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_instance"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        self.evaluated_keys = ["metadata_options/[0]/http_tokens", "associate_public_ip_address", "key_name"]
        options = blocks(conf, "metadata_options")
        if not options or any(value(o, "http_tokens") != "required" for o in options):
            return CheckResult.FAILED
        if value(conf, "associate_public_ip_address") is True:
            return CheckResult.FAILED
        if value(conf, "key_name") not in (None, ""):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = InstanceHardened()
