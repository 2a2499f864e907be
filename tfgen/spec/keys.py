"""The spec's keys: one table per mapping of the spec, every key with its type and what it means.

The reader checks a spec against these tables (`tfgen.spec.reader`, `tfgen.spec.sections`);
the JSON Schema (`tfgen.spec.schema`) and the docs' YAML reference (`tools/spec_reference.py`, docs/spec.md)
are generated from them, so a key added here is read, completed by editors and documented
at once. A key's `kind` is the type the reader accepts; `table` is the table its value (or
each member of it, for `named` mappings and lists) follows; `values` is the closed set the
checks accept, when there is one (offered by editors; the checks still report other values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import AUTHENTICATION_MODES, SHARDING_ALGORITHMS, SUPPORT_TYPES, ArgoCD, Connectivity, Identity, Layout, Nat

__all__ = ["Key", "Table", "KINDS", "TOP", "TABLES", "REGION_CLUSTERS"]

# What each kind of value is, in the words of the reader's findings.
KINDS = {
    "str": "a string",
    "int": "a whole number",
    "str_list": "a list of strings",
    "str_map": "a mapping of strings to strings",
    "map": "a mapping",
    "node_groups": "a mapping of node group names to settings",
    "pairs": "a list of [region/cluster, region/cluster] pairs",
    "bool": "true or false",
    "list": "a list",
    "waves": "a list of waves, each a list of regions or region/cluster names",
}


@dataclass(frozen=True)
class Key:
    """One key of a spec mapping."""

    kind: str
    doc: str
    table: Table | None = None
    named: str = ""  # for a mapping of names to `table`s: what the names are
    values: tuple[str, ...] = ()
    nonempty: bool = False  # a mapping the reader refuses empty


@dataclass(frozen=True)
class Table:
    """The keys one mapping of the spec may hold: `name` is its name in the schema's `$defs`, `where` in the docs'
    reference; a key of `alone`, when given, is the mapping's only key (the reader then reads it apart)."""

    name: str
    where: str
    doc: str
    keys: dict[str, Key] = field(hash=False)
    required: tuple[str, ...] = ()
    alone: tuple[str, ...] = ()
    extends: Table | None = None  # the table whose every key this one holds too (the hub: any cluster key)

    def kinds(self) -> dict[str, str]:
        return {name: key.kind for name, key in self.keys.items()}

    def __iter__(self):
        return iter(self.keys)

    def __contains__(self, name: object) -> bool:
        return name in self.keys

    def __getitem__(self, name: str) -> Key:
        return self.keys[name]

    def __len__(self) -> int:
        return len(self.keys)


def _choices(enum) -> tuple[str, ...]:
    return tuple(str(member) for member in enum)


ADDON = Table("addon", "`addons.<name>`", "one EKS add-on", {
    "version": Key("str", "the add-on's version, e.g. `v1.19.2-eksbuild.1`; default: tfgen's table for the "
                          "cluster's Kubernetes minor (`tfgen/model/addon_versions.json`), so the add-on follows "
                          "each upgrade; where the table has none, EKS's default at creation (VAL423)"),
})
_ADDONS = Key("map", "EKS add-ons by name (`vpc-cni`, `kube-proxy`, `eks-pod-identity-agent`, `coredns`, "
                     "`aws-ebs-csi-driver`), each with its `version`; the environment's apply to every cluster, a "
                     "cluster's add to them", table=ADDON, named="add-on name")
ACCESS_ENTRY = Table("accessEntry", "`access.entries[]`", "one EKS access entry", {
    "principal": Key("str", "an IAM role or user ARN"),
    "policy": Key("str", "an EKS access policy, e.g. `AmazonEKSEditPolicy`"),
    "namespaces": Key("str_list", "the namespaces the policy applies in (default: cluster-wide)"),
}, required=("principal", "policy"))
ACCESS = Table("access", "`access`", "who may use the Kubernetes API", {
    "admins": Key("str_list", "IAM role/user ARNs given AmazonEKSClusterAdminPolicy"),
    "viewers": Key("str_list", "IAM role/user ARNs given AmazonEKSViewPolicy"),
    "entries": Key("list", "access entries for any EKS access policy, cluster-wide or in namespaces",
                   table=ACCESS_ENTRY),
    "authentication_mode": Key("str", "`API` (default) or `API_AND_CONFIG_MAP`", values=AUTHENTICATION_MODES),
})
_ACCESS = Key("map", "who may use the Kubernetes API (`admins`, `viewers`, `entries`, `authentication_mode`); "
                     "the environment's apply to every cluster, a cluster's add to them", table=ACCESS)
NODE_GROUP = Table("nodeGroup", "`node_groups.<name>`", "one EKS managed node group", {
    "instance_types": Key("str_list", "EC2 instance types (default `[t3.medium]`), checked against tfgen's table of "
                                      "EC2 types"),
    "min": Key("int", "the fewest nodes (default 1)"),
    "max": Key("int", "the most nodes (default 3)"),
    "desired": Key("int", "the nodes to start with (default 1); `min <= desired <= max`; set at creation only: "
                          "afterwards the cluster's autoscaler owns it (`ignore_changes`)"),
    "disk_size": Key("int", "each node's disk in GiB (default 20)"),
    "capacity_type": Key("str", "`ON_DEMAND` (default) or `SPOT`"),
    "labels": Key("str_map", "Kubernetes labels on the nodes"),
    "ami_type": Key("str", "the node AMI type (default `AL2023_x86_64_STANDARD`; Amazon Linux 2 node AMIs ended "
                           "2025-11-26)"),
    "version": Key("str", "the nodes' Kubernetes version, quoted (default: the cluster's, so the nodes follow "
                          "the control plane); keep the old minor to bake an upgraded control plane first, then "
                          "leave it out"),
})
_NODE_GROUPS = Key("node_groups", "EKS managed node groups by name", table=NODE_GROUP, named="node group name")
_KUBERNETES_VERSION = Key("str", "the EKS Kubernetes version, quoted (`\"1.35\"`); checked against the EKS "
                                 "calendar")
_AZ_COUNT = Key("int", "how many zones the VPC spans (default 3, or all the region has when fewer)")
_NAT = Key("str", "`single` (default: one NAT gateway) or `per_az`", values=_choices(Nat))
_SUPPORT = Key("str", "`standard` (default: EKS upgrades the cluster when standard support ends and never bills "
                      "extended support) or `extended`", values=SUPPORT_TYPES)
CLUSTER = Table("cluster", "cluster", "one EKS cluster and its VPC", {
    "cidr": Key("str", "the VPC's CIDR block, /16 to /28 (default: the next free block of the environment's "
                       "`cidr_pool`)"),
    "az_count": _AZ_COUNT,
    "availability_zones": Key("str_list", "explicit zone names (default: the first `az_count` zones of tfgen's "
                                          "table of the region)"),
    "public_subnets": Key("str_list", "one CIDR per zone (default: carved from the VPC)"),
    "private_subnets": Key("str_list", "one CIDR per zone (default: carved from the VPC)"),
    "nat": _NAT,
    "kubernetes_version": _KUBERNETES_VERSION,
    "node_groups": _NODE_GROUPS,
    "support": _SUPPORT,
    "access": _ACCESS,
    "addons": _ADDONS,
    "protect": Key("bool", "`true`: `prevent_destroy` on its EKS cluster, VPC and KMS keys, and a build refuses to "
                           "replace or destroy it even when allowed (set `false` first); default `false`"),
})
HUB_CLUSTER = Table("hub", "`hub`", "the environment's hub cluster: Argo CD runs here", {
    "region": Key("str", "the hub's region"),
    "name": Key("str", "the hub cluster's name (default `hub`)"),
    **CLUSTER.keys,
}, required=("region",), extends=CLUSTER)
REGION = Table("region", "`regions.<region>`", "the edge clusters of one region: one named `edge` with the cluster "
               "keys, or several under `clusters`", {
    **CLUSTER.keys,
    "clusters": Key("map", "several edge clusters in the region, by name, each with the cluster keys",
                    table=CLUSTER, named="cluster name"),
}, alone=("clusters",), extends=CLUSTER)
# A region that names `clusters` holds nothing else.
REGION_CLUSTERS = Table("regionClusters", REGION.where, REGION.doc, {"clusters": REGION["clusters"]})
DEFAULTS = Table("defaults", "`defaults`", "settings for the clusters of the environment that name none", {
    name: CLUSTER[name] for name in ("kubernetes_version", "node_groups", "az_count", "nat", "support")})
REPO = Table("repo", "`gitops.repo`", "the Git path of the AppProjects and the root Application", {
    "url": Key("str", "the Git repository Argo CD reads"),
    "revision": Key("str", "the branch, tag or commit (default `main`)"),
    "path": Key("str", "the directory of the AppProjects and the root Application (default `clusters`)"),
    "secret_arn": Key("str", "a private repository's credential: the ARN of an AWS Secrets Manager secret (JSON "
                             "`username`/`token` or a GitHub App's fields for https://, the private key for SSH), "
                             "read at run time, never written to the output (see docs/gitops.md)"),
    "kms_key_arn": Key("str", "the customer-managed KMS key that secret is encrypted with (leave out for "
                              "`aws/secretsmanager`)"),
}, required=("url",))
IDENTITY_CENTER = Table("identityCenter", "`gitops.identity_center`", "IAM Identity Center for EKS's managed Argo CD",
                        {
    "instance_arn": Key("str", "the IAM Identity Center instance ARN"),
    "region": Key("str", "the Identity Center's region (default `us-east-1`)"),
    "admins": Key("str_list", "Identity Center group ids made Argo CD admins"),
}, required=("instance_arn",))
GITOPS = Table("gitops", "`gitops`", "the GitOps path from the hub's Argo CD to every edge", {
    "enabled": Key("bool", "`true` (default): the GitOps path to every edge; `false` leaves the whole path out "
                           "(then `argocd` must be `none` or left out)"),
    "argocd": Key("str", "who runs Argo CD on the hub: `self-managed` (default: `terraform apply` installs the "
                         "argo-cd chart), `managed` (EKS's Argo CD capability; needs `identity_center` and "
                         "`aws_provider: \">= 6.25, < 7.0\"`) or `none` (the path only: install Argo CD yourself "
                         "with `tfgen gitops`)", values=_choices(ArgoCD)),
    "namespace": Key("str", "Argo CD's namespace (default `argocd`)"),
    "service_accounts": Key("str_list", "Argo CD's service accounts that manage the edges (default "
                                        "`argocd-application-controller`, `argocd-applicationset-controller`, "
                                        "`argocd-server`)"),
    "chart_version": Key("str", "the argo-cd chart (default tfgen's pin `10.1.1` = Argo CD v3.4.4; only pinned "
                                "versions, their SHA-256 is checked)"),
    "repo": Key("map", "the AppProjects and the root Application on a Git path (optional)", table=REPO),
    "identity_center": Key("map", "IAM Identity Center for the managed Argo CD (required there)",
                           table=IDENTITY_CENTER),
    "bootstrap": Key("bool", "`true` (default): `terraform apply` runs the SSM bootstrap; `false` stops it"),
    "controller_replicas": Key("int", "application controller replicas (self-managed; default one per 50 clusters "
                                      "Argo CD manages, see docs/gitops.md)"),
    "sharding": Key("str", "how the application controller shards clusters: `legacy` (default), `round-robin` or "
                           "`consistent-hashing`", values=SHARDING_ALGORITHMS),
})
BASTION = Table("bastion", "`bastion`", "the hub's SSM bastion", {
    "enabled": Key("bool", "`true` (default): the hub gets an SSM bastion (no inbound port)"),
    "instance_type": Key("str", "its EC2 instance type (default `t3.micro`)"),
    "ami": Key("str", "an AMI id, or the default "
                      "`resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`"),
})
ROLLOUT = Table("rollout", "`rollout`", "how an upgrade rolls across the environment's clusters (`tfgen upgrade`, "
                "`tfgen apply --waves`; see docs/upgrade.md)", {
    "waves": Key("waves", "the waves in order, e.g. `[[us-east-2], [us-west-2, eu-west-1]]`: a region names its "
                          "edge clusters, `region/cluster` one cluster; edges in no wave form a wave after them, and "
                          "the hub goes last unless a wave names it (`us-east-1/hub`)"),
    "bake": Key("str", "how long a wave's upgraded control planes run, nodes on the old minor, before the nodes "
                       "follow and the next wave starts: `24h` (default), `2d`, `90m`, `1d12h`; EKS can roll a "
                       "control plane back within 7 days"),
    "failure_tolerance": Key("int", "how many clusters of a wave may fail verification before `tfgen apply "
                                    "--waves` stops (default 0)"),
})
_ROLLOUT = Key("map", "the waves an upgrade takes (`waves`, `bake`, `failure_tolerance`); an environment's own "
                      "wins", table=ROLLOUT)
_LAYOUT = Key("str", "`environment` (default: one root module per environment) or `cells` (a root per region and "
                     "per link, see [Cells](#cells-layout-cells)); an environment's own wins", values=_choices(Layout))
ENVIRONMENT = Table("environment", "environment", "one environment: a Terraform root module (or one per cell), a hub "
                    "and edge clusters", {
    "cidr_pool": Key("str", "address pool: a VPC without `cidr` gets the lowest free block of it (see "
                            "[CIDR allocation](#cidr-allocation))"),
    "vpc_prefix": Key("int", "size of pool-allocated VPCs (default 16, i.e. /16)"),
    "connectivity": Key("str", "`hub-and-spoke` (default), `mesh` or `transit-gateway` (see "
                               "[Connectivity](#connectivity))", values=_choices(Connectivity)),
    "links": Key("pairs", "extra peerings, `[[us-east-2/edge, us-west-2/edge], ...]` (`a` requests, `b` accepts); "
                          "a bare region names its only cluster"),
    "reach": Key("pairs", "required reachability, `[[source, target], ...]`; checked under real AWS routing "
                          "semantics, not emitted"),
    "assume_role": Key("str", "IAM role ARN every provider of the environment assumes"),
    "account_id": Key("str", "the AWS account (12 digits, quoted) the environment deploys to; KMS key policies and "
                             "log ARNs name it. Taken from `assume_role`'s ARN when left out; with neither, the "
                             "build stops with `VAL129` rather than guess or ask the AWS API (`VAL130` warns when "
                             "the two disagree)"),
    "defaults": Key("map", "`kubernetes_version`, `node_groups`, `az_count`, `nat`, `support` for clusters that "
                           "name none", table=DEFAULTS),
    "hub": Key("map", "the hub cluster: `region` (required), `name` (default `hub`), and any cluster key",
               table=HUB_CLUSTER),
    "regions": Key("map", "one edge cluster named `edge` per region, with the cluster keys given; or "
                          "`clusters: {<name>: {...}}` for several", table=REGION, named="region"),
    "identity": Key("str", "how Argo CD and the EBS CSI driver get AWS roles: `pod-identity` (default, EKS Pod "
                           "Identity) or `irsa` (the cluster's OIDC provider)", values=_choices(Identity)),
    "access": _ACCESS,
    "addons": _ADDONS,
    "gitops": Key("map", "the GitOps path from the hub's Argo CD to every edge (see [From apply to "
                         "GitOps](#from-apply-to-gitops))", table=GITOPS),
    "bastion": Key("map", "the hub's SSM bastion", table=BASTION),
    "layout": _LAYOUT,
    "protect": Key("bool", "`true`: every cluster of the environment protected (see the cluster's `protect`), and "
                           "its regions' EBS keys; default `false`"),
    "rollout": _ROLLOUT,
}, required=("hub",))
STATE = Table("state", "`state`", "where Terraform keeps each environment's state", {
    "backend": Key("str", "`s3` or `local` (default); the state key is `<key_prefix><environment>/terraform.tfstate`;"
                          " `out/_state/` creates the bucket (see [State bootstrap](#state-bootstrap-out_state))"),
    "bucket": Key("str", "the S3 bucket of the state (`backend: s3`)"),
    "key_prefix": Key("str", "the prefix of every state key"),
    "region": Key("str", "the bucket's region"),
    "lock_table": Key("str", "a DynamoDB lock table; without it the state is locked by a lock file in S3 "
                             "(Terraform 1.10+)"),
})
TOP = Table("fleet", "top", "a fleet of EKS clusters across regions and environments (tfgen)", {
    "project": Key("str", "name used in AWS names and the `Project` tag (lower-case, digits, `-`)"),
    "tags": Key("str_map", "tags on every resource (through the providers' `default_tags`), next to `Project`, "
                           "`Environment`, `ManagedBy: tfgen`"),
    "aws_provider": Key("str", "version constraint of `hashicorp/aws` (default `\">= 5.100, < 7.0\"`, see [Provider "
                               "target](#provider-target-and-what-is-proven-how))"),
    "terraform_version": Key("str", "`required_version` (default `\">= 1.10\"` with S3-native state locking, else "
                                    "`\">= 1.0\"`)"),
    "state": Key("map", "where Terraform keeps each environment's state", table=STATE),
    "layout": _LAYOUT,
    "rollout": _ROLLOUT,
    "environments": Key("map", "one Terraform root module per environment, in `out/<name>/` (in the cells layout, "
                               "`out/<name>--<cell>/`)", table=ENVIRONMENT, named="environment name",
                        nonempty=True),
}, required=("project", "environments"))

# Every table, in the order the docs' reference (docs/spec.md) lists them.
TABLES = (TOP, STATE, ENVIRONMENT, HUB_CLUSTER, REGION, CLUSTER, DEFAULTS, NODE_GROUP, ACCESS, ACCESS_ENTRY, ADDON,
          GITOPS, REPO, IDENTITY_CENTER, BASTION, ROLLOUT)
