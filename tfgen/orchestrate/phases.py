"""What each root goes through in a run: its phases, and what each phase waits for.

A `Phase` is terraform commands run in order in the root's directory (`tfgen.orchestrate.terraform`'s
steps), or one Python `call` (the sandbox's verify). A root's phases run one after the other, each once
the earlier ones ended ok; a phase `alongside` lets the next one start with it (the one after both waits
for both). Across roots, a phase waits for each (root, phase) of `needs` to end ok, and is skipped when
one did not ("hub was not applied (failed)"); and for each (root, phase) of `after` to end or be given
up, and is skipped when one failed (the sandbox destroys a root after the roots that need it, whether or
not they were ever applied). A root or phase the run does not include is not waited for.

`command_phases` are the phases of `tfgen plan|apply|destroy`: one per terraform command, so progress
comes per command; a root starts once the roots it needs are through (destroy: the roots that need it).
`saved_phases` are the two runs of `tfgen apply PLANS`: check every root, then apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .graph import RootGraph
from .terraform import STEPS

__all__ = ["COMMANDS", "Phase", "Watch", "command_phases", "saved_phases"]

COMMANDS = ("plan", "apply", "destroy")
# What a call is given: `watch(command)` says why a terraform command it runs must stop now, or None.
Watch = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Phase:
    """One phase of a root: `commands` (terraform, in order) or a `call(watch)` returning what it checked
    (objects with `ok`); what it waits for (`needs`, `after`: (root, phase) pairs); `alongside`: the root's
    next phase starts with it; `past`: how a skipped dependent names it ("hub was not applied")."""

    name: str
    commands: tuple[str, ...] = ()
    call: Callable[[Watch], list] | None = None
    needs: tuple[tuple[str, str], ...] = ()
    after: tuple[tuple[str, str], ...] = ()
    alongside: bool = False
    past: str = ""

    def __post_init__(self) -> None:
        if bool(self.commands) == (self.call is not None):
            raise ValueError(f"phase {self.name!r}: give terraform commands or a call, not both or neither")
        unknown = [c for c in self.commands if c not in STEPS]
        if unknown:
            raise ValueError(f"phase {self.name!r}: no terraform step {unknown[0]!r}; one of {', '.join(STEPS)}")

    @property
    def waits_for(self) -> set[str]:
        """The other roots this phase waits for."""
        return {root for root, _ in (*self.needs, *self.after)}


def command_phases(command: str, graph: RootGraph, selected: list[str], *, show: bool = True,
                   state: bool = False) -> dict[str, list[Phase]]:
    """The phases of `tfgen <command>` for each root of `selected`: `init`, `plan` (destroy: `plan -destroy`),
    `show` (the plan as JSON, what the diff and the guard read; `show=False`: none), then (apply, destroy)
    `apply`; `state` (plan only): the state's lineage and serial, for a saved plan. A root's `init` waits
    for the roots it needs to be planned or applied (destroy: for the roots that need it to be destroyed)."""
    if command not in COMMANDS:
        raise ValueError(f"no command {command!r}; one of {', '.join(COMMANDS)}")
    last, past = {"plan": ("plan", "planned"), "apply": ("apply", "applied"),
                  "destroy": ("apply", "destroyed")}[command]
    phases = {}
    for root in selected:
        first = graph.waits_for(root, selected, destroy=command == "destroy")
        steps = [Phase("init", ("init",), needs=tuple((r, last) for r in first), past=past),
                 Phase("plan", ("plan-destroy" if command == "destroy" else "plan",), past=past)]
        if show:
            steps.append(Phase("show", ("show",), past=past))
        if command != "plan":
            steps.append(Phase("apply", ("apply",), past=past))
        elif state:
            steps.append(Phase("state", ("state",), past=past))
        phases[root] = steps
    return phases


def saved_phases(roots: list[str], graph: RootGraph, *, init: bool) -> tuple[dict[str, list[Phase]],
                                                                               dict[str, list[Phase]]]:
    """The two runs that apply saved plans: first every root's `init` (unless `init` is False: an earlier run
    prepared the roots) and `state` (compared with what the plan recorded before anything is applied), then
    each root's `apply` of its plan file once the roots it needs are applied."""
    check = {root: [*([Phase("init", ("init",))] if init else []), Phase("state", ("state",))] for root in roots}
    apply = {root: [Phase("apply", ("apply",), needs=tuple((r, "apply") for r in graph.waits_for(
        root, roots, destroy=False)), past="applied")] for root in roots}
    return check, apply
