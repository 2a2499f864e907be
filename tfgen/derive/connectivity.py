"""Which VPCs an environment connects, and how: derived from the model alone.

- hub-and-spoke (default): the hub peers with every edge (the hub requests);
- mesh: every pair of VPCs peers (the hub, else the first by name, requests);
- transit-gateway: one transit gateway per region, every VPC attached to its
  region's, the gateways of every two regions peered;
plus explicit `links` (peerings) in hub-and-spoke and mesh mode.

Checks and emitters both read these lists, so what is checked is what is emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from . import naming
from ..errors import Origin
from ..model import HUB_AND_SPOKE, MESH, TRANSIT_GATEWAY, Cluster, Environment

__all__ = ["Member", "PeeringLink", "members", "peerings_of", "transit_regions", "transit_peerings"]


@dataclass(frozen=True)
class Member:
    """A VPC of the environment: its region and cluster."""

    region: str
    cluster: Cluster
    key: str  # the Terraform stem, naming.cluster_key(region, cluster)

    @property
    def name(self) -> str:
        return f"{self.region}/{self.cluster.name}"


@dataclass(frozen=True)
class PeeringLink:
    """A VPC peering: `requester` asks from its region, `accepter` accepts in its own."""

    requester: Member
    accepter: Member
    explicit: bool = False
    origin: Origin | None = None


def members(env: Environment) -> list[Member]:
    """Every VPC of the environment, sorted by Terraform key."""
    found = [Member(r.name, c, naming.cluster_key(r.name, c.name)) for r, c in env.clusters()]
    return sorted(found, key=lambda m: m.key)


def _orient(a: Member, b: Member) -> tuple[Member, Member]:
    if b.cluster.is_hub and not a.cluster.is_hub:
        return b, a
    if a.cluster.is_hub:
        return a, b
    return (a, b) if a.key <= b.key else (b, a)


def peerings_of(env: Environment, vpcs: list[Member] | None = None) -> list[PeeringLink]:
    """The environment's peerings: implied by its mode, then explicit links.

    `vpcs` is `members(env)` when the caller has it already. Explicit links that
    name an unknown cluster, join a VPC to itself or repeat a pair are left out
    here; the topology checks report them.
    """
    vpcs = members(env) if vpcs is None else vpcs
    links: list[PeeringLink] = []
    if env.connectivity == HUB_AND_SPOKE:
        hubs = [m for m in vpcs if m.cluster.is_hub]
        if len(hubs) == 1:
            links = [PeeringLink(hubs[0], m) for m in vpcs if m is not hubs[0]]
    elif env.connectivity == MESH:
        links = [PeeringLink(*_orient(a, b)) for a, b in combinations(vpcs, 2)]
    if env.connectivity != TRANSIT_GATEWAY:
        seen = {frozenset((p.requester.key, p.accepter.key)) for p in links}
        for link in env.links:
            a, b = _member(env, link.a), _member(env, link.b)
            if a is None or b is None or a.key == b.key:
                continue
            pair = frozenset((a.key, b.key))
            if pair in seen:
                continue
            seen.add(pair)
            links.append(PeeringLink(a, b, explicit=True, origin=link.origin()))
    return links


def _member(env: Environment, name: str) -> Member | None:
    found = env.find_cluster(name)
    return Member(found[0].name, found[1], naming.cluster_key(found[0].name, found[1].name)) if found else None


def transit_regions(env: Environment) -> list[str]:
    """Regions that get a transit gateway (transit-gateway mode only)."""
    if env.connectivity != TRANSIT_GATEWAY:
        return []
    return sorted({m.region for m in members(env)})


def transit_peerings(env: Environment) -> list[tuple[str, str]]:
    """(requester region, accepter region) of each transit gateway peering, sorted."""
    return list(combinations(transit_regions(env), 2))
