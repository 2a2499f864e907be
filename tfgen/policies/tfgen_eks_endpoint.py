"""CKV_TFGEN_5: the EKS API endpoint is private.

`endpoint_public_access` defaults to true in every AWS provider, so it must be
set to false explicitly, with `endpoint_private_access` true.

This is also the rule for the GitOps hub path: an edge's API security group
admits the hub VPC's CIDR (and the hub's admits the bastion), which is safe
only while the endpoint is private. CKV_TFGEN_5 refuses every public endpoint,
so it covers the clusters on that path without a rule of its own (fixture
`public_endpoint_on_the_hub_path`).
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import blocks, value


class EksEndpointPrivate(BaseResourceCheck):
    """CKV_TFGEN_5: the EKS API is reachable from the VPC only."""

    def __init__(self) -> None:
        super().__init__(
            name="EKS API endpoint is private (endpoint_public_access = false, endpoint_private_access = true)",
            id="CKV_TFGEN_5",
            categories=[CheckCategories.KUBERNETES],
            supported_resources=["aws_eks_cluster"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        self.evaluated_keys = ["vpc_config/[0]/endpoint_public_access", "vpc_config/[0]/endpoint_private_access"]
        configs = blocks(conf, "vpc_config")
        if not configs:
            return CheckResult.FAILED
        for vpc_config in configs:
            if value(vpc_config, "endpoint_public_access") is not False:
                return CheckResult.FAILED
            if value(vpc_config, "endpoint_private_access") is not True:
                return CheckResult.FAILED
        return CheckResult.PASSED


check = EksEndpointPrivate()
