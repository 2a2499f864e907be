"""Reachability semantics, strict overlaps, quotas, stable allocation end to end,
and the `validate` / `graph` commands."""

from __future__ import annotations

import json
import shutil

import pytest

import tfgen
import tfgen.model.regions
from tfgen.cli import main
from tfgen.checks.topology import Reachability, build_graph, check_topology
from tests.conftest import ROOT, write_spec


def _env(mode="hub-and-spoke", regions=("us-east-2", "us-west-2", "eu-west-1")):
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", connectivity=mode)
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    for i, region in enumerate(regions, start=1):
        env.add_region(region, cidr=f"10.{10 + i}.0.0/16")
    return fleet, env


def test_peering_is_not_transitive():
    _, env = _env()
    reach = Reachability(build_graph(env))
    assert reach("dev/us-east-1/hub", "dev/us-east-2/edge")
    assert reach("dev/us-east-2/edge", "dev/us-east-1/hub")
    assert not reach("dev/us-east-2/edge", "dev/us-west-2/edge"), "edge -> hub -> edge must not count"


def test_explicit_link_gives_edges_a_direct_path():
    _, env = _env()
    env.add_link("us-east-2/edge", "us-west-2")
    reach = Reachability(build_graph(env))
    assert reach("dev/us-east-2/edge", "dev/us-west-2/edge")
    assert not reach("dev/us-east-2/edge", "dev/eu-west-1/edge")


def test_transit_gateways_are_transitive_across_regions():
    _, env = _env("transit-gateway")
    graph = build_graph(env)
    reach = Reachability(graph)
    vpcs = [n for n, d in graph.nodes(data=True) if d["kind"] == "vpc"]
    assert all(reach(a, b) for a in vpcs for b in vpcs)
    assert sum(d["kind"] == "tgw" for _, d in graph.nodes(data=True)) == 4


def test_unconnected_overlap_is_a_warning_and_an_error_when_strict():
    fleet, env = _env()
    env.region("us-west-2").cluster("edge").network.cidr = "10.11.0.0/16"  # same as us-east-2's
    env.hub.role = "edge"  # without a hub nothing is peered: the two VPCs share no peer
    lenient = [f for f in check_topology(fleet) if f.code == "NET212"]
    strict = [f for f in check_topology(fleet, strict=True) if f.code == "NET212"]
    assert [f.severity.value for f in lenient] == ["warning"]
    assert [f.severity.value for f in strict] == ["error"]


def test_edges_that_share_the_hub_may_not_overlap():
    fleet, env = _env()
    env.region("us-west-2").cluster("edge").network.cidr = "10.11.0.0/16"  # same as us-east-2's
    env.region("eu-west-1").cluster("edge").network.cidr = "10.11.128.0/17"  # inside it
    found = sorted((" ".join(sorted(w.rstrip(",") for w in f.message.split() if w.startswith("dev/") and "edge" in w)),
                    f.code, f.severity.value, "two routes to one CIDR" in f.message)
                   for f in check_topology(fleet) if f.code in ("NET212", "NET213"))
    assert found == [
        ("dev/eu-west-1/edge dev/us-east-2/edge", "NET213", "error", False),
        ("dev/eu-west-1/edge dev/us-west-2/edge", "NET213", "error", False),
        ("dev/us-east-2/edge dev/us-west-2/edge", "NET213", "error", True),
    ], found


def _crowd(n: int, *, hub: bool = True):
    """n VPCs on one block: n(n-1)/2 overlapping pairs."""
    regions = sorted(tfgen.model.regions.REGIONS)
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012")
    env.add_hub("us-east-1", cidr="10.0.0.0/16")
    for i in range(1, n):
        env.add_cluster(regions[i % len(regions)], f"c{i}", cidr="10.0.0.0/16")
    if not hub:
        env.hub.role = "edge"  # nothing is peered: every overlap is between VPCs apart
    return fleet


def test_overlaps_are_classified_up_to_a_bound_and_the_rest_counted():
    from tfgen.checks.topology import OVERLAP_PAIRS
    n = 60
    findings = check_topology(_crowd(n))
    pairs = [f for f in findings if f.code in ("NET211", "NET212", "NET213")]
    (rest,) = [f for f in findings if f.code == "NET214"]
    assert len(pairs) == OVERLAP_PAIRS
    assert rest.message.startswith(f"{n * (n - 1) // 2 - OVERLAP_PAIRS} more pairs of overlapping VPCs in dev")
    assert rest.severity.value == "error" and "route to each other or share a peer" in rest.message
    assert rest.path.startswith("dev/") and rest.count == n * (n - 1) // 2 - OVERLAP_PAIRS


def test_uncounted_overlaps_apart_warn_unless_strict():
    lenient = [f for f in check_topology(_crowd(60, hub=False)) if f.code == "NET214"]
    strict = [f for f in check_topology(_crowd(60, hub=False), strict=True) if f.code == "NET214"]
    assert [f.severity.value for f in lenient] == ["warning"] and "none of them are connected" in lenient[0].message
    assert [f.severity.value for f in strict] == ["error"]


def test_validate_shows_at_most_20_findings_of_a_code_and_says_how_many_more():
    from tfgen.errors import FINDINGS_PER_CODE
    findings = tfgen.validate(_crowd(60))
    shown = [f for f in findings if f.code == "NET213"]
    assert len(shown) == FINDINGS_PER_CODE + 1, [f.message for f in shown]
    summary = shown[-1]
    assert summary.message.startswith(f"{summary.count} more NET213 error(s) not shown"), summary.message
    assert sum(f.count for f in shown) == len([f for f in check_topology(_crowd(60)) if f.code == "NET213"])


def test_peering_quota_default_warns_and_hard_limit_errors():
    regions = sorted(tfgen.model.regions.REGIONS)
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev")
    env.add_hub("us-east-1", cidr="10.0.0.0/16")
    count = 0
    for region in regions:
        for n in range(5):
            count += 1
            env.add_cluster(region, f"c{n}", cidr=f"10.{count}.0.0/16")
    codes = {f.code: f for f in check_topology(fleet)}
    assert count + 1 > 125
    assert "NET231" in codes and "125" in codes["NET231"].message
    del fleet  # a fleet under the hard limit but over the default only warns
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev")
    env.add_hub("us-east-1", cidr="10.0.0.0/16")
    for i in range(60):
        env.add_cluster(regions[i % len(regions)], f"c{i}", cidr=f"10.{i + 1}.0.0/16")
    found = {f.code: f for f in check_topology(fleet)}
    assert "NET231" not in found and found["NET232"].severity.value == "warning"
    assert "NET234" in found, "61 routes per hub route table is over the default of 50"


def test_allocation_is_recorded_and_survives_reordering_and_insertion(tmp_path):
    spec = write_spec(tmp_path, """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    cidr_pool: 10.0.0.0/12
    hub: {region: us-east-1}
    regions:
      us-west-2: {}
      us-east-2: {}
""")
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    record = tmp_path / "fleet.allocations.yaml"
    first = record.read_text()
    assert "us-east-2/edge: 10.1.0.0/16" in first and "us-east-1/hub: 10.0.0.0/16" in first
    spec.write_text(spec.read_text().replace("""      us-west-2: {}
      us-east-2: {}
""", """      ap-south-1: {}
      us-east-2: {}
      eu-west-1: {}
      us-west-2: {}
"""))
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    second = tfgen.load(spec)
    from tfgen.pipeline import prepare

    cidrs = {f"{r.name}/{c.name}": c.network.cidr for r, c in prepare(second).fleet.environment("dev").clusters()}
    for line in first.splitlines():
        if ": 10." in line:
            name, cidr = line.strip().split(": ")
            assert cidrs[name] == cidr, f"{name} moved"
    assert main(["build", str(spec), "--out", str(tmp_path / "out"), "--check"]) == 0
    record.write_text(first)  # an out-of-date record is stale output
    assert main(["build", str(spec), "--out", str(tmp_path / "out"), "--check"]) == 1


def test_validate_json_groups_findings_by_environment(tmp_path, capsys):
    spec = ROOT / "tests" / "bad_specs" / "edge-to-edge-reach-without-path.yaml"
    copy = tmp_path / spec.name
    shutil.copyfile(spec, copy)
    assert main(["validate", str(copy), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["errors"] == 1
    (finding,) = [f for f in report["environments"]["dev"] if f["severity"] == "error"]
    assert finding["code"] == "NET225" and finding["line"] == 12 and finding["file"] == str(copy)


def test_validate_json_keeps_environments_when_the_spec_has_shape_errors(tmp_path, capsys):
    spec = write_spec(tmp_path, """
project: demo
environments:
  dev:
    account_id: "123456789012"
    hub: {region: us-east-1, cidr: 10.10.0.0/16, bogus: 1}
    regions:
      us-east-2: {cidr: 10.11.0.0/33}
""")
    assert main(["validate", str(spec), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    codes = sorted(f["code"] for f in report["environments"]["dev"])
    assert codes == ["SPEC011", "VAL163"], report
    assert report["fleet"] == [] and report["errors"] == 2


def test_validate_passes_on_every_example(capsys):
    for spec in ("multi-region-eks.yaml", "mesh.yaml", "transit-gateway.yaml"):
        assert main(["validate", str(ROOT / "examples" / spec)]) == 0, capsys.readouterr().out


def test_graph_mermaid_and_dot_show_nodes_cidrs_and_links(capsys):
    assert main(["graph", str(ROOT / "examples" / "transit-gateway.yaml"), "--format", "mermaid"]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart LR")
    assert "10.66.0.0/16" in mermaid and '{{"TGW eu-west-1"}}' in mermaid
    assert mermaid.count("|TGW peering|") == 3 and mermaid.count("|attachment|") == 4
    assert main(["graph", str(ROOT / "examples" / "multi-region-eks.yaml"), "--env", "production",
                 "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("graph tfgen {") and dot.count('[label="peering"') == 3
    assert "development" not in dot


def test_graph_svg_without_graphviz_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["graph", str(ROOT / "examples" / "mesh.yaml"), "--format", "svg"]) == 2
    assert "apt-get install graphviz" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graph_svg_with_graphviz(capsys):
    assert main(["graph", str(ROOT / "examples" / "mesh.yaml"), "--format", "svg"]) == 0
    assert "<svg" in capsys.readouterr().out
