"""The sandbox's phases (`tfgen.sandbox.phases`) and the orchestrator that runs them.

The sandbox's graph of roots drops the state-backend edges (its copies keep their state locally): no
environment waits for `_state`, a cells link root still waits for its region roots. Each root's phases
go to `tfgen.orchestrate.Orchestrator`, the one scheduler, as the sandbox hands them: here with the
recording stub terraform in place of terraform and plain calls in place of the API checks (calls that
only return once the phases they wait for really run at once), the entries of the report joined by
`tfgen.sandbox.report.Entries` as in a sandbox run; then once through `Sandbox` itself with the stub
terraform and a real double.
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
from tfgen.orchestrate import InPlace, Orchestrator, RootGraph, read_graph
from tfgen.pipeline import emit_checked
from tfgen.sandbox import PHASES, Sandbox
from tfgen.sandbox.phases import unit_phases
from tfgen.sandbox.report import Entries, summary
from tfgen.write import write_output
from tests.conftest import EXAMPLE, ROOT, processes_using
from tests.orchestrate_stub import stub_terraform

CELLS = ROOT / "examples" / "cells.yaml"
EXAMPLE_UNITS = {"_state": (), "development": (), "production": ()}


@pytest.fixture
def stub(tmp_path, monkeypatch):
    """The stub's control directory; TFGEN_TERRAFORM points at the stub (`terraform` in it)."""
    directory = tmp_path / "stub"
    directory.mkdir()
    monkeypatch.setenv("STUB_DIR", str(directory))
    monkeypatch.setenv("TFGEN_TERRAFORM", str(stub_terraform(directory)))
    return directory


def _stub_log(stub: Path) -> list[dict]:
    path = stub / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _started(stub: Path, root: str, phase: str) -> list[dict]:
    return [e for e in _stub_log(stub) if e["root"] == root and e["phase"] == phase and e["event"] == "start"]


def _wait_until(done, what: str) -> None:
    """Poll `done()` for up to 20 s; a call that gives up fails its phase (and so the test)."""
    deadline = time.monotonic() + 20
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class Run:
    """The sandbox's phases of the units of `needs` (one root each) through the orchestrator, with the stub
    terraform in the roots of a build and `verify`/`left` hooks as the units' calls."""

    def __init__(self, tmp_path: Path, needs: dict[str, tuple[str, ...]], *, keep: bool = False,
                 units: dict[str, list[str]] | None = None):
        out = tmp_path / "out"
        write_output({f"{root}/main.tf.json": b"{}\n" for root in needs}, out,
                     roots={root: list(n) for root, n in needs.items()})
        self.graph = read_graph(out)
        self.units = units or {root: [root] for root in self.graph.order()}
        self.verify_hooks: dict[str, object] = {}
        self.calls: list[tuple[str, str]] = []
        self.phases = unit_phases(self.graph, self.units, keep=keep, verify=self._call("verify"),
                                  left=self._call("left"))
        self.orchestrator = Orchestrator(self.graph, command="sandbox", workspace=InPlace(), phases=self.phases,
                                         parallelism=4, progress=self._progress, scratch=tmp_path / "runs")
        self.entries = Entries(self.units, {root: [p.name for p in steps] for root, steps in self.phases.items()})

    def _call(self, name: str):
        def for_unit(unit: str):
            def call(watch) -> list:
                self.calls.append((unit, name))
                hook = self.verify_hooks.get(unit) if name == "verify" else None
                if hook is not None:
                    hook()
                return []
            return call
        return for_unit

    def _progress(self, result) -> None:
        self.entries.add(result)

    def __call__(self):
        report = self.orchestrator.run(list(self.phases))
        return report, {unit: self.entries.of(unit) for unit in self.units}


def _phases(entries) -> dict[str, list[tuple[str, bool]]]:
    return {unit: [(p.phase, p.ok) for p in phases] for unit, phases in entries.items()}


# -- the sandbox's graph and phases ------------------------------------------------------------------

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


def _no_call(unit):
    return lambda watch: []


def test_no_unit_of_the_example_waits_for_another():
    """Each environment is in an account of its own in the double and keeps its state locally: nothing of
    one unit waits for another's (no order between `_state`, development and production to hope for)."""
    graph = RootGraph(Path("out"), EXAMPLE_UNITS)
    phases = unit_phases(graph, {root: [root] for root in graph.order()}, verify=_no_call, left=_no_call)
    for root, steps in phases.items():
        assert [p.name for p in steps] == ["init", "apply", "verify", "re-plan", "destroy", "left"], root
        assert set().union(*(p.waits_for for p in steps)) <= {root}, root
    assert unit_phases(graph, {"_state": ["_state"]}, verify=_no_call, left=_no_call, keep=True)["_state"][-1].name \
        == "re-plan", "keep: no destroy"


def test_a_cells_unit_applies_in_order_then_checks_and_destroys_in_reverse():
    documents = emit_checked(tfgen.load(CELLS))[0].documents
    graph = RootGraph(Path("out"), {r: tuple(n) for r, n in root_graph(documents, backend=False).items()})
    roots = graph.order([r for r in graph.roots if r != "_state"])
    phases = unit_phases(graph, {"staging": roots}, verify=_no_call, left=_no_call)
    link, last = "staging--us-east-1--us-east-2", roots[-1]
    steps = {p.name: p for p in phases[link]}
    assert set(steps["apply"].needs) == {("staging--us-east-1", "apply"), ("staging--us-east-2", "apply")}
    assert set(steps["re-plan"].needs) == {(r, "apply") for r in roots}, "re-planned once the unit is applied"
    assert (last, "verify") in steps["destroy"].after, "destroyed once the unit is verified"
    region = {p.name: p for p in phases["staging--us-east-2"]}
    assert (link, "destroy") in region["destroy"].after, "a region root after the link root that reads it"
    assert [r for r in roots if any(p.name in ("verify", "left") for p in phases[r])] == [last], \
        "the unit's verify and check after destroy run once, on its last root"


# -- the phases through the orchestrator (stub terraform) ------------------------------------------

def test_every_unit_runs_at_once_and_verifies_while_it_is_re_planned(stub, tmp_path):
    """Three units (one of three roots, a cells environment's shape): each verifies while its re-plan runs,
    all of them at once; a unit's entries join its roots' counts."""
    needs = {"_state": (), "development": (), "s--a": (), "s--b": ("s--a",), "s--a--b": ("s--a", "s--b")}
    units = {"_state": ["_state"], "development": ["development"], "s": ["s--a", "s--b", "s--a--b"]}
    run = Run(tmp_path, needs, units=units)
    verifying = threading.Barrier(len(units), timeout=20)

    def verify(unit: str) -> None:
        verifying.wait()  # every unit verifies at once: none waited for another's checks or destroy
        last = units[unit][-1]
        _wait_until(lambda: len(_started(stub, last, "plan")) == 2, f"{unit}'s re-plan beside its verify")

    run.verify_hooks = {unit: (lambda unit=unit: verify(unit)) for unit in units}
    report, entries = run()
    assert report.ok, [(r.root, r.status, r.reason) for r in report.roots]
    assert _phases(entries) == {unit: [(phase, True) for phase in PHASES] for unit in units}
    for root in needs:
        assert len(_started(stub, root, "init")) == 1, f"{root}: re-plan or destroy ran terraform init again"
    for unit, roots in units.items():
        apply, destroy = entries[unit][1], entries[unit][4]
        assert (apply.counts.add, summary(apply)) == (len(roots), f"{len(roots)} resources created"), unit
        assert (destroy.counts.destroy, summary(destroy)) == (len(roots), f"{len(roots)} resources destroyed"), unit
    assert sorted(run.calls) == sorted((unit, call) for unit in units for call in ("verify", "left")), \
        "a unit's verify and its check after destroy run once, whatever its roots"


def test_a_failed_unit_stops_what_needs_it_and_nothing_is_destroyed_under_what_stands_on_it(stub, tmp_path):
    """`broken`'s apply fails: it stops there and `leaning` (which needs it) is not applied. `top`'s destroy
    fails: `base` (which it needs) is not destroyed. `hub` waits for nothing; `spoke` is applied after it and
    destroyed before it. The others go through every phase."""
    (stub / "broken.apply.fail").write_text("")
    (stub / "top.destroy.fail").write_text("")
    needs = {"broken": (), "leaning": ("broken",), "base": (), "top": ("base",), "hub": (), "spoke": ("hub",)}
    report, entries = Run(tmp_path, needs)()
    assert not report.ok
    assert _phases(entries)["broken"] == [("init", True), ("apply", False)]
    assert "Error: broken apply failed on purpose" in entries["broken"][1].details[0]
    init, apply = entries["leaning"]
    assert (init.ok, apply.status, apply.reason) == (True, "skipped", "broken was not applied (failed)")
    assert _started(stub, "leaning", "plan") == [], "a unit whose need failed must not apply"
    destroy = entries["base"][-1]
    assert (destroy.phase, destroy.status, destroy.reason) == ("destroy", "skipped", "top was not destroyed (failed)")
    assert not [e for e in _stub_log(stub) if "-destroy" in e.get("argv", ()) and e["root"] in ("broken", "base")]
    for unit in ("hub", "spoke"):
        assert _phases(entries)[unit] == [(phase, True) for phase in PHASES], unit
    log = _stub_log(stub)
    ends = {e["pid"]: e["time"] for e in log if e["event"] == "end"}
    spans = [(e["root"], e["phase"], "-destroy" in e["argv"], e["time"], ends[e["pid"]])
             for e in log if e["event"] == "start"]
    applies = {root: [(start, end) for r, phase, _, start, end in spans if (r, phase) == (root, "apply")]
               for root in ("hub", "spoke")}
    spoke_planned = next(start for root, phase, _, start, _ in spans if (root, phase) == ("spoke", "plan"))
    assert spoke_planned >= applies["hub"][0][1], "spoke was planned before hub was applied"
    hub_destroy = next(start for root, _, destroy, start, _ in spans if root == "hub" and destroy)
    assert hub_destroy >= applies["spoke"][-1][1], "hub's destroy was planned before spoke was destroyed"


def test_stop_starts_nothing_new_and_destroys_nothing(stub, tmp_path):
    run = Run(tmp_path, EXAMPLE_UNITS)
    verifying = threading.Barrier(len(EXAMPLE_UNITS), timeout=20)
    stopped = threading.Event()

    def verify(unit: str) -> None:
        verifying.wait()  # every unit verifies (so none is destroyed yet) when the run is stopped
        if unit == "development":
            run.orchestrator.stop()
            stopped.set()
        else:  # no verify ends (which would let its unit's destroy start) before the stop
            assert stopped.wait(20), "the run was not stopped"

    run.verify_hooks = {unit: (lambda unit=unit: verify(unit)) for unit in EXAMPLE_UNITS}
    report, entries = run()
    assert report.interrupted and report.exit_code == 130
    assert {r.root: r.status for r in report.roots} == {unit: "interrupted" for unit in EXAMPLE_UNITS}
    assert not [e for e in _stub_log(stub) if "-destroy" in e.get("argv", ())], "nothing is destroyed after a stop"
    assert all("destroy" not in [p.phase for p in phases] for phases in entries.values())


# -- through Sandbox, with the stub terraform and a real double -----------------------------------

@pytest.mark.slow
def test_the_sandbox_runs_every_unit_and_a_failed_unit_stops_only_itself(tmp_path, monkeypatch):
    """The example through `Sandbox.run` with the stub terraform: every unit through its phases, re-plan
    and destroy without a second init, verify's one `terraform output`, production's failed apply stops
    production alone (development and `_state` are still destroyed)."""
    stub = tmp_path / "stub"
    stub.mkdir()
    monkeypatch.setenv("STUB_DIR", str(stub))
    (stub / "init.writes").write_text("")
    (stub / "production.apply.fail").write_text("")
    workdir = tmp_path / "scratch"
    with Sandbox(tfgen.load(EXAMPLE), workdir=workdir, terraform=str(stub_terraform(stub))) as sandbox:
        assert sandbox.graph.needs == {"_state": (), "development": (), "production": ()}
        assert sandbox.built_graph.needs["development"] == ("_state",), "the manifest keeps the build's graph"
        report = sandbox.run()
    phases = {e.name: [p.phase for p in e.phases] for e in report.environments}
    assert phases == {"_state": list(PHASES), "development": list(PHASES), "production": ["init", "apply"]}
    assert not report.environment("production").phase("apply").ok
    for root in ("_state", "development"):
        assert len(_started(stub, root, "init")) == 1, f"{root}: re-plan or destroy ran terraform init again"
    assert len(_started(stub, "development", "output")) == 1, "verify asks `terraform output` once"
    assert processes_using(workdir) == []


@pytest.mark.slow
def test_sigterm_stops_the_terraform_of_every_unit_and_waits_for_it(tmp_path):
    stub = tmp_path / "stub"
    stub.mkdir()
    for root in ("_state", "development", "production"):
        (stub / f"{root}.plan.sleep").write_text("60")
    workdir = tmp_path / "scratch"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STUB_DIR": str(stub), "TFGEN_TERRAFORM": str(stub_terraform(stub))}
    process = subprocess.Popen([sys.executable, "-m", "tfgen.cli", "sandbox", str(EXAMPLE), "--workdir", str(workdir)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        running: list[dict] = []
        while time.monotonic() < deadline and len(running) < 3:
            time.sleep(0.1)
            running = [e for e in _stub_log(stub) if e["phase"] == "plan" and e["event"] == "start"]
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
