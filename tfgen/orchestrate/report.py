"""What a run did: per root its phases, counts, time and result; progress lines, the table, JSON.

Results of a root: ok; failed (terraform failed, or a held state lock); skipped (a root it
waits for did not finish ok); cancelled (apply not approved); refused (the guard refused its
plan: it replaces or destroys what was not allowed); stale (a saved plan its root's files or
state moved away from); interrupted (stopped by Ctrl-C while running); not run (Ctrl-C came
before it started, or a saved plan was not applied); waiting (it reads the state of roots the
workspace has not applied, e.g. a cells link root in an offline plan: a plan with only ok and
waiting roots is ok). A phase has the same results, and `not run` for a phase its root did not
get to (an earlier phase did not end ok, or the run was interrupted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..terraform.planjson import PlanJson
from .terraform import Activity, Counts, StateId

__all__ = ["PhaseResult", "RootResult", "RunReport", "format_phase", "format_activity", "format_report"]

INTERRUPTED = 130
_NOT_STARTED = ("skipped", "not run")


@dataclass
class PhaseResult:
    """One phase of one root (for the sandbox, of one environment): how it ended, how long it took, what
    terraform counted and would change, Terraform's errors, and what a call checked."""

    root: str
    phase: str
    status: str = "ok"
    seconds: float = 0.0
    reason: str = ""  # why it is not ok
    counts: Counts | None = None  # a plan's to add/change/destroy; an apply's added/changed/destroyed
    changes: list[str] = field(default_factory=list)  # what a plan would do, one line per resource
    details: list[str] = field(default_factory=list)  # Terraform's errors and notes on a failure
    checks: list = field(default_factory=list)  # what a call checked: objects with `ok` (the sandbox's Check)
    log: Path | None = None  # the log of the last terraform command it ran

    @property
    def ok(self) -> bool:
        """Ended ok, and every check it made holds."""
        return self.status == "ok" and all(c.ok for c in self.checks)

    @property
    def ran(self) -> bool:
        """Whether it started at all (not skipped, not left for an earlier failure or an interrupt)."""
        return self.status not in _NOT_STARTED


@dataclass
class RootResult:
    """One root of a run."""

    root: str
    waits_for: list[str]
    status: str = "pending"
    reason: str = ""
    counts: Counts | None = None
    seconds: float = 0.0
    phases: list[PhaseResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    workdir: Path | None = None  # where terraform ran (an offline copy: its tfgen_lowered.json says what was left out)
    plan_json: Path | None = None  # `terraform show -json` of the plan, when asked for (scratch: kept by its owner)
    plan_file: Path | None = None  # the binary plan (scratch: kept by its owner)
    review: PlanJson | None = None  # what the plan does, read from its JSON
    state: StateId | None = None  # the state the plan was made against, when asked for

    def as_dict(self) -> dict:
        counts = self.counts
        found = {
            "root": self.root, "waits_for": self.waits_for, "result": self.status, "reason": self.reason,
            "add": counts.add if counts else None, "change": counts.change if counts else None,
            "replace": counts.replace if counts else None, "destroy": counts.destroy if counts else None,
            "seconds": round(self.seconds, 2),
            "phases": [{"phase": p.phase, "result": p.status, "seconds": round(p.seconds, 2)}
                       for p in self.phases if p.ran],
            "errors": self.errors,
        }
        if self.review is not None:
            found["changes"] = [{"address": c.address, "type": c.type, "action": str(c.action),
                                 "reasons": list(c.reasons), "replace_paths": list(c.replace_paths)}
                                for c in self.review.changed]
            found["outputs"] = list(self.review.outputs)
            found["moved"] = list(self.review.moved)
        return found


@dataclass
class RunReport:
    """Every selected root of one `tfgen plan|apply|destroy`, in the order they were scheduled."""

    command: str
    out: str
    roots: list[RootResult]
    interrupted: bool = False
    seconds: float = 0.0
    workspace: str = ""

    @property
    def ok(self) -> bool:
        fine = ("ok", "waiting") if self.command == "plan" else ("ok",)
        return not self.interrupted and all(r.status in fine for r in self.roots)

    @property
    def exit_code(self) -> int:
        """0 every root ok, 130 interrupted, 1 otherwise."""
        return 0 if self.ok else INTERRUPTED if self.interrupted else 1

    def as_dict(self) -> dict:
        return {"command": self.command, "out": self.out, "ok": self.ok, "interrupted": self.interrupted,
                "exit_code": self.exit_code, "seconds": round(self.seconds, 2), "workspace": self.workspace,
                "roots": [r.as_dict() for r in self.roots]}


def format_phase(phase: PhaseResult) -> str:
    """A progress line: root, phase, how it ended, elapsed time."""
    return f"  {phase.root:<16} {phase.phase:<8} {phase.status:<12} {phase.seconds:6.1f} s"


def format_activity(activity: Activity) -> str:
    """A progress line while terraform runs: root, phase, `running`, elapsed time, what it is doing."""
    return (f"  {activity.root:<16} {activity.phase:<8} {'running':<12} {activity.seconds:6.1f} s  "
            f"{activity.line()}")


def _counts(result: RootResult) -> tuple[str, str, str, str]:
    c = result.counts
    return ("-", "-", "-", "-") if c is None else (str(c.add), str(c.change), str(c.replace), str(c.destroy))


def format_report(report: RunReport) -> str:
    """The table (root, add/change/replace/destroy, time, result), then why each root that is not ok is not."""
    header = ("root", "add", "change", "replace", "destroy", "time", "result")
    rows = [(r.root, *_counts(r), f"{r.seconds:.1f} s", r.status) for r in report.roots]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) if i in (0, 6) else str(cell).rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))).rstrip() for row in [header, *rows]]
    for r in report.roots:
        if r.status != "ok":
            lines.append(f"{r.root}: {r.status}: {r.reason}")
            for error in r.errors:
                lines.append("  " + error.replace("\n", "\n  "))
    ok = sum(r.status == "ok" for r in report.roots)
    verdict = ("interrupted" if report.interrupted else "ok" if report.ok else "FAILED")
    lines.append(f"tfgen {report.command}: {verdict}: {ok} of {len(report.roots)} roots ok in {report.seconds:.1f} s")
    if report.interrupted:
        lines.append("every terraform that ran was stopped and waited for; run the command again to converge")
    return "\n".join(lines) + "\n"
