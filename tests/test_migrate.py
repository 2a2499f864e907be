"""A layout switch's migration, offline: the plan of moves, and `tfgen migrate --run` with a stand-in for
terraform that keeps each root's state in the local file its backend names (as `terraform state pull|push`
does), so the refusals and the order of writes are proven without AWS: a stale build, a missing address and a
target that fails to write each leave every state as it was; a good run writes every new root before it
empties any old one, and a run that stopped picks up where it stopped. tests/test_migrate_runs.py moves
applied fleets on the AWS double both ways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.migrate import plan_migration
from tfgen.migrate.run import MigrationError, run_migration
from tfgen.orchestrate import InPlace
from tfgen.pipeline import prepare
from tfgen.terraform.roots import documents_root
from tests.conftest import ROOT, write_spec
from tests.stub_launcher import launcher

CELLS = ROOT / "examples" / "cells.yaml"
ENV = "development"

# A hub and two edges (two links in the cells layout), state in local files beside each root.
SPEC = """\
project: mig
layout: {layout}
environments:
  development:
    account_id: "111111111111"
    access: {{admins: ["arn:aws:iam::111111111111:role/platform-admin"]}}
    bastion: {{enabled: false}}
    gitops: {{bootstrap: false}}
    defaults:
      kubernetes_version: "1.35"
      az_count: 2
      node_groups: {{workers: {{instance_types: [t3.medium], min: 1, max: 1, desired: 1}}}}
    hub: {{region: us-east-1, cidr: 10.10.0.0/16}}
    regions:
      us-east-2: {{cidr: 10.11.0.0/16}}
      us-west-2: {{cidr: 10.12.0.0/16}}
"""

# terraform as far as a migration uses it: `state pull` prints the file the backend names, `state push`
# writes it with terraform's own refusals (another lineage, an equal or lower serial), `init` and
# `apply -refresh-only` change nothing. `<root>.<command>.fail` in $STUB_DIR makes that command fail. Run by a
# launcher that defines dumps, load and dump first (tests/stub_json.py).
STUB = r'''
import os, sys
stub, root, args = os.environ["STUB_DIR"], os.path.basename(os.getcwd()), sys.argv[1:]
command = "-".join(a for a in args[:2] if not a.startswith("-"))
with open(os.path.join(stub, "log.jsonl"), "a") as log:
    log.write(dumps({"root": root, "command": command, "args": args, "cwd": os.getcwd()}) + "\n")
def fail(message):
    print("\u2577\n\u2502 Error: " + message + "\n\u2575")
    sys.exit(1)
if os.path.exists(os.path.join(stub, f"{root}.{command}.fail")):
    fail(f"{root} {command} failed on purpose")
def path():
    backend = load("terraform.tf.json")["terraform"]["backend"]["local"]
    return backend["path"]
if command == "state-pull":
    if os.path.exists(path()):
        sys.stdout.write(open(path()).read())
elif command == "state-push":
    new = load(args[-1])
    if os.path.exists(path()):
        old = load(path())
        if old["lineage"] != new["lineage"]:
            fail(f"cannot import state with lineage {new['lineage']} over unrelated state with lineage {old['lineage']}")
        if new["serial"] <= old["serial"] and new != old:
            fail(f"cannot overwrite existing state with serial {old['serial']} with serial {new['serial']}")
    dump(new, path())
'''


@pytest.fixture
def terraform(tmp_path, monkeypatch) -> Path:
    """The stand-in, with $STUB_DIR where it logs each command."""
    stub = tmp_path / "stub"
    stub.mkdir()
    script = stub / "terraform"
    script.write_bytes(launcher(stub / "terraform.code", (STUB, "<migrate's stub terraform>")))
    script.chmod(0o755)
    monkeypatch.setenv("STUB_DIR", str(stub))
    return script


def _calls(terraform: Path) -> list[dict]:
    log = terraform.parent / "log.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _declared(documents: dict[str, dict]) -> list[str]:
    """The managed resources a root's documents declare (read through the index)."""
    return sorted(a for a, block in documents_root(documents).resources.items() if block.kind == "resource")


def _entry(address: str) -> dict:
    type_, name = address.split(".")
    return {"mode": "managed", "type": type_, "name": name,
            "provider": 'provider["registry.terraform.io/hashicorp/aws"].us_east_1',
            "instances": [{"schema_version": 0, "attributes": {"id": f"{name}-id"}, "sensitive_attributes": []}]}


def _applied(out: Path, fleet: tfgen.Fleet, *, leave_out: str | None = None) -> dict[str, bytes]:
    """Local states in `out` holding every resource of the environment's roots in `fleet`'s layout, as an
    apply leaves them (`leave_out`: one address missing); their bytes by root."""
    written = {}
    for root, documents in prepare(fleet).documents.items():
        addresses = _declared(documents)
        state = {"version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": f"lineage-{root}",
                 "outputs": {"vpc": {"value": "vpc-1", "type": "string"}},
                 "resources": [_entry(a) for a in addresses if a != leave_out]}
        (out / root).mkdir(parents=True, exist_ok=True)
        written[root] = json.dumps(state).encode()
        (out / root / "terraform.tfstate").write_bytes(written[root])
    return written


def _switched(tmp_path: Path, before: str, after: str, **applied) -> tuple[tfgen.Fleet, Path, dict[str, bytes]]:
    """An environment built and applied in `before`, then built in `after` (`--allow-layout-change`)."""
    out = tmp_path / "out"
    old = tfgen.load(write_spec(tmp_path, SPEC.format(layout=before), "old.yaml"))
    tfgen.build(old, out)
    states = _applied(out, old, **applied)
    new = tfgen.load(write_spec(tmp_path, SPEC.format(layout=after), "new.yaml"))
    tfgen.build(new, out, allow_layout_change=True)
    return new, out, states


def _held(out: Path, root: str) -> list[str]:
    state = json.loads((out / root / "terraform.tfstate").read_text())
    return sorted(f"{r['type']}.{r['name']}" for r in state["resources"])


# -- the plan of moves -------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["cells", "environment"])
def test_the_plan_moves_every_resource_to_the_root_that_now_declares_it(layout):
    fleet = tfgen.load(CELLS)
    fleet.environment("staging").layout = layout
    prepared = prepare(fleet)
    plan = plan_migration(prepared.fleet, prepared.fleet.environment("staging"))
    owners = {address: root for root, docs in prepared.documents.items() if root.startswith("staging")
              for address in _declared(docs)}
    moved = {address: target for (_, target), addresses in plan.moves().items() for address in addresses}
    assert moved == owners
    assert (plan.before, plan.after) == (("environment", "cells") if layout == "cells" else ("cells", "environment"))
    text = plan.format(spec="examples/cells.yaml", out="out/cells")
    assert f"moves {len(owners)} resources" in text
    assert "s3://cells-fleet-tfstate/cells-fleet/staging/us-east-2/terraform.tfstate" in text
    assert "--run" in text


def test_the_cli_prints_the_plan_and_writes_nothing(tmp_path, capsys, monkeypatch):
    new, out, states = _switched(tmp_path, "environment", "cells")
    monkeypatch.chdir(tmp_path)
    assert main(["migrate", str(tmp_path / "new.yaml"), "--env", ENV, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"  {ENV} -> {ENV}--us-east-1--us-west-2 (" in printed
    assert f"{out}/{ENV}/terraform.tfstate" in printed
    assert (out / ENV / "terraform.tfstate").read_bytes() == states[ENV]
    assert not any(p.name.startswith("tfgen-migrate-") for p in tmp_path.iterdir())


# -- refusals: every state as it was -------------------------------------------------------------


def test_a_stale_build_is_refused_before_terraform_runs(tmp_path, terraform, capsys):
    out = tmp_path / "out"
    old = tfgen.load(write_spec(tmp_path, SPEC.format(layout="environment"), "old.yaml"))
    tfgen.build(old, out)
    states = _applied(out, old)
    spec = write_spec(tmp_path, SPEC.format(layout="cells"), "new.yaml")  # switched, not built
    with pytest.raises(MigrationError) as refused:
        run_migration(tfgen.load(spec), ENV, out, work=tmp_path / "work", workspace=InPlace(terraform=str(terraform)))
    assert "--allow-layout-change" in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert _calls(terraform) == []
    assert (out / ENV / "terraform.tfstate").read_bytes() == states[ENV]
    assert main(["migrate", str(spec), "--env", ENV, "--out", str(out), "--run", "--work", str(tmp_path / "w")]) == 1
    assert "is not what" in capsys.readouterr().err


def test_a_resource_missing_from_the_old_state_is_refused_and_nothing_is_written(tmp_path, terraform):
    missing = "aws_vpc_peering_connection.us_east_1_hub__us_west_2_edge"
    new, out, states = _switched(tmp_path, "environment", "cells", leave_out=missing)
    with pytest.raises(MigrationError) as refused:
        run_migration(new, ENV, out, work=tmp_path / "work", workspace=InPlace(terraform=str(terraform)))
    assert missing in str(refused.value) and "Nothing was written" in str(refused.value)
    assert [c for c in _calls(terraform) if c["command"] == "state-push"] == []
    assert (out / ENV / "terraform.tfstate").read_bytes() == states[ENV]
    assert sorted(p.parent.name for p in out.glob("*/terraform.tfstate")) == [ENV]


def test_a_target_that_fails_to_write_leaves_the_sources_untouched_and_a_new_run_finishes(tmp_path, terraform):
    new, out, states = _switched(tmp_path, "environment", "cells")
    link = f"{ENV}--us-east-1--us-west-2"
    (terraform.parent / f"{link}.state-push.fail").write_text("")
    work = tmp_path / "work"
    with pytest.raises(MigrationError) as stopped:
        run_migration(new, ENV, out, work=work, workspace=InPlace(terraform=str(terraform)))
    assert f"{link} state-push failed on purpose" in str(stopped.value) and "untouched" in str(stopped.value)
    assert (out / ENV / "terraform.tfstate").read_bytes() == states[ENV]
    assert (work / "backup" / f"{ENV}.tfstate").read_text() == json.dumps(json.loads(states[ENV]), indent=2) + "\n"
    assert [c["command"] for c in _calls(terraform) if c["command"] in ("apply", "state-push")
            and c["root"] == ENV] == []

    (terraform.parent / f"{link}.state-push.fail").unlink()
    result = run_migration(new, ENV, out, work=work, workspace=InPlace(terraform=str(terraform)))
    assert _held(out, ENV) == [] and json.loads((out / ENV / "terraform.tfstate").read_text())["outputs"] == {}
    assert result.emptied == [ENV] and sum(len(a) for a in result.kept.values()) > 0
    for root, docs in prepare(new).documents.items():
        addresses = _declared(docs)
        assert _held(out, root) == addresses, root
    # the backups are the states before the first run, not the second run's
    assert json.loads((work / "backup" / f"{ENV}.tfstate").read_text()) == json.loads(states[ENV])


@pytest.mark.parametrize("before, after", [("environment", "cells"), ("cells", "environment")])
def test_every_new_root_is_written_and_read_back_before_any_old_root_is_emptied(tmp_path, terraform, before, after):
    new, out, states = _switched(tmp_path, before, after)
    result = run_migration(new, ENV, out, work=tmp_path / "work", workspace=InPlace(terraform=str(terraform)))
    plan = plan_migration(prepare(new).fleet, new.environment(ENV))
    calls = [(c["root"], c["command"]) for c in _calls(terraform)]
    pushes = [root for root, command in calls if command == "state-push"]
    assert pushes == [*[r for r in result.moved if result.moved[r]], *sorted(plan.sources)]
    first_emptied = calls.index((sorted(plan.sources)[0], "state-push"))
    assert all(calls.index((root, "apply")) < first_emptied for root in plan.targets)
    for root in plan.sources:
        assert _held(out, root) == [], root
        assert json.loads((tmp_path / "work" / "backup" / f"{root}.tfstate").read_text()) == json.loads(states[root])
    for root, documents in plan.targets.items():
        assert _held(out, root) == _declared(documents), root
    if after == "cells":  # the links' outputs are written after their regions' (they read them)
        applies = [root for root, command in calls if command == "apply"]
        assert applies.index(f"{ENV}--us-east-1--us-east-2") > applies.index(f"{ENV}--us-east-2")


def test_a_run_after_the_migration_finds_nothing_to_move(tmp_path, terraform, capsys):
    new, out, _ = _switched(tmp_path, "environment", "cells")
    run_migration(new, ENV, out, work=tmp_path / "work", workspace=InPlace(terraform=str(terraform)))
    pushes = len([c for c in _calls(terraform) if c["command"] == "state-push"])
    again = run_migration(new, ENV, out, work=tmp_path / "work", workspace=InPlace(terraform=str(terraform)))
    assert len([c for c in _calls(terraform) if c["command"] == "state-push"]) == pushes
    assert again.emptied == [] and "nothing to move" in again.format()


def test_ctrl_c_while_the_new_roots_are_written_leaves_the_old_state_and_says_so(tmp_path, terraform):
    new, out, states = _switched(tmp_path, "environment", "cells")
    said: list[str] = []

    def progress(line: str) -> None:
        said.append(line)
        if line.startswith(f"{ENV}--us-west-2: writing") and "outputs" not in line:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_migration(new, ENV, out, work=tmp_path / "work", workspace=InPlace(terraform=str(terraform)),
                      progress=progress)
    assert said[-1].startswith("interrupted. The old roots' state still holds every resource")
    assert (out / ENV / "terraform.tfstate").read_bytes() == states[ENV]
