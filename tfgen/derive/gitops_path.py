"""The GitOps path of an environment: what lets Argo CD on the hub manage each edge.

Derived once from the model, with no Terraform in sight; the emitters
(`emit/access.py`, `emit/security.py`) make resources of exactly these links,
and `topology.check_gitops_path` proves the chain is whole. For every edge:

- network: a route hub <-> edge (peering or transit gateway, from the
  topology), TCP 443 from the hub VPC's CIDR to the edge's control plane (a
  security group cannot be referenced across regions, and pod traffic leaves
  the hub SNATed to its node's address in the hub VPC), and a private-only
  endpoint (public DNS resolves it to private addresses, which is what makes it
  reachable over the peering);
- identity: each Argo CD service account -> the hub's management role (Pod
  Identity association or IRSA trust) -> the edge's deployer role, whose trust
  names the management role -> an access entry on the edge for the deployer
  role with AmazonEKSClusterAdminPolicy at cluster scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Cluster, Environment, Region

__all__ = ["Link", "CLUSTER_ADMIN", "HTTPS", "api_sources", "gitops_links", "edges_of", "node"]

CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
HTTPS = 443


@dataclass(frozen=True)
class Link:
    """One step of the path: `source` can reach or act as `target`, through `kind`."""

    source: str
    target: str
    kind: str
    detail: str = ""


def node(kind: str, name: str) -> str:
    """A stable node key: `sa:argocd/argocd-server`, `role:management`, `role:deployer:us-east-2/edge`, ..."""
    return f"{kind}:{name}"


def edges_of(env: Environment) -> list[tuple[Region, Cluster]]:
    """The clusters Argo CD on the hub manages (none when GitOps is off)."""
    if not env.gitops.enabled:
        return []
    return [(r, c) for r, c in env.clusters() if not c.is_hub]


def api_sources(env: Environment, region: Region, cluster: Cluster) -> list[tuple[str, str]]:
    """Who may open TCP 443 to a cluster's control plane: `[(kind, description)]`, kind
    `hub-cidr` (the hub VPC) or `bastion` (the bastion's security group, same VPC)."""
    sources = []
    if not cluster.is_hub and env.gitops.enabled:  # an edge of `env`: one of edges_of(env), without the O(n) scan
        sources.append(("hub-cidr", "Argo CD on the GitOps hub"))
    if cluster.is_hub and env.bastion.enabled:
        sources.append(("bastion", "Session Manager port forwarding through the bastion"))
    return sources


def gitops_links(env: Environment) -> list[Link]:
    """The identity and endpoint links of the GitOps path (network routes come from the topology)."""
    hub = env.hub
    if hub is None:
        return []
    links = []
    management = node("role", "management")
    for account in env.gitops.service_accounts:
        links.append(Link(node("sa", f"{env.gitops.namespace}/{account}"), management, env.identity))
    for region, edge in edges_of(env):
        name = f"{region.name}/{edge.name}"
        deployer = node("role", f"deployer:{name}")
        links.append(Link(management, deployer, "sts:AssumeRole"))
        links.append(Link(deployer, node("cluster", name), "access-entry", CLUSTER_ADMIN))
        if ("hub-cidr", "Argo CD on the GitOps hub") in api_sources(env, region, edge):
            links.append(Link(node("vpc", "hub"), node("api", name), "tcp/443"))
        links.append(Link(node("api", name), node("cluster", name), "private-endpoint"))
    return links
