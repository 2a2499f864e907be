"""The scheduler: every selected root through its phases, in dependency order, independent roots at once.

A root starts when every selected root it waits for (the roots it needs; for
destroy, the roots that need it) has finished ok, while fewer than
`parallelism` roots run. Each root runs in a thread; the main thread schedules,
asks for approvals and takes Ctrl-C. A root that fails stops the roots that wait
for it (transitively); the others finish. Ctrl-C (or SIGTERM) starts nothing
new and sends one SIGINT to every running terraform's process group, then waits
for them to write their state and release their locks (`Workspace.grace`, then
SIGKILL); the report then says which roots did not run and why. A terraform
that outlives the workspace's `timeout`, or that the workspace says must stop
(`Workspace.broken`: the sandbox's double died), fails its root with that reason.
A run in another thread installs no signal handlers: whoever holds the main
thread stops it with `stop()`, which does what Ctrl-C does. Runs at once can
share one limit of roots (`slots`). A root whose directory the workspace says
is initialized already (`Workspace.initialized`) skips `terraform init`.
"""

from __future__ import annotations

import queue
import shutil
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import TfgenError
from ..terraform.run import TerraformStopped, run_command
from .graph import RootGraph
from .report import PhaseResult, RootResult, RunReport
from .terraform import arguments, counts_of, lock_of, phases, plan_lines
from .workspace import Workspace

__all__ = ["Approval", "Orchestrator"]

Progress = Callable[[str, PhaseResult], None]


@dataclass(frozen=True)
class Approval:
    """What a root is about to apply, for the one who approves it."""

    root: str
    command: str
    lines: list[str]


class _Interrupted(Exception):
    pass


class Orchestrator:
    """Run `command` (plan, apply, destroy) over roots of `graph` with `workspace`.

    `approve(Approval) -> bool` is asked in the main thread before each apply that
    changes something (None: apply without asking). `progress(root, PhaseResult)`
    is called as each phase ends. `scratch` keeps plan files and logs (default: a
    temporary directory, removed afterwards). `show` (plan only): also write each
    plan as JSON (`terraform show -json`) to `RootResult.plan_json`, e.g. for the policy gate.
    `slots` (a semaphore shared by runs at once): a root also needs one of them to start.
    """

    def __init__(self, graph: RootGraph, *, command: str, workspace: Workspace, parallelism: int = 2,
                 approve: Callable[[Approval], bool] | None = None, progress: Progress | None = None,
                 scratch: Path | None = None, show: bool = False, slots: threading.Semaphore | None = None):
        if parallelism < 1:
            raise TfgenError(f"--parallelism must be at least 1, not {parallelism}")
        self.graph, self.command, self.workspace = graph, command, workspace
        self.parallelism, self.approve, self.progress = parallelism, approve, progress
        self.scratch, self.show, self.slots = scratch, show, slots
        self._stop = threading.Event()
        self._events: queue.Queue = queue.Queue()
        self._prompting = False

    def stop(self) -> None:
        """Stop the run as Ctrl-C does, from any thread: nothing new starts, every running terraform gets
        one SIGINT and is waited for; `run` then returns a report that says it was interrupted."""
        self._stop.set()

    # -- the main thread -------------------------------------------------------

    def run(self, selected: list[str]) -> RunReport:
        """Run every root of `selected` (already in order); returns the report, never raises for a root."""
        started = time.monotonic()
        scratch = self.scratch or Path(tempfile.mkdtemp(prefix="tfgen-run-"))
        destroy = self.command == "destroy"
        results = {root: RootResult(root, self.graph.waits_for(root, selected, destroy=destroy)) for root in selected}
        pending = list(selected)
        running: dict[str, threading.Thread] = {}
        try:
            with self._signals():
                while pending or running:
                    self._start_ready(pending, running, results, scratch)
                    try:
                        event = self._events.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    if event[0] == "done":
                        running.pop(event[1]).join()
                    else:
                        self._ask(*event[1:])
        finally:
            if self.scratch is None:
                shutil.rmtree(scratch, ignore_errors=True)
        return RunReport(self.command, str(self.graph.out), [results[r] for r in selected],
                         interrupted=self._stop.is_set(), seconds=time.monotonic() - started,
                         workspace=self.workspace.describe())

    def _start_ready(self, pending, running, results, scratch) -> None:
        for root in list(pending):
            result = results[root]
            if self._stop.is_set():
                result.status, result.reason = "not run", "interrupted before it started"
                pending.remove(root)
                continue
            blocked = [r for r in result.waits_for
                       if results[r].status not in ("ok", "pending", "running", "waiting")]
            if blocked:
                cause = results[blocked[0]]
                verb = "destroyed" if self.command == "destroy" else "applied" if self.command == "apply" else "planned"
                result.status = "skipped"
                result.reason = f"{blocked[0]} was not {verb} ({cause.status})"
                pending.remove(root)
            elif (all(results[r].status in ("ok", "waiting") for r in result.waits_for)
                  and len(running) < self.parallelism
                  and (self.slots is None or self.slots.acquire(blocking=False))):
                pending.remove(root)
                result.status = "running"
                thread = threading.Thread(target=self._root, args=(result, scratch), name=f"tfgen-{root}",
                                          daemon=True)
                running[root] = thread
                thread.start()

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

    @contextmanager
    def _signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def interrupt(signum, frame):
            self._stop.set()
            if self._prompting:
                raise _Interrupted()

        previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- one root, in its own thread -----------------------------------------

    def _root(self, result: RootResult, scratch: Path) -> None:
        clock = time.monotonic()
        try:
            self._phases(result, scratch)
        except TfgenError as exc:
            result.status, result.reason = "failed", str(exc)
        except Exception as exc:  # a bug must not leave the scheduler waiting forever
            result.status, result.reason = "failed", f"tfgen failed: {exc!r}; please report it"
        finally:
            result.seconds = time.monotonic() - clock
            if self.slots is not None:
                self.slots.release()
            self._events.put(("done", result.root))

    def _phases(self, result: RootResult, scratch: Path) -> None:
        root = result.root
        unapplied = ([] if self.command == "destroy"
                     else self.workspace.unapplied(root, self.graph.path(root), scratch))
        if unapplied:
            result.status = "waiting"
            result.reason = (f"reads the state of {', '.join(unapplied)}, not applied here; it plans once "
                             f"{'they are' if len(unapplied) > 1 else 'it is'} applied")
            return
        workdir = result.workdir = self.workspace.prepare(root, self.graph.path(root), scratch)
        plan_file = (scratch / "plans" / f"{root}.tfplan").resolve()
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        env = self.workspace.env()
        for phase in phases(self.command, show=self.show):
            if phase == "init" and self.workspace.initialized(root, workdir):
                continue
            if self._stop.is_set():
                result.status, result.reason = "interrupted", f"interrupted before {phase}"
                return
            if phase == "apply":
                if result.counts is not None and not result.counts.any:
                    result.status = "ok"
                    return
                if self.approve is not None and not self._approved(result, workdir):
                    return
            log = scratch / "logs" / root / f"{phase}.log"
            data = plan_file.with_suffix(".tfplan.json") if phase == "show" else None
            extra = self.workspace.options(phase, self.command)
            try:
                ran = run_command(self.workspace.terraform, workdir,
                                  *arguments(phase, command=self.command, plan_file=plan_file, extra=extra),
                                  env=env, log=log, watch=lambda: self._watch(root, phase),
                                  timeout=self.workspace.timeout, grace=self.workspace.grace, stdout=data)
            except TerraformStopped as stopped:
                interrupted = self._stop.is_set()
                self._record(result, phase, "interrupted" if interrupted else "failed", stopped.result.seconds)
                result.status = "interrupted" if interrupted else "failed"
                result.reason = (f"{phase} interrupted; terraform stopped (exit {stopped.result.returncode})"
                                 if interrupted else stopped.reason)
                return
            output = ran.output
            if ran.returncode != 0:
                self._record(result, phase, "failed", ran.seconds)
                result.status = "failed"
                result.errors = ran.errors() or output.strip().splitlines()[-5:]
                lock = lock_of(output)
                if lock is not None:
                    result.reason = (f"the state is locked by another run ({lock}); nothing was changed. Fix: let "
                                     f"that run finish, then run again; if no run holds it, `terraform force-unlock "
                                     f"{lock.id or 'LOCK_ID'}` in {self.graph.path(root)}")
                else:
                    result.reason = f"terraform {phase} failed (exit {ran.returncode})"
                return
            if phase == "plan":
                result.counts = counts_of(output)
                result.plan = plan_lines(output)
            result.plan_json = data or result.plan_json
            self._record(result, phase, "ok", ran.seconds)
        result.status = "ok"

    def _approved(self, result: RootResult, workdir: Path) -> bool:
        answer: list[bool] = []
        answered = threading.Event()
        self._events.put(("ask", Approval(result.root, self.command, result.plan), answer, answered))
        while not answered.wait(0.1):
            pass
        if not answer[0]:
            interrupted = self._stop.is_set()
            result.status = "interrupted" if interrupted else "cancelled"
            result.reason = "interrupted at the approval" if interrupted else f"{self.command} not approved"
        return answer[0]

    def _record(self, result: RootResult, phase: str, status: str, seconds: float) -> None:
        done = PhaseResult(phase, status, seconds)
        result.phases.append(done)
        if self.progress is not None:
            self.progress(result.root, done)

    def _watch(self, root: str, phase: str) -> str | None:
        return "interrupted" if self._stop.is_set() else self.workspace.broken(root, phase)
