"""Retirement: what the spec no longer has becomes output Terraform can apply, kept until the apply ran.

Removing something from the spec must still leave Terraform a way to destroy it:

- a region (or the last cluster of a region) removed from a root that stays: the `aws` provider blocks its
  resources were made with stay in that root's providers file, copied verbatim from the previous build, until
  the destroy ran (Terraform needs the provider of every resource in its state to destroy it);
- an environment, or a cells root, removed: the root stays as a *retiring root*, its `terraform.tf.json` and
  providers file verbatim and no resources, so applying it destroys what its state holds; in the graph of roots
  it waits for every root that needed it in the previous build (a link root retires before its region root, and
  a root that stops using it is applied first);
- the `retiring` entries of the record (`Retiring`) are the state machine: an entry starts when the previous
  build had objects this one lacks and ends when its roots were applied and their state holds nothing of it
  (`settle`, after `tfgen apply`/`tfgen destroy`), when the user says so (`tfgen build --retired PATH`, an apply
  that ran elsewhere), or when the object is back in the spec. The next build then drops the kept providers and
  the retiring root.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from ..errors import TfgenError
from ..terraform.index import Root
from ..terraform.references import provider_alias
from .baseline import Baseline
from .record import CLUSTER, ENVIRONMENT, LINK, REGION, FleetObject, Record, Retiring

__all__ = ["KEPT_FILES", "Retirement", "plan_retirement", "add_retirement", "retire_edges", "settled",
           "check_retired_names"]

# The files of a retiring root: its settings (backend, required providers) and its providers.
KEPT_FILES = ("terraform.tf.json", "providers.tf.json")
PROVIDERS_FILE = "providers.tf.json"


@dataclass
class Retirement:
    """What this build retires: every entry after it (`entries`: carried on and new), the objects the spec lost
    (`removed`), the entries that ended, the retiring roots' documents and the provider blocks kept per root."""

    entries: dict[str, Retiring] = field(default_factory=dict)
    carried: dict[str, Retiring] = field(default_factory=dict)
    removed: dict[str, FleetObject] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)  # entry -> why it ended
    documents: dict[str, dict[str, dict]] = field(default_factory=dict)
    providers: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def started(self) -> list[str]:
        return sorted(set(self.entries) - set(self.carried))


def check_retired_names(names: Iterable[str], record: Record | None) -> list[str]:
    """`--retired` names, each an entry of the previous build's record (or holding some); else a usage error."""
    names = [str(n).strip().strip("/") for n in names]
    entries = sorted(record.retiring) if record is not None else []
    for name in names:
        if not any(e == name or e.startswith(name + "/") for e in entries):
            known = ", ".join(entries) or "nothing is retiring"
            raise TfgenError(f"--retired {name}: the previous build has no retirement of {name} ({known}); fix: "
                             f"name one of them, or drop the flag")
    return names


def _ends(entry: Retiring, retired: list[str], live: Record) -> str:
    if entry.done:
        return f"applied ({', '.join(entry.applied)})"
    if any(entry.path == n or entry.path.startswith(n + "/") for n in retired):
        return "retired (--retired)"
    if entry.path in live.objects:
        return "back in the spec"
    return ""


def _removed(baseline: Record, live: Record) -> dict[str, FleetObject]:
    return {path: obj for path, obj in baseline.objects.items() if path not in live.objects}


def _group(removed: Mapping[str, FleetObject], live: Record) -> dict[str, list[FleetObject]]:
    """Removed objects by the entry that retires them: an environment, a region, a cluster (links go with a
    removed end; a link removed on its own is just destroyed)."""
    groups: dict[str, list[FleetObject]] = {}
    clusters = {p for p, o in removed.items() if o.kind == CLUSTER}
    for path, obj in sorted(removed.items()):
        env = obj.environment
        if env in removed:
            groups.setdefault(env, []).append(obj)
        elif obj.kind == REGION:
            groups.setdefault(path, []).append(obj)
        elif obj.kind == CLUSTER:
            region = path.rsplit("/", 1)[0]
            groups.setdefault(region if region in removed else path, []).append(obj)
        elif obj.kind == LINK:
            ends = [f"{env}/{e}" for e in obj.facts.get("ends", ())]
            end = next((e for e in ends if e in clusters or e in removed), None)
            if end is not None:
                region = end.rsplit("/", 1)[0] if end in clusters else end
                groups.setdefault(region if region in removed else end, []).append(obj)
    return groups


def _aliases_used(index: Root) -> set[str]:
    used = set()
    for block in index.resources.values():
        pinned = provider_alias(block.body.get("provider"))
        if pinned and pinned[0] == "aws":
            used.add(pinned[1])
    return used


def plan_retirement(baseline: Baseline, live: Record, new_roots: Mapping[str, Root], *,
                    retired: Iterable[str] = (), moved: Iterable[str] = ()) -> Retirement:
    """What this build retires, given the previous build, the record of the new one and its roots. `retired`:
    entries the user says were applied elsewhere; `moved`: environments whose layout switched (their roots'
    resources move, they do not retire)."""
    retired, moved = list(retired), set(moved)
    result = Retirement()
    for path, entry in baseline.record.retiring.items():
        why = _ends(entry, retired, live)
        if why:
            result.ended[path] = why
        else:
            result.carried[path] = entry
    result.removed = _removed(baseline.record, live) if baseline.recorded else {}
    groups = _group(result.removed, live)
    kinds = {path: result.removed[path].kind if path in result.removed else ENVIRONMENT for path in groups}
    entries: dict[str, dict] = {path: {"kind": kinds[path], "objects": objs, "roots": set(), "whole": set(),
                                       "providers": {}} for path, objs in groups.items()}
    for path, objs in groups.items():
        for obj in objs:
            entries[path]["roots"].update(r for r in obj.roots if r in new_roots)
    owner_of = {o.path: p for p, objs in groups.items() for o in objs}
    # Roots the build no longer makes, that held resources: retiring roots.
    for root in sorted(set(baseline.roots) - set(new_roots)):
        env = baseline.environment_of(root)
        if env in moved or baseline.resources(root) == 0:
            continue
        owner = env if env in entries else None
        if owner is None:
            index = baseline.roots[root]
            first = next((a for a, b in sorted(index.resources.items()) if b.kind == "resource"), "")
            owner = owner_of.get(baseline.record.owner(root, first)) if first else None
        if owner is None:
            owner = root
            entries.setdefault(owner, {"kind": "root", "objects": [], "roots": set(), "whole": set(),
                                       "providers": {}})
        entries[owner]["whole"].add(root)
        entries[owner]["roots"].add(root)
    # Providers of resources a root that stays no longer has.
    for root in sorted(set(baseline.roots) & set(new_roots)):
        old, new = baseline.roots[root], new_roots[root]
        aliases = old.aliases()
        for alias in sorted(_aliases_used(old) - set(new.aliases())):
            env = baseline.environment_of(root)
            owner = f"{env}/{aliases.get(alias, alias)}"
            entries.setdefault(owner, {"kind": REGION, "objects": [], "roots": set(), "whole": set(),
                                       "providers": {}})
            entries[owner]["providers"].setdefault(root, set()).add(alias)
            entries[owner]["roots"].add(root)
    for path, entry in result.carried.items():
        keep_whole = tuple(r for r in entry.whole if r in baseline.roots and r not in new_roots)
        keep_providers = {r: tuple(a for a in aliases if r in new_roots and a not in new_roots[r].aliases())
                          for r, aliases in entry.providers.items()}
        result.carried[path] = replace(entry, whole=keep_whole,
                                       providers={r: a for r, a in keep_providers.items() if a})
    result.entries = dict(result.carried)
    for path, entry in entries.items():
        if not entry["roots"]:
            continue  # nothing of it was ever applied by a root: nothing to wait for
        result.entries[path] = Retiring(
            path, entry["kind"], tuple(sorted(entry["roots"])), tuple(sorted(entry["whole"])),
            {root: tuple(sorted(aliases)) for root, aliases in sorted(entry["providers"].items())},
            tuple(sorted(entry["objects"], key=lambda o: o.path)))
    result.entries = dict(sorted(result.entries.items()))
    _documents(result, baseline)
    return result


def _raw(index: Root, file: str) -> dict | None:
    text = index.texts.get(file)
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


def _documents(result: Retirement, baseline: Baseline) -> None:
    """The retiring roots' files and the kept provider blocks, verbatim from the previous build."""
    for entry in result.entries.values():
        for root in entry.whole:
            index = baseline.roots[root]
            docs = {f: d for f in KEPT_FILES if (d := _raw(index, f)) is not None}
            if docs:
                result.documents[root] = docs
        for root, aliases in entry.providers.items():
            raw = _raw(baseline.roots[root], PROVIDERS_FILE) or {}
            blocks = (raw.get("provider") or {}).get("aws") or []
            blocks = blocks if isinstance(blocks, list) else [blocks]
            kept = [b for b in blocks if isinstance(b, dict) and b.get("alias") in aliases]
            result.providers.setdefault(root, []).extend(kept)


def add_retirement(documents: Mapping[str, dict[str, dict]], retirement: Retirement) -> dict[str, dict[str, dict]]:
    """The build's documents with the retiring roots added and the kept providers back in their roots."""
    clashes = sorted(set(retirement.documents) & set(documents))
    if clashes:
        raise TfgenError(f"root {clashes[0]} is retiring (its environment or cell was removed) and this build makes "
                         f"a root of that name again; fix: apply the retirement first (`tfgen apply`, then build), "
                         f"or name the new environment differently")
    result = dict(documents)
    for root, blocks in retirement.providers.items():
        docs = dict(result[root])
        providers = copy.deepcopy(docs.get(PROVIDERS_FILE) or {"provider": {"aws": []}})
        present = providers.setdefault("provider", {}).setdefault("aws", [])
        have = {b.get("alias") for b in present}
        present.extend(copy.deepcopy(b) for b in blocks if b.get("alias") not in have)
        present.sort(key=lambda b: str(b.get("alias")))
        docs[PROVIDERS_FILE] = providers
        result[root] = docs
    result.update(copy.deepcopy(retirement.documents))
    return result


def retire_edges(graph: dict[str, list[str]], previous: Mapping[str, list[str]], retiring: Iterable[str]
                 ) -> dict[str, list[str]]:
    """The build's graph with each retiring root waiting for the roots that needed it in the previous build
    (dependents go first: a root that stops using it is applied, a retiring dependent is destroyed)."""
    result = {root: list(needs) for root, needs in graph.items()}
    for root in retiring:
        if root not in result:
            continue
        dependents = [r for r, needs in previous.items() if root in needs and r in result and r != root]
        result[root] = sorted(set(result[root]) | set(dependents))
    return result


def settled(entry: Retiring, root: str, addresses: Iterable[str], record: Record) -> Retiring:
    """`entry` after an apply (or destroy) of `root` succeeded with `addresses` left in its state (`record`:
    the build's, which says who owns them): the root counts as applied when none of them is the entry's (for a
    retiring root: when none is left at all)."""
    if root not in entry.roots or root in entry.applied:
        return entry
    mine = {o.path for o in entry.objects}
    left = [a for a in addresses if root in entry.whole or record.owner(root, a) in mine]
    if left:
        return entry
    return replace(entry, applied=tuple(sorted({*entry.applied, root})))
