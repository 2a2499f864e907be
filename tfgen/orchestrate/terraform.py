"""One terraform command of a root: its arguments, and what its output says.

The commands a phase is made of: `init`; `plan` (or `plan-destroy`) to the root's plan file in the
run's scratch directory, never into OUT; `apply` of that plan file, so what is applied is exactly what
was shown; `show` of it as JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STEPS", "Counts", "Lock", "arguments", "counts_of", "changes_of", "lock_of", "plan_lines"]

STEPS = ("init", "plan", "plan-destroy", "apply", "show")
_PLAN = re.compile(r"Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\.")
_APPLIED = re.compile(r"Resources: (?:\d+ imported, )?(\d+) added, (\d+) changed, (\d+) destroyed\.")
_NO_CHANGES = re.compile(r"^No changes\.", re.MULTILINE)
_CHANGE = re.compile(r"^\s*# (\S+) (?:will be|must be) (.+)$", re.MULTILINE)
_LOCK_FIELD = re.compile(r"^\s*│?\s*(ID|Path|Operation|Who|Created):\s*(.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Counts:
    """Resources a plan would add, change and destroy (or an apply added, changed and destroyed)."""

    add: int
    change: int
    destroy: int

    @property
    def any(self) -> bool:
        return bool(self.add or self.change or self.destroy)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.add + other.add, self.change + other.change, self.destroy + other.destroy)

    def __str__(self) -> str:
        return f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"


@dataclass(frozen=True)
class Lock:
    """A state lock another run holds, as terraform describes it."""

    id: str = ""
    path: str = ""
    operation: str = ""
    who: str = ""
    created: str = ""

    def __str__(self) -> str:
        parts = [f"lock {self.id}" if self.id else "a lock", f"held by {self.who}" if self.who else "",
                 f"for {self.operation}" if self.operation else "", f"since {self.created}" if self.created else "",
                 f"at {self.path}" if self.path else ""]
        return " ".join(p for p in parts if p)


def arguments(step: str, *, plan_file: Path, extra: list[str] = ()) -> list[str]:
    """terraform's arguments for `step` (no prompts, no colour, fail at once on a held lock), with `extra`
    (a workspace's options) before any plan file."""
    extra = list(extra)
    if step == "init":
        return ["init", "-input=false", "-no-color", *extra]
    if step in ("plan", "plan-destroy"):
        return ["plan", "-input=false", "-no-color", "-lock-timeout=0s", f"-out={plan_file}",
                *(["-destroy"] if step == "plan-destroy" else []), *extra]
    if step == "apply":
        return ["apply", "-input=false", "-no-color", "-lock-timeout=0s", *extra, str(plan_file)]
    if step == "show":
        return ["show", "-json", "-no-color", *extra, str(plan_file)]
    raise ValueError(f"no terraform step {step!r}; one of {', '.join(STEPS)}")


def counts_of(output: str) -> Counts | None:
    """The counts a plan (`Plan: 1 to add, ...`, `No changes.`) or an apply (`Resources: 1 added, ...`)
    prints, None when it prints neither."""
    match = _PLAN.search(output)
    if match:
        return Counts(int(match.group(2)), int(match.group(3)), int(match.group(4)))
    match = _APPLIED.search(output)
    if match:
        return Counts(*(int(n) for n in match.groups()))
    return Counts(0, 0, 0) if _NO_CHANGES.search(output) else None


def changes_of(output: str) -> list[str]:
    """What a plan would do, one line per resource: `aws_route.x created`, `aws_instance.y replaced`."""
    return [f"{address} {action}" for address, action in _CHANGE.findall(output)]


def lock_of(output: str) -> Lock | None:
    """The lock another run holds, when terraform failed with "Error acquiring the state lock"."""
    if "Error acquiring the state lock" not in output:
        return None
    fields = {key.lower(): value for key, value in _LOCK_FIELD.findall(output)}
    return Lock(**fields)


def plan_lines(output: str) -> list[str]:
    """The lines of a plan that say what happens to which resource, and its summary."""
    return [line.rstrip() for line in output.splitlines()
            if line.lstrip().startswith("# ") or _PLAN.search(line) or line.startswith("No changes.")]
