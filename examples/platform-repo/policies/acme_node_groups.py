"""CKV_ACME_1: every EKS node group keeps at least two nodes, so one node lost never stops a cluster's workloads."""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _unwrapped(value):
    # checkov's terraform_json parser wraps each value (and each block) in a one-element list
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


class NodeGroupKeepsTwoNodes(BaseResourceCheck):
    """CKV_ACME_1: scaling_config.min_size is 2 or more."""

    def __init__(self) -> None:
        super().__init__(
            name="EKS node groups keep at least two nodes (scaling_config.min_size >= 2)",
            id="CKV_ACME_1",
            categories=[CheckCategories.KUBERNETES],
            supported_resources=["aws_eks_node_group"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        self.evaluated_keys = ["scaling_config/[0]/min_size"]
        scaling = _unwrapped(conf.get("scaling_config"))
        minimum = _unwrapped(scaling.get("min_size")) if isinstance(scaling, dict) else None
        return CheckResult.PASSED if isinstance(minimum, int) and minimum >= 2 else CheckResult.FAILED


check = NodeGroupKeepsTwoNodes()
