"""A private S3 bucket the way tfgen makes every bucket: the state bucket and the bootstrap's output bucket.

Encrypted by default with the caller's KMS key (bucket keys on), versioned,
every form of public access blocked, ACLs off (BucketOwnerEnforced), plain
HTTP refused by the bucket policy, and lifecycle rules the caller gives.
"""

from __future__ import annotations

import json

from ..derive.naming import ref
from .document import Document

__all__ = ["emit_secure_bucket"]


def emit_secure_bucket(doc: Document, stem: str, *, region: str, bucket: str, key_arn: str, rules: list[dict],
                       **settings) -> str:
    """Add the bucket `bucket` (resource `aws_s3_bucket.<stem>`) and its settings; return its address.
    `settings` go on the bucket itself (`lifecycle`, `force_destroy`)."""
    address = doc.resource("aws_s3_bucket", stem, region=region, bucket=bucket, **settings)
    on = ref(f"{address}.id")
    doc.resource("aws_s3_bucket_versioning", stem, region=region, bucket=on,
                 versioning_configuration={"status": "Enabled"})
    doc.resource("aws_s3_bucket_server_side_encryption_configuration", stem, region=region, bucket=on,
                 rule={"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                   "kms_master_key_id": key_arn},
                       "bucket_key_enabled": True})
    doc.resource("aws_s3_bucket_public_access_block", stem, region=region, bucket=on,
                 block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
                 restrict_public_buckets=True)
    doc.resource("aws_s3_bucket_ownership_controls", stem, region=region, bucket=on,
                 rule={"object_ownership": "BucketOwnerEnforced"})
    doc.resource("aws_s3_bucket_lifecycle_configuration", stem, region=region, bucket=on, rule=rules)
    doc.resource("aws_s3_bucket_policy", stem, region=region, bucket=on,
                 policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                     "Sid": "RefusePlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [ref(f"{address}.arn"), ref(f"{address}.arn") + "/*"],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}, sort_keys=True),
                 depends_on=[f"aws_s3_bucket_public_access_block.{stem}"])
    return address
