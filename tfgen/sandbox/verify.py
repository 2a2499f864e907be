"""Checks of an applied environment through the AWS API (boto3), not Terraform state.

Each kind of link or resource is one function `check_<kind>(expectation,
lookup) -> list[Check]`; `CHECKS` lists the ones `verify_environment` runs,
so a new kind (a transit gateway, say) is one more function in that list.
`check_nothing_left` is the check after `terraform destroy`.

`Lookup` asks the API and remembers what it found, so the checks share one
answer per VPC and per peering. Filters are applied on this side because the
local double ignores some of them (peering connections).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .expectation import ExpectedCluster, ExpectedPeering, Expectation

__all__ = [
    "Check",
    "Lookup",
    "check_vpcs",
    "check_peerings",
    "check_routes",
    "check_clusters",
    "check_transit_gateways",
    "CHECKS",
    "verify_environment",
    "check_nothing_left",
]

_GONE = {"deleted", "deleting", "rejected", "failed", "expired"}


@dataclass(frozen=True)
class Check:
    """One verified fact: what it is about, whether it holds, and what was seen."""

    kind: str
    subject: str
    ok: bool
    detail: str

    def format(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.kind}: {self.subject}: {self.detail}"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "ok": self.ok, "detail": self.detail}


class Lookup:
    """Answers from the AWS API about an environment, asked once each."""

    def __init__(self, expectation: Expectation, client: Callable[[str, str], object]):
        self.expectation = expectation
        self.client = client
        self._vpcs: dict[str, dict | None] = {}
        self._peerings: dict[str, dict | None] = {}

    def tagged(self, resource: dict) -> bool:
        """True when `resource` carries the environment's Project and Environment tags."""
        tags = {t["Key"]: t["Value"] for t in resource.get("Tags", [])}
        return all(tags.get(k) == v for k, v in self.expectation.tags.items())

    def vpc(self, cluster: ExpectedCluster) -> dict | None:
        """The cluster's VPC: in its region, with its CIDR and Name tag."""
        if cluster.key not in self._vpcs:
            answer = self.client("ec2", cluster.region).describe_vpcs(
                Filters=[{"Name": "cidr-block", "Values": [cluster.cidr]}])
            found = [v for v in answer["Vpcs"]
                     if v["CidrBlock"] == cluster.cidr and not v.get("IsDefault")
                     and _name(v) == cluster.name]
            self._vpcs[cluster.key] = found[0] if found else None
        return self._vpcs[cluster.key]

    def peering(self, peering: ExpectedPeering) -> dict | None:
        """The live peering connection between the two VPCs, as the requester's region sees it."""
        if peering.name not in self._peerings:
            requester, accepter = self.vpc(peering.requester), self.vpc(peering.accepter)
            found = None
            if requester and accepter:
                for pcx in self.peerings_in(peering.requester.region):
                    if (pcx["RequesterVpcInfo"].get("VpcId") == requester["VpcId"]
                            and pcx["AccepterVpcInfo"].get("VpcId") == accepter["VpcId"]
                            and pcx["Status"]["Code"] not in _GONE):
                        found = pcx
                        break
            self._peerings[peering.name] = found
        return self._peerings[peering.name]

    def peerings_in(self, region: str) -> list[dict]:
        return self.client("ec2", region).describe_vpc_peering_connections()["VpcPeeringConnections"]

    def cluster_vpc(self, region: str, cluster_info: dict) -> str | None:
        """The VPC an EKS cluster sits in: its `vpcId`, or that of its subnets when the API leaves it out."""
        config = cluster_info.get("resourcesVpcConfig", {})
        if config.get("vpcId"):
            return config["vpcId"]
        subnet_ids = config.get("subnetIds") or []
        if not subnet_ids:
            return None
        subnets = self.client("ec2", region).describe_subnets(SubnetIds=subnet_ids)["Subnets"]
        vpcs = {s["VpcId"] for s in subnets}
        return vpcs.pop() if len(vpcs) == 1 else None

    def route_tables(self, cluster: ExpectedCluster, vpc_id: str) -> list[dict]:
        """The VPC's route tables other than its implicit main table."""
        tables = self.client("ec2", cluster.region).describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
        return [t for t in tables if t.get("VpcId") == vpc_id
                and not any(a.get("Main") for a in t.get("Associations", []))]


def _name(resource: dict) -> str | None:
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == "Name"), None)


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
                where = f"{table['RouteTableId']} ({_name(table) or 'unnamed'})"
                if good:
                    detail = f"{where} routes {peer.cidr} via {pcx_id}"
                elif routes:
                    target = routes[0].get("VpcPeeringConnectionId") or routes[0].get("GatewayId") or "?"
                    detail = f"{where} routes {peer.cidr} via {target}, not {pcx_id}"
                else:
                    detail = f"{where} has no route to {peer.cidr}"
                checks.append(Check("route", f"{side.label} -> {peer.label}", bool(good), detail))
    return checks


def check_clusters(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Every EKS cluster exists in its region, in its VPC, with a private endpoint, and its node groups."""
    checks = []
    for cluster in expectation.clusters:
        eks = lookup.client("eks", cluster.region)
        if cluster.name not in eks.list_clusters()["clusters"]:
            checks.append(Check("cluster", cluster.label, False, f"no EKS cluster {cluster.name} in {cluster.region}"))
            continue
        info = eks.describe_cluster(name=cluster.name)["cluster"]
        config = info.get("resourcesVpcConfig", {})
        vpc, in_vpc = lookup.vpc(cluster), lookup.cluster_vpc(cluster.region, info)
        ok = (info.get("status") == "ACTIVE"
              and vpc is not None and in_vpc == vpc["VpcId"]
              and config.get("endpointPrivateAccess") is True
              and config.get("endpointPublicAccess") is False)
        access = "private" if config.get("endpointPublicAccess") is False else "PUBLIC"
        checks.append(Check("cluster", cluster.label, ok,
                            f"{cluster.name} {info.get('status')} in {in_vpc}, {access} endpoint"))
        existing = set(eks.list_nodegroups(clusterName=cluster.name)["nodegroups"])
        for group in cluster.node_groups:
            subject = f"{cluster.label}/{group.name}"
            if group.name not in existing:
                checks.append(Check("node group", subject, False, f"no node group {group.name} in {cluster.name}"))
                continue
            info = eks.describe_nodegroup(clusterName=cluster.name, nodegroupName=group.name)["nodegroup"]
            scaling = info.get("scalingConfig", {})
            sizes = (scaling.get("minSize"), scaling.get("maxSize"), scaling.get("desiredSize"))
            ok = info.get("status") == "ACTIVE" and sizes == (group.min_size, group.max_size, group.desired_size)
            checks.append(Check("node group", subject, ok,
                                f"{info.get('status')}, min/max/desired {'/'.join(map(str, sizes))}"))
    return checks


def _live(items: list[dict], state_key: str = "State") -> list[dict]:
    return [i for i in items if str(i.get(state_key, "")).lower() not in _GONE]


def check_transit_gateways(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Each region's gateway is available, every VPC is attached to its region's gateway,
    the gateways of every two regions are peered, and every route table of every VPC
    routes each other VPC's CIDR to its region's gateway."""
    checks = []
    gateway_ids: dict[str, str] = {}
    for tgw in expectation.transit_gateways:
        ec2 = lookup.client("ec2", tgw.region)
        found = [g for g in _live(ec2.describe_transit_gateways()["TransitGateways"]) if _name(g) == tgw.name]
        if not found:
            checks.append(Check("transit gateway", tgw.region, False, f"no transit gateway {tgw.name}"))
            continue
        gateway = found[0]
        gateway_ids[tgw.region] = gateway["TransitGatewayId"]
        checks.append(Check("transit gateway", tgw.region, gateway.get("State") == "available",
                            f"{gateway['TransitGatewayId']} {gateway.get('State')}"))
        attachments = _live(ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"])
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
        peerings = _live(ec2.describe_transit_gateway_peering_attachments()["TransitGatewayPeeringAttachments"])
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
            where = f"{table['RouteTableId']} ({_name(table) or 'unnamed'})"
            detail = (f"{where} routes {len(others)} VPC CIDRs via {gateway}" if not missing
                      else f"{where} has no route via {gateway} to {', '.join(missing)}")
            checks.append(Check("route", f"{cluster.label} -> transit gateway", not missing, detail))
    return checks


CHECKS: tuple[Callable[[Expectation, Lookup], list[Check]], ...] = (
    check_vpcs,
    check_peerings,
    check_routes,
    check_clusters,
    check_transit_gateways,
)


def verify_environment(expectation: Expectation, client: Callable[[str, str], object]) -> list[Check]:
    """Run every function of `CHECKS` against the API; `client(service, region)` gives boto3 clients."""
    lookup = Lookup(expectation, client)
    return [check for run in CHECKS for check in run(expectation, lookup)]


def check_nothing_left(expectation: Expectation, client: Callable[[str, str], object]) -> list[Check]:
    """After destroy: nothing the environment created is left, region by region."""
    lookup = Lookup(expectation, client)
    checks = []
    cidrs = {c.cidr for c in expectation.clusters}
    for region in expectation.regions:
        ec2, eks = client("ec2", region), client("eks", region)
        names = {c.name for c in expectation.in_region(region)}
        left = {
            "VPCs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]
                     if not v.get("IsDefault") and (lookup.tagged(v) or v["CidrBlock"] in cidrs)],
            "subnets": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if lookup.tagged(s)],
            "internet gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]
                                  if lookup.tagged(g)],
            "NAT gateways": [g["NatGatewayId"] for g in ec2.describe_nat_gateways()["NatGateways"]
                             if lookup.tagged(g) and g.get("State") not in _GONE],
            "Elastic IPs": [a.get("AllocationId", "?") for a in ec2.describe_addresses()["Addresses"]
                            if lookup.tagged(a)],
            "route tables": [t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]
                             if lookup.tagged(t)],
            "peerings": [p["VpcPeeringConnectionId"] for p in lookup.peerings_in(region)
                         if p["Status"]["Code"] not in _GONE
                         and {p["RequesterVpcInfo"].get("CidrBlock"), p["AccepterVpcInfo"].get("CidrBlock")} <= cidrs],
            "EKS clusters": sorted(names & set(eks.list_clusters()["clusters"])),
            "transit gateways": [g["TransitGatewayId"] for g in _live(ec2.describe_transit_gateways()["TransitGateways"])
                                 if lookup.tagged(g)],
            "KMS aliases": [a["AliasName"] for a in client("kms", region).list_aliases()["Aliases"]
                            if any(a["AliasName"].startswith(f"alias/{n}") for n in names)],
        }
        for kind, ids in left.items():
            checks.append(Check("left over", f"{region} {kind}", not ids,
                                f"still there: {', '.join(ids)}" if ids else "none"))
    roles = [r["RoleName"] for r in client("iam", expectation.regions[0]).list_roles()["Roles"]
             if any(r["RoleName"].startswith(f"{c.name}-") for c in expectation.clusters)]
    checks.append(Check("left over", "IAM roles", not roles, f"still there: {', '.join(roles)}" if roles else "none"))
    return checks
