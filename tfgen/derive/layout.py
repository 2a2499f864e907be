"""A cluster's network as AWS will hold it: zones, subnets, NAT gateways, route tables.

Derived from the model only, so checks and emitters agree on one layout.
Carving, when a spec gives no subnets, is by zone index (not by list position
of anything the user can reorder):

- private subnets: the VPC split in 8 (`/16` -> `/19`), zone *i* takes block *i*;
- public subnets: the last eighth split in 8 again (`/16` -> `/22`), zone *i* takes block *i*.

So a `/16` with three zones gets private `/19`s (8,190 addresses each, room for
pods on the VPC CNI) and small public `/22`s for load balancers and NAT, and
adding a zone never moves the subnets of existing ones.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..model import NAT_PER_AZ, Cluster
from ..model.regions import REGIONS, availability_zones

__all__ = ["MAX_ZONES", "Subnet", "NetworkLayout", "zones_of", "layout_of", "carve"]

MAX_ZONES = 6
DEFAULT_ZONES = 3
_PRIVATE_NEWBITS = 3
_PUBLIC_NEWBITS = 6
# The smallest subnet AWS allows.
MIN_SUBNET_PREFIX = 28


@dataclass(frozen=True)
class Subnet:
    """One subnet: public or private, in one zone."""

    tier: str  # "public" | "private"
    zone: str
    cidr: str


@dataclass(frozen=True)
class NetworkLayout:
    """Zones, subnets, NAT zones and route tables of one cluster's VPC."""

    cidr: str
    zones: tuple[str, ...]
    public: tuple[Subnet, ...]
    private: tuple[Subnet, ...]
    nat_zones: tuple[str, ...]

    @property
    def route_tables(self) -> tuple[str, ...]:
        """Route table keys: one public, one private per zone."""
        return ("public",) + tuple(f"private:{z}" for z in self.zones)

    def nat_zone_for(self, zone: str) -> str:
        """The zone whose NAT gateway serves the private subnet in `zone`."""
        return zone if zone in self.nat_zones else self.nat_zones[0]


def zones_of(cluster: Cluster, region: str) -> list[str]:
    """The zones a cluster uses: its explicit list, or the first `az_count` of the table."""
    if cluster.network.availability_zones:
        return list(cluster.network.availability_zones)
    if region not in REGIONS:
        return []
    count = cluster.network.az_count
    return availability_zones(region)[: DEFAULT_ZONES if count is None else count]


def carve(cidr: str, zone_count: int) -> tuple[list[str], list[str]]:
    """Private and public subnet CIDRs carved from `cidr` for `zone_count` zones."""
    vpc = ipaddress.ip_network(cidr)
    private_prefix = vpc.prefixlen + _PRIVATE_NEWBITS
    public_prefix = vpc.prefixlen + _PUBLIC_NEWBITS
    if public_prefix > MIN_SUBNET_PREFIX:
        raise ValueError(
            f"{cidr} is too small to carve subnets from: public subnets would be "
            f"/{public_prefix}, smaller than /{MIN_SUBNET_PREFIX}"
        )
    eighth = 1 << (vpc.max_prefixlen - private_prefix)
    small = 1 << (vpc.max_prefixlen - public_prefix)
    base = int(vpc.network_address)
    last_eighth = base + 7 * eighth
    private = [str(ipaddress.ip_network((base + i * eighth, private_prefix))) for i in range(zone_count)]
    public = [str(ipaddress.ip_network((last_eighth + i * small, public_prefix))) for i in range(zone_count)]
    return private, public


def layout_of(cluster: Cluster, region: str) -> NetworkLayout:
    """The layout of a cluster that passed the checks."""
    net = cluster.network
    zones = zones_of(cluster, region)
    private, public = net.private_subnets, net.public_subnets
    if private is None or public is None:
        carved_private, carved_public = carve(net.cidr, len(zones))
        private = carved_private if private is None else private
        public = carved_public if public is None else public
    nat_zones = tuple(zones) if net.nat == NAT_PER_AZ else tuple(zones[:1])
    return NetworkLayout(
        cidr=net.cidr,
        zones=tuple(zones),
        public=tuple(Subnet("public", z, c) for z, c in zip(zones, public)),
        private=tuple(Subnet("private", z, c) for z, c in zip(zones, private)),
        nat_zones=nat_zones,
    )
