"""The baseline: the previous build in OUT, read back as the next build compares against it.

Its roots through THE index (`tfgen.terraform.roots.read_root`), its graph of roots and the record of the
fleet its manifest keeps (`tfgen.lifecycle.record`). No manifest, or an empty OUT: no baseline (a first build:
everything is new, no guard fires). A manifest an earlier tfgen wrote has no record: one is read from the
roots themselves (`recorded_from_roots`: each EKS cluster's region from its provider, its name from its AWS
name), enough to name what a change replaces or destroys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..derive import naming
from ..errors import TfgenError
from ..terraform.index import Root
from ..terraform.roots import read_root
from ..write import read_previous
from .record import CLUSTER, ENVIRONMENT, REGION, FleetObject, Record, read_record

__all__ = ["Baseline", "read_baseline", "recorded_from_roots"]


@dataclass(frozen=True)
class Baseline:
    """The previous build: `{root: its index}`, its graph of roots, its record (read or reconstructed)."""

    out: Path
    roots: dict[str, Root]
    graph: dict[str, list[str]]
    record: Record
    recorded: bool  # whether the manifest held the record (False: reconstructed from the roots)
    pending: bool = False  # OUT holds an interrupted build, read as it is

    def environment_of(self, root: str) -> str:
        for env in self.record.environments.values():
            if root in env.roots:
                return env.path
        return naming.environment_of_root(root)

    def resources(self, root: str) -> int:
        index = self.roots.get(root)
        return sum(1 for b in index.resources.values() if b.kind == "resource") if index else 0


def read_baseline(out: str | Path, *, project: str = "", recover: bool = False) -> Baseline | None:
    """The build in `out`, or None when there is none. `project` names the fleet (to read cluster names back
    from AWS names when the manifest has no record); `recover`: finish or undo an interrupted build first."""
    out = Path(out)
    previous = read_previous(out, recover=recover)
    if previous is None:
        return None
    roots = {}
    for name in sorted({rel.split("/", 1)[0] for rel in previous.files}):
        if (out / name).is_symlink():
            raise TfgenError(f"{out / name} is a symbolic link; tfgen reads the previous build only from real "
                             f"directories inside {out}, never through a link: replace the link with a directory, "
                             f"or build into another --out")
        if not (out / name).is_dir():
            continue  # gone since: nothing of it to compare
        index = read_root(out / name)
        if index.problems:
            problem = index.problems[0]
            raise TfgenError(f"{problem.location} {problem.message}, so the previous build cannot be compared with; "
                             f"nothing was written. Fix: restore it from version control (or remove it: then what "
                             f"it held is not compared)")
        roots[name] = index
    record = read_record(previous.fleet)
    graph = previous.roots or {name: [] for name in roots}
    if record is not None:
        return Baseline(out, roots, graph, record, True, previous.pending)
    return Baseline(out, roots, graph, recorded_from_roots(roots, project), False, previous.pending)


def recorded_from_roots(roots: dict[str, Root], project: str = "") -> Record:
    """A record read from the roots alone: environments by root name, clusters by their EKS clusters (region
    from the provider alias, name from the AWS name `<project>-<env>-<region>-<cluster>`), regions by their
    provider aliases. Links are not told apart from the clusters they join."""
    objects: dict[str, FleetObject] = {}
    for root, index in sorted(roots.items()):
        env = naming.environment_of_root(root)
        found = objects.get(env)
        objects[env] = FleetObject(env, ENVIRONMENT, env, (), tuple(sorted({*(found.roots if found else ()), root})),
                                   {"layout": "cells" if root != env else "environment", "protect": False})
        for block in index.of_type("aws_eks_cluster"):
            region = index.region_of(block) or ""
            eks = block.body.get("name")
            prefix = f"{project}-{env}-{region}-"
            name = eks[len(prefix):] if isinstance(eks, str) and project and eks.startswith(prefix) else \
                block.name.removeprefix(naming.alias(region) + "_")
            path = f"{env}/{region}/{name}"
            objects[path] = FleetObject(path, CLUSTER, env, (block.name,), (root,), {"region": region})
        for alias, region in index.aliases().items():
            path = f"{env}/{region}"
            if path not in objects:
                objects[path] = FleetObject(path, REGION, env, (alias, naming.region_stem(region, "ebs")), (root,),
                                            {"region": region})
    return Record(dict(sorted(objects.items())))
