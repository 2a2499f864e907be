"""Day-2 assertions on a plan's changes, in the fleet's words (the lifecycle's fleet diff).

    plan = tfgen_plan(out / "production")            # with --tfgen-real: against your state
    assert_no_replacements(plan, out=out)
    assert_changes(plan, allow={"updated": ["production/*"], "new": ["production/eu-west-1/*"]}, out=out)

A plan's resource changes are read by tfgen's plan-JSON reader (`tfgen.terraform.planjson`) and rolled up
into fleet objects (clusters, links, regions, environments) by `tfgen.lifecycle.summary.summarize`, with the
record of the build in `out` when given (without it, a change belongs to its environment).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..lifecycle.record import Record
from ..lifecycle.summary import FleetDiff, Status, summarize
from ..terraform.changes import Action, ResourceChange
from ..terraform.plan import Plan
from ..terraform.planjson import read_plan

__all__ = ["ALLOW_KEYS", "fleet_diff", "assert_no_replacements", "assert_changes"]

ALLOW_KEYS = {"new": Status.NEW, "updated": Status.UPDATED, "replaced": Status.REPLACED,
              "destroyed": Status.DESTROYED}
"""The words `assert_changes(allow=...)` takes, and the status of a fleet object each allows."""


def _changes(plan: Plan | Mapping[str, Any], root: str) -> tuple[ResourceChange, ...]:
    document = plan.raw if isinstance(plan, Plan) else plan
    return read_plan(document, root=root).changed


def _record(out: str | Path | None) -> Record:
    if out is None:
        return Record()
    from ..lifecycle.baseline import read_baseline

    baseline = read_baseline(out)
    return baseline.record if baseline is not None else Record()


def fleet_diff(plan: Plan | Mapping[str, Any], *, root: str = "plan", out: str | Path | None = None) -> FleetDiff:
    """What a plan (a `Plan`, or `terraform show -json` parsed) does to the fleet's objects, object by object.
    `root` names the planned root (`production`); `out` the build whose record names the objects."""
    return summarize(_changes(plan, root), _record(out), against=f"the state of {root}")


def assert_no_replacements(plan: Plan | Mapping[str, Any], *, root: str = "plan",
                           out: str | Path | None = None) -> None:
    """Assert the plan replaces nothing: every replaced resource is listed with why, and the fleet object
    (cluster, link, region) it takes down with it."""
    changes = _changes(plan, root)
    replaced = [c for c in changes if c.action is Action.REPLACE]
    if not replaced:
        return
    diff = summarize(changes, _record(out), against=f"the state of {root}")
    lines = [f"{o.path}: {o.status}" + (f" (why: {'; '.join(o.why)})" if o.why else "")
             for o in diff.objects if o.touched(Action.REPLACE, kinds={c.type for c in replaced})]
    lines += [f"{c.root}: {c.address} is replaced" + (f": {'; '.join(c.reasons)}" if c.reasons else "")
              for c in replaced]
    raise AssertionError(f"the plan of {root} replaces {len(replaced)} resource(s):\n  " + "\n  ".join(lines))


def assert_changes(plan: Plan | Mapping[str, Any], *, allow: Mapping[str, Iterable[str]], root: str = "plan",
                   out: str | Path | None = None) -> None:
    """Assert every fleet object the plan changes is allowed: `allow` maps `new`, `updated`, `replaced`,
    `destroyed` to object path patterns (`production/*`, `*`); anything changed and not allowed fails."""
    unknown = set(allow) - set(ALLOW_KEYS)
    if unknown:
        raise AssertionError(f"allow= names {sorted(unknown)}; use {', '.join(ALLOW_KEYS)}")
    patterns = {ALLOW_KEYS[word]: list(paths) for word, paths in allow.items()}
    diff = fleet_diff(plan, root=root, out=out)
    refused = [o for o in diff.objects if o.status in ALLOW_KEYS.values()
               and not any(fnmatch.fnmatchcase(o.path, p) for p in patterns.get(o.status, ()))]
    if refused:
        allowed = ", ".join(f"{w}: {list(allow[w])}" for w in allow) or "nothing"
        raise AssertionError(f"the plan of {root} changes what is not allowed ({allowed}):\n  "
                             + "\n  ".join(o.line() for o in refused))
