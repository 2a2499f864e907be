"""The Kubernetes objects the bootstrap writes, and the argo-cd chart values of the hub's identity.

- `cluster_secret`: an edge's Argo CD cluster Secret, the one builder for both
  callers: the bootstrap (values are `script.TerraformRef`s Terraform fills in)
  and `tfgen gitops` (real values from outputs, checked there first). With a
  deployer role it carries `awsAuthConfig` and the CA (self-managed Argo CD);
  without one, `server` is the cluster's ARN (EKS's Argo CD capability).
- `argo_cd_values`: `AWS_REGION` on the three components (Pod Identity) or the
  IRSA role annotation on their service accounts, and the application
  controller's replicas and sharding algorithm.
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

import json

__all__ = ["MANAGED_BY_LABEL", "MANAGED_LABELS", "ROLE_LABEL", "SECRET_TYPE_LABEL", "IN_CLUSTER",
           "RESOURCES_FINALIZER", "namespace", "app_project", "environment_projects", "root_application",
           "bootstrap_project_name", "managed", "cluster_secret", "argo_cd_values"]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_LABELS = {MANAGED_BY_LABEL: "tfgen"}
# The label ApplicationSets select edges by (the hub, if ever registered, is `hub`): see examples/gitops/.
ROLE_LABEL = "tfgen.io/role"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
# The argo-cd chart's values keys, per Argo CD service account: (component, env key).
_COMPONENTS = {
    "argocd-application-controller": ("controller", "env"),
    "argocd-server": ("server", "env"),
    "argocd-applicationset-controller": ("applicationSet", "extraEnv"),
}
IN_CLUSTER = "https://kubernetes.default.svc"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
ARGO_API = "argoproj.io/v1alpha1"


def managed(manifest: dict) -> dict:
    """A copy of `manifest` with MANAGED_LABELS added to its labels (`manifest` is left as it is)."""
    result = _copy(manifest)
    metadata = result["metadata"] = result.get("metadata") or {}
    metadata["labels"] = {**(metadata.get("labels") or {}), **MANAGED_LABELS}
    return result


def _copy(value):
    """A deep copy of JSON data (dicts, lists, scalars): `copy.deepcopy` for this one shape, many times faster."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def cluster_secret(*, name: str, namespace: str, environment: str, region: str, server: str,
                   kubernetes_version: str, account_id: str, vpc_id: str, ebs_csi_role_arn: str,
                   role_arn: str | None = None, ca_data: str | None = None, role: str = "edge") -> dict:
    """The cluster Secret of edge `name`: GitOps Bridge labels and annotations, `tfgen.io/role: <role>`;
    `server` the endpoint with `role_arn` and `ca_data` (self-managed), or the cluster ARN without
    (EKS's capability, which registers the hub too, as `role="hub"`: it has no in-cluster target)."""
    data = {"name": name, "server": server}
    if role_arn is not None:
        data["config"] = json.dumps({
            "awsAuthConfig": {"clusterName": name, "roleARN": role_arn},
            "tlsClientConfig": {"caData": ca_data},
        }, sort_keys=True)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                SECRET_TYPE_LABEL: "cluster",
                ROLE_LABEL: role,
                "environment": environment,
                "region": region,
                "cluster_name": name,
                "kubernetes_version": kubernetes_version,
                "enable_aws_ebs_csi_driver": "true",
            },
            "annotations": {
                "aws_region": region,
                "aws_account_id": account_id,
                "aws_vpc_id": vpc_id,
                "aws_cluster_name": name,
                "aws_ebs_csi_driver_iam_role_arn": ebs_csi_role_arn,
            },
        },
        "type": "Opaque",
        "stringData": data,
    }


def argo_cd_values(*, identity: str, service_accounts: list[str], hub_region: str,
                   management_role_arn: str | None, controller_replicas: int = 1, sharding: str = "legacy") -> dict:
    """The argo-cd chart's values for the hub's identity, AWS_REGION (Pod Identity) or the IRSA role, and
    the application controller's shards: `controller.replicas` (the chart sets ARGOCD_CONTROLLER_REPLICAS
    from it) and `controller.sharding.algorithm` in argocd-cmd-params-cm (`configs.params`)."""
    values: dict = {"controller": {"replicas": controller_replicas},
                    "configs": {"params": {"controller.sharding.algorithm": sharding}}}
    for account in service_accounts:
        if account not in _COMPONENTS:
            continue
        component, env_key = _COMPONENTS[account]
        if identity == "irsa":
            values.setdefault(component, {})["serviceAccount"] = {
                "name": account, "annotations": {"eks.amazonaws.com/role-arn": management_role_arn}}
        else:
            values.setdefault(component, {})[env_key] = [{"name": "AWS_REGION", "value": hub_region}]
    return values


def namespace(name: str) -> dict:
    """The GitOps namespace."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(MANAGED_LABELS)}}


def bootstrap_project_name(environment: str) -> str:
    """The AppProject the root Application is in."""
    return f"{environment}-bootstrap"


def app_project(name: str, *, namespace: str, repo_url: str, destinations: list[dict],
                cluster_resources: bool, namespace_resources: list[dict] | None = None,
                source_namespaces: list[str] | None = None) -> dict:
    """An AppProject: sources only `repo_url`, deploys only to `destinations` ({server, namespace}).

    `cluster_resources` allows cluster-scoped kinds (an edge's StorageClass, Namespaces); without it the
    project may create none. `namespace_resources` limits namespaced kinds ({group, kind}); None: all.
    `source_namespaces`: where its Applications may live (EKS's Argo CD capability requires it).
    """
    spec: dict = {
        "description": f"tfgen: {name}",
        "sourceRepos": [repo_url],
        # In the caller's order (the edges' by cluster key), never sorted by server: in the emitted document
        # a server is a Terraform reference that apply fills in, and sorting the references would order the
        # projects differently from the same projects rendered from the applied values.
        "destinations": list(destinations),
        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}] if cluster_resources else [],
    }
    if namespace_resources is not None:
        spec["namespaceResourceWhitelist"] = namespace_resources
    if source_namespaces is not None:
        spec["sourceNamespaces"] = list(source_namespaces)
    return {
        "apiVersion": ARGO_API,
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_LABELS)},
        "spec": spec,
    }


def environment_projects(environment: str, *, namespace: str, repo_url: str, edge_servers: list[str],
                         hub_server: str = IN_CLUSTER, source_namespaces: list[str] | None = None) -> list[dict]:
    """The environment's project (every edge, any namespace) and the bootstrap project (the hub's GitOps
    namespace, Argo CD's own kinds only: the root Application can create ApplicationSets, nothing else).
    `hub_server`: how Argo CD names the hub (EKS's capability: the hub's cluster ARN, not in-cluster)."""
    edges = app_project(environment, namespace=namespace, repo_url=repo_url, cluster_resources=True,
                        destinations=[{"server": server, "namespace": "*"} for server in dict.fromkeys(edge_servers)],
                        source_namespaces=source_namespaces)
    argo_kinds = [{"group": "argoproj.io", "kind": kind} for kind in ("Application", "ApplicationSet")]
    bootstrap = app_project(bootstrap_project_name(environment), namespace=namespace, repo_url=repo_url,
                            cluster_resources=False, namespace_resources=argo_kinds,
                            destinations=[{"server": hub_server, "namespace": namespace}],
                            source_namespaces=source_namespaces)
    return [edges, bootstrap]


def root_application(environment: str, *, namespace: str, repo_url: str, revision: str, path: str,
                     hub_server: str = IN_CLUSTER) -> dict:
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
            "destination": {"server": hub_server, "namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                           "syncOptions": ["ServerSideApply=true"],
                           "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}},
        },
    }
