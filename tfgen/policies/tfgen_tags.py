"""CKV_TFGEN_1 / CKV_TFGEN_2: every resource carries Project, Environment and ManagedBy.

Terraform gives a resource its provider's `default_tags`, so the tags are
checked where they are set: every `aws` provider block must set all three in
`default_tags` (CKV_TFGEN_1), and a taggable resource must either name an
aliased provider (and so inherit them) or carry all three itself (CKV_TFGEN_2).
On a plan, CKV_TFGEN_2 reads `tags_all`, where Terraform has merged the
provider's default_tags: what the resource will really carry.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import REQUIRED_TAGS, pins_alias, value

# Resources that take no `tags` argument (AWS provider 3.x-6.x; checked against the 6.25 schema), so nothing to check.
UNTAGGABLE = {
    "aws_route", "aws_route_table_association", "aws_main_route_table_association",
    "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy_attachment",
    "aws_kms_alias", "aws_security_group_rule", "aws_network_acl_rule", "aws_eip_association",
    "aws_volume_attachment", "aws_vpc_endpoint_route_table_association", "aws_eks_addon_version",
    "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_lb_target_group_attachment",
    "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block", "aws_sns_topic_policy",
    "aws_cloudwatch_log_stream", "aws_iam_role_policy_attachment_exclusive", "aws_vpc_dhcp_options_association",
    "aws_vpc_ipv4_cidr_block_association", "aws_eks_identity_provider_config_association",
    "aws_ec2_transit_gateway_route", "aws_ec2_transit_gateway_route_table_association",
    "aws_ec2_transit_gateway_route_table_propagation", "aws_ec2_transit_gateway_prefix_list_reference",
    "aws_vpc_peering_connection_options",
    "aws_eks_access_policy_association", "aws_ebs_default_kms_key", "aws_ebs_encryption_by_default",
    "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_logging",
    "aws_s3_bucket_acl", "aws_s3_bucket_notification", "aws_s3_bucket_replication_configuration",
    "aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_role_policies_exclusive",
}

# Resources whose `tags` came after provider 3.39 (tfgen/providers/features.py: `<type>.tags`): the lowered
# 3.39 plan has neither `tags` nor `tags_all` for them, so there is nothing to read there; the JSON scan
# still sees their provider alias (and so their default_tags).
TAGS_AFTER_OFFLINE = {"aws_ssm_association"}


def _missing(tags) -> list[str]:
    tags = tags if isinstance(tags, dict) else {}
    return [key for key in REQUIRED_TAGS if not value(tags, key)]


class ProviderDefaultTags(BaseProviderCheck):
    """CKV_TFGEN_1: the provider's default_tags carry the three tags."""

    def __init__(self) -> None:
        super().__init__(
            name="AWS provider sets the Project, Environment and ManagedBy default_tags",
            id="CKV_TFGEN_1",
            categories=[CheckCategories.CONVENTION],
            supported_provider=["aws"],
        )

    def scan_provider_conf(self, conf: dict) -> CheckResult:
        default_tags = value(conf, "default_tags") or {}
        tags = value(default_tags, "tags") if isinstance(default_tags, dict) else None
        return CheckResult.FAILED if _missing(tags) else CheckResult.PASSED


class ResourceTags(BaseResourceCheck):
    """CKV_TFGEN_2: the resource gets the three tags from its provider or its own tags."""

    def __init__(self) -> None:
        super().__init__(
            name="Resource carries Project, Environment and ManagedBy (its own tags or its provider's default_tags)",
            id="CKV_TFGEN_2",
            categories=[CheckCategories.CONVENTION],
            supported_resources=["aws_*"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        if self.entity_type in UNTAGGABLE:
            return CheckResult.UNKNOWN
        if pins_alias(conf):
            return CheckResult.PASSED  # inherits default_tags; CKV_TFGEN_1 checks the provider
        if self.entity_type in TAGS_AFTER_OFFLINE and "tags" not in conf and "tags_all" not in conf:
            return CheckResult.UNKNOWN
        self.evaluated_keys = ["tags", "tags_all"]
        # A plan resolves default_tags into tags_all, so a plan shows the tags the resource really gets.
        if not _missing(value(conf, "tags_all")):
            return CheckResult.PASSED
        return CheckResult.FAILED if _missing(value(conf, "tags")) else CheckResult.PASSED


check_provider = ProviderDefaultTags()
check_resource = ResourceTags()
