"""Real plans of the mesh and transit-gateway examples: the routes that make them work."""

from __future__ import annotations

from itertools import combinations


import tfgen
from tfgen.derive import naming
from tests.conftest import ROOT

MESH = ROOT / "examples" / "mesh.yaml"
TGW = ROOT / "examples" / "transit-gateway.yaml"


def _vpcs(spec, env):
    from tfgen.pipeline import prepare

    fleet = prepare(tfgen.load(spec)).fleet
    return [(r.name, c) for r, c in fleet.environment(env).clusters()]


def test_mesh_peers_every_pair_with_routes_on_both_sides(all_plans):
    plan = all_plans[MESH, "staging"]
    vpcs = _vpcs(MESH, "staging")
    peerings = plan.peerings()
    assert len(peerings) == len(vpcs) * (len(vpcs) - 1) // 2
    by_key = {naming.cluster_key(r, c.name): (r, c) for r, c in vpcs}
    for (ka, (ra, a)), (kb, (rb, b)) in combinations(sorted(by_key.items()), 2):
        matches = [p for p in peerings.values() if {p.requester_vpc, p.accepter_vpc} == {f"aws_vpc.{ka}", f"aws_vpc.{kb}"}]
        assert len(matches) == 1, f"{ka} -- {kb}: {len(matches)} peerings"
        peering = matches[0]
        assert peering.accepter and peering.accepter.region != peering.requester.region, peering.name
        routes = plan.peering_routes(peering.name)
        for key, peer_cidr in ((ka, b.network.cidr), (kb, a.network.cidr)):
            for table in plan.route_tables_of(f"aws_vpc.{key}"):
                mine = [r for r in routes if r.route_table == table]
                assert [r.destination for r in mine] == [peer_cidr], f"{table} -> {peering.name}"
                assert mine[0].region == plan.region_of(table)


def test_transit_gateway_routes_every_vpc_to_every_other(all_plans):
    plan = all_plans[TGW, "production"]
    vpcs = _vpcs(TGW, "production")
    regions = sorted({r for r, _ in vpcs})
    gateways = {r.region: r.address for r in plan.of_type("aws_ec2_transit_gateway")}
    assert sorted(gateways) == regions, "one transit gateway per region"
    for region, cluster in vpcs:
        key = naming.cluster_key(region, cluster.name)
        attachment = plan.resource(f"aws_ec2_transit_gateway_vpc_attachment.{key}")
        assert attachment.region == region
        assert attachment.references("transit_gateway_id") == [gateways[region]], key
        assert attachment.references("vpc_id") == [f"aws_vpc.{key}"], key
        others = sorted(c.network.cidr for r, c in vpcs if c is not cluster)
        for table in plan.route_tables_of(f"aws_vpc.{key}"):
            via_tgw = sorted(r.destination for r in plan.routes()
                             if r.route_table == table and r.target == gateways[region])
            assert via_tgw == others, f"{table}: routes via the TGW {via_tgw} != {others}"


def test_transit_gateway_peerings_carry_static_routes_to_remote_cidrs(all_plans):
    plan = all_plans[TGW, "production"]
    vpcs = _vpcs(TGW, "production")
    regions = sorted({r for r, _ in vpcs})
    requests = plan.of_type("aws_ec2_transit_gateway_peering_attachment")
    assert len(requests) == len(regions) * (len(regions) - 1) // 2
    for request in requests:
        accepter = plan.resource(f"aws_ec2_transit_gateway_peering_attachment_accepter.{request.name}")
        peer_region = request.constant("peer_region")
        assert accepter.region == peer_region != request.region, request.name
    routes = plan.of_type("aws_ec2_transit_gateway_route")
    for region in regions:
        table = f"aws_ec2_transit_gateway_route_table.{naming.alias(region)}"
        static = sorted(r.constant("destination_cidr_block") for r in routes
                        if r.references("transit_gateway_route_table_id") == [table])
        remote = sorted(c.network.cidr for r, c in vpcs if r != region)
        assert static == remote, f"{table}: static routes {static} != remote CIDRs {remote}"
        for r in routes:
            if r.references("transit_gateway_route_table_id") == [table]:
                assert r.region == region, r.address
                target = r.references("transit_gateway_attachment_id")[0]
                assert target.startswith("aws_ec2_transit_gateway_peering_attachment_accepter."), r.address
    propagations = plan.of_type("aws_ec2_transit_gateway_route_table_propagation")
    assert len(propagations) == len(vpcs), "every VPC attachment propagates into its region's table"
