"""ACME's policy (policies/acme_node_groups.py) and tfgen's pass on the fleet and fail on a broken copy of it."""

import pytest

from tfgen.testing import assert_fails, assert_passes, gate, mutate

from conftest import POLICIES

EDGE_WORKERS = "aws_eks_node_group.us_west_2_edge__workers"
HUB = "aws_eks_cluster.us_east_1_hub"


@pytest.fixture(scope="module")
def broken(out, tmp_path_factory):
    """A copy of the output with one node group down to one node and the hub's API public."""
    copy = mutate(out, "production", EDGE_WORKERS, {"scaling_config": {"min_size": 1}},
                  into=tmp_path_factory.mktemp("single-node"))
    return mutate(copy, "production", HUB, {"vpc_config": {"endpoint_public_access": True}},
                  into=tmp_path_factory.mktemp("public-hub"))


def test_the_fleet_passes_the_gate_with_acme_policies(out):
    report = gate(out, policies=[POLICIES])
    assert report.ok, [f"{r.check_id} {r.resource}" for r in report.of("failed")]


def test_acme_node_group_policy_passes_on_every_node_group(out):
    assert_passes(gate(out, policies=[POLICIES]), "CKV_ACME_1")


def test_acme_node_group_policy_fails_on_a_single_node_group(broken):
    report = gate(broken, policies=[POLICIES])
    assert_fails(report, "CKV_ACME_1", resource=EDGE_WORKERS)
    assert_passes(report, "CKV_ACME_1", resource="aws_eks_node_group.us_east_1_hub__workers")


def test_tfgens_endpoint_policy_fails_on_a_public_hub(broken):
    assert_fails(gate(broken, policies=[POLICIES]), "CKV_TFGEN_5", resource=HUB)
