"""Moving an environment's state into its new layout's roots, never emptying an old root before every new
root holds what it declares.

`run_migration` refuses unless OUT is what the spec builds (as `tfgen build --check` says), then
`Migration.run` goes, each step only once the one before succeeded:

1. each new root made ready where terraform runs (`Workspace.prepare`, `terraform init`), and a directory
   per old and new root that holds only its backend (`work/states/<root>`), where `terraform state pull`
   reads each state; every state pulled is kept in `work/backup/<root>.tfstate` before anything is written;
2. the moves (`tfgen.migrate.state.plan_moves`): refused, with nothing written, when a resource is in no
   old root's state, in two, in an old root but no new one, or in another new root than the one declaring it;
3. each new root's state written (`terraform state push`), read back and checked;
4. the new roots' outputs written (`terraform apply -refresh-only`, the roots in the graph's order), so a
   link root reading its regions' state plans;
5. only then each old root's state emptied, read back and checked to hold nothing.

A run that stops leaves the old roots holding every resource until step 5, and a new run picks up where it
stopped (what a new root holds already, as the same object, stays). Terraform runs through
`tfgen.terraform.run` with the workspace's binary and environment: in the roots themselves with the user's
credentials (`InPlace`, the CLI's), or on the sandbox's copies (tests).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..emit.graph import root_graph
from ..errors import StaleOutputError, TfgenError
from ..orchestrate.graph import RootGraph
from ..orchestrate.workspace import InPlace, Workspace
from ..terraform.roots import read_root
from ..terraform.run import run_command
from . import state as states
from .layout import MigrationPlan, plan_migration

if TYPE_CHECKING:
    from ..model import Fleet

__all__ = ["MigrationError", "MigrationResult", "Migration", "run_migration", "check_built"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_UNTOUCHED = "Nothing was written; every state is as it was."


class MigrationError(TfgenError):
    """A layout migration refused to start or stopped; the message says what it changed and what to do."""

    exit_code = 1


@dataclass
class MigrationResult:
    """What a migration did: per new root the addresses it wrote (`moved`) or found there already (`kept`),
    the old roots it emptied, and the directory with the backups, written states and logs (`work`)."""

    environment: str
    moved: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    emptied: list[str] = field(default_factory=list)
    work: Path = Path(".")

    def format(self, *, out: str = "out") -> str:
        moved = sum(len(a) for a in self.moved.values())
        kept = sum(len(a) for a in self.kept.values())
        lines = [f"moved {moved} resource(s) of {self.environment} into " + ", ".join(
            f"{root} ({len(a)})" for root, a in sorted(self.moved.items()) if a) if moved else
            f"nothing to move: the new roots of {self.environment} hold their {kept} resource(s)"]
        if moved and kept:
            lines.append(f"{kept} resource(s) were in the new roots already (an earlier run wrote them)")
        if self.emptied:
            lines.append(f"emptied the state of {', '.join(self.emptied)}; each now holds nothing")
        lines.append(f"backups of every state as it was, the states written and the logs: {self.work} (it holds "
                     f"state: keep it out of version control, remove it once the new roots are applied)")
        lines.append(f"next: `tfgen plan {out}` shows no resource changes on the roots of {self.environment}")
        return "\n".join(lines) + "\n"


def check_built(fleet: Fleet, out: str | Path, *, spec: str = "SPEC") -> None:
    """Refuse (`MigrationError`) unless `out` holds exactly what `fleet` builds: the migration moves state
    into the roots as they are written there."""
    from ..pipeline import build

    try:
        build(fleet, out, check=True, allow_layout_change=True, spec=spec)
    except StaleOutputError as exc:
        listed = "; ".join(exc.changed[:5]) + (f"; and {len(exc.changed) - 5} more" if len(exc.changed) > 5 else "")
        raise MigrationError(
            f"{out} is not what {spec} builds ({listed}); the state moves into the roots as built, so the "
            f"migration runs on a current build only. Nothing was changed. Fix: `tfgen build {spec} --out {out} "
            f"--allow-layout-change`, then run the migration again") from None


def run_migration(fleet: Fleet, environment: str, out: str | Path, *, work: str | Path,
                  workspace: Workspace | None = None, states_of: Callable[[str], dict] | None = None,
                  progress: Callable[[str], None] | None = None, spec: str = "SPEC") -> MigrationResult:
    """Move `environment`'s state into the roots its layout in `fleet` gives it, once `out` is what `fleet`
    builds. `work`: where backups, written states and logs go (made; an earlier run's may be reused).
    `workspace`: where terraform runs (default `InPlace`: in OUT's roots, with your credentials);
    `states_of(root)`: the `terraform` block that reaches a root's state (default: its backend as emitted)."""
    from ..pipeline import emit_checked

    check_built(fleet, out, spec=spec)
    prepared, _ = emit_checked(fleet)
    plan = plan_migration(prepared.fleet, prepared.fleet.environment(environment))
    return Migration(plan, out, work=work, workspace=workspace, states_of=states_of, progress=progress).run()


class Migration:
    """One migration of `plan` on the build in `out` (see the module's docstring)."""

    def __init__(self, plan: MigrationPlan, out: str | Path, *, work: str | Path, workspace: Workspace | None = None,
                 states_of: Callable[[str], dict] | None = None, progress: Callable[[str], None] | None = None):
        self.plan, self.out = plan, Path(out)
        self.work = Path(work).absolute()
        self.workspace = workspace or InPlace()
        self.states_of = states_of
        self.progress = progress
        # the build's order: a link root's outputs (and its plan) read its regions' state, written first
        needs = root_graph(plan.targets, backend=False)
        self.targets = RootGraph(self.out, {root: tuple(n) for root, n in needs.items()}).order()
        self.sources = sorted(plan.sources)
        self._commands = 0  # numbers the logs, in the order the commands ran

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)

    # -- terraform ---------------------------------------------------------------------

    def _terraform(self, root: str, directory: Path, *args: str, step: str, stdout: Path | None = None) -> None:
        self._commands += 1
        log = self.work / "logs" / root / f"{self._commands:03d}-{step}.log"
        ran = run_command(self.workspace.terraform, directory, *args, env=self.workspace.env(), log=log,
                          timeout=self.workspace.timeout, grace=self.workspace.grace, stdout=stdout)
        if ran.returncode != 0:
            errors = ran.errors() or ran.output.strip().splitlines()[-5:]
            detail = _ANSI.sub("", "\n".join(errors)).strip()
            raise _Failed(f"`terraform {' '.join(a for a in args if not a.startswith('/'))}` of {root} failed "
                          f"(exit {ran.returncode}; log: {log}):\n  " + detail.replace("\n", "\n  "))

    def _state_dir(self, root: str) -> Path:
        directory = self.work / "states" / root
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "terraform.tf.json").write_text(
            json.dumps({"terraform": self.states_of(root) if self.states_of else self.plan.backend(root, self.out)},
                       indent=2, sort_keys=True) + "\n")
        self._terraform(root, directory, "init", "-input=false", "-no-color", step="state-init")
        return directory

    def _pull(self, root: str) -> dict | None:
        pulled = self.work / "pulled" / f"{root}.tfstate"
        pulled.parent.mkdir(parents=True, exist_ok=True)
        self._terraform(root, self.work / "states" / root, "state", "pull", step="state-pull", stdout=pulled)
        text = pulled.read_text()
        if not text.strip():
            return None
        try:
            state = json.loads(text)
        except ValueError as exc:
            raise _Failed(f"`terraform state pull` of {root} printed something that is not a state ({exc}); see "
                          f"{pulled}") from None
        if state.get("version") != states.FORMAT:
            raise _Failed(f"the state of {root} has format version {state.get('version')}, not "
                          f"{states.FORMAT}; run this with the terraform that applies it")
        return state

    def _push(self, root: str, state: dict) -> None:
        written = self.work / "written" / f"{root}.{state['serial']}.tfstate"
        _private(written, json.dumps(state, indent=2) + "\n")
        self._terraform(root, self.work / "states" / root, "state", "push", "-lock-timeout=0s", str(written),
                        step="state-push")

    # -- the steps ---------------------------------------------------------------------

    def run(self) -> MigrationResult:
        """Every step in order (see the module's docstring); raises `MigrationError` saying what it left."""
        result = MigrationResult(self.plan.environment, work=self.work)
        self.work.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work, 0o700)  # it will hold state
        left = _UNTOUCHED
        try:
            workdirs, before = self._read()
            moves = self._moves(workdirs, before)
            result.kept = {root: list(addresses) for root, addresses in moves.kept.items()}
            result.moved = {root: sorted(states.address_of(e) for e in moves.into[root]) for root in self.targets}
            if not moves.count and not moves.emptied:
                return result  # an earlier run moved everything
            left = "The old roots' state still holds every resource; run the migration again to finish it."
            self._write(moves, before)
            self._outputs(workdirs)
            left = ("Every resource is in its new root's state (written and checked); run the migration again: it "
                    "empties the old roots' state that still holds any.")
            self._empty(moves, before, result)
        except KeyboardInterrupt:
            self._say(f"interrupted. {left}")
            raise
        return result

    def _read(self) -> tuple[dict[str, Path], dict[str, dict | None]]:
        """Each new root ready to run, every state pulled and kept as a backup (an earlier run's backups stay:
        they are the states before any migration)."""
        try:
            workdirs = {root: self._ready(root) for root in self.targets}
            before = {}
            for root in [*self.sources, *self.targets]:
                self._say(f"{root}: reading its state")
                self._state_dir(root)
                before[root] = self._pull(root)
        except _Failed as exc:
            raise MigrationError(f"{exc}\n{_UNTOUCHED} Fix what terraform says, then run the migration again") \
                from None
        for root, state in before.items():
            backup = self.work / "backup" / f"{root}.tfstate"
            if state is not None and not backup.exists():
                _private(backup, json.dumps(state, indent=2) + "\n")
        return workdirs, before

    def _moves(self, workdirs: dict[str, Path], before: dict[str, dict | None]) -> states.Moves:
        expected = {root: self._declared(root, workdirs[root]) for root in self.targets}
        moves, problems = states.plan_moves(expected, {r: before[r] for r in self.sources},
                                            {r: before[r] for r in self.targets})
        if problems:
            raise MigrationError(
                f"the state of {self.plan.environment} cannot move into its {self.plan.after} layout:\n  - "
                + "\n  - ".join(problems) + f"\n{_UNTOUCHED} Fix: apply the {self.plan.before} layout as built "
                f"before the switch, so its state holds every resource, or move the named resources by hand; "
                f"backups: {self.work / 'backup'}")
        return moves

    def _write(self, moves: states.Moves, before: dict[str, dict | None]) -> None:
        """Each new root's state with its resources, read back and checked."""
        template = next((before[r] for r in self.sources if before[r] is not None), {"version": states.FORMAT})
        written: list[str] = []
        for root in self.targets:
            entries = moves.into[root]
            if not entries:
                continue
            self._say(f"{root}: writing {len(entries)} resource(s) into its state")
            try:
                self._push(root, states.with_resources(before[root], entries, template=template))
                lost = states.not_held(self._pull(root), entries)
                if lost:
                    raise _Failed(f"read back, the state of {root} lacks {', '.join(lost[:8])}")
            except _Failed as exc:
                copies = f"; {', '.join(written)} hold(s) copies, which a new run keeps" if written else ""
                raise MigrationError(
                    f"{exc}\nThe old roots' state is untouched: it still holds every resource{copies}. Fix what "
                    f"terraform says, then run the migration again (backups: {self.work / 'backup'})") from None
            written.append(root)

    def _outputs(self, workdirs: dict[str, Path]) -> None:
        """The new roots' outputs in their state, the roots in order: a link root's reads need its regions'."""
        try:
            for root in self.targets:
                self._say(f"{root}: writing its outputs (terraform apply -refresh-only)")
                self._terraform(root, workdirs[root], "apply", "-refresh-only", "-auto-approve", "-input=false",
                                "-no-color", "-lock-timeout=0s", step="refresh-only")
        except _Failed as exc:
            raise MigrationError(
                f"{exc}\nEvery resource is in its new root's state (written and checked) and still in the old "
                f"roots' state, which is untouched. Fix what terraform says, then run the migration again") from None

    def _empty(self, moves: states.Moves, before: dict[str, dict | None], result: MigrationResult) -> None:
        """Each old root's state emptied, read back and checked; only after every new root holds its own."""
        for root in moves.emptied:
            self._say(f"{root}: emptying its state")
            try:
                self._push(root, states.emptied(before[root]))
                left = states.managed(self._pull(root))
                if left:
                    raise _Failed(f"read back, the state of {root} still holds {', '.join(sorted(left)[:8])}")
            except _Failed as exc:
                raise MigrationError(
                    f"{exc}\nEvery resource is in its new root's state (written and checked); "
                    f"{', '.join(result.emptied) or 'no old root'} emptied so far. Fix what terraform says, then "
                    f"run the migration again: it empties the rest") from None
            result.emptied.append(root)

    def _ready(self, root: str) -> Path:
        """The directory terraform runs `root` in, initialized: an earlier run's when there is one (preparing
        a copy afresh drops its state), else prepared now."""
        source = self.out / root
        try:
            directory = self.workspace.workdir(root, source, self.work)
        except TfgenError:
            directory = self.workspace.prepare(root, source, self.work)
        self._terraform(root, directory, "init", "-input=false", "-no-color", step="init")
        return directory

    def _declared(self, root: str, directory: Path) -> list[str]:
        """The managed resources `root` declares where terraform runs it (a sandbox's copy leaves some out)."""
        read = read_root(directory)
        if read.problems:
            raise MigrationError(f"cannot read {directory}: " + "; ".join(str(p) for p in read.problems))
        return sorted(address for address in read.resources if not address.startswith("data."))


class _Failed(Exception):
    """A step of the migration failed; the message says how (the run says what that leaves)."""


def _private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (a state holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def default_work(environment: str) -> Path:
    """`tfgen-migrate-<environment>-<UTC time>` in the current directory."""
    import time

    return Path(f"tfgen-migrate-{environment}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
