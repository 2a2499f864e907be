"""Rules on who runs Argo CD on the hub (`gitops.argocd`) and what its bootstrap needs (VAL434-VAL440, VAL443).

One function per rule, each returning findings and never raising; `ARGOCD_RULES`
lists them for `tfgen.checks` (after the platform rules). Every finding is located
at the spec line of the field to change.
"""

from __future__ import annotations

import re
from typing import Iterator

from ..bootstrap.tools import DEFAULT_PINS
from ..errors import Finding, Severity
from ..model import ARGOCD_MANAGED, ARGOCD_MODES, ARGOCD_NONE, ARGOCD_SELF_MANAGED, Fleet
from .support import finding

__all__ = ["ARGOCD_RULES", "check_argocd_mode", "check_identity_center", "check_chart_version",
           "check_gitops_repo", "check_bootstrap_needs_bastion"]

_SSO_INSTANCE = re.compile(r"arn:aws:sso:::instance/(sso)?ins-[0-9a-f]{16}", re.ASCII)
# Identity Store ids: a UUID, optionally after a 10-hex-digit store prefix.
_GROUP_ID = re.compile(r"([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]", re.ASCII)
_REPO_URL = re.compile(r"(https://|ssh://)[^\s]+|git@[\w.-]+:[^\s]+", re.ASCII)
_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", re.ASCII)


def check_argocd_mode(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        gitops = env.gitops
        if gitops.argocd not in ARGOCD_MODES:
            yield finding("VAL434", f"gitops argocd {gitops.argocd!r} is not a way tfgen runs Argo CD",
                          "use self-managed (tfgen's bootstrap installs the argo-cd chart, default), managed (EKS's "
                          "Argo CD capability) or none (the GitOps path only; install Argo CD yourself)",
                          path=env.name, obj=gitops, field="argocd")
        elif not gitops.enabled and gitops.argocd != ARGOCD_NONE and (
                "argocd" in gitops.where or gitops.argocd != ARGOCD_SELF_MANAGED):
            yield finding("VAL435", f"gitops enabled: false turns the GitOps path off, but argocd: {gitops.argocd} "
                          "asks tfgen to run Argo CD on it", "drop `enabled: false`, or write `argocd: none` "
                          "(the path without Argo CD) or drop `argocd`", path=env.name, obj=gitops, field="argocd")


def check_identity_center(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        gitops, center = env.gitops, env.gitops.identity_center
        if gitops.mode == ARGOCD_MANAGED and center is None:
            yield finding("VAL436", "argocd: managed (EKS's Argo CD capability) signs people in through IAM Identity "
                          "Center only, and no identity_center is given",
                          'add `identity_center: {instance_arn: "arn:aws:sso:::instance/ssoins-...", region: '
                          "us-east-1, admins: [<group id>]}` under gitops, or use argocd: self-managed",
                          path=env.name, obj=gitops, field="argocd")
            continue
        if center is None:
            continue
        if gitops.mode != ARGOCD_MANAGED:
            yield finding("VAL437", f"identity_center is used by argocd: managed only; with argocd: {gitops.mode} it "
                          "is ignored", "drop identity_center, or use argocd: managed", path=env.name, obj=gitops,
                          field="identity_center", severity=Severity.WARNING)
            continue
        if not _SSO_INSTANCE.fullmatch(str(center.instance_arn)):
            yield finding("VAL438", f"identity_center instance_arn {center.instance_arn!r} is not an IAM Identity "
                          "Center instance ARN", "copy it from `aws sso-admin list-instances`: "
                          "arn:aws:sso:::instance/ssoins-<16 hex digits>", path=env.name, obj=center,
                          field="instance_arn")
        if not _REGION.fullmatch(str(center.region)):
            yield finding("VAL438", f"identity_center region {center.region!r} is not an AWS region",
                          "give the region the Identity Center instance is in, e.g. us-east-1", path=env.name,
                          obj=center, field="region")
        if not center.admins:
            yield finding("VAL438", "identity_center names no admins: nobody could administer Argo CD",
                          "list Identity Center group ids under `admins` (aws identitystore list-groups)",
                          path=env.name, obj=center, field="admins")
        for group in center.admins:
            if not _GROUP_ID.fullmatch(str(group)):
                yield finding("VAL438", f"identity_center admin {group!r} is not an Identity Center group id",
                              "give the group's id (a UUID, from aws identitystore list-groups), not its name",
                              path=env.name, obj=center, field="admins")


def check_chart_version(fleet: Fleet) -> Iterator[Finding]:
    pinned = DEFAULT_PINS.chart
    for env in fleet.environments.values():
        gitops = env.gitops
        if gitops.chart_version is None:
            continue
        if gitops.mode != ARGOCD_SELF_MANAGED:
            yield finding("VAL439", f"chart_version is used by argocd: self-managed only; with argocd: "
                          f"{gitops.mode} it is ignored", "drop chart_version", path=env.name, obj=gitops,
                          field="chart_version", severity=Severity.WARNING)
        elif gitops.chart_version != pinned.version:
            yield finding("VAL439", f"argo-cd chart {gitops.chart_version!r} has no pin: the bootstrap installs only "
                          f"what it can check against a SHA-256 (tfgen pins {pinned.version}, Argo CD "
                          f"{pinned.app_version})", f'write chart_version: "{pinned.version}" or leave it out',
                          path=env.name, obj=gitops, field="chart_version")


def check_gitops_repo(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        repo = env.gitops.repo
        if repo is None:
            continue
        if env.gitops.mode == ARGOCD_NONE:
            yield finding("VAL440", "gitops repo is applied by tfgen's bootstrap, which argocd: none does not run: it "
                          "is ignored", "drop repo, or use argocd: self-managed", path=env.name, obj=env.gitops,
                          field="repo", severity=Severity.WARNING)
            continue
        if not _REPO_URL.fullmatch(str(repo.url)):
            yield finding("VAL440", f"gitops repo url {repo.url!r} is not a Git URL Argo CD can clone",
                          "write https://github.com/<org>/<repo>.git (or ssh://, git@host:org/repo.git)",
                          path=env.name, obj=repo, field="url")
        if not isinstance(repo.revision, str) or not repo.revision.strip() or any(c.isspace() for c in repo.revision):
            yield finding("VAL440", f"gitops repo revision {repo.revision!r} is not a branch, tag or commit",
                          "write e.g. `revision: main`", path=env.name, obj=repo, field="revision")
        if not _PATH.fullmatch(str(repo.path)) or ".." in str(repo.path).split("/"):
            yield finding("VAL440", f"gitops repo path {repo.path!r} is not a directory inside the repository",
                          "write a relative path without `..`, e.g. `path: bootstrap`", path=env.name, obj=repo,
                          field="path")


def check_bootstrap_needs_bastion(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        gitops = env.gitops
        if gitops.mode != ARGOCD_NONE and gitops.bootstrap and not env.bastion.enabled:
            yield finding("VAL443", f"argocd: {gitops.mode} is bootstrapped by an SSM command on the hub's bastion, "
                          "and the bastion is disabled", "enable the bastion (drop `bastion: {enabled: false}`); or, "
                          "once Argo CD runs, set gitops `bootstrap: false`; or use argocd: none",
                          path=env.name, obj=env.bastion, field="enabled")


ARGOCD_RULES = (check_argocd_mode, check_identity_center, check_chart_version, check_gitops_repo,
                check_bootstrap_needs_bastion)
