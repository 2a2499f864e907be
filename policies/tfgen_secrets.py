"""CKV_TFGEN_8: no secret-looking values in user data or tags.

Looks for AWS access key ids, private keys, and assignments of passwords,
secrets, tokens and API keys to literal values. `${...}` references are not
secrets (they point at a secret store or a generated value). Base64 user data
given literally is decoded first. checkov cannot read output blocks of
*.tf.json, so `tfgen check` scans outputs itself with the same patterns (TFGEN_9).
"""

import base64
import binascii

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import blocks, looks_secret, strings, value

USER_DATA = ("user_data", "user_data_base64")


def _decoded(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


class SecretsInUserDataOrTags(BaseResourceCheck):
    """CKV_TFGEN_8: user data and tags hold no credentials."""

    def __init__(self) -> None:
        super().__init__(
            name="No secret-looking values (keys, passwords, tokens) in user data or tags",
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
        for key in ("tags", "tags_all", "labels"):
            tags = value(conf, key)
            if isinstance(tags, dict):
                texts.extend(f"{k}={v}" for k, v in tags.items() if not str(k).startswith("__"))
        found = [t for t in texts if t and looks_secret(t)]
        if found:
            self.evaluated_keys = [k for k in (*USER_DATA, "tags") if k in conf]
            return CheckResult.FAILED
        return CheckResult.PASSED


check = SecretsInUserDataOrTags()
