"""The network rules beside the build (`tfgen.beside`): a forked child imports networkx and runs them while
the parent checks and emits the rest; what a command reports and writes is what it would in one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tfgen
from tfgen import beside as beside_module
from tfgen.beside import Beside, beside, prefork
from tfgen.errors import Finding

REPO = Path(__file__).resolve().parent.parent
BAD = REPO / "tests" / "bad_specs"
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux only")

# A fresh interpreter (networkx not loaded yet, one thread): the CLI as a user runs it, then what the
# parent process had loaded and where the network findings came from.
_PROBE = textwrap.dedent("""
    import json, sys
    from tfgen import beside
    where = []
    answer = beside.Beside.result
    def result(self):
        value = answer(self)
        where.append(self.where)
        return value
    beside.Beside.result = result
    from tfgen.cli import main
    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "networkx": "networkx" in sys.modules, "where": where}), file=sys.stderr)
""")


def _probe(*argv: str, cwd: Path) -> tuple[dict, str, str]:
    """(the probe's line, stdout, everything the command printed)."""
    result = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, cwd=cwd,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    *lines, last = result.stderr.rstrip("\n").splitlines()
    return json.loads(last), result.stdout, "\n".join(lines) + result.stdout  # reports: stdout or stderr


@linux_only
def test_validate_reports_the_network_findings_of_the_child_and_never_loads_networkx(tmp_path):
    spec = tmp_path / "overlap.yaml"
    spec.write_text((BAD / "overlap-with-hub.yaml").read_text())
    probe, _, stderr = _probe("validate", str(spec), cwd=tmp_path)
    assert probe == {"code": 1, "networkx": False, "where": ["child"]}
    assert "overlap.yaml:9: error NET211 [dev/us-east-2/edge]" in stderr


@linux_only
def test_a_build_with_a_network_error_writes_nothing(tmp_path):
    spec = tmp_path / "overlap.yaml"
    spec.write_text((BAD / "overlap-with-hub.yaml").read_text())
    probe, _, stderr = _probe("build", str(spec), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert probe["code"] == 1 and probe["where"] == ["child"] and not probe["networkx"]
    assert "NET211" in stderr and "nothing was written" in stderr
    assert not (tmp_path / "out").exists()


@linux_only
def test_a_build_beside_writes_what_a_build_in_one_process_writes(tmp_path):
    spec = REPO / "examples" / "mesh.yaml"
    probe, stdout, _ = _probe("build", str(spec), "--out", str(tmp_path / "beside"), cwd=tmp_path)
    assert probe == {"code": 0, "networkx": False, "where": ["child"]}
    files, warnings = tfgen.render(tfgen.load(spec))  # in this process: networkx is loaded here already
    written = {p.relative_to(tmp_path / "beside").as_posix(): p.read_bytes()
               for p in (tmp_path / "beside").rglob("*.tf.json")}
    assert written == {rel: data for rel, data in files.items() if rel.endswith(".tf.json")}


@linux_only
def test_a_spec_error_stops_the_unused_child(tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text("project: [\n")
    probe, _, stderr = _probe("validate", str(spec), cwd=tmp_path)
    assert probe["code"] == 1 and probe["where"] == [] and "broken.yaml:" in stderr


def _probe_module(tmp_path: Path, body: str) -> str:
    name = f"tfgen_beside_probe_{abs(hash((str(tmp_path), body))) % 10**8}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    sys.path.insert(0, str(tmp_path))
    return name


@pytest.fixture
def probe_module(tmp_path):
    made: list[str] = []

    def make(body: str) -> str:
        made.append(_probe_module(tmp_path, body))
        return made[-1]

    yield make
    sys.path.remove(str(tmp_path))
    for name in made:
        sys.modules.pop(name, None)


@linux_only
def test_the_child_imports_the_module_and_the_parent_does_not(probe_module):
    name = probe_module("""
        import os
        def twice(value, *, plus=0):
            return {"value": value * 2 + plus, "pid": os.getpid()}
    """)
    with prefork(name):
        found = beside(name, "twice", 21, plus=0)
        assert found.result() == {"value": 42, "pid": found.result()["pid"]}
    assert found.where == "child" and found.result()["pid"] != os.getpid()
    assert name not in sys.modules


@linux_only
def test_a_failing_child_is_not_trusted_the_parent_runs_the_function(probe_module):
    name = probe_module("""
        import os
        PARENT = None
        def check():
            if os.environ.get("TFGEN_PROBE_PARENT") != str(os.getpid()):
                raise RuntimeError("only in the child")
            return ["in the parent"]
    """)
    os.environ["TFGEN_PROBE_PARENT"] = str(os.getpid())
    try:
        with prefork(name):
            found = beside(name, "check")
            assert found.result() == ["in the parent"]
        assert found.where == "process"
    finally:
        del os.environ["TFGEN_PROBE_PARENT"]


@linux_only
def test_an_unused_child_is_stopped_and_reaped_when_the_block_ends(probe_module):
    name = probe_module("import time\ntime.sleep(30)\n")  # would hold the command for 30 s if waited for
    with prefork(name):
        child = beside_module._CHILDREN[name]
    assert name not in beside_module._CHILDREN
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)


def test_without_a_child_the_function_runs_here_when_first_asked(probe_module):
    name = probe_module("CALLS = []\ndef call():\n    CALLS.append(1)\n    return len(CALLS)\n")
    found = beside(name, "call")  # no prefork: nothing started
    assert name not in sys.modules
    assert found.result() == 1 and found.result() == 1 and found.where == "process"


def test_no_child_where_the_module_is_loaded_already(probe_module):
    name = probe_module("def call():\n    return 'here'\n")
    __import__(name)
    with prefork(name):
        assert name not in beside_module._CHILDREN
        assert beside(name, "call").result() == "here"


def test_an_emitter_failing_on_a_network_error_is_the_network_error(monkeypatch):
    """The parent emits while the network rules run beside; on a model the rules reject, an emitter may
    fail: the user sees the network finding, not the emitter's exception."""
    import tfgen.pipeline as pipeline

    fleet = tfgen.load(REPO / "examples" / "mesh.yaml")
    error = Finding("NET211", "overlap", "fix it", path="dev/us-east-1/hub")

    def broken(_fleet):
        raise KeyError("an emitter assumed a valid network")

    monkeypatch.setattr(pipeline, "emit_documents", broken)
    monkeypatch.setattr(pipeline, "beside", lambda *a, **k: _Answer([error]))
    prepared = pipeline.prepare(fleet)
    assert [f.code for f in prepared.errors] == ["NET211"] and prepared.documents == {}
    monkeypatch.setattr(pipeline, "beside", lambda *a, **k: _Answer([]))
    with pytest.raises(KeyError):  # with a valid network the emitter's failure is a bug: it surfaces
        pipeline.prepare(fleet)


class _Answer(Beside):
    def __init__(self, findings):
        self._done, self._value, self.where, self.forked = True, findings, "child", True


def test_the_tfgen_command_exits_with_mains_status(tmp_path):
    """`tfgen` (`tfgen.cli:run`) is `main` with the final garbage collections skipped: same status, same output."""
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"tfgen": "tfgen.cli:run"}
    spec = tmp_path / "overlap.yaml"
    spec.write_text((BAD / "overlap-with-hub.yaml").read_text())
    run = lambda *argv: subprocess.run([sys.executable, "-m", "tfgen.cli", *argv], capture_output=True, text=True,
                                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    failed = run("validate", str(spec))
    assert failed.returncode == 1 and "error NET211" in failed.stdout + failed.stderr
    built = run("build", str(REPO / "examples" / "mesh.yaml"), "--out", str(tmp_path / "out"))
    assert built.returncode == 0 and built.stdout.startswith(f"built {tmp_path / 'out'}/")
    assert run("--version").stdout.strip().startswith("tfgen ")


@pytest.mark.parametrize("forked, limit", [(False, 10_000), (True, 0)])
def test_without_a_child_or_for_a_large_fleet_nothing_is_emitted_before_the_rules_pass(monkeypatch, forked, limit):
    """Emission beside the rules is wasted when they find errors: in one process (nothing runs beside) and
    past SPECULATE_UP_TO clusters it waits for them (`validate --crowd 2000` took 32 s emitting first)."""
    import tfgen.pipeline as pipeline

    fleet = tfgen.load(BAD / "overlap-with-hub.yaml")
    answer = _Answer(pipeline.beside("tfgen.checks.model", "check_model", fleet).result())
    answer.forked = forked
    monkeypatch.setattr(pipeline, "beside", lambda *a, **k: answer)
    monkeypatch.setattr(pipeline, "SPECULATE_UP_TO", limit)
    monkeypatch.setattr(pipeline, "emit_documents", lambda _fleet: pytest.fail("emitted before the rules passed"))
    assert "NET211" in {f.code for f in pipeline.prepare(fleet).errors}


@linux_only
def test_arguments_the_child_cannot_take_run_here(probe_module):
    name = probe_module("def call(value):\n    return value()\n")
    with prefork(name):
        child = beside_module._CHILDREN[name]
        found = beside(name, "call", lambda: "unpicklable, so here")
        assert found.result() == "unpicklable, so here" and found.where == "process" and not found.forked
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)
