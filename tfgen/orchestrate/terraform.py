"""One terraform command per root and phase: the arguments, and what its output says.

plan: `init`, `plan -out`; apply and destroy: `init`, `plan -out` (`-destroy`),
then `apply` of that plan file, so what is applied is exactly what was shown.
The plan file goes to the run's scratch directory, never into OUT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMMANDS", "Counts", "Lock", "phases", "arguments", "counts_of", "lock_of", "plan_lines"]

COMMANDS = ("plan", "apply", "destroy")
_PLAN = re.compile(r"Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\.")
_NO_CHANGES = re.compile(r"^No changes\.", re.MULTILINE)
_LOCK_FIELD = re.compile(r"^\s*│?\s*(ID|Path|Operation|Who|Created):\s*(.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Counts:
    """What a plan would do: resources to add, change and destroy."""

    add: int
    change: int
    destroy: int

    @property
    def any(self) -> bool:
        return bool(self.add or self.change or self.destroy)

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


def phases(command: str, *, show: bool = False) -> tuple[str, ...]:
    """The terraform commands a root goes through for `command` (`show`: a plan also as JSON, for the gate)."""
    if command == "plan":
        return ("init", "plan", "show") if show else ("init", "plan")
    return ("init", "plan", "apply")


def arguments(phase: str, *, command: str, plan_file: Path) -> list[str]:
    """terraform's arguments for `phase` of `command` (no prompts, no colour, fail at once on a held lock)."""
    if phase == "init":
        return ["init", "-input=false", "-no-color"]
    if phase == "plan":
        return ["plan", "-input=false", "-no-color", "-lock-timeout=0s", f"-out={plan_file}",
                *(["-destroy"] if command == "destroy" else [])]
    if phase == "apply":
        return ["apply", "-input=false", "-no-color", "-lock-timeout=0s", str(plan_file)]
    if phase == "show":
        return ["show", "-json", "-no-color", str(plan_file)]
    raise ValueError(f"no terraform phase {phase!r}")


def counts_of(output: str) -> Counts | None:
    """The counts of a plan's output (`Plan: 1 to add, ...` or `No changes.`), None when it has neither."""
    match = _PLAN.search(output)
    if match:
        return Counts(int(match.group(2)), int(match.group(3)), int(match.group(4)))
    return Counts(0, 0, 0) if _NO_CHANGES.search(output) else None


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
