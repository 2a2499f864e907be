"""Make-before-break where AWS allows it: node groups are named by a prefix and replaced create-first, their
desired size is the autoscaler's after creation, and transit-gateway routes wait for the path through the
gateways; provider 3.39 gets each node group under its full name (lowering says so), and a real plan of the
lowered root carries the versions and the ignored desired size."""

from __future__ import annotations

import json

import pytest

import tfgen
from tfgen.checks.aws_names import NAME_RULES, derived_names
from tfgen.derive import naming
from tfgen.providers.features import feature
from tfgen.terraform.lowering import lower
from tfgen.model.addons import table_version
from tests.conftest import EXAMPLE, ROOT

TRANSIT = ROOT / "examples" / "transit-gateway.yaml"


def _docs(root):
    return {p.name: json.loads(p.read_text()) for p in root.glob("*.tf.json")}


def _resources(docs, type_):
    return {name: body for d in docs.values() for name, body in d.get("resource", {}).get(type_, {}).items()}


def test_node_groups_are_named_by_a_prefix_and_replaced_create_first(example_out):
    groups = _resources(_docs(example_out / "production"), "aws_eks_node_group")
    assert sorted(groups) == ["eu_west_1_edge__workers", "us_east_1_hub__workers", "us_east_2_edge__workers",
                              "us_west_2_edge__workers"]
    for name, group in groups.items():
        assert group["node_group_name_prefix"] == "workers-" and "node_group_name" not in group, name
        assert group["lifecycle"] == {"create_before_destroy": True,
                                      "ignore_changes": ["scaling_config[0].desired_size"]}, name
        assert group["scaling_config"] == {"min_size": 2, "max_size": 6, "desired_size": 3}, \
            "desired is still set: the size at creation"


def test_the_prefix_leaves_room_for_terraforms_suffix():
    rule = NAME_RULES["eks_node_group_prefix"]
    assert rule.max_length == 63 - 26 == 37, "CreateNodegroup allows 63; Terraform appends 26 characters"
    kinds = {(d.kind, d.name) for d in derived_names(tfgen.load(EXAMPLE))}
    assert ("eks_node_group_prefix", "workers-") in kinds
    assert rule.problem("w" * 36 + "-") is None and "38 characters long" in rule.problem("w" * 37 + "-")


def test_transit_routes_wait_for_the_path_through_the_gateways(tmp_path):
    tfgen.build(tfgen.load(TRANSIT), tmp_path / "out")
    routes = _resources(_docs(tmp_path / "out" / "production"), "aws_route")
    across = routes["eu_west_1_edge_a_private_a__to__us_east_1_hub"]
    assert across["depends_on"] == [
        "aws_ec2_transit_gateway_vpc_attachment.eu_west_1_edge_a",
        "aws_ec2_transit_gateway_route_table_association.eu_west_1_edge_a",
        f"aws_ec2_transit_gateway_peering_attachment_accepter.{naming.transit_peering_name('eu-west-1', 'us-east-1')}",
        f"aws_ec2_transit_gateway_route.{naming.transit_route_name('eu-west-1', 'us_east_1_hub')}"]
    within = routes["eu_west_1_edge_a_private_a__to__eu_west_1_edge_b"]
    assert within["depends_on"] == ["aws_ec2_transit_gateway_vpc_attachment.eu_west_1_edge_a",
                                    "aws_ec2_transit_gateway_route_table_association.eu_west_1_edge_a",
                                    "aws_ec2_transit_gateway_route_table_propagation.eu_west_1_edge_b"]
    gateway = _resources(_docs(tmp_path / "out" / "production"), "aws_ec2_transit_gateway_route")
    accepter = naming.transit_peering_name("eu-west-1", "us-east-1")
    static = gateway[naming.transit_route_name("eu-west-1", "us_east_1_hub")]
    assert accepter in static["transit_gateway_attachment_id"], "the static route itself rides on the accepter"


def test_in_cells_a_route_to_another_region_lives_in_their_link_root(tmp_path):
    spec = tmp_path / "fleet.yaml"
    spec.write_text(TRANSIT.read_text().replace("environments:", "layout: cells\nenvironments:", 1))
    (tmp_path / "fleet.allocations.yaml").write_bytes(
        (ROOT / "examples" / "transit-gateway.allocations.yaml").read_bytes())
    tfgen.build(tfgen.load(spec), tmp_path / "out")
    link = _resources(_docs(tmp_path / "out" / "production--eu-west-1--us-east-1"), "aws_route")
    region = _resources(_docs(tmp_path / "out" / "production--eu-west-1"), "aws_route")
    assert "eu_west_1_edge_a_private_a__to__us_east_1_hub" in link
    assert "eu_west_1_edge_a_private_a__to__eu_west_1_edge_b" in region
    assert not [name for name in region if "__to__us_" in name], "no route to another region in a region root"


def test_the_prefix_is_a_provider_feature_lowering_rewrites(example_out):
    fact = feature("aws_eks_node_group.node_group_name_prefix")
    assert fact.since == "after 3.39.0, by 5.100.0"
    lowered = lower(_docs(example_out / "development"))
    group = _resources(lowered.documents, "aws_eks_node_group")["us_east_2_edge__workers"]
    assert group["node_group_name"] == "workers" and "node_group_name_prefix" not in group
    assert group["lifecycle"] == {"ignore_changes": ["scaling_config[0].desired_size"]}, \
        "a fixed name cannot be created before its old group is destroyed"
    (change,) = [c for c in lowered.changes if c.address == "aws_eks_node_group.us_east_2_edge__workers"
                 and c.action == "rewritten"]
    assert "create_before_destroy left out" in change.what and "5.100.0" in change.reason
    assert "aws_eks_node_group x3" in lowered.summary()


@pytest.mark.slow
def test_a_lowered_plan_carries_versions_and_the_ignored_desired_size(example_plans):
    """A real plan (provider 3.39) of the lowered development root: node groups at their cluster's version under
    their full names, the ignore_changes path accepted by Terraform, each add-on at the table's version."""
    plan = example_plans["development"]
    for group in plan.of_type("aws_eks_node_group"):
        assert group.values["version"] == "1.35" and group.values["node_group_name"] == "workers", group.address
        assert group.values["scaling_config"] == [{"desired_size": 1, "max_size": 3, "min_size": 1}], group.address
    for addon in plan.of_type("aws_eks_addon"):
        assert addon.values["addon_version"] == table_version(addon.values["addon_name"], "1.35"), addon.address
    lowered = {c.address for c in plan.lowered.changes if c.action == "rewritten"}
    assert "aws_eks_node_group.us_east_2_edge__workers" in lowered
