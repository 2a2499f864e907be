"""The cells example through real terraform: an offline plan (link roots wait for their regions) and the
sandbox (every root applied in the graph's order, verified, re-planned clean, destroyed)."""

from __future__ import annotations

import pytest

from tfgen.cli import main
from tfgen.orchestrate import Offline, Orchestrator, read_graph
from tests.conftest import ROOT

slow = pytest.mark.slow
OUT = ROOT / "out" / "cells"


@slow
def test_an_offline_plan_plans_region_roots_and_lists_link_roots_as_waiting(tmp_path):
    graph = read_graph(OUT)
    report = Orchestrator(graph, command="plan", workspace=Offline(tmp_path), scratch=tmp_path,
                          parallelism=2).run(graph.select(None))
    results = {r.root: r for r in report.roots}
    for link in ("staging--us-east-1--us-east-2", "staging--us-east-1--us-west-2"):
        assert results[link].status == "waiting", results[link].as_dict()
        assert "staging--us-east-1" in results[link].reason, results[link].reason
    for region in ("staging--us-east-1", "staging--us-east-2", "staging--us-west-2"):
        assert results[region].status == "ok" and results[region].counts.add > 0, results[region].as_dict()
    assert report.ok and report.exit_code == 0


@slow
def test_the_cells_example_passes_the_sandbox(tmp_path, capsys):
    assert main(["sandbox", str(ROOT / "examples" / "cells.yaml"), "--workdir", str(tmp_path / "sbx")]) == 0
    assert "staging: passed" in capsys.readouterr().out
