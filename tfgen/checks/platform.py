"""Rules on what runs on the clusters: Kubernetes versions, node AMIs and node
versions (the skew Kubernetes allows a kubelet), access, add-ons and the
versions they will run (tfgen's table, `tfgen.model.addons`), Argo CD's identity
and the bastion; who runs Argo CD and what its bootstrap needs are `argocd`'s
rules, run here too.

Like the other rule modules, one function per rule, each returning findings and never
raising; `check_platform` runs them all. The Kubernetes calendar is read as
of today, or of `TFGEN_TODAY` (YYYY-MM-DD) when set, and every finding about
it says which date it used.
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import date
from typing import Iterator

from ..errors import Finding, Severity
from ..model.addons import REGENERATE, table_version
from ..model.kubernetes import EKS_VERSIONS, TABLE_DATE, lookup, newest
from .argocd import ARGOCD_RULES
from .support import INSTANCE_TYPE, K8S_VERSION, clusters, finding
from ..model import ADDONS, AUTHENTICATION_MODES, IDENTITY_MODES, SUPPORT_EXTENDED, SUPPORT_TYPES, Fleet

__all__ = ["check_platform", "today", "node_skew", "ACCESS_POLICIES", "AMI_TYPES", "PLATFORM_RULES"]

# EKS access policies (EKS user guide: access-policy-permissions); AmazonEKSClusterAdminPolicy is cluster-admin.
ACCESS_POLICIES = (
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSSecretReaderPolicy",
)
# Managed node group AMI types that EKS still publishes for 1.33+ (AL2 ended 2025-11-26).
AMI_TYPES = (
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "AL2023_x86_64_NEURON",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
)
SOON_DAYS = 90

# Every pattern on user input is used with fullmatch: `$` also matches before a trailing newline.
_PRINCIPAL = re.compile(r"arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}", re.ASCII)
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_ADDON_VERSION = re.compile(r"v\d+\.\d+\.\d+-eksbuild\.\d+", re.ASCII)
_KUBE_PROXY = re.compile(r"v1\.(\d+)\.\d+-eksbuild\.\d+", re.ASCII)  # kube-proxy's builds carry their minor
_AMI = re.compile(r"ami-[0-9a-f]{8}([0-9a-f]{9})?|resolve:ssm:/[\w./-]+", re.ASCII)
_SERVICE_ACCOUNT = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")


def today() -> date:
    """The date the version calendar is read at: `TFGEN_TODAY` (YYYY-MM-DD) or the system date."""
    forced = os.environ.get("TFGEN_TODAY")
    if forced:
        try:
            return date.fromisoformat(forced)
        except ValueError:
            pass  # reported by check_kubernetes_versions
    return date.today()


def check_platform(fleet: Fleet) -> list[Finding]:
    """Every finding of every platform rule."""
    findings: list[Finding] = []
    for rule in PLATFORM_RULES:
        findings.extend(rule(fleet))
    return findings



def check_kubernetes_versions(fleet: Fleet) -> Iterator[Finding]:
    forced = os.environ.get("TFGEN_TODAY")
    if forced:
        try:
            date.fromisoformat(forced)
        except ValueError:
            yield finding("VAL400", f"TFGEN_TODAY={forced!r} is not a date",
                           "set it as YYYY-MM-DD, or unset it to use today's date")
    on = today()
    best = newest(on)
    for env, region, cluster, path in clusters(fleet):
        version = cluster.kubernetes_version
        if cluster.support not in SUPPORT_TYPES:
            yield finding("VAL405", f"support {cluster.support!r} is not an EKS support policy",
                           "use `standard` (upgraded when standard support ends) or `extended` (billed)",
                           path=path, obj=cluster, field="support")
            continue
        if not isinstance(version, str) or not K8S_VERSION.fullmatch(version):
            continue  # VAL143
        entry = lookup(version)
        if entry is None:
            known = ", ".join(EKS_VERSIONS)
            yield finding("VAL401", f"EKS does not offer Kubernetes {version} (tfgen knows {known}, its calendar "
                           f"as of {TABLE_DATE}; read on {on})",
                           f'use kubernetes_version: "{best.version}"', path=path, obj=cluster,
                           field="kubernetes_version")
            continue
        phase = entry.phase(on)
        if phase == "ended":
            yield finding("VAL401", f"Kubernetes {version} left EKS extended support on {entry.extended_end}: "
                           f"EKS creates no such cluster (as of {on})",
                           f'use kubernetes_version: "{best.version}"', path=path, obj=cluster,
                           field="kubernetes_version")
        elif phase == "extended" and cluster.support != SUPPORT_EXTENDED:
            yield finding("VAL403", f"Kubernetes {version} left standard support on {entry.standard_end}; with "
                           f"support: standard EKS upgrades the cluster out from under Terraform (as of {on})",
                           f'use kubernetes_version: "{best.version}", or `support: extended` (billed)',
                           path=path, obj=cluster, field="kubernetes_version")
        elif phase == "extended":
            yield finding("VAL402", f"Kubernetes {version} is in extended support until {entry.extended_end}, "
                           f"billed per cluster hour (as of {on})",
                           f'upgrade to "{best.version}"', path=path, obj=cluster, field="kubernetes_version",
                           severity=Severity.WARNING)
        elif (entry.standard_end - on).days < SOON_DAYS:
            yield finding("VAL404", f"standard support of Kubernetes {version} ends on {entry.standard_end} "
                           f"({(entry.standard_end - on).days} days after {on})",
                           f'plan the upgrade to "{best.version}"', path=path, obj=cluster,
                           field="kubernetes_version", severity=Severity.WARNING)


def check_ami_types(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in clusters(fleet):
        for group in cluster.node_groups.values():
            if group.ami_type not in AMI_TYPES:
                guess = difflib.get_close_matches(str(group.ami_type), AMI_TYPES, n=1)
                hint = f"did you mean {guess[0]}?" if guess else f"use one of: {', '.join(AMI_TYPES)}"
                if str(group.ami_type).startswith("AL2_"):
                    hint = "Amazon Linux 2 node AMIs ended on 2025-11-26 (none for 1.33+): use AL2023_x86_64_STANDARD"
                yield finding("VAL406", f"ami_type {group.ami_type!r} is not an EKS node AMI type tfgen supports",
                               hint, path=f"{path}/{group.name}", obj=group, field="ami_type")


def _minor(version: object) -> int | None:
    return int(version.split(".")[1]) if isinstance(version, str) and K8S_VERSION.fullmatch(version) else None


def node_skew(cluster_version: str, node_version: str) -> str | None:
    """Why a kubelet of `node_version` may not run under a control plane of `cluster_version`, or None.

    Kubernetes' version skew policy: the kubelet never newer than kube-apiserver, at most three minors
    older (two before 1.25)."""
    control, node = _minor(cluster_version), _minor(node_version)
    if control is None or node is None:
        return None
    if node > control:
        return f"{node_version} is ahead of the control plane's {cluster_version}: a kubelet is never newer"
    allowed = 3 if node >= 25 else 2
    if control - node > allowed:
        return (f"{node_version} is {control - node} minors behind the control plane's {cluster_version}: a "
                f"kubelet {node_version} may be at most {allowed} behind")
    return None


def check_node_versions(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in clusters(fleet):
        for group in cluster.node_groups.values():
            if group.version is None:
                continue
            where = f"{path}/{group.name}"
            if not isinstance(group.version, str) or not K8S_VERSION.fullmatch(group.version):
                yield finding("VAL407", f"node group version {group.version!r} is not a Kubernetes version",
                               f'write it quoted as major.minor, e.g. "{cluster.kubernetes_version}", or leave it '
                               "out: the nodes follow the cluster", path=where, obj=group, field="version")
                continue
            skew = node_skew(cluster.kubernetes_version, group.version)
            if skew is not None:
                control, node = _minor(cluster.kubernetes_version) or 0, _minor(group.version) or 0
                fix = (f'leave `version` out: the nodes follow the cluster ("{cluster.kubernetes_version}")'
                       if node > control else
                       f'raise it to "1.{control - 3}" or later, or leave it out to follow the cluster')
                yield finding("VAL408", f"node group {group.name} at Kubernetes {skew}", fix,
                               path=where, obj=group, field="version")


def _access_targets(fleet: Fleet):
    for env in fleet.environments.values():
        yield env, env.access, env.name
        for region, cluster in env.clusters():
            yield env, cluster.access, f"{env.name}/{region.name}/{cluster.name}"


def check_access(fleet: Fleet) -> Iterator[Finding]:
    for env, access, path in _access_targets(fleet):
        if access.authentication_mode is not None and access.authentication_mode not in AUTHENTICATION_MODES:
            yield finding("VAL415", f"authentication_mode {access.authentication_mode!r} is not usable with "
                           "access entries", "use API (default) or API_AND_CONFIG_MAP while migrating from aws-auth",
                           path=path, obj=access, field="authentication_mode")
        principals = ([(p, access, "admins") for p in access.admins] + [(p, access, "viewers") for p in access.viewers]
                      + [(e.principal, e, "principal") for e in access.entries])
        for principal, obj, field in principals:
            if "*" in str(principal):
                yield finding("VAL412", f"access principal {principal!r} is a wildcard",
                               "name one IAM role or user; EKS access entries never take wildcards",
                               path=path, obj=obj, field=field)
            elif str(principal).startswith("arn:aws:sts::"):
                yield finding("VAL411", f"access principal {principal!r} is an assumed-role session",
                               "name the role itself: arn:aws:iam::<account>:role/<name>", path=path, obj=obj,
                               field=field)
            elif not _PRINCIPAL.fullmatch(str(principal)):
                yield finding("VAL411", f"access principal {principal!r} is not an IAM role or user ARN",
                               "write arn:aws:iam::<12-digit account>:role/<name> (or :user/<name>)",
                               path=path, obj=obj, field=field)
        for entry in access.entries:
            if entry.policy not in ACCESS_POLICIES:
                guess = difflib.get_close_matches(str(entry.policy), ACCESS_POLICIES, n=1)
                hint = f"did you mean {guess[0]}?" if guess else f"use one of: {', '.join(ACCESS_POLICIES)}"
                yield finding("VAL413", f"{entry.policy!r} is not an EKS access policy", hint,
                               path=path, obj=entry, field="policy")
            for namespace in entry.namespaces:
                if not _DNS_LABEL.fullmatch(str(namespace)):
                    yield finding("VAL414", f"namespace {namespace!r} is not a Kubernetes namespace name",
                                   "use lower-case letters, digits and dashes (at most 63)", path=path, obj=entry,
                                   field="namespaces")
            if entry.policy == "AmazonEKSClusterAdminPolicy" and entry.namespaces:
                yield finding("VAL416", "AmazonEKSClusterAdminPolicy is cluster-wide; namespaces do not narrow it",
                               "drop `namespaces`, or use AmazonEKSAdminPolicy for namespace admins",
                               path=path, obj=entry, field="namespaces")


_ADMIN_POLICIES = ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy")


def check_someone_administers(fleet: Fleet) -> Iterator[Finding]:
    """The cluster creator gets no hidden admin, so a cluster without an admin entry has nobody to install on it."""
    for env, region, cluster, path in clusters(fleet):
        if not any(e.policy in _ADMIN_POLICIES for e in env.access_entries(cluster)):
            yield finding("VAL417", "no access entry makes anyone an admin of this cluster; whoever runs terraform "
                           "apply gets none either (bootstrap_cluster_creator_admin_permissions is off)",
                           'add `access: {admins: ["arn:aws:iam::<account>:role/<admins>"]}` to the environment '
                           "or the cluster", path=path, obj=cluster, severity=Severity.WARNING)


def check_addons(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        owners = [(env.addons, env, env.name)] + [
            (c.addons, c, f"{env.name}/{r.name}/{c.name}") for r, c in env.clusters()]
        for addons, owner, path in owners:
            for name, addon in addons.items():
                if name not in ADDONS:
                    guess = difflib.get_close_matches(name, ADDONS, n=1)
                    yield finding("VAL421", f"tfgen does not manage an add-on called {name!r}",
                                   f"did you mean {guess[0]}?" if guess else f"use one of: {', '.join(ADDONS)}",
                                   path=path, obj=addon)
                elif addon.version is not None and not _ADDON_VERSION.fullmatch(str(addon.version)):
                    yield finding("VAL422", f"add-on version {addon.version!r} of {name} is not an EKS add-on version",
                                   "write it as EKS lists it, e.g. v1.19.2-eksbuild.1 "
                                   "(aws eks describe-addon-versions --addon-name " + name + ")",
                                   path=path, obj=addon, field="version")


def check_addon_versions(fleet: Fleet) -> Iterator[Finding]:
    """What each cluster's add-ons will run: a table gap leaves one on EKS's default (it will not follow an
    upgrade), and kube-proxy must stay within the control plane's skew."""
    for env, region, cluster, path in clusters(fleet):
        if _minor(cluster.kubernetes_version) is None:
            continue  # VAL143
        settings = {name: env.addon(cluster, name) for name in ADDONS}
        gaps = [name for name, setting in settings.items()
                if setting.version is None and table_version(name, cluster.kubernetes_version) is None]
        if gaps:
            yield finding("VAL423", f"tfgen's add-on table has no version of {', '.join(gaps)} for Kubernetes "
                           f"{cluster.kubernetes_version}: {'they keep' if len(gaps) > 1 else 'it keeps'} EKS's "
                           "default from creation and will not follow an upgrade unless pinned",
                           f"pin `addons.<name>.version` (aws eks describe-addon-versions --kubernetes-version "
                           f"{cluster.kubernetes_version} --addon-name <name>), or regenerate the table: "
                           f"{REGENERATE}", path=path, obj=cluster, field="kubernetes_version",
                           severity=Severity.WARNING)
        proxy = settings["kube-proxy"]
        built = _KUBE_PROXY.fullmatch(str(proxy.version)) if proxy.version is not None else None
        if built is not None:
            skew = node_skew(cluster.kubernetes_version, f"1.{built[1]}")
            if skew is not None:
                why = skew.replace("kubelet", "kube-proxy")
                yield finding("VAL424", f"kube-proxy {proxy.version} runs Kubernetes {why}",
                               f"pin a kube-proxy build of Kubernetes {cluster.kubernetes_version} (aws eks "
                               "describe-addon-versions --addon-name kube-proxy --kubernetes-version "
                               f"{cluster.kubernetes_version}), or leave its version out: tfgen's table gives it",
                               path=path, obj=proxy, field="version")


def check_gitops(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        if env.identity not in IDENTITY_MODES:
            yield finding("VAL431", f"identity {env.identity!r} is not a workload identity tfgen sets up",
                           "use pod-identity (EKS Pod Identity, default) or irsa (IAM roles for service accounts)",
                           path=env.name, obj=env, field="identity")
        gitops = env.gitops
        if not _DNS_LABEL.fullmatch(str(gitops.namespace)):
            yield finding("VAL432", f"gitops namespace {gitops.namespace!r} is not a Kubernetes namespace name",
                           "use lower-case letters, digits and dashes (at most 63)", path=env.name, obj=gitops,
                           field="namespace")
        for account in gitops.service_accounts:
            if not _SERVICE_ACCOUNT.fullmatch(str(account)):
                yield finding("VAL433", f"service account {account!r} is not a Kubernetes name",
                               "use lower-case letters, digits, '-' and '.'", path=env.name, obj=gitops,
                               field="service_accounts")


def check_bastion(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        bastion = env.bastion
        if not bastion.enabled:
            continue
        if not INSTANCE_TYPE.fullmatch(str(bastion.instance_type)):
            yield finding("VAL441", f"bastion instance_type {bastion.instance_type!r} is not an EC2 instance type",
                           "write family.size, e.g. t3.micro", path=env.name, obj=bastion, field="instance_type")
        if not _AMI.fullmatch(str(bastion.ami)):
            yield finding("VAL442", f"bastion ami {bastion.ami!r} is neither an AMI id nor an SSM parameter",
                           "write ami-0123456789abcdef0, or resolve:ssm:/aws/service/ami-amazon-linux-latest/"
                           "al2023-ami-kernel-default-x86_64 (the default)", path=env.name, obj=bastion, field="ami")


PLATFORM_RULES = (check_kubernetes_versions, check_ami_types, check_node_versions, check_access,
                  check_someone_administers, check_addons, check_addon_versions, check_gitops, check_bastion,
                  *ARGOCD_RULES)
