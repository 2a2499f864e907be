"""The gate's offline plans: every root it found, planned through the orchestrator's offline planner.

The planner is the one `tfgen plan OUT --offline` uses (`Orchestrator(..., command="plan",
workspace=Offline(...), show=True)`): each root on a copy lowered to the offline provider, its plan
as JSON (`terraform show -json`) and the copy's lowering record, which the report lists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ToolchainError
from ..orchestrate import Offline, Orchestrator, RootGraph
from .results import GateReport

__all__ = ["plan_roots"]


def plan_roots(report: GateReport, roots: dict[str, Path], scratch: Path) -> dict[Path, str]:
    """Plan every root offline through the orchestrator's offline planner (the one `tfgen plan --offline`
    uses), in `scratch`; `{plan JSON file: environment}`.

    The gate's roots are whatever directories it found (a build, several, or a hand-made tree), and an
    offline plan needs no other root applied first, so each root is a graph of its own: one graph holds
    them all, without edges. One root plans at a time: checkov scans the roots meanwhile (the gate
    starts it first), and on a small machine two plans at once starve it and end later.
    """
    clock = time.perf_counter()
    names = {_scratch_name(env): env for env in roots}
    graph = _FoundRoots(scratch, {name: () for name in names},
                         directories={name: roots[env] for name, env in names.items()})
    workspace = Offline(scratch / "planner")
    run = Orchestrator(graph, command="plan", workspace=workspace, parallelism=1, show=True,
                       scratch=scratch / "planner").run(graph.order())
    if run.interrupted:
        raise KeyboardInterrupt  # every terraform was stopped and waited for; `tfgen check` exits 130
    failed = [r for r in run.roots if r.status not in ("ok", "waiting")]
    if failed:
        raise ToolchainError("; ".join(
            f"terraform {next((p.phase for p in r.phases if p.status != 'ok'), 'plan')} failed on a lowered copy "
            f"of {roots[names[r.root]]}: {r.reason}" + "".join(f"\n  {e}" for e in r.errors)
            for r in failed) + "\n  fix: read Terraform's message; fix the root (or the spec it was built from)")
    plans: dict[Path, str] = {}
    for result in run.roots:
        env = names[result.root]
        if result.status == "waiting":  # a cells link root: it reads state no offline plan has
            report.unscanned.append((str(roots[env]), f"not planned: it {result.reason}"))
            continue
        report.lowered[env] = workspace.lowered[result.root]
        plans[result.plan_json.resolve()] = env
    report.plan_seconds = time.perf_counter() - clock
    return plans


def _scratch_name(env: str) -> str:
    """A root's name in the planner's scratch: one directory level, as `_copies` names the scanned copies."""
    return env.replace("/", "__")


@dataclass(frozen=True)
class _FoundRoots(RootGraph):
    """The gate's roots as a graph: each name's directory is where the gate found it."""

    directories: dict[str, Path] = field(default_factory=dict)

    def path(self, root: str) -> Path:
        return self.directories[root]
