"""Per cluster: the EKS control plane (private endpoint, encrypted secrets,
every log type, access entries only, no self-managed add-ons) and its managed
node groups in the private subnets.

`access_config.bootstrap_cluster_creator_admin_permissions` and
`bootstrap_self_managed_addons` are create-time settings that force a new
cluster when they change (and a cluster made before them reads back the API's
defaults), so both are in `ignore_changes`: adopting an existing cluster never
replaces it. Admins come from explicit access entries instead.

EKS keeps a cluster in the VPC it was created in (new subnets must be in the
same VPC), so a replaced VPC replaces the cluster in it (`replace_triggered_by`)
instead of a subnet update EKS would refuse half-way through the apply.

Node groups are replaced create-first: their AWS name is a prefix
(`node_group_name_prefix`) Terraform completes with a unique suffix, so with
`create_before_destroy` the new group runs before the old one drains. Their
`desired_size` is the size at creation only (`ignore_changes`): afterwards
cluster-autoscaler or Karpenter own it, and an apply never resets it.
"""

from __future__ import annotations

from ..derive import naming
from ..derive.naming import KmsPurpose, ref
from ..derive.context import ClusterContext, EnvironmentContext
from .document import Document
from .addons import BEFORE_NODES, addon
from .iam import attachments, cluster_key_policy, cluster_role, key_policy, node_role
from .logs import eks_log_group
from .security import api_security_group

__all__ = ["emit_clusters", "LOG_TYPES"]

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def emit_clusters(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for c in ctx.clusters:
        _emit_cluster(doc, ctx, c)
    return doc


def _private_subnets(c: ClusterContext) -> list[str]:
    return [
        ref(f"aws_subnet.{naming.subnet_name(c.key, 'private', c.region, s.zone)}.id")
        for s in c.layout.private
    ]


def _emit_cluster(doc: Document, ctx: EnvironmentContext, c: ClusterContext) -> None:
    key, region, cluster = c.key, c.region, c.cluster
    kms = doc.resource(
        "aws_kms_key", f"{key}_eks", region=region,
        description=f"Encrypts Kubernetes secrets of EKS cluster {c.eks_name}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=key_policy(ctx.env.account),
    )
    doc.resource("aws_kms_alias", f"{key}_eks", region=region,
                 name=naming.kms_alias(c.eks_name, KmsPurpose.EKS), target_key_id=ref(f"{kms}.key_id"))
    eks = doc.resource(
        "aws_eks_cluster", key, region=region,
        name=c.eks_name,
        role_arn=ref(f"{cluster_role(c)}.arn"),
        version=cluster.kubernetes_version,
        enabled_cluster_log_types=LOG_TYPES,
        vpc_config={
            "subnet_ids": _private_subnets(c),
            "security_group_ids": [ref(f"{api_security_group(c)}.id")],
            "endpoint_private_access": True,
            "endpoint_public_access": False,
        },
        access_config={
            "authentication_mode": ctx.env.authentication_mode(cluster),
            "bootstrap_cluster_creator_admin_permissions": False,
        },
        bootstrap_self_managed_addons=False,
        upgrade_policy={"support_type": cluster.support.upper()},
        lifecycle={"ignore_changes": ["access_config[0].bootstrap_cluster_creator_admin_permissions",
                                      "bootstrap_self_managed_addons"],
                   "replace_triggered_by": [f"{c.vpc}.id"]},
        encryption_config={"resources": ["secrets"], "provider": {"key_arn": ref(f"{kms}.arn")}},
        # The log group first, or EKS creates its own: unencrypted and kept forever.
        depends_on=attachments(c, "cluster") + [eks_log_group(c), cluster_key_policy(c)],
    )
    for group in sorted(cluster.node_groups.values(), key=lambda g: g.name):
        arguments = dict(
            cluster_name=ref(f"{eks}.name"),
            node_group_name_prefix=naming.node_group_prefix(group.name),
            node_role_arn=ref(f"{node_role(c)}.arn"),
            subnet_ids=_private_subnets(c),
            instance_types=list(group.instance_types),
            capacity_type=group.capacity_type,
            ami_type=group.ami_type,
            disk_size=group.disk_size,
            # The nodes follow the control plane: Terraform updates them after the cluster (cluster_name refers to it).
            version=group.version or cluster.kubernetes_version,
            scaling_config={
                "min_size": group.min_size,
                "max_size": group.max_size,
                "desired_size": group.desired_size,
            },
            # Nodes join with a network (vpc-cni, kube-proxy) and credentials for pods (pod identity agent).
            depends_on=attachments(c, "node") + [addon(c, name) for name in BEFORE_NODES],
            lifecycle={"create_before_destroy": True, "ignore_changes": ["scaling_config[0].desired_size"]},
        )
        if group.labels:
            arguments["labels"] = dict(group.labels)
        doc.resource("aws_eks_node_group", naming.node_group_name(key, group.name), region=region, **arguments)
