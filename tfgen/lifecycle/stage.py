"""The lifecycle stage of a build: between emit and write, against the previous build in OUT.

    spec -> model -> checks -> emit -> lifecycle (baseline, retirement, diff, guards) -> write

`run_stage` reads the baseline (`baseline`), records the new build (`record`), works out what retires
(`retire`: kept providers, retiring roots, the entries carried on or ended), adds that to the documents,
diffs the result against the baseline (`diff`), rolls it up (`summary`) and guards it (`guards`); it returns
what the writer needs: the final documents, the graph of roots, the record for the manifest, the allocation
tombstones still needed, the fleet diff and the findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..derive import naming
from ..emit import root_graph
from ..errors import Finding, FindingsError, Origin, Severity
from ..model import Fleet
from ..terraform.index import Root
from ..terraform.roots import documents_root
from .baseline import Baseline, read_baseline
from .diff import diff_builds
from .guards import check_allow_names, guard
from .record import CLUSTER, Record, record_of
from .retire import Retirement, add_retirement, check_retired_names, plan_retirement, retire_edges
from .summary import FleetDiff, summarize
from .versions import check_version_steps

__all__ = ["Staged", "run_stage", "origins", "previous_versions"]


@dataclass(frozen=True)
class Staged:
    """What the lifecycle stage hands the writer, and what it found."""

    documents: dict[str, dict[str, dict]]
    roots: dict[str, list[str]]
    record: Record
    diff: FleetDiff
    tombstones: dict[str, dict[str, str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    baseline: Baseline | None = None
    retirement: Retirement | None = None

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]


def run_stage(fleet: Fleet, documents: Mapping[str, dict[str, dict]], roots: Mapping[str, Root], out: str | Path, *,
              tombstones: Mapping[str, Mapping[str, str]] = (), allow_replace: Iterable[str] = (),
              allow_destroy: Iterable[str] = (), retired: Iterable[str] = (), moved: Iterable[str] = (),
              refuse: bool = True, recover: bool = False) -> Staged:
    """The stage for `fleet` (pool CIDRs allocated) emitted as `documents` (indexed as `roots`), against the
    build in `out`. With `refuse`, raises `FindingsError` when a guard refuses; `TfgenError` for a flag that names
    nothing (exit 2). `recover`: finish or undo an interrupted build in `out` first (a build about to write)."""
    allow_replace = check_allow_names(allow_replace, "--allow-replace")
    allow_destroy = check_allow_names(allow_destroy, "--allow-destroy")
    baseline = read_baseline(out, project=fleet.project, recover=recover)
    live = record_of(fleet, roots)
    if baseline is None:
        graph = root_graph(roots)
        diff = summarize(diff_builds({}, roots), live, against=f"{out} (no previous build: everything is new)")
        return Staged(dict(documents), graph, live, diff, _tombstones(tombstones, None, live), [], None, None)
    retired = check_retired_names(retired, baseline.record if baseline.recorded else None)
    retirement = plan_retirement(baseline, live, roots, retired=retired, moved=moved)
    final = add_retirement(documents, retirement)
    indexes = {**roots, **{r: documents_root(d, emitted=True) for r, d in final.items()
                           if r not in roots or r in retirement.providers}}
    record = live.with_retiring(retirement.entries)
    compared = Record({**live.objects, **retirement.removed}, dict(retirement.carried))
    changes = diff_builds(baseline.roots, indexes, old_environment_of=baseline.environment_of,
                          new_environment_of=lambda root: _environment_of(record, root))
    notes = [f"{path}: retirement ended ({why}); its kept providers and roots are dropped"
             for path, why in sorted(retirement.ended.items())]
    notes += [f"{path} retires: apply {', '.join(e.roots)} to destroy it" + (
        f" (retiring root {', '.join(e.whole)} is kept until then)" if e.whole else "")
        for path, e in retirement.entries.items() if path in retirement.started]
    if baseline.pending:
        notes.append(f"{out} holds an interrupted build; compared as it is (a build finishes or undoes it first)")
    if not baseline.recorded:
        notes.append(f"the previous build in {out} has no record of the fleet (an earlier tfgen); objects are "
                     f"read from its roots")
    diff = summarize(changes, compared, against=f"the previous build in {out}")
    diff = FleetDiff(diff.objects, diff.unchanged, diff.against, tuple(notes))
    findings = guard(diff, allow_replace=allow_replace, allow_destroy=allow_destroy, origin_of=origins(fleet))
    findings += _version_steps(fleet, baseline)
    if refuse and any(f.severity is Severity.ERROR for f in findings):
        raise FindingsError(findings)
    graph = retire_edges(root_graph(indexes), baseline.graph,
                         [r for e in retirement.entries.values() for r in e.whole])
    return Staged(final, graph, record, diff, _tombstones(tombstones, baseline, record), findings, baseline,
                  retirement)


def origins(fleet: Fleet):
    """path -> where it is written in the spec: the cluster, else its environment, else the environments."""
    def origin_of(path: str) -> Origin | None:
        env_name, _, rest = path.partition("/")
        env = fleet.environments.get(env_name)
        if env is None:
            return fleet.origin("environments")
        found = env.find_cluster(rest) if rest.count("/") == 1 else None
        if found is not None:
            return found[1].origin()
        region = env.regions.get(rest) if rest and "/" not in rest else None
        return region.origin() if region is not None else env.origin()
    return origin_of


def _environment_of(record: Record, root: str) -> str:
    for env in record.environments.values():
        if root in env.roots:
            return env.path
    for entry in record.retiring.values():
        if root in entry.whole:
            return next((o.environment for o in entry.objects), entry.path.split("/", 1)[0])
    return naming.environment_of_root(root)


def _tombstones(tombstones, baseline: Baseline | None, record: Record) -> dict[str, dict[str, str]]:
    """The allocation tombstones still needed: all without a recorded baseline to tell; else those of clusters
    still retiring (a tombstone whose retirement ended frees its block for the next build)."""
    tombstones = {env: dict(entries) for env, entries in dict(tombstones).items()}
    if baseline is None or not baseline.recorded:
        return tombstones
    retiring = {o.path for e in record.retiring.values() for o in e.objects if o.kind == CLUSTER}
    return {env: kept for env, entries in tombstones.items()
            if (kept := {name: block for name, block in entries.items() if f"{env}/{name}" in retiring})}


def previous_versions(baseline: Baseline) -> tuple[dict[str, str], dict[str, str]]:
    """What the previous build gave each cluster, read from its roots: `{env/region/cluster: Kubernetes version,
    env/region/cluster/group: node group version}` and `{env/region/cluster/add-on: addon_version}` (the
    upgrade rule's inputs; what the previous build did not pin is absent)."""
    versions: dict[str, str] = {}
    addons: dict[str, str] = {}
    for obj in baseline.record.objects.values():
        if obj.kind != CLUSTER or not obj.keys:
            continue
        key = obj.keys[0]
        if obj.facts.get("version"):
            versions[obj.path] = str(obj.facts["version"])
        groups = {naming.node_group_name(key, group): group for group in obj.facts.get("node_groups") or {}}
        for root in obj.roots:
            index = baseline.roots.get(root)
            if index is None:
                continue
            for block in index.of_type("aws_eks_node_group"):
                if block.name in groups and isinstance(block.body.get("version"), str):
                    versions[f"{obj.path}/{groups[block.name]}"] = block.body["version"]
            for block in index.of_type("aws_eks_addon"):
                name, version = block.body.get("addon_name"), block.body.get("addon_version")
                if isinstance(name, str) and isinstance(version, str) and block.name == naming.addon_name(key, name):
                    addons[f"{obj.path}/{name}"] = version
    return versions, addons


def _version_steps(fleet: Fleet, baseline: Baseline) -> list[Finding]:
    """The upgrade-safety rule (one minor per control-plane step, node groups and the VPC CNI within what EKS
    accepts) against what the previous build gave each cluster."""
    versions, addons = previous_versions(baseline)
    return check_version_steps(fleet, versions, addons=addons)
