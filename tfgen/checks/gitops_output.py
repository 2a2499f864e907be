"""The GitOps path, checked on what was emitted (NET300-NET307; the bootstrap's order, VAL454-VAL455, in
`gitops_bootstrap`).

The path is built as a graph from one root's index (`tfgen.terraform.index`:
what `tfgen.emit` made, or a root's `*.tf.json` as `tfgen check` reads them),
never from the model: a step is in the graph only when the
resources that make it are. Nodes: `sa:argocd/argocd-server`,
`role:management`, `role:deployer:us-east-2/edge`, `vpc:hub`,
`vpc:us-east-2/edge`, `api:us-east-2/edge`, `cluster:us-east-2/edge`. Steps,
each with the place (file, address) where it is written or breaks:

- `sa -> role:management`: a Pod Identity association on the hub cluster and
  a trust for `pods.eks.amazonaws.com` whose session-tag conditions admit the
  account, or (IRSA) a trust on the hub's OIDC provider whose `sub` lists it;
- `vpc:hub <-> vpc:edge`: every route table of the subnets that matter (the
  hub's node groups, the edge's control plane) routes the other VPC's CIDR
  through a peering of the two, or a transit gateway whose route tables lead
  there;
- `vpc:hub -> api:edge`: an ingress rule on a group in the edge cluster's
  `vpc_config.security_group_ids` admits TCP 443 from the hub VPC's
  `cidr_block`; `api -> cluster`: private endpoint on, public off, VPC DNS on;
- `role:management -> role:deployer`: the deployer's trust names the
  management role (NET305), and the management role's policy may assume the
  deployer (NET307); `role:deployer -> cluster`: an access entry for the
  deployer with AmazonEKSClusterAdminPolicy at cluster scope, associated after
  the entry.

With `argocd: managed` (the `gitops` output's `argocd`; the model's in build)
EKS's capability reaches the edges through AWS as its own role: no network or
deployer steps; each edge needs an access entry for the capability role
(NET306), and NET300 asks for `capability_role_arn`.

Who is hub and who is managed is read from the documents: the `gitops`
output (hub cluster, management role, namespace, service accounts) and each
`cluster_<key>` output's `deployer_role_arn`, the outputs `tfgen gitops`
renders Argo CD's cluster Secrets from. A root claims the path when it has the
`gitops` output or any deployer role output, and then every `aws_eks_cluster`
but the hub is an edge: deleting an edge's roles or outputs cannot take it out
of the check, and a root that lost its `gitops` output fails NET300. In
build, the model's edges and service accounts are expected as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

from ..derive import naming
from ..derive.gitops_path import CLUSTER_ADMIN, HTTPS, edges_of
from ..derive.iam import ASSUME_ROLE, access_policy_arn
from ..errors import Finding, Origin
from ..model import ARGOCD_MANAGED, ARGOCD_SELF_MANAGED, IRSA, POD_IDENTITY, Environment, Fleet
from ..terraform.index import Root, nested
from ..terraform.roots import as_root
from .gitops_bootstrap import ROOT_SUBJECT, bootstrap_verdicts
from .gitops_documents import Lookups, Place, Verdict, refs, trust

__all__ = ["Expected", "PathGraph", "Verdict", "RULES", "node", "expected_of", "build_gitops_path", "evaluate",
           "check_gitops_output", "check_emitted_gitops"]

GITOPS = ROOT_SUBJECT  # the subject of verdicts about the root rather than one edge


def node(kind: str, name: str) -> str:
    """A stable node key: `sa:argocd/argocd-server`, `role:management`, `api:us-east-2/edge`, ..."""
    return f"{kind}:{name}"


@dataclass(frozen=True)
class Expected:
    """What the model says the path holds (build): edges by cluster key with their name and spec line,
    the service accounts (`namespace/name`) and the spec line of `gitops`."""

    edges: dict[str, tuple[str, Origin | None]]
    accounts: tuple[str, ...]
    origin: Origin | None
    mode: str = ARGOCD_SELF_MANAGED


def expected_of(env: Environment) -> Expected:
    """The edges and service accounts `env`'s emitted root must connect."""
    gitops = env.gitops
    return Expected(
        edges={naming.cluster_key(r.name, c.name): (f"{r.name}/{c.name}", c.origin() or env.origin())
               for r, c in edges_of(env)},
        accounts=tuple(f"{gitops.namespace}/{a}" for a in gitops.service_accounts),
        origin=gitops.origin() or env.origin(),
        mode=gitops.mode,
    )


@dataclass(frozen=True)
class Step:
    """One step of the path: where it is written (or would be), and why it does not hold (empty: it holds)."""

    kind: str
    subject: str  # GITOPS or an edge's name
    key: str | None  # the edge's cluster key
    place: Place
    why: str = ""


@dataclass
class PathGraph:
    """The GitOps path of one root as the documents hold it: directed steps between stable node keys."""

    root: str
    claimed: bool = False
    hub: str | None = None  # address of the hub's aws_eks_cluster
    management: str | None = None
    capability: str | None = None  # the capability role (argocd: managed), in place of management and deployers
    mode: str = ARGOCD_SELF_MANAGED
    identity: str = POD_IDENTITY
    accounts: list[str] = field(default_factory=list)
    edges: dict[str, str] = field(default_factory=dict)  # cluster key -> name
    clusters: set[str] = field(default_factory=set)  # cluster keys of the root's aws_eks_cluster resources
    deployers: dict[str, str] = field(default_factory=dict)  # cluster key -> deployer role address
    steps: dict[tuple[str, str, str], Step] = field(default_factory=dict)
    index: Root | None = None  # what the graph was read from (the bootstrap's rules read it too)

    def link(self, source: str, target: str, step: Step) -> None:
        self.steps[(source, target, step.kind)] = step

    def holds(self, source: str, target: str, kind: str) -> bool:
        step = self.steps.get((source, target, kind))
        return step is not None and not step.why

    def of_kind(self, kind: str) -> list[Step]:
        return [s for (_, _, k), s in sorted(self.steps.items()) if k == kind]


# -- building the graph ----------------------------------------------------------------


def _edge_name(r: Lookups, key: str) -> str:
    region = nested(r.outputs.get(f"cluster_{key}")).get("region")
    if not isinstance(region, str):  # the region of the cluster's provider alias
        cluster = r.root.resources.get(f"aws_eks_cluster.{key}")
        region = (r.root.region_of(cluster) if cluster else None) or ""
    stem = naming.alias(region) + "_"
    return f"{region}/{key[len(stem):] if key.startswith(stem) else key}"


def build_gitops_path(root: str, index: Root | Mapping[str, dict], *, expected: Expected | None = None) -> PathGraph:
    """The GitOps path graph of one root (its index, or its documents), with `expected` also the model's
    edges and accounts."""
    r = Lookups(as_root(index))
    g = PathGraph(root, index=r.root)
    gitops = r.outputs.get("gitops")
    gitops = gitops if isinstance(gitops, dict) else None
    clusters = [a.split(".", 1)[1] for a, _ in r.of_type("aws_eks_cluster")]
    g.clusters = set(clusters)
    named = {k: nested(r.outputs.get(f"cluster_{k}")) for k in clusters}
    g.claimed = bool(gitops or any(o.get("deployer_role_arn") for o in named.values()) or (expected and expected.edges))
    if not g.claimed:
        return g
    g.hub = r.target((gitops or {}).get("hub_cluster"), "aws_eks_cluster") or next(
        (f"aws_eks_cluster.{k}" for k, o in named.items() if o.get("role") == "hub"), None)
    g.mode = expected.mode if expected else str((gitops or {}).get("argocd") or ARGOCD_SELF_MANAGED)
    role = "capability_role_arn" if g.mode == ARGOCD_MANAGED else "management_role_arn"
    setattr(g, "capability" if g.mode == ARGOCD_MANAGED else "management",
            r.target((gitops or {}).get(role), "aws_iam_role"))
    g.identity = str((gitops or {}).get("identity") or POD_IDENTITY)
    if expected:
        g.accounts = list(expected.accounts)
    elif gitops and isinstance(gitops.get("service_accounts"), list):
        g.accounts = [f"{gitops.get('namespace')}/{a}" for a in gitops["service_accounts"]]
    names = {k: n for k, (n, _) in (expected.edges if expected else {}).items()}
    for key in clusters + sorted(names):
        if f"aws_eks_cluster.{key}" != g.hub:
            g.edges.setdefault(key, names.get(key) or _edge_name(r, key))
    for key in g.edges:
        deployer = r.target(named.get(key, {}).get("deployer_role_arn"), "aws_iam_role")
        if deployer:
            g.deployers[key] = deployer
    _link_identity(g, r)
    for key, name in g.edges.items():
        if g.mode == ARGOCD_MANAGED:  # AWS reaches the edges; the capability role signs in itself
            if g.capability and key in g.clusters:
                g.link(node("role", "capability"), node("cluster", name),
                       _access_step(r, g.capability, f"aws_eks_cluster.{key}", name, key))
            continue
        if g.hub and key in g.clusters:
            _link_network(g, r, key, name)
        if key in g.deployers and key in g.clusters:
            _link_access(g, r, key, name)
    return g


def _link_identity(g: PathGraph, r: Lookups) -> None:
    if not (g.hub and g.management):
        return
    role = node("role", "management")
    for account in g.accounts:
        namespace, _, name = account.partition("/")
        admits = r.irsa_admits if g.identity == IRSA else r.pod_identity_admits
        place, why = admits(g.management, g.hub, namespace, name)
        g.link(node("sa", account), role, Step(g.identity, f"{GITOPS}/{account}", None, place, why))


def _node_subnets(r: Lookups, cluster: str) -> list:
    subnets = [s for _, b in r.of_type("aws_eks_node_group") if r.refers(b.get("cluster_name"), cluster)
               for s in b.get("subnet_ids") or []]
    return subnets or nested(r.resources[cluster].get("vpc_config")).get("subnet_ids") or []


def _route_step(r: Lookups, source: str | None, destination: str | None, subnets: list, subject: str, key: str,
                fallback: str) -> Step:
    if not (source and destination):
        return Step("route", subject, key, r.place(fallback), f"the subnets of {fallback} lie in no aws_vpc of this root")
    tables = r.tables_of(subnets)
    broken = []
    for subnet, table in tables:
        if table is None:
            broken.append((r.place(subnet), f"{subnet} has no route table of this root (the main table routes nothing)"))
            continue
        why = r.routes(table, source, destination)
        if why:
            broken.append((r.place(table), f"{table}: {why}"))
    if not tables:
        return Step("route", subject, key, r.place(fallback), f"{fallback} names no subnets of this root")
    if broken:
        return Step("route", subject, key, broken[0][0], "; ".join(why for _, why in broken))
    return Step("route", subject, key, r.place(tables[0][1]))


def _link_network(g: PathGraph, r: Lookups, key: str, name: str) -> None:
    cluster = f"aws_eks_cluster.{key}"
    config = nested(r.resources[cluster].get("vpc_config"))
    hub_vpc = r.vpc_of_subnets(nested(r.resources[g.hub].get("vpc_config")).get("subnet_ids"))
    edge_vpc = r.vpc_of_subnets(config.get("subnet_ids"))
    hub, edge, api = node("vpc", "hub"), node("vpc", name), node("api", name)
    g.link(hub, edge, _route_step(r, hub_vpc, edge_vpc, _node_subnets(r, g.hub), name, key, g.hub))
    g.link(edge, hub, _route_step(r, edge_vpc, hub_vpc, config.get("subnet_ids") or [], name, key, cluster))
    groups = [a for a in refs(config.get("security_group_ids")) if a.startswith("aws_security_group.")
              and a in r.resources]
    if not groups:
        step = Step("tcp/443", name, key, r.place(cluster), f"{cluster}'s vpc_config.security_group_ids names no "
                    "aws_security_group of this root")
    elif r.cidr(hub_vpc) is None:
        step = Step("tcp/443", name, key, r.place(g.hub), f"the hub VPC's CIDR is unknown ({hub_vpc or 'no VPC'})")
    else:
        address, why = r.admits_https(groups, r.cidr(hub_vpc))
        step = Step("tcp/443", name, key, Place(r.place(address.split(".ingress[")[0]).file, address), why)
    g.link(hub, api, step)
    why, place = [], r.place(cluster)
    if config.get("endpoint_private_access") is not True:
        why.append(f"{cluster} sets endpoint_private_access to {config.get('endpoint_private_access')!r}, not true")
    if config.get("endpoint_public_access", True) is not False:
        why.append(f"{cluster} leaves endpoint_public_access on (public DNS then resolves to public addresses)")
    vpc = r.resources.get(edge_vpc or "", {})
    if edge_vpc and (vpc.get("enable_dns_support") is False or vpc.get("enable_dns_hostnames") is not True):
        why.append(f"{edge_vpc} needs enable_dns_support and enable_dns_hostnames for the private endpoint")
        place = place if len(why) > 1 else r.place(edge_vpc)
    g.link(api, node("cluster", name), Step("private-endpoint", name, key, place, "; ".join(why)))


def _link_access(g: PathGraph, r: Lookups, key: str, name: str) -> None:
    deployer, cluster = g.deployers[key], f"aws_eks_cluster.{key}"
    role = node("role", f"deployer:{name}")
    if g.management:
        trusted = any(s.allows(ASSUME_ROLE) and g.management in refs(list(s.principal("AWS")))
                      for s in trust(r.resources[deployer].get("assume_role_policy")))
        g.link(node("role", "management"), role, Step(
            "trust", name, key, r.place(deployer),
            "" if trusted else f"the trust of {deployer} does not let {g.management} sts:AssumeRole it"))
        policies = r.role_policies(g.management)
        allowed = any(s.allows(ASSUME_ROLE) and (deployer in refs(list(s.resources)) or "*" in s.resources)
                      for _, p in policies for s in trust(p))
        g.link(node("role", "management"), role, Step(
            "permission", name, key, r.place(policies[0][0] if policies else g.management),
            "" if allowed else f"no policy of {g.management} allows sts:AssumeRole on {deployer}"))
    g.link(role, node("cluster", name), _access_step(r, deployer, cluster, name, key))


def _access_step(r: Lookups, deployer: str, cluster: str, name: str, key: str) -> Step:
    entry = next((a for a, b in r.of_type("aws_eks_access_entry") if r.refers(b.get("cluster_name"), cluster)
                  and r.refers(b.get("principal_arn"), deployer)), None)
    if entry is None:
        return Step("access-entry", name, key, r.place(deployer), f"no aws_eks_access_entry on {cluster} for {deployer}")
    if r.resources[entry].get("type", "STANDARD") != "STANDARD":
        return Step("access-entry", name, key, r.place(entry), f"{entry} is not of type STANDARD")
    wanted, seen = access_policy_arn(CLUSTER_ADMIN), []
    for address, body in r.of_type("aws_eks_access_policy_association"):
        principal = body.get("principal_arn")
        if not (r.refers(body.get("cluster_name"), cluster) and (r.refers(principal, entry)
                                                                  or r.refers(principal, deployer))):
            continue
        scope = nested(body.get("access_scope")).get("type")
        after = r.refers(principal, entry) or entry in (body.get("depends_on") or [])
        if body.get("policy_arn") == wanted and scope == "cluster" and after:
            return Step("access-entry", name, key, r.place(address))
        seen.append(f"{address} grants {body.get('policy_arn')} at scope {scope!r}"
                    + ("" if after else f" and may be made before {entry}"))
    found = "; ".join(seen) or "it has no policy association"
    return Step("access-entry", name, key, r.place(entry), f"{entry} is not associated with {wanted} at cluster "
                f"scope after the entry: {found}")


# -- the rules ------------------------------------------------------------------------

Rule = Callable[[PathGraph], Iterator[Verdict]]


def _verdicts(g: PathGraph, kind: str, code: str, title: str, hint: str) -> Iterator[Verdict]:
    for step in g.of_kind(kind):
        yield Verdict(code, title, step.subject, step.key, step.place, step.why, hint)


def check_outputs_name_the_path(g: PathGraph) -> Iterator[Verdict]:
    """NET300: a root that claims the path names its hub, management role and each edge's deployer role."""
    title, hint = "the outputs name who manages whom", "rebuild the root with `tfgen build` (tfgen gitops reads these)"
    if not g.claimed:
        return
    place, whys = Place("outputs.tf.json", "output.gitops"), []
    if g.hub is None:
        whys.append("output `gitops` (hub_cluster) names no aws_eks_cluster of this root")
    managed = g.mode == ARGOCD_MANAGED
    if (g.capability if managed else g.management) is None:
        whys.append(f"output `gitops` ({'capability' if managed else 'management'}_role_arn) names no aws_iam_role "
                    "of this root")
    yield Verdict("NET300", title, GITOPS, None, place, "; ".join(whys), hint)
    for key, name in g.edges.items():
        why = "" if key in g.deployers or managed else \
            f"output cluster_{key} (deployer_role_arn) names no aws_iam_role of this root"
        if key not in g.clusters:
            why = f"aws_eks_cluster.{key} is not in this root"
        yield Verdict("NET300", title, name, key, Place("outputs.tf.json", f"output.cluster_{key}"), why, hint)


def check_service_accounts(g: PathGraph) -> Iterator[Verdict]:
    """NET301: every Argo CD service account can use the hub's management role."""
    title = "Argo CD's service account uses the management role"
    if g.claimed and g.hub and g.management and not g.accounts:
        yield Verdict("NET301", title, GITOPS, None, Place("outputs.tf.json", "output.gitops"),
                      "no Argo CD service account is listed", "list them under gitops.service_accounts")
    for kind in (POD_IDENTITY, IRSA):
        yield from _verdicts(g, kind, "NET301", title, "give each Argo CD service account the management role "
                             "(Pod Identity association, or IRSA trust), as `tfgen build` emits it")


def check_routes(g: PathGraph) -> Iterator[Verdict]:
    """NET302: the hub VPC and each edge VPC route to each other."""
    yield from _verdicts(g, "route", "NET302", "a route both ways between the hub VPC and the edge VPC",
                         "route the peer VPC's CIDR through their peering or transit gateway in every route table")


def check_https(g: PathGraph) -> Iterator[Verdict]:
    """NET303: the edge's control plane admits TCP 443 from the hub VPC's CIDR."""
    yield from _verdicts(g, "tcp/443", "NET303", f"TCP {HTTPS} from the hub VPC's CIDR to the control plane",
                         f"admit TCP {HTTPS} from the hub VPC's cidr_block on the edge API's security group")


def check_private_endpoint(g: PathGraph) -> Iterator[Verdict]:
    """NET304: the edge's API endpoint is private only, in a VPC with DNS."""
    yield from _verdicts(g, "private-endpoint", "NET304", "a private-only API endpoint",
                         "set endpoint_private_access = true and endpoint_public_access = false; keep VPC DNS on")


def check_deployer_trust(g: PathGraph) -> Iterator[Verdict]:
    """NET305: the edge's deployer role trusts the management role."""
    yield from _verdicts(g, "trust", "NET305", "the deployer role trusts the management role",
                         "name the management role's ARN as the AWS principal of the deployer role's trust "
                         "(sts:AssumeRole, sts:TagSession)")


def check_access_entry(g: PathGraph) -> Iterator[Verdict]:
    """NET306: the edge grants Argo CD's role (deployer, or the capability's) cluster admin by an access entry."""
    role = "capability" if g.mode == ARGOCD_MANAGED else "deployer"
    yield from _verdicts(g, "access-entry", "NET306", f"an access entry with {CLUSTER_ADMIN} for the {role} role",
                         f"give the {role} role an access entry and associate {CLUSTER_ADMIN} at cluster scope, "
                         "made after the entry")


def check_management_permission(g: PathGraph) -> Iterator[Verdict]:
    """NET307: the management role's policy may assume the edge's deployer role."""
    yield from _verdicts(g, "permission", "NET307", "the management role may assume the deployer role",
                         "list the deployer role's ARN in the management role's sts:AssumeRole statement")


RULES: tuple[Rule, ...] = (
    check_outputs_name_the_path,
    check_service_accounts,
    check_routes,
    check_https,
    check_private_endpoint,
    check_deployer_trust,
    check_access_entry,
    check_management_permission,
)


def evaluate(root: str, index: Root | Mapping[str, dict], *, expected: Expected | None = None) -> list[Verdict]:
    """Every verdict of every rule on one root (its index, or its documents): what holds and what breaks."""
    graph = build_gitops_path(root, index, expected=expected)
    verdicts = [verdict for rule in RULES for verdict in rule(graph)]
    if graph.claimed and graph.index is not None:
        principals = {key: graph.capability or graph.deployers.get(key) for key in graph.edges}
        verdicts += bootstrap_verdicts(graph.index, edges=graph.edges, principals=principals,
                                       capability=graph.capability)
    return verdicts


def check_gitops_output(root: str, index: Root | Mapping[str, dict], *, expected: Expected | None = None,
                        directory: str | Path | None = None) -> list[Finding]:
    """Findings on one root's GitOps path. Origins: with `expected`, the spec line of the edge (or of
    `gitops`); otherwise the root's file of the break (under `directory` when given)."""
    findings = []
    for v in evaluate(root, index, expected=expected):
        if v.holds:
            continue
        if expected is not None:
            origin = expected.edges.get(v.key or "", (None, expected.origin))[1] or expected.origin
        else:
            origin = Origin(str(Path(directory) / v.place.file) if directory else v.place.file)
        findings.append(Finding(
            v.code, f"{root}: the GitOps path to {v.subject} lacks {v.title}: {v.why} "
            f"(in {v.place.file}, {v.place.address})", v.hint, path=f"{root}/{v.subject}", origin=origin))
    return findings


def check_emitted_gitops(fleet: Fleet, roots: Mapping[str, Root | dict[str, dict]]) -> list[Finding]:
    """NET300-NET307 on the emitted root of every environment (`{environment: index}`, a cells environment's
    roots joined), located at the spec (run by build)."""
    return [f for env in fleet.environments.values() if env.name in roots
            for f in check_gitops_output(env.name, roots[env.name], expected=expected_of(env))]
