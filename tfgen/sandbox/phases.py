"""The sandbox's phases of each root, for the orchestrator (`tfgen.orchestrate.Phase`).

Each environment (all of its roots; a cells environment has several) and `_state` is a unit, one entry
of the report. Every root goes through `init` (a fresh copy), `apply` (plan and apply, once the roots it
needs are applied), `re-plan` (once every root of its unit is applied) and, unless kept, `destroy` (plan
-destroy without a refresh, and its apply) once the roots that need it are destroyed or were never
applied (when one's destroy failed, it is not destroyed: that one still stands on it). The unit's last
root also carries the unit's `verify` (the API checks, alongside the re-plan: both only read) and, once
every root of the unit is destroyed, `left` (the API asked for anything of the unit left over). Each unit
is in an account of its own in the double: no unit's destroy waits for another's checks.
"""

from __future__ import annotations

from typing import Callable

from ..orchestrate import Phase, RootGraph
from ..orchestrate.phases import Watch

__all__ = ["PHASES", "ENTRY", "unit_phases"]

PHASES = ("init", "apply", "verify", "re-plan", "destroy")  # a unit's, in the report
ENTRY = {"init": "init", "apply": "apply", "verify": "verify", "re-plan": "re-plan", "destroy": "destroy",
         "left": "destroy"}  # the report's phase a root's phase is part of

Call = Callable[[Watch], list]


def unit_phases(graph: RootGraph, units: dict[str, list[str]], *, verify: Callable[[str], Call],
                left: Callable[[str], Call], keep: bool = False) -> dict[str, list[Phase]]:
    """`{root: its phases}` for every root of `units` (`{unit: its roots in the graph's order}`);
    `verify(unit)` and `left(unit)` are the unit's calls."""
    phases = {}
    for unit, roots in units.items():
        last = roots[-1]
        applied = tuple((root, "apply") for root in roots)
        for root in roots:
            steps = [Phase("init", ("init",)),
                     Phase("apply", ("plan", "apply"), needs=tuple((n, "apply") for n in graph.needs[root]),
                           past="applied")]
            if root == last:
                steps.append(Phase("verify", call=verify(unit), needs=applied, alongside=True, past="verified"))
            steps.append(Phase("re-plan", ("plan",), needs=applied, past="re-planned"))
            if not keep:
                after = tuple((n, "destroy") for n in graph.needed_by(root)) + ((last, "verify"),)
                steps.append(Phase("destroy", ("plan-destroy", "apply"), after=after, past="destroyed"))
                if root == last:
                    steps.append(Phase("left", call=left(unit), needs=tuple((r, "destroy") for r in roots),
                                       past="checked"))
            phases[root] = steps
    return phases
