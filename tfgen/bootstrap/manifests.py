"""The Kubernetes objects the bootstrap writes besides the cluster Secrets.

- `namespace`: the GitOps namespace Argo CD runs in.
- `app_project`: the environment's AppProject (the edges as destinations, the
  GitOps repo as the only source) and the bootstrap's own project (the hub's
  GitOps namespace, Argo CD kinds only) that the root Application lives in.
- `root_application`: the app of apps on the GitOps repo, automated with prune
  and self-heal, and the resources finalizer so deleting it deletes what it made.

Every object the bootstrap applies carries `MANAGED_LABELS` (`managed`), which is
how the script finds the cluster Secrets it registered earlier and deregisters
those no longer in the spec. Builders return plain dicts, keys in a stable order.
"""

from __future__ import annotations

import copy

__all__ = ["MANAGED_BY_LABEL", "MANAGED_LABELS", "ROLE_LABEL", "IN_CLUSTER", "RESOURCES_FINALIZER",
           "namespace", "app_project", "environment_projects", "root_application", "bootstrap_project_name", "managed"]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_LABELS = {MANAGED_BY_LABEL: "tfgen"}
# The label ApplicationSets select edges by (the hub, if ever registered, is `hub`): see examples/gitops/.
ROLE_LABEL = "tfgen.io/role"
IN_CLUSTER = "https://kubernetes.default.svc"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
ARGO_API = "argoproj.io/v1alpha1"


def managed(manifest: dict) -> dict:
    """A copy of `manifest` with MANAGED_LABELS added to its labels."""
    result = copy.deepcopy(manifest)
    labels = result.setdefault("metadata", {}).setdefault("labels", {})
    labels.update(MANAGED_LABELS)
    return result


def namespace(name: str) -> dict:
    """The GitOps namespace."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(MANAGED_LABELS)}}


def bootstrap_project_name(environment: str) -> str:
    """The AppProject the root Application is in."""
    return f"{environment}-bootstrap"


def app_project(name: str, *, namespace: str, repo_url: str, destinations: list[dict],
                cluster_resources: bool, namespace_resources: list[dict] | None = None) -> dict:
    """An AppProject: sources only `repo_url`, deploys only to `destinations` ({server, namespace}).

    `cluster_resources` allows cluster-scoped kinds (an edge's StorageClass, Namespaces); without it the
    project may create none. `namespace_resources` limits namespaced kinds ({group, kind}); None: all.
    """
    spec: dict = {
        "description": f"tfgen: {name}",
        "sourceRepos": [repo_url],
        "destinations": sorted(destinations, key=lambda d: (d["server"], d["namespace"])),
        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}] if cluster_resources else [],
    }
    if namespace_resources is not None:
        spec["namespaceResourceWhitelist"] = namespace_resources
    return {
        "apiVersion": ARGO_API,
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_LABELS)},
        "spec": spec,
    }


def environment_projects(environment: str, *, namespace: str, repo_url: str, edge_servers: list[str]) -> list[dict]:
    """The environment's project (every edge, any namespace) and the bootstrap project (the hub's GitOps
    namespace, Argo CD's own kinds only: the root Application can create ApplicationSets, nothing else)."""
    edges = app_project(environment, namespace=namespace, repo_url=repo_url, cluster_resources=True,
                        destinations=[{"server": server, "namespace": "*"} for server in sorted(set(edge_servers))])
    argo_kinds = [{"group": "argoproj.io", "kind": kind} for kind in ("Application", "ApplicationSet")]
    bootstrap = app_project(bootstrap_project_name(environment), namespace=namespace, repo_url=repo_url,
                            cluster_resources=False, namespace_resources=argo_kinds,
                            destinations=[{"server": IN_CLUSTER, "namespace": namespace}])
    return [edges, bootstrap]


def root_application(environment: str, *, namespace: str, repo_url: str, revision: str, path: str) -> dict:
    """The app of apps: `path` of `repo_url` at `revision` into the hub's GitOps namespace.

    Automated with prune and self-heal; the resources finalizer makes deleting it delete its
    ApplicationSets, whose Applications (with the same finalizer, see examples/gitops/) delete the
    workloads on the edges. Delete it, and wait, before destroying the edges: Argo CD needs them
    (and their cluster Secrets) reachable to finish.
    """
    return {
        "apiVersion": ARGO_API,
        "kind": "Application",
        "metadata": {"name": f"{environment}-root", "namespace": namespace, "labels": dict(MANAGED_LABELS),
                     "finalizers": [RESOURCES_FINALIZER]},
        "spec": {
            "project": bootstrap_project_name(environment),
            "source": {"repoURL": repo_url, "targetRevision": revision, "path": path},
            "destination": {"server": IN_CLUSTER, "namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                           "syncOptions": ["ServerSideApply=true"],
                           "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}},
        },
    }
