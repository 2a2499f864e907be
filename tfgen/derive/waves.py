"""The rollout's waves as roots: what a build records so `tfgen apply --waves` and the CI configs need no spec.

In the cells layout each region is a root (`env--region`), so a wave of
clusters is a wave of roots: a root goes in the first wave that names one of
its clusters. The record, in the manifest under `waves` (only when the spec
writes a `rollout`), is per environment: the waves of roots, the clusters of
each wave (path, EKS name, region, the version the build gives it, for the
verification through the EKS API), the bake and the failure tolerance. An
environment in the environment layout is one root: there are no waves of roots
to record, and `apply --waves` says so.

`ordered_roots` turns the record into the order CI configs use: a root of a
later wave needs the roots of the wave before it, unless that would reverse an
edge of the graph of roots (in the cells layout every edge root needs the hub's
root, whose roles it trusts: the hub's root keeps its place first there, the
waves order the edges).
"""

from __future__ import annotations

from typing import Any, Mapping

from . import naming
from ..model import LAYOUT_CELLS, Fleet
from ..model.rollout import DEFAULT_BAKE, resolve_waves

__all__ = ["rollout_record", "wave_needs"]


def rollout_record(fleet: Fleet) -> dict[str, Any] | None:
    """The `waves` record of a build of `fleet`; None when the spec writes no rollout (nothing is recorded)."""
    if fleet.rollout is None and all(env.rollout is None for env in fleet.environments.values()):
        return None
    record: dict[str, Any] = {}
    for env in fleet.environments.values():
        if fleet.layout_of(env) != LAYOUT_CELLS:
            continue
        rollout = fleet.rollout_of(env)
        placed: set[str] = set()
        roots, clusters = [], []
        for wave in resolve_waves(env, rollout):
            wave_roots = []
            for path in wave:
                region = path.split("/")[0]
                root = naming.cell_root(env.name, naming.cell_name([region]))
                if root not in placed:
                    placed.add(root)
                    wave_roots.append(root)
            roots.append(sorted(wave_roots))
            clusters.append([{
                "path": f"{env.name}/{path}", "region": path.split("/")[0],
                "name": naming.eks_cluster_name(fleet.project, env.name, *path.split("/")),
                "version": env.region(path.split("/")[0]).cluster(path.split("/")[1]).kubernetes_version,
            } for path in wave])
        record[env.name] = {"waves": roots, "clusters": clusters,
                            "bake": rollout.bake if rollout else DEFAULT_BAKE,
                            "failure_tolerance": rollout.failure_tolerance if rollout else 0}
    return record


def wave_needs(needs: Mapping[str, list[str] | tuple[str, ...]], waves: Mapping[str, Any] | None
               ) -> dict[str, list[str]]:
    """`needs` (root -> the roots it needs) with each root of a wave also needing the roots of the wave before
    it in its environment, where that adds no cycle to the graph."""
    merged = {root: list(n) for root, n in needs.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            root = todo.pop()
            if root == goal:
                return True
            if root not in seen:
                seen.add(root)
                todo.extend(merged.get(root, ()))
        return False

    for env in (waves or {}).values():
        previous: list[str] = []
        for wave in env.get("waves", []):
            for root in wave:
                for before in previous:
                    if root in merged and before in merged and before not in merged[root] \
                            and not reaches(before, root):
                        merged[root].append(before)
            previous = [r for r in wave if r in merged] or previous
    return {root: sorted(n) for root, n in merged.items()}
