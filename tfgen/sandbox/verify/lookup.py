"""What the checks share: `Check` (one verified fact), `Lookup` (answers from the AWS API, asked
once each) and helpers that read the API's answers (policy documents, security group ingress,
Name tags, live resources).

Filters are applied on this side too, because the local double ignores some of them
(peering connections).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

from ..expectation import ExpectedCluster, ExpectedPeering, Expectation

__all__ = ["GONE", "Check", "Lookup", "policy_document", "statements_of", "as_set", "ingress_of", "name_of", "live"]

GONE = {"deleted", "deleting", "rejected", "failed", "expired"}


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
                     and name_of(v) == cluster.name]
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
                            and pcx["Status"]["Code"] not in GONE):
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


def statements_of(document: dict) -> list[dict]:
    """The statements of a policy document, as a list."""
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def as_set(value) -> set[str]:
    """A policy field (a string or a list of them) as a set."""
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def ingress_of(group: dict) -> list[tuple[str, int, int, str]]:
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


def name_of(resource: dict) -> str | None:
    """The Name tag of an API resource."""
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == "Name"), None)


def live(items: list[dict], state_key: str = "State") -> list[dict]:
    """The items not deleted, failed or on their way out."""
    return [i for i in items if str(i.get(state_key, "")).lower() not in GONE]
