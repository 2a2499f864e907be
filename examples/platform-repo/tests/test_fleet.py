"""What production must look like: its plan against the inventory, and the network in the fleet's words."""

import pytest

from tfgen.testing import assert_inventory, assert_private, assert_reachable, assert_registered

from conftest import INVENTORIES

EDGES = ("us-west-2/edge", "eu-west-1/edge")


def test_the_production_plan_holds_what_the_inventory_pins(out, tfgen_plan):
    assert_inventory(tfgen_plan(out / "production"), INVENTORIES / "production.yaml")


@pytest.mark.parametrize("edge", EDGES)
def test_argo_cd_on_the_hub_reaches_each_edge_api_on_443(out, edge):
    assert_reachable(out, "production/us-east-1/hub", f"production/{edge}", port=443)


def test_the_planned_network_is_the_built_one(out, tfgen_plan):
    plan = tfgen_plan(out / "production")
    assert_reachable(plan, "production/us-east-1/hub", "production/eu-west-1/edge", port=443)


def test_edges_are_isolated_from_each_other(out):
    with pytest.raises(AssertionError, match="has no route"):
        assert_reachable(out, "production/us-west-2/edge", "production/eu-west-1/edge")


def test_the_hub_api_is_closed_to_the_edges(out):
    with pytest.raises(AssertionError, match="admits TCP 443"):
        assert_reachable(out, "production/us-west-2/edge", "production/us-east-1/hub", port=443)


def test_every_edge_is_registered_with_argo_cd(out):
    assert_registered(out, "production")


def test_no_public_endpoint_and_no_admin_port_open_to_the_internet(out):
    assert_private(out)
