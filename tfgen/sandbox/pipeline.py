"""The sandbox's units at once, each through its own pipeline of phases.

A unit is what the report has one entry for: an environment (all of its roots; a cells environment
has several) or `_state`. Each unit runs on a thread of its own: apply (init, plan, apply of each of
its roots, through the orchestrator), then verify and re-plan at once (both only read: verify asks
the API on a thread while the re-plan's orchestrator run goes), then destroy (unless kept). A unit
starts as soon as the units it needs (in the sandbox's graph of roots, `Sandbox.graph`) are applied,
whatever phase the others are in; the roots of every unit share the sandbox's `concurrency`. A unit
whose init or apply fails stops there, and so do the units that need it; the others go on.

Two rules order the destroys:

- a unit needed by another is destroyed only after that one is (when its destroy fails, the needed
  unit is not destroyed: it is what the other still stands on);
- the double is one AWS account, so environments that set one account-wide setting of a region (EBS
  encryption by default: `ACCOUNT_SETTINGS`) share it there, and one's destroy would change it under
  the other's verify or re-plan (a re-plan that is then not clean) or the other's apply would set it
  again after the destroy (a check after destroy that finds it on). Such a unit is destroyed only once
  every unit sharing a setting with it has been verified and re-planned (or did not apply).

The main thread only waits, and takes Ctrl-C and SIGTERM (as the orchestrator does when it runs there).
Either, or an error on one unit's thread (the double gone, an API error), stops every orchestrator run
(`Orchestrator.stop`: each running terraform gets one SIGINT and is waited for) and any that would
start; once every thread has ended, `run` raises KeyboardInterrupt (or the error).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

from ..derive import naming
from ..errors import ToolchainError
from ..model.regions import REGIONS
from ..terraform.index import resources_of
from .outcome import joined
from .report import EnvironmentReport, PhaseResult

if TYPE_CHECKING:
    from .runner import Sandbox

__all__ = ["ACCOUNT_SETTINGS", "account_settings", "Pipelines"]

# Resource types that set something of the whole account in a region: one per account and region.
ACCOUNT_SETTINGS = ("aws_ebs_encryption_by_default", "aws_ebs_default_kms_key")


def account_settings(documents: dict[str, dict]) -> set[tuple[str, str]]:
    """(type, region) of each account-wide setting of a region that a root's documents set (tfgen pins every
    resource to its region's alias with `naming.provider_ref`)."""
    return {(type_, _REGION_OF.get(body.get("provider"), "")) for type_, _, body in resources_of(documents)
            if type_ in ACCOUNT_SETTINGS}


_REGION_OF = {naming.provider_ref(region): region for region in REGIONS}


class DoubleStopped(ToolchainError):
    """The double died during a run of the orchestrator (the reason names the terraform it stopped)."""


@dataclass
class _Unit:
    name: str
    roots: list[str]
    report: EnvironmentReport
    needs: set[str] = field(default_factory=set)  # units it needs applied first
    needed_by: set[str] = field(default_factory=set)  # units destroyed before it
    shares: set[str] = field(default_factory=set)  # units setting an account-wide setting it sets too
    applied: threading.Event = field(default_factory=threading.Event)
    checked: threading.Event = field(default_factory=threading.Event)
    destroyed: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)  # its thread is done
    applied_ok: bool = False
    destroy_failed: bool = False  # its terraform destroy failed: the units it needs stay (it stands on them)


@contextlib.contextmanager
def _signals(interrupted: threading.Event) -> Iterator[None]:
    """In the main thread, Ctrl-C and SIGTERM set `interrupted` instead of raising anywhere in between (a
    KeyboardInterrupt while threads start, or inside a join, could leave a unit running unstopped)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame) -> None:
        interrupted.set()

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Stopping(Exception):
    """A unit's thread gives up waiting: the run is being stopped."""


class Pipelines:
    """One run of `Sandbox._run`: `units` ({unit: its roots, in order}), each through its pipeline."""

    def __init__(self, sandbox: "Sandbox", units: dict[str, list[str]], *, keep: bool,
                 settings: dict[str, set[tuple[str, str]]]):
        self.sandbox, self.keep = sandbox, keep
        self.units = {name: _Unit(name, roots, EnvironmentReport(name)) for name, roots in units.items()}
        unit_of = {root: name for name, roots in units.items() for root in roots}
        for unit in self.units.values():
            for root in unit.roots:
                unit.needs |= {unit_of[n] for n in sandbox.graph.needs[root] if n in unit_of} - {unit.name}
            mine = set().union(*(settings.get(root, set()) for root in unit.roots))
            for other, roots in units.items():
                theirs = set().union(*(settings.get(root, set()) for root in roots))
                if other != unit.name and mine & theirs:
                    unit.shares.add(other)
        for unit in self.units.values():
            for need in unit.needs:
                self.units[need].needed_by.add(unit.name)
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()

    # -- the main thread -------------------------------------------------------------------------

    def run(self) -> list[EnvironmentReport]:
        threads = [threading.Thread(target=self._thread, args=(unit,), name=f"tfgen-sandbox-{unit.name}",
                                    daemon=True) for unit in self.units.values()]
        interrupted = threading.Event()
        with _signals(interrupted):
            for thread in threads:
                thread.start()
            while not all(unit.finished.is_set() for unit in self.units.values()):
                if interrupted.is_set() or self._errors:
                    self.sandbox._stop_runs()  # then wait for them all: no terraform left, no state lock
                time.sleep(0.05)
            for thread in threads:
                thread.join()
        if interrupted.is_set():
            raise KeyboardInterrupt
        if self._errors:
            raise next((e for e in self._errors if isinstance(e, DoubleStopped)), self._errors[0])
        return [unit.report for unit in self.units.values()]

    # -- a unit's thread -------------------------------------------------------------------------

    def _thread(self, unit: _Unit) -> None:
        try:
            self._pipeline(unit)
        except (_Stopping, KeyboardInterrupt):
            pass  # stopped by the main thread (Ctrl-C, or another unit's error)
        except BaseException as exc:  # the first is the cause; the double's death is named by DoubleStopped
            with self._lock:
                self._errors.append(exc)
        finally:
            unit.applied.set()
            unit.checked.set()
            unit.destroyed.set()
            unit.finished.set()

    def _until(self, events: Iterable[threading.Event]) -> None:
        for event in events:
            while not event.wait(0.1):
                if self.sandbox._stopping.is_set():
                    raise _Stopping()

    def _pipeline(self, unit: _Unit) -> None:
        sandbox, report = self.sandbox, unit.report
        self._until(self.units[n].applied for n in sorted(unit.needs))
        blocked = sorted(n for n in unit.needs if not self.units[n].applied_ok)
        if blocked:
            report.phases.append(sandbox._report(PhaseResult(
                unit.name, "init", False, 0.0, f"not applied: {blocked[0]} was not applied")))
            return
        if not self._apply(unit):
            return
        unit.applied_ok = True
        unit.applied.set()
        report.phases += self._checks(unit)
        unit.checked.set()
        if self.keep:
            return
        self._until(self.units[n].destroyed for n in sorted(unit.needed_by))
        self._until(self.units[n].checked for n in sorted(unit.shares))
        standing = sorted(n for n in unit.needed_by if self.units[n].destroy_failed)
        if standing:
            report.phases.append(sandbox._report(PhaseResult(
                unit.name, "destroy", False, 0.0, f"not destroyed: {standing[0]} was not destroyed")))
            unit.destroy_failed = True
            return
        destroyed = sandbox._destroy(unit.roots)
        unit.destroy_failed = not all(destroyed[root].ok for root in unit.roots)
        report.phases.append(sandbox._nothing_left(unit.name, [destroyed[root] for root in unit.roots]))

    def _apply(self, unit: _Unit) -> bool:
        """init and apply of the unit's roots, joined into its report; whether they all went through."""
        sandbox, report = self.sandbox, unit.report
        phases = sandbox._apply(unit.roots, fresh=True)
        done = [p for root in unit.roots for p in phases[root]]
        for name in ("init", "apply"):
            if any(p.phase == name for p in done):
                report.phases.append(joined(unit.name, name, [p for p in done if p.phase == name]))
        report.lowering = sandbox.lowering(unit.name)
        if report.ok:
            return True
        if report.phase("apply") is not None:
            report.inventory = sandbox.inventory(unit.name)
        return False

    def _checks(self, unit: _Unit) -> list[PhaseResult]:
        """verify (and the inventory) on a thread while the re-plan runs: both only read."""
        sandbox, found = self.sandbox, {}

        def verify() -> None:
            try:
                found["verify"] = sandbox.verify(unit.name)
                found["inventory"] = sandbox.inventory(unit.name)
            except BaseException as exc:  # raised on the unit's thread, after the re-plan
                found["error"] = exc

        thread = threading.Thread(target=verify, name=f"tfgen-sandbox-{unit.name}-verify", daemon=True)
        thread.start()
        try:
            replanned = sandbox._replan(unit.roots)
        finally:
            thread.join()
        if "error" in found:
            raise found["error"]
        unit.report.inventory = found["inventory"]
        return [found["verify"], joined(unit.name, "re-plan", [replanned[root] for root in unit.roots])]
