"""Per cluster: its EKS add-ons, explicitly; per region: EBS encryption by default.

Clusters are created with `bootstrap_self_managed_addons = false`, so every
add-on is one tfgen manages: `vpc-cni`, `kube-proxy` and
`eks-pod-identity-agent` before the node groups (nodes need a network and
credentials when they join), `coredns` and `aws-ebs-csi-driver` after them
(they run as Deployments on nodes). Each add-on carries the version the spec
pins, else the one tfgen's table gives the cluster's Kubernetes minor
(`tfgen.model.addons`), so it moves with each control-plane upgrade; every
add-on names its cluster, so Terraform updates it after the control plane.
Where the table has a gap, `addon_version` is left out: EKS's default when the
add-on is created, kept in state, which does not follow an upgrade (VAL423
says so). Nothing asks the AWS API at plan time. Conflicts are resolved in
favour of Terraform, on create and on update.

The EBS CSI driver gets its own role (AmazonEBSCSIDriverPolicy plus the use of
its region's EBS key) through Pod Identity or IRSA. Every region used turns
on EBS encryption by default with a customer-managed key whose policy lets
principals of the account use it through EC2 only (as the AWS-managed
`aws/ebs` key does), so node volumes and the driver's volumes are encrypted.
"""

from __future__ import annotations

from ..derive import naming
from ..derive.iam import EBS_CSI_POLICY, ec2_endpoint
from ..model import ADDONS, IRSA
from ..model.addons import table_version
from ..derive.naming import ref
from ..derive.context import ClusterContext, EnvironmentContext
from .document import Document
from .iam import key_policy, policy_json, workload_trust

__all__ = ["emit_addons", "addon", "BEFORE_NODES", "EBS_CSI_SERVICE_ACCOUNT", "ebs_key", "ebs_csi_role"]

BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
EBS_CSI_SERVICE_ACCOUNT = "kube-system/ebs-csi-controller-sa"


def addon(c: ClusterContext, name: str) -> str:
    return f"aws_eks_addon.{naming.addon_name(c.key, name)}"


def ebs_key(region: str) -> str:
    return f"aws_kms_key.{naming.region_stem(region, 'ebs')}"


def ebs_csi_role(c: ClusterContext) -> str:
    return f"aws_iam_role.{c.key}_ebs_csi"


def emit_addons(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for region in ctx.regions:
        _emit_ebs_encryption(doc, ctx, region)
    for c in ctx.clusters:
        _emit_ebs_csi_role(doc, ctx, c)
        nodes = [f"aws_eks_node_group.{naming.node_group_name(c.key, g)}" for g in sorted(c.cluster.node_groups)]
        for name in ADDONS:
            setting = ctx.env.addon(c.cluster, name)
            arguments = dict(
                cluster_name=ref(f"aws_eks_cluster.{c.key}.name"),
                addon_name=name,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
            )
            version = setting.version or table_version(name, c.cluster.kubernetes_version)
            if version:
                arguments["addon_version"] = version
            if name == "aws-ebs-csi-driver":
                if ctx.env.identity == IRSA:
                    arguments["service_account_role_arn"] = ref(f"{ebs_csi_role(c)}.arn")
                else:
                    arguments["pod_identity_association"] = {
                        "role_arn": ref(f"{ebs_csi_role(c)}.arn"),
                        "service_account": EBS_CSI_SERVICE_ACCOUNT.split("/")[1],
                    }
            if name not in BEFORE_NODES and nodes:
                arguments["depends_on"] = nodes
            doc.resource("aws_eks_addon", naming.addon_name(c.key, name), region=c.region, **arguments)
    return doc


def _emit_ebs_encryption(doc: Document, ctx: EnvironmentContext, region: str) -> None:
    account = ctx.env.account
    stem = naming.region_stem(region, "ebs")
    key = doc.resource(
        "aws_kms_key", stem, region=region,
        description=f"Encrypts the EBS volumes of {ctx.fleet.project} {ctx.env.name} in {region}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=key_policy(account, {
            "Sid": "VolumesOfTheAccountThroughEc2",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
                       "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": ec2_endpoint(region)}},
        }),
    )
    doc.resource("aws_kms_alias", stem, region=region,
                 name=naming.ebs_kms_alias(ctx.fleet.project, ctx.env.name, region), target_key_id=ref(f"{key}.key_id"))
    doc.resource("aws_ebs_default_kms_key", stem, region=region, key_arn=ref(f"{key}.arn"))
    doc.resource("aws_ebs_encryption_by_default", stem, region=region, enabled=True,
                 depends_on=[f"aws_ebs_default_kms_key.{stem}"])


def _emit_ebs_csi_role(doc: Document, ctx: EnvironmentContext, c: ClusterContext) -> None:
    address = doc.resource(
        "aws_iam_role", f"{c.key}_ebs_csi", region=c.region,
        name=naming.ebs_csi_role_name(c.eks_name),
        description=f"EBS CSI driver of {c.eks_name}",
        assume_role_policy=workload_trust(ctx, c, [EBS_CSI_SERVICE_ACCOUNT]),
    )
    doc.resource("aws_iam_role_policy_attachment", f"{c.key}_ebs_csi", region=c.region,
                 role=ref(f"{address}.name"), policy_arn=EBS_CSI_POLICY)
    doc.resource(
        "aws_iam_role_policy", f"{c.key}_ebs_csi_kms", region=c.region,
        name="encrypted-volumes",
        role=ref(f"{address}.name"),
        policy=policy_json(
            {
                "Sid": "UseTheRegionsEbsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext",
                           "kms:ReEncryptFrom", "kms:ReEncryptTo"],
                "Resource": ref(f"{ebs_key(c.region)}.arn"),
            },
            {
                "Sid": "GrantsForAttachedVolumesOnly",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": ref(f"{ebs_key(c.region)}.arn"),
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ),
    )
