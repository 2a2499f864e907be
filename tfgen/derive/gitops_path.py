"""The GitOps path of an environment: what lets Argo CD on the hub manage each edge.

Derived once from the model, with no Terraform in sight: which edges the hub
manages and who may open 443 on each control plane. The emitters
(`emit/access.py`, `emit/security.py`, `emit/outputs.py`) make resources of
it, and `checks/gitops_output.py` proves the chain is whole on what they
emitted (NET300-NET307), not on this model. For every edge:

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

With `argocd: managed` (EKS's Argo CD capability) both halves change: the
capability reaches private clusters through AWS, without a network path of
the environment's own, and signs in as its own role, which gets the access
entry on every edge. So no 443 from the hub CIDR, no management or deployer
roles: nothing that is not used is emitted.

The bootstrap (`bootstraps`) runs on the hub's bastion whenever Argo CD is
tfgen's to set up (self-managed or managed) and `bootstrap` is on.

Scale: Argo CD's application controller shards clusters across its replicas
(argo-cd docs, operator-manual/high_availability.md); `controller_sharding`
gives one replica per `CLUSTERS_PER_CONTROLLER` clusters it manages (the
edges and the hub itself), unless the spec says otherwise. EKS's capability
configures at most `CAPABILITY_CLUSTERS` clusters (EKS user guide, "Capability
Kubernetes resources"); tfgen registers the hub there too.
"""

from __future__ import annotations

import math

from ..model import ARGOCD_MANAGED, ARGOCD_NONE, SHARDING_ALGORITHMS, Cluster, Environment, Region

__all__ = ["CLUSTER_ADMIN", "HTTPS", "CLUSTERS_PER_CONTROLLER", "CAPABILITY_CLUSTERS", "api_sources", "edges_of",
           "deployer_edges", "managed_argocd", "bootstraps", "registered_clusters", "controller_sharding"]

CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
HTTPS = 443
# tfgen's rule, not Argo CD's (its docs say to shard "if the controller is managing too many clusters"
# and give no number): a controller replica per this many clusters.
CLUSTERS_PER_CONTROLLER = 50
# "Maximum 100 remote clusters configured per Argo CD capability instance" (EKS user guide).
CAPABILITY_CLUSTERS = 100


def edges_of(env: Environment) -> list[tuple[Region, Cluster]]:
    """The clusters Argo CD on the hub manages (none when GitOps is off)."""
    if not env.gitops.enabled:
        return []
    return [(r, c) for r, c in env.clusters() if not c.is_hub]


def managed_argocd(env: Environment) -> bool:
    """Whether EKS's Argo CD capability runs on the hub (`argocd: managed`)."""
    return env.gitops.mode == ARGOCD_MANAGED


def deployer_edges(env: Environment) -> list[tuple[Region, Cluster]]:
    """The edges that get a deployer role (and the hub a management role): Argo CD on the hub's own pods."""
    return [] if managed_argocd(env) else edges_of(env)


def bootstraps(env: Environment) -> bool:
    """Whether `terraform apply` runs tfgen's SSM bootstrap on the hub's bastion."""
    return env.gitops.mode != ARGOCD_NONE and env.gitops.bootstrap and env.bastion.enabled


def api_sources(env: Environment, region: Region, cluster: Cluster) -> list[tuple[str, str]]:
    """Who may open TCP 443 to a cluster's control plane: `[(kind, description)]`, kind
    `hub-cidr` (the hub VPC) or `bastion` (the bastion's security group, same VPC)."""
    sources = []
    if not cluster.is_hub and env.gitops.enabled and not managed_argocd(env):  # one of deployer_edges(env)
        sources.append(("hub-cidr", "Argo CD on the GitOps hub"))
    if cluster.is_hub and env.bastion.enabled:
        sources.append(("bastion", "Session Manager port forwarding through the bastion"))
    return sources


def registered_clusters(env: Environment) -> int:
    """How many clusters Argo CD on the hub manages: every edge, and the hub (in-cluster when self-managed,
    registered by ARN with EKS's capability)."""
    edges = len(edges_of(env))
    return edges + 1 if edges else 0


def controller_sharding(env: Environment) -> tuple[int, str]:
    """(application controller replicas, sharding algorithm) of the hub's self-managed Argo CD: the spec's,
    else a replica per CLUSTERS_PER_CONTROLLER clusters and `legacy`, the one algorithm Argo CD does not
    call experimental (its clusters hash evenly once there are tens per replica)."""
    gitops = env.gitops
    replicas = gitops.controller_replicas or max(1, math.ceil(registered_clusters(env) / CLUSTERS_PER_CONTROLLER))
    return replicas, gitops.sharding or SHARDING_ALGORITHMS[0]
