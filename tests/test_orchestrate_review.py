"""What is reviewed is what is applied: `tfgen plan --out-dir PLANS` keeps each root's plan with what it was made
from, prints the diff people read; `tfgen apply PLANS` applies exactly those plans, or refuses stale ones.

Driven with the recording stub terraform (tests/orchestrate_stub/terraform), which keeps a state per root
(lineage, serial) and refuses a saved plan whose state moved on, as Terraform does. The plans applied to the
local AWS double are at the end (slow).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tfgen.cli import main
from tfgen.orchestrate.saved import MANIFEST, read_saved
from tfgen.write import write_output
from tests.orchestrate_stub import example_out, stub_directory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stub(tmp_path, monkeypatch):
    directory = stub_directory(tmp_path, monkeypatch)
    return directory


@pytest.fixture
def out(tmp_path, monkeypatch):
    """A copy of the committed example build (`_state`, `development`, `production`), as `out` in the cwd."""
    monkeypatch.chdir(tmp_path)
    return example_out(tmp_path)


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    """`tfgen plan out --out-dir plans` of the example, made once for the tests that only read or break the saved
    plans (the stub keeps no state for a plan: a copy is what planning in the test's directory saves)."""
    where = tmp_path_factory.mktemp("planned")
    with pytest.MonkeyPatch.context() as patch:
        stub_directory(where, patch)
        patch.chdir(where)
        example_out(where)
        assert main(["plan", "out", "--out-dir", "plans"]) == 0
    return where / "plans"


@pytest.fixture
def plans(planned, stub, out) -> Path:
    """A copy of `planned` as `plans` in the cwd, beside `out`."""
    shutil.copytree(planned, "plans", symlinks=True)
    return Path("plans")


def _log(stub: Path) -> list[dict]:
    path = stub / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _applied(stub: Path) -> dict[str, str]:
    """root -> the plan file each `terraform apply` applied."""
    return {e["root"]: e["argv"][-1] for e in _log(stub) if e["event"] == "start" and e["phase"] == "apply"}


def _run(capsys, *args) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_plan_out_dir_keeps_each_plan_and_prints_what_each_root_does(stub, out, capsys):
    (stub / "development.counts").write_text("2 1 0 1")
    (stub / "production.counts").write_text("0 0 0")
    status, text, _ = _run(capsys, "plan", "out", "--out-dir", "plans", "--detailed-exitcode",
                           "--allow-replace", "development")
    assert status == 2, text
    assert ("development: 2 to add, 1 to change, 1 to replace, 0 to destroy\n"
            "  replace  aws_vpc.development_3  cidr_block: 10.1.0.0/16 -> 10.2.0.0/16\n"
            "  change   aws_vpc.development_2  changes tags\n"
            "  add      aws_vpc.development_0\n"
            "  add      aws_vpc.development_1\n"
            "production: no changes\n") in text, text
    assert "development    2       1        1        0" in text, "the table counts a replacement once"
    assert "saved plans in plans. Apply them with `tfgen apply plans`." in text
    saved = read_saved("plans")
    assert saved.out == "out" and saved.terraform == "1.10.5"
    assert {r: (s.status, s.changes, s.state.lineage) for r, s in saved.roots.items()} == {
        "_state": ("planned", True, None), "development": ("planned", True, None),
        "production": ("planned", False, None)}
    for root in saved.roots:
        assert json.loads(saved.plan_json(root).read_text())["format_version"] == "1.2", root
        assert json.loads(saved.plan(root).read_text())["root"] == root, "the binary plan terraform wrote"
    assert saved.roots["development"].needs == ("_state",)


def test_detailed_exitcode_is_terraforms(stub, out, capsys):
    for root in ("_state", "development", "production"):
        (stub / f"{root}.counts").write_text("0 0 0")
    assert _run(capsys, "plan", "out", "--detailed-exitcode")[0] == 0
    assert _run(capsys, "plan", "out")[0] == 0
    (stub / "production.counts").write_text("0 1 0")
    assert _run(capsys, "plan", "out", "--detailed-exitcode")[0] == 2
    (stub / "production.plan.fail").write_text("")
    assert _run(capsys, "plan", "out", "--detailed-exitcode", "--out-dir", "plans")[0] == 1
    assert not Path("plans", MANIFEST).exists(), "a failed plan saves nothing to apply"


def test_apply_plans_applies_exactly_the_saved_plans_and_only_those_that_change(stub, out, capsys):
    (stub / "production.counts").write_text("0 0 0")
    assert _run(capsys, "plan", "out", "--out-dir", "plans")[0] == 0
    (stub / "development.counts").write_text("9 9 9")  # a plan now would differ; the saved one is applied
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 0, text
    plans = Path("plans").resolve()
    assert _applied(stub) == {"_state": str(plans / "_state" / "plan.tfplan"),
                              "development": str(plans / "development" / "plan.tfplan")}
    assert not [e for e in _log(stub) if e["phase"] == "plan" and e["event"] == "start" and e["time"] >
                min(x["time"] for x in _log(stub) if x["phase"] == "apply")], "apply PLANS planned again"
    assert "development    1       0        0        0" in text and "tfgen apply: ok: 3 of 3 roots ok" in text, text


def test_a_plan_whose_state_moved_on_is_refused_and_nothing_is_applied(stub, out, plans, capsys):
    assert _run(capsys, "apply", "out", "--env", "production", "--no-deps", "--auto-approve")[0] == 0
    applied_before = len(_log(stub))
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 1
    assert ("production: stale: its state changed since the plan (planned against no state yet, now lineage "
            "lineage-production serial 1); nothing was applied. Fix: plan again (`tfgen plan out --out-dir plans`)"
            ) in text, text
    assert "development: not run: nothing was applied: the plan of production cannot be" in text, text
    assert [e for e in _log(stub)[applied_before:] if e["phase"] == "apply"] == [], "something was applied"


def test_a_plan_whose_root_changed_is_refused_and_nothing_is_applied(stub, out, plans, capsys):
    providers = out / "development" / "providers.tf.json"
    providers.write_text(providers.read_text().replace("us-east-1", "us-east-2", 1))
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 1
    assert (f"development: stale: its files changed since the plan ({Path('out') / 'development'}: its *.tf.json, "
            f"*.tf or .terraform.lock.hcl); nothing was applied") in text, text
    assert _applied(stub) == {}


def test_terraforms_own_refusal_of_a_stale_plan_is_reported_as_stale(stub, out, capsys, monkeypatch):
    """Another apply between tfgen's check and its apply: Terraform's "Saved plan is stale" names it."""
    assert _run(capsys, "plan", "out", "--env", "_state", "--out-dir", "plans")[0] == 0
    from tfgen.orchestrate import commands

    checked = commands._stale

    def another_apply_meanwhile(*args):
        found = checked(*args)
        (stub / "state").mkdir(exist_ok=True)
        (stub / "state" / "_state.json").write_text('{"lineage": "l", "serial": 7}')
        return found

    monkeypatch.setattr(commands, "_stale", another_apply_meanwhile)
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 1
    assert "_state: stale: Terraform refused the saved plan: the state changed since it was made" in text, text


def _reading_build(out: Path) -> None:
    """eu and us; link reads both states (a cells link root); top needs link."""
    reads = {"data": {"terraform_remote_state": {n: {"backend": "local", "config": {"path": f"../{n}/s"}}
                                                 for n in ("eu", "us")}}}
    files = {"eu/main.tf.json": b"{}\n", "us/main.tf.json": b"{}\n", "top/main.tf.json": b"{}\n",
             "link/main.tf.json": json.dumps(reads).encode() + b"\n"}
    write_output(files, out, roots={"eu": [], "us": [], "link": ["eu", "us"], "top": ["link"]})


def test_a_plan_that_read_outputs_this_apply_changes_is_held_back(stub, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _reading_build(tmp_path / "out")
    (stub / "eu.outputs").write_text("vpc_id")
    assert _run(capsys, "plan", "out", "--out-dir", "plans")[0] == 0
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 1
    assert set(_applied(stub)) == {"eu", "us"}
    assert ("link: stale: not applied: its plan read the outputs of eu, which this apply changes: plan link again "
            "once it is applied") in text, text
    assert "top: stale: not applied: it needs link, whose plan is not applied now" in text, text


@pytest.mark.parametrize("case, says", [
    ("not json", "cannot read it"),
    ("foreign", "not a tfgen manifest"),
    ("traversal", "'../etc' is not a root name a build has"),
    ("missing plan", "plan.tfplan is missing"),
    ("linked plan", "plan.tfplan is missing (or not a regular file)"),
    ("bad serial", "lineage and serial are not a state's"),
    ("newer format", "saved by a tfgen whose format (2) this one"),
    ("offline", "cannot be applied anywhere"),
])
def test_saved_plans_that_are_not_what_tfgen_wrote_are_refused(stub, out, plans, capsys, case, says):
    manifest = Path("plans", MANIFEST)
    document = json.loads(manifest.read_text())
    if case == "not json":
        manifest.write_text("{")
    elif case == "foreign":
        manifest.write_text('{"generator": "other"}')
    elif case == "traversal":
        document["roots"]["../etc"] = document["roots"].pop("production")
    elif case == "missing plan":
        Path("plans", "development", "plan.tfplan").unlink()
    elif case == "linked plan":
        target = Path("plans", "development", "plan.tfplan")
        target.unlink()
        target.symlink_to("/etc/passwd")
    elif case == "bad serial":
        document["roots"]["production"]["serial"] = "3"
    elif case == "newer format":
        document["format"] = 2
    else:
        document["offline"] = True
    if case in ("traversal", "bad serial", "newer format", "offline"):
        manifest.write_text(json.dumps(document))
    status, _, err = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 2 and says in err and "Traceback" not in err, err
    assert _applied(stub) == {}


def test_a_terraform_other_than_the_one_that_planned_is_refused(stub, out, plans, capsys):
    (stub / "terraform").touch()  # another binary to ask for its version
    (stub / "version").write_text("1.11.0")
    status, _, err = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 2 and "planned with Terraform 1.10.5, but the terraform here" in err and "is 1.11.0" in err, err
    assert _applied(stub) == {}


def test_out_dir_is_never_a_directory_of_something_else(stub, out, capsys):
    Path("notes").mkdir()
    Path("notes", "keep.txt").write_text("mine")
    status, _, err = _run(capsys, "plan", "out", "--out-dir", "notes")
    assert status == 2 and "is not empty and holds no saved plans" in err
    assert Path("notes", "keep.txt").read_text() == "mine"
    assert _run(capsys, "plan", "out", "--out-dir", "plans", "--env", "production")[0] == 0
    assert _run(capsys, "plan", "out", "--out-dir", "plans", "--env", "_state", "--no-deps")[0] == 0
    assert sorted(p.name for p in Path("plans").iterdir()) == ["_state", MANIFEST], "plans replace earlier ones"


def test_json_and_markdown_carry_the_same_changes(stub, out, capsys):
    (stub / "development.counts").write_text("1 0 1 1")
    allow = ["--allow-replace", "development", "--allow-destroy", "development"]
    status, text, err = _run(capsys, "plan", "out", "--env", "development", "--format", "json", *allow)
    assert status == 0 and "development      show     ok" in err, "progress goes to stderr"
    roots = {r["root"]: r for r in json.loads(text)["roots"]}
    assert [(c["action"], c["address"], c["reasons"]) for c in roots["development"]["changes"]] == [
        ("create", "aws_vpc.development_0", []),
        ("delete", "aws_vpc.development_1", ["no longer in the configuration"]),
        ("replace", "aws_vpc.development_2", ["cidr_block: 10.1.0.0/16 -> 10.2.0.0/16"])]
    assert (roots["development"]["add"], roots["development"]["replace"], roots["development"]["destroy"]) == (1, 1, 1)
    status, text, _ = _run(capsys, "plan", "out", "--env", "development", "--format", "markdown", *allow)
    assert "| development | 1 | 0 | 1 | 1 | ok |" in text, text
    assert "#### development: 1 to add, 0 to change, 1 to replace, 1 to destroy" in text
    assert ("| **replace** | aws\\_vpc.development\\_2 | cidr\\_block: 10.1.0.0/16 -\\> 10.2.0.0/16 |") in text, text
    assert "| **destroy** | aws\\_vpc.development\\_1 | no longer in the configuration |" in text


def test_markdown_cells_cannot_break_the_table_or_inject_html():
    from tfgen.orchestrate.review import cell

    assert cell("a | b <img src=x onerror=alert(1)> `x`\n* item") == \
        "a \\| b \\<img src=x onerror=alert\\(1\\)\\> \\`x\\` \\* item"


# -- on the local AWS double ------------------------------------------------------------------------------------


def _keeping_state(workspace) -> None:
    """The sandbox starts each copy afresh; a change is rehearsed on the state the old spec's apply left."""
    fresh = workspace.prepare

    def prepare(root, source, scratch):
        state = workspace.roots / root / "terraform.tfstate"
        kept = state.read_bytes() if state.exists() else None
        copy = fresh(root, source, scratch)
        if kept is not None:
            (copy / "terraform.tfstate").write_bytes(kept)
        return copy

    workspace.prepare = prepare


@pytest.mark.slow
def test_a_changed_spec_is_planned_saved_and_applied_exactly_on_the_double(tmp_path):
    import tfgen
    from tfgen.orchestrate import read_graph
    from tfgen.orchestrate.commands import apply_plans, plan_roots, select
    from tfgen.orchestrate.guard import fleet_summary, plan_guard
    from tfgen.orchestrate.review import diff_text
    from tfgen.sandbox import Sandbox
    from tfgen.sandbox.prepare import in_accounts
    from tests.conftest import MINIMAL_SPEC, write_spec

    old = write_spec(tmp_path, MINIMAL_SPEC)
    new = write_spec(tmp_path, MINIMAL_SPEC.replace(
        "instance_types: [t3.medium]", "instance_types: [t3.large]").replace(
        "us-east-2: {cidr: 10.11.0.0/16}", "us-east-2: {cidr: 10.11.0.0/16, node_groups: {"
                                           "workers: {instance_types: [t3.medium], min: 1, max: 1, desired: 1}, "
                                           "spot: {instance_types: [t3.small], min: 1, max: 1, desired: 1}}}"),
                     "new.yaml")
    with Sandbox(tfgen.load(old), workdir=tmp_path / "sandbox") as sandbox:
        assert sandbox.init("development").ok and sandbox.apply("development").ok
        out = tmp_path / "new-out"
        tfgen.build(in_accounts(tfgen.load(new), sandbox.accounts), out)
        workspace = sandbox.workspace
        _keeping_state(workspace)
        selection = select(read_graph(out), "plan", env=["development"], no_deps=True)
        guard = plan_guard(out, "plan")
        report, saved = plan_roots(selection, workspace, out_dir=tmp_path / "plans", scratch=tmp_path / "runs",
                                   review=guard)
        assert report.ok, [(r.root, r.reason, r.errors) for r in report.roots]
        fleet = fleet_summary(report, guard.record)
        assert [(o.path, str(o.status), o.counts) for o in fleet.objects] == [
            ("development/us-east-1/hub", "updated in place", {"replace": 1}),
            ("development/us-east-2/edge", "updated in place", {"create": 1})], fleet.text()
        assert guard.unused(fleet) == [], "a node group is no guarded kind: nothing to allow"
        text = diff_text(report)
        hub = "aws_eks_node_group.us_east_1_hub__workers"
        edge = "aws_eks_node_group.us_east_2_edge__workers"
        assert text.startswith("development: 1 to add, 0 to change, 1 to replace, 0 to destroy\n"), text
        (replaced,) = [line for line in text.splitlines() if line.split()[:2] == ["replace", hub]]
        assert replaced.split(None, 2)[2].startswith('instance_types: ["t3.medium"] -> ["t3.large"]; '), text
        assert replaced.endswith("; an argument that cannot be updated in place changes"), text
        assert ["add", edge.replace("workers", "spot")] in [line.split() for line in text.splitlines()], text
        entry = saved.roots["development"]
        assert entry.changes and entry.state.lineage is not None, "planned against the applied state"

        applied = apply_plans(saved, workspace, scratch=tmp_path / "runs", init=False, out=out,
                              review=plan_guard(out, "apply"))
        assert applied.ok, [(r.root, r.status, r.reason, r.errors) for r in applied.roots]
        (result,) = applied.roots
        apply_log = next(p.log for p in result.phases if p.phase == "apply").read_text()
        assert "Resources: 2 added, 0 changed, 1 destroyed." in apply_log, "exactly the saved plan"
        found = {}
        for cluster in sandbox.expectation("development").clusters:
            eks = sandbox.client("eks", cluster.region, "development")
            found[cluster.role] = sorted(
                eks.describe_nodegroup(clusterName=cluster.name, nodegroupName=name)["nodegroup"]["instanceTypes"][0]
                for name in eks.list_nodegroups(clusterName=cluster.name)["nodegroups"])
        assert found == {"hub": ["t3.large"], "edge": ["t3.medium", "t3.small"]}, "the double holds the new spec"
        assert sandbox.replan("development").ok, "applying the saved plan left nothing to change"

        again = apply_plans(saved, workspace, scratch=tmp_path / "runs", init=False, out=out)
        (stale,) = again.roots
        assert stale.status == "stale" and "its state changed since the plan" in stale.reason, stale.reason
        assert [p.phase for p in stale.phases] == ["state"], "nothing was applied"
