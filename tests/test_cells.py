"""The cells layout: the split into region and link roots, its cross-root values, graph, checks and refusals."""

from __future__ import annotations

import copy
import json

import pytest

import tfgen
import tfgen.pipeline
from tfgen.checks.gitops_output import check_emitted_gitops
from tfgen.emit import emit_documents, environment_roots, root_graph
from tfgen.emit.cells import EXPORTS_FILE, REMOTE_STATE_FILE, join_environment
from tfgen.errors import FindingsError
from tfgen.model.regions import REGIONS
from tfgen.orchestrate import Offline
from tests.conftest import ROOT

CELLS = ROOT / "examples" / "cells.yaml"
ENV = "staging"


def _roots() -> dict[str, dict[str, dict]]:
    return tfgen.pipeline.prepare(tfgen.load(CELLS)).documents


def _providers(documents: dict[str, dict]) -> list[str]:
    return [p["region"] for d in documents.values() for p in (d.get("provider") or {}).get("aws", [])]


def _resources(documents: dict[str, dict]) -> dict[str, dict]:
    return {f"{t}.{n}": b for d in documents.values() for t, items in (d.get("resource") or {}).items()
            for n, b in items.items()}


def test_an_environment_becomes_a_root_per_region_and_per_link():
    roots = _roots()
    # staging--fan-in: the GitOps bootstrap, which reads every edge's endpoint and CA (more than two regions)
    assert sorted(roots) == ["_state", "staging--fan-in", "staging--us-east-1", "staging--us-east-1--us-east-2",
                             "staging--us-east-1--us-west-2", "staging--us-east-2", "staging--us-west-2"]
    fan_in = roots["staging--fan-in"]
    assert {a.split(".")[0] for a in _resources(fan_in)} == {"aws_ssm_document", "aws_ssm_association"}
    assert _providers(fan_in) == ["us-east-1"]
    link = roots["staging--us-east-1--us-east-2"]
    types = {address.split(".")[0] for address in _resources(link)}
    assert types == {"aws_vpc_peering_connection", "aws_vpc_peering_connection_accepter", "aws_route"}, types
    assert sorted(_providers(link)) == ["us-east-1", "us-east-2"]
    edge = roots["staging--us-east-2"]
    assert _providers(edge) == ["us-east-2"]
    assert "aws_eks_cluster.us_east_2_edge" in _resources(edge)
    assert "aws_instance.us_east_1_hub_bastion" in _resources(roots["staging--us-east-1"])  # the hub's bastion
    assert not any(a.startswith("aws_instance.") for a in _resources(edge))


def test_region_roots_read_no_state_and_link_roots_read_what_their_regions_export():
    roots = _roots()
    for name in ("staging--us-east-1", "staging--us-east-2", "staging--us-west-2"):
        assert REMOTE_STATE_FILE not in roots[name], name
        assert "terraform_remote_state" not in json.dumps(roots[name]), name
    link = roots["staging--us-east-1--us-east-2"]
    reads = link[REMOTE_STATE_FILE]["data"]["terraform_remote_state"]
    assert sorted(reads) == ["staging--us-east-1", "staging--us-east-2"]
    assert reads["staging--us-east-2"]["config"]["key"] == "cells-fleet/staging/us-east-2/terraform.tfstate"
    route = _resources(link)["aws_route.us_east_2_edge_private_a__to__us_east_1_hub"]
    name = "aws_route_table__us_east_2_edge_private_a__id"
    assert route["route_table_id"] == f"${{data.terraform_remote_state.staging--us-east-2.outputs.{name}}}"
    exported = roots["staging--us-east-2"][EXPORTS_FILE]["output"][name]["value"]
    assert exported == "${aws_route_table.us_east_2_edge_private_a.id}"
    backend = roots["staging--us-east-1--us-east-2"]["terraform.tf.json"]["terraform"]["backend"]["s3"]
    assert backend["key"] == "cells-fleet/staging/us-east-1--us-east-2/terraform.tfstate"


def test_role_arns_cross_roots_as_literals_naming_the_role():
    roots = _roots()
    hub = _resources(roots["staging--us-east-1"])
    management = hub["aws_iam_role.us_east_1_hub_argocd"]["name"]
    deployer = _resources(roots["staging--us-east-2"])["aws_iam_role.us_east_2_edge_deployer"]
    trust = json.loads(deployer["assume_role_policy"])
    assert trust["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::333333333333:role/{management}"
    policy = json.loads(hub["aws_iam_role_policy.us_east_1_hub_argocd"]["policy"])
    assert f"arn:aws:iam::333333333333:role/{deployer['name']}" in policy["Statement"][0]["Resource"]


def test_the_graph_applies_state_then_the_hub_region_then_edges_then_links():
    graph = root_graph(_roots())
    assert graph["staging--us-east-1"] == ["_state"]
    assert graph["staging--us-east-2"] == ["_state", "staging--us-east-1"]  # its deployer trusts the hub's role
    assert graph["staging--us-east-1--us-east-2"] == ["_state", "staging--us-east-1", "staging--us-east-2"]


def test_a_trust_that_names_no_role_of_another_root_makes_no_edge():
    roots = copy.deepcopy(_roots())
    role = roots["staging--us-east-2"]["access.tf.json"]["resource"]["aws_iam_role"]["us_east_2_edge_deployer"]
    role["assume_role_policy"] = role["assume_role_policy"].replace("us-east-1-hub-argocd", "someone-else")
    assert "staging--us-east-1" not in root_graph(roots)["staging--us-east-2"]


def test_the_gitops_path_holds_over_the_joined_roots_and_breaks_when_an_export_is_missing():
    fleet = tfgen.pipeline.prepare(tfgen.load(CELLS)).fleet
    roots = _roots()
    assert check_emitted_gitops(fleet, environment_roots(fleet, roots)) == []
    broken = copy.deepcopy(roots)
    del broken["staging--us-east-2"][EXPORTS_FILE]["output"]["aws_route_table__us_east_2_edge_private_a__id"]
    codes = {f.code for f in check_emitted_gitops(fleet, environment_roots(fleet, broken))}
    assert "NET302" in codes, codes
    # and a deployer trust naming another role breaks NET305 on the joined environment
    broken = copy.deepcopy(roots)
    role = broken["staging--us-east-2"]["access.tf.json"]["resource"]["aws_iam_role"]["us_east_2_edge_deployer"]
    role["assume_role_policy"] = role["assume_role_policy"].replace("us-east-1-hub-argocd", "someone-else")
    assert "NET305" in {f.code for f in check_emitted_gitops(fleet, environment_roots(fleet, broken))}


def test_join_resolves_reads_to_the_exported_expression():
    roots = {r: d for r, d in _roots().items() if r.startswith(ENV + "--")}
    joined = join_environment(roots)
    route = joined.documents["staging--us-east-1--us-east-2/peering.tf.json"]["resource"]["aws_route"][
        "us_east_2_edge_private_a__to__us_east_1_hub"]
    assert route["route_table_id"] == "${aws_route_table.us_east_2_edge_private_a.id}"


def _wide_fleet(layout: str, count: int) -> tfgen.Fleet:
    fleet = tfgen.Fleet(project="wide", layout=layout)
    env = fleet.add_environment("scale", account_id="111111111111")
    regions = sorted(REGIONS)[:count]
    env.add_hub(regions[0], cidr="10.0.0.0/16")
    for i, region in enumerate(regions[1:], start=1):
        env.add_region(region, cidr=f"10.{i}.0.0/16")
    return fleet


def test_33_regions_in_cells_layout_keep_every_root_at_two_providers_at_most():
    roots = tfgen.pipeline.prepare(_wide_fleet("cells", 33)).documents
    assert len(roots) == 33 + 32 + 1, len(roots)  # regions, links, the bootstrap's fan-in; local state: no _state
    assert max(len(_providers(d)) for d in roots.values()) == 2
    reads = roots["scale--af-south-1--ap-east-1"][REMOTE_STATE_FILE]["data"]["terraform_remote_state"]
    assert reads["scale--ap-east-1"] == {"backend": "local", "config": {"path": "../scale--ap-east-1/terraform.tfstate"}}
    assert len(_providers(emit_documents(_wide_fleet("environment", 33))["scale"])) == 33


def test_the_split_is_deterministic():
    first, second = tfgen.pipeline.emit_checked(tfgen.load(CELLS))[1], tfgen.pipeline.emit_checked(
        tfgen.load(CELLS))[1]
    assert first == second


def test_switching_layouts_is_refused_without_the_flag(tmp_path):
    fleet = tfgen.load(CELLS)
    tfgen.build(fleet, tmp_path)
    fleet.environment(ENV).layout = "environment"
    with pytest.raises(FindingsError) as refused:
        tfgen.build(fleet, tmp_path)
    assert [f.code for f in refused.value.findings] == ["VAL137"]
    assert (tmp_path / "staging--us-east-2" / "clusters.tf.json").is_file()  # nothing was written
    assert not (tmp_path / ENV).exists()
    tfgen.pipeline.build(fleet, tmp_path, allow_layout_change=True)
    assert (tmp_path / ENV / "clusters.tf.json").is_file()
    assert not (tmp_path / "staging--us-east-2" / "clusters.tf.json").exists()


def test_offline_workspace_reports_the_roots_whose_state_is_not_applied(tmp_path):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(CELLS), out)
    workspace = Offline.__new__(Offline)  # no toolchain needed to ask
    link = "staging--us-east-1--us-east-2"
    assert Offline.unapplied(workspace, link, out / link, tmp_path) == ["staging--us-east-1", "staging--us-east-2"]
    (tmp_path / "roots" / "staging--us-east-1").mkdir(parents=True)
    (tmp_path / "roots" / "staging--us-east-1" / "terraform.tfstate").write_text("{}")
    assert Offline.unapplied(workspace, link, out / link, tmp_path) == ["staging--us-east-2"]
    assert Offline.unapplied(workspace, "staging--us-east-2", out / "staging--us-east-2", tmp_path) == []


def _split_with(edit) -> dict[str, dict[str, dict]]:
    """The cells roots of the example's environment after `edit(documents)` on its one-root documents."""
    from tfgen.emit import emit_environment
    from tfgen.emit.cells import split_environment

    fleet = tfgen.pipeline.prepare(tfgen.load(CELLS)).fleet
    env = fleet.environment(ENV)
    documents = emit_environment(fleet, env)
    edit(documents)
    return split_environment(fleet, env, documents)


def _tag_hub_vpc(note: str):
    def edit(documents):
        vpc = documents["network.tf.json"]["resource"]["aws_vpc"]["us_east_1_hub"]
        vpc["tags"] = {**(vpc.get("tags") or {}), "Note": note}
    return edit


def test_an_escaped_interpolation_is_text_and_keeps_a_block_at_home():
    hub, link = f"{ENV}--us-east-1", f"{ENV}--us-east-1--us-east-2"
    escaped = _split_with(_tag_hub_vpc("$${aws_vpc.us_east_2_edge.id}"))
    assert "aws_vpc.us_east_1_hub" in _resources(escaped[hub])
    assert _resources(escaped[hub])["aws_vpc.us_east_1_hub"]["tags"]["Note"] == "$${aws_vpc.us_east_2_edge.id}"
    # the same text as a reference joins the hub's VPC to the edge's region: it lives in their link root
    referred = _split_with(_tag_hub_vpc("${aws_vpc.us_east_2_edge.id}"))
    assert "aws_vpc.us_east_1_hub" in _resources(referred[link])


def test_a_reference_inside_a_function_call_across_roots_becomes_a_read_of_the_exporting_root():
    link = f"{ENV}--us-east-1--us-east-2"

    def edit(documents):
        peering = documents["peering.tf.json"]["resource"]["aws_vpc_peering_connection"]["us_east_1_hub__us_east_2_edge"]
        peering["tags"] = {"Edge": "${upper(aws_vpc.us_east_2_edge.cidr_block)}"}

    roots = _split_with(edit)
    name = "aws_vpc__us_east_2_edge__cidr_block"
    peering = _resources(roots[link])["aws_vpc_peering_connection.us_east_1_hub__us_east_2_edge"]
    assert peering["tags"]["Edge"] == f"${{upper(data.terraform_remote_state.{ENV}--us-east-2.outputs.{name})}}"
    assert roots[f"{ENV}--us-east-2"][EXPORTS_FILE]["output"][name]["value"] == "${aws_vpc.us_east_2_edge.cidr_block}"


def test_the_graph_reads_a_trust_in_every_form_the_statement_normaliser_knows():
    roots = copy.deepcopy(_roots())
    role = roots[f"{ENV}--us-east-2"]["access.tf.json"]["resource"]["aws_iam_role"]["us_east_2_edge_deployer"]
    trust = json.loads(role["assume_role_policy"])
    trust["Statement"] = trust["Statement"][0]  # one statement as an object, not a list
    role["assume_role_policy"] = json.dumps(trust)
    assert f"{ENV}--us-east-1" in root_graph(roots)[f"{ENV}--us-east-2"]
    trust["Statement"]["Principal"] = "*"  # everyone: no role of another root named
    role["assume_role_policy"] = json.dumps(trust)
    assert f"{ENV}--us-east-1" not in root_graph(roots)[f"{ENV}--us-east-2"]
