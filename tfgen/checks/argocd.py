"""Rules on who runs Argo CD on the hub (`gitops.argocd`) and what its bootstrap needs (VAL434-VAL440, VAL443),
and its scale and credentials (VAL450-VAL453).

One function per rule, each returning findings and never raising; `ARGOCD_RULES`
lists them for `tfgen.checks` (after the platform rules). Every finding is located
at the spec line of the field to change.
"""

from __future__ import annotations

import re
from typing import Iterator
from urllib.parse import urlsplit

from ..bootstrap.tools import DEFAULT_PINS
from ..derive.gitops_path import CAPABILITY_CLUSTERS, edges_of, registered_clusters
from ..errors import Finding, Severity
from ..model import ARGOCD_MANAGED, ARGOCD_MODES, ARGOCD_NONE, ARGOCD_SELF_MANAGED, SHARDING_ALGORITHMS, Fleet
from .secrets import looks_secret
from .support import finding

__all__ = ["ARGOCD_RULES", "check_argocd_mode", "check_identity_center", "check_chart_version",
           "check_gitops_repo", "check_bootstrap_needs_bastion", "check_capability_limit", "check_repo_secrets",
           "check_repo_credential", "check_sharding"]

_SSO_INSTANCE = re.compile(r"arn:aws:sso:::instance/(sso)?ins-[0-9a-f]{16}", re.ASCII)
# Identity Store ids: a UUID, optionally after a 10-hex-digit store prefix.
_GROUP_ID = re.compile(r"([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]", re.ASCII)
_REPO_URL = re.compile(r"(https://|ssh://)[^\s]+|git@[\w.-]+:[^\s]+", re.ASCII)
_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", re.ASCII)
# A whole Secrets Manager secret ARN (its name ends in the six characters AWS adds): IAM matches it exactly.
_SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:secret:"
                         r"[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}", re.ASCII)
_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:key/"
                      r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.ASCII)
_MOVE_CREDENTIAL = ("put the credential in AWS Secrets Manager (JSON {\"username\": ..., \"token\": ...} for "
                    "https://, the private key for SSH) and name it with `secret_arn: arn:aws:secretsmanager:...` under "
                    "repo; the value was in the spec: revoke it and make a new one")


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


def check_capability_limit(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        count = registered_clusters(env)
        if env.gitops.mode == ARGOCD_MANAGED and count > CAPABILITY_CLUSTERS:
            yield finding("VAL450", f"argocd: managed registers {count} clusters with EKS's Argo CD capability on the "
                          f"hub ({len(edges_of(env))} edges and the hub, which the capability reaches by ARN too); a "
                          f"capability configures at most {CAPABILITY_CLUSTERS} (EKS user guide, Capability "
                          "Kubernetes resources)", f"split the environment so each hub manages at most "
                          f"{CAPABILITY_CLUSTERS - 1} edges, or use argocd: self-managed (its application controller is "
                          "sharded by cluster)", path=env.name, obj=env.gitops, field="argocd")


def _userinfo(url: str) -> bool:
    """Whether a URL carries a credential: any user part in http(s), a password in ssh:// (`git@` is the user)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme in ("http", "https"):
        return "@" in parts.netloc
    return parts.scheme == "ssh" and parts.password is not None


def check_repo_secrets(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        repo = env.gitops.repo
        if repo is None:
            continue
        if isinstance(repo.url, str) and _userinfo(repo.url):
            yield finding("VAL451", "gitops repo url carries a credential (user information before `@`): it would "
                          "land in the committed output, Terraform state, the registration data and the root "
                          "Application, readable by anyone who can list Applications", "write the URL without it "
                          f"(https://host/org/repo.git) and {_MOVE_CREDENTIAL}", path=env.name, obj=repo, field="url")
            continue
        for name in ("url", "revision", "path"):
            if looks_secret(str(getattr(repo, name))):
                yield finding("VAL451", f"gitops repo {name} reads as a credential (a token or key)",
                              f"write the repository's {name} without it and {_MOVE_CREDENTIAL}", path=env.name,
                              obj=repo, field=name)


def check_repo_credential(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        gitops, repo = env.gitops, env.gitops.repo
        if repo is None or not (repo.secret_arn or repo.kms_key_arn):
            continue
        if not repo.secret_arn:
            yield finding("VAL452", "gitops repo kms_key_arn is given without secret_arn: there is no secret to "
                          "decrypt", "name the secret with `secret_arn`, or drop kms_key_arn", path=env.name, obj=repo,
                          field="kms_key_arn")
            continue
        if not _SECRET_ARN.fullmatch(str(repo.secret_arn)):
            yield finding("VAL452", f"gitops repo secret_arn {repo.secret_arn!r} is not the whole ARN of an AWS "
                          "Secrets Manager secret (IAM grants reading exactly that ARN)", "copy it from `aws "
                          "secretsmanager describe-secret --secret-id NAME --query ARN`: arn:aws:secretsmanager:"
                          "<region>:<account>:secret:<name>-<6 characters>", path=env.name, obj=repo, field="secret_arn")
        if repo.kms_key_arn and not _KEY_ARN.fullmatch(str(repo.kms_key_arn)):
            yield finding("VAL452", f"gitops repo kms_key_arn {repo.kms_key_arn!r} is not a KMS key ARN (IAM does not "
                          "match an alias)", "give the key's ARN, arn:aws:kms:<region>:<account>:key/<key id> (aws kms "
                          "describe-key --key-id alias/NAME --query KeyMetadata.Arn)", path=env.name, obj=repo,
                          field="kms_key_arn")
        if gitops.mode == ARGOCD_NONE or (gitops.mode == ARGOCD_SELF_MANAGED and not gitops.bootstrap):
            yield finding("VAL452", f"gitops repo secret_arn is read by tfgen's bootstrap, which "
                          f"{'argocd: none' if gitops.mode == ARGOCD_NONE else 'bootstrap: false'} does not run: it "
                          "is ignored", "create Argo CD's repository Secret yourself, or drop secret_arn",
                          path=env.name, obj=repo, field="secret_arn", severity=Severity.WARNING)


def check_sharding(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        gitops = env.gitops
        given = [name for name in ("controller_replicas", "sharding") if getattr(gitops, name) is not None]
        if gitops.mode == ARGOCD_MANAGED and given:
            yield finding("VAL453", f"gitops {given[0]} sets up the application controller of a self-managed Argo "
                          "CD; EKS's capability runs its own, so it is ignored", f"drop {given[0]}", path=env.name,
                          obj=gitops, field=given[0], severity=Severity.WARNING)
            continue
        replicas, clusters = gitops.controller_replicas, registered_clusters(env)
        if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < 1:
            yield finding("VAL453", f"gitops controller_replicas {replicas} runs no application controller",
                          "give 1 or more, or leave it out (one per 50 clusters)", path=env.name, obj=gitops,
                          field="controller_replicas")
        elif isinstance(replicas, int) and clusters and replicas > clusters:
            yield finding("VAL453", f"gitops controller_replicas {replicas} is more than the {clusters} clusters Argo "
                          "CD manages: the controller shards by cluster, so some replicas would manage nothing",
                          f"give at most {clusters}, or leave it out", path=env.name, obj=gitops,
                          field="controller_replicas", severity=Severity.WARNING)
        if gitops.sharding is not None and gitops.sharding not in SHARDING_ALGORITHMS:
            yield finding("VAL453", f"gitops sharding {gitops.sharding!r} is not an algorithm of Argo CD's "
                          "application controller", f"write one of {', '.join(SHARDING_ALGORITHMS)}, or leave it out "
                          "(legacy)", path=env.name, obj=gitops, field="sharding")


ARGOCD_RULES = (check_argocd_mode, check_identity_center, check_chart_version, check_gitops_repo,
                check_bootstrap_needs_bastion, check_capability_limit, check_repo_secrets, check_repo_credential,
                check_sharding)
