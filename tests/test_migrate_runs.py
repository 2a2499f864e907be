"""A layout switch on the AWS double, both ways: a hub and two edges applied in one layout through the
sandbox, rebuilt in the other (`--allow-layout-change`), migrated (`run_migration` with the sandbox's
workspace: its copies, the double, the toolchain's terraform), then every new root planned: no resource
changes, and the old roots' state holds nothing. One apply per direction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tfgen
from tfgen.migrate.run import run_migration
from tfgen.orchestrate import Counts, Orchestrator, Phase, read_graph
from tfgen.sandbox import Sandbox
from tfgen.sandbox.prepare import in_accounts
from tests.conftest import processes_using, write_spec
from tests.test_migrate import ENV, SPEC

slow = pytest.mark.slow


def _switch(tmp_path: Path, before: str, after: str) -> None:
    old = write_spec(tmp_path, SPEC.format(layout=before), "old.yaml")
    workdir = tmp_path / "sandbox"
    with Sandbox(tfgen.load(old), spec=str(old), workdir=workdir) as sandbox:
        for phase in (sandbox.init, sandbox.apply):
            result = phase(ENV)
            assert result.ok, [result.phase, result.reason, result.details]
        sources = sandbox.roots_of(ENV)
        out = workdir / "out"
        new = in_accounts(tfgen.load(write_spec(tmp_path, SPEC.format(layout=after), "new.yaml")), sandbox.accounts)
        tfgen.build(new, out, allow_layout_change=True)

        result = run_migration(new, ENV, out, work=tmp_path / "work", workspace=sandbox.workspace,
                               states_of=lambda root: {"backend": {"local": {
                                   "path": str(sandbox.root(root) / "terraform.tfstate")}}})

        graph = read_graph(out)
        targets = graph.order([r for r in graph.roots if r == ENV or r.startswith(ENV + "--")])
        assert sorted(result.moved) == sorted(targets) and result.emptied == sorted(sources)
        applied = 0
        for root in sources:
            state = json.loads(sandbox.root(root).joinpath("terraform.tfstate").read_text())
            assert (state["resources"], state["outputs"]) == ([], {}), root
            backup = json.loads((tmp_path / "work" / "backup" / f"{root}.tfstate").read_text())
            applied += sum(1 for entry in backup["resources"] if entry["mode"] == "managed")
        assert sum(len(addresses) for addresses in result.moved.values()) == applied > 100
        report = Orchestrator(graph, command="plan", workspace=sandbox.workspace, scratch=tmp_path / "plans",
                              phases={root: [Phase("plan", ("plan",))] for root in targets}).run(targets)
        planned = {r.root: (r.status, r.counts, r.reason, r.errors, r.plan) for r in report.roots}
        for root in targets:
            assert planned[root][:2] == ("ok", Counts(0, 0, 0)), (root, planned[root])
    assert processes_using(workdir) == []


@slow
def test_an_environment_root_moves_into_cells_and_every_cell_plans_no_change(tmp_path):
    _switch(tmp_path, "environment", "cells")


@slow
def test_cells_move_into_an_environment_root_that_plans_no_change(tmp_path):
    _switch(tmp_path, "cells", "environment")
