"""Assertions in the fleet's words, on the model, a built output or a plan.

    assert_reachable(out, "production/us-east-1/hub", "production/us-west-2/edge", port=443)
    assert_registered(out, "production")
    assert_private(out)

Each reads the Terraform JSON (rendered from the model, read from OUT, or recovered from a plan's configuration:
`tfgen.testing.sources`), never the model's intent alone, so an assertion fails when what would be applied is
broken. A failure names the root, the address and what is missing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from ..checks.gitops_output import evaluate
from ..derive.naming import cluster_key
from ..terraform.index import Block, Root, nested
from ..terraform.references import references
from .sources import Source, roots_of

__all__ = ["ADMIN_PORTS", "assert_reachable", "assert_registered", "assert_private"]

ADMIN_PORTS = (22, 443, 3389, 6443, 10250)
"""Ports `assert_private` refuses to see open to the internet: SSH, HTTPS (the Kubernetes API), RDP, kubelet."""

_WORLD = ("0.0.0.0/0", "::/0")


def _targets(value: Any) -> list[str]:
    """Resource addresses a value refers to (`aws_vpc.x`), in order."""
    return [r.address for r in references(value) if r.kind == "resource"]


class _Network:
    """The VPCs, route tables, routes, peerings, transit gateways and ingress rules of an environment's roots."""

    def __init__(self, roots: Iterable[Root]):
        self.blocks: dict[str, Block] = {}
        for root in roots:
            self.blocks.update(root.resources)

    def of_type(self, type_: str) -> Iterator[Block]:
        return (b for b in self.blocks.values() if b.kind == "resource" and b.type == type_)

    def refers(self, block: Block, argument: str) -> list[str]:
        return _targets(block.body.get(argument))

    def cidr(self, vpc: str) -> ipaddress.IPv4Network | None:
        value = self.blocks[vpc].body.get("cidr_block") if vpc in self.blocks else None
        try:
            return ipaddress.IPv4Network(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def private_tables(self, vpc: str) -> list[str]:
        """Route tables of `vpc` whose default route is not an internet gateway (where the cluster lives)."""
        tables = [b.address for b in self.of_type("aws_route_table") if vpc in self.refers(b, "vpc_id")]
        public = {t for r in self.of_type("aws_route") if r.body.get("destination_cidr_block") == "0.0.0.0/0"
                  and any(g.startswith("aws_internet_gateway.") for g in self.refers(r, "gateway_id"))
                  for t in self.refers(r, "route_table_id")}
        return [t for t in tables if t not in public]

    def peering_vpcs(self, address: str) -> set[str]:
        """The two VPCs a peering connection (or its accepter) joins."""
        if address.startswith("aws_vpc_peering_connection_accepter."):
            accepter = self.blocks.get(address)
            connections = self.refers(accepter, "vpc_peering_connection_id") if accepter else []
            address = connections[0] if connections else ""
        block = self.blocks.get(address)
        return set(self.refers(block, "vpc_id") + self.refers(block, "peer_vpc_id")) if block else set()

    def gateways_of(self, vpc: str) -> set[str]:
        """Transit gateways `vpc` is attached to."""
        found = set()
        for attachment in self.of_type("aws_ec2_transit_gateway_vpc_attachment"):
            if vpc in self.refers(attachment, "vpc_id"):
                found.update(self.refers(attachment, "transit_gateway_id"))
        return found

    def joined_gateways(self, gateway: str) -> set[str]:
        """Transit gateways reachable from `gateway` over peering attachments (itself included)."""
        edges = [set(self.refers(p, "transit_gateway_id") + self.refers(p, "peer_transit_gateway_id"))
                 for p in self.of_type("aws_ec2_transit_gateway_peering_attachment")]
        seen, frontier = {gateway}, [gateway]
        while frontier:
            current = frontier.pop()
            for edge in edges:
                if current in edge:
                    for other in edge - seen:
                        seen.add(other)
                        frontier.append(other)
        return seen

    def routes_to(self, table: str, destination: ipaddress.IPv4Network, vpc: str) -> list[str]:
        """Routes of `table` that carry `destination` to VPC `vpc` (a peering of the two, or a joined gateway)."""
        found = []
        for route in self.of_type("aws_route"):
            if table not in self.refers(route, "route_table_id"):
                continue
            try:
                covered = destination.subnet_of(ipaddress.IPv4Network(route.body.get("destination_cidr_block")))
            except (TypeError, ValueError):
                continue
            if not covered:
                continue
            for peering in self.refers(route, "vpc_peering_connection_id"):
                if vpc in self.peering_vpcs(peering):
                    found.append(route.address)
            for gateway in self.refers(route, "transit_gateway_id"):
                if self.gateways_of(vpc) & self.joined_gateways(gateway):
                    found.append(route.address)
        return found

    def admits(self, cluster: str, source: ipaddress.IPv4Network, port: int) -> list[str]:
        """Ingress rules on the control plane's security groups admitting TCP `port` from `source`: rule
        resources of either kind (`aws_security_group_rule` is what a plan lowered to provider 3.x holds)."""
        groups = set(_targets(nested(self.blocks[cluster].body.get("vpc_config")).get("security_group_ids")))
        found = []
        for rule in self.of_type("aws_vpc_security_group_ingress_rule"):
            if groups & set(self.refers(rule, "security_group_id")) and _opens(rule.body, [rule.body.get("cidr_ipv4")],
                                                                               source, port):
                found.append(rule.address)
        for rule in self.of_type("aws_security_group_rule"):
            body = {**rule.body, "ip_protocol": rule.body.get("protocol")}
            if rule.body.get("type") == "ingress" and groups & set(self.refers(rule, "security_group_id")) \
                    and _opens(body, rule.body.get("cidr_blocks") or [], source, port):
                found.append(rule.address)
        return found


def _opens(body: dict[str, Any], cidrs: list[Any], source: ipaddress.IPv4Network, port: int) -> bool:
    if body.get("ip_protocol") not in ("tcp", "6", "-1", "all") or not _covers_port(body, port):
        return False
    for cidr in cidrs:
        try:
            if source.subnet_of(ipaddress.IPv4Network(cidr)):
                return True
        except (TypeError, ValueError):
            continue
    return False


def _covers_port(body: dict[str, Any], port: int) -> bool:
    if body.get("ip_protocol") in ("-1", "all"):
        return True
    low, high = body.get("from_port"), body.get("to_port")
    return isinstance(low, int) and isinstance(high, int) and low <= port <= high


@dataclass(frozen=True)
class _End:
    environment: str
    region: str
    cluster: str

    @property
    def key(self) -> str:
        return cluster_key(self.region, self.cluster)

    def __str__(self) -> str:
        return f"{self.environment}/{self.region}/{self.cluster}"


def _end(path: str) -> _End:
    parts = path.split("/")
    if len(parts) != 3 or not all(parts):
        raise AssertionError(f"{path!r} is no cluster path; write environment/region/cluster, "
                             "e.g. production/us-west-2/edge")
    return _End(*parts)


def _environment_roots(roots: dict[str, Root], environment: str) -> dict[str, Root]:
    """The roots of one environment: named after it (or `<env>--<cell>`); a plan's or one root's alone."""
    if set(roots) == {"plan"}:
        return roots
    mine = {name: root for name, root in roots.items()
            if name == environment or name.startswith(f"{environment}--")}
    if not mine:
        raise AssertionError(f"no root of environment {environment!r} in {sorted(roots)}; "
                             "name an environment the fleet builds")
    return mine


def assert_reachable(source: Source, origin: str, destination: str, *, port: int | None = None) -> None:
    """Assert `origin` routes to `destination` and back (both `env/region/cluster`) and, with `port`, that the
    destination's control plane admits TCP `port` from the origin VPC's CIDR.

    Routes are read from the origin's and the destination's private route tables: each must carry the other's
    CIDR through a peering of the two VPCs or a transit gateway joined to the other's. `source` is a `Fleet`,
    a built output (or one root of it) or a `Plan`.
    """
    a, b = _end(origin), _end(destination)
    if a.environment != b.environment:
        raise AssertionError(f"{a} and {b} are in different environments, which share no network")
    network = _Network(_environment_roots(roots_of(source), a.environment).values())
    problems = []
    for here, there in ((a, b), (b, a)):
        vpc, other = f"aws_vpc.{here.key}", f"aws_vpc.{there.key}"
        if vpc not in network.blocks:
            raise AssertionError(f"{here}: no {vpc} in the roots of {here.environment}")
        cidr = network.cidr(other)
        if cidr is None:
            raise AssertionError(f"{there}: {other} has no literal cidr_block to route to")
        tables = network.private_tables(vpc)
        if not tables:
            problems.append(f"{here}: {vpc} has no private route table")
        for table in tables:
            if not network.routes_to(table, cidr, other):
                problems.append(f"{here} -> {there}: {table} has no route for {cidr} through a peering or transit "
                                f"gateway joined to {other}")
    if port is not None and not problems:
        cluster = f"aws_eks_cluster.{b.key}"
        if cluster not in network.blocks:
            raise AssertionError(f"{b}: no {cluster} in the roots of {b.environment}")
        source_cidr = network.cidr(f"aws_vpc.{a.key}")
        if source_cidr is not None and not network.admits(cluster, source_cidr, port):
            problems.append(f"{a} -> {b}: no ingress rule on the security groups of {cluster}'s vpc_config "
                            f"admits TCP {port} from {source_cidr}")
    if problems:
        raise AssertionError(f"{origin} cannot reach {destination}" + (f" on port {port}" if port else "")
                             + ":\n  " + "\n  ".join(problems))


def assert_registered(source: Source, environment: str) -> None:
    """Assert every edge cluster of `environment` is managed by Argo CD on its hub: the GitOps path tfgen checks
    as NET300-NET307 (outputs, service accounts, routes, TCP 443, private endpoint, deployer trust, access entry,
    permission) holds for each, or with `argocd: managed` the capability's access entry does. `source` is a
    `Fleet` or a built output: the path starts at the root's outputs, which a plan keeps only as expressions."""
    roots = _environment_roots(roots_of(source), environment)
    broken, edges = [], 0
    for name, root in roots.items():
        verdicts = evaluate(name, root)
        edges += len({v.key for v in verdicts if v.key})
        broken += [f"{name}/{v.subject}: {v.code} {v.title}: {v.why} ({v.place.file}, {v.place.address})"
                   for v in verdicts if not v.holds]
    if not broken and not edges:
        broken.append(f"{environment}: no edge cluster is registered (no `gitops` output names any)")
    if broken:
        raise AssertionError(f"{environment}: not every edge is registered with Argo CD:\n  " + "\n  ".join(broken))


def assert_private(source: Source, *, ports: Iterable[int] = ADMIN_PORTS) -> None:
    """Assert no cluster has a public API endpoint and no security group admits the internet (0.0.0.0/0, ::/0)
    on an admin port (`ADMIN_PORTS` unless given)."""
    ports = tuple(ports)
    problems = []
    for name, root in roots_of(source).items():
        for cluster in root.of_type("aws_eks_cluster"):
            config = nested(cluster.body.get("vpc_config"))
            if config.get("endpoint_public_access") is not False:
                problems.append(f"{name}/{cluster.file}: {cluster.address}: vpc_config.endpoint_public_access is "
                                f"{config.get('endpoint_public_access')!r} (a public endpoint unless false)")
        for rule in root.of_type("aws_vpc_security_group_ingress_rule"):
            world = rule.body.get("cidr_ipv4") in _WORLD or rule.body.get("cidr_ipv6") in _WORLD
            opened = [p for p in ports if _covers_port(rule.body, p)]
            if world and opened:
                problems.append(f"{name}/{rule.file}: {rule.address}: admits the internet on port(s) {opened}")
        for rule in root.of_type("aws_security_group_rule"):
            body = {**rule.body, "ip_protocol": rule.body.get("protocol")}
            cidrs = set(rule.body.get("cidr_blocks") or []) | set(rule.body.get("ipv6_cidr_blocks") or [])
            opened = [p for p in ports if _covers_port(body, p)]
            if rule.body.get("type") == "ingress" and cidrs & set(_WORLD) and opened:
                problems.append(f"{name}/{rule.file}: {rule.address}: admits the internet on port(s) {opened}")
        for group in root.of_type("aws_security_group"):
            for ingress in group.body.get("ingress") or []:
                if not isinstance(ingress, dict):
                    continue
                cidrs = set(ingress.get("cidr_blocks") or []) | set(ingress.get("ipv6_cidr_blocks") or [])
                body = {"ip_protocol": ingress.get("protocol"), "from_port": ingress.get("from_port"),
                        "to_port": ingress.get("to_port")}
                opened = [p for p in ports if _covers_port(body, p)]
                if cidrs & set(_WORLD) and opened:
                    problems.append(f"{name}/{group.file}: {group.address}: an inline ingress admits the internet "
                                    f"on port(s) {opened}")
    if problems:
        raise AssertionError("not private:\n  " + "\n  ".join(problems))
