"""Results of a sandbox run, their text and JSON forms, and how a unit's entries are made from its roots'.

A unit's entry of a phase (`PHASES`) is the orchestrator's `PhaseResult` of its roots' phases joined
(`join`): times and counts summed (integers), the first that did not end ok. `Entries` makes them as
the roots' phases end. What an entry says in words (`summary`) is made from its counts and checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..orchestrate import Counts, PhaseResult
from .inventory import RegionInventory
from .phases import ENTRY, PHASES
from .verify import Check

__all__ = ["PhaseResult", "Lowering", "EnvironmentReport", "format_lowering", "SandboxReport", "format_phase",
           "format_report", "summary", "join", "Entries"]

_DONE = {"init": "AWS provider from the local mirror", "re-plan": "no changes"}


def summary(result: PhaseResult) -> str:
    """One line on how a unit's phase ended: "190 resources created", "50/50 checks passed", "no changes",
    "190 resources destroyed; nothing left", or why it did not end ok."""
    if result.status != "ok":
        return result.reason + (f" (log: {result.log})" if result.log else "")
    if result.phase == "verify":
        return f"{sum(c.ok for c in result.checks)}/{len(result.checks)} checks passed"
    counts = result.counts or Counts(0, 0, 0)
    if result.phase == "apply":
        return f"{counts.add} resources created"
    if result.phase == "destroy":
        left = [c for c in result.checks if not c.ok]
        return f"{counts.destroy} resources destroyed" + (
            "" if not result.checks else "; nothing left" if not left else f"; {len(left)} kind(s) left over")
    return _DONE.get(result.phase, "ok")


def join(unit: str, phase: str, parts: list[PhaseResult]) -> PhaseResult:
    """One phase of a unit over its roots' (a cells environment has several): times and counts summed,
    every check, the first part that did not end ok (named by its root when there are several)."""
    ran = [p for p in parts if p.status != "not run"]
    counted = [p.counts for p in ran if p.counts is not None]
    joined = PhaseResult(unit, phase, seconds=sum(p.seconds for p in ran),
                         counts=sum(counted[1:], counted[0]) if counted else None,
                         checks=[c for p in ran for c in p.checks])
    bad = next((p for p in ran if p.status != "ok"), None)
    if bad is not None:
        named = f"{bad.root}: " if len(parts) > 1 and bad.root != unit else ""
        joined.status, joined.reason, joined.log = bad.status, named + bad.reason, bad.log
        joined.details, joined.changes = bad.details, bad.changes
    return joined


class Entries:
    """The report's entries of each unit (`{unit: its roots}`), made from the phases of its roots
    (`{root: their names}`) as they end: `add` returns an entry once all of its parts have ended."""

    def __init__(self, units: dict[str, list[str]], phases: dict[str, list[str]]):
        self._parts: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for unit, roots in units.items():
            for root in roots:
                for name in phases[root]:
                    self._parts.setdefault((unit, ENTRY[name]), []).append((root, name))
        self._unit = {root: unit for unit, roots in units.items() for root in roots}
        self._ended: dict[tuple[str, str], PhaseResult] = {}
        self._entries: dict[tuple[str, str], PhaseResult] = {}

    def add(self, result: PhaseResult) -> PhaseResult | None:
        """Take one root's phase as it ended; the unit's entry it completes, if any did start."""
        self._ended[result.root, result.phase] = result
        unit = self._unit[result.root]
        key = (unit, ENTRY[result.phase])
        parts = [self._ended.get(part) for part in self._parts[key]]
        if None in parts or all(p.status == "not run" for p in parts):
            return None
        self._entries[key] = join(unit, key[1], parts)
        return self._entries[key]

    def of(self, unit: str) -> list[PhaseResult]:
        """The entries of `unit` made so far, in the order of `PHASES`."""
        return [self._entries[unit, phase] for phase in PHASES if (unit, phase) in self._entries]


@dataclass
class Lowering:
    """What the sandbox's copy of a root leaves out or rewrites (the `Lowered` record `copy_root`
    returned, as dicts), and what the double has no API to check at all."""

    target: str
    changes: list[dict] = field(default_factory=list)  # {address, action, what, reason}
    not_checked: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many changes per reason."""
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change["reason"]] = counts.get(change["reason"], 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def groups(self) -> list[tuple[str, str, str, int]]:
        """(action, what, reason, count): resources by type, arguments by name, rewrites by how."""
        grouped: dict[tuple[str, str, str], int] = {}
        for change in self.changes:
            what = change["what"]
            if change["action"] == "left out" and change["address"].startswith("output."):
                what = f"output field {change['address'].removeprefix('output.')}"
            elif change["action"] != "left out" and not what.startswith("as "):
                what = f"{change['address'].split('.')[0]}: {what}"
            reason = change["reason"]
            if reason.startswith("refers to "):
                reason = "refers to something left out"
            grouped[(change["action"], what, reason)] = grouped.get((change["action"], what, reason), 0) + 1
        return [(a, w, r, n) for (a, w, r), n in sorted(grouped.items())]

    def as_dict(self) -> dict:
        return {"target": self.target, "counts": self.counts(), "changes": self.changes,
                "not_checked": self.not_checked}


def phase_dict(result: PhaseResult) -> dict:
    """A unit's phase in the JSON report."""
    return {"phase": result.phase, "ok": result.ok, "seconds": round(result.seconds, 2),
            "summary": summary(result), "details": result.details + result.changes,
            "checks": [c.as_dict() for c in result.checks]}


@dataclass
class EnvironmentReport:
    """Every phase of one root (an environment, or `_state`), its checks and its inventory after apply."""

    name: str
    phases: list[PhaseResult] = field(default_factory=list)
    inventory: list[RegionInventory] = field(default_factory=list)
    lowering: Lowering | None = None
    account: str = ""  # the AWS account of the double it is in

    @property
    def ok(self) -> bool:
        return bool(self.phases) and all(p.ok for p in self.phases)

    @property
    def checks(self) -> list[Check]:
        return [c for p in self.phases for c in p.checks]

    def phase(self, name: str) -> PhaseResult | None:
        """The result of phase `name`, or None when it did not run."""
        return next((p for p in self.phases if p.phase == name), None)

    def as_dict(self) -> dict:
        return {
            "name": self.name, "ok": self.ok, "account": self.account,
            "phases": [phase_dict(p) for p in self.phases],
            "inventory": [r.as_dict() for r in self.inventory],
            "lowered": self.lowering.as_dict() if self.lowering else None,
        }


@dataclass
class SandboxReport:
    """A whole sandbox run: where it ran and what each environment did."""

    spec: str
    workdir: Path
    double: str
    build_seconds: float
    environments: list[EnvironmentReport] = field(default_factory=list)
    kept: bool = False
    double_pid: int | None = None
    elapsed: float | None = None  # wall time of the phases (roots run at once: less than their sum)

    @property
    def ok(self) -> bool:
        return bool(self.environments) and all(e.ok for e in self.environments)

    @property
    def seconds(self) -> float:
        if self.elapsed is not None:
            return self.build_seconds + self.elapsed
        return self.build_seconds + sum(p.seconds for e in self.environments for p in e.phases)

    def environment(self, name: str) -> EnvironmentReport:
        return next(e for e in self.environments if e.name == name)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok, "spec": self.spec, "workdir": str(self.workdir),
            "double": self.double, "double_pid": self.double_pid,
            "kept": self.kept, "build_seconds": round(self.build_seconds, 2),
            "seconds": round(self.seconds, 2),
            "environments": [e.as_dict() for e in self.environments],
        }


def format_phase(result: PhaseResult) -> str:
    """One progress line, with the details of a failure under it."""
    status = "ok" if result.ok else "FAILED"
    lines = [f"  {result.root:<14} {result.phase:<8} {status:<6} {result.seconds:6.1f} s  {summary(result)}"]
    lines += [f"      {line}" for detail in result.details + result.changes for line in detail.splitlines()]
    lines += [f"      {c.format()}" for c in result.checks if not c.ok]
    return "\n".join(lines)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A plain-text table whose cells may hold several lines."""
    split = [[cell.splitlines() or [""] for cell in row] for row in rows]
    widths = [max([len(h)] + [len(line) for row in split for line in row[i]]) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for row in split:
        for n in range(max(len(cell) for cell in row)):
            out.append("  ".join((cell[n] if n < len(cell) else "").ljust(w)
                                 for cell, w in zip(row, widths)).rstrip())
    return out


def format_lowering(env: EnvironmentReport) -> list[str]:
    """A short summary of what the sandbox did not apply as built, and what it cannot check."""
    low = env.lowering
    if low is None:
        return []
    lines = [f"{env.name}: applied lowered to AWS provider {low.target}, {len(low.changes)} change(s) "
             f"(full list: --format json, or tfgen_lowered.json in the scratch root)"]
    for action, what, reason, count in low.groups():
        lines.append(f"  {action:13} {count:3} x {what} ({reason})")
    if low.not_checked:
        lines.append(f"  not checked (the double has no API for them): {'; '.join(low.not_checked)}")
    return lines


def format_report(report: SandboxReport) -> str:
    """The inventory table and the verdict of every environment."""
    rows = []
    for env in report.environments:
        for region in env.inventory:
            rows.append([
                env.name, region.region,
                "\n".join(f"{v.id} {v.cidr}" for v in region.vpcs) or "-",
                str(region.subnets),
                "\n".join(f"{p.id} {p.requester_region} -> {p.accepter_region} {p.status}"
                          for p in region.peerings) or "-",
                "\n".join(f"{c.name} {c.status}" + "".join(f"\n  {g}" for g in c.node_groups)
                          for c in region.clusters) or "-",
            ])
    lines = ["", "inventory after apply"]
    lines += _table(["ENVIRONMENT", "REGION", "VPCS", "SUBNETS", "PEERINGS", "CLUSTERS"], rows) if rows else ["  (none)"]
    lines.append("")
    for env in report.environments:
        lines += format_lowering(env)
    lines.append("")
    for env in report.environments:
        checks = env.checks
        failed = [c for c in checks if not c.ok]
        done = ", ".join(f"{p.phase} {'ok' if p.ok else 'FAILED'}" for p in env.phases)
        counted = (f"; {len(checks) - len(failed)}/{len(checks)} API checks passed, verify and after destroy"
                   if checks else "")
        lines.append(f"{env.name}: {'passed' if env.ok else 'FAILED'} ({done}{counted})")
        lines += [f"  {c.format()}" for c in failed]
    verdict = "passed" if report.ok else "FAILED"
    lines.append(f"sandbox {verdict}: {len(report.environments)} root(s) in {report.seconds:.1f} s"
                 + (f"; scratch kept in {report.workdir}" if report.kept else ""))
    return "\n".join(lines)
