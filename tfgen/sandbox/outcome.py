"""What a root's terraform log says, as the sandbox's `PhaseResult`: resources created or destroyed,
whether a re-plan found changes (and which), Terraform's errors when a command failed."""

from __future__ import annotations

import re
from pathlib import Path

from ..orchestrate.terraform import counts_of
from .report import PhaseResult
from .terraform import terraform_errors

__all__ = ["failed", "count", "replanned", "joined"]

_CHANGE = re.compile(r"^\s*# (\S+) (?:will be|must be) (.+)$", re.M)


def _text(log: Path) -> str:
    return log.read_text(errors="replace") if log.is_file() else ""


def failed(root: str, phase: str, log: Path, what: str, seconds: float) -> PhaseResult:
    """`phase` of `root` failed in `terraform <what>`: Terraform's errors (or the log's tail), and the log."""
    output = _text(log)
    errors = terraform_errors(output) or [output.strip()[-2000:]]
    return PhaseResult(root, phase, False, seconds, f"terraform {what} failed (log: {log})", errors)


def count(log: Path, what: str) -> str:
    """How many resources an apply log says were `what` ("added", "destroyed"); '?' when it does not say."""
    found = re.search(rf"Resources: (?:\d+ \w+, )*(\d+) {what}", _text(log))
    return found.group(1) if found else "?"


def replanned(root: str, log: Path, seconds: float) -> PhaseResult:
    """The re-plan of an applied root: ok with no changes, else each change it would make."""
    output = _text(log)
    counts = counts_of(output)
    if counts is not None and not counts.any:
        return PhaseResult(root, "re-plan", True, seconds, "no changes")
    changes = [f"{address} {action}" for address, action in _CHANGE.findall(output)]
    return PhaseResult(root, "re-plan", False, seconds,
                       f"not idempotent: {len(changes)} change(s) after apply (log: {log})", changes)


def joined(unit: str, phase: str, results: list[PhaseResult]) -> PhaseResult:
    """One phase of an environment over its roots (a cells environment has several): the first failure,
    else the counts summed ("183 resources created") or the one summary they share."""
    if len(results) == 1:
        return PhaseResult(unit, phase, results[0].ok, results[0].seconds, results[0].summary,
                           results[0].details, results[0].checks)
    seconds = sum(r.seconds for r in results)
    bad = next((r for r in results if not r.ok), None)
    if bad is not None:
        return PhaseResult(unit, phase, False, seconds, f"{bad.environment}: {bad.summary}", bad.details, bad.checks)
    counted = [re.match(r"(\d+) (.*)", r.summary) for r in results]
    if all(counted) and len({m.group(2) for m in counted}) == 1:
        summary = f"{sum(int(m.group(1)) for m in counted)} {counted[0].group(2)}"
    else:
        summary = results[0].summary if len({r.summary for r in results}) == 1 else \
            "; ".join(f"{r.environment}: {r.summary}" for r in results)
    return PhaseResult(unit, phase, True, seconds, summary)
