"""`tfgen ci atlantis|github-actions`: the graph of roots as CI configs, valid for each engine."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tfgen.cli import main
from tfgen.write import write_output

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "tfgen" / "orchestrate" / "schemas"
SPEC = "examples/multi-region-eks.yaml"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _ci(capsys, *args) -> str:
    assert main(["ci", *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository whose build `out` has a deeper graph: _state -> shared -> (eu, us) -> link."""
    monkeypatch.chdir(tmp_path)
    roots = {"_state": [], "shared": ["_state"], "eu": ["shared"], "us": ["shared"], "link": ["eu", "us"]}
    write_output({f"{root}/main.tf.json": b"{}\n" for root in roots}, tmp_path / "out", roots=roots)
    return tmp_path


def _check_atlantis(config: dict) -> None:
    """Atlantis's strict YAML fields (the schema) and its rules across projects (repo_cfg.go, project.go)."""
    jsonschema.validate(config, _schema("atlantis-repo-config.json"))
    names = [p["name"] for p in config["projects"]]
    assert len(names) == len(set(names)), f"duplicate project names {names}"
    dirs = [(p["dir"], p.get("workspace", "default")) for p in config["projects"]]
    assert len(dirs) == len(set(dirs)), "two projects with one dir and workspace need names (they have them)"
    for project in config["projects"]:
        for needed in project.get("depends_on", []):
            assert needed in names, f"{project['name']} depends on {needed}, which is no project"


def test_atlantis_has_a_project_per_root_ordered_by_depth(repo, capsys):
    config = yaml.safe_load(_ci(capsys, "atlantis", "out", "--include-state"))
    _check_atlantis(config)
    projects = {p["name"]: p for p in config["projects"]}
    assert config["version"] == 3
    assert list(projects) == ["_state", "shared", "eu", "us", "link"]
    assert {n: p["execution_order_group"] for n, p in projects.items()} == {
        "_state": 0, "shared": 1, "eu": 2, "us": 2, "link": 3}
    assert projects["link"]["depends_on"] == ["eu", "us"] and "depends_on" not in projects["_state"]
    assert projects["eu"]["dir"] == "out/eu"
    assert projects["eu"]["autoplan"] == {"enabled": True, "when_modified": ["*.tf.json"]}


def test_ci_leaves_the_state_root_out_unless_asked(repo, capsys):
    config = yaml.safe_load(_ci(capsys, "atlantis", "out"))
    _check_atlantis(config)
    projects = {p["name"]: p for p in config["projects"]}
    assert "_state" not in projects and "depends_on" not in projects["shared"]
    assert projects["shared"]["execution_order_group"] == 1, "groups stay the graph's depth"


def test_the_committed_examples_give_valid_configs(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    for out in ("out", "out/mesh", "out/transit-gateway"):
        _check_atlantis(yaml.safe_load(_ci(capsys, "atlantis", out, "--include-state")))
        workflow = yaml.safe_load(_ci(capsys, "github-actions", out, "--spec", SPEC))
        jsonschema.validate(workflow, _schema("github-workflow.json"))


def test_github_actions_checks_then_plans_and_applies_in_graph_order(repo, capsys):
    text = _ci(capsys, "github-actions", "out", "--spec", "fleet.yaml", "--include-state")
    workflow = yaml.safe_load(text)
    jsonschema.validate(workflow, _schema("github-workflow.json"))
    jobs = workflow["jobs"]
    assert [s.get("run") for s in jobs["check"]["steps"][-3:]] == [
        "tfgen build fleet.yaml --out out --check", "tfgen validate fleet.yaml", "tfgen check out --plan"]
    assert jobs["plan-link"]["needs"] == ["check", "plan-eu", "plan-us"]
    assert jobs["apply-link"]["needs"] == ["plan-link", "apply-eu", "apply-us"]
    assert jobs["apply-link"]["environment"] == "link"
    assert jobs["apply-link"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert jobs["apply-link"]["steps"][-1]["run"] == "tfgen apply out --env link --no-deps --auto-approve"
    assert workflow["permissions"] == {"contents": "read"}
    assert "permissions" not in jobs["check"], "the check job needs nothing beyond reading the repository"
    assert jobs["plan-eu"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert "&id" not in text and "*id" not in text, "YAML anchors hide what a job does"


def test_ci_output_is_deterministic_and_can_go_to_a_file(repo, capsys):
    first = _ci(capsys, "github-actions", "out", "--spec", "fleet.yaml")
    assert main(["ci", "github-actions", "out", "--spec", "fleet.yaml", "--output", "wf.yml"]) == 0
    assert (repo / "wf.yml").read_text() == first


def test_a_workflow_with_a_broken_job_fails_the_schema(repo, capsys):
    workflow = yaml.safe_load(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    workflow["jobs"]["plan-eu"]["permissions"]["id-token"] = "admin"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(workflow, _schema("github-workflow.json"))
    config = yaml.safe_load(_ci(capsys, "atlantis", "out"))
    config["projects"][0]["dir"] = "../elsewhere"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, _schema("atlantis-repo-config.json"))


def test_out_outside_the_repository_is_refused(repo, monkeypatch, capsys):
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert main(["ci", "atlantis", "../out"]) == 2
    assert "leaves the working directory" in capsys.readouterr().err
