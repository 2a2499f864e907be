"""The bootstrap root `_state/`: the S3 bucket (and DynamoDB lock table) the
environments keep their state in, created once, with local state.

The bucket is versioned (a bad apply's state can be restored), encrypted by
default with its own KMS key (state holds secrets; the key's use is logged
and its policy is the account's IAM), blocks every form of public access,
refuses plain HTTP, keeps old versions 90 days, and cannot be destroyed by
Terraform. With S3-native locking (Terraform 1.10+, the default) the lock is
an object beside the state; a spec with `lock_table` gets that DynamoDB table
here too, encrypted and with point-in-time recovery.
"""

from __future__ import annotations

from ..derive import naming
from ..derive.tags import standard_tags
from ..model import Fleet
from ..providers import TERRAFORM_DEFAULT
from ..derive.naming import ref
from .buckets import emit_secure_bucket
from .document import Document

__all__ = ["STATE_ROOT", "emit_state_root"]

STATE_ROOT = "_state"
# The Environment tag of what no one environment owns.
SHARED = "shared"
NONCURRENT_DAYS = 90


def emit_state_root(fleet: Fleet) -> dict[str, dict]:
    """The documents of the bootstrap root, or none when state is local."""
    state = fleet.state
    if state.backend != "s3" or not state.bucket or not state.region:
        return {}
    region = state.region
    tags = {**standard_tags(fleet.tags, fleet.project, SHARED), "Purpose": "terraform-state"}

    terraform = Document()
    terraform.terraform(
        required_version=TERRAFORM_DEFAULT,
        required_providers={"aws": {"source": "hashicorp/aws", "version": fleet.aws_provider}},
    )
    providers = Document()
    providers.provider("aws", alias=naming.alias(region), region=region, default_tags={"tags": tags})

    doc = Document()
    stem = "state"
    key = doc.resource("aws_kms_key", stem, region=region,
                       description=f"Encrypts the Terraform state of {fleet.project}",
                       enable_key_rotation=True, deletion_window_in_days=30)
    doc.resource("aws_kms_alias", stem, region=region, name=naming.state_kms_alias(state.bucket), target_key_id=ref(f"{key}.key_id"))
    bucket = emit_secure_bucket(
        doc, stem, region=region, bucket=state.bucket, key_arn=ref(f"{key}.arn"),
        lifecycle={"prevent_destroy": True},
        rules=[{"id": "old-state-versions", "status": "Enabled", "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_DAYS},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}])
    outputs = Document()
    outputs.output("state_bucket", description="S3 bucket of the environments' Terraform state",
                   value={"bucket": ref(f"{bucket}.id"), "arn": ref(f"{bucket}.arn"), "region": region,
                          "kms_key_arn": ref(f"{key}.arn")})
    if state.lock_table:
        table = doc.resource(
            "aws_dynamodb_table", stem, region=region, name=state.lock_table,
            billing_mode="PAY_PER_REQUEST", hash_key="LockID",
            attribute=[{"name": "LockID", "type": "S"}],
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": ref(f"{key}.arn")},
            lifecycle={"prevent_destroy": True},
        )
        outputs.output("lock_table", description="DynamoDB table that locks the environments' state",
                       value=ref(f"{table}.name"))
    return {"terraform.tf.json": terraform.as_dict(), "providers.tf.json": providers.as_dict(),
            "state.tf.json": doc.as_dict(), "outputs.tf.json": outputs.as_dict()}
