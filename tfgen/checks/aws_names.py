"""VAL185: every AWS name tfgen derives from the spec is one AWS accepts.

One table, `NAME_RULES`, holds what AWS allows for each kind of resource tfgen
names (length, characters, reserved prefixes; from the AWS API references cited
beside each entry). `derived_names` lists every name a fleet would produce, made
by the same `tfgen.derive.naming` functions the emitters call, with the spec
fields it comes from; `check_aws_names` judges each against its rule. AWS-facing
identifiers are ASCII: the patterns spell their character classes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..derive import naming
from ..derive.naming import KmsPurpose
from ..derive.gitops_path import bootstraps, managed_argocd
from ..errors import Finding
from ..model import Fleet
from .support import finding

__all__ = ["NameRule", "NAME_RULES", "DerivedName", "derived_names", "check_aws_names"]


@dataclass(frozen=True)
class NameRule:
    """What AWS accepts as the name of one kind of resource."""

    resource: str
    pattern: re.Pattern
    allowed: str
    max_length: int
    min_length: int = 1
    reserved_prefixes: tuple[str, ...] = ()
    in_bytes: bool = False

    def problem(self, name: str) -> str | None:
        """Why AWS rejects `name`, or None."""
        size = len(name.encode()) if self.in_bytes else len(name)
        unit = "bytes" if self.in_bytes else "characters"
        if not self.min_length <= size <= self.max_length:
            return f"is {size} {unit} long; AWS allows {self.min_length} to {self.max_length}"
        reserved = next((p for p in self.reserved_prefixes if name.startswith(p)), None)
        if reserved:
            return f"starts with {reserved!r}, which AWS reserves"
        if not self.pattern.fullmatch(name):
            return f"holds characters AWS does not allow (it allows {self.allowed})"
        return None


def _rule(resource, pattern, allowed, max_length, **options) -> NameRule:
    return NameRule(resource, re.compile(pattern), allowed, max_length, **options)


NAME_RULES: dict[str, NameRule] = {
    # EKS API CreateCluster: name 1-100, [0-9A-Za-z][A-Za-z0-9\-_]*
    "eks_cluster": _rule("EKS cluster", r"[0-9A-Za-z][A-Za-z0-9_-]*", "letters, digits, - and _, starting with "
                         "a letter or digit", 100),
    # EKS API CreateNodegroup: nodegroupName 1-63, alphanumeric start, then alphanumerics, - and _; tfgen writes
    # a prefix Terraform completes with a unique suffix (the provider's node_group_name_prefix: 63 - 26)
    "eks_node_group_prefix": _rule("EKS node group name prefix", r"[0-9A-Za-z][A-Za-z0-9_-]*", "letters, digits, - "
                                   "and _, starting with a letter or digit", 63 - naming.UNIQUE_SUFFIX_LENGTH),
    # IAM API CreateRole: RoleName 1-64, [\w+=,.@-]+
    "iam_role": _rule("IAM role", r"[A-Za-z0-9_+=,.@-]+", "letters, digits and _ + = , . @ -", 64),
    # IAM API CreateInstanceProfile: InstanceProfileName 1-128, [\w+=,.@-]+
    "iam_instance_profile": _rule("IAM instance profile", r"[A-Za-z0-9_+=,.@-]+", "letters, digits and "
                                  "_ + = , . @ -", 128),
    # STS API AssumeRole: RoleSessionName 2-64, [\w+=,.@-]*
    "sts_session": _rule("STS role session", r"[A-Za-z0-9_+=,.@-]+", "letters, digits and _ + = , . @ -", 64,
                         min_length=2),
    # EC2 API CreateSecurityGroup: GroupName up to 255, a-zA-Z0-9 spaces and ._-:/()#,@[]+=&;{}!$*; not sg-*
    "security_group": _rule("EC2 security group", r"[A-Za-z0-9 ._:/()#,@\[\]+=&;{}!$*-]+", "letters, digits, "
                            "spaces and ._-:/()#,@[]+=&;{}!$*", 255, reserved_prefixes=("sg-",)),
    # EC2 API CreateLaunchTemplate: LaunchTemplateName 3-128, [a-zA-Z0-9\(\)\.\-/_]+
    "launch_template": _rule("EC2 launch template", r"[A-Za-z0-9().\-/_]+", "letters, digits and ( ) . - / _",
                             128, min_length=3),
    # KMS API CreateAlias: AliasName 1-256, alias/[a-zA-Z0-9/_-]+, alias/aws/ is AWS's
    "kms_alias": _rule("KMS alias", r"alias/[A-Za-z0-9/_-]+", "alias/ then letters, digits, / _ and -", 256,
                       reserved_prefixes=("alias/aws/",)),
    # CloudWatch Logs API CreateLogGroup: logGroupName 1-512, [\.\-_/#A-Za-z0-9]+
    "log_group": _rule("CloudWatch log group", r"[.\-_/#A-Za-z0-9]+", "letters, digits and . - _ / #", 512),
    # S3 bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens, alphanumeric at both ends
    "s3_bucket": _rule("S3 bucket", r"[a-z0-9][a-z0-9.-]*[a-z0-9]", "lower-case letters, digits, . and -, "
                       "starting and ending with a letter or digit", 63, min_length=3),
    # SSM API CreateDocument: Name 3-128, [a-zA-Z0-9_\-.]+
    "ssm_document": _rule("SSM document", r"[A-Za-z0-9_.-]+", "letters, digits and _ - .", 128, min_length=3),
    # SSM API CreateAssociation: AssociationName 3-128, [a-zA-Z0-9_\-.]+
    "ssm_association": _rule("SSM association", r"[A-Za-z0-9_.-]+", "letters, digits and _ - .", 128,
                             min_length=3),
    # S3 object keys: up to 1024 bytes of UTF-8; tfgen's keys are paths, so no leading / and no empty segment
    "s3_key": _rule("S3 state object key", r"(?!/)(?!.*//)[\x20-\x7e]+", "a relative path of printable "
                    "ASCII: no leading / and no //", 1024, in_bytes=True),
}


@dataclass(frozen=True)
class DerivedName:
    """A name tfgen gives an AWS resource, the object it belongs to and the spec fields it is made of:
    `sources` are (what, model object, field), the first being the name's first part."""

    kind: str
    name: str
    path: str
    sources: tuple[tuple[str, object, str], ...]


def derived_names(fleet: Fleet) -> Iterator[DerivedName]:
    """Every AWS name the fleet's output would hold, as the emitters make it."""
    state = fleet.state
    if state.backend == "s3" and isinstance(state.bucket, str) and state.bucket:
        yield DerivedName("kms_alias", naming.state_kms_alias(state.bucket), "state", (("state.bucket", state, "bucket"),))
    for env in fleet.environments.values():
        project = ("project", fleet, "project")
        own = ("environment name", env, "")
        if state.backend == "s3":
            yield DerivedName("s3_key", state.key(env.name), env.name, (("state.key_prefix", state, "key_prefix"),))
        if env.assume_role:
            yield DerivedName("sts_session", naming.aws_name("tfgen", fleet.project, env.name), env.name,
                              (project, own))
        for region in env.regions.values():
            if region.clusters:
                yield DerivedName("kms_alias", naming.ebs_kms_alias(fleet.project, env.name, region.name),
                                  f"{env.name}/{region.name}", (project, own))
        yield from _cluster_names(fleet, env, project)


# EKS cluster names are judged whole: people find a cluster by its name, so one too long is the user's to
# shorten, not tfgen's to cut with a hash as it cuts role names.
_WHOLE = 1 << 16


def _cluster_names(fleet: Fleet, env, project) -> Iterator[DerivedName]:
    for region, cluster in env.clusters():
        path = f"{env.name}/{region.name}/{cluster.name}"
        sources = (project, ("environment, region and cluster names", cluster, ""))
        eks = naming.eks_cluster_name(fleet.project, env.name, region.name, cluster.name)
        whole = naming.eks_cluster_name(fleet.project, env.name, region.name, cluster.name, limit=_WHOLE)
        names = [("eks_cluster", whole), ("security_group", naming.api_security_group_name(eks)),
                 ("kms_alias", naming.kms_alias(eks, KmsPurpose.EKS)),
                 ("kms_alias", naming.kms_alias(eks, KmsPurpose.LOGS)),
                 ("log_group", naming.eks_log_group(eks)), ("log_group", naming.flow_log_group(eks))]
        roles = [naming.cluster_role_name, naming.node_role_name, naming.flow_log_role_name, naming.ebs_csi_role_name]
        if env.gitops.enabled and managed_argocd(env):
            roles += [naming.capability_role_name] if cluster.is_hub else []
        elif env.gitops.enabled:
            roles.append(naming.management_role_name if cluster.is_hub else naming.deployer_role_name)
        names += [("iam_role", role(eks)) for role in roles]
        if cluster.is_hub and env.bastion.enabled:
            bastion = naming.bastion_name(eks)
            names += [(kind, bastion) for kind in ("security_group", "iam_role", "iam_instance_profile",
                                                     "launch_template")]
        if cluster.is_hub and bootstraps(env):
            names += [("kms_alias", naming.kms_alias(eks, KmsPurpose.BOOTSTRAP)),
                      ("ssm_document", naming.bootstrap_document_name(eks, naming.bootstrap_digest())),
                      ("ssm_association", naming.bootstrap_association_name(eks, naming.bootstrap_digest()))]
            if env.account:
                names.append(("s3_bucket", naming.bootstrap_bucket_name(fleet.project, env.name, env.account)))
        for kind, name in names:
            yield DerivedName(kind, name, path, sources)
        for group in cluster.node_groups.values():
            yield DerivedName("eks_node_group_prefix", naming.node_group_prefix(group.name), f"{path}/{group.name}",
                              (("node group name", group, ""),))


def check_aws_names(fleet: Fleet) -> Iterator[Finding]:
    """Each derived name against the rule of the resource it names."""
    for derived in derived_names(fleet):
        if not isinstance(derived.name, str):
            continue  # VAL100
        rule = NAME_RULES[derived.kind]
        problem = rule.problem(derived.name)
        if problem is None:
            continue
        # A reserved prefix comes from the name's first part, a length from every part, anything else from its own.
        what, obj, field = derived.sources[0] if "reserves" in problem else derived.sources[-1]
        labels = [label for label, _, _ in derived.sources]
        made_of = " and ".join(labels)
        what = " or ".join(labels) if "long" in problem else what
        yield finding("VAL185", f"{rule.resource} name {derived.name!r} (made from the {made_of}) {problem}",
                      f"change the {what} so the name fits: {rule.resource} names allow {rule.allowed}, "
                      f"at most {rule.max_length}{' bytes' if rule.in_bytes else ''}"
                      + (f", not starting {' or '.join(rule.reserved_prefixes)}" if rule.reserved_prefixes else ""),
                      path=derived.path, obj=obj, field=field)
