"""One terraform command of a root: its arguments, and what its output says.

The commands a phase is made of: `init`; `plan` (or `plan-destroy`) to the root's plan file in the
run's scratch directory, never into OUT; `apply` of that plan file, so what is applied is exactly what
was shown; `show` of it as JSON; `state` (`terraform state pull`: the state's lineage and serial, which
a saved plan records and its apply compares). What a plan changes is read from `show`'s JSON
(`tfgen.terraform.planjson`); Terraform's words give only the counts of an apply and of a plan without
`show`, and the progress lines (`Activity`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STEPS", "Counts", "Lock", "StateId", "Activity", "arguments", "counts_of", "changes_of", "lock_of",
           "plan_lines", "state_of"]

STEPS = ("init", "plan", "plan-destroy", "apply", "show", "state")
_PLAN = re.compile(r"Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\.")
_APPLIED = re.compile(r"Resources: (?:\d+ imported, )?(\d+) added, (\d+) changed, (\d+) destroyed\.")
_NO_CHANGES = re.compile(r"^No changes\.", re.MULTILINE)
_CHANGE = re.compile(r"^\s*# (\S+) (?:will be|must be) (.+)$", re.MULTILINE)
# A resource's progress line: `aws_vpc.hub: Creating...`, `aws_vpc.hub: Still creating... [10s elapsed]`,
# `aws_vpc.hub: Creation complete after 2s [id=vpc-1]`, `aws_vpc.hub: Refreshing state... [id=vpc-1]`.
_WORKING = re.compile(r"^(\S+): (Creating|Modifying|Destroying|Reading|Refreshing state)\.\.\.")
_DONE = re.compile(r"^(\S+): (?:Creation|Modifications|Destruction|Read) complete after")
_LOCK_FIELD = re.compile(r"^\s*│?\s*(ID|Path|Operation|Who|Created):\s*(.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Counts:
    """Resources a plan would add, change, replace and destroy (or an apply added, changed and destroyed).
    From a plan's JSON, a replacement is counted once, as `replace`; Terraform's own words count it as
    one to add and one to destroy, and counts made from them have no `replace`."""

    add: int
    change: int
    destroy: int
    replace: int = 0

    @property
    def any(self) -> bool:
        return bool(self.add or self.change or self.destroy or self.replace)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.add + other.add, self.change + other.change, self.destroy + other.destroy,
                      self.replace + other.replace)

    def __str__(self) -> str:
        replace = f"{self.replace} to replace, " if self.replace else ""
        return f"{self.add} to add, {self.change} to change, {replace}{self.destroy} to destroy"


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


@dataclass(frozen=True)
class StateId:
    """Which state snapshot a plan was made against: its lineage and serial (None, None: no state yet)."""

    lineage: str | None = None
    serial: int | None = None

    def __str__(self) -> str:
        return "no state yet" if self.lineage is None else f"lineage {self.lineage} serial {self.serial}"


def state_of(pulled: str) -> StateId:
    """The lineage and serial of `terraform state pull`'s output (nothing: no state yet)."""
    import json

    if not pulled.strip():
        return StateId()
    try:
        state = json.loads(pulled)
        lineage, serial = state["lineage"], state["serial"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("`terraform state pull` printed no state with a lineage and serial") from None
    if not isinstance(lineage, str) or not isinstance(serial, int) or isinstance(serial, bool):
        raise ValueError("`terraform state pull` printed a state whose lineage or serial is not one")
    return StateId(lineage, serial)


class Activity:
    """What one running terraform command is doing, from the lines it writes: resources done, in progress
    (with the oldest one's verb and time), refreshed; `line()` condenses it for a progress line."""

    def __init__(self, root: str, phase: str, command: str, *, total: int | None = None):
        self.root, self.phase, self.command, self.total = root, phase, command, total
        self.started = time.monotonic()
        self.done = self.refreshed = 0
        self.working: dict[str, tuple[str, float]] = {}  # address -> (verb, since)
        self._lock = threading.Lock()

    def feed(self, line: str) -> None:
        working, done = _WORKING.match(line), _DONE.match(line)
        with self._lock:
            if done:
                self.working.pop(done.group(1), None)
                self.done += 1
            elif working and working.group(2) == "Refreshing state":
                self.refreshed += 1
            elif working:
                self.working.setdefault(working.group(1), (working.group(2).lower(), time.monotonic()))

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def line(self) -> str:
        """`41 of 55 done, 3 in progress: aws_eks_cluster.hub creating 40 s` (or what a plan has refreshed)."""
        with self._lock:
            parts = []
            if self.done or self.working or self.total:
                parts.append(f"{self.done} of {self.total} done" if self.total else f"{self.done} done")
            if self.refreshed:
                parts.append(f"{self.refreshed} refreshed")
            if self.working:
                address, (verb, since) = min(self.working.items(), key=lambda item: item[1][1])
                busy = f"{len(self.working)} in progress: " if len(self.working) > 1 else ""
                parts.append(f"{busy}{address} {verb} {time.monotonic() - since:.0f} s")
        return ", ".join(parts) or "started"


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
    if step == "state":
        return ["state", "pull", *extra]
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
