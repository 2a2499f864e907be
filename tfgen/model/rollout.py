"""How an upgrade rolls across an environment: waves of clusters, a bake between them, a failure tolerance.

`rollout` is written at the top of a spec (every environment without its own)
or in an environment. A wave is a list of names: a region names every edge
cluster in it, `region/cluster` one cluster (the hub too). Edges named by no
wave form a wave after the named ones, and the hub, unless a wave names it,
goes last in a wave of its own: Argo CD on the hub delivers to every edge, so a
hub that fails an upgrade stops GitOps for the whole environment, while an edge
that fails stops one region; the edges prove a version before the hub takes it.
`resolve_waves` turns a rollout into the environment's waves of clusters; the
rules on a rollout (unknown names, overlaps, the bake) are
`tfgen.checks.rollout`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Protocol

from .parts import Cluster, Region, _Located


class _Clusters(Protocol):
    """What the waves read of an environment (`tfgen.model.fleet.Environment`, which imports this module)."""

    regions: dict[str, Region]

    def clusters(self) -> Iterator[tuple[Region, Cluster]]: ...

__all__ = ["Rollout", "DEFAULT_BAKE", "ROLLBACK_WINDOW_HOURS", "bake_hours", "resolve_waves", "named_clusters"]

DEFAULT_BAKE = "24h"
# EKS rolls a control plane back one minor within 7 days of an in-place upgrade (rollback-cluster, July 2026).
ROLLBACK_WINDOW_HOURS = 7 * 24
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?", re.ASCII)


@dataclass(kw_only=True)
class Rollout(_Located):
    """Waves of clusters an upgrade takes in order: each a list of regions (their edges) or `region/cluster`
    names; `bake` (`24h`, `2d`, `90m`, `1d12h`) is how long a wave's upgraded control planes run before its
    nodes follow and the next wave starts; `failure_tolerance` is how many clusters of a wave may fail
    verification before `tfgen apply --waves` stops."""

    waves: list[list[str]] = field(default_factory=list)
    bake: str = DEFAULT_BAKE
    failure_tolerance: int = 0


def bake_hours(text: object) -> float | None:
    """The hours a bake such as `24h`, `2d`, `90m` or `1d12h` lasts; None when it is no such duration."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) and text else None
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return days * 24 + hours + minutes / 60


def named_clusters(env: _Clusters, name: str) -> list[str]:
    """The clusters (`region/cluster`) wave entry `name` names in `env`: a region's edges, or one cluster."""
    region_name, _, cluster_name = name.partition("/")
    region = env.regions.get(region_name)
    if region is None:
        return []
    if cluster_name:
        return [f"{region_name}/{cluster_name}"] if cluster_name in region.clusters else []
    return [f"{region_name}/{c.name}" for c in region.clusters.values() if not c.is_hub]


def resolve_waves(env: _Clusters, rollout: Rollout | None) -> list[list[str]]:
    """The waves of `env` under `rollout` (None: one wave of every edge, then the hub), each a list of
    `region/cluster` in spec order: the named waves, then every edge no wave names, then the hub unless named.
    A cluster named twice stays in its first wave; names the environment lacks name nothing."""
    placed: set[str] = set()
    waves: list[list[str]] = []
    for wave in (rollout.waves if rollout is not None else []):
        members = []
        for name in wave:
            for path in named_clusters(env, name):
                if path not in placed:
                    placed.add(path)
                    members.append(path)
        if members:
            waves.append(members)
    edges = [f"{r.name}/{c.name}" for r, c in env.clusters() if not c.is_hub and f"{r.name}/{c.name}" not in placed]
    if edges:
        waves.append(edges)
    hubs = [f"{r.name}/{c.name}" for r, c in env.clusters() if c.is_hub and f"{r.name}/{c.name}" not in placed]
    if hubs:
        waves.append(hubs)
    return waves
