"""CKV_TFGEN_8 / CKV_TFGEN_12: no secret-looking values in user data, tags or default_tags, nor in what the
GitOps bootstrap runs and reads (the SSM document's script, the registration data's S3 object).

What is a secret is decided by `tfgen.checks.secrets` (the detector `validate`'s
VAL110 uses): access key ids, private keys, GitHub and Slack tokens, literal
assignments to secret names, and tags whose key names a secret. `${...}`
references are not secrets (they point at a secret store or a generated value). Base64 user data
given literally is decoded first. checkov cannot read output blocks of
*.tf.json, so `tfgen check` scans outputs itself with the same patterns (TFGEN_9).

The spec's `tags:` become every provider's `default_tags`, which a resource
check never sees on *.tf.json: CKV_TFGEN_12 reads them on the provider block.
On a plan, where providers are resolved away, CKV_TFGEN_8 sees the same tags
in each resource's `tags_all`.
"""

import base64
import binascii

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import blocks, looks_secret, secret_tag, strings, value

USER_DATA = ("user_data", "user_data_base64")
# What a resource hands to a machine in clear: the bootstrap's script and its registration data.
CONTENT = {"aws_ssm_document": "content", "aws_s3_object": "content", "aws_s3_bucket_object": "content"}


def _secret_tags(tags) -> bool:
    """Whether a tags (or labels) block holds a secret, judged as `validate` judges the spec's tags."""
    return isinstance(tags, dict) and any(secret_tag(k, value(tags, k)) for k in tags if not str(k).startswith("__"))


def _decoded(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


class SecretsInUserDataOrTags(BaseResourceCheck):
    """CKV_TFGEN_8: user data and tags hold no credentials."""

    def __init__(self) -> None:
        super().__init__(
            name="No secret-looking values (keys, passwords, tokens) in user data, tags or the bootstrap's content",
            id="CKV_TFGEN_8",
            categories=[CheckCategories.SECRETS],
            supported_resources=["aws_*"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        texts = []
        holders = [conf] + blocks(conf, "launch_template_data")
        for holder in holders:
            for key in USER_DATA:
                for text in strings(holder.get(key)):
                    texts.extend([text, _decoded(text)])
        content = CONTENT.get(self.entity_type)
        texts += strings(conf.get(content)) if content else []
        tagged = any(_secret_tags(value(conf, key)) for key in ("tags", "tags_all", "labels"))
        if tagged or any(t and looks_secret(t) for t in texts):
            self.evaluated_keys = [k for k in (*USER_DATA, "tags", content) if k and k in conf]
            return CheckResult.FAILED
        return CheckResult.PASSED


class SecretsInDefaultTags(BaseProviderCheck):
    """CKV_TFGEN_12: the provider's default_tags hold no credentials."""

    def __init__(self) -> None:
        super().__init__(
            name="No secret-looking values (keys, passwords, tokens) in the provider's default_tags",
            id="CKV_TFGEN_12",
            categories=[CheckCategories.SECRETS],
            supported_provider=["aws"],
        )

    def scan_provider_conf(self, conf: dict) -> CheckResult:
        default_tags = value(conf, "default_tags") or {}
        tags = value(default_tags, "tags") if isinstance(default_tags, dict) else None
        if _secret_tags(tags):
            self.evaluated_keys = ["default_tags/[0]/tags"]
            return CheckResult.FAILED
        return CheckResult.PASSED


check = SecretsInUserDataOrTags()
provider_check = SecretsInDefaultTags()
