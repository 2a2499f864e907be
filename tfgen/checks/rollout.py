"""Rules on `rollout` (top level or environment): the waves name clusters the environments have, each cluster
at most once, and the bake and failure tolerance are values `tfgen upgrade` and `tfgen apply --waves` can use.

A top-level rollout serves every environment without its own: a name is unknown only when none of those
environments has it (development may lack a region production has). One function per rule, never raising.
"""

from __future__ import annotations

from typing import Iterator

from ..errors import Finding, Severity
from ..model import Environment, Fleet, Rollout
from ..model.rollout import ROLLBACK_WINDOW_HOURS, bake_hours, named_clusters
from .support import finding

__all__ = ["check_rollout"]


def _served(fleet: Fleet) -> Iterator[tuple[Rollout, str, list[Environment]]]:
    """Each rollout with its place in the spec and the environments it serves."""
    if fleet.rollout is not None:
        served = [env for env in fleet.environments.values() if env.rollout is None]
        yield fleet.rollout, "rollout", served
    for env in fleet.environments.values():
        if env.rollout is not None:
            yield env.rollout, f"environments.{env.name}.rollout", [env]


def check_rollout(fleet: Fleet) -> Iterator[Finding]:
    """VAL461-VAL466 on every rollout of the fleet."""
    for rollout, path, served in _served(fleet):
        yield from _names(rollout, path, served)
        yield from _overlaps(rollout, path, served)
        yield from _bake(rollout, path)
        if rollout.failure_tolerance < 0:
            yield finding("VAL465", f"failure_tolerance {rollout.failure_tolerance} is below 0",
                          "give 0 (stop at the first cluster that fails) or the number of clusters a wave may lose",
                          path=path, obj=rollout, field="failure_tolerance")


def _names(rollout: Rollout, path: str, served: list[Environment]) -> Iterator[Finding]:
    for i, wave in enumerate(rollout.waves):
        if not wave:
            yield finding("VAL463", f"wave {i + 1} of the rollout names no cluster",
                          "remove the empty wave, or name regions or region/cluster in it",
                          path=path, obj=rollout, field="waves")
        for name in wave:
            if any(named_clusters(env, name) for env in served):
                continue
            region, _, cluster = name.partition("/")
            known = sorted({r for env in served for r in env.regions})
            hubs = [env for env in served if region in env.regions and env.regions[region].clusters
                    and all(c.is_hub for c in env.regions[region].clusters.values())]
            if not cluster and hubs:
                hub = hubs[0].hub
                why = (f"region {region} holds only the hub, which a region name does not name (the hub goes "
                       f"last unless named)")
                fix = f"name it `{region}/{hub.name if hub else 'hub'}` to put the hub in this wave"
            elif cluster and region in known:
                why = f"no environment the rollout serves has a cluster {name!r}"
                fix = "name a cluster of the region as `region/cluster`, or the region alone for all its edges"
            else:
                why = f"no environment the rollout serves has a region {region!r}"
                fix = f"name one of: {', '.join(known) or 'no regions yet'}"
            yield finding("VAL461", f"wave {i + 1} names {name!r}: {why}", fix, path=path, obj=rollout, field="waves")


def _overlaps(rollout: Rollout, path: str, served: list[Environment]) -> Iterator[Finding]:
    for env in served:
        first: dict[str, tuple[int, str]] = {}
        for i, wave in enumerate(rollout.waves):
            for name in wave:
                for cluster in named_clusters(env, name):
                    if cluster in first and first[cluster] != (i, name):
                        wave_no, by = first[cluster]
                        yield finding("VAL462", f"{env.name}/{cluster} is in wave {wave_no + 1} (as {by!r}) and "
                                      f"again in wave {i + 1} (as {name!r})",
                                      "name each cluster in one wave only: a region names all its edges",
                                      path=path, obj=rollout, field="waves")
                    first.setdefault(cluster, (i, name))


def _bake(rollout: Rollout, path: str) -> Iterator[Finding]:
    hours = bake_hours(rollout.bake)
    if hours is None:
        yield finding("VAL464", f"bake {rollout.bake!r} is not a duration",
                      "write days, hours and minutes such as 24h, 2d, 90m or 1d12h",
                      path=path, obj=rollout, field="bake")
    elif hours > ROLLBACK_WINDOW_HOURS:
        yield finding("VAL466", f"bake {rollout.bake} is longer than the 7 days in which EKS can roll an upgraded "
                      "control plane back: the end of the bake can no longer undo the upgrade",
                      "bake at most 7d, or keep it and know that a rollback is possible only in its first 7 days",
                      path=path, obj=rollout, field="bake", severity=Severity.WARNING)
