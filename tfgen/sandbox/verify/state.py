"""The state root `_state`, checked through the S3, KMS and DynamoDB APIs: the bucket the environments keep
their state in (versioned, SSE-KMS with the state key, public access blocked, bucket-owner-enforced
ownership, plain HTTP refused, old versions expired) and the lock table when the spec has one; after
destroy, that none of it is left.

A setting the applied copy left out (`left_out`: addresses lowering removed, e.g. the ownership
controls provider 3.39 cannot express) is not checked here: the report lists it with the lowering.
"""

from __future__ import annotations

from typing import Callable

from ...derive.naming import state_kms_alias
from ...emit.state import NONCURRENT_DAYS
from ...model.fleet import StateBackend
from .lookup import Check, policy_document

__all__ = ["OWNERSHIP", "check_state_backend", "check_state_gone"]

OWNERSHIP = "aws_s3_bucket_ownership_controls.state"
_KIND = "state bucket"


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _read(call, *missing: str):
    """The answer of `call()`, or None when the API says it does not exist (one of `missing`)."""
    try:
        return call()
    except Exception as exc:  # botocore's ClientError; anything else goes on up
        if _error_code(exc) in missing:
            return None
        raise


def check_state_backend(state: StateBackend, client: Callable[[str, str], object], *,
                        left_out: set[str] = frozenset()) -> list[Check]:
    """Every setting of the state bucket (and lock table) as the API reports it."""
    s3, kms = client("s3", state.region), client("kms", state.region)
    bucket = state.bucket
    checks = []

    def check(subject: str, ok: bool, detail: str, kind: str = _KIND) -> None:
        checks.append(Check(kind, f"{bucket} {subject}" if kind == _KIND else subject, ok, detail))

    if _read(lambda: s3.head_bucket(Bucket=bucket), "404", "NoSuchBucket") is None:
        check("exists", False, f"no bucket {bucket} in {state.region}")
        return checks
    key = _read(lambda: kms.describe_key(KeyId=state_kms_alias(bucket))["KeyMetadata"], "NotFoundException")
    key_arn = key["Arn"] if key else None
    check("key", key is not None and key.get("KeyState") == "Enabled",
          f"{state_kms_alias(bucket)} -> {key_arn} ({key.get('KeyState') if key else 'no such alias'})")

    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    check("versioning", versioning == "Enabled", f"status {versioning or 'never enabled'}")

    rules = (_read(lambda: s3.get_bucket_encryption(Bucket=bucket), "ServerSideEncryptionConfigurationNotFoundError")
             or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    check("default encryption",
          default.get("SSEAlgorithm") == "aws:kms" and key_arn is not None
          and default.get("KMSMasterKeyID") in (key_arn, key["KeyId"]),
          f"{default.get('SSEAlgorithm', 'none')} with {default.get('KMSMasterKeyID', 'no key')} "
          f"(the state key: {key_arn})")

    block = (_read(lambda: s3.get_public_access_block(Bucket=bucket), "NoSuchPublicAccessBlockConfiguration")
             or {}).get("PublicAccessBlockConfiguration", {})
    settings = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    check("public access block", all(block.get(s) is True for s in settings),
          ", ".join(f"{s} {block.get(s, False)}" for s in settings))

    if OWNERSHIP not in left_out:
        controls = (_read(lambda: s3.get_bucket_ownership_controls(Bucket=bucket), "OwnershipControlsNotFoundError")
                    or {}).get("OwnershipControls", {}).get("Rules", [])
        owned = [r.get("ObjectOwnership") for r in controls]
        check("ownership", owned == ["BucketOwnerEnforced"], f"object ownership {owned or 'not set'}")

    policy = _read(lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"], "NoSuchBucketPolicy")
    statements = policy_document(policy).get("Statement", []) if policy else []
    refuses_http = any(
        s.get("Effect") == "Deny" and s.get("Principal") in ("*", {"AWS": "*"})
        and "s3:*" in ([s["Action"]] if isinstance(s.get("Action"), str) else s.get("Action", []))
        and str(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"
        and {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"} <= set(
            [s["Resource"]] if isinstance(s.get("Resource"), str) else s.get("Resource", []))
        for s in statements)
    check("TLS only", refuses_http, "a Deny of s3:* without aws:SecureTransport on the bucket and its objects"
          if refuses_http else f"no such statement in {policy or 'no bucket policy'}")

    lifecycle = (_read(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket),
                       "NoSuchLifecycleConfiguration") or {}).get("Rules", [])
    expiring = [r for r in lifecycle if r.get("Status") == "Enabled"
                and r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == NONCURRENT_DAYS]
    check("lifecycle", bool(expiring), f"{len(expiring)} enabled rule(s) expiring old versions after "
          f"{NONCURRENT_DAYS} days, of {len(lifecycle)}")

    if state.lock_table:
        checks += _check_lock_table(state, client, key_arn)
    return checks


def _check_lock_table(state: StateBackend, client, key_arn: str | None) -> list[Check]:
    dynamodb = client("dynamodb", state.region)
    name = state.lock_table
    table = _read(lambda: dynamodb.describe_table(TableName=name)["Table"], "ResourceNotFoundException")
    if table is None:
        return [Check("lock table", name, False, f"no table {name} in {state.region}")]
    keys = [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])]
    billing = table.get("BillingModeSummary", {}).get("BillingMode")
    sse = table.get("SSEDescription", {})
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    recovery = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    return [
        Check("lock table", f"{name} key", keys == [("LockID", "HASH")], f"key schema {keys}"),
        Check("lock table", f"{name} billing", billing == "PAY_PER_REQUEST", f"billing mode {billing}"),
        Check("lock table", f"{name} encryption", sse.get("Status") == "ENABLED" and key_arn is not None
              and sse.get("KMSMasterKeyArn") == key_arn,
              f"{sse.get('Status', 'default')} with {sse.get('KMSMasterKeyArn', 'an AWS-owned key')} "
              f"(the state key: {key_arn})"),
        Check("lock table", f"{name} point-in-time recovery", recovery == "ENABLED", f"status {recovery}"),
    ]


def check_state_gone(state: StateBackend, client: Callable[[str, str], object]) -> list[Check]:
    """After destroy: no state bucket, no lock table, no state key alias."""
    s3, kms = client("s3", state.region), client("kms", state.region)
    left = []
    if _read(lambda: s3.head_bucket(Bucket=state.bucket), "404", "NoSuchBucket") is not None:
        left.append(f"bucket {state.bucket}")
    if state.lock_table and _read(lambda: client("dynamodb", state.region).describe_table(
            TableName=state.lock_table), "ResourceNotFoundException") is not None:
        left.append(f"lock table {state.lock_table}")
    aliases = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    if state_kms_alias(state.bucket) in aliases:
        left.append(f"KMS alias {state_kms_alias(state.bucket)}")
    return [Check("left over", f"_state in {state.region}", not left, ", ".join(left) or "nothing left")]
