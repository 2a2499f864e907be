"""Where in the spec a generated resource was written: the spec line a code-scanning alert belongs on.

A build writes no spec positions into OUT (they would change the generated files whenever a comment moves
a line); the YAML loader keeps them in the model (`where`). So `tfgen check --spec SPEC` loads the spec it
was built from and maps each resource to the object that made it by the names `tfgen.derive.naming` gives:
a resource belongs to the object whose stem is the longest that starts its name (a node group's
`<cluster>__<group>`, a cluster's `<region>_<cluster>`, a region's `<region>__<purpose>`); a peering or a
route to a peer belongs to the edge end, whose line made the link; anything else to its environment, and
the state root to the spec's `state:`. A resource no object claims keeps its generated file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..derive import naming
from ..errors import Origin

__all__ = ["spec_origins"]

_ROUTE = "__to__"  # naming.route_name


def spec_origins(spec: str | Path) -> Callable[[str, str], Origin | None]:
    """`origin(root, address)`: the spec's file and line that produced resource `address` of root `root`."""
    from ..spec import load
    from ..emit.state import STATE_ROOT

    fleet = load(spec)
    tables: dict[str, list[tuple[str, str, Origin | None, bool]]] = {}  # env -> (stem, kind, origin, hub)
    for env in fleet.environments.values():
        table = tables.setdefault(env.name, [])
        for region in env.regions.values():
            table.append((naming.alias(region.name) + "__", "region", region.origin(), False))
            for cluster in region.clusters.values():
                key = naming.cluster_key(region.name, cluster.name)
                table.append((key, "cluster", cluster.origin(), cluster.role == "hub"))
                for group in cluster.node_groups.values():
                    table.append((naming.node_group_name(key, group.name), "cluster", group.origin(), False))
        table.sort(key=lambda item: -len(item[0]))
    clusters = {env: {stem: (origin, hub) for stem, kind, origin, hub in table if kind == "cluster"}
                for env, table in tables.items()}

    def owner(env: str, name: str) -> tuple[Origin | None, bool] | None:
        for stem, kind, origin, hub in tables[env]:
            if kind == "region" and name.startswith(stem):
                return origin, False
            if kind == "cluster" and (name == stem or name.startswith(stem + "_")):
                return origin, hub
        return None

    def origin(root: str, address: str) -> Origin | None:
        directory = root.rsplit("/", 1)[-1]
        if directory == STATE_ROOT:
            return fleet.origin("state")
        env = naming.environment_of_root(directory)
        if env not in tables:
            return None
        name = address.rsplit(".", 1)[-1]
        found = owner(env, name)
        rest = name.split(_ROUTE, 1)[1] if _ROUTE in name else name.split("__", 1)[1] if "__" in name else ""
        peer = clusters[env].get(rest)
        if peer is not None and (found is None or found[1]):
            return peer[0]  # the link's edge end (a peering requested by, or a route of, the hub)
        if found is not None and found[0] is not None:
            return found[0]
        return fleet.environments[env].origin()

    return origin
