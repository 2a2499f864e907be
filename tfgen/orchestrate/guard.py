"""The lifecycle's guard and fleet summary on real plans: what `tfgen plan` and `tfgen apply` refuse and say.

A build refuses replacing or destroying EKS clusters, VPCs and KMS keys unless its `--allow-*` flags name
them (`tfgen.lifecycle.guards`); a real plan can still do it (state drifted, a provider decided otherwise, a
build from another branch). So each root's plan, read from its JSON, is rolled up into the fleet's words
(`tfgen.lifecycle.summary.summarize`, with the record of the fleet OUT's manifest keeps) and guarded again
with the same flags: a refused root is `refused` (nothing of it applied, no plans saved). So is a plan that
moves an EKS cluster's Kubernetes version by more than one minor or down (`tfgen.lifecycle.versions`,
CHG530/CHG531: its state's version to the configured one), which no flag allows. The allow names are
`--allow-replace`/`--allow-destroy`, plus the whitespace-separated names of $TFGEN_ALLOW_REPLACE and
$TFGEN_ALLOW_DESTROY (CI: repository variables, so a pull request cannot allow its own losses).

After the run, the fleet summary of every root's plan: objects replaced or destroyed first, clusters first.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import Finding, Severity
from ..lifecycle.baseline import read_baseline
from ..lifecycle.guards import check_allow_names, guard
from ..lifecycle.record import CLUSTER, Record
from ..lifecycle.summary import ROOT, FleetDiff, Status, summarize
from ..lifecycle.versions import check_planned_versions
from ..terraform.planjson import PlanJson
from .report import RunReport

__all__ = ["ENV", "PlanGuard", "allow_names", "plan_guard", "fleet_summary"]

ENV = {"--allow-replace": "TFGEN_ALLOW_REPLACE", "--allow-destroy": "TFGEN_ALLOW_DESTROY"}
_PYTHON = re.compile(r" \(Python: `[^`]*`\)")
_LOSS = (Status.REPLACED, Status.DESTROYED)


def allow_names(given: Iterable[str] | None, flag: str) -> tuple[str, ...]:
    """The names of `flag` given on the command line and in its environment variable, checked for shape."""
    names = [*(given or ()), *os.environ.get(ENV[flag], "").split()]
    return tuple(dict.fromkeys(check_allow_names(names, flag)))


@dataclass(frozen=True)
class PlanGuard:
    """`Review` for the orchestrator: a root's plan refused (the reason) when the guard finds an error."""

    record: Record
    command: str = "plan"
    allow_replace: tuple[str, ...] = ()
    allow_destroy: tuple[str, ...] = ()

    def findings(self, diff: FleetDiff) -> list[Finding]:
        return guard(diff, allow_replace=self.allow_replace, allow_destroy=self.allow_destroy)

    def __call__(self, root: str, plan: PlanJson) -> str | None:
        found = self.findings(summarize(plan.changed, self.record)) + check_planned_versions(plan.changed)
        errors = [f for f in found if f.severity is Severity.ERROR]
        if not errors:
            return None
        return "; ".join(f"{f.code} {self._words(f.message)}; fix: {self._words(f.hint)}" for f in errors)

    def _words(self, text: str) -> str:
        """The guard's words for a build, said of this command's plan."""
        text = _PYTHON.sub("", text)
        return text.replace("build with `", f"{self.command} with `").replace("building would", "applying would")

    def unused(self, diff: FleetDiff) -> list[Finding]:
        """The allow names that matched nothing in the whole run (a typo allows nothing)."""
        return [f for f in self.findings(diff) if f.severity is Severity.WARNING]


def plan_guard(out: str | Path, command: str, *, allow_replace: Iterable[str] | None = None,
               allow_destroy: Iterable[str] | None = None) -> PlanGuard:
    """The guard of the build in `out` (its record of the fleet; none: every change is its environment's)."""
    baseline = read_baseline(out)
    return PlanGuard(baseline.record if baseline is not None else Record(), command,
                     allow_names(allow_replace, "--allow-replace"), allow_names(allow_destroy, "--allow-destroy"))


def fleet_summary(report: RunReport, record: Record) -> FleetDiff:
    """Every planned root's changes in the fleet's words; what is lost first, clusters first."""
    changes = [c for result in report.roots if result.review is not None for c in result.review.changed]
    diff = summarize(changes, record, against="the state")
    # A removed environment's root is also listed as a removed root under the same name: once is enough.
    named = {o.path for o in diff.objects if o.kind != ROOT}
    kept = [o for o in diff.objects if o.kind != ROOT or o.path not in named]
    ordered = sorted(kept, key=lambda o: (o.status not in _LOSS, o.kind != CLUSTER, o.path))
    return FleetDiff(tuple(ordered), diff.unchanged, diff.against, diff.notes)
