"""The sandbox's phases over many roots at once: one run of the orchestrator per phase.

`RootRuns` (a part of `Sandbox`) runs apply (init, plan, apply), re-plan (plan) and destroy (plan
-destroy, apply) over a list of roots through `tfgen.orchestrate.Orchestrator` with a view of the
sandbox's `DoubleWorkspace` of its own (an applied copy is not initialized again), logs under
`runs/<phase>/logs/<root>/`, and turns each root's terraform phases into the sandbox's `PhaseResult`s
as they end (progress per root and phase). Several runs may go at once, from several threads (the
sandbox's units, `tfgen.sandbox.pipeline`): they share `_slots` (the sandbox's `concurrency`), and
`_stop_runs` stops every one of them as Ctrl-C would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..orchestrate import Orchestrator
from ..orchestrate.report import RootResult
from .outcome import count, failed, replanned
from .pipeline import DoubleStopped
from .report import PhaseResult

__all__ = ["RootRuns"]


class RootRuns:
    """apply, re-plan and destroy of several roots through the orchestrator (mixed into `Sandbox`)."""

    def _orchestrate(self, command: str, roots: list[str], *, fresh: bool, run: str,
                     progress: Callable) -> dict[str, RootResult]:
        """`command` over `roots` (in the order to run them) through the orchestrator, logs in runs/<run>/.

        Raises ToolchainError (DoubleStopped) when the double died meanwhile, KeyboardInterrupt when
        interrupted (Ctrl-C in the main thread, or `_stop_runs`)."""
        orchestrator = Orchestrator(self.graph, command=command, workspace=self.workspace.view(fresh=fresh),
                                    parallelism=self.concurrency, progress=progress,
                                    scratch=self._scratch / "runs" / run, slots=self._slots)
        with self._runs_lock:
            if self._stopping.is_set():
                raise KeyboardInterrupt
            self._runs.append(orchestrator)
        try:
            report = orchestrator.run(roots)
        finally:
            with self._runs_lock:
                self._runs.remove(orchestrator)
        if not self.double.alive():
            reason = next((r.reason for r in report.roots if "local AWS double" in r.reason), "")
            raise DoubleStopped(reason or f"the local AWS double (moto_server) stopped during {run}; run the "
                                f"command again: each run starts a fresh double and converges")
        if report.interrupted:
            raise KeyboardInterrupt
        return {r.root: r for r in report.roots}

    def _stop_runs(self) -> None:
        """Stop every run of the orchestrator going (from any thread) and any that would start."""
        with self._runs_lock:
            self._stopping.set()
            for orchestrator in self._runs:
                orchestrator.stop()

    def _log(self, run: str, root: str, phase: str) -> Path:
        return self._scratch / "runs" / run / "logs" / root / f"{phase}.log"

    def _ordered(self, roots: list[str], *, reverse: bool = False) -> list[str]:
        ordered = self.graph.order(roots)
        return ordered[::-1] if reverse else ordered

    def _apply(self, roots: list[str], *, fresh: bool) -> dict[str, list[PhaseResult]]:
        """init (`fresh`: of a new copy), plan and apply of `roots`, independent ones at once."""
        done: dict[str, list[PhaseResult]] = {root: [] for root in roots}
        planned: dict[str, float] = {}

        def progress(root: str, phase) -> None:
            ok = phase.status == "ok"
            log = self._log("apply", root, phase.phase)
            if phase.phase == "init":
                if fresh or not ok:
                    done[root].append(self._report(
                        PhaseResult(root, "init", True, phase.seconds, "AWS provider from the local mirror") if ok
                        else failed(root, "init", log, "init", phase.seconds)))
                return
            seconds = planned.pop(root, 0.0) + phase.seconds
            if phase.phase == "plan" and ok:
                planned[root] = seconds
                return
            if ok:
                result = PhaseResult(root, "apply", True, seconds, f"{count(log, 'added')} resources created")
            else:
                result = failed(root, "apply", log, phase.phase, seconds)
                if self.double.alive():  # else the run ends with the double's death (`_orchestrate`)
                    result.details.append(self._created(root))
            done[root].append(self._report(result))

        results = self._orchestrate("apply", self._ordered(roots), fresh=fresh, run="apply", progress=progress)
        for root, result in results.items():
            if result.status == "ok" and not any(p.phase == "apply" for p in done[root]):
                done[root].append(self._report(PhaseResult(root, "apply", True, planned.pop(root, 0.0),
                                                           "0 resources created")))
            elif result.status != "ok" and not any(not p.ok for p in done[root]):
                done[root].append(self._report(PhaseResult(root, "apply" if done[root] else "init", False,
                                                           result.seconds, f"not applied: {result.reason}")))
        return done

    def _created(self, root: str) -> str:
        result = self._terraform(root, "state-list", "state", "list")
        addresses = result.output.split() if result.returncode == 0 else []
        if not addresses:
            return "no resource was created before the failure"
        counts: dict[str, int] = {}
        for address in addresses:
            counts[address.split(".")[0]] = counts.get(address.split(".")[0], 0) + 1
        listed = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        return f"created before the failure ({len(addresses)}): {listed}"

    def _replan(self, roots: list[str]) -> dict[str, PhaseResult]:
        done: dict[str, PhaseResult] = {}
        inited: dict[str, float] = {}

        def progress(root: str, phase) -> None:
            log = self._log("re-plan", root, phase.phase)
            seconds = inited.pop(root, 0.0) + phase.seconds
            if phase.status == "ok" and phase.phase == "init":
                inited[root] = seconds
                return
            done[root] = self._report(failed(root, "re-plan", log, phase.phase, seconds) if phase.status != "ok"
                                      else replanned(root, log, seconds))

        results = self._orchestrate("plan", self._ordered(roots), fresh=False, run="re-plan", progress=progress)
        for root, result in results.items():
            if root not in done:
                done[root] = self._report(PhaseResult(root, "re-plan", False, result.seconds,
                                                      f"not re-planned: {result.reason}"))
        return done

    def _destroy(self, roots: list[str]) -> dict[str, PhaseResult]:
        """Destroy `roots` in reverse order of the graph, independent ones at once (`N resources destroyed`)."""
        done: dict[str, PhaseResult] = {}
        spent: dict[str, float] = {}

        def progress(root: str, phase) -> None:
            log = self._log("destroy", root, phase.phase)
            seconds = spent.pop(root, 0.0) + phase.seconds
            if phase.status == "ok" and phase.phase != "apply":
                spent[root] = seconds
                return
            if phase.status != "ok":
                done[root] = self._report(failed(root, "destroy", log, phase.phase, seconds))
                return
            done[root] = PhaseResult(root, "destroy", True, seconds, f"{count(log, 'destroyed')} resources destroyed")

        results = self._orchestrate("destroy", self._ordered(roots, reverse=True), fresh=False, run="destroy",
                                    progress=progress)
        for root, result in results.items():
            if root not in done:
                done[root] = (PhaseResult(root, "destroy", True, spent.pop(root, 0.0), "0 resources destroyed")
                              if result.status == "ok" else
                              PhaseResult(root, "destroy", False, result.seconds, f"not destroyed: {result.reason}"))
        return done
