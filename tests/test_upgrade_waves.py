"""Waves in the runners: a cells build records the spec's rollout as waves of roots (only when the spec writes
one: the examples' output is unchanged); `tfgen apply OUT --waves` applies them in order, re-plans each wave and
stops past the failure tolerance (driven by the recording stub terraform); the CI configs order roots by the same
waves (Atlantis execution order groups, GitHub Actions `needs`), valid against the engines' schemas."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import tfgen
from tfgen.cli import main
from tfgen.orchestrate import read_graph
from tfgen.write import read_waves
from tests.orchestrate_stub import stub_directory
from tests.test_orchestrate_ci import _actionlint, _check_atlantis, _check_workflow

ROOT = Path(__file__).resolve().parent.parent
ROLLOUT = "rollout: {waves: [[us-east-2], [us-west-2]], failure_tolerance: 0}\n"


def _cells(tmp_path: Path, rollout: str = ROLLOUT) -> Path:
    spec = tmp_path / "cells.yaml"
    spec.write_text((ROOT / "examples" / "cells.yaml").read_text().replace("\nenvironments:\n",
                                                                          "\n" + rollout + "environments:\n", 1))
    out = tmp_path / "out"
    tfgen.build(tfgen.load(spec), out)
    return out


def test_a_build_records_the_waves_of_roots_only_when_the_spec_writes_a_rollout(tmp_path):
    waves = read_waves(_cells(tmp_path))
    assert waves["staging"]["waves"] == [["staging--us-east-2"], ["staging--us-west-2"], ["staging--us-east-1"]]
    assert [[c["path"] for c in w] for w in waves["staging"]["clusters"]] == \
        [["staging/us-east-2/edge"], ["staging/us-west-2/edge"], ["staging/us-east-1/hub"]]
    assert waves["staging"]["clusters"][0][0] == {"path": "staging/us-east-2/edge", "region": "us-east-2",
                                                   "name": "cells-fleet-staging-us-east-2-edge", "version": "1.35"}
    assert read_waves(ROOT / "out" / "cells") is None  # the example writes no rollout: its manifest is as it was


@pytest.fixture
def stub(tmp_path, monkeypatch):
    return stub_without_credentials(tmp_path, monkeypatch)


def stub_without_credentials(tmp_path, monkeypatch):
    """The stub terraform (`orchestrate_stub.stub_directory`), and no AWS credentials anywhere."""
    directory = stub_directory(tmp_path, monkeypatch)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return directory


def _applied(stub: Path) -> list[str]:
    """The roots in the order terraform first planned them (an apply plans first; with nothing to change it
    applies nothing)."""
    log = [json.loads(line) for line in (stub / "log.jsonl").read_text().splitlines()]
    return list(dict.fromkeys(e["root"] for e in log if e.get("event") == "start" and e["phase"] == "plan"))


def test_apply_waves_applies_wave_by_wave_then_the_roots_in_no_wave(tmp_path, stub, capsys):
    out = _cells(tmp_path)
    for root in read_graph(out).roots:
        (stub / f"{root}.counts").write_text("0 0 0")
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 0, capsys.readouterr()
    text = capsys.readouterr().out
    applied = _applied(stub)
    order = [applied.index(r) for r in ("staging--us-east-2", "staging--us-west-2", "staging--us-east-1")]
    assert order == sorted(order), applied
    links = [applied.index(r) for r in applied if r.count("--") == 2 or r.endswith("fan-in")]
    assert links and min(links) > max(order), applied
    assert "not verified through the EKS API: staging/us-east-2/edge: staging: no AWS credentials" in text


def test_apply_waves_stops_when_a_wave_fails_past_its_tolerance(tmp_path, stub, capsys):
    out = _cells(tmp_path)
    for root in read_graph(out).roots:
        (stub / f"{root}.counts").write_text("0 0 0")
    (stub / "staging--us-east-2.counts").write_text("0 1 0")  # never converges: the re-plan is not empty
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 1
    text = capsys.readouterr().out
    assert "FAILED staging/us-east-2/edge: the re-plan after the apply is not empty (0 to add, 1 to change" in text
    assert "later waves were not run" in text
    assert "staging--us-west-2" not in _applied(stub)


def test_apply_waves_goes_on_within_the_tolerance(tmp_path, stub, capsys):
    out = _cells(tmp_path, ROLLOUT.replace("failure_tolerance: 0", "failure_tolerance: 1"))
    for root in read_graph(out).roots:
        (stub / f"{root}.counts").write_text("0 0 0")
    (stub / "staging--us-east-2.counts").write_text("0 1 0")
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 1  # a failed cluster still fails the run
    assert "staging--us-west-2" in _applied(stub)


def test_apply_waves_without_a_recorded_rollout_says_how_to_get_one(tmp_path, stub, capsys):
    out = tmp_path / "out"
    shutil.copytree(ROOT / "out" / "cells", out)
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 2
    assert "records no rollout waves" in capsys.readouterr().err


def test_ci_configs_order_the_roots_by_the_waves(tmp_path, capsys, monkeypatch):
    _cells(tmp_path)  # the cells example built in tmp_path/out
    monkeypatch.chdir(tmp_path)
    assert main(["ci", "atlantis", "out", "--spec", "cells.yaml"]) == 0
    config = yaml.safe_load(capsys.readouterr().out)
    _check_atlantis(config)
    group = {p["name"]: p["execution_order_group"] for p in config["projects"]}
    assert group["staging--us-east-2"] < group["staging--us-west-2"], group
    assert group["staging--us-east-1"] < group["staging--us-east-2"], group  # every edge needs the hub's roles
    needs = {p["name"]: p.get("depends_on", []) for p in config["projects"]}
    assert "staging--us-east-2" in needs["staging--us-west-2"]
    assert main(["ci", "github-actions", "out", "--spec", "cells.yaml"]) == 0
    text = capsys.readouterr().out
    workflow = _check_workflow(text)
    (tmp_path / "waves.yml").write_text(text)
    assert _actionlint([tmp_path / "waves.yml"], tmp_path) == {str(tmp_path / "waves.yml"): []}
    apply_needs = {job: spec.get("needs", []) for job, spec in workflow["jobs"].items()}
    wave_two = next(job for job in apply_needs if job.startswith("apply") and "us-west-2" in job and "--" not in
                    job.replace("staging--", "", 1))
    assert any("us-east-2" in need and need.startswith("apply") for need in apply_needs[wave_two]), apply_needs[wave_two]
    plain = tmp_path / "plain"
    shutil.copytree(ROOT / "out" / "cells", plain)
    assert main(["ci", "atlantis", "plain", "--spec", "cells.yaml"]) == 0
    unordered = {p["name"]: p.get("depends_on", []) for p in yaml.safe_load(capsys.readouterr().out)["projects"]}
    assert "staging--us-east-2" not in unordered["staging--us-west-2"]  # without a rollout, no wave edges
