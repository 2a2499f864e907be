"""CKV_TFGEN_3: every resource and data source pins an explicit `aws.<alias>` provider.

A multi-region root has no default provider: a block without `provider`
would land in whatever region the unaliased provider (or the environment)
happens to use.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import pins_alias

NAME = "Resource names an explicit aws provider alias (provider = aws.<alias>)"


def _pinned(conf: dict) -> CheckResult:
    return CheckResult.PASSED if pins_alias(conf) else CheckResult.FAILED


class ResourceProviderAlias(BaseResourceCheck):
    """CKV_TFGEN_3 on resources."""

    def __init__(self) -> None:
        super().__init__(name=NAME, id="CKV_TFGEN_3", categories=[CheckCategories.CONVENTION],
                         supported_resources=["aws_*"])

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        self.evaluated_keys = ["provider"]
        return _pinned(conf)


class DataProviderAlias(BaseDataCheck):
    """CKV_TFGEN_3 on data sources."""

    def __init__(self) -> None:
        super().__init__(name=NAME, id="CKV_TFGEN_3", categories=[CheckCategories.CONVENTION],
                         supported_data=["aws_*"])

    def scan_data_conf(self, conf: dict) -> CheckResult:
        return _pinned(conf)


check_resource = ResourceProviderAlias()
check_data = DataProviderAlias()
