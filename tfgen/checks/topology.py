"""The network as a graph, and the rules that hold on it.

The only module that imports networkx (it runs on 2.6, which checkov pins, and
on 3.x). Nodes are VPCs (`env/region/cluster`) and, in transit-gateway mode,
transit gateways (`env/tgw/region`); edges are peerings, attachments and
gateway peerings, with plain-dict attributes.

Reachability follows AWS: a VPC peering is not transitive (a VPC reaches only
its direct peers through it), transit gateways are (attached VPCs reach every
VPC attached to a gateway connected to theirs).
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
from collections import Counter, defaultdict
from typing import Iterator

import networkx as nx

from ..derive.connectivity import members, peerings_of, transit_peerings, transit_regions
from ..errors import FINDINGS_PER_CODE, Finding, Severity
from ..model import CONNECTIVITY_MODES, TRANSIT_GATEWAY, Environment, Fleet

__all__ = ["QUOTAS", "build_graph", "reachable", "check_topology", "Reachability"]

# AWS quotas: (default, hard maximum or None when only the default is documented). Peering attachments
# per transit gateway (50) are not here: one gateway per region has one fewer than the regions tfgen knows.
QUOTAS = {
    "peerings_per_vpc": (50, 125),
    "routes_per_route_table": (50, 1000),
    "tgw_attachments": (5000, None),
}

# RFC 1918 blocks as (first, last) addresses: integer compares, not ipaddress objects, in the hot loop.
_PRIVATE = [(int(n.network_address), int(n.broadcast_address)) for n in
            map(ipaddress.IPv4Network, ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))]


def vpc_node(env: str, region: str, cluster: str) -> str:
    return f"{env}/{region}/{cluster}"


def tgw_node(env: str, region: str) -> str:
    return f"{env}/tgw/{region}"


def build_graph(env: Environment) -> nx.Graph:
    """The environment's topology: VPC and gateway nodes, link edges."""
    graph = nx.Graph(environment=env.name, connectivity=env.connectivity)
    vpcs = members(env)
    for m in vpcs:
        try:
            cidr = ipaddress.IPv4Network(m.cluster.network.cidr)
        except (ValueError, TypeError):
            cidr = None
        graph.add_node(
            vpc_node(env.name, m.region, m.cluster.name),
            kind="vpc", region=m.region, cluster=m.cluster.name, role=m.cluster.role,
            cidr=cidr, obj=m.cluster,
        )
    for link in peerings_of(env, vpcs):
        a = vpc_node(env.name, link.requester.region, link.requester.cluster.name)
        b = vpc_node(env.name, link.accepter.region, link.accepter.cluster.name)
        graph.add_edge(a, b, kind="peering", requester=a, accepter=b, explicit=link.explicit)
    for region in transit_regions(env):
        graph.add_node(tgw_node(env.name, region), kind="tgw", region=region)
    for m in vpcs if env.connectivity == TRANSIT_GATEWAY else ():
        graph.add_edge(vpc_node(env.name, m.region, m.cluster.name), tgw_node(env.name, m.region),
                       kind="attachment")
    for a, b in transit_peerings(env):
        graph.add_edge(tgw_node(env.name, a), tgw_node(env.name, b), kind="tgw-peering",
                       requester=tgw_node(env.name, a), accepter=tgw_node(env.name, b))
    return graph


class Reachability:
    """Who can route to whom: direct peers, or VPCs on connected transit gateways."""

    def __init__(self, graph: nx.Graph):
        self.graph = graph
        tgws = [n for n, d in graph.nodes(data=True) if d["kind"] == "tgw"]
        tgw_graph = graph.subgraph(tgws)
        self.component: dict[str, int] = {}
        for i, component in enumerate(nx.connected_components(tgw_graph)):
            for node in component:
                self.component[node] = i
        self.attached: dict[str, set[int]] = defaultdict(set)
        for a, b, d in graph.edges(data=True):
            if d["kind"] == "attachment":
                vpc, tgw = (a, b) if graph.nodes[a]["kind"] == "vpc" else (b, a)
                self.attached[vpc].add(self.component[tgw])

    def __call__(self, a: str, b: str) -> bool:
        if a == b:
            return True
        edge = self.graph.get_edge_data(a, b)
        if edge and edge["kind"] == "peering":
            return True
        return bool(self.attached.get(a, set()) & self.attached.get(b, set()))


def reachable(graph: nx.Graph, a: str, b: str) -> bool:
    """Whether VPC `a` can route to VPC `b` under AWS semantics."""
    return Reachability(graph)(a, b)


def check_topology(fleet: Fleet, *, strict: bool = False) -> list[Finding]:
    """Every topology finding of every environment."""
    findings: list[Finding] = []
    for env in fleet.environments.values():
        if env.connectivity not in CONNECTIVITY_MODES:
            continue  # reported by the model checks; the graph would only echo it
        graph = build_graph(env)
        reach = Reachability(graph)
        for rule in (_check_cidr_space, _check_links, _check_reach, _check_quotas):
            findings.extend(rule(env, graph, reach))
        findings.extend(_check_overlaps(env, graph, reach, strict))
    return findings


def _vpcs(graph: nx.Graph):
    return [(n, d) for n, d in graph.nodes(data=True) if d["kind"] == "vpc"]


def _finding(code, message, hint, node_data=None, *, path, field="", severity=Severity.ERROR, origin=None, count=1):
    if origin is None and node_data is not None:
        obj = node_data["obj"]
        origin = obj.network.origin(field) if field else obj.origin()
    return Finding(code=code, message=message, hint=hint, path=path, origin=origin, severity=severity, count=count)


def _check_cidr_space(env, graph, reach) -> Iterator[Finding]:
    for node, data in _vpcs(graph):
        cidr = data["cidr"]
        if cidr is not None and not any(
                first <= int(cidr.network_address) and int(cidr.broadcast_address) <= last
                for first, last in _PRIVATE):
            yield _finding("NET203", f"VPC {cidr} is not private (RFC 1918) address space",
                           "use blocks from 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", data,
                           path=node, field="cidr", severity=Severity.WARNING)


# Overlapping pairs classified (connected, sharing a peer, or apart) per environment; the rest are counted.
# A thousand VPCs on one block are a million pairs: never enumerate them all.
OVERLAP_PAIRS = 10 * FINDINGS_PER_CODE


def _check_overlaps(env, graph, reach, strict) -> Iterator[Finding]:
    """Sweep VPCs by start address, open blocks in a heap: O(n log n) to count every overlapping pair.

    The first `OVERLAP_PAIRS` pairs are classified and reported one by one; the others become one
    NET214 finding with their number, an error when any overlap in the environment is between VPCs
    that route to each other or share a peer (decided per link and per peer set, never per pair).
    """
    blocks = sorted(
        ((int(d["cidr"].network_address), int(d["cidr"].broadcast_address), n, d)
         for n, d in _vpcs(graph) if d["cidr"] is not None),
        key=lambda b: (b[0], -b[1], b[2]),
    )
    peers = _peer_sets(graph)
    ends: list[tuple[int, int]] = []
    active: dict[int, tuple[str, dict]] = {}  # insertion order: the order pairs are reported in
    classified = unclassified = 0
    first_left_out = None
    errors = False
    for index, (start, end, node, data) in enumerate(blocks):
        while ends and ends[0][0] < start:
            active.pop(heapq.heappop(ends)[1])
        room = OVERLAP_PAIRS - classified
        for other, other_data in itertools.islice(active.values(), room):
            classified += 1
            found = _classify_overlap(graph, peers, reach, strict, node, data, other, other_data)
            errors = errors or found.severity is Severity.ERROR
            yield found
        if len(active) > room:
            unclassified += len(active) - room
            first_left_out = first_left_out or (node, data)
        heapq.heappush(ends, (end, index))
        active[index] = (node, data)
    if unclassified:
        node, data = first_left_out
        severe = strict or errors or _connected_overlap(graph, peers, reach, blocks)
        yield _finding("NET214", f"{unclassified} more pairs of overlapping VPCs in {env.name} (tfgen classifies "
                       f"the first {OVERLAP_PAIRS}); " + ("some of them route to each other or share a peer"
                                                          if severe else "none of them are connected"),
                       "give every VPC its own block: set `cidr_pool:` on the environment and drop the VPCs' "
                       "`cidr:` to have tfgen allocate disjoint ones", data, path=node, field="cidr",
                       severity=Severity.ERROR if severe else Severity.WARNING, count=unclassified)


def _peer_sets(graph: nx.Graph) -> dict[str, frozenset[str]]:
    """Every VPC's peering neighbours, computed once."""
    peers: dict[str, set[str]] = defaultdict(set)
    for a, b, d in graph.edges(data=True):
        if d["kind"] == "peering":
            peers[a].add(b)
            peers[b].add(a)
    return {node: frozenset(p) for node, p in peers.items()}


def _classify_overlap(graph, peers, reach, strict, node, data, other, other_data) -> Finding:
    if reach(node, other) or reach(other, node):
        return _finding("NET211", f"VPC {data['cidr']} of {node} overlaps {other_data['cidr']} of {other}, "
                        "and the two are connected: AWS rejects routes between overlapping VPCs",
                        "give one of them a disjoint CIDR block", data, path=node, field="cidr")
    shared = peers.get(node, frozenset()) & peers.get(other, frozenset())
    if shared:
        return _overlap_at_shared_peer(min(shared), node, data, other, other_data)
    return _finding("NET212", f"VPC {data['cidr']} of {node} overlaps {other_data['cidr']} of {other}; "
                    "they are not connected now, but can never be",
                    "give one of them a disjoint CIDR block", data, path=node, field="cidr",
                    severity=Severity.ERROR if strict else Severity.WARNING)


def _any_overlap(intervals) -> bool:
    """Whether any two of the (first, last) address ranges overlap: sort, then compare with the furthest end."""
    furthest = -1
    for first, last in sorted(intervals):
        if first <= furthest:
            return True
        furthest = max(furthest, last)
    return False


def _connected_overlap(graph, peers, reach, blocks) -> bool:
    """Whether two overlapping VPCs route to each other or share a peer, in O(links log links):
    along each peering, among each VPC's peers, and among the VPCs of each transit gateway network."""
    span = {node: (start, end) for start, end, node, _ in blocks}
    for node, neighbours in peers.items():
        ranges = [span[n] for n in neighbours if n in span]
        if _any_overlap(ranges + [span[node]] if node in span else ranges):
            return True
    by_network: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for node, networks in reach.attached.items():
        for network in networks:
            if node in span:
                by_network[network].append(span[node])
    return any(_any_overlap(ranges) for ranges in by_network.values())


def _overlap_at_shared_peer(peer: str, node: str, data: dict, other: str, other_data: dict) -> Finding:
    how = ("two routes to one CIDR, which AWS rejects at apply" if data["cidr"] == other_data["cidr"]
           else "overlapping routes, so part of one VPC's traffic goes to the other")
    return _finding("NET213", f"VPC {data['cidr']} of {node} overlaps {other_data['cidr']} of {other}, and both "
                    f"are peered with {peer}: its route tables would get {how}",
                    "give one of them a disjoint CIDR block", data, path=node, field="cidr")


def _check_links(env: Environment, graph, reach) -> Iterator[Finding]:
    name = env.name
    known = {f"{r.name}/{c.name}" for r, c in env.clusters()}
    seen: Counter = Counter()
    implied = {frozenset((a, b)) for a, b, d in graph.edges(data=True) if d["kind"] == "peering" and not d["explicit"]}
    for link in env.links:
        origin = link.origin()
        path = f"{name}/links/{link.a}--{link.b}"
        if env.connectivity == TRANSIT_GATEWAY:
            yield _finding("NET226", f"explicit link {link.a} -- {link.b} in transit-gateway mode",
                           "remove it: every VPC already reaches every other through the transit gateways",
                           path=path, origin=origin)
            continue
        ends = [env.find_cluster(x) for x in (link.a, link.b)]
        for label, found in zip((link.a, link.b), ends):
            if found is None:
                yield _finding("NET223", f"link names {label!r}, which is no cluster of {name}",
                               f"name a cluster as region/cluster; known: {', '.join(sorted(known))}",
                               path=path, origin=origin)
        if None in ends:
            continue
        a, b = (vpc_node(name, r.name, c.name) for r, c in ends)
        if a == b:
            yield _finding("NET222", f"link joins {link.a} to itself", "remove the link", path=path, origin=origin)
            continue
        pair = frozenset((a, b))
        seen[pair] += 1
        if seen[pair] > 1 or pair in implied:
            why = "listed twice" if seen[pair] > 1 else f"already peered by {env.connectivity}"
            yield _finding("NET221", f"link {link.a} -- {link.b} is {why}: a duplicate peering",
                           "remove the duplicate link", path=path, origin=origin)


def _check_reach(env: Environment, graph, reach) -> Iterator[Finding]:
    for requirement in env.reach:
        origin = requirement.origin()
        path = f"{env.name}/reach/{requirement.source}->{requirement.target}"
        ends = [env.find_cluster(x) for x in (requirement.source, requirement.target)]
        if None in ends:
            missing = requirement.source if ends[0] is None else requirement.target
            yield _finding("NET223", f"reach names {missing!r}, which is no cluster of {env.name}",
                           "name a cluster as region/cluster (or a region holding one cluster)",
                           path=path, origin=origin)
            continue
        a, b = (vpc_node(env.name, r.name, c.name) for r, c in ends)
        if not reach(a, b):
            yield _finding("NET225", f"{requirement.source} cannot reach {requirement.target}: VPC peering is not "
                           "transitive, and no peering or transit gateway joins them",
                           f"add `links: [[{requirement.source}, {requirement.target}]]`, or use mesh or "
                           "transit-gateway connectivity", path=path, origin=origin)


def _check_quotas(env: Environment, graph, reach) -> Iterator[Finding]:
    default, hard = QUOTAS["peerings_per_vpc"]
    for node, data in _vpcs(graph):
        count = sum(1 for _, _, d in graph.edges(node, data=True) if d["kind"] == "peering")
        if count > hard:
            yield _finding("NET231", f"{node} has {count} VPC peerings; AWS allows at most {hard}",
                           "use transit-gateway connectivity for this many peers", data, path=node)
        elif count > default:
            yield _finding("NET232", f"{node} has {count} VPC peerings, over the default quota of {default}",
                           "ask AWS to raise 'Active VPC peering connections per VPC' before applying",
                           data, path=node, severity=Severity.WARNING)
    default, hard = QUOTAS["routes_per_route_table"]
    vpcs = _vpcs(graph)
    for node, data in vpcs:
        if env.connectivity == TRANSIT_GATEWAY:
            routes = len(vpcs)  # the default route, and one per other VPC through the gateway
        else:
            routes = 1 + sum(1 for nb in graph.neighbors(node) if graph.nodes[nb]["kind"] == "vpc")
        if routes > hard:
            yield _finding("NET233", f"route tables of {node} need {routes} routes; AWS allows at most {hard}",
                           "summarise peers into larger blocks or reduce the peers of this VPC", data, path=node)
        elif routes > default:
            yield _finding("NET234", f"route tables of {node} need {routes} routes, over the default quota of "
                           f"{default}", "ask AWS to raise 'Routes per route table' before applying",
                           data, path=node, severity=Severity.WARNING)
    default, _ = QUOTAS["tgw_attachments"]
    for node, data in graph.nodes(data=True):
        if data["kind"] != "tgw":
            continue
        attachments = sum(1 for _, _, d in graph.edges(node, data=True) if d["kind"] == "attachment")
        if attachments > default:
            yield _finding("NET235", f"{node} has {attachments} attachments, over the quota of {default}",
                           "ask AWS to raise 'Attachments per transit gateway'", path=node,
                           origin=env.origin("connectivity"), severity=Severity.WARNING)

