"""Per cluster: where its logs go. A customer-managed KMS key for its logs, the
log group of the EKS control plane (created before the cluster, so EKS does not
make one that is unencrypted and kept forever), and VPC flow logs of every
packet to their own log group."""

from __future__ import annotations

from ..derive import naming
from ..derive.iam import logs_service
from ..derive.naming import KmsPurpose, ref
from ..derive.context import ClusterContext, EnvironmentContext
from .document import Document
from .iam import flow_log_role, key_policy

__all__ = ["emit_logs", "eks_log_group", "RETENTION_DAYS"]

RETENTION_DAYS = 365


def eks_log_group(c: ClusterContext) -> str:
    """Address of the log group of a cluster's control-plane logs."""
    return f"aws_cloudwatch_log_group.{c.key}_eks"


def emit_logs(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for c in ctx.clusters:
        _emit_cluster_logs(doc, ctx, c)
    return doc


def _emit_cluster_logs(doc: Document, ctx: EnvironmentContext, c: ClusterContext) -> None:
    key, region, account = c.key, c.region, ctx.env.account
    groups = {"eks": naming.eks_log_group(c.eks_name), "flow_logs": naming.flow_log_group(c.eks_name)}
    kms = doc.resource(
        "aws_kms_key", f"{key}_logs", region=region,
        description=f"Encrypts the CloudWatch log groups of EKS cluster {c.eks_name}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=key_policy(account, {
            "Sid": "CloudWatchLogsEncryptsTheClusterLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": logs_service(region)},
            "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*",
                       "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": [
                naming.arn("logs", region, account, f"log-group:{name}") for name in sorted(groups.values())
            ]}},
        }),
    )
    doc.resource("aws_kms_alias", f"{key}_logs", region=region,
                 name=naming.kms_alias(c.eks_name, KmsPurpose.LOGS), target_key_id=ref(f"{kms}.key_id"))
    addresses = {}
    for short, name in sorted(groups.items()):
        addresses[short] = doc.resource(
            "aws_cloudwatch_log_group", f"{key}_{short}", region=region,
            name=name,
            retention_in_days=RETENTION_DAYS,
            kms_key_id=ref(f"{kms}.arn"),
        )
    doc.resource(
        "aws_flow_log", key, region=region,
        vpc_id=ref(f"{c.vpc}.id"),
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination=ref(f"{addresses['flow_logs']}.arn"),
        iam_role_arn=ref(f"{flow_log_role(c)}.arn"),
        tags={"Name": naming.flow_log_label(c.eks_name)},
    )
