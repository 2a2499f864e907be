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

import json
from urllib.parse import unquote

from ..derive.iam import EBS_CSI_POLICY, SSM_CORE
from .expectation import ExpectedCluster, ExpectedPeering, Expectation

__all__ = [
    "Check",
    "Lookup",
    "check_vpcs",
    "check_peerings",
    "check_routes",
    "check_clusters",
    "check_transit_gateways",
    "check_api_access",
    "check_gitops_roles",
    "check_ebs_csi_roles",
    "check_bastion",
    "check_oidc_providers",
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
        self._roles: dict[str, dict | None] = {}

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

    def security_group(self, region: str, name: str, vpc_id: str | None = None) -> dict | None:
        """The security group called `name` in `region` (in `vpc_id` when given)."""
        groups = self.client("ec2", region).describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
        found = [g for g in groups if g["GroupName"] == name and (vpc_id is None or g.get("VpcId") == vpc_id)]
        return found[0] if found else None

    def role(self, name: str) -> dict | None:
        """The IAM role called `name`, its trust policy parsed."""
        if name not in self._roles:
            from botocore.exceptions import ClientError

            try:
                role = self.client("iam", self.expectation.regions[0]).get_role(RoleName=name)["Role"]
                role["AssumeRolePolicyDocument"] = policy_document(role.get("AssumeRolePolicyDocument"))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                    raise
                role = None
            self._roles[name] = role
        return self._roles[name]

    def attached(self, role: str) -> set[str]:
        iam = self.client("iam", self.expectation.regions[0])
        return {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}

    def route_tables(self, cluster: ExpectedCluster, vpc_id: str) -> list[dict]:
        """The VPC's route tables other than its implicit main table."""
        tables = self.client("ec2", cluster.region).describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
        return [t for t in tables if t.get("VpcId") == vpc_id
                and not any(a.get("Main") for a in t.get("Associations", []))]


def policy_document(document) -> dict:
    """An IAM policy document as a dict, whether the API gave it parsed, as JSON or URL-encoded."""
    if isinstance(document, dict):
        return document
    text = str(document or "{}")
    if text.lstrip().startswith("%"):
        text = unquote(text)
    return json.loads(text)


def _statements(document: dict) -> list[dict]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_set(value) -> set[str]:
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def _ingress(group: dict) -> list[tuple[str, int, int, str]]:
    """Each ingress permission of a security group as (protocol, from, to, source)."""
    rules = []
    for perm in group.get("IpPermissions", []):
        key = (perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort"))
        for r in perm.get("IpRanges", []):
            rules.append((*key, r["CidrIp"]))
        for r in perm.get("Ipv6Ranges", []):
            rules.append((*key, r["CidrIpv6"]))
        for r in perm.get("UserIdGroupPairs", []):
            rules.append((*key, r["GroupId"]))
        for r in perm.get("PrefixListIds", []):
            rules.append((*key, r["PrefixListId"]))
    return sorted(rules, key=str)


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


def check_api_access(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Each control plane's API security group admits TCP 443 from exactly its sources: the hub
    VPC's CIDR on the edges Argo CD manages, the bastion's security group on the hub; nothing else."""
    checks = []
    bastion_group = None
    if expectation.bastion:
        hub_vpc = lookup.vpc(expectation.bastion.hub)
        bastion_group = lookup.security_group(expectation.bastion.hub.region, expectation.bastion.name,
                                              hub_vpc["VpcId"] if hub_vpc else None)
    for cluster in expectation.clusters:
        subject = f"{cluster.label} {cluster.api_group}"
        vpc = lookup.vpc(cluster)
        group = lookup.security_group(cluster.region, cluster.api_group, vpc["VpcId"] if vpc else None)
        if group is None:
            checks.append(Check("api access", subject, False, f"no security group {cluster.api_group} in the VPC"))
            continue
        wanted = [("tcp", 443, 443, cidr) for cidr in cluster.api_cidrs]
        if cluster.api_from_bastion:
            wanted.append(("tcp", 443, 443, bastion_group["GroupId"] if bastion_group else "the bastion's group"))
        seen = _ingress(group)
        on_cluster = False
        eks = lookup.client("eks", cluster.region)
        if cluster.name in eks.list_clusters()["clusters"]:
            config = eks.describe_cluster(name=cluster.name)["cluster"].get("resourcesVpcConfig", {})
            on_cluster = group["GroupId"] in (config.get("securityGroupIds") or [])
        ok = sorted(seen, key=str) == sorted(wanted, key=str) and on_cluster
        shown = ", ".join(f"{p} {a}-{b} from {src}" for p, a, b, src in seen) or "no ingress"
        checks.append(Check("api access", subject, ok,
                            f"{group['GroupId']} admits {shown}; expected "
                            + (", ".join(f"{p} {a} from {src}" for p, a, _, src in wanted) or "nothing")
                            + ("" if on_cluster else f"; not on {cluster.name}'s control plane")))
    return checks


def check_gitops_roles(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Each edge's deployer role trusts the hub's management role (and nothing else); the
    management role may assume exactly the deployer roles, and trusts Argo CD's service accounts."""
    gitops = expectation.gitops
    if gitops is None:
        return []
    checks = []
    management = lookup.role(gitops.management_role)
    if management is None:
        return [Check("gitops role", gitops.management_role, False, "management role missing")]
    trust = _statements(management["AssumeRolePolicyDocument"])
    if gitops.identity == "irsa":
        principals = {p for s in trust for p in _as_set(s.get("Principal", {}).get("Federated"))}
        subjects = {v for s in trust for cond in s.get("Condition", {}).values()
                    for k, vals in cond.items() if k.endswith(":sub") for v in _as_set(vals)}
        wanted = {f"system:serviceaccount:{gitops.namespace}:{a}" for a in gitops.service_accounts}
        ok = len(principals) == 1 and next(iter(principals)).startswith("arn:aws:iam::") and subjects == wanted
        detail = f"trusts {', '.join(sorted(principals)) or 'nobody'} for {', '.join(sorted(subjects)) or 'no account'}"
    else:
        services = {p for s in trust for p in _as_set(s.get("Principal", {}).get("Service"))}
        actions = {a for s in trust for a in _as_set(s.get("Action"))}
        ok = services == {"pods.eks.amazonaws.com"} and actions == {"sts:AssumeRole", "sts:TagSession"}
        detail = f"trusts {', '.join(sorted(services)) or 'nobody'} ({', '.join(sorted(actions))})"
    checks.append(Check("gitops role", f"management {gitops.management_role}", ok, detail))
    deployer_arns = {}
    for edge in gitops.edges:
        role = lookup.role(edge.deployer_role)
        subject = f"deployer {edge.label}"
        if role is None:
            checks.append(Check("gitops role", subject, False, f"no role {edge.deployer_role}"))
            continue
        deployer_arns[edge.deployer_role] = role["Arn"]
        statements = _statements(role["AssumeRolePolicyDocument"])
        principals = {p for s in statements if s.get("Effect") == "Allow"
                      for kind, values in s.get("Principal", {}).items() for p in _as_set(values)}
        actions = {a for s in statements for a in _as_set(s.get("Action"))}
        ok = principals == {management["Arn"]} and "sts:AssumeRole" in actions
        checks.append(Check("gitops role", subject, ok,
                            f"{edge.deployer_role} trusts {', '.join(sorted(principals)) or 'nobody'} "
                            f"({', '.join(sorted(actions))})"))
    iam = lookup.client("iam", expectation.regions[0])
    names = iam.list_role_policies(RoleName=gitops.management_role)["PolicyNames"]
    resources: set[str] = set()
    for name in names:
        document = policy_document(iam.get_role_policy(RoleName=gitops.management_role, PolicyName=name)["PolicyDocument"])
        for statement in _statements(document):
            if statement.get("Effect") == "Allow" and "sts:AssumeRole" in _as_set(statement.get("Action")):
                resources |= _as_set(statement.get("Resource"))
    wanted = set(deployer_arns.values())
    ok = resources == wanted and len(deployer_arns) == len(gitops.edges)
    missing, extra = sorted(wanted - resources), sorted(resources - wanted)
    checks.append(Check("gitops role", "management may assume", ok,
                        f"sts:AssumeRole on {len(resources)} role(s)"
                        + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; not a deployer role: {', '.join(extra)}" if extra else "")))
    return checks


def check_ebs_csi_roles(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Every cluster's EBS CSI role exists with AmazonEBSCSIDriverPolicy attached."""
    checks = []
    for cluster in expectation.clusters:
        if not cluster.ebs_csi_role:
            continue
        role = lookup.role(cluster.ebs_csi_role)
        if role is None:
            checks.append(Check("ebs csi role", cluster.label, False, f"no role {cluster.ebs_csi_role}"))
            continue
        attached = lookup.attached(cluster.ebs_csi_role)
        checks.append(Check("ebs csi role", cluster.label, EBS_CSI_POLICY in attached,
                            f"{cluster.ebs_csi_role} has {', '.join(sorted(attached)) or 'no managed policy'}"))
    return checks


def check_bastion(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """The hub's bastion: running in a private subnet of the hub VPC, no public IP, no key pair,
    IMDSv2 required with hop limit 1, its security group without ingress, and an instance profile
    whose role has AmazonSSMManagedInstanceCore."""
    bastion = expectation.bastion
    if bastion is None:
        return []
    hub, subject = bastion.hub, f"{bastion.hub.label} {bastion.name}"
    ec2 = lookup.client("ec2", hub.region)
    found = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [bastion.name]}])["Reservations"]
             for i in r["Instances"]
             if _name(i) == bastion.name and i.get("State", {}).get("Name") not in ("terminated", "shutting-down")]
    if len(found) != 1:
        return [Check("bastion", subject, False, f"{len(found)} running instances named {bastion.name}, expected 1")]
    instance = found[0]
    checks = []
    vpc = lookup.vpc(hub)
    subnet = next(iter(ec2.describe_subnets(SubnetIds=[instance["SubnetId"]])["Subnets"]), {})
    ok = (vpc is not None and subnet.get("VpcId") == vpc["VpcId"] and subnet.get("CidrBlock") in hub.private_subnets
          and not subnet.get("MapPublicIpOnLaunch"))
    checks.append(Check("bastion", f"{subject} subnet", ok,
                        f"{instance['SubnetId']} {subnet.get('CidrBlock')} in {subnet.get('VpcId')}; "
                        f"private subnets of the hub: {', '.join(hub.private_subnets)}"))
    public = instance.get("PublicIpAddress")
    checks.append(Check("bastion", f"{subject} public IP", not public, f"public IP {public}" if public else "none"))
    key = instance.get("KeyName")
    checks.append(Check("bastion", f"{subject} key pair", not key, f"key pair {key}" if key else "none"))
    metadata = instance.get("MetadataOptions")
    if metadata is None:
        checks.append(Check("bastion", f"{subject} IMDS", True, "not reported by the API (cannot check)"))
    else:
        ok = metadata.get("HttpTokens") == "required" and metadata.get("HttpPutResponseHopLimit") == 1
        checks.append(Check("bastion", f"{subject} IMDS", ok,
                            f"tokens {metadata.get('HttpTokens')}, hop limit {metadata.get('HttpPutResponseHopLimit')}"))
    ok = instance.get("InstanceType") == bastion.instance_type
    checks.append(Check("bastion", f"{subject} type", ok, str(instance.get("InstanceType"))))
    group_ids = ({g["GroupId"] for g in instance.get("SecurityGroups", [])}
                 | {g["GroupId"] for n in instance.get("NetworkInterfaces", []) for g in n.get("Groups", [])})
    group = lookup.security_group(hub.region, bastion.name, vpc["VpcId"] if vpc else None)
    ingress = _ingress(group) if group else []
    ok = group is not None and group_ids == {group["GroupId"]} and not ingress
    checks.append(Check("bastion", f"{subject} security group", ok,
                        f"instance in {', '.join(sorted(group_ids)) or 'no group'}; "
                        + (f"{group['GroupId']} admits {len(ingress)} ingress rule(s)" if group
                           else f"no security group {bastion.name}")))
    profile_arn = (instance.get("IamInstanceProfile") or {}).get("Arn", "")
    iam = lookup.client("iam", expectation.regions[0])
    profile_name = profile_arn.rsplit("/", 1)[-1]
    roles = []
    if profile_arn:
        roles = [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=profile_name)
                 ["InstanceProfile"]["Roles"]]
    attached = lookup.attached(roles[0]) if len(roles) == 1 else set()
    ok = profile_name == bastion.name and roles == [bastion.name] and attached == {SSM_CORE}
    checks.append(Check("bastion", f"{subject} instance profile", ok,
                        f"profile {profile_name or 'none'}, role(s) {', '.join(roles) or 'none'} with "
                        f"{', '.join(sorted(attached)) or 'no managed policy'}"))
    return checks


def check_oidc_providers(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """With IRSA, an IAM OIDC provider for each cluster's issuer, for the audience sts.amazonaws.com."""
    if not expectation.irsa:
        return []
    iam = lookup.client("iam", expectation.regions[0])
    providers = {}
    for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        info = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
        providers[info["Url"].removeprefix("https://")] = info
    checks = []
    for cluster in expectation.clusters:
        eks = lookup.client("eks", cluster.region)
        if cluster.name not in eks.list_clusters()["clusters"]:
            checks.append(Check("oidc provider", cluster.label, False, f"no EKS cluster {cluster.name}"))
            continue
        issuer = (eks.describe_cluster(name=cluster.name)["cluster"].get("identity", {})
                  .get("oidc", {}).get("issuer", ""))
        info = providers.get(issuer.removeprefix("https://"))
        ok = info is not None and info.get("ClientIDList") == ["sts.amazonaws.com"]
        checks.append(Check("oidc provider", cluster.label, ok,
                            f"{issuer}: " + (f"audiences {', '.join(info.get('ClientIDList', []))}" if info
                                             else "no IAM OIDC provider")))
    return checks


CHECKS: tuple[Callable[[Expectation, Lookup], list[Check]], ...] = (
    check_vpcs,
    check_peerings,
    check_routes,
    check_clusters,
    check_transit_gateways,
    check_api_access,
    check_gitops_roles,
    check_ebs_csi_roles,
    check_bastion,
    check_oidc_providers,
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
                            if any(a["AliasName"].startswith(f"alias/{n}") for n in names)
                            or a["AliasName"].startswith(f"alias/{expectation.project}-{expectation.environment}-")],
            "KMS keys": _live_keys(lookup, client("kms", region)),
            "security groups": [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
                                if g.get("GroupName") != "default" and lookup.tagged(g)],
            "instances": [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                          if lookup.tagged(i) and i.get("State", {}).get("Name") not in ("terminated", "shutting-down")],
            "launch templates": [t["LaunchTemplateName"] for t in ec2.describe_launch_templates()["LaunchTemplates"]
                                 if any(t["LaunchTemplateName"].startswith(f"{n}-") for n in names)],
            "EBS encryption by default": (["enabled"] if ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
                                          else []),
        }
        for kind, ids in left.items():
            checks.append(Check("left over", f"{region} {kind}", not ids,
                                f"still there: {', '.join(ids)}" if ids else "none"))
    iam = client("iam", expectation.regions[0])
    ours = tuple(f"{c.name}-" for c in expectation.clusters)
    global_left = {
        "IAM roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(ours)],
        "IAM instance profiles": [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
                                  if p["InstanceProfileName"].startswith(ours)],
    }
    if expectation.irsa:
        global_left["IAM OIDC providers"] = [
            p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
            if any(f"oidc.eks.{region}." in p["Arn"] for region in expectation.regions)]
    for kind, ids in global_left.items():
        checks.append(Check("left over", kind, not ids, f"still there: {', '.join(ids)}" if ids else "none"))
    return checks


def _live_keys(lookup: Lookup, kms) -> list[str]:
    """KMS keys tagged as the environment's that are not scheduled for deletion (destroy schedules them)."""
    left = []
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("KeyState") in ("PendingDeletion", "Disabled") or meta.get("KeyManager") == "AWS":
            continue
        tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
        if lookup.tagged({"Tags": [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in tags]}):
            left.append(key["KeyId"])
    return left
