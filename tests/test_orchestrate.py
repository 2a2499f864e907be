"""`tfgen plan|apply|destroy` over the graph of roots, driven with a recording stub terraform.

The stub (tests/orchestrate_stub/terraform) logs argv, cwd, pid and times per
command, and fails, sleeps or reports a held lock per root when told to.
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
from tfgen.cli import main
from tfgen.orchestrate import InPlace, Orchestrator, read_graph
from tfgen.orchestrate.report import format_activity
from tfgen.write import MANIFEST, write_output
from tests.orchestrate_stub import example_out, stub_directory
from tests.test_orchestrate_ci import _load_yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stub(tmp_path, monkeypatch):
    """The stub's control directory; TFGEN_TERRAFORM points at the stub (`terraform` in it)."""
    directory = stub_directory(tmp_path, monkeypatch)
    return directory


@pytest.fixture
def out(tmp_path):
    """A copy of the committed example build: `_state`, `development`, `production`."""
    return example_out(tmp_path)


def _build(out: Path, roots: dict[str, list[str]]) -> Path:
    """A build with the graph `roots`, written by tfgen's writer (each root one small file)."""
    write_output({f"{root}/main.tf.json": b"{}\n" for root in roots}, out, roots=roots)
    return out


def _log(stub: Path) -> list[dict]:
    path = stub / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _span(log, root, phase) -> tuple[float, float]:
    start = next(e["time"] for e in log if e["root"] == root and e["phase"] == phase and e["event"] == "start")
    end = next(e["time"] for e in log if e["root"] == root and e["phase"] == phase and e["event"] == "end")
    return start, end


def _commands(log, root) -> list[str]:
    return [e["phase"] + ("-destroy" if "-destroy" in e["argv"] else "") for e in log
            if e["root"] == root and e["event"] == "start"]


def test_state_goes_first_then_environments_run_at_once(stub, out, capsys):
    for env in ("development", "production"):
        (stub / f"{env}.plan.sleep").write_text("0.8")
    status = main(["apply", str(out), "--auto-approve", "--parallelism", "2"])
    log = _log(stub)
    assert status == 0, capsys.readouterr()
    state_done = _span(log, "_state", "apply")[1]
    for env in ("development", "production"):
        assert _span(log, env, "init")[0] >= state_done, f"{env} started before _state was applied"
        assert _commands(log, env) == ["init", "plan", "show", "apply"], env
        cwd = next(e["cwd"] for e in log if e["root"] == env)
        assert cwd == str(out / env), "real runs happen in the root itself"
    dev, prod = _span(log, "development", "plan"), _span(log, "production", "plan")
    assert dev[0] < prod[1] and prod[0] < dev[1], f"the two environments' plans did not overlap: {dev} {prod}"
    table = capsys.readouterr().out
    assert "development    1       0        0" in table and "tfgen apply: ok: 3 of 3 roots ok" in table, table


def test_parallelism_one_runs_one_root_at_a_time(stub, out, capsys):
    for env in ("development", "production"):
        (stub / f"{env}.plan.sleep").write_text("0.5")
    assert main(["plan", str(out), "--parallelism", "1"]) == 0, capsys.readouterr()
    log = _log(stub)
    dev, prod = _span(log, "development", "init")[0], _span(log, "production", "init")[0]
    first, second = sorted([("development", dev), ("production", prod)], key=lambda x: x[1])
    assert second[1] >= _span(log, first[0], "plan")[1], "with --parallelism 1 a second root started early"
    assert all("apply" not in _commands(log, r) for r in ("_state", "development", "production")), "plan applied"


def test_plan_files_go_to_scratch_and_out_is_untouched(stub, out, capsys):
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main(["apply", str(out), "--auto-approve"]) == 0, capsys.readouterr()
    plan_args = [a for e in _log(stub) if e["event"] == "start" for a in e["argv"] if a.startswith("-out=")]
    assert len(plan_args) == 3 and not any(str(out) in a for a in plan_args), plan_args
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before, "tfgen wrote into OUT"


def test_a_failed_root_stops_its_dependents_and_the_others_finish(stub, tmp_path, capsys):
    out = _build(tmp_path / "out", {"base": [], "mid": ["base"], "top": ["mid"], "other": []})
    (stub / "mid.plan.fail").write_text("")
    status = main(["apply", str(out), "--auto-approve", "--format", "json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    results = {r["root"]: r for r in report["roots"]}
    assert status == 1 and report["exit_code"] == 1
    assert {r: results[r]["result"] for r in results} == {
        "base": "ok", "mid": "failed", "top": "skipped", "other": "ok"}
    assert results["top"]["reason"] == "mid was not applied (failed)"
    assert results["mid"]["errors"] == ["Error: mid plan failed on purpose\nthe stub was told to fail"]
    assert "top" not in {e["root"] for e in _log(stub)}, "a root that needs a failed one ran"
    assert "  mid              plan     failed" in captured.err, "progress goes to stderr with --format json"


def test_destroy_runs_in_reverse_and_leaves_state_unless_named(stub, out, capsys):
    assert main(["destroy", str(out), "--auto-approve"]) == 0, capsys.readouterr()
    log = _log(stub)
    assert _commands(log, "_state") == [], "destroy touched _state without --env _state"
    assert _commands(log, "development") == ["init", "plan-destroy", "show", "apply"]
    (stub / "log.jsonl").unlink()
    assert main(["destroy", str(out), "--env", "_state", "--auto-approve"]) == 0, capsys.readouterr()
    log = _log(stub)
    state_start = _span(log, "_state", "init")[0]
    for env in ("development", "production"):
        assert _span(log, env, "apply")[1] <= state_start, f"_state destroyed before {env}"
    assert _commands(log, "_state") == ["init", "plan-destroy", "show", "apply"]


def test_a_held_state_lock_fails_that_root_naming_the_lock(stub, out, capsys):
    (stub / "production.lock").write_text("")
    status = main(["apply", str(out), "--auto-approve"])
    text = capsys.readouterr().out
    assert status == 1
    assert ("production: failed: the state is locked by another run (lock 1f2e3d4c-0000-1111-2222-333344445555 "
            "held by alice@build-7") in text, text
    assert f"terraform force-unlock 1f2e3d4c-0000-1111-2222-333344445555` in {out / 'production'}" in text, text
    assert "apply" not in _commands(_log(stub), "production")
    assert _commands(_log(stub), "development") == ["init", "plan", "show", "apply"], "an independent root did not finish"


def test_a_root_that_fails_init_is_named_and_nothing_after_it_runs(stub, out, capsys):
    (stub / "_state.init.fail").write_text("")
    assert main(["plan", str(out)]) == 1
    text = capsys.readouterr().out
    assert "_state: failed: terraform init failed (exit 1)\n  Error: _state init failed on purpose" in text, text
    assert "development: skipped: _state was not planned (failed)" in text, text
    assert {e["root"] for e in _log(stub)} == {"_state"}


def test_apply_without_a_terminal_or_auto_approve_is_refused(stub, out, capsys):
    assert main(["apply", str(out)]) == 2
    err = capsys.readouterr().err
    assert "there is no terminal to ask on; nothing was run" in err and "--auto-approve" in err, err
    assert _log(stub) == []


def test_an_unapproved_root_is_not_applied_and_its_dependents_do_not_run(stub, out):
    asked = []

    def approve(approval):
        asked.append((approval.root, approval.lines))
        return approval.root != "_state"

    graph = read_graph(out)
    report = Orchestrator(graph, command="apply", workspace=InPlace(), approve=approve).run(graph.select(None))
    assert [r.status for r in report.roots] == ["cancelled", "skipped", "skipped"]
    assert asked == [("_state", ["  # aws_vpc._state will be created", "Plan: 1 to add, 0 to change, 0 to destroy."])]
    assert "apply" not in _commands(_log(stub), "_state") and report.exit_code == 1


def test_a_root_without_changes_is_not_applied(stub, out, capsys):
    for root in ("_state", "development", "production"):
        (stub / f"{root}.counts").write_text("0 0 0")
    assert main(["apply", str(out), "--auto-approve"]) == 0
    assert all("apply" not in _commands(_log(stub), r) for r in ("_state", "development", "production"))
    assert "_state         0       0        0" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["not a build", "no graph", "unknown root", "interrupted build"])
def test_bad_input_is_a_usage_error_and_runs_nothing(stub, out, tmp_path, capsys, case):
    target, extra = out, []
    if case == "not a build":
        target = tmp_path / "empty"
        target.mkdir()
    elif case == "no graph":
        manifest = json.loads((out / MANIFEST).read_text())
        del manifest["roots"]
        (out / MANIFEST).write_text(json.dumps(manifest))
    elif case == "unknown root":
        extra = ["--env", "staging"]
    else:
        (out / ".tfgen-journal").write_text("{}")
    assert main(["plan", str(target), *extra]) == 2
    err = capsys.readouterr().err
    expected = {"not a build": f"{target} is not a tfgen build: it has no {MANIFEST}",
                "no graph": "has no graph of roots (an earlier tfgen wrote it)",
                "unknown root": f"{out} has no root staging; its roots are _state, development, production",
                "interrupted build": "holds an interrupted build"}[case]
    assert expected in err, err
    assert _log(stub) == []


def test_no_terraform_is_a_usage_error(out, monkeypatch, capsys):
    monkeypatch.setenv("TFGEN_TERRAFORM", str(out / "no-such-terraform"))
    assert main(["plan", str(out)]) == 2
    assert "is not an executable; point it at a terraform binary" in capsys.readouterr().err


def test_env_selects_a_root_with_the_roots_it_needs(stub, out, capsys):
    assert main(["plan", str(out), "--env", "production"]) == 0
    assert sorted({e["root"] for e in _log(stub)}) == ["_state", "production"]
    (stub / "log.jsonl").unlink()
    assert main(["plan", str(out), "--env", "production", "--no-deps"]) == 0
    assert sorted({e["root"] for e in _log(stub)}) == ["production"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_reaches_every_running_terraform_and_is_waited_for(stub, tmp_path):
    out = _build(tmp_path / "out", {"_state": [], "a": ["_state"], "b": ["_state"], "c": ["_state"]})
    for root in ("a", "b", "c"):
        (stub / f"{root}.plan.sleep").write_text("60")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STUB_DIR": str(stub)}
    process = subprocess.Popen([sys.executable, "-m", "tfgen.cli", "apply", str(out), "--auto-approve",
                                "--parallelism", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        running = [e for e in _log(stub) if e["phase"] == "plan" and e["event"] == "start" and e["root"] != "_state"]
        if len(running) == 2:
            break
        time.sleep(0.1)
    assert len(running) == 2, _log(stub)
    time.sleep(0.3)  # the stubs are past start-up and sleeping
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, (stdout, stderr)
    log = _log(stub)
    for started in running:
        events = [e["event"] for e in log if e["pid"] == started["pid"]]
        assert events == ["start", "sigint", "stopped"], f"{started['root']}: {events}"
        assert not _alive(started["pid"]), f"terraform of {started['root']} is still running"
    interrupted = sorted(e["root"] for e in running)
    (waiting,) = sorted({"a", "b", "c"} - set(interrupted))
    for root in interrupted:
        assert f"{root}: interrupted: plan interrupted" in stdout, stdout
    assert f"{waiting}: not run: interrupted before it started" in stdout, stdout
    assert waiting not in {e["root"] for e in log}
    assert "tfgen apply: interrupted" in stdout and "run the command again to converge" in stdout, stdout



def test_stop_from_another_thread_interrupts_a_run_in_a_worker_thread(stub, tmp_path):
    """A run off the main thread installs no signal handlers; `stop()` does what Ctrl-C does."""
    out = _build(tmp_path / "out", {"a": [], "b": [], "c": ["a"]})
    for root in ("a", "b"):
        (stub / f"{root}.plan.sleep").write_text("60")
    graph = read_graph(out)
    orchestrator = Orchestrator(graph, command="apply", workspace=InPlace(), parallelism=2)
    reports = []
    worker = threading.Thread(target=lambda: reports.append(orchestrator.run(graph.select(None))))
    worker.start()
    deadline = time.monotonic() + 30
    while len([e for e in _log(stub) if e["phase"] == "plan" and e["event"] == "start"]) < 2:
        assert time.monotonic() < deadline, _log(stub)
        time.sleep(0.05)
    time.sleep(0.3)  # the stubs are past start-up and sleeping
    orchestrator.stop()
    worker.join(30)
    assert not worker.is_alive()
    (report,) = reports
    assert report.interrupted and report.exit_code == 130
    assert {r.root: r.status for r in report.roots} == {"a": "interrupted", "b": "interrupted", "c": "not run"}
    for started in (e for e in _log(stub) if e["event"] == "start" and e["phase"] == "plan"):
        assert [e["event"] for e in _log(stub) if e["pid"] == started["pid"]] == ["start", "sigint", "stopped"]


def test_phases_of_a_run_wait_for_what_they_name_and_calls_take_no_slot(stub, tmp_path):
    """The orchestrator's public phases (what the sandbox hands it): with one slot, a call waits until another
    root's terraform runs (calls take none); a call that fails stops its root (its later phases are `not
    run`) and skips a phase that `needs` it; a phase `after` a phase its root never got to runs."""
    from tfgen.orchestrate import Phase

    out = _build(tmp_path / "out", {"a": [], "b": [], "c": [], "d": []})

    def wait_for_b(watch) -> list:
        deadline = time.monotonic() + 20
        while not any(e["root"] == "b" and e["phase"] == "plan" for e in _log(stub)):
            assert time.monotonic() < deadline, "the call held the only slot"
            time.sleep(0.05)
        return []

    def fail(watch) -> list:
        raise tfgen.TfgenError("the check could not run")

    phases = {"a": [Phase("init", ("init",)), Phase("wait", call=wait_for_b),
                    Phase("check", call=fail, past="checked"), Phase("plan", ("plan",))],
              "b": [Phase("init", ("init",)), Phase("plan", ("plan",))],
              "c": [Phase("plan", ("init", "plan"), after=(("a", "plan"),))],
              "d": [Phase("plan", ("init", "plan"), needs=(("a", "check"),)), Phase("again", ("plan",))]}
    ended = []
    report = Orchestrator(read_graph(out), command="check", workspace=InPlace(), phases=phases, parallelism=1,
                          progress=ended.append).run(["a", "b", "c", "d"])
    results = {(p.root, p.phase): (p.status, p.reason) for p in ended}
    assert results["a", "wait"] == ("ok", "")
    assert results["a", "check"] == ("failed", "the check could not run")
    assert results["a", "plan"] == ("not run", "the check could not run")
    assert results["c", "plan"] == ("ok", ""), "a's plan will never run: nothing to wait for"
    assert results["d", "plan"] == ("skipped", "a was not checked (failed)")
    assert results["d", "again"] == ("not run", "a was not checked (failed)")
    assert {r.root: r.status for r in report.roots} == {"a": "failed", "b": "ok", "c": "ok", "d": "skipped"}
    assert len(ended) == 9, "every phase of every root ends once"
    tangled = {"a": [Phase("plan", ("init", "plan"), needs=(("b", "plan"),))],
               "b": [Phase("plan", ("init", "plan"), after=(("a", "plan"),))]}
    with pytest.raises(ValueError, match="phases that wait for each other: a plan, b plan"):
        Orchestrator(read_graph(out), command="check", workspace=InPlace(), phases=tangled).run(["a", "b"])


def test_an_error_in_progress_stops_the_run_and_is_raised_once_terraform_has_stopped(stub, tmp_path):
    out = _build(tmp_path / "out", {"a": [], "b": []})
    (stub / "b.plan.sleep").write_text("60")

    def progress(result):
        if (result.root, result.phase) == ("a", "plan"):
            raise ValueError("a bug in the caller's progress")

    graph = read_graph(out)
    started = time.monotonic()
    with pytest.raises(ValueError, match="a bug in the caller's progress"):
        Orchestrator(graph, command="plan", workspace=InPlace(), progress=progress).run(["a", "b"])
    assert time.monotonic() - started < 30, "the run waited for b's plan instead of stopping it"
    for plan in (e for e in _log(stub) if e["root"] == "b" and e["phase"] == "plan" and e["event"] == "start"):
        assert [e["event"] for e in _log(stub) if e["pid"] == plan["pid"]] == ["start", "sigint", "stopped"]


def test_a_run_without_init_runs_in_the_directory_an_earlier_run_prepared(stub, out):
    from tfgen.orchestrate import Phase

    class Recorded(InPlace):
        calls: list = []

        def prepare(self, root, source, scratch):
            self.calls.append(("prepare", root))
            return super().prepare(root, source, scratch)

        def workdir(self, root, source, scratch):
            self.calls.append(("workdir", root))
            return source.resolve()

    graph = read_graph(out)
    first = Orchestrator(graph, command="plan", workspace=Recorded()).run(["_state"])
    again = Orchestrator(graph, command="plan", workspace=Recorded(), phases={"_state": [Phase("plan", ("plan",))]})
    assert first.ok and again.run(["_state"]).ok
    assert Recorded.calls == [("prepare", "_state"), ("workdir", "_state")]
    assert _commands(_log(stub), "_state") == ["init", "plan", "show", "plan"]


@pytest.mark.slow
@pytest.mark.parametrize("out", ["out", "out/mesh", "out/transit-gateway"])
def test_offline_plan_of_the_committed_examples_plans_every_root_in_order(out, capsys, monkeypatch):
    """Real Terraform 1.0.3 and provider 3.39, offline, on lowered copies of the committed output."""
    monkeypatch.delenv("TFGEN_TERRAFORM", raising=False)
    status = main(["plan", str(ROOT / out), "--offline", "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    roots = [r["root"] for r in report["roots"]]
    assert roots[0] == "_state" and len(roots) >= 2, roots
    progress = [line.split()[0] for line in captured.err.splitlines() if line.startswith("  ")]
    assert progress.index("_state") < min(progress.index(r) for r in roots[1:]), "an environment before _state"
    for root in report["roots"]:
        assert root["result"] == "ok" and [p["phase"] for p in root["phases"]] == ["init", "plan", "show"], root
        assert root["add"] > 0 and root["change"] == 0 and root["destroy"] == 0, root
    assert not list((ROOT / out).rglob(".terraform")), "the offline plan ran in the committed output"


@pytest.mark.slow
def test_the_offline_planner_gives_the_gate_plan_json_and_what_lowering_left_out(tmp_path):
    from tfgen.orchestrate import Offline
    from tfgen.terraform.lowering import LOWERED_FILE

    graph = read_graph(ROOT / "out" / "mesh")
    report = Orchestrator(graph, command="plan", workspace=Offline(tmp_path), scratch=tmp_path, show=True,
                          parallelism=2).run(graph.select(None))
    assert report.ok, [r.as_dict() for r in report.roots]
    for root in report.roots:
        plan = json.loads(root.plan_json.read_text())
        assert len(plan["resource_changes"]) == root.counts.add, root.root
        assert json.loads((root.workdir / LOWERED_FILE).read_text())["changes"], root.root


# -- the terraform it runs, and graphs hundreds of roots deep ----------------------------------------------------


def test_a_terraform_that_is_not_terraform_is_refused_before_anything_runs(out, monkeypatch, capsys):
    monkeypatch.setenv("TFGEN_TERRAFORM", "/bin/true")
    assert main(["apply", str(out), "--auto-approve"]) == 2
    err = capsys.readouterr().err
    assert "TFGEN_TERRAFORM: /bin/true is not terraform: `/bin/true version -json` printed nothing (exit 0)" in err
    assert "roots ok" not in err


def test_a_terraform_the_roots_do_not_admit_is_refused_naming_the_version_needed(stub, out, capsys):
    (stub / "version").write_text("1.9.8")
    assert main(["plan", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{stub / 'terraform'} (from TFGEN_TERRAFORM) is Terraform 1.9.8, which the roots development, " \
           "production (>= 1.10) do not admit" in err, err
    assert "install Terraform 1.10.0 or later that every root admits" in err and "set TFGEN_TERRAFORM" in err, err
    assert _log(stub) == [], "nothing ran"


@pytest.mark.slow
def test_without_a_usable_terraform_plan_says_what_to_install_and_where_it_looked(out, monkeypatch, capsys):
    """Only the toolchain extra's Terraform 1.0.3, which roots with S3-native locking do not admit."""
    monkeypatch.delenv("TFGEN_TERRAFORM", raising=False)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent.parent / "no-bin"))
    assert main(["plan", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no usable terraform: the roots _state (>= 1.0); development, production (>= 1.10) require one" in err
    assert "tfgen looked at TFGEN_TERRAFORM (not set), PATH: none; the toolchain extra: " in err, err
    assert "Terraform 1.0.3, not admitted" in err and "install Terraform 1.10.0 or later" in err, err
    assert "Unsupported Terraform Core version" not in err


def _chain(out: Path, length: int) -> list[str]:
    """A build whose graph is one chain `length` roots deep; the first root by name is the deepest."""
    names = [f"r{i:04d}" for i in range(length)]
    roots = {name: [names[i + 1]] if i + 1 < length else [] for i, name in enumerate(names)}
    files = {f"{r}/terraform.tf.json": b'{"terraform": {"required_version": ">= 1.10"}}\n' for r in roots}
    write_output(files, out, roots=roots)
    return names


def test_a_graph_hundreds_of_roots_deep_plans_renders_ci_and_builds_over(stub, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    names = _chain(out, 1200)
    assert main(["plan", str(out), "--env", names[0], "--no-deps"]) == 0, capsys.readouterr().err
    assert [e["root"] for e in _log(stub) if e["event"] == "start"][0] == names[0]
    monkeypatch.chdir(tmp_path)
    assert main(["ci", "atlantis", "out", "--spec", "fleet.yaml", "--output", "atlantis.yaml"]) == 0
    config = _load_yaml((tmp_path / "atlantis.yaml").read_text())  # 1,200 projects
    groups = {p["name"]: p["execution_order_group"] for p in config["projects"]}
    assert groups[names[0]] == 1199 and groups[names[-1]] == 0
    assert main(["build", str(ROOT / "examples" / "multi-region-eks.yaml"), "--out", str(out)]) == 0, \
        capsys.readouterr().err
    assert read_graph(out).roots == ["_state", "development", "production"]


# -- a closed terminal, and a long apply that is not silent ----------------------------------------------------


def test_sighup_stops_every_terraform_prints_the_report_and_removes_temporary_files(stub, tmp_path):
    """A closed terminal or SSH session (SIGHUP) is Ctrl-C: each terraform stopped and waited for."""
    out = _build(tmp_path / "out", {"a": [], "b": [], "c": ["a"]})
    for root in ("a", "b"):
        (stub / f"{root}.plan.sleep").write_text("60")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STUB_DIR": str(stub), "TMPDIR": str(temporary)}
    process = subprocess.Popen([sys.executable, "-m", "tfgen.cli", "apply", str(out), "--auto-approve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len([e for e in _log(stub) if e["phase"] == "plan" and e["event"] == "start"]) < 2:
        assert time.monotonic() < deadline, _log(stub)
        time.sleep(0.1)
    time.sleep(0.3)  # the stubs are past start-up and sleeping
    assert list(temporary.iterdir()), "the run keeps its plans and logs in a temporary directory"
    process.send_signal(signal.SIGHUP)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, (stdout, stderr)
    for started in (e for e in _log(stub) if e["event"] == "start" and e["phase"] == "plan"):
        assert [e["event"] for e in _log(stub) if e["pid"] == started["pid"]] == ["start", "sigint", "stopped"]
        assert not _alive(started["pid"])
    assert "a: interrupted: plan interrupted" in stdout and "c: not run: interrupted before it started" in stdout
    assert "tfgen apply: interrupted" in stdout, stdout
    assert list(temporary.iterdir()) == [], "temporary files were left"


def test_a_running_apply_reports_its_progress_with_terraforms_resource_lines_condensed(stub, out):
    (stub / "production.apply.sleep").write_text("1.5")
    (stub / "production.counts").write_text("2 0 0 1")
    graph = read_graph(out)
    lines = []
    report = Orchestrator(graph, command="apply", workspace=InPlace(), heartbeat=0.3,
                          activity=lambda a: lines.append(format_activity(a))).run(["production"])
    assert report.ok
    running = [line for line in lines if line.split()[:3] == ["production", "apply", "running"]]
    assert len(running) >= 3, lines
    creating = [line for line in running if line.endswith(("s  0 of 4 done, aws_vpc.production_0 creating 0 s",
                                                           "s  0 of 4 done, aws_vpc.production_0 creating 1 s"))]
    assert len(creating) >= 2 and all(line in creating or line.endswith("s  0 of 4 done") for line in running), \
        running
    elapsed = [float(line.split()[3]) for line in running]
    assert elapsed == sorted(elapsed) and elapsed[-1] >= 1.0, "the elapsed time grows"


def test_activity_condenses_terraforms_lines():
    from tfgen.orchestrate.terraform import Activity

    activity = Activity("development", "apply", "apply", total=3)
    for line in ["aws_vpc.hub: Creating...", "aws_eks_cluster.hub: Creating...",
                 "aws_vpc.hub: Creation complete after 2s [id=vpc-1]", "aws_eks_cluster.hub: Still creating... [10s "
                 "elapsed]", "aws_subnet.a: Destroying... [id=subnet-1]", "Plan: 1 to add"]:
        activity.feed(line)
    assert activity.line().startswith("1 of 3 done, 2 in progress: aws_eks_cluster.hub creating ")
    plan = Activity("development", "plan", "plan")
    for n in range(4):
        plan.feed(f"aws_vpc.v{n}: Refreshing state... [id=vpc-{n}]")
    assert plan.line() == "4 refreshed"
