"""The graph of roots: computed from the emitted documents, recorded in the manifest, checked when read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.emit import emit_documents, root_graph
from tfgen.orchestrate import read_graph
from tfgen.write import MANIFEST

ROOT = Path(__file__).resolve().parent.parent


def test_environments_need_the_state_root_that_creates_their_bucket(example_fleet):
    assert root_graph(emit_documents(example_fleet)) == {
        "_state": [], "development": ["_state"], "production": ["_state"]}


def test_a_root_whose_backend_is_elsewhere_needs_nothing(example_fleet):
    documents = emit_documents(example_fleet)
    backend = documents["development"]["terraform.tf.json"]["terraform"]["backend"]["s3"]
    backend["bucket"] = "someone-elses-bucket"
    assert root_graph(documents)["development"] == []


def test_the_lock_table_is_an_edge_too(example_fleet):
    documents = emit_documents(example_fleet)
    documents["_state"]["state.tf.json"]["resource"]["aws_s3_bucket"]["state"]["bucket"] = "moved"
    assert root_graph(documents)["development"] == [], "the bucket moved and there is no lock table"
    documents["_state"]["state.tf.json"]["resource"]["aws_dynamodb_table"] = {"locks": {"name": "locks"}}
    documents["development"]["terraform.tf.json"]["terraform"]["backend"]["s3"]["dynamodb_table"] = "locks"
    assert root_graph(documents)["development"] == ["_state"]


def test_build_records_the_graph_and_orders_by_it(tmp_path, example_fleet):
    tfgen.build(example_fleet, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["roots"] == {"_state": [], "development": ["_state"], "production": ["_state"]}
    graph = read_graph(tmp_path / "out")
    assert graph.select(None) == ["_state", "development", "production"]
    assert graph.select(None, destroy=True) == ["production", "development"]
    assert graph.select(["_state"], destroy=True) == ["production", "development", "_state"]


@pytest.mark.parametrize("roots, problem", [
    ({"_state": ["development"], "development": ["_state"], "production": ["_state"]}, "`roots` has a cycle"),
    ({"_state": [], "development": ["elsewhere"], "production": []}, "`roots.development` is not a list of roots"),
    ({"_state": [], "../x": []}, "`roots` names '../x', which is not a root of its `files`"),
    ({"_state": ["_state"]}, "`roots._state` names '_state' itself"),
    (["_state"], "`roots` is list, not a map"),
])
def test_a_tampered_graph_stops_the_build_and_the_orchestrator(tmp_path, capsys, roots, problem):
    out = tmp_path / "out"
    shutil.copytree(ROOT / "out", out, ignore=shutil.ignore_patterns("mesh", "transit-gateway"))
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["roots"] = roots
    (out / MANIFEST).write_text(json.dumps(manifest))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["build", str(ROOT / "examples" / "multi-region-eks.yaml"), "--out", str(out)]) == 2
    assert problem in capsys.readouterr().err
    assert main(["plan", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not a manifest tfgen wrote" in err and problem in err, err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before, "something was touched"
