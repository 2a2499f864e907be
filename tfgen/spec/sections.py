"""Readers of the spec sections about what runs on the clusters.

`access`, `addons`, `gitops`, `bastion` and `rollout` (environment and cluster level)
each get a small reader here instead of growing `spec._Reader`; they use the
reader's typed access, so findings carry file and line as everywhere else::

    environments:
      production:
        identity: pod-identity            # or irsa: how Argo CD and the EBS CSI driver get AWS roles
        access:
          admins: [arn:aws:iam::222222222222:role/platform-admin]
          viewers: [arn:aws:iam::222222222222:role/developers]
          entries:
            - {principal: "arn:aws:iam::222222222222:role/team-a", policy: AmazonEKSEditPolicy, namespaces: [team-a]}
        addons: {vpc-cni: {version: v1.19.2-eksbuild.1}}
        gitops:
          argocd: self-managed            # or managed (EKS's Argo CD capability), none (the path only)
          chart_version: "10.1.1"         # the argo-cd chart (self-managed); default: tfgen's pin
          repo: {url: https://github.com/example-org/fleet-gitops.git, revision: main, path: bootstrap}
          identity_center: {instance_arn: "arn:aws:sso:::instance/ssoins-...", region: us-east-1, admins: [<group id>]}
          bootstrap: true                 # false: the SSM bootstrap no longer runs on apply
        bastion: {enabled: true, instance_type: t3.micro}
        rollout: {waves: [[us-east-2], [us-west-2, eu-west-1]], bake: 24h, failure_tolerance: 0}
"""

from __future__ import annotations

from typing import Any

from ..model import Access, AccessEntry, Addon, Bastion, GitOps, GitOpsRepo, IdentityCenter, Rollout
from .keys import ACCESS, ACCESS_ENTRY, ADDON, BASTION, GITOPS, IDENTITY_CENTER, REPO, ROLLOUT

__all__ = ["read_access", "read_addons", "read_gitops", "read_bastion", "read_rollout"]


def read_access(reader, value: Any, path: tuple) -> Access:
    data = reader._mapping(value, path, ACCESS)
    access = Access(where=reader._where(path, *ACCESS),
                    **{k: v for k, v in data.items() if k != "entries"})
    for i, item in enumerate(data.get("entries", [])):
        epath = path + ("entries", i)
        entry = reader._mapping(item, epath, ACCESS_ENTRY)
        if all(name in entry for name in ACCESS_ENTRY.required):
            access.entries.append(AccessEntry(where=reader._where(epath, *ACCESS_ENTRY), **entry))
    return access


def read_addons(reader, value: Any, path: tuple) -> dict[str, Addon]:
    addons = {}
    checked = reader._typed(value, path, "map")
    for name, body in (checked if isinstance(checked, dict) else {}).items():
        data = reader._mapping(body, path + (name,), ADDON)
        addons[str(name)] = Addon(name=str(name), where=reader._where(path + (name,), *ADDON), **data)
    return addons


def read_gitops(reader, value: Any, path: tuple) -> GitOps:
    data = reader._mapping(value, path, GITOPS)
    nested = {}
    for key, table, cls in (("repo", REPO, GitOpsRepo), ("identity_center", IDENTITY_CENTER, IdentityCenter)):
        if key in data:
            body = reader._mapping(data[key], path + (key,), table)
            complete = all(name in body for name in table.required)
            nested[key] = cls(where=reader._where(path + (key,), *table), **body) if complete else None
    return GitOps(where=reader._where(path, *GITOPS), **{**data, **nested})


def read_bastion(reader, value: Any, path: tuple) -> Bastion:
    data = reader._mapping(value, path, BASTION)
    return Bastion(where=reader._where(path, *BASTION), **data)


def read_rollout(reader, value: Any, path: tuple) -> Rollout:
    data = reader._mapping(value, path, ROLLOUT)
    return Rollout(where=reader._where(path, *ROLLOUT), **data)
