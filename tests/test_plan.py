"""Real `terraform plan` of the example's environments (offline toolchain).

These are the guarantees a user relies on when applying tfgen's output:
every resource in its cluster's region, peerings split across the right
regions, a route to the peer in every route table of both VPCs, private EKS.
"""

from __future__ import annotations

import pytest

import tfgen
from tfgen.derive import naming
from tfgen.derive.layout import layout_of
from tests.conftest import EXAMPLE

ENVS = ("development", "production")


def _clusters(env_name):
    env = tfgen.load(EXAMPLE).environment(env_name)
    return [(region.name, cluster) for region, cluster in env.clusters()]


@pytest.mark.parametrize("env", ENVS)
def test_plan_creates_every_resource(example_plans, example_out, env):
    plan = example_plans[env]
    addresses = set(plan.resources)
    assert addresses, f"{env}: the plan has no resources"
    assert set(plan.changes) == addresses, f"{env}: resources planned differ from those configured"
    assert all(actions == ["create"] for actions in plan.changes.values()), env


@pytest.mark.parametrize("env", ENVS)
def test_every_resource_sits_in_its_clusters_region(example_plans, env):
    plan = example_plans[env]
    keys = {naming.cluster_key(region, c.name): region for region, c in _clusters(env)}
    # Region-level resources (the EBS key and encryption by default) are named `<region alias>__<what>`.
    keys.update({naming.alias(region): region for region in set(keys.values())})
    for resource in plan.resources.values():
        if resource.type in ("aws_vpc_peering_connection", "aws_vpc_peering_connection_accepter"):
            continue  # checked by the peering test: they sit on the requester's or accepter's side
        if resource.type == "aws_route" and "__to__" in resource.name:
            stem = resource.name.split("__to__")[0]
        else:
            stem = resource.name
        if stem.split("__")[0] in keys:
            stem = stem.split("__")[0]  # a region's own resource, or a cluster's `<cluster key>__<what>`
        owner = max((k for k in keys if stem == k or stem.startswith(f"{k}_")), key=len, default=None)
        assert owner, f"{env}: {resource.address} belongs to no cluster"
        assert resource.region == keys[owner], f"{env}: {resource.address} is in {resource.region}"
        assert resource.provider_key == f"aws.{naming.alias(keys[owner])}", resource.address


@pytest.mark.parametrize("env", ENVS)
def test_peering_requester_in_hub_region_accepter_in_edge_region(example_plans, env):
    plan = example_plans[env]
    clusters = _clusters(env)
    hub_region, hub = next((r, c) for r, c in clusters if c.is_hub)
    edges = [(r, c) for r, c in clusters if not c.is_hub]
    peerings = plan.peerings()
    assert len(peerings) == len(edges), f"{env}: one peering per edge"
    for region, edge in edges:
        name = naming.peering_name(naming.cluster_key(hub_region, hub.name), naming.cluster_key(region, edge.name))
        peering = peerings[name]
        assert peering.requester.region == hub_region, name
        assert peering.accepter is not None, f"{name} has no accepter"
        assert peering.accepter.region == region, name
        assert peering.requester.constant("peer_region") == region, name
        assert peering.requester.constant("auto_accept") is False, name
        assert peering.accepter.constant("auto_accept") is True, name
        assert peering.requester_vpc == f"aws_vpc.{naming.cluster_key(hub_region, hub.name)}", name
        assert peering.accepter_vpc == f"aws_vpc.{naming.cluster_key(region, edge.name)}", name


@pytest.mark.parametrize("env", ENVS)
def test_one_route_per_route_table_on_both_sides_to_the_peer(example_plans, env):
    plan = example_plans[env]
    clusters = _clusters(env)
    hub_region, hub = next((r, c) for r, c in clusters if c.is_hub)
    hub_key = naming.cluster_key(hub_region, hub.name)
    for region, edge in clusters:
        if edge.is_hub:
            continue
        edge_key = naming.cluster_key(region, edge.name)
        routes = plan.peering_routes(naming.peering_name(hub_key, edge_key))
        for vpc_key, peer_cidr, peer_region in ((hub_key, edge.network.cidr, hub_region),
                                                (edge_key, hub.network.cidr, region)):
            tables = plan.route_tables_of(f"aws_vpc.{vpc_key}")
            zones = len(layout_of(edge if vpc_key == edge_key else hub, peer_region).zones)
            assert len(tables) == 1 + zones, f"{env}: {vpc_key} has a public and one private table per zone"
            for table in tables:
                mine = [r for r in routes if r.route_table == table]
                assert len(mine) == 1, f"{env}: {table} has {len(mine)} routes to the peering {edge_key}"
                assert mine[0].destination == peer_cidr, f"{env}: {mine[0].address}"
                assert mine[0].region == plan.region_of(table), f"{env}: {mine[0].address}"


@pytest.mark.parametrize("env", ENVS)
def test_eks_endpoint_is_private(example_plans, env):
    clusters = example_plans[env].of_type("aws_eks_cluster")
    assert len(clusters) == len(_clusters(env))
    for cluster in clusters:
        vpc_config = cluster.values["vpc_config"][0]
        assert vpc_config["endpoint_public_access"] is False, cluster.address
        assert vpc_config["endpoint_private_access"] is True, cluster.address


def test_adding_a_region_plans_and_keeps_existing_addresses(example_out, toolchain, tmp_path, example_plans):
    fleet = tfgen.load(EXAMPLE)
    fleet.environment("development").add_region("eu-central-1", cidr="10.13.0.0/16")
    tfgen.build(fleet, tmp_path / "out")
    from tfgen.testing import plan_root

    plan = plan_root(tmp_path / "out" / "development", workdir=tmp_path / "work", toolchain=toolchain)
    before = set(example_plans["development"].resources)
    after = set(plan.resources)
    assert before <= after, f"renamed or dropped: {sorted(before - after)[:5]}"
    added = after - before
    assert added and all(plan.region_of(a) in ("eu-central-1", "us-east-1") for a in added)
    assert plan.region_of("aws_vpc.eu_central_1_edge") == "eu-central-1"
