"""What an environment has in the AWS double, region by region, read through the API.

Taken after apply (and after a failed apply, to show what exists): the
environment's VPCs (by its Project and Environment tags), their subnets, the
peerings that touch them with their status, and the EKS clusters in them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

from .expectation import Expectation
from .verify import Lookup

__all__ = ["InventoryVpc", "InventoryPeering", "InventoryCluster", "RegionInventory", "take_inventory"]


@dataclass(frozen=True)
class InventoryVpc:
    """A VPC and how many subnets it has."""

    id: str
    cidr: str
    name: str
    subnets: int


@dataclass(frozen=True)
class InventoryPeering:
    """A peering connection with the regions and CIDRs of both sides."""

    id: str
    status: str
    requester_region: str
    requester_cidr: str
    accepter_region: str
    accepter_cidr: str


@dataclass(frozen=True)
class InventoryCluster:
    """An EKS cluster and its node groups (`name: status desired/min-max`)."""

    name: str
    status: str
    vpc_id: str
    node_groups: tuple[str, ...]


@dataclass
class RegionInventory:
    """One region of one environment."""

    environment: str
    region: str
    vpcs: list[InventoryVpc] = field(default_factory=list)
    peerings: list[InventoryPeering] = field(default_factory=list)
    clusters: list[InventoryCluster] = field(default_factory=list)

    @property
    def subnets(self) -> int:
        return sum(v.subnets for v in self.vpcs)

    def as_dict(self) -> dict:
        body = asdict(self)
        body["subnets"] = self.subnets
        return body


def take_inventory(expectation: Expectation, client: Callable[[str, str], object]) -> list[RegionInventory]:
    """The environment's resources in each of its regions, as the API reports them."""
    lookup = Lookup(expectation, client)
    regions = []
    for region in expectation.regions:
        ec2, eks = client("ec2", region), client("eks", region)
        inventory = RegionInventory(expectation.environment, region)
        vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault") and lookup.tagged(v)]
        ids = {v["VpcId"] for v in vpcs}
        subnets = ec2.describe_subnets()["Subnets"]
        for vpc in sorted(vpcs, key=lambda v: v["CidrBlock"]):
            name = next((t["Value"] for t in vpc.get("Tags", []) if t["Key"] == "Name"), "")
            count = sum(1 for s in subnets if s["VpcId"] == vpc["VpcId"])
            inventory.vpcs.append(InventoryVpc(vpc["VpcId"], vpc["CidrBlock"], name, count))
        for pcx in lookup.peerings_in(region):
            requester, accepter = pcx["RequesterVpcInfo"], pcx["AccepterVpcInfo"]
            if {requester.get("VpcId"), accepter.get("VpcId")} & ids:
                inventory.peerings.append(InventoryPeering(
                    pcx["VpcPeeringConnectionId"], pcx["Status"]["Code"],
                    requester.get("Region", ""), requester.get("CidrBlock", ""),
                    accepter.get("Region", ""), accepter.get("CidrBlock", ""),
                ))
        inventory.peerings.sort(key=lambda p: (p.requester_cidr, p.accepter_cidr, p.id))
        for name in sorted(eks.list_clusters()["clusters"]):
            info = eks.describe_cluster(name=name)["cluster"]
            vpc_id = lookup.cluster_vpc(region, info)
            if vpc_id not in ids:
                continue
            groups = []
            for group in sorted(eks.list_nodegroups(clusterName=name)["nodegroups"]):
                ng = eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
                s = ng.get("scalingConfig", {})
                groups.append(f"{group}: {ng.get('status')} {s.get('desiredSize')}/{s.get('minSize')}-{s.get('maxSize')}")
            inventory.clusters.append(InventoryCluster(name, info.get("status", ""), vpc_id, tuple(groups)))
        regions.append(inventory)
    return regions
