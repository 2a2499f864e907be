"""The sandbox's units at once (`tfgen.sandbox.pipeline`) and the graph they run by.

The sandbox's graph of roots drops the state-backend edges (its copies keep their state locally):
no environment waits for `_state`, a cells link root still waits for its region roots. The units
(an environment, or `_state`) each go through apply, verify while re-planning, and destroy on their
own: here against a scripted stand-in for the sandbox's phases (no terraform, no double), whose
rendezvous only pass when the phases really run at once, then once through `Sandbox` itself with the
recording stub terraform and a real double.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tfgen
from tfgen.emit import root_graph
from tfgen.errors import ToolchainError
from tfgen.orchestrate import RootGraph
from tfgen.pipeline import emit_checked
from tfgen.sandbox import PHASES, Sandbox
from tfgen.sandbox.outcome import joined
from tfgen.sandbox.pipeline import Pipelines, account_settings
from tfgen.sandbox.report import PhaseResult
from tests.conftest import EXAMPLE, ROOT, processes_using

STUB = ROOT / "tests" / "orchestrate_stub" / "terraform"
CELLS = ROOT / "examples" / "cells.yaml"
EBS = "aws_ebs_encryption_by_default"


# -- the sandbox's graph ---------------------------------------------------------------------------

def test_the_sandbox_graph_of_the_example_needs_no_state_root():
    documents = emit_checked(tfgen.load(EXAMPLE))[0].documents
    built = root_graph(documents)
    assert built["development"] == ["_state"] and built["production"] == ["_state"], "the build's graph"
    assert root_graph(documents, backend=False) == {"_state": [], "development": [], "production": []}


def test_a_cells_link_root_keeps_its_region_needs_in_the_sandbox_graph():
    documents = emit_checked(tfgen.load(CELLS))[0].documents
    built, local = root_graph(documents), root_graph(documents, backend=False)
    assert all("_state" in needs for root, needs in built.items() if root != "_state")
    assert not any("_state" in needs for needs in local.values())
    # remote state: a link root reads its two regions' state; the fan-in root every region's
    assert local["staging--us-east-1--us-east-2"] == ["staging--us-east-1", "staging--us-east-2"]
    assert local["staging--fan-in"] == ["staging--us-east-1", "staging--us-east-2", "staging--us-west-2"]
    # a role edge: the other regions' deployer roles trust the hub region's management role
    assert local["staging--us-east-2"] == ["staging--us-east-1"]
    assert {root: [n for n in needs if n != "_state"] for root, needs in built.items()} == local


def test_account_settings_are_each_environments_ebs_encryption_per_region():
    documents = emit_checked(tfgen.load(EXAMPLE))[0].documents
    assert {region for type_, region in account_settings(documents["development"]) if type_ == EBS} == {
        "us-east-1", "us-east-2", "us-west-2"}
    assert {region for type_, region in account_settings(documents["production"]) if type_ == EBS} == {
        "us-east-1", "us-east-2", "us-west-2", "eu-west-1"}
    assert account_settings(documents["_state"]) == set()


# -- the pipelines, against a scripted sandbox --------------------------------------------------

class Scripted:
    """What `Pipelines` asks of a `Sandbox`, one root per unit; each phase can be given a hook (which may
    block, or raise) and records when it started and ended. A hook that waits gives up as an orchestrator
    run does when stopped (`_stop_runs`): with KeyboardInterrupt."""

    def __init__(self, needs: dict[str, tuple[str, ...]]):
        self.graph = RootGraph(Path("out"), needs)
        self._stopping = threading.Event()
        self.stops = 0
        self.hooks: dict[tuple[str, str], object] = {}
        self.failing: set[tuple[str, str]] = set()
        self.spans: dict[tuple[str, str], list[float]] = {}
        self.reported: list[tuple[str, str]] = []

    def pipelines(self, *, keep: bool = False, settings=None) -> Pipelines:
        return Pipelines(self, {root: [root] for root in self.graph.order()}, keep=keep, settings=settings or {})

    def wait(self, event: threading.Event) -> None:
        while not event.wait(0.05):
            if self._stopping.is_set():
                raise KeyboardInterrupt

    def _phase(self, unit: str, phase: str) -> PhaseResult:
        span = self.spans[unit, phase] = [time.monotonic()]
        hook = self.hooks.get((unit, phase))
        try:
            if hook is not None:
                hook()
        finally:
            span.append(time.monotonic())
        ok = (unit, phase) not in self.failing
        return PhaseResult(unit, phase, ok, span[1] - span[0], "done" if ok else f"{phase} failed")

    # the sandbox's side
    def _stop_runs(self) -> None:
        self.stops += 1
        self._stopping.set()

    def _report(self, result: PhaseResult) -> PhaseResult:
        self.reported.append((result.environment, result.phase))
        return result

    def _apply(self, roots, *, fresh):
        assert fresh
        return {root: [self._phase(root, "init"), self._phase(root, "apply")] for root in roots}

    def lowering(self, unit):
        return None

    def inventory(self, unit):
        return []

    def verify(self, unit):
        return self._report(self._phase(unit, "verify"))

    def _replan(self, roots):
        return {root: self._report(self._phase(root, "re-plan")) for root in roots}

    def _destroy(self, roots):
        return {root: self._phase(root, "destroy") for root in roots}

    def _nothing_left(self, unit, destroyed):
        return self._report(joined(unit, "destroy", destroyed))


def _rendezvous(*parties: tuple[str, str], sandbox: Scripted) -> threading.Barrier:
    """A hook on each of `parties` that only returns once all of them are running at once."""
    barrier = threading.Barrier(len(parties), timeout=10)
    for party in parties:
        sandbox.hooks[party] = barrier.wait
    return barrier


def _phases(reports) -> dict[str, list[tuple[str, bool]]]:
    return {r.name: [(p.phase, p.ok) for p in r.phases] for r in reports}


EXAMPLE_UNITS = {"_state": (), "development": (), "production": ()}


def test_state_is_applied_at_once_with_the_environments_and_each_unit_runs_every_phase():
    sandbox = Scripted(EXAMPLE_UNITS)
    _rendezvous(*((unit, "apply") for unit in EXAMPLE_UNITS), sandbox=sandbox)  # BrokenBarrierError if not
    reports = sandbox.pipelines().run()
    assert [r.name for r in reports] == ["_state", "development", "production"]
    assert _phases(reports) == {unit: [(phase, True) for phase in PHASES] for unit in EXAMPLE_UNITS}
    assert sandbox.stops == 0


def test_a_units_verify_runs_while_it_is_re_planned():
    sandbox = Scripted(EXAMPLE_UNITS)
    _rendezvous(("development", "verify"), ("development", "re-plan"), sandbox=sandbox)
    reports = sandbox.pipelines().run()
    assert all(ok for phase, ok in _phases(reports)["development"])
    # the report keeps the phases' order, whichever ended first
    assert [p.phase for p in reports[1].phases] == list(PHASES)


def test_a_failed_apply_stops_its_unit_and_the_units_that_need_it_not_the_others():
    sandbox = Scripted({"_state": (), "hub": (), "spoke": ("hub",), "other": ()})
    sandbox.failing.add(("hub", "apply"))
    reports = {r.name: r for r in sandbox.pipelines().run()}
    assert _phases(reports.values())["hub"] == [("init", True), ("apply", False)]
    (blocked,) = reports["spoke"].phases
    assert (blocked.phase, blocked.ok, blocked.summary) == ("init", False, "not applied: hub was not applied")
    assert ("spoke", "init") not in sandbox.spans, "a unit whose need failed must not start"
    for unit in ("_state", "other"):
        assert _phases([reports[unit]])[unit] == [(phase, True) for phase in PHASES], unit


def test_a_unit_waits_for_what_it_needs_and_is_destroyed_after_what_needs_it():
    sandbox = Scripted({"hub": (), "spoke": ("hub",)})
    sandbox.hooks["hub", "apply"] = lambda: time.sleep(0.2)
    sandbox.hooks["spoke", "destroy"] = lambda: time.sleep(0.2)
    reports = sandbox.pipelines().run()
    assert all(r.ok for r in reports)
    spans = sandbox.spans
    assert spans["spoke", "init"][0] >= spans["hub", "apply"][1], "spoke began before hub was applied"
    assert spans["hub", "destroy"][0] >= spans["spoke", "destroy"][1], "hub was destroyed before spoke"


def test_a_unit_is_not_destroyed_while_what_needs_it_is_still_there():
    sandbox = Scripted({"hub": (), "spoke": ("hub",)})
    sandbox.failing.add(("spoke", "destroy"))
    reports = {r.name: r for r in sandbox.pipelines().run()}
    destroy = reports["hub"].phase("destroy")
    assert (destroy.ok, destroy.summary) == (False, "not destroyed: spoke was not destroyed")
    assert ("hub", "destroy") not in sandbox.spans


def test_environments_sharing_an_account_setting_are_destroyed_after_each_others_re_plan():
    sandbox = Scripted(EXAMPLE_UNITS)
    shared = {(EBS, "us-east-1")}
    settings = {"development": shared | {(EBS, "us-west-2")}, "production": shared, "_state": set()}
    sandbox.hooks["production", "re-plan"] = lambda: time.sleep(0.5)
    reports = sandbox.pipelines(settings=settings).run()
    assert all(r.ok for r in reports)
    spans = sandbox.spans
    assert spans["development", "destroy"][0] >= spans["production", "re-plan"][1], \
        "development's destroy would turn production's EBS encryption off before its re-plan"
    assert spans["_state", "destroy"][0] < spans["production", "re-plan"][1], "_state shares nothing: no wait"


def test_keep_leaves_every_unit_applied():
    sandbox = Scripted(EXAMPLE_UNITS)
    reports = sandbox.pipelines(keep=True).run()
    assert _phases(reports) == {unit: [(p, True) for p in PHASES if p != "destroy"] for unit in EXAMPLE_UNITS}


def test_ctrl_c_in_the_main_thread_stops_every_unit_and_waits_for_them():
    sandbox = Scripted(EXAMPLE_UNITS)
    replanning = threading.Barrier(len(EXAMPLE_UNITS) + 1, timeout=10)
    never = threading.Event()

    def replan() -> None:
        replanning.wait()
        sandbox.wait(never)  # until stopped, as a running orchestrator

    for unit in EXAMPLE_UNITS:
        sandbox.hooks[unit, "re-plan"] = replan

    def interrupt() -> None:
        replanning.wait()
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        sandbox.pipelines().run()
    assert sandbox.stops >= 1
    assert not [t.name for t in threading.enumerate() if t.name.startswith("tfgen-sandbox-")], "a unit still runs"
    assert not any(phase == "destroy" for _, phase in sandbox.spans), "nothing is destroyed after Ctrl-C"


def test_an_error_in_one_unit_stops_the_others_and_is_raised():
    sandbox = Scripted(EXAMPLE_UNITS)
    never = threading.Event()
    for unit in ("_state", "development"):
        sandbox.hooks[unit, "re-plan"] = lambda: sandbox.wait(never)

    def double_died() -> None:
        time.sleep(0.2)
        raise ToolchainError("the local AWS double (moto_server) stopped during apply")

    sandbox.hooks["production", "apply"] = double_died
    with pytest.raises(ToolchainError, match="stopped during apply"):
        sandbox.pipelines().run()
    assert sandbox.stops >= 1
    assert not any(phase == "destroy" for _, phase in sandbox.spans)


# -- through Sandbox, with the stub terraform and a real double -----------------------------------

def _stub_log(stub: Path) -> list[dict]:
    return [json.loads(line) for line in (stub / "log.jsonl").read_text().splitlines()]


def _runs(log: list[dict], root: str, phase: str, run: str | None = None) -> list[tuple[float, float]]:
    """(start, end) of each `terraform <phase>` of `root`; with `run`, of that run of the orchestrator only
    (whose plan files are under runs/<run>/plans/)."""
    ends = {e["pid"]: e["time"] for e in log if e["event"] == "end"}
    return [(e["time"], ends.get(e["pid"], float("inf"))) for e in log
            if e["event"] == "start" and e["root"] == root and e["phase"] == phase
            and (run is None or f"/runs/{run}/plans/" in " ".join(e["argv"]))]


@pytest.mark.slow
def test_the_sandbox_overlaps_units_and_phases_and_a_failed_unit_stops_only_itself(tmp_path, monkeypatch):
    """The example through `Sandbox.run` with the stub terraform: `_state` is not waited for, verify runs
    while re-planning, re-plan and destroy do not init again, production's failed apply stops production
    alone (development is still destroyed: a failed unit holds no other's destroy)."""
    stub = tmp_path / "stub"
    stub.mkdir()
    monkeypatch.setenv("STUB_DIR", str(stub))
    (stub / "init.writes").write_text("")
    (stub / "_state.apply.sleep").write_text("3")
    (stub / "development.plan.sleep").write_text("1.5")
    (stub / "development.output.sleep").write_text("0.5")
    (stub / "production.apply.fail").write_text("")
    workdir = tmp_path / "scratch"
    with Sandbox(tfgen.load(EXAMPLE), workdir=workdir, terraform=str(STUB)) as sandbox:
        assert sandbox.graph.needs == {"_state": (), "development": (), "production": ()}
        assert sandbox.built_graph.needs["development"] == ("_state",), "the manifest keeps the build's graph"
        report = sandbox.run()
    phases = {e.name: [p.phase for p in e.phases] for e in report.environments}
    assert phases == {"_state": list(PHASES), "development": list(PHASES), "production": ["init", "apply"]}
    assert not report.environment("production").phase("apply").ok
    log = _stub_log(stub)
    (state_apply,) = _runs(log, "_state", "apply", "apply")
    for env in ("development", "production"):
        (plan,) = _runs(log, env, "plan", "apply")
        assert plan[0] < state_apply[1], f"{env} waited for _state's apply"
    (replan,) = _runs(log, "development", "plan", "re-plan")
    (output,) = _runs(log, "development", "output")  # verify's one `terraform output`
    assert output[0] < replan[1] and replan[0] < output[1], f"verify did not overlap the re-plan: {output} {replan}"
    for root in ("_state", "development"):
        assert len(_runs(log, root, "init")) == 1, f"{root}: re-plan or destroy ran terraform init again"
    assert processes_using(workdir) == []


@pytest.mark.slow
def test_sigterm_stops_the_terraform_of_every_unit_and_waits_for_it(tmp_path):
    stub = tmp_path / "stub"
    stub.mkdir()
    for root in ("_state", "development", "production"):
        (stub / f"{root}.plan.sleep").write_text("60")
    workdir = tmp_path / "scratch"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STUB_DIR": str(stub), "TFGEN_TERRAFORM": str(STUB)}
    process = subprocess.Popen([sys.executable, "-m", "tfgen.cli", "sandbox", str(EXAMPLE), "--workdir", str(workdir)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        running: list[dict] = []
        while time.monotonic() < deadline and len(running) < 3:
            time.sleep(0.1)
            running = [e for e in (_stub_log(stub) if (stub / "log.jsonl").exists() else [])
                       if e["phase"] == "plan" and e["event"] == "start"]
        assert len(running) == 3, "the three units' plans never ran at once"
        time.sleep(0.3)  # the stubs are past start-up and sleeping
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr
    log = _stub_log(stub)
    for started in running:
        assert [e["event"] for e in log if e["pid"] == started["pid"]] == ["start", "sigint", "stopped"], started
    assert processes_using(workdir) == [], "terraform or moto left running"
