"""The GitOps path check's questions about one root, asked of its index.

`Lookups` reads a root's index (`tfgen.terraform.index.Root`: resources by
address with the file each is in, outputs), its references (the one grammar,
`tfgen.terraform.references`) and IAM policy statements (the one normaliser,
`tfgen.terraform.statements`). The network steps answer, from the resources
alone, whether a VPC routes to another (VPC peering, or transit gateways with
their route tables, propagations, static routes and peerings) and whether an
EKS control plane admits TCP 443 from a CIDR. Each answers `(place, why)`:
where the step is written, and why it does not hold (empty when it does).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from ..derive.gitops_path import HTTPS
from ..derive.iam import ASSUME_ROLE, ASSUME_ROLE_WITH_WEB_IDENTITY, POD_IDENTITY_SERVICE
from ..terraform.index import Root
from ..terraform.references import parse
from ..terraform.statements import Statement, statements

__all__ = ["Place", "Verdict", "Lookups", "refs", "trust", "covers"]

_TCP = ("tcp", "6")
_ALL = ("-1", "all")
_TAG = "aws:RequestTag/kubernetes-"


@dataclass(frozen=True)
class Place:
    """Where a step of the path is written, or would have to be: a file of the root and an address."""

    file: str
    address: str

    @property
    def block(self) -> tuple[str, str]:
        """`(type, name)` of the block the address is in: `("output", "gitops")`, `("aws_vpc", "hub")`."""
        type_, _, rest = self.address.partition(".")
        return type_, rest.split(".")[0]


@dataclass(frozen=True)
class Verdict:
    """A rule on one subject: holds, or breaks at `place` because of `why`."""

    code: str
    title: str
    subject: str
    key: str | None
    place: Place
    why: str = ""
    hint: str = ""

    @property
    def holds(self) -> bool:
        return not self.why

    @property
    def summary(self) -> str:
        """One line for a report: the subject, what must hold, and why it does not."""
        return f"{self.subject}: {self.title}" + (f": {self.why}" if self.why else "")


def refs(value) -> tuple[str, ...] | list[str]:
    """Every resource (`type.name`) a value (a string, or a list of them) refers to."""
    if isinstance(value, str):
        return _refs_in(value)
    found: list[str] = []
    for item in value if isinstance(value, list) else ():
        if isinstance(item, str):
            found.extend(_refs_in(item))
    return found


@lru_cache(maxsize=1 << 16)
def _refs_in(text: str) -> tuple[str, ...]:
    # A root repeats a few thousand reference strings; the path check asks about each many times.
    return tuple(r.address for r in parse(text).references if r.kind == "resource")


def trust(policy) -> tuple[Statement, ...]:
    """The statements of a policy (none when it cannot be read)."""
    return statements(policy) or ()


@lru_cache(maxsize=1 << 14)
def _range(block) -> tuple[int, int, int, int] | None:
    """(version, first, last, prefix length) of a CIDR string; None when it is not one."""
    if not isinstance(block, str):
        return None
    try:
        network = ipaddress.ip_network(block)
    except ValueError:
        return None
    return network.version, int(network.network_address), int(network.broadcast_address), network.prefixlen


def covers(block, cidr: str | None) -> bool:
    """Whether CIDR `block` contains `cidr` (both strings; False when either is not a CIDR)."""
    return _contains(_range(block), _range(cidr))


def _contains(outer, inner) -> bool:
    """Whether the range `outer` (`_range`'s) contains `inner`; False when either is None."""
    return bool(outer and inner and outer[0] == inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2])


class Lookups:
    """The GitOps path's questions about one root, read from its index: each index is asked once per check."""

    def __init__(self, root: Root):
        self.root = root
        self.resources: dict[str, dict] = {a: b.body for a, b in root.resources.items() if b.kind == "resource"}
        self.outputs: dict[str, object] = {name: root.output_value(name) for name in root.outputs}
        self._routes: dict[str, dict[tuple[int, int, int], list[tuple[str, dict]]]] | None = None
        self._associated: dict[str, str | None] | None = None
        self._policies: dict[str, list[tuple[str, object]]] | None = None
        self._tgw: dict[str, dict] | None = None

    def of_type(self, type_: str) -> list[tuple[str, dict]]:
        """`(address, body)` of every resource of `type_`, in file order."""
        return [(b.address, b.body) for b in self.root.of_type(type_)]

    def place(self, address: str, fallback: str = "") -> Place:
        """The place of `address` (of `fallback` when `address` is not in the root)."""
        if self.root.file_of(address) is None and fallback:
            address = fallback
        file = self.root.file_of(address)
        return Place(file or ("outputs.tf.json" if address.startswith("output.") else "?"), address)

    def target(self, value, type_: str) -> str | None:
        """The first resource of `type_` in this root that `value` refers to."""
        return next((a for a in refs(value) if a.startswith(f"{type_}.") and a in self.resources), None)

    def refers(self, value, address: str) -> bool:
        return address in refs(value)

    def role_policies(self, role: str) -> list[tuple[str, object]]:
        """`(address, policy)` of every permission policy of `role` in this root (inline, role policy, attached)."""
        if self._policies is None:  # by role, once: every edge asks about the management role
            self._policies = {}
            for address, body in self.of_type("aws_iam_role_policy"):
                for named in refs(body.get("role")):
                    self._policies.setdefault(named, []).append((address, body.get("policy")))
            for _, body in self.of_type("aws_iam_role_policy_attachment"):
                policy = self.target(body.get("policy_arn"), "aws_iam_policy")
                for named in refs(body.get("role")) if policy else ():
                    self._policies.setdefault(named, []).append((policy, self.resources[policy].get("policy")))
        found = [(a, p) for a, p in self._policies.get(role, []) if not a.startswith("aws_iam_policy.")]
        found += [(role, p.get("policy")) for p in self.resources[role].get("inline_policy") or []
                  if isinstance(p, dict)]
        return found + [(a, p) for a, p in self._policies.get(role, []) if a.startswith("aws_iam_policy.")]

    # -- who may use a role ------------------------------------------------------------

    def _trust(self, role: str) -> tuple[Statement, ...]:
        return trust(self.resources[role].get("assume_role_policy"))

    def irsa_admits(self, role: str, cluster: str, namespace: str, name: str) -> tuple[Place, str]:
        """Whether `role`'s trust lets service account `namespace/name` of `cluster` in through IRSA."""
        subject = f"system:serviceaccount:{namespace}:{name}"
        for statement in self._trust(role):
            providers = [p for p in refs(list(statement.principal("Federated")))
                         if self.refers(self.resources.get(p, {}).get("url"), cluster)]
            subs = [v for k, v in statement.condition("StringEquals", "StringLike").items() if k.endswith(":sub")]
            if statement.allows(ASSUME_ROLE_WITH_WEB_IDENTITY) and providers and any(subject in v for v in subs):
                return self.place(role), ""
        return self.place(role), f"the trust of {role} lets no web identity {subject} of {cluster}'s OIDC provider in"

    def pod_identity_admits(self, role: str, cluster: str, namespace: str, name: str) -> tuple[Place, str]:
        """Whether service account `namespace/name` of `cluster` gets `role` through EKS Pod Identity:
        an association, and a trust for the Pod Identity service whose session tags admit the account."""
        account = f"{namespace}/{name}"
        association = next((a for a, b in self.of_type("aws_eks_pod_identity_association")
                            if self.refers(b.get("cluster_name"), cluster) and b.get("namespace") == namespace
                            and b.get("service_account") == name), None)
        if association is None:
            return self.place(role), f"no aws_eks_pod_identity_association on {cluster} for {account}"
        if not self.refers(self.resources[association].get("role_arn"), role):
            return self.place(association), f"{association} does not give {account} the role {role}"
        for statement in self._trust(role):
            tags = statement.condition("StringEquals", "StringLike")
            if (statement.allows(ASSUME_ROLE) and POD_IDENTITY_SERVICE in statement.principal("Service")
                    and namespace in tags.get(f"{_TAG}namespace", [namespace])
                    and name in tags.get(f"{_TAG}service-account", [name])):
                return self.place(association), ""
        return self.place(role), f"the trust of {role} lets no Pod Identity session of {account} in"

    # -- VPCs and their route tables --------------------------------------------------

    def vpc_of_subnets(self, subnets) -> str | None:
        for subnet in refs(subnets):
            vpc = self.target(self.resources.get(subnet, {}).get("vpc_id"), "aws_vpc")
            if vpc:
                return vpc
        return None

    def tables_of(self, subnets) -> list[tuple[str, str | None]]:
        """`(subnet, route table or None)` for each subnet referred to (None: the VPC's main table)."""
        if self._associated is None:  # once: every edge asks about its subnets and the hub's
            self._associated = {}
            for _, body in self.of_type("aws_route_table_association"):
                for subnet in refs(body.get("subnet_id")):
                    self._associated.setdefault(subnet, self.target(body.get("route_table_id"), "aws_route_table"))
        return [(s, self._associated.get(s)) for s in refs(subnets) if s.startswith("aws_subnet.")]

    def cidr(self, vpc: str | None) -> str | None:
        value = self.resources.get(vpc or "", {}).get("cidr_block")
        return value if isinstance(value, str) else None

    def _peer(self, address: str | None) -> str | None:
        """A peering accepter stands for its connection (routes name the accepter)."""
        if address and address.startswith("aws_vpc_peering_connection_accepter."):
            return self.target(self.resources[address].get("vpc_peering_connection_id"), "aws_vpc_peering_connection")
        return address

    def routes(self, table: str, source: str, destination: str) -> str:
        """Why `table` (in VPC `source`) does not route VPC `destination`'s CIDR to it; empty when it does.
        AWS takes the most specific route that covers the address, so only that one is judged."""
        cidr = self.cidr(destination)
        if self._routes is None:  # by table and destination, once: N edges ask this about O(N) tables of N routes
            self._routes = {}
            for address, body in self.of_type("aws_route"):
                span = _range(body.get("destination_cidr_block"))
                for target in refs(body.get("route_table_id")) if span else ():
                    self._routes.setdefault(target, {}).setdefault((span[0], span[1], span[3]), []).append(
                        (address, body))
        inner = _range(cidr)
        # the most specific route whose destination contains the CIDR: the network at each prefix length
        # from the CIDR's own up (`covers`), looked up rather than compared with every route of the table
        routes, best = self._routes.get(table, {}), None
        bits = 32 if inner and inner[0] == 4 else 128
        for length in range(inner[3], -1, -1) if inner else ():
            network = inner[1] >> (bits - length) << (bits - length) if length else 0
            if (inner[0], network, length) in routes:
                best = max(routes[(inner[0], network, length)], key=lambda r: r[0])
                break
        if best is None:
            return f"it has no route to {destination}'s CIDR {cidr}"
        address, body = best
        connection = body.get("vpc_peering_connection_id")
        peering = self._peer(self.target(connection, "aws_vpc_peering_connection")
                             or self.target(connection, "aws_vpc_peering_connection_accepter"))
        gateway = self.target(body.get("transit_gateway_id"), "aws_ec2_transit_gateway")
        if peering:
            sides = {self.target(self.resources[peering].get(k), "aws_vpc") for k in ("vpc_id", "peer_vpc_id")}
            why = "" if sides == {source, destination} else f"{peering} does not join {source} and {destination}"
        elif gateway:
            why = self.transit(source, gateway, destination)
        else:
            why = "it names no VPC peering or transit gateway of this root"
        return f"its route to {cidr}, {address}: {why}" if why else ""

    # -- transit gateways --------------------------------------------------------------

    def _gateways(self) -> dict[str, dict]:
        """The transit gateways' wiring, indexed once (a fleet of N edges asks about it O(N) times): VPC
        attachments by (VPC, gateway), each attachment's route tables, and each route table's propagated
        attachments and static routes; every list in file order."""
        if self._tgw is None:
            index: dict[str, dict] = {"attached": {}, "tables": {}, "propagated": {}, "routes": {}}
            for address, body in self.of_type("aws_ec2_transit_gateway_vpc_attachment"):
                for vpc in refs(body.get("vpc_id")):
                    for gateway in refs(body.get("transit_gateway_id")):
                        index["attached"].setdefault((vpc, gateway), address)
            for _, body in self.of_type("aws_ec2_transit_gateway_route_table_association"):
                table = self.target(body.get("transit_gateway_route_table_id"), "aws_ec2_transit_gateway_route_table")
                for attachment in self._attachments_in(body.get("transit_gateway_attachment_id")):
                    index["tables"].setdefault(attachment, []).append(table)
            for _, body in self.of_type("aws_ec2_transit_gateway_route_table_propagation"):
                for table in refs(body.get("transit_gateway_route_table_id")):
                    index["propagated"].setdefault(table, []).extend(
                        self._attachments_in(body.get("transit_gateway_attachment_id")))
            for _, body in self.of_type("aws_ec2_transit_gateway_route"):
                for table in refs(body.get("transit_gateway_route_table_id")):
                    index["routes"].setdefault(table, []).append(
                        (body.get("destination_cidr_block"), self._attachments_in(body.get("transit_gateway_attachment_id"))))
            self._tgw = index
        return self._tgw

    def _attachment(self, vpc: str, gateway: str) -> str | None:
        return self._gateways()["attached"].get((vpc, gateway))

    def _tgw_peering(self, address: str) -> str:
        """An accepter of a gateway peering stands for the peering attachment."""
        if address.startswith("aws_ec2_transit_gateway_peering_attachment_accepter."):
            return self.target(self.resources[address].get("transit_gateway_attachment_id"),
                               "aws_ec2_transit_gateway_peering_attachment") or address
        return address

    def _attachments_in(self, value) -> set[str]:
        return {self._tgw_peering(a) for a in refs(value) if a in self.resources}

    def _table_of(self, attachment: str, gateway: str) -> str | None:
        """The route table of `gateway` an attachment is associated with (a peering has one on each side)."""
        for table in self._gateways()["tables"].get(attachment, []):
            if table and self.refers(self.resources[table].get("transit_gateway_id"), gateway):
                return table
        return None

    def _next_hops(self, table: str, cidr: str | None) -> set[str]:
        """Attachments gateway route table `table` sends `cidr` to: propagated or static routes."""
        hops = set()
        index = self._gateways()
        for attachment in index["propagated"].get(table, []):
            vpc = self.target(self.resources[attachment].get("vpc_id"), "aws_vpc")
            if covers(self.cidr(vpc), cidr):
                hops.add(attachment)
        for destination, attachments in index["routes"].get(table, []):
            if covers(destination, cidr):
                hops |= attachments
        return hops

    def transit(self, source: str, gateway: str, destination: str) -> str:
        """Why traffic from VPC `source` entering `gateway` does not reach VPC `destination`; empty when it does."""
        cidr = self.cidr(destination)
        attachment = self._attachment(source, gateway)
        if attachment is None:
            return f"{source} is not attached to {gateway}"
        entered, hop_from = gateway, attachment
        for _ in range(2):  # at most one gateway peering on the way
            table = self._table_of(hop_from, entered)
            if table is None:
                return f"{hop_from} is associated with no route table of {entered}"
            arrived = self._attachment(destination, entered)
            hops = self._next_hops(table, cidr)
            if arrived in hops:
                return ""
            peerings = sorted(h for h in hops if h.startswith("aws_ec2_transit_gateway_peering_attachment."))
            if not peerings:
                return f"{table} has no route to {destination}'s CIDR {cidr}"
            body = self.resources[peerings[0]]
            ends = [self.target(body.get(k), "aws_ec2_transit_gateway")
                    for k in ("transit_gateway_id", "peer_transit_gateway_id")]
            entered = next((g for g in ends if g and g != entered), None)
            if entered is None:
                return f"{peerings[0]} does not lead away from {gateway}"
            hop_from = peerings[0]
        return f"{destination} is not attached to a gateway routed from {gateway}"

    # -- security groups ------------------------------------------------------------

    def admits_https(self, groups: list[str], cidr: str | None) -> tuple[str, str]:
        """`(rule or group, why)`: whether some ingress rule of `groups` admits TCP 443 from `cidr`."""
        near = []
        for group in groups:
            for number, rule in enumerate(self.resources[group].get("ingress") or []):
                if isinstance(rule, dict):
                    sources = rule.get("cidr_blocks") or []
                    near += self._judge(f"{group}.ingress[{number}]", rule.get("protocol"), rule, sources, cidr)
        for address, body in self.of_type("aws_vpc_security_group_ingress_rule"):
            if set(refs(body.get("security_group_id"))) & set(groups):
                near += self._judge(address, body.get("ip_protocol"), body, [body.get("cidr_ipv4")], cidr)
        for address, body in self.of_type("aws_security_group_rule"):
            if body.get("type") == "ingress" and set(refs(body.get("security_group_id"))) & set(groups):
                near += self._judge(address, body.get("protocol"), body, body.get("cidr_blocks") or [], cidr)
        if any(why == "" for _, why in near):
            return next(a for a, why in near if why == ""), ""
        if near:
            return near[0]
        return groups[0], f"no ingress rule of {', '.join(groups)} admits TCP {HTTPS}"

    @staticmethod
    def _judge(address: str, protocol, body: dict, sources: list, cidr: str | None) -> list[tuple[str, str]]:
        protocol = str(protocol).lower()
        if protocol not in _ALL:
            try:
                ports = int(body.get("from_port")) <= HTTPS <= int(body.get("to_port"))
            except (TypeError, ValueError):
                ports = False
            if protocol not in _TCP or not ports:
                return []
        if any(covers(source, cidr) for source in sources):
            return [(address, "")]
        shown = ", ".join(str(s) for s in sources) or "no CIDR"
        return [(address, f"{address} admits TCP {HTTPS} from {shown}, not from the hub VPC's {cidr}")]
