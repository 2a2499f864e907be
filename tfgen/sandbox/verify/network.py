"""The network of an applied environment through the API: VPCs and subnets, peerings (seen from
both regions), every route table's routes, and in transit-gateway mode the gateways, attachments,
gateway peerings and routes."""

from __future__ import annotations

from ..expectation import Expectation
from .lookup import Check, Lookup, live, name_of

__all__ = ["check_vpcs", "check_peerings", "check_routes", "check_transit_gateways"]


def check_vpcs(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Every cluster's VPC exists in its region with its CIDR, and holds its subnets."""
    checks = []
    for cluster in expectation.clusters:
        vpc = lookup.vpc(cluster)
        subject = f"{cluster.label} {cluster.cidr}"
        if vpc is None:
            checks.append(Check("vpc", subject, False,
                                f"no VPC with CIDR {cluster.cidr} named {cluster.name} in {cluster.region}"))
            continue
        subnets = lookup.client("ec2", cluster.region).describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
        subnets = [s for s in subnets if s["VpcId"] == vpc["VpcId"]]
        ok = vpc.get("State") == "available" and len(subnets) == cluster.subnets
        checks.append(Check("vpc", subject, ok,
                            f"{vpc['VpcId']} in {cluster.region}, {vpc.get('State')}, "
                            f"{len(subnets)} of {cluster.subnets} subnets"))
    return checks


def check_peerings(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Every peering is active between the hub's VPC and the edge's, in the right regions."""
    checks = []
    for peering in expectation.peerings:
        pcx = lookup.peering(peering)
        if pcx is None:
            missing = [c.label for c in (peering.requester, peering.accepter) if lookup.vpc(c) is None]
            why = f"VPC of {', '.join(missing)} missing" if missing else "no peering connection between the VPCs"
            checks.append(Check("peering", peering.label, False, why))
            continue
        requester, accepter = pcx["RequesterVpcInfo"], pcx["AccepterVpcInfo"]
        seen_by_accepter = [p for p in lookup.peerings_in(peering.accepter.region)
                            if p["VpcPeeringConnectionId"] == pcx["VpcPeeringConnectionId"]]
        status = pcx["Status"]["Code"]
        other = seen_by_accepter[0]["Status"]["Code"] if seen_by_accepter else "not visible"
        ok = (status == "active" and other == "active"
              and requester.get("Region") == peering.requester.region
              and accepter.get("Region") == peering.accepter.region
              and requester.get("CidrBlock") == peering.requester.cidr
              and accepter.get("CidrBlock") == peering.accepter.cidr)
        checks.append(Check(
            "peering", peering.label, ok,
            f"{pcx['VpcPeeringConnectionId']} {status} in {requester.get('Region')} "
            f"({requester.get('CidrBlock')}), {other} in {accepter.get('Region')} ({accepter.get('CidrBlock')})",
        ))
    return checks


def check_routes(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Every route table on both sides of a peering routes the peer's CIDR through it."""
    checks = []
    for peering in expectation.peerings:
        pcx = lookup.peering(peering)
        for side, peer in ((peering.requester, peering.accepter), (peering.accepter, peering.requester)):
            subject = f"{side.label} -> {peer.cidr}"
            vpc = lookup.vpc(side)
            if vpc is None or pcx is None:
                checks.append(Check("routes", subject, False, "cannot check: VPC or peering missing"))
                continue
            pcx_id = pcx["VpcPeeringConnectionId"]
            tables = lookup.route_tables(side, vpc["VpcId"])
            if len(tables) != side.route_tables:
                checks.append(Check("routes", subject, False,
                                    f"{vpc['VpcId']} has {len(tables)} route tables, expected {side.route_tables}"))
            for table in sorted(tables, key=lambda t: t["RouteTableId"]):
                routes = [r for r in table.get("Routes", [])
                          if r.get("DestinationCidrBlock") == peer.cidr]
                good = [r for r in routes if r.get("VpcPeeringConnectionId") == pcx_id
                        and r.get("State", "active") == "active"]
                where = f"{table['RouteTableId']} ({name_of(table) or 'unnamed'})"
                if good:
                    detail = f"{where} routes {peer.cidr} via {pcx_id}"
                elif routes:
                    target = routes[0].get("VpcPeeringConnectionId") or routes[0].get("GatewayId") or "?"
                    detail = f"{where} routes {peer.cidr} via {target}, not {pcx_id}"
                else:
                    detail = f"{where} has no route to {peer.cidr}"
                checks.append(Check("route", f"{side.label} -> {peer.label}", bool(good), detail))
    return checks


def check_transit_gateways(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Each region's gateway is available, every VPC is attached to its region's gateway,
    the gateways of every two regions are peered, and every route table of every VPC
    routes each other VPC's CIDR to its region's gateway."""
    checks = []
    gateway_ids: dict[str, str] = {}
    for tgw in expectation.transit_gateways:
        ec2 = lookup.client("ec2", tgw.region)
        found = [g for g in live(ec2.describe_transit_gateways()["TransitGateways"]) if name_of(g) == tgw.name]
        if not found:
            checks.append(Check("transit gateway", tgw.region, False, f"no transit gateway {tgw.name}"))
            continue
        gateway = found[0]
        gateway_ids[tgw.region] = gateway["TransitGatewayId"]
        checks.append(Check("transit gateway", tgw.region, gateway.get("State") == "available",
                            f"{gateway['TransitGatewayId']} {gateway.get('State')}"))
        attachments = live(ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"])
        for cluster in tgw.attached:
            vpc = lookup.vpc(cluster)
            mine = [a for a in attachments if vpc and a.get("VpcId") == vpc["VpcId"]
                    and a.get("TransitGatewayId") == gateway["TransitGatewayId"]]
            state = mine[0].get("State") if mine else None
            checks.append(Check("attachment", f"{cluster.label} -> {gateway['TransitGatewayId']}",
                                state == "available",
                                f"{mine[0]['TransitGatewayAttachmentId']} {state}" if mine else "not attached"))
    for tgw in expectation.transit_gateways:
        if tgw.region not in gateway_ids:
            continue
        ec2 = lookup.client("ec2", tgw.region)
        peerings = live(ec2.describe_transit_gateway_peering_attachments()["TransitGatewayPeeringAttachments"])
        for peer in tgw.peers:
            if peer < tgw.region or peer not in gateway_ids:
                continue  # each pair once, from the region that sorts first
            ids = {gateway_ids[tgw.region], gateway_ids[peer]}
            match = [p for p in peerings
                     if {p.get("RequesterTgwInfo", {}).get("TransitGatewayId"),
                         p.get("AccepterTgwInfo", {}).get("TransitGatewayId")} == ids]
            state = match[0].get("State") if match else None
            checks.append(Check("gateway peering", f"{tgw.region} <-> {peer}", state == "available",
                                f"{match[0]['TransitGatewayAttachmentId']} {state}" if match else "not peered"))
    for cluster in (c for tgw in expectation.transit_gateways for c in tgw.attached):
        vpc, gateway = lookup.vpc(cluster), gateway_ids.get(cluster.region)
        if vpc is None or gateway is None:
            checks.append(Check("routes", cluster.label, False, "cannot check: VPC or gateway missing"))
            continue
        others = sorted(c.cidr for c in expectation.clusters if c is not cluster)
        for table in sorted(lookup.route_tables(cluster, vpc["VpcId"]), key=lambda t: t["RouteTableId"]):
            via = {r.get("DestinationCidrBlock") for r in table.get("Routes", [])
                   if r.get("TransitGatewayId") == gateway and r.get("State", "active") == "active"}
            missing = [cidr for cidr in others if cidr not in via]
            where = f"{table['RouteTableId']} ({name_of(table) or 'unnamed'})"
            detail = (f"{where} routes {len(others)} VPC CIDRs via {gateway}" if not missing
                      else f"{where} has no route via {gateway} to {', '.join(missing)}")
            checks.append(Check("route", f"{cluster.label} -> transit gateway", not missing, detail))
    return checks
