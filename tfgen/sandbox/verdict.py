"""A root's phase as the sandbox reads it, beyond the orchestrator's ok/failed.

A re-plan after apply that would change something is not idempotent (`changed`); a failed apply says
what it created before the failure, from the local state of the root's copy (while the double still
runs: a dead double explains the failure itself).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..orchestrate import PhaseResult

__all__ = ["judged"]


def judged(result: PhaseResult, copy: Path, *, double_alive: bool) -> PhaseResult:
    """`result` of a phase of the root whose copy is `copy`, as the report shows it."""
    if result.phase == "re-plan" and result.status == "ok" and result.counts is not None and result.counts.any:
        return replace(result, status="changed",
                       reason=f"not idempotent: {len(result.changes)} change(s) after apply")
    if result.phase == "apply" and result.status == "failed" and double_alive:
        return replace(result, details=[*result.details, _created(copy)])
    return result


def _created(copy: Path) -> str:
    """What the root's local state holds, by type: what a failed apply created before it failed."""
    try:
        state = json.loads((copy / "terraform.tfstate").read_text())
    except (OSError, ValueError):
        state = {}
    counts: dict[str, int] = {}
    for resource in state.get("resources", []):
        if resource.get("mode") == "managed":
            counts[resource["type"]] = counts.get(resource["type"], 0) + len(resource.get("instances", []))
    if not counts:
        return "no resource was created before the failure"
    listed = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    return f"created before the failure ({sum(counts.values())}): {listed}"
