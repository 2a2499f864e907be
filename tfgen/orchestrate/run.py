"""The scheduler: every selected root through its phases (`tfgen.orchestrate.phases`), each phase as soon as
what it waits for is through, up to `parallelism` phases with terraform commands at once.

Each phase runs in a thread of its own; the main thread schedules, calls `progress` as phases end, asks
for approvals and takes Ctrl-C. A phase that does not end ok stops its root (the rest of its phases are
`not run`) and the phases of other roots that need it (`skipped`, transitively); the others finish.
Ctrl-C (or SIGTERM, or SIGHUP: a closed terminal) starts nothing new and sends one SIGINT to every running terraform's process group,
then waits for them to write their state and release their locks (`Workspace.grace`, then SIGKILL) and
for every running call to return; the report then says which roots did not run and why. A terraform
that outlives the workspace's `timeout`, or that the workspace says must stop (`Workspace.broken`: the
sandbox's double died), fails its phase with that reason. A run in another thread installs no signal
handlers: whoever holds the main thread stops it with `stop()`, which does what Ctrl-C does.

While terraform runs, `activity` is called in the main thread every `heartbeat` seconds with what each
running command is doing (`Activity`: resources done and in progress, elapsed time), so a long apply is
not silent. After `show`, the plan's JSON (`tfgen.terraform.planjson`) is the root's `review` and its
counts; `review` (the caller's: the lifecycle guard) may refuse the root before anything is applied.

`on_signals` is tfgen's one handler of SIGINT, SIGTERM and SIGHUP: the run's, and the CLI's around a sandbox.
"""

from __future__ import annotations

import queue
import shutil
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..errors import TfgenError
from ..terraform.changes import Action
from ..terraform.planjson import PlanJson, load_plan, tally
from ..terraform.run import TerraformStopped, run_command
from .graph import RootGraph
from .phases import Phase, command_phases
from .report import PhaseResult, RootResult, RunReport
from .terraform import Activity, Counts, arguments, changes_of, counts_of, lock_of, plan_lines, state_of
from .workspace import Workspace

__all__ = ["Approval", "Orchestrator", "on_signals", "SIGNALS"]

Progress = Callable[[PhaseResult], None]
# A reason to refuse a root's plan before it is applied (the guard's findings), or None.
Review = Callable[[str, PlanJson], "str | None"]
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_MET = ("ok", "waiting")  # how a phase of `needs` must have ended
_OVER = ("ok", "waiting", "not run")  # ... and one of `after`


@dataclass(frozen=True)
class Approval:
    """What a root is about to apply, for the one who approves it: Terraform's lines, and the plan's JSON."""

    root: str
    command: str
    lines: list[str]
    review: PlanJson | None = None


@contextmanager
def on_signals(handler: Callable[[], None]) -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP call `handler` (it may raise, as KeyboardInterrupt);
    outside the main thread nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: handler()) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _Interrupted(Exception):
    pass


@dataclass
class _Root:
    """A root during a run: its phases, the next to start, those running and those ended."""

    result: RootResult
    phases: list[Phase]
    next: int = 0
    running: dict[str, threading.Thread] = field(default_factory=dict)
    ended: dict[str, PhaseResult] = field(default_factory=dict)
    workdir: Path | None = None
    finished: bool = False

    @property
    def inits(self) -> bool:
        return any("init" in p.commands for p in self.phases)


class Orchestrator:
    """Run roots of `graph` through their phases with `workspace`: the phases of `command` (plan, apply,
    destroy; `command_phases`), or `phases` (`{root: [Phase, ...]}`, the sandbox's; `command` then only
    names the run).

    `approve(Approval) -> bool` is asked in the main thread before each apply that changes something (None:
    apply without asking). `progress(PhaseResult)` is called in the main thread as each phase ends or is
    given up. `scratch` keeps plan files and logs (`logs/<root>/<phase>/<command>.log`; default: a temporary
    directory, removed afterwards). `show`: each plan also as JSON (`terraform show -json`, beside the plan
    file: `RootResult.plan_json`), read into `RootResult.review`; `state` (plan): the state's lineage and
    serial into `RootResult.state`. `plan_file(root)`: where a root's plan file is (default
    `<scratch>/plans/<root>.tfplan`). `review(root, plan)` may refuse a root after `show` (a reason: the
    root is `refused`, nothing of it applied). `activity(Activity)` is called every `heartbeat` seconds
    for each running terraform command.
    """

    def __init__(self, graph: RootGraph, *, command: str, workspace: Workspace,
                 phases: dict[str, Sequence[Phase]] | None = None, parallelism: int = 2,
                 approve: Callable[[Approval], bool] | None = None, progress: Progress | None = None,
                 scratch: Path | None = None, show: bool = True, state: bool = False,
                 plan_file: Callable[[str], Path] | None = None, review: Review | None = None,
                 activity: Callable[[Activity], None] | None = None, heartbeat: float = 10.0):
        if parallelism < 1:
            raise TfgenError(f"--parallelism must be at least 1, not {parallelism}")
        self.graph, self.command, self.workspace, self.phases = graph, command, workspace, phases
        self.parallelism, self.approve, self.progress = parallelism, approve, progress
        self.scratch, self.show, self.state, self.plan_file = scratch, show, state, plan_file
        self.review, self.activity, self.heartbeat = review, activity, heartbeat
        self._running: dict[tuple[str, str], Activity] = {}
        self._stop = threading.Event()
        self._events: queue.Queue = queue.Queue()
        self._prompting = False
        self._commands = 0  # phases with terraform commands running
        self._error: Exception | None = None  # raised by `progress`: the run stops, then raises it

    def stop(self) -> None:
        """Stop the run as Ctrl-C does, from any thread: nothing new starts, every running terraform gets
        one SIGINT and is waited for; `run` then returns a report that says it was interrupted."""
        self._stop.set()

    # -- the main thread -------------------------------------------------------

    def run(self, selected: list[str]) -> RunReport:
        """Run every root of `selected` (in the order the report lists them); returns the report, never
        raises for a root (what `progress` raises, it raises once every terraform has stopped)."""
        started = time.monotonic()
        self.workspace.check({root: self.graph.path(root) for root in selected})
        scratch = self.scratch or Path(tempfile.mkdtemp(prefix="tfgen-run-"))
        planned = self.phases if self.phases is not None else command_phases(self.command, self.graph, selected,
                                                                             show=self.show, state=self.state)
        roots = {}
        for root in selected:
            phases = list(planned[root])
            if len({p.name for p in phases}) != len(phases):
                raise ValueError(f"root {root}: two phases of one name in {[p.name for p in phases]}")
            waits = sorted(set().union(*(p.waits_for for p in phases)) & set(selected) - {root})
            roots[root] = _Root(RootResult(root, waits), phases)
        beat = time.monotonic()
        try:
            with on_signals(self._signalled):
                while not all(state.finished for state in roots.values()):
                    if self.activity is not None and time.monotonic() - beat >= self.heartbeat:
                        beat = time.monotonic()
                        for running in list(self._running.values()):
                            self._call(self.activity, running)
                    for state in roots.values():
                        while not state.finished and self._start_next(state, roots, scratch):
                            pass
                    if all(state.finished for state in roots.values()):
                        break  # the last roots closed just now: nothing left to wait for
                    if not any(state.running for state in roots.values()):
                        stuck = [f"{s.result.root} {s.phases[s.next].name}" for s in roots.values() if not s.finished]
                        raise ValueError(f"phases that wait for each other: {', '.join(stuck)}")
                    try:
                        event = self._events.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    if event[0] == "done":
                        self._ended(roots[event[1]], event[2])
                    else:
                        self._ask(*event[1:])
        finally:
            if self.scratch is None:
                shutil.rmtree(scratch, ignore_errors=True)
        if self._error is not None:
            raise self._error
        return RunReport(self.command, str(self.graph.out), [roots[r].result for r in selected],
                         interrupted=self._stop.is_set(), seconds=time.monotonic() - started,
                         workspace=self.workspace.describe())

    def _signalled(self) -> None:
        self._stop.set()
        if self._prompting:
            raise _Interrupted()

    def _start_next(self, state: _Root, roots: dict[str, _Root], scratch: Path) -> bool:
        """Start `state`'s next phase if it may start now (True), or close the root once it cannot go on."""
        earlier = state.phases[:state.next]
        if any(state.ended[p.name].status != "ok" for p in earlier if p.name in state.ended):
            if not state.running:
                self._close(state)
            return False
        if state.next == len(state.phases):
            if not state.running:
                self._close(state)
            return False
        phase = state.phases[state.next]
        if any(p.name not in state.ended for p in earlier[:-1]) \
                or (earlier and earlier[-1].name not in state.ended and not earlier[-1].alongside):
            return False
        if self._stop.is_set():
            if not state.running:
                self._close(state, stopped=True)
            return False
        waits = [(root, name, _MET) for root, name in phase.needs] + [(root, name, _OVER) for root, name in phase.after]
        for root, name, fine in waits:
            other = roots.get(root)
            if other is None or root == state.result.root or not any(p.name == name for p in other.phases):
                continue  # not in this run: not waited for
            if name not in other.ended:
                return False
            if other.ended[name].status not in fine:
                self._skip(state, phase, other, name)
                if not state.running:
                    self._close(state)
                return False
        if phase.commands and self._commands >= self.parallelism:
            return False
        state.next += 1
        state.result.status = "running"
        if phase.commands:
            self._commands += 1
        thread = threading.Thread(target=self._phase, args=(state, phase, scratch), daemon=True,
                                  name=f"tfgen-{state.result.root}-{phase.name}")
        state.running[phase.name] = thread
        thread.start()
        return True

    def _skip(self, state: _Root, phase: Phase, other: _Root, name: str) -> None:
        cause = other.ended[name].status
        cause = other.result.status if cause == "not run" else cause
        past = next(p.past or p.name for p in other.phases if p.name == name)
        state.next += 1
        self._record(state, PhaseResult(state.result.root, phase.name, "skipped",
                                        reason=f"{other.result.root} was not {past} ({cause})"))

    def _ended(self, state: _Root, result: PhaseResult) -> None:
        state.running.pop(result.phase).join()
        if any(p.commands for p in state.phases if p.name == result.phase):
            self._commands -= 1
        self._record(state, result)

    def _record(self, state: _Root, result: PhaseResult) -> None:
        state.ended[result.phase] = result
        if self.progress is not None:
            self._call(self.progress, result)

    def _call(self, callback: Callable, argument) -> None:
        """The caller's callback; an exception from it stops every terraform first, then is raised."""
        if self._error is None:
            try:
                callback(argument)
            except Exception as exc:
                self._error = exc
                self._stop.set()

    def _close(self, state: _Root, *, stopped: bool = False) -> None:
        """The root is through: its status from its first phase that did not end ok (or from the interrupt);
        the phases it did not get to are `not run`."""
        result = state.result
        bad = next((state.ended[p.name] for p in state.phases
                    if p.name in state.ended and state.ended[p.name].status != "ok"), None)
        if bad is not None:
            result.status, result.reason, result.errors = bad.status, bad.reason, bad.details
        elif stopped:
            started = bool(state.ended)
            result.status = "interrupted" if started else "not run"
            result.reason = (f"interrupted before {state.phases[state.next].name}" if started
                             else "interrupted before it started")
        else:
            result.status = "ok"
        state.finished = True
        for phase in state.phases:
            if phase.name not in state.ended:
                self._record(state, PhaseResult(result.root, phase.name, "not run", reason=result.reason))
        order = [p.name for p in state.phases]
        result.phases = sorted(state.ended.values(), key=lambda p: order.index(p.phase))
        result.seconds = sum(p.seconds for p in result.phases)

    def _ask(self, approval: Approval, answer: list, answered: threading.Event) -> None:
        self._prompting = True
        try:
            answer.append(bool(self.approve(approval)) and not self._stop.is_set())
        except (KeyboardInterrupt, EOFError, _Interrupted):
            self._stop.set()
            answer.append(False)
        finally:
            self._prompting = False
            answered.set()

    # -- one phase, in its own thread ------------------------------------------

    def _phase(self, state: _Root, phase: Phase, scratch: Path) -> None:
        clock = time.monotonic()
        result = PhaseResult(state.result.root, phase.name)
        try:
            if phase.call is not None:
                result.checks = list(phase.call(lambda command: self._watch(state.result.root, command)))
            for command in phase.commands:
                if not self._command(state, phase, command, result, scratch):
                    break
        except TfgenError as exc:
            result.status, result.reason = "failed", str(exc)
        except Exception as exc:  # a bug must not leave the scheduler waiting forever
            result.status, result.reason = "failed", f"tfgen failed: {exc!r}; please report it"
        finally:
            result.seconds = time.monotonic() - clock
            self._events.put(("done", state.result.root, result))

    def _command(self, state: _Root, phase: Phase, command: str, result: PhaseResult, scratch: Path) -> bool:
        """Run one terraform command of `phase` into `result`; whether the phase goes on."""
        root, source = state.result.root, self.graph.path(state.result.root)
        if command == "plan":
            unapplied = self.workspace.unapplied(root, source, scratch)
            if unapplied:
                result.status = "waiting"
                result.reason = (f"reads the state of {', '.join(unapplied)}, not applied here; it plans once "
                                 f"{'they are' if len(unapplied) > 1 else 'it is'} applied")
                return False
        if state.workdir is None:
            prepare = self.workspace.prepare if state.inits else self.workspace.workdir
            state.workdir = state.result.workdir = prepare(root, source, scratch)
        if command == "apply":
            review = state.result.review
            if (review is not None and not review.any) or (review is None and state.result.counts is not None
                                                            and not state.result.counts.any):
                result.counts = Counts(0, 0, 0)  # nothing to apply
                return True
            if self.approve is not None and not self._approved(state.result, result):
                return False
        if self._stop.is_set():
            result.status, result.reason = "interrupted", f"interrupted before {command}"
            return False
        plan_file = (self.plan_file(root) if self.plan_file else scratch / "plans" / f"{root}.tfplan").resolve()
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        data = {"show": plan_file.with_name(plan_file.stem + ".json"),
                "state": scratch / "state" / f"{root}.tfstate"}.get(command)
        result.log = scratch / "logs" / root / phase.name / f"{command}.log"
        if data is not None:
            data.parent.mkdir(parents=True, exist_ok=True)
        activity = Activity(root, phase.name, command, total=_work(state.result) if command == "apply" else None)
        self._running[root, phase.name] = activity
        try:
            ran = run_command(self.workspace.terraform, state.workdir,
                              *arguments(command, plan_file=plan_file, extra=self.workspace.options(command)),
                              env=self.workspace.env(), log=result.log, watch=lambda: self._watch(root, command),
                              timeout=self.workspace.timeout, grace=self.workspace.grace, stdout=data,
                              lines=activity.feed)
        except TerraformStopped as stopped:
            interrupted = self._stop.is_set()
            result.status = "interrupted" if interrupted else "failed"
            result.reason = (f"{command} interrupted; terraform stopped (exit {stopped.result.returncode})"
                             if interrupted else stopped.reason)
            return False
        finally:
            self._running.pop((root, phase.name), None)
        output = ran.output
        if ran.returncode != 0:
            result.status = "failed"
            result.details = ran.errors() or output.strip().splitlines()[-5:]
            lock = lock_of(output)
            if lock is not None:
                result.reason = (f"the state is locked by another run ({lock}); nothing was changed. Fix: let "
                                 f"that run finish, then run again; if no run holds it, `terraform force-unlock "
                                 f"{lock.id or 'LOCK_ID'}` in {source}")
            elif command == "apply" and "Saved plan is stale" in output:
                result.status = "stale"
                result.reason = ("Terraform refused the saved plan: the state changed since it was made; nothing "
                                 "was applied. Fix: plan again (`tfgen plan OUT --out-dir PLANS`) and review it")
            else:
                result.reason = f"terraform {command} failed (exit {ran.returncode})"
            return False
        if command in ("plan", "plan-destroy"):
            result.counts = state.result.counts = counts_of(output)
            result.changes = changes_of(output)
            state.result.plan = plan_lines(output)
            state.result.plan_file = plan_file
        elif command == "apply":
            result.counts = counts_of(output)
        elif command == "show":
            return self._read_plan(state.result, result, data)
        elif command == "state":
            try:
                state.result.state = state_of(data.read_text(errors="replace"))
            except ValueError as exc:
                result.status, result.reason = "failed", f"{exc} (log: {result.log})"
                return False
            finally:
                data.unlink(missing_ok=True)  # a copy of the state: secrets, kept no longer than needed
        return True

    def _read_plan(self, root: RootResult, result: PhaseResult, data: Path) -> bool:
        """The plan's JSON as the root's review and counts; the caller's `review` may refuse it."""
        root.plan_json = data
        review = root.review = load_plan(data, root=root.root)
        counted = tally(review.changes)
        root.counts = result.counts = Counts(counted[Action.CREATE], counted[Action.UPDATE],
                                             counted[Action.DELETE], counted[Action.REPLACE])
        result.changes = [f"{c.address} {c.action}" for c in review.changed]
        refused = self.review(root.root, review) if self.review is not None else None
        if refused:
            result.status, result.reason = "refused", refused
            return False
        return True

    def _approved(self, root: RootResult, result: PhaseResult) -> bool:
        answer: list[bool] = []
        answered = threading.Event()
        self._events.put(("ask", Approval(root.root, self.command, root.plan, root.review), answer, answered))
        while not answered.wait(0.1):
            pass
        if not answer[0]:
            interrupted = self._stop.is_set()
            result.status = "interrupted" if interrupted else "cancelled"
            result.reason = "interrupted at the approval" if interrupted else f"{self.command} not approved"
        return answer[0]

    def _watch(self, root: str, command: str) -> str | None:
        return "interrupted" if self._stop.is_set() else self.workspace.broken(root, command)


def _work(root: RootResult) -> int | None:
    """How many resource lines an apply of `root`'s plan ends with complete (a replacement has two)."""
    counts = root.counts
    return None if counts is None else counts.add + counts.change + counts.destroy + 2 * counts.replace
