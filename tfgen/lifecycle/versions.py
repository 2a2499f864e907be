"""Kubernetes version steps EKS accepts: up one minor per control-plane update, never down.

`UpdateClusterVersion` moves a control plane one minor at a time, and EKS cannot
downgrade one: its rollback (since July 2026: back one minor, within 7 days of an
in-place upgrade) is an EKS API call the Terraform AWS provider lacks
(terraform-provider-aws #48751). So each cluster's version may stay where the
previous build put it, or rise by one minor.

One rule, two inputs: `check_version_steps` compares a fleet with the previous
build (`previous`: `env/region/cluster` -> its Kubernetes version, as the
lifecycle's baseline reads it from OUT); `check_planned_versions` reads the
`aws_eks_cluster` changes of a real plan (their `before` and `after` versions).
CHG530 refuses a step over a minor, naming each version on the way; CHG531
refuses a downgrade. Clusters without a previous version are new: any version.
Managed node groups follow their cluster (the emitted `version` is the
cluster's unless the spec pins one): EKS creates and updates a node group only
at its cluster's version, so a pin below the cluster can only keep the version
a group already runs (CHG532), the bake of an upgraded control plane. The
VPC CNI add-on moves one add-on minor per apply (CHG533), against the
`addon_version` the previous build emitted.
"""

from __future__ import annotations

import re
from typing import Collection, Iterable, Mapping

from ..errors import Finding
from ..model import Addon, Cluster, Fleet
from ..model.addons import table_version
from ..terraform.changes import ResourceChange

__all__ = ["minor", "versions_between", "step_problem", "check_version_steps", "check_planned_versions"]

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?", re.ASCII)


def minor(version: object) -> tuple[int, int] | None:
    """(major, minor) of a Kubernetes version such as "1.35" (a patch, "1.35.2", is ignored); None otherwise."""
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    return (int(match[1]), int(match[2])) if match else None


def versions_between(before: str, after: str) -> list[str]:
    """The versions an upgrade from `before` to `after` passes through, one minor each, `after` included."""
    low, high = minor(before), minor(after)
    if low is None or high is None or low[0] != high[0] or high <= low:
        return [after]
    return [f"{low[0]}.{m}" for m in range(low[1] + 1, high[1] + 1)]


def step_problem(before: str, after: str) -> tuple[str, str, str] | None:
    """(code, message, fix) when EKS cannot move a control plane from `before` to `after` in one update."""
    old, new = minor(before), minor(after)
    if old is None or new is None or old == new or old[0] != new[0]:
        return None
    if new < old:
        return ("CHG531", f"Kubernetes {before} -> {after} is a downgrade: EKS cannot downgrade a control plane, "
                "and its rollback (one minor, within 7 days of an in-place upgrade) is an EKS API call the "
                "Terraform AWS provider lacks (terraform-provider-aws #48751)",
                f'keep kubernetes_version: "{before}"')
    steps = versions_between(before, after)
    if len(steps) == 1:
        return None
    skipped = ", ".join(steps[:-1])
    return ("CHG530", f"Kubernetes {before} -> {after} skips {skipped}: EKS updates a control plane one minor "
            "at a time", _fix(steps))


def _fix(steps: list[str]) -> str:
    first, *rest = steps
    then = ", apply it, then ".join(f'"{v}"' for v in rest)
    return f'build with kubernetes_version: "{first}" first, apply it, then {then}'


def check_version_steps(fleet: Fleet, previous: Mapping[str, str], *, addons: Mapping[str, str] | None = None,
                        rolled_back: Collection[str] = ()) -> list[Finding]:
    """CHG530/CHG531 for each cluster whose version is not one EKS can reach from the previous build's,
    CHG532 for each node group pinned to a version EKS cannot give it, CHG533 for a VPC CNI step EKS refuses.

    `previous` maps `env/region/cluster` to the version the previous build gave the cluster, and
    `env/region/cluster/group` to the one it gave a managed node group (a group not named is new).
    `addons` maps `env/region/cluster/<add-on>` to the `addon_version` the previous build emitted.
    `rolled_back` names clusters whose control plane EKS rolled back one minor outside Terraform: for
    them, that one minor down is what the cluster already runs, not a downgrade.
    """
    findings = []
    for env in fleet.environments.values():
        for region, cluster in env.clusters():
            path = f"{env.name}/{region.name}/{cluster.name}"
            before, after = previous.get(path), cluster.kubernetes_version
            findings += _node_group_steps(path, cluster, previous)
            findings += _cni_step(path, cluster, env.addon(cluster, "vpc-cni"), (addons or {}).get(f"{path}/vpc-cni"))
            if not isinstance(before, str) or not isinstance(after, str):
                continue
            problem = step_problem(before, after)
            if problem is None or (problem[0] == "CHG531" and path in rolled_back and _one_down(before, after)):
                continue
            code, message, fix = problem
            findings.append(Finding(code, f"{message} (the previous build has {before})", fix, path=path,
                                    origin=cluster.origin("kubernetes_version")))
    return findings


def _node_group_steps(path: str, cluster: Cluster, previous: Mapping[str, str]) -> list[Finding]:
    """EKS creates a managed node group only at its cluster's version and updates it only to that version
    (CreateNodegroup, UpdateNodegroupVersion): a pin below the cluster can only keep what a group runs."""
    findings = []
    for group in sorted(cluster.node_groups.values(), key=lambda g: g.name):
        pinned, control = group.version, cluster.kubernetes_version
        low, high = minor(pinned), minor(control)
        if low is None or high is None or low >= high:
            continue  # the cluster's own version; a pin ahead of it is VAL408's
        runs = previous.get(f"{path}/{group.name}")
        if isinstance(runs, str) and minor(runs) == minor(pinned):
            continue
        if isinstance(runs, str):
            message = (f"node group {group.name} runs Kubernetes {runs} and is pinned to {pinned}, neither its "
                       f"cluster's {control}: EKS updates a node group only to its cluster's version")
            fix = f'keep version: "{runs}" while the control plane bakes, then leave it out (to "{control}")'
        else:
            message = (f"node group {group.name} is new at Kubernetes {pinned}, not its cluster's {control}: EKS "
                       "creates a node group only at its cluster's version")
            fix = f'leave `version` out (the group starts at "{control}"), or pin it only once it runs'
        findings.append(Finding("CHG532", message, fix, path=f"{path}/{group.name}", origin=group.origin("version")))
    return findings


def _one_down(before: str, after: str) -> bool:
    old, new = minor(before), minor(after)
    return old is not None and new is not None and old[0] == new[0] and old[1] - new[1] == 1


_ADDON_MINOR = re.compile(r"v(\d+)\.(\d+)\.\d+-eksbuild\.\d+", re.ASCII)


def _addon_minor(version: str | None) -> tuple[int, int] | None:
    match = _ADDON_MINOR.fullmatch(version) if isinstance(version, str) else None
    return (int(match[1]), int(match[2])) if match else None


def _cni_step(path: str, cluster: Cluster, setting: Addon, before: str | None) -> list[Finding]:
    """The EKS API updates the VPC CNI add-on one add-on minor at a time, up or down (terraform-aws-eks #2749:
    "Updating VPC-CNI can only go up or down 1 minor version at a time")."""
    now = setting.version or table_version("vpc-cni", cluster.kubernetes_version)
    old, new = _addon_minor(before), _addon_minor(now)
    if old is None or new is None or old[0] != new[0] or abs(new[1] - old[1]) <= 1:
        return []
    step = 1 if new[1] > old[1] else -1
    way = " build, apply it, then a ".join(f"v{old[0]}.{m}" for m in range(old[1] + step, new[1], step))
    pinned = setting.version is not None
    why = "as the spec pins it" if pinned else f"as tfgen's table gives Kubernetes {cluster.kubernetes_version}"
    return [Finding(
        "CHG533", f"the VPC CNI add-on would move {before} -> {now} ({why}): EKS updates it one add-on minor at "
        "a time", f"pin addons.vpc-cni.version to a {way} build first (aws eks describe-addon-versions "
        f"--addon-name vpc-cni --kubernetes-version {cluster.kubernetes_version}), apply it, then "
        + ("your version" if pinned else "leave the pin out"), path=path,
        origin=setting.origin("version") if pinned else cluster.origin("kubernetes_version"))]


def check_planned_versions(changes: Iterable[ResourceChange]) -> list[Finding]:
    """CHG530/CHG531 for each EKS cluster a real plan moves further than EKS allows (its state's `version`
    to the configured one)."""
    findings = []
    for change in changes:
        if change.type != "aws_eks_cluster" or not change.before or not change.after:
            continue
        before, after = change.before.get("version"), change.after.get("version")
        if not isinstance(before, str) or not isinstance(after, str):
            continue
        problem = step_problem(before, after)
        if problem is not None:
            code, message, fix = problem
            name = change.before.get("name") or change.address
            findings.append(Finding(code, f"{message} (EKS cluster {name} runs {before})", fix,
                                    path=f"{change.root}/{change.address}"))
    return findings
